/* server_proc: the server processes collect runs itself ("servers",
 * --server, --emulate): started before the runs that need their settings,
 * ready when /api/version (else /v1/models) answers, the model warmed,
 * stopped (SIGTERM, SIGKILL after a grace period) when the settings change
 * or the sweep ends, restarted after dying during a run.
 *
 * A pb_srvset is the sweep's hooks (pb_sweep_opts.before_run / after_run /
 * config_at): it keeps every plan endpoint's URL current, records each run's
 * server processes in its trace (data/FORMAT.md, "server_processes") and
 * tells the telemetry sampler what to sample. Everything here runs between
 * runs, never while a phase is measured (the log drain threads aside). */
#ifndef PB_SERVER_PROC_H
#define PB_SERVER_PROC_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "telemetry.h"

/* Consecutive runs during which a server died before the sweep stops. */
#define PB_SRV_MAX_DEATHS 3
/* Bytes of a server's stdout + stderr kept per start (the rest is counted). */
#define PB_SRV_LOG_MAX (1L << 20)

typedef struct pb_srvset pb_srvset;

/* A server started for the plan's endpoints instead of named ones: the
 * emulator of --emulate (spec), serving plan endpoint i on its port
 * port_of[i]. NULL: none. */
typedef struct pb_srv_extra {
    const pb_server_spec *spec;
    const int *port_of;
    int check_exit;          /* a non-zero exit at stop fails the sweep */
} pb_srv_extra;

/* A set for the plan; out: where server-logs/ goes. tel may be NULL. Never
 * fails (out of memory aborts). */
pb_srvset *pb_srvset_new(const pb_plan *p, const pb_srv_extra *extra, const char *out,
                         pb_telemetry *tel, int quiet);
/* Base URL per plan endpoint; the strings change in place when a server
 * restarts on another port, so the array can be the sweep's urls. */
const char *const *pb_srvset_urls(const pb_srvset *s);
/* 1 when the set starts any process. */
int pb_srvset_active(const pb_srvset *s);
/* Starts every server with the settings of the sweep's first run, so that a
 * bad command (missing, exits, never ready, port in use) is found before
 * any run. Returns 0, or -1 with err saying which server and why. */
int pb_srvset_start(pb_srvset *s, char *err, size_t errlen);
/* Stops every server; -1 when a check_exit server failed on exit (its
 * message went to stderr). */
int pb_srvset_stop(pb_srvset *s);
void pb_srvset_free(pb_srvset *s);
/* The settings order the sweep uses, as recorded (for the summary line). */
void pb_srvset_describe(const pb_srvset *s, char *buf, size_t len);

/* Sweep hooks (ud = the pb_srvset). before_run: servers up with cfg's
 * settings, telemetry window opened; 0, -1 (this run not run: err), -2
 * (stop the sweep: err). after_run: the trace gets server_processes and
 * telemetry, and a run during which a server died is made invalid; 0, or
 * -2 after PB_SRV_MAX_DEATHS such runs in a row (err set). config_at: the
 * config index of the i-th config of round k (1-based), settings grouped. */
int pb_srvset_before_run(void *ud, const pb_config *cfg, char *err, size_t errlen);
int pb_srvset_after_run(void *ud, const pb_config *cfg, cJSON *trace, char *err,
                        size_t errlen);
int pb_srvset_config_at(void *ud, int k, int i);

#endif
