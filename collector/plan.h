/* plan: what a sweep measures. A plan comes from a JSON file or the built-in
 * `tr115` plan; command-line flags are applied over it (flags win), then it
 * is expanded: every config lists its agents with their final options.
 *
 * Ownership: a pb_plan owns every string and cJSON tree reachable from it;
 * pb_plan_free() releases it all. */
#ifndef PB_PLAN_H
#define PB_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "plan_servers.h"
#include "plan_steps.h"

typedef enum pb_driver_kind {
    PB_DRIVER_UV = 0,   /* one loop, curl multi + uv_poll + uv_timer */
    PB_DRIVER_THREADS,  /* one thread per agent, curl_easy_perform */
    PB_DRIVER_SERIAL,   /* agents strictly one after another */
    PB_DRIVER_EXEC,     /* a program run once per phase (driver_exec.c) */
} pb_driver_kind;

typedef struct pb_runtime {
    char *label;        /* "uv", "threads", "serial", "uv-1kb", ... */
    pb_driver_kind driver;
    long chunk_bytes;   /* 0 = each network chunk reaches the parser at once */
    char **exec_argv;   /* exec: the program and its arguments (templates
                           unfilled), NULL-terminated; else NULL */
    int solo_replay;    /* exec: solo phases replay requests with the
                           serial driver ("solo": "replay") */
} pb_runtime;

typedef struct pb_agent_spec {
    char *id;
    char *endpoint;     /* base URL as written in the plan */
    int endpoint_index; /* into pb_plan.endpoints */
    char *model;
    char *api;          /* dialect name (dialect.h): generate, chat, openai-chat, ... */
    char *prompt;
    cJSON *options;     /* object (maybe empty), final after the config */
    cJSON *headers;     /* object name -> string; extra request headers */
    /* Workflow agents ("steps"): n_steps > 0, and prompt / options above are
     * those of the first llm step (what a warm-up sends). 0 = one request. */
    int n_steps;
    pb_step *steps;
} pb_agent_spec;

typedef struct pb_config {
    char *name;         /* base_name, or "<base_name>-n<N>" in a count sweep */
    char *base_name;    /* the plan's config name */
    int sweep_n;        /* agent count of a count sweep (0: not one) */
    int n_agents;
    pb_agent_spec *agents;
    cJSON *server_env;  /* "server_env": settings of the servers collect runs, or NULL */
} pb_config;

typedef struct pb_emulate {
    int enabled;        /* --emulate: run ollama-emu as a child process */
    int ideal;          /* --emulate-ideal preset */
    int shared_gpu;     /* 1 shared GPU, 0 independent, -1 preset default */
    double time_scale;
    int num_parallel;   /* 0 = emulator default (1, like Ollama) */
    char *trace;        /* NULL or the emulator's --trace file */
    cJSON *faults;      /* object endpoint URL -> fault spec, or NULL */
    /* The models the emulated instances serve, like the models pulled on a
     * real server: `emulate.models`, else the plan's top-level "model". An
     * agent naming another model fails the preflight, as against Ollama. */
    int n_models;
    char **models;
    int models_given;   /* 1: from `emulate.models` (then part of the plan hash) */
} pb_emulate;

typedef struct pb_plan {
    char *name;
    char *out;
    int n_endpoints;
    char **endpoints;   /* distinct agent endpoints, first-seen order */
    int n_configs;
    pb_config *configs;
    int n_runtimes;
    pb_runtime *runtimes;
    int runs;
    int warmup;
    int warmup_tokens;  /* num_predict of a warm-up request */
    int solo;
    int paired_seed;    /* same options.seed for an agent's solo and concurrent request */
    uint64_t seed;
    double timeout_s;   /* per request */
    long chunk_bytes;   /* default for runtimes without a -Nkb suffix */
    int reuse_connections;
    pb_emulate emulate;
    pb_arrival_kind arrival; /* concurrent phase's start pattern */
    double arrival_param;    /* stagger_s or rate_per_s */
    double target_ci_pct; /* --target-ci: > 0 adds runs (precision.h) */
    int max_runs;       /* with target_ci_pct: runs per group at most */
    int n_counts;       /* agent counts of a count sweep (0: none) */
    int counts[PB_COUNTS_MAX];
    /* --proxy for real endpoints; NULL = no proxy at all, whatever the
     * environment says. Not part of the plan hash: it is not measured. */
    char *proxy;
    /* "servers" / --server: processes collect starts (plan_servers.h). */
    int n_servers;
    pb_server_spec *servers;
    /* "exec_listen" / --exec-listen: per endpoint, the "HOST:PORT" its
     * recording proxy listens on for exec runtimes (NULL: a free port), or
     * NULL when none is given (exec_listen.h). Not measured: not hashed. */
    char **exec_listen;
} pb_plan;

