/* driver_threads: one OS thread per agent, each with its own uv loop and
 * curl multi. A barrier releases them together so the start skew is the
 * scheduler's wake-up latency, not thread creation time. */
#include "driver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker {
    pthread_t tid;
    pb_transfer *t;
    pthread_barrier_t *barrier;
    int rc;
    char err[256];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    pb_uvdrv d;
    int ok = pb_uvdrv_init(&d, w->err, sizeof w->err) == 0;
    /* Everyone waits, even a worker that failed, or the others hang. */
    pthread_barrier_wait(w->barrier);
    if (!ok) {
        w->rc = -1;
        return NULL;
    }
    pb_uvdrv_add(&d, w->t);
    w->rc = pb_uvdrv_run(&d);
    pb_uvdrv_close(&d);
    return NULL;
}

int pb_driver_threads_run_all(pb_transfer **ts, int n, char *err, size_t errlen)
{
    worker *ws = calloc((size_t)n, sizeof *ws);
    pthread_barrier_t barrier;
    pthread_attr_t attr;
    if (!ws)
        abort();
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    pthread_attr_init(&attr);
    /* 256 agents x the default 8 MiB would reserve 2 GiB of address space. */
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int started = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        ws[i].t = ts[i];
        ws[i].barrier = &barrier;
        if (pthread_create(&ws[i].tid, &attr, worker_main, &ws[i]) != 0) {
            snprintf(err, errlen, "cannot start thread %d of %d (raise `ulimit -u`?)", i + 1, n);
            rc = -1;
            break;
        }
        started++;
    }
    if (rc != 0) {
        /* The barrier counts n: threads already waiting would hang. */
        fprintf(stderr, "collect: %s\n", err);
        exit(1);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].rc < 0 && rc == 0) {
            snprintf(err, errlen, "%s", ws[i].err);
            rc = -1;
        } else if (ws[i].rc > 0 && rc == 0) {
            rc = 1;
        }
    }
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&barrier);
    free(ws);
    return rc;
}
