/* sweep: every (run k, config, runtime) of a plan, resuming by default.
 *
 * Order: k outermost, then config, then runtime, so an interrupted sweep has
 * the same number of runs for every (runtime, config) and slow drift of the
 * machine spreads evenly over runtimes. */
#ifndef PB_SWEEP_H
#define PB_SWEEP_H

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "progress.h"

/* Stable exit codes (README.md). */
enum {
    PB_EXIT_OK = 0,          /* every run of the plan is valid */
    PB_EXIT_FAILED = 1,      /* some runs invalid or not written */
    PB_EXIT_USAGE = 2,       /* bad flag or plan */
    PB_EXIT_PREFLIGHT = 3,   /* an endpoint is down or lacks the model */
    PB_EXIT_INTERRUPTED = 130,
};

typedef struct pb_sweep_opts {
    int retry_failed;
    pb_progress_mode progress;
    int quiet;
    const char *auth_header;  /* "Authorization: Bearer ..." or NULL; never written */
    const cJSON *servers;     /* recorded as every trace's "servers", or NULL */
    /* Called once, just before the first run file is written (NULL: not
     * called). collect writes the manifest there, so a sweep killed before
     * it measured anything leaves no manifest behind. Nonzero: the run is
     * not written (err says why). */
    int (*before_first_write)(void *ud, char *err, size_t errlen);
    void *ud;
    /* Stop the sweep after this many runs in a row in which a request
     * could not connect to its server (0: never). */
    int max_connect_failures;
    /* Server hooks (server_proc.h), all NULL when collect runs no server
     * and samples nothing. before_run: 0 go, -1 this run is not run, -2
     * the sweep stops (err says why). after_run: adds to the trace before
     * it is written; -2 stops the sweep after it. config_at: the config
     * the i-th step of round k measures (default i). */
    int (*before_run)(void *hud, const pb_config *cfg, char *err, size_t errlen);
    int (*after_run)(void *hud, const pb_config *cfg, cJSON *trace, char *err, size_t errlen);
    int (*config_at)(void *hud, int k, int i);
    void *hud;
} pb_sweep_opts;

typedef struct pb_sweep_stats {
    int total, executed, skipped_valid, kept_invalid, failed_new, conflicts,
        write_errors, retried,
        added;               /* runs added by --target-ci */
    int first_written;       /* a run file was written (before_first_write ran) */
    int foreign_seen;        /* files of another plan met (the first is explained) */
    int connect_failures_in_row; /* measured runs in a row that could not connect */
    int stopped;             /* ended early: a run not written, the server
                                gone, or a server hook stopped it (said) */
    pb_progress_answer *answers; /* per runtime, during pb_sweep_run only */
} pb_sweep_stats;

/* Whether every run file of the plan can be written under p->out (each
 * folder a folder, files creatable: pb_fs_check_dir), checked before the
 * first request so nothing is measured that cannot be kept. Returns 0, or
 * -1 with err naming the flag, the failing part and what to do. */
int pb_sweep_check_out(const pb_plan *p, char *err, size_t errlen);

int pb_sweep_run(const pb_plan *p, const char *const *urls, const char *plan_hash,
                 const char *host, cJSON *emulator, const pb_sweep_opts *o,
                 pb_sweep_stats *st);

#endif
