/* workflow: runs agents' whole workflows (plan "steps") in one phase.
 *
 * Each agent walks its steps in order: an llm step is one streaming
 * transfer, a work step idles (a uv_timer) or burns CPU on a thread of its
 * own, then hands back to the loop. How agents share machinery follows the
 * runtime, as for single requests:
 *   uv       every agent's steps on one loop and curl multi handle
 *   threads  one thread per agent, each with its own loop, released together
 *   serial   one agent's whole workflow after another
 * An agent may start later than the phase (arrival offsets, start_ns).
 *
 * A plain agent (no steps) runs here as a one-step workflow when the phase
 * needs offsets. */
#ifndef PB_WORKFLOW_H
#define PB_WORKFLOW_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "run.h"

typedef struct pb_wf_phase {
    pb_run_ctx *ctx;
    const pb_runtime *rt;
    pb_driver_kind driver;   /* how the agents share machinery */
    uint64_t origin;         /* run's monotonic origin (ns) */
    int n;                   /* agents in the phase */
    const pb_agent_spec *const *agents;
    const long *seeds;       /* per agent: paired sample seed, or -1 */
    const double *const *work_s; /* per agent, per step: work seconds drawn
                                    for this run (paired: the same in solo
                                    and concurrent phases) */
    const int64_t *offsets_ns;   /* per agent: start offset, or NULL (0) */
    double work_divisor;     /* work seconds are divided by it (the
                                emulator's time scale), >= 1e-9 */
} pb_wf_phase;

typedef struct pb_wf_result {
    cJSON *requests;         /* the llm requests, trace format, with "step" */
    cJSON *steps;            /* every step of every agent */
    cJSON *agents;           /* per agent: start_ns, end_ns, offset_ns */
    int64_t start_ns, end_ns;/* first step start .. last step end (-1 none) */
    int64_t release_ns;      /* when the agents were let go; offsets count
                                from here */
    char *invalid;           /* first failure "agent X step k: why", or NULL */
} pb_wf_result;

/* Runs the phase. Returns 0 (res filled, the caller owns its parts), 1 when
 * interrupted, -1 on a setup error (err set). */
int pb_workflow_run(const pb_wf_phase *ph, pb_wf_result *res, char *err, size_t errlen);
void pb_wf_result_free(pb_wf_result *res);

/* The paired sample seed of an agent's llm step k: the agent's seed for its
 * first step, a fixed function of it for the others (so every step of a
 * solo phase sends what the same step sends in the concurrent phase).
 * -1 stays -1. */
long pb_workflow_step_seed(long agent_seed, int step);

#endif
