/* driver_uv: libcurl multi driven by libuv (curl_multi_socket_action),
 * and the uv runtime: every agent's steps on one loop. */
#include "driver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

#include "pb_mem.h"
#include "signals.h"
#include "progress.h"

#define CHECK_MS 20 /* Ctrl-C reaction time; costs 50 wakeups/s */
#define GUARD_GRACE_NS (250 * 1000000ULL) /* after --timeout, before collect's own */

typedef struct pb_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    int events;         /* UV_READABLE/UV_WRITABLE libcurl asked for */
    pb_uvdrv *d;
} pb_sock;

static void on_pending(uv_idle_t *h) { (void)h; }

/* Collects libcurl's completion messages; called after every
 * curl_multi_socket_action. The bookkeeping of a finished transfer
 * (curl_multi_remove_handle, reading its timings) is deferred to
 * finish_done(), run after the I/O callbacks of this loop iteration: when
 * many streams end at once, the sockets still waiting in this iteration
 * are read first, so their timestamps are not delayed by it. While any
 * completion waits, an idle handle keeps the next poll from blocking: a
 * transfer finished in the timer callback (a reused connection answering
 * at once) left no socket or timer to wake the poll, and the loop hung
 * forever in epoll_wait (issue 22). */
static void drain(pb_uvdrv *d)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        pb_transfer *t = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        /* n_done < cap: a transfer completes once, and cap >= added. */
        d->done[d->n_done] = t;
        d->done_rc[d->n_done] = m->data.result;
        d->done_ns[d->n_done++] = uv_hrtime();
    }
    if (d->n_done > 0 && !uv_is_active((uv_handle_t *)&d->pending))
        uv_idle_start(&d->pending, on_pending);
}

static void finish_done(pb_uvdrv *d, int running)
{
    uv_idle_stop(&d->pending);
    for (int i = 0; i < d->n_done; i++) {
        curl_multi_remove_handle(d->multi, d->done[i]->easy);
        pb_transfer_finish(d->done[i], d->done_rc[i], d->done_ns[i]);
        /* A workflow starts its next step here (it may add a transfer:
         * d->done is then reallocated, hence d->done[i] read afresh). Not
         * while closing after Ctrl-C. */
        if (d->on_done && running)
            d->on_done(d, d->done[i]);
        if (--d->remaining == 0 && running)
            uv_stop(&d->loop);
    }
    d->n_done = 0;
}

/* uv_check: runs right after the poll phase of every loop iteration. */
static void on_after_io(uv_check_t *h)
{
    finish_done(h->data, 1);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    pb_sock *s = h->data;
    pb_uvdrv *d = s->d;
    int flags = 0;
    if (status < 0) {
        /* libuv reports no events with an error (a reset, say). Tell curl
         * the socket is also ready for what it waits on, so its own read
         * or write finds the real error (56 "Connection reset by peer")
         * instead of a bare 55 "select/poll returned error". */
        flags = CURL_CSELECT_ERR;
        events = s->events;
    }
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(d->multi, s->fd, flags, &running);
    drain(d);
}

static void on_timeout(uv_timer_t *h)
{
    pb_uvdrv *d = h->data;
    int running;
    curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(d);
}

static void on_sock_closed(uv_handle_t *h) { free(h->data); }

