/* driver_threads: one OS thread per agent, each running its steps in order
 * as plain blocking code: a request with curl_easy_perform() (libcurl's own
 * wait loop), the way a thread-per-request program uses libcurl; idle work
 * as a sleep; CPU work burnt on the agent's own thread. A barrier releases
 * them together so the start skew is the scheduler's wake-up latency, not
 * thread creation time.
 *
 * Why easy_perform and not a uv loop + multi handle per thread: a multi
 * handle made with curl_multi_init() writes its hash tables at full size
 * (911 + 97 + 71 slots), ~35 KiB per thread, and a uv loop's first run
 * registers its own watchers; the multi inside curl_easy_perform() is sized
 * for one transfer. 128 agents x 400 tokens, collect on one CPU and the
 * emulator on the other, 3 runs each: CPU 1.2-1.3 -> 0.81-0.95 s, peak RSS
 * 24.8 -> 18.2 MiB, and the 128 requests go out within 24 ms of the
 * release instead of 69 ms (each thread's set-up before its request is
 * sent: ~190 us instead of ~540 us) (collector/README.md, Performance).
 *
 * Ctrl-C: each transfer's progress callback returns nonzero once the flag
 * is set, which libcurl calls after every read and at least once a second
 * while it waits; no thread has a timer (one per worker was 6400 wake-ups/s
 * with 128 agents), and the main thread sleeps until the last worker is
 * done. Sleeps (offsets, idle work) wake at least every SLICE_NS to look. */
#include "driver.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_mem.h"
#include "signals.h"

#define WARM_BYTES (16 * 1024)
#define SLICE_NS (20 * 1000000ULL) /* Ctrl-C reaction while sleeping */

typedef struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
    const uint64_t *release;
} shared;

typedef struct worker {
    pthread_t tid;
    pb_wf_agent *w;
    pthread_barrier_t *barrier;
    shared *sh;
    int rc; /* 0 done, 1 interrupted */
} worker;

/* Grace after --timeout before collect's own check ends a transfer that
 * libcurl's CURLOPT_TIMEOUT did not (as driver_uv's guard). */
#define GUARD_GRACE_NS (250 * 1000000ULL)

typedef struct llm_run {
    pb_transfer *t;
    uint64_t deadline;        /* uv_hrtime ns, or 0 */
    int timed_out;
} llm_run;

/* CURLOPT_XFERINFOFUNCTION, called after every read and at least once a
 * second: abort the transfer on Ctrl-C or past its --timeout. */
static int on_progress(void *p, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    llm_run *r = p;
    (void)dlt;
    (void)dln;
    (void)ult;
    (void)uln;
    if (pb_signals_interrupted())
        return 1;
    if (r->deadline && uv_hrtime() > r->deadline) {
        r->timed_out = 1;
        return 1;
    }
    return 0;
}

/* Sleeps until `due` on uv_hrtime's clock (CLOCK_MONOTONIC, as the trace),
 * in slices so that Ctrl-C is seen. Returns 1 when interrupted. */
