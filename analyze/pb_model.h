/* pb_model: the in-memory data set that analyze's loaders fill and that the
 * statistics, the Markdown/CSV report and the charts read.
 *
 * Ownership: a pb_dataset owns everything reachable from it (strings,
 * arrays); pb_dataset_free() releases it all. Loaders only append.
 *
 * Units: seconds for durations of whole requests/runs, milliseconds for
 * TTFT-like latencies, tokens/s for rates, percent for efficiencies.
 * A quantity the source does not have is NAN (never 0): statistics skip NANs
 * and the report prints "n/a". */
#ifndef PB_MODEL_H
#define PB_MODEL_H

#include <stddef.h>

typedef enum pb_source_format {
    PB_FMT_PARBENCH = 0, /* our own trace (data/FORMAT.md) */
    PB_FMT_TR115_RUST,   /* original Rust harness metrics.json */
    PB_FMT_TR115_PYTHON, /* original Python harness metrics.json */
} pb_source_format;

/* One chunk arrival, seconds since the run's origin. */
typedef struct pb_chunk {
    double t_s;
    int bytes;
} pb_chunk;

/* One agent's request within one phase. Times are seconds since the run's
 * origin (parbench traces only; NAN for the original study's files). */
typedef struct pb_request {
    int ok;
    double t_start, t_connected, t_first_byte, t_first_token, t_end;
    double duration_s;        /* t_end - t_start, or the file's execution time */
    double ttft_ms;           /* client-side TTFT (or the file's ttft_ms) */
    double tokens;            /* tokens generated (server eval_count if any) */
    double server_rate;       /* eval_count / eval_duration, tokens/s */
    double load_ms, prompt_eval_ms, eval_ms, server_total_ms;
    double queue_ms;          /* server total - load - prompt_eval - eval */
    size_t n_chunks;
    pb_chunk *chunks;         /* owned; NULL when the source has none */
    /* A workflow's later llm calls' chunks (owned, NULL if none): the
     * timeline draws them; the chunk metrics keep to the first call's. */
    size_t n_step_chunks;
    pb_chunk *step_chunks;
    /* Recorded by collect's proxy (exec runtimes, data/FORMAT.md): per
     * chunk, when the program's socket accepted it (seconds since the
     * origin, NAN = never), n_chunks of them; NULL otherwise. Minus the
     * chunk's t_s it is the write-back lag: how late the program read. */
    double *written_s;
    char *error;              /* owned; NULL when ok */
    int http_status;          /* parbench traces: 0 = no response; -1 unknown */
    int not_streamed;         /* the answer came whole ("streamed": false):
                               * no first token, no decode rate */
    /* Workflow agents (several steps per phase): the request stands for the
     * whole workflow (t_start..t_end = first step start .. last step end,
     * tokens summed, chunks and TTFT of the first llm call); n_llm > 0.
     * Time in llm calls, in work steps, and neither (waiting), seconds. */
    int n_llm;
    double llm_s, work_s, wait_s;
} pb_request;

/* One stage of a workflow agent in the concurrent phase: a parbench step
 * ("step0 llm", "step1 work", ...) or a stage of the TR115 team's
 * workflow-schema files ("ingest", "analysis", "report"). NAN = absent. */
typedef struct pb_stage {
    char *name;               /* owned */
    double seconds;
    double ttft_ms, tokens_per_s, tokens; /* llm stages */
} pb_stage;

typedef struct pb_agent {
    char *id;                 /* owned */
    size_t n_stages;
    pb_stage *stages;         /* owned; concurrent phase, workflow agents */
    char *endpoint;           /* owned, may be NULL */
    char *model;              /* owned, may be NULL (parbench: agents[].model) */
    int has_conc;
    pb_request conc;          /* request in the concurrent phase */
    int has_solo;
    pb_request solo;          /* request when it ran alone (parbench traces) */
    /* Exec runtimes: the program's spawn and exit in this agent's solo
     * phase (seconds since the origin; NAN otherwise), for the timeline. */
    double solo_proc_t0, solo_proc_t1;
} pb_agent;

/* One server as the collector saw it (trace key "servers"): the emulator
 * announces itself in the response header X-Parbench-Emulator. */
