/* plan_steps: workflow agents (`"steps"` in a plan) and agent-count lists
 * (`"count": [1, 2, 4]`, `--agents 1,2,4`).
 *
 * A workflow agent runs its steps in order: an `llm` step is one streaming
 * request (everything a single-request agent takes: prompt or prompt_file,
 * options, api, headers), a `work` step idles or burns CPU for a time. The
 * text "{{previous}}" in an llm prompt is replaced, when the step runs, by
 * the previous llm step's response, at most PB_PREVIOUS_MAX_BYTES bytes (cut
 * at a UTF-8 character boundary).
 *
 * Ownership: a pb_step owns its strings and cJSON trees; pb_steps_free
 * releases an array of them. */
#ifndef PB_PLAN_STEPS_H
#define PB_PLAN_STEPS_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Cap on the text a {{previous}} placeholder receives. 16 KiB is ~4000
 * tokens, larger than the study's 400-token answers and small enough that
 * a prompt stays well under the emulator's and Ollama's body limits. */
#define PB_PREVIOUS_MAX_BYTES 16384
#define PB_PREVIOUS_MARK "{{previous}}"
#define PB_STEPS_MAX 64
#define PB_COUNTS_MAX 32

typedef enum pb_step_kind { PB_STEP_LLM = 0, PB_STEP_WORK } pb_step_kind;

typedef struct pb_step {
    pb_step_kind kind;
    /* llm: a request of the agent's endpoint and model */
    char *api;           /* NULL = the agent's */
    char *prompt;
    cJSON *options;      /* object; final (agent, step, config merged) */
    cJSON *headers;      /* object; the agent's plus the step's */
    /* work */
    double seconds;      /* fixed duration, or the lognormal's mean */
    double sd;           /* > 0: lognormal with mean `seconds` and this SD */
    int cpu;             /* 1: burn CPU for the duration, 0: idle */
} pb_step;

/* Parses a plan's "steps" array into *out (n_out steps). base_dir resolves
 * prompt_file. Options are the step's own (merged later). */
int pb_steps_parse(const cJSON *steps, const char *where, const char *base_dir,
                   pb_step **out, int *n_out, char *err, size_t errlen);
/* Deep copy of src[0..n) with each llm step's options built as
 * agent_opts + step options + every overrides[i] in order, and headers as
 * agent_headers + step headers. */
pb_step *pb_steps_build(const pb_step *src, int n, const cJSON *agent_opts,
                        const cJSON *agent_headers, const cJSON *const *overrides,
                        int n_overrides);
void pb_steps_free(pb_step *s, int n);
/* The steps as JSON (plan dry-run, manifest, run key). */
cJSON *pb_steps_to_json(const pb_step *s, int n);
/* Index of the first llm step, or -1. */
int pb_steps_first_llm(const pb_step *s, int n);

/* The prompt with every PB_PREVIOUS_MARK replaced by prev[0..prev_len)
 * (already capped by the caller). Returns a malloc'ed string. */
char *pb_steps_fill_prompt(const char *prompt, const char *prev, size_t prev_len);

/* Arrival pattern of the concurrent phase (plan "arrival"). */
typedef enum pb_arrival_kind {
    PB_ARRIVAL_TOGETHER = 0, /* every agent at once (default) */
    PB_ARRIVAL_STAGGER,      /* agent i at i * stagger_s */
    PB_ARRIVAL_POISSON,      /* seeded Poisson process, rate_per_s */
} pb_arrival_kind;

/* Parses {"stagger_s": S} or {"rate_per_s": R} (or null / absent). */
int pb_arrival_parse(const cJSON *v, const char *where, pb_arrival_kind *kind,
                     double *param, char *err, size_t errlen);
/* The pattern as JSON (plan, manifest, trace): {"kind": .., ...}. */
cJSON *pb_arrival_to_json(pb_arrival_kind kind, double param);

/* Parses "1,2,4,8" (or a JSON array, via pb_counts_from_json) into
 * counts[0..*n): each 1..max_agents, strictly increasing after sorting,
 * no duplicates. */
int pb_counts_parse(const char *list, int *counts, int *n, int max_agents,
                    char *err, size_t errlen);
int pb_counts_from_json(const cJSON *v, int *counts, int *n, int max_agents,
                        const char *where, char *err, size_t errlen);

#endif
