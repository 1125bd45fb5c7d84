/* driver_threads: one OS thread per agent, each with its own uv loop and
 * curl multi. A barrier releases them together so the start skew is the
 * scheduler's wake-up latency, not thread creation time.
 *
 * Ctrl-C: the main thread sleeps in poll() on the signal pipe
 * (pb_signals_fd) and on a pipe each finishing worker writes to, and wakes
 * the workers' loops with a uv_async; neither it nor the workers have a
 * timer (a 20 ms one was 50 wake-ups/s, a sixth of all wake-ups with 2
 * agents; one per worker was 6400/s with 128 agents). */
#include "driver.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"

typedef struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
    int done_pipe[2];   /* a byte per finished worker; -1: use cv */
} shared;

typedef struct worker {
    pthread_t tid;
    pb_transfer *t;
    pthread_barrier_t *barrier;
    shared *sh;
    pb_uvdrv d;
    int live; /* d's loop accepts pb_uvdrv_remote_stop (under sh->mu) */
    int rc;
    char err[256];
} worker;

static void worker_done(worker *w)
{
    pthread_mutex_lock(&w->sh->mu);
    w->live = 0;
    w->sh->finished++;
    pthread_cond_signal(&w->sh->cv);
    pthread_mutex_unlock(&w->sh->mu);
    if (w->sh->done_pipe[1] >= 0)
        (void)!write(w->sh->done_pipe[1], "x", 1);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pb_uvdrv *d = &w->d;
    int ok = pb_uvdrv_init(d, w->err, sizeof w->err) == 0;
    if (ok && pb_uvdrv_enable_remote_stop(d) != 0) {
        snprintf(w->err, sizeof w->err, "cannot create a uv_async");
        pb_uvdrv_close(d);
        ok = 0;
    }
    if (ok) {
        pthread_mutex_lock(&w->sh->mu);
        w->live = 1;
        pthread_mutex_unlock(&w->sh->mu);
    }
    /* Everyone waits, even a worker that failed, or the others hang. */
    pthread_barrier_wait(w->barrier);
    if (!ok) {
        w->rc = -1;
        worker_done(w);
        return NULL;
    }
    pb_uvdrv_add(d, w->t);
    w->rc = pb_uvdrv_run(d);
    /* No remote stop may touch the loop once it is being closed. */
    pthread_mutex_lock(&w->sh->mu);
    w->live = 0;
    pthread_mutex_unlock(&w->sh->mu);
    pb_uvdrv_close(d);
    worker_done(w);
    return NULL;
}

static void stop_live(worker *ws, int started)
{
    for (int i = 0; i < started; i++)
        if (ws[i].live)
            pb_uvdrv_remote_stop(&ws[i].d);
}

/* Waits until every worker finished; meanwhile forwards Ctrl-C. */
static void wait_workers(worker *ws, int started, shared *sh)
{
    int sig_fd = pb_signals_fd();
    if (sig_fd >= 0 && sh->done_pipe[0] >= 0) {
        char buf[256];
        for (;;) {
            pthread_mutex_lock(&sh->mu);
            int all = sh->finished >= started;
            if (!all && pb_signals_interrupted())
                stop_live(ws, started);
            pthread_mutex_unlock(&sh->mu);
            if (all)
                return;
            struct pollfd pf[2] = {{sh->done_pipe[0], POLLIN, 0}, {sig_fd, POLLIN, 0}};
            if (poll(pf, 2, -1) > 0) {
                while (read(sh->done_pipe[0], buf, sizeof buf) > 0) {
                }
                if (pf[1].revents)
                    while (read(sig_fd, buf, sizeof buf) > 0) {
                    }
            }
        }
    }
    pthread_mutex_lock(&sh->mu);
    while (sh->finished < started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sh->cv, &sh->mu, &ts);
        if (pb_signals_interrupted())
            stop_live(ws, started);
    }
    pthread_mutex_unlock(&sh->mu);
}

int pb_driver_threads_run_all(pb_transfer **ts, int n, char *err, size_t errlen)
{
    worker *ws = calloc((size_t)n, sizeof *ws);
    pthread_barrier_t barrier;
    pthread_attr_t attr;
    if (!ws)
        abort();
    shared sh;
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    sh.finished = 0;
    /* Non-blocking both ways: a worker never blocks on a full pipe, and
     * the main thread drains it without blocking. */
    if (pipe(sh.done_pipe) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(sh.done_pipe[i], F_SETFL, fcntl(sh.done_pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(sh.done_pipe[i], F_SETFD, FD_CLOEXEC);
        }
    } else {
        sh.done_pipe[0] = sh.done_pipe[1] = -1;
    }
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    pthread_attr_init(&attr);
    /* 256 agents x the default 8 MiB would reserve 2 GiB of address space. */
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int started = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        ws[i].t = ts[i];
        ws[i].barrier = &barrier;
        ws[i].sh = &sh;
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
    wait_workers(ws, started, &sh);
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
    pthread_cond_destroy(&sh.cv);
    pthread_mutex_destroy(&sh.mu);
    if (sh.done_pipe[0] >= 0) {
        close(sh.done_pipe[0]);
        close(sh.done_pipe[1]);
    }
    free(ws);
    return rc;
}
