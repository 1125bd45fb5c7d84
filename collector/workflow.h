/* workflow: the one engine that runs a phase's agents.
 *
 * Every agent is a workflow: its steps in order, an llm step one streaming
 * request, a work step idle time (a timer) or CPU burnt on a thread. A plain
 * agent (no steps) is a one-step workflow. This file owns what an agent
 * does and records (steps, requests built through pb_run_transfer_new, the
 * trace objects); the runtime's driver (driver.h) owns how agents share
 * machinery and when each step runs:
 *   uv       every agent on one loop and curl multi handle (driver_uv.c)
 *   threads  one thread per agent, released together (driver_threads.c)
 *   serial   one agent's whole workflow after another (driver_serial.c)
 *   exec     a program runs the phase's agents from a job file, its
 *            requests recorded by the proxy (driver_exec.c)
 * An agent may start later than the phase's release (arrival offsets). */
#ifndef PB_WORKFLOW_H
#define PB_WORKFLOW_H

#include <stdatomic.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "run.h"
#include "transfer.h"

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
                                    and concurrent phases); NULL entries
                                    for agents without work steps */
    const int64_t *offsets_ns;   /* per agent: start offset, or NULL (0) */
    double work_divisor;     /* work seconds are divided by it (the
                                emulator's time scale), >= 1e-9 */
    int num_predict;         /* > 0: every request asks this many tokens
                                (warm-up) */
    int plain;               /* every agent sends one request: its prompt
                                and options (a workflow agent's first llm
                                step's), as a warm-up does */
    int workflow;            /* record steps, agents and "step" (the
                                workflow form of a phase, data/FORMAT.md) */
    int keep_text;           /* keep answers for {{previous}} */
    /* For the exec driver: what the job file and the kept output say. */
    const char *kind;        /* "warmup", "solo", "concurrent" */
    const pb_config *cfg;    /* the run's config ({endpoint:ID} of any agent) */
    int run_index;
    const char *exec_dir;    /* beside the run: job file, stdout, stderr */
    const char *exec_stem;   /* this phase's file names: "<stem>.job.json" */
    /* "solo": "replay": per agent id, the request its program sent in the
     * run's concurrent phase ({"api", "path", "body", "request_id"}, the
     * exec driver's <dir>/concurrent.replay): its first request is
     * sent with that body and API instead of parbench's own. NULL: none. */
    const cJSON *replay;
} pb_wf_phase;

typedef struct pb_wf_result {
    cJSON *requests;         /* the llm requests, trace format ("step" in
                                the workflow form) */
    cJSON *steps;            /* workflow form: every step of every agent */
    cJSON *agents;           /* workflow form: per agent start, end, offset */
    int64_t start_ns, end_ns;/* first start .. last end (-1 none) */
    int64_t release_ns;      /* when the agents were let go; offsets count
                                from here */
    char *invalid;           /* first failure "agent X[ step k]: why", or NULL */
    cJSON *process;          /* exec driver: the program's run, or NULL */
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

/* ---- The agent, as drivers see it. A driver calls these from the thread
 * that runs the agent (one at a time per agent). */
typedef struct pb_wf_agent pb_wf_agent;

typedef enum pb_wf_next {
    PB_WF_DONE = 0,          /* last step done, or a step failed */
    PB_WF_LLM,
    PB_WF_IDLE,              /* work without CPU: wait */
    PB_WF_CPU,               /* work that burns CPU */
} pb_wf_next;

/* What the agent does next. */
pb_wf_next pb_wf_agent_next(const pb_wf_agent *w);
/* Its start offset from the phase's release (ns, >= 0). */
int64_t pb_wf_agent_offset(const pb_wf_agent *w);
/* The driver's own per-agent state. */
void pb_wf_agent_set_user(pb_wf_agent *w, void *user);
void *pb_wf_agent_user(const pb_wf_agent *w);

/* llm step: the request, built (or the one built before the release),
 * its step start recorded; the driver stamps and runs it. NULL: it could
 * not be built (the agent failed; next is DONE). */
pb_transfer *pb_wf_llm_begin(pb_wf_agent *w);
/* After pb_transfer_finish or _abort: records the step's end and moves
 * on. Judges the answer now only when a next step needs it. */
void pb_wf_llm_end(pb_wf_agent *w);
/* work step: records its start; returns its seconds (scaled). */
double pb_wf_work_begin(pb_wf_agent *w);
/* The step's due end on uv_hrtime's clock (start + seconds). */
uint64_t pb_wf_work_due(const pb_wf_agent *w);
void pb_wf_work_end(pb_wf_agent *w, double cpu_s);
/* The exec driver's view: the agent, its endpoint's actual URL, its
 * paired seed, and its first request as parbench would send it (built
 * before the release; never run by the exec driver). */
const pb_agent_spec *pb_wf_agent_spec(const pb_wf_agent *w);
const char *pb_wf_agent_endpoint(const pb_wf_agent *w);
long pb_wf_agent_seed(const pb_wf_agent *w);
const pb_transfer *pb_wf_agent_request(const pb_wf_agent *w);
/* Its steps for a program's job (data/EXEC.md), or NULL for a plain
 * agent: llm steps with their paired seeds, work steps with the seconds
 * drawn for this run (after time scaling). */
cJSON *pb_wf_agent_steps_json(const pb_wf_agent *w);

/* Ctrl-C: steps cut short get an end for the record. */
void pb_wf_agent_stop(pb_wf_agent *w);

/* Burns CPU until the calling thread used `seconds` of CPU time (a fixed
 * amount of compute, which takes longer when the cores are busy), or
 * *stop / Ctrl-C; returns the CPU seconds burnt. */
double pb_wf_burn_cpu(double seconds, const atomic_int *stop);

#endif
