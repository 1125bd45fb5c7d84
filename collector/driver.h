/* driver: how a runtime runs a phase's agents (workflow.h: what they do).
 * workflow.c builds the agents and calls one driver per phase:
 *   uv       every agent on one loop and one curl multi handle: the
 *            pb_uvdrv below (driver_uv.c)
 *   threads  one thread per agent running its steps with curl_easy_perform,
 *            released together by a barrier (driver_threads.c; no pb_uvdrv)
 *   serial   one agent after another, each on its own pb_uvdrv, all timed
 *            from one release (driver_serial.c)
 *   exec     a program is the runtime: spawned with a job file on a loop of
 *            its own, its requests recorded by one proxy per endpoint
 *            (driver_exec.c, data/EXEC.md; no pb_uvdrv)
 *
 * pb_uvdrv is the libuv + libcurl machinery the uv and serial drivers share:
 * curl_multi_socket_action with one uv_poll per socket and libcurl's
 * timeout timer; completed transfers collected after every socket_action;
 * --timeout enforced by collect's own guard timer whatever libcurl does;
 * Ctrl-C through the signal pipe (a polling timer without one).
 *
 * Every driver stops on Ctrl-C (pb_signals_interrupted()) and returns 1;
 * 0 when every agent finished (a failed request is recorded, not returned);
 * -1 on a setup error (err set). *release is set to the phase's release
 * (uv_hrtime), which agents' offsets count from. */
#ifndef PB_DRIVER_H
#define PB_DRIVER_H

#include <curl/curl.h>
#include <uv.h>

#include "plan.h"
#include "transfer.h"
#include "workflow.h"

typedef struct pb_uvdrv {
    uv_loop_t loop;
    uv_timer_t timer;        /* libcurl's timeout */
    uv_timer_t check;        /* Ctrl-C poll when there is no signal pipe
                                (pb_signals_fd) */
    uv_poll_t sigpipe;       /* Ctrl-C wake-up through the signal pipe */
    int has_sigpipe;
    CURLM *multi;
    int remaining;           /* transfers added and not finished */
    int interrupted;
    int n, cap;
    pb_transfer **ts;        /* borrowed */
    /* Transfers libcurl reported done during this loop iteration's I/O
     * callbacks: removed from the multi handle in `after_io`, once every
     * socket that was ready got its read (see driver_uv.c). */
    uv_check_t after_io;
    int n_done;
    pb_transfer **done;      /* cap entries */
    CURLcode *done_rc;
    uint64_t *done_ns;
    uv_idle_t pending;       /* active while done[] waits: the poll must
                                not block (see drain in driver_uv.c) */
    uv_timer_t guard;        /* --timeout, enforced by collect itself */
    uint64_t guard_due;      /* when it fires (uv_hrtime ns) */
    uint64_t *deadline;      /* per ts[]: uv_hrtime ns, or 0 */
    /* Called after a transfer finished, before the loop may stop: the
     * agent's next step starts from here (pb_uvdrv_add or pb_uvdrv_hold). */
    void (*on_done)(struct pb_uvdrv *d, pb_transfer *t);
    void *user;
} pb_uvdrv;

int pb_uvdrv_init(pb_uvdrv *d, char *err, size_t errlen);

/* A start at a due time on uv_hrtime's clock (CLOCK_MONOTONIC, the trace's
 * clock), never before it. A uv timer alone can fire up to a kernel tick
 * early on that clock: libuv's loop time is read from
 * CLOCK_MONOTONIC_COARSE when that is precise to 1 ms or better, and lags.
 * An alarm that fires early is re-armed for what is left, or, under 1 ms,
 * waits it out with an absolute clock_nanosleep (issue 23). */
typedef struct pb_uvdrv_alarm {
    uv_timer_t timer;
    uint64_t due;            /* uv_hrtime ns */
    void (*cb)(struct pb_uvdrv_alarm *a);
    void *data;
} pb_uvdrv_alarm;

int pb_uvdrv_alarm_init(pb_uvdrv *d, pb_uvdrv_alarm *a);
/* Calls cb at or after due (at once, from the loop, when due is past). */
void pb_uvdrv_alarm_at(pb_uvdrv_alarm *a, uint64_t due, void (*cb)(pb_uvdrv_alarm *a));
/* Hands t to libcurl and stamps its t_start. */
void pb_uvdrv_add(pb_uvdrv *d, pb_transfer *t);
/* Keeps the loop running without a transfer (a workflow's work step or
 * its not yet started first step); pb_uvdrv_release undoes one hold and
 * stops the loop when nothing is left. */
void pb_uvdrv_hold(pb_uvdrv *d);
void pb_uvdrv_release(pb_uvdrv *d);
/* Runs until every added transfer finished (0) or Ctrl-C (1). */
int pb_uvdrv_run(pb_uvdrv *d);
/* Removes unfinished transfers (marking them aborted), then frees
 * everything in libcurl's then libuv's required order. */
void pb_uvdrv_close(pb_uvdrv *d);

int pb_driver_uv_run(pb_wf_agent **ws, int n, uint64_t *release, char *err, size_t errlen);
int pb_driver_threads_run(pb_wf_agent **ws, int n, uint64_t *release, char *err, size_t errlen);
int pb_driver_serial_run(pb_wf_agent **ws, int n, uint64_t *release, char *err, size_t errlen);
/* exec: the runtime's program runs the phase's agents (driver_exec.c).
 * *process gets the program's record; *requests the requests it made as
 * recorded (trace request objects), or NULL when nothing recorded them;
 * *invalid (malloc'ed) why the phase failed (exit status, signal, timeout,
 * spawn failure), else NULL. */
int pb_driver_exec_run(const pb_wf_phase *ph, pb_wf_agent **ws, int n, uint64_t *release,
                       cJSON **process, cJSON **requests, char **invalid, char *err,
                       size_t errlen);
/* The uv driver for agents released at a given time (serial runs each agent
 * this way, all counting from one release). */
int pb_driver_uv_run_from(pb_wf_agent **ws, int n, uint64_t release, char *err, size_t errlen);

#endif