/* Flags that override the plan; a field left at its "unset" value (NULL or
 * -1) keeps the plan's value. */
typedef struct pb_overrides {
    const char *out;
    const char *runtimes;   /* comma list */
    const char *configs;    /* comma list (filter) */
    int runs;
    int no_solo, no_warmup, no_paired_seed;
    int have_seed;
    uint64_t seed;
    double timeout_s;       /* < 0: unset */
    long chunk_bytes;       /* < 0: unset */
    int reuse_connections;  /* 1 or -1 */
    int emulate, emulate_ideal, emulate_shared_gpu; /* -1 unset */
    double time_scale;      /* <= 0: unset */
    int emulate_parallel;   /* < 0: unset */
    const char *emulate_trace;
    const char *api;        /* --api: every agent's dialect (aliases allowed) */
    const char *agents;     /* --agents: comma list of agent counts */
    double target_ci_pct;   /* <= 0: unset */
    double stagger_s;       /* < 0: unset (--stagger) */
    double rate_per_s;      /* <= 0: unset (--arrival-rate) */
    int max_runs;           /* <= 0: unset */
    const char *proxy;      /* --proxy URL, or NULL */
    /* --server-env KEY=V1,V2 lists: every config once per combination. */
    const char *const *server_env;
    int n_server_env;
    const char *const *execs; /* --exec NAME=COMMAND, n_execs of them */
    int n_execs;
    int skip_missing_exec;  /* --skip-missing-exec: leave out, with a warning,
                               exec runtimes whose program is missing */
    const char *const *listens; /* --exec-listen ENDPOINT=HOST:PORT, n_listens */
    int n_listens;
} pb_overrides;

void pb_overrides_init(pb_overrides *o);

/* Loads `tr115` or a JSON plan file and applies the overrides. Returns 0, or
 * -1 with err set to what is wrong and where. */
int pb_plan_load(pb_plan *p, const char *name_or_path, const pb_overrides *o,
                 char *err, size_t errlen);
/* Same from JSON text (base_dir resolves prompt_file; may be NULL). */
int pb_plan_from_json(pb_plan *p, const char *text, size_t len,
                      const char *origin, const char *base_dir,
                      const pb_overrides *o, char *err, size_t errlen);
void pb_plan_free(pb_plan *p);

/* Parses a runtime label ("uv", "threads-1kb", "serial-512b") into r, with
 * default_chunk applied when the label has no size suffix. */
int pb_runtime_parse(pb_runtime *r, const char *label, long default_chunk,
                     char *err, size_t errlen);

/* 0 when every (runtime, config) pair has a directory of its own, else -1
 * with err naming the pair: two runs must never share one file. */
int pb_plan_check_paths(const pb_plan *p, char *err, size_t errlen);

/* The expanded plan as JSON (what --dry-run prints and the manifest holds). */
cJSON *pb_plan_to_json(const pb_plan *p);
/* fnv1a64 digest of the expanded plan (without `out`). */
void pb_plan_hash(const pb_plan *p, char *buf, size_t len);
/* Identity of one run: everything that shapes its measurement (runtime,
 * config's agents, protocol, seed, emulation) but not the rest of the sweep,
 * so adding runtimes or runs to a sweep keeps earlier runs resumable. */
void pb_plan_run_key(const pb_plan *p, const pb_runtime *rt,
                     const pb_config *cfg, int run_index, char *buf,
                     size_t len);
/* The seed of one run's phase order, derived from the plan seed. */
uint64_t pb_plan_run_seed(const pb_plan *p, const pb_runtime *rt,
                          const pb_config *cfg, int run_index);

extern const char pb_plan_tr115_json[];
/* The `tr115-workflow` plan's JSON text (cJSON_free it). */
char *pb_plan_tr115_workflow_json(void);

#endif
