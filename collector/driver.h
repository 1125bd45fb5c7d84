/* driver: runs a set of transfers to completion.
 *
 * pb_driver_uv_* is the building block: one uv loop + one curl multi handle,
 * driven by curl_multi_socket_action with a uv_poll per socket and a single
 * uv_timer. The three runtimes use it differently:
 *   uv       all transfers of a phase on one loop (driver_uv.c)
 *   threads  one thread per transfer, each with its own loop, released
 *            together by a barrier (driver_threads.c)
 *   serial   one transfer after another (driver_serial.c)
 * Every driver polls pb_signals_interrupted() and, on Ctrl-C, stops its
 * transfers and returns 1 (0 when everything finished). */
#ifndef PB_DRIVER_H
#define PB_DRIVER_H

#include <curl/curl.h>
#include <uv.h>

#include "plan.h"
#include "transfer.h"

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
    /* Called after a transfer finished, before the loop may stop: a
     * workflow starts its next step from here (pb_uvdrv_add or
     * pb_uvdrv_hold). NULL for plain phases. */
    void (*on_done)(struct pb_uvdrv *d, pb_transfer *t);
    void *user;
} pb_uvdrv;

int pb_uvdrv_init(pb_uvdrv *d, char *err, size_t errlen);
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

/* Runs ts[0..n) with the runtime's driver. Returns 0, 1 on Ctrl-C, -1 on a
 * setup error (err set). */
int pb_driver_run(pb_driver_kind kind, pb_transfer **ts, int n, char *err,
                  size_t errlen);
int pb_driver_uv_run_all(pb_transfer **ts, int n, char *err, size_t errlen);
int pb_driver_threads_run_all(pb_transfer **ts, int n, char *err, size_t errlen);
int pb_driver_serial_run_all(pb_transfer **ts, int n, char *err, size_t errlen);

#endif