static int sleep_until(uint64_t due)
{
    for (;;) {
        if (pb_signals_interrupted())
            return 1;
        uint64_t now = uv_hrtime();
        if (now >= due)
            return 0;
        uint64_t to = due - now > SLICE_NS ? now + SLICE_NS : due;
        struct timespec ts = {(time_t)(to / 1000000000ULL), (long)(to % 1000000000ULL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
    }
}

/* One llm step, blocking. Returns 1 when interrupted. */
static int run_llm(pb_transfer *t)
{
    uint64_t now = uv_hrtime();
    llm_run r = {t, t->timeout_s > 0 ? now + (uint64_t)(t->timeout_s * 1e9) + GUARD_GRACE_NS : 0, 0};
    curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, &r);
    curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
    pb_transfer_started(t, now);
    CURLcode rc = curl_easy_perform(t->easy);
    now = uv_hrtime();
    if (rc == CURLE_ABORTED_BY_CALLBACK && pb_signals_interrupted()) {
        pb_transfer_abort(t, now);
        return 1;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && r.timed_out) {
        snprintf(t->errbuf, sizeof t->errbuf, "no end within --timeout %.3g s (stopped by collect)",
                 t->timeout_s);
        rc = CURLE_OPERATION_TIMEDOUT;
    }
    pb_transfer_finish(t, rc, now);
    return 0;
}

/* The agent's whole workflow, as straight-line code. */
static int run_agent(pb_wf_agent *w, uint64_t release)
{
    if (sleep_until(release + (uint64_t)pb_wf_agent_offset(w)))
        return 1;
    for (;;) {
        switch (pb_wf_agent_next(w)) {
        case PB_WF_DONE:
            return pb_signals_interrupted() ? 1 : 0;
        case PB_WF_LLM: {
            pb_transfer *t = pb_wf_llm_begin(w);
            if (!t)
                break; /* failed: next is DONE */
            int rc = run_llm(t);
            pb_wf_llm_end(w);
            if (rc)
                return 1;
            break;
        }
        case PB_WF_IDLE:
            pb_wf_work_begin(w);
            if (sleep_until(pb_wf_work_due(w)))
                return 1;
            pb_wf_work_end(w, 0);
            break;
        case PB_WF_CPU: {
            double cpu = pb_wf_burn_cpu(pb_wf_work_begin(w), NULL);
            pb_wf_work_end(w, cpu);
            break;
        }
        }
    }
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    /* The thread's malloc arena, attached and written before the release:
     * otherwise the first allocations of 128 threads (libcurl's connection
     * and internal multi) created arenas and took page faults between the
     * release and the requests going out. Freed right after it, so the
     * request's own allocations reuse these pages: 16 KiB is about what
     * they take. 128 agents, pinned, 4 runs each: the requests go out
     * within 16.0-18.5 ms of the release instead of 22.6-24.9 ms, peak RSS
     * the same (17.9-18.2 MiB); 32 KiB was slower and added 1.3 MiB. */
    char *warm = malloc(WARM_BYTES);
    if (warm)
        memset(warm, 0, WARM_BYTES);
    pthread_barrier_wait(wk->barrier);
    free(warm);
    /* Never started when interrupted before the release: t_start stays -1. */
    wk->rc = pb_signals_interrupted() ? 1 : run_agent(wk->w, *wk->sh->release);
    pb_wf_agent_stop(wk->w);
    pthread_mutex_lock(&wk->sh->mu);
    wk->sh->finished++;
    pthread_cond_signal(&wk->sh->cv);
    pthread_mutex_unlock(&wk->sh->mu);
    return NULL;
}

int pb_driver_threads_run(pb_wf_agent **ags, int n, uint64_t *release, char *err, size_t errlen)
{
    worker *ws = calloc((size_t)n, sizeof *ws);
    pthread_barrier_t barrier;
    pthread_attr_t attr;
    if (!ws)
        PB_MEM_OOM();
    shared sh;
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    sh.finished = 0;
    sh.release = release;
    /* The workers and this thread, which stamps the release. */
    pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
    pthread_attr_init(&attr);
    /* 256 agents x the default 8 MiB would reserve 2 GiB of address space. */
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int started = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        ws[i].w = ags[i];
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
        /* The barrier counts n + 1: threads already waiting would hang. */
        fprintf(stderr, "collect: %s\n", err);
        exit(1);
    }
    *release = uv_hrtime();
    pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&sh.mu);
    while (sh.finished < started)
        pthread_cond_wait(&sh.cv, &sh.mu);
    pthread_mutex_unlock(&sh.mu);
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].rc > 0 && rc == 0)
            rc = 1;
    }
    pthread_attr_destroy(&attr);
    pthread_barrier_destroy(&barrier);
    pthread_cond_destroy(&sh.cv);
    pthread_mutex_destroy(&sh.mu);
    free(ws);
    return rc;
}