/* CURLMOPT_SOCKETFUNCTION: one uv_poll per socket, created on first use,
 * closed when libcurl says REMOVE (before libcurl closes the fd). */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    pb_uvdrv *d = userp;
    pb_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            curl_multi_assign(d->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->d = d;
        if (uv_poll_init_socket(&d->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(d->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    s->events = ev;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    pb_uvdrv *d = userp;
    if (ms < 0)
        uv_timer_stop(&d->timer);
    else
        uv_timer_start(&d->timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

static void guard_arm(pb_uvdrv *d);

/* --timeout, enforced by collect itself whatever libcurl does: a transfer
 * still running GUARD_GRACE_NS after its deadline is removed and recorded
 * as timed out (libcurl's own CURLOPT_TIMEOUT normally ends it first, with
 * its own message). */
static void on_guard(uv_timer_t *h)
{
    pb_uvdrv *d = h->data;
    finish_done(d, 1); /* completions first: they are not timeouts */
    uint64_t now = uv_hrtime();
    for (int i = 0; i < d->n; i++) {
        pb_transfer *t = d->ts[i];
        if (t->finished || d->deadline[i] == 0 || d->deadline[i] > now)
            continue;
        curl_multi_remove_handle(d->multi, t->easy);
        snprintf(t->errbuf, sizeof t->errbuf, "no end within --timeout %.3g s (stopped by collect)",
                 t->timeout_s);
        pb_transfer_finish(t, CURLE_OPERATION_TIMEDOUT, now);
        if (d->on_done)
            d->on_done(d, t); /* may add transfers: d->ts re-read */
        if (--d->remaining == 0)
            uv_stop(&d->loop);
    }
    guard_arm(d);
}

/* Arms the guard for the earliest deadline of a running transfer. */
static void guard_arm(pb_uvdrv *d)
{
    uint64_t first = 0;
    for (int i = 0; i < d->n; i++)
        if (!d->ts[i]->finished && d->deadline[i] && (!first || d->deadline[i] < first))
            first = d->deadline[i];
    if (!first) {
        uv_timer_stop(&d->guard);
        return;
    }
    uv_update_time(&d->loop);
    uint64_t now = uv_hrtime();
    uint64_t ms = first > now ? (first - now + 999999) / 1000000 : 0;
    d->guard_due = first;
    uv_timer_start(&d->guard, on_guard, ms, 0);
}

static void on_check(uv_timer_t *h)
{
    pb_uvdrv *d = h->data;
    if (pb_signals_interrupted()) {
        d->interrupted = 1;
        uv_stop(&d->loop);
    }
}

/* The signal pipe is readable: drain it (it is level-triggered) and stop
 * if the interrupt flag is still set (tests may clear it). */
static void on_sigpipe(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    pb_uvdrv *d = h->data;
    char buf[64];
    while (read(pb_signals_fd(), buf, sizeof buf) > 0) {
    }
    if (pb_signals_interrupted()) {
        d->interrupted = 1;
        uv_stop(&d->loop);
    }
}

static void on_alarm(uv_timer_t *h)
{
    pb_uvdrv_alarm *a = h->data;
    uint64_t now = uv_hrtime();
    if (now < a->due) {
        uint64_t rem = a->due - now;
        if (rem >= 1000000) {
            uv_update_time(h->loop);
            uv_timer_start(h, on_alarm, (rem + 999999) / 1000000, 0);
            return;
        }
        /* Under a millisecond: a timer cannot do it; the loop waits. */
        struct timespec ts = {(time_t)(a->due / 1000000000ULL), (long)(a->due % 1000000000ULL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
    }
    a->cb(a);
}

int pb_uvdrv_alarm_init(pb_uvdrv *d, pb_uvdrv_alarm *a)
{
    a->timer.data = a;
    return uv_timer_init(&d->loop, &a->timer);
}

void pb_uvdrv_alarm_at(pb_uvdrv_alarm *a, uint64_t due, void (*cb)(pb_uvdrv_alarm *a))
{
    a->due = due;
    a->cb = cb;
    /* Rounded up from a fresh loop time: most alarms then fire on time or
     * just after, and only the loop clock's lag is left to wait out. */
    uv_update_time(a->timer.loop);
    uint64_t now = uv_hrtime();
    uv_timer_start(&a->timer, on_alarm, due > now ? (due - now + 999999) / 1000000 : 0, 0);
}

int pb_uvdrv_init(pb_uvdrv *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    int rc = uv_loop_init(&d->loop);
    if (rc != 0) {
        snprintf(err, errlen, "cannot create an event loop: %s", uv_strerror(rc));
        return -1;
    }
    uv_timer_init(&d->loop, &d->timer);
    uv_timer_init(&d->loop, &d->check);
    uv_check_init(&d->loop, &d->after_io);
    uv_idle_init(&d->loop, &d->pending);
    uv_timer_init(&d->loop, &d->guard);
    d->timer.data = d->check.data = d->after_io.data = d->guard.data = d;
    d->pending.data = d;
    d->multi = curl_multi_init();
    if (!d->multi) {
        snprintf(err, errlen, "cannot create a libcurl multi handle");
        pb_uvdrv_close(d);
        return -1;
    }
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    /* No artificial limit: 256 agents get 256 connections at once. */
    curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, 1024L);
    return 0;
}

void pb_uvdrv_add(pb_uvdrv *d, pb_transfer *t)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->ts = realloc(d->ts, sizeof *d->ts * d->cap);
        d->done = realloc(d->done, sizeof *d->done * d->cap);
        d->done_rc = realloc(d->done_rc, sizeof *d->done_rc * d->cap);
        d->done_ns = realloc(d->done_ns, sizeof *d->done_ns * d->cap);
        d->deadline = realloc(d->deadline, sizeof *d->deadline * d->cap);
        if (!d->ts || !d->done || !d->done_rc || !d->done_ns || !d->deadline)
            PB_MEM_OOM();
    }
    uint64_t now = uv_hrtime();
    d->deadline[d->n] = t->timeout_s > 0 ? now + (uint64_t)(t->timeout_s * 1e9) + GUARD_GRACE_NS : 0;
    d->ts[d->n++] = t;
    d->remaining++;
    pb_transfer_started(t, now);
    /* A handle libcurl refuses would never complete: the phase would wait
     * for it forever. Record it as finished with the refusal instead. */
    CURLMcode mc = curl_multi_add_handle(d->multi, t->easy);
    if (mc != CURLM_OK) {
        pb_transfer_finish(t, CURLE_FAILED_INIT, uv_hrtime());
        d->remaining--;
        return;
    }
    if (d->deadline[d->n - 1] && (!uv_is_active((uv_handle_t *)&d->guard) ||
                                  d->deadline[d->n - 1] < d->guard_due))
        guard_arm(d);
}

void pb_uvdrv_hold(pb_uvdrv *d) { d->remaining++; }

void pb_uvdrv_release(pb_uvdrv *d)
{
    if (--d->remaining == 0)
        uv_stop(&d->loop);
}

int pb_uvdrv_run(pb_uvdrv *d)
{
    if (pb_signals_interrupted())
        return 1;
    /* Ctrl-C: a poll on the signal pipe wakes the loop only when a signal
     * came; the 20 ms timer (50 wake-ups/s, ~1 in 5 of all wake-ups with 2
     * agents) remains only when there is no pipe. */
    int pipe_fd = pb_signals_fd();
    if (pipe_fd >= 0 && !d->has_sigpipe && uv_poll_init(&d->loop, &d->sigpipe, pipe_fd) == 0) {
        d->sigpipe.data = d;
        d->has_sigpipe = 1;
    }
    if (d->has_sigpipe)
        uv_poll_start(&d->sigpipe, UV_READABLE, on_sigpipe);
    else
        uv_timer_start(&d->check, on_check, CHECK_MS, CHECK_MS);
    uv_check_start(&d->after_io, on_after_io);
    /* A signal between the check above and the poll start: its byte is in
     * the pipe, so the first loop iteration sees it. */
    while (d->remaining > 0 && !d->interrupted)
        uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_check_stop(&d->after_io);
    if (d->has_sigpipe)
        uv_poll_stop(&d->sigpipe);
    else
        uv_timer_stop(&d->check);
    return d->interrupted;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, h->type == UV_POLL ? on_sock_closed : NULL);
}

void pb_uvdrv_close(pb_uvdrv *d)
{
    /* Completions collected but not yet finished (an interrupt stopped the
     * loop first) are finished, not aborted: they did complete. */
    if (d->multi)
        finish_done(d, 0); /* 0: a uv_stop would skip the closing run below */
    uint64_t now = uv_hrtime();
    if (d->multi) {
        for (int i = 0; i < d->n; i++)
            if (!d->ts[i]->finished) {
                curl_multi_remove_handle(d->multi, d->ts[i]->easy);
                pb_transfer_abort(d->ts[i], now);
            }
        /* May call on_socket(REMOVE): the loop must still be alive. */
        curl_multi_cleanup(d->multi);
        d->multi = NULL;
    }
    /* Closed here: close_any takes every other poll handle for a socket. */
    if (d->has_sigpipe)
        uv_close((uv_handle_t *)&d->sigpipe, NULL);
    d->has_sigpipe = 0;
    /* A callback that runs while the handles close (an agent releasing its
     * hold, a Ctrl-C arriving now) may call uv_stop, which ends that run
     * early with handles still closing; uv_loop_close then fails (EBUSY)
     * and the loop's own memory leaks. Run again until it closes (bounded:
     * every pass closes what is left). */
    for (int pass = 0; pass < 16; pass++) {
        uv_walk(&d->loop, close_any, NULL);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&d->loop) != UV_EBUSY)
            break;
    }
    free(d->ts);
    free(d->done);
    free(d->done_rc);
    free(d->done_ns);
    free(d->deadline);
    d->deadline = NULL;
    d->ts = NULL;
    d->done = NULL;
    d->done_rc = NULL;
    d->done_ns = NULL;
}

/* ---- Agents on one loop. */

typedef struct uv_agent {
    pb_wf_agent *w;
    pb_uvdrv *d;
    uint64_t release;
    pb_uvdrv_alarm alarm;     /* arrival offset and idle work */
    uv_async_t cpu_done;      /* the CPU-burning thread finished */
    pthread_t cpu_tid;
    int cpu_running;
    double cpu_target_s, cpu_s;
    atomic_int cpu_stop;
} uv_agent;

static void agent_step(uv_agent *u);

static void on_work_timer(pb_uvdrv_alarm *a)
{
    uv_agent *u = a->data;
    pb_wf_work_end(u->w, 0);
    agent_step(u);
    pb_uvdrv_release(u->d); /* the hold of the work step */
}

static void on_arrival(pb_uvdrv_alarm *a)
{
    uv_agent *u = a->data;
    agent_step(u);
    pb_uvdrv_release(u->d); /* the hold of the wait */
}

/* CPU work runs on a thread of its own, so the loop keeps serving the
 * other agents' streams meanwhile. */
static void *cpu_main(void *arg)
{
    uv_agent *u = arg;
    u->cpu_s = pb_wf_burn_cpu(u->cpu_target_s, &u->cpu_stop);
    uv_async_send(&u->cpu_done);
    return NULL;
}

static void on_cpu_done(uv_async_t *h)
{
    uv_agent *u = h->data;
    if (!u->cpu_running)
        return;
    pthread_join(u->cpu_tid, NULL);
    u->cpu_running = 0;
    pb_wf_work_end(u->w, u->cpu_s);
    agent_step(u);
    pb_uvdrv_release(u->d);
}

/* Starts the agent's next step, or lets go of its hold on the loop after
 * the last one (or a failed one). */
static void agent_step(uv_agent *u)
{
    for (;;) {
        switch (pb_wf_agent_next(u->w)) {
        case PB_WF_DONE:
            pb_uvdrv_release(u->d); /* the hold of the whole workflow */
            return;
        case PB_WF_LLM: {
            pb_transfer *t = pb_wf_llm_begin(u->w);
            if (!t)
                continue; /* failed: next is DONE */
            t->user = u;
            pb_uvdrv_add(u->d, t);
            return;
        }
        case PB_WF_IDLE: {
            pb_wf_work_begin(u->w);
            pb_uvdrv_hold(u->d);
            pb_uvdrv_alarm_at(&u->alarm, pb_wf_work_due(u->w), on_work_timer);
            return;
        }
        case PB_WF_CPU:
            u->cpu_target_s = pb_wf_work_begin(u->w);
            atomic_store(&u->cpu_stop, 0);
            pb_uvdrv_hold(u->d);
            if (pthread_create(&u->cpu_tid, NULL, cpu_main, u) != 0) {
                /* As if no CPU could be had: the step ends at once. */
                pb_progress_say("collect: cannot start a CPU work thread; the work step is skipped\n");
                pb_wf_work_end(u->w, 0);
                pb_uvdrv_release(u->d);
                continue;
            }
            u->cpu_running = 1;
            return;
        }
    }
}

static void on_agent_transfer_done(pb_uvdrv *d, pb_transfer *t)
{
    (void)d;
    uv_agent *u = t->user;
    pb_wf_llm_end(u->w);
    agent_step(u);
}

/* Starts an agent: at once, or after its arrival offset. */
static void agent_launch(uv_agent *u)
{
    pb_uvdrv_hold(u->d); /* the whole workflow */
    int64_t off = pb_wf_agent_offset(u->w);
    if (off > 0) {
        pb_uvdrv_hold(u->d);
        pb_uvdrv_alarm_at(&u->alarm, u->release + (uint64_t)off, on_arrival);
    } else {
        agent_step(u);
    }
}

int pb_driver_uv_run_from(pb_wf_agent **ws, int n, uint64_t release, char *err, size_t errlen)
{
    pb_uvdrv d;
    if (pb_uvdrv_init(&d, err, errlen) != 0)
        return -1;
    uv_agent *us = pb_mem_calloc((size_t)n, sizeof *us);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        uv_agent *u = &us[i];
        u->w = ws[i];
        u->d = &d;
        u->release = release;
        if (pb_uvdrv_alarm_init(&d, &u->alarm) != 0 ||
            uv_async_init(&d.loop, &u->cpu_done, on_cpu_done) != 0) {
            snprintf(err, errlen, "cannot set up the agents' timers on the event loop");
            rc = -1;
        }
        u->alarm.data = u->cpu_done.data = u;
    }
    d.on_done = on_agent_transfer_done;
    if (rc == 0) {
        for (int i = 0; i < n; i++)
            agent_launch(&us[i]);
        rc = pb_uvdrv_run(&d);
    }
    for (int i = 0; i < n; i++) {
        if (us[i].cpu_running) {
            atomic_store(&us[i].cpu_stop, 1);
            pthread_join(us[i].cpu_tid, NULL);
            us[i].cpu_running = 0;
        }
    }
    pb_uvdrv_close(&d);
    for (int i = 0; i < n; i++)
        pb_wf_agent_stop(ws[i]);
    free(us);
    return rc;
}

int pb_driver_uv_run(pb_wf_agent **ws, int n, uint64_t *release, char *err, size_t errlen)
{
    *release = uv_hrtime();
    return pb_driver_uv_run_from(ws, n, *release, err, errlen);
}