typedef struct pb_server {
    char *endpoint, *dialect, *server_header, *version; /* owned, may be NULL */
    double emu_time_scale;    /* 0 when not an emulator */
    char *emu_preset;         /* owned, may be NULL */
} pb_server;

/* How a run's runtime was measured (data/EXEC.md). */
typedef enum pb_measured_by {
    PB_BY_DRIVER = 0,         /* parbench's own driver (uv, threads, ...) or
                               * a file of the original study */
    PB_BY_PROXY,              /* a program (exec runtime) through the
                               * recording proxy, solo phases its own too */
    PB_BY_PROXY_REPLAY,       /* the same, solo baseline replayed by
                               * parbench's serial driver ("solo": "replay") */
} pb_measured_by;

typedef struct pb_run {
    char *path;               /* owned: file it came from */
    pb_source_format format;
    char *runtime;            /* owned: display label ("runtime-" dropped) */
    char *config;             /* owned */
    int run_index;            /* from the file, or the run_N directory */
    int valid;                /* parbench: run.valid; originals: 1 */
    double emu_time_scale;    /* parbench run against `collect --emulate`:
                               * the emulator's time scale; 0 otherwise */
    char *invalid_reason;     /* owned, may be NULL */
    /* What was measured (parbench traces; NULL when the source lacks it),
     * for the report's summary and the JSON export. */
    char *input;              /* owned: the command-line input it came from
                               * (LABEL of LABEL=PATH, else the path) */
    char *host;               /* run.host */
    char *wall_origin;        /* run.wall_origin (RFC 3339 UTC) */
    char *tool_version;       /* tool.version of collect */
    char *emu_preset;         /* emulator preset (run.emulator or servers[]) */
    /* The measuring process itself (parbench traces from collect with
     * collector_cpu; NAN / NULL otherwise): CPU collect used in the
     * concurrent phase, seconds, and the CPUs it ran on. */
    double collector_cpu_s;
    char *collector_cpus;     /* owned: run.collector_cpus */
    size_t n_servers;
    struct pb_server *servers;/* owned: the trace's top-level "servers" */

    size_t n_agents;
    pb_agent *agents;         /* owned */

    /* Concurrent phase. */
    double conc_start, conc_end;  /* seconds since origin (NAN if unknown) */
    double wall_s;                /* concurrent wall time */
    /* Exec runtimes (pb_measured_by): the concurrent phase's process span
     * (spawn to exit) and the sum of the solo phases' (NAN when a solo
     * phase was replayed or has none). wall_s, conc_start and conc_end are
     * then the wire span: the first request's start to the last byte. */
    pb_measured_by measured_by;
    double conc_process_s, solo_process_s;
    double conc_proc_t0, conc_proc_t1;  /* the concurrent phase's spawn, exit */

    /* The original study's metric ("estimated"): sum of the agents'
     * durations inside the concurrent run / wall, and / N * 100. For the
     * original files these are the values the file states. */
    double est_speedup;
    double est_efficiency;

    /* Measured against the solo phases: sum of solo durations / wall, and
     * / N * 100. NAN when the run has no solo phase. */
    double meas_speedup;
    double meas_efficiency;

    /* Agent-count sweeps and workflows (parbench traces; NULL / 0 / NAN
     * otherwise). */
    char *base_config;        /* owned: run.base_config, else NULL */
    int workflow;             /* the agents ran multi-step workflows */
    /* Sum of the agents' solo llm-call time / their concurrent llm-call
     * time * 100: how much the model calls alone slowed down. */
    double llm_efficiency;
    /* Arrival pattern: start offsets were not all 0. */
    int staggered;
    char *arrival;            /* owned: run.arrival.kind, or NULL */
    /* collect --target-ci: the target (percent, 0 = none), the planned runs
     * per group, and whether this run was added by the rule. */
    double target_ci_pct;
    int planned_runs, max_runs, sampling_added;
    double max_offset_s;      /* largest start offset (NAN if unknown) */
    /* Servers collect ran (issue 21, pb_servers.c; NULL otherwise): the
     * run's server settings ("KEY=V+KEY2=W"), models loaded, reloaded or
     * evicted during a measured phase (a note), and what the telemetry and
     * the host-load records say (NULL when the trace has neither). */
    char *server_setting;     /* owned */
    char *server_order;       /* owned: server_processes.order.rule */
    char *model_events;       /* owned */
    struct pb_run_telemetry *tel; /* owned */
} pb_run;

/* Index of pb_run_telemetry's per-phase arrays. */
enum { PB_PH_SOLO = 0, PB_PH_CONC = 1 };

/* A parbench trace's telemetry and host load, summarised per kind of
 * measured phase (solo phases together, the concurrent phase); NAN /
 * NULL where not sampled. */
typedef struct pb_run_telemetry {
    double gpu_util_mean[2], gpu_util_max[2]; /* nvidia-smi utilisation, % */
    double gpu_mem_mib[2];    /* nvidia-smi memory used, largest sample, MiB */
    double ps_vram_mib[2];    /* /api/ps size_vram of the loaded models, summed
                               * over the endpoints' largest samples, MiB */
    char *models;             /* owned: models /api/ps saw loaded, "a, b" */
    /* Host load over the measured phases (phases[].host): the largest
     * 1-minute load average, the online CPUs, steal % of all CPU time. */
    double host_load, host_cpus, host_steal_pct;
    /* The GPU samples (first GPU), for the timeline: seconds since the
     * run's origin and utilisation %. */
    size_t n_gpu;
    double *gpu_t, *gpu_util; /* owned */
} pb_run_telemetry;

/* A file that could not be used, with the reason (for stderr and the
 * report's data-quality section). */
typedef struct pb_skip {
    char *path;
    char *reason;
} pb_skip;

/* A sweep manifest (format "parbench-manifest"): never a run, but it says
 * where, when and how the sweep was collected. Strings owned, may be NULL. */
typedef struct pb_manifest {
    char *path;
    char *created;            /* RFC 3339 UTC */
    char *version;            /* parbench_version of collect */
    char *host;               /* "name (sysname release machine, N CPUs)" */
    char *command;            /* argv joined by spaces */
} pb_manifest;

typedef struct pb_dataset {
    pb_run *runs;
    size_t n_runs, cap_runs;
    pb_skip *skips;
    size_t n_skips, cap_skips;
    size_t files_seen;        /* candidate files examined */
    size_t files_duplicate;   /* summary.json files recognised as repeats */
    size_t files_aggregate;   /* config-level summary.json (Python harness) */
    size_t files_manifest;    /* parbench manifests (skipped silently) */
    size_t files_revisited;   /* same file reached twice (links, overlapping args) */
    size_t files_copies;      /* a copy of a run already loaded (same bytes,
                               * another file): listed as a skip, counted once */
    char **notes;             /* owned: what the loader changed or noticed
                               * that is neither a skip nor an invalid run
                               * (e.g. phases kept apart), for Data quality */
    size_t n_notes;
    pb_manifest *manifests;   /* owned, n_manifests of them */
    size_t n_manifests;
    size_t files_hidden;      /* hidden entries not descended/read (".x") */
    char hidden_first[512];   /* the first of them, to name in a message */
} pb_dataset;

/* Releases everything ds owns and zeroes it (safe on a zeroed dataset). */
void pb_dataset_free(pb_dataset *ds);

/* A zeroed run with its numeric fields NAN, as a loader starts from. */
void pb_run_init(pb_run *r);

/* Frees what r owns (not r itself). */
void pb_run_free(pb_run *r);

/* Appends a zeroed run (numeric fields NAN) and returns it, or NULL when
 * out of memory. The pointer is valid until the next append. */
pb_run *pb_dataset_add_run(pb_dataset *ds);

/* Drops the last run (a loader that failed half-way), freeing its parts. */
void pb_dataset_pop_run(pb_dataset *ds);

/* Records a file that could not be used (copies both strings). */
void pb_dataset_add_skip(pb_dataset *ds, const char *path, const char *reason);

/* Appends a Data quality note (copied); dropped when out of memory. */
void pb_dataset_add_note(pb_dataset *ds, const char *text);

/* Appends a stage (name copied, llm figures NAN). 0, or -1 out of memory. */
int pb_agent_add_stage(pb_agent *a, const char *name, double seconds);

/* Zeroes a request with every number NAN (the "absent" value). */
void pb_request_clear(pb_request *rq);

/* Number of runs with valid != 0 (the ones statistics use). */
size_t pb_dataset_n_valid(const pb_dataset *ds);

#endif
