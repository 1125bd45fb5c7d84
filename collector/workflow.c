/* workflow: step execution of workflow agents (see workflow.h). */
#include "workflow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "driver.h"
#include "pb_hash.h"
#include "signals.h"
#include "transfer.h"

/* Request ids come from the run context's counter, which threads share. */
static pthread_mutex_t id_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct step_rec {
    int64_t start, end;       /* relative to origin, -1 = not reached */
    pb_transfer *t;           /* llm */
    char *prompt;             /* llm: the prompt sent when it was filled */
    long seed;                /* llm: sample seed sent, or -1 */
    double planned_s;         /* work: seconds asked for (after scaling) */
    double cpu_s;             /* work with cpu: CPU time burnt */
} step_rec;

typedef struct wf_agent {
    const pb_wf_phase *ph;
    const pb_agent_spec *a;
    int idx;                  /* in ph->agents */
    int n_steps;              /* a->n_steps, or 1 for a plain agent */
    int cur;                  /* step running */
    step_rec *recs;
    pb_agent_spec req;        /* the llm step's request (borrowed fields
                                 except prompt) */
    pb_uvdrv *d;
    uv_timer_t timer;         /* arrival offset and idle work */
    uv_async_t cpu_done;      /* a CPU-burning thread finished */
    pthread_t cpu_tid;
    int cpu_running;
    double cpu_target_s;
    atomic_int cpu_stop;
    int failed, done;
    char err[256];
} wf_agent;

long pb_workflow_step_seed(long agent_seed, int step)
{
    if (agent_seed < 0)
        return -1;
    /* Steps must not share a seed (a model would answer the same way) and
     * must stay in [0, 2^31-1) like the drawn agent seed. */
    return (long)(((unsigned long long)agent_seed + 1000003ULL * (unsigned long long)step) %
                  2147483647ULL);
}

static int64_t rel_now(const wf_agent *w)
{
    return (int64_t)(uv_hrtime() - w->ph->origin);
}

static const pb_step *step_of(const wf_agent *w, int k)
{
    return w->a->n_steps > 0 ? &w->a->steps[k] : NULL;
}

static void next_step(wf_agent *w);

static void finish_agent(wf_agent *w)
{
    w->done = 1;
    pb_uvdrv_release(w->d);
}

static void on_work_timer(uv_timer_t *h)
{
    wf_agent *w = h->data;
    w->recs[w->cur].end = rel_now(w);
    w->cur++;
    next_step(w);
    pb_uvdrv_release(w->d); /* the hold of the work step */
}

static void on_arrival(uv_timer_t *h)
{
    wf_agent *w = h->data;
    next_step(w);
    pb_uvdrv_release(w->d); /* the hold of the wait */
}

/* Burns CPU until this thread has used cpu_target_s of CPU time: a fixed
 * amount of compute, which takes longer when the cores are busy. */
static void *cpu_main(void *arg)
{
    wf_agent *w = arg;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    double t0 = (double)ts.tv_sec + ts.tv_nsec * 1e-9, t = t0;
    volatile unsigned long x = 0;
    while (t - t0 < w->cpu_target_s && !atomic_load(&w->cpu_stop)) {
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i * 2654435761u;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        t = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    }
    w->recs[w->cur].cpu_s = t - t0;
    uv_async_send(&w->cpu_done);
    return NULL;
}

static void on_cpu_done(uv_async_t *h)
{
    wf_agent *w = h->data;
    if (!w->cpu_running)
        return;
    pthread_join(w->cpu_tid, NULL);
    w->cpu_running = 0;
    w->recs[w->cur].end = rel_now(w);
    w->cur++;
    next_step(w);
    pb_uvdrv_release(w->d);
}

static int start_llm(wf_agent *w, const pb_step *s)
{
    step_rec *r = &w->recs[w->cur];
    const pb_wf_phase *ph = w->ph;
    w->req = *w->a;
    w->req.n_steps = 0;
    w->req.steps = NULL;
    if (s) {
        w->req.api = s->api;
        w->req.options = s->options;
        w->req.headers = s->headers;
        w->req.prompt = s->prompt;
        if (strstr(s->prompt, PB_PREVIOUS_MARK)) {
            /* The previous llm step's answer, capped at a character
             * boundary (plan_steps.h: PB_PREVIOUS_MAX_BYTES). */
            const char *prev = "";
            size_t plen = 0;
            for (int k = w->cur - 1; k >= 0; k--)
                if (w->recs[k].t) {
                    size_t kept;
                    prev = pb_transfer_text(w->recs[k].t, &kept, NULL);
                    plen = pb_utf8_cap(prev, kept, PB_PREVIOUS_MAX_BYTES);
                    break;
                }
            r->prompt = pb_steps_fill_prompt(s->prompt, prev, plen);
            w->req.prompt = r->prompt;
        }
    }
    char rid[96];
    pthread_mutex_lock(&id_mu);
    snprintf(rid, sizeof rid, "pb-%s-%lu", ph->ctx->nonce, ++ph->ctx->seq);
    pthread_mutex_unlock(&id_mu);
    r->seed = pb_workflow_step_seed(ph->seeds[w->idx], w->cur);
    pb_transfer_opts o = {
        .url = ph->ctx->urls[w->a->endpoint_index],
        .request_id = rid,
        .chunk_bytes = ph->rt->chunk_bytes,
        .timeout_s = ph->ctx->plan->timeout_s,
        .reuse_connections = ph->ctx->plan->reuse_connections,
        .share = ph->ctx->share,
        .sample_seed = r->seed,
        /* 4 bytes over the cap so that the cut can find a character
         * boundary at or below it. */
        .keep_text = PB_PREVIOUS_MAX_BYTES + 4,
    };
    r->t = pb_transfer_new(&w->req, &o, ph->origin, w->err, sizeof w->err);
    if (!r->t)
        return -1;
    r->start = rel_now(w);
    pb_uvdrv_add(w->d, r->t);
    return 0;
}

/* Starts step w->cur, or finishes the agent after the last step or a
 * failed one. Runs on the agent's loop. */
static void next_step(wf_agent *w)
{
    if (w->failed || w->cur >= w->n_steps) {
        finish_agent(w);
        return;
    }
    const pb_step *s = step_of(w, w->cur);
    step_rec *r = &w->recs[w->cur];
    if (!s || s->kind == PB_STEP_LLM) {
        if (start_llm(w, s) != 0) {
            w->failed = 1;
            finish_agent(w);
        }
        return;
    }
    r->start = rel_now(w);
    r->planned_s = w->ph->work_s[w->idx][w->cur] / w->ph->work_divisor;
    pb_uvdrv_hold(w->d);
    if (s->cpu) {
        w->cpu_target_s = r->planned_s;
        atomic_store(&w->cpu_stop, 0);
        if (pthread_create(&w->cpu_tid, NULL, cpu_main, w) != 0) {
            snprintf(w->err, sizeof w->err, "cannot start a CPU work thread");
            w->failed = 1;
            pb_uvdrv_release(w->d);
            finish_agent(w);
            return;
        }
        w->cpu_running = 1;
    } else {
        uint64_t ms = (uint64_t)(r->planned_s * 1000.0 + 0.5);
        uv_update_time(&w->d->loop);
        uv_timer_start(&w->timer, on_work_timer, ms, 0);
    }
}

/* The agents one loop runs (threads: one each; no loop looks at another
 * loop's agents). */
typedef struct loop_set {
    wf_agent *ws;
    const int *which;
    int m;
} loop_set;

static void on_transfer_done(pb_uvdrv *d, pb_transfer *t)
{
    wf_agent *w = NULL;
    const loop_set *ls = d->user;
    for (int i = 0; i < ls->m && !w; i++) {
        wf_agent *x = &ls->ws[ls->which[i]];
        if (!x->done && x->cur < x->n_steps && x->recs[x->cur].t == t)
            w = x;
    }
    if (!w)
        return;
    /* The next step needs the answer now: judge the response here rather
     * than after the phase (this agent's own time, as a real agent would
     * spend it reading its answer). */
    pb_transfer_settle(t);
    w->recs[w->cur].end = t->t_end;
    if (!t->ok)
        w->failed = 1;
    w->cur++;
    next_step(w);
}

static int agent_setup(wf_agent *w, pb_uvdrv *d)
{
    w->d = d;
    if (uv_timer_init(&d->loop, &w->timer) != 0 ||
        uv_async_init(&d->loop, &w->cpu_done, on_cpu_done) != 0) {
        snprintf(w->err, sizeof w->err, "cannot set up the workflow's timers");
        return -1;
    }
    w->timer.data = w->cpu_done.data = w;
    return 0;
}

/* Starts agent w on its loop: at once, or after its arrival offset. */
static void agent_launch(wf_agent *w, uint64_t phase_t0)
{
    pb_uvdrv_hold(w->d); /* the whole workflow */
    int64_t off = w->ph->offsets_ns ? w->ph->offsets_ns[w->idx] : 0;
    if (off > 0) {
        int64_t due = (int64_t)(phase_t0 - w->ph->origin) + off, now = rel_now(w);
        /* Rounded up and from a fresh loop time: a timer counts from the
         * loop's cached time, which may be a while old, and would fire
         * early. */
        uint64_t ms = due > now ? (uint64_t)((due - now + 999999) / 1000000) : 0;
        uv_update_time(&w->d->loop);
        pb_uvdrv_hold(w->d);
        uv_timer_start(&w->timer, on_arrival, ms, 0);
    } else {
        next_step(w);
    }
}

/* Runs ws[0..n) on one loop. */
/* The threads runtime: one thread and loop per agent. As in
 * driver_threads, the loops have no Ctrl-C timer of their own (128 agents x
 * 50 wake-ups/s competed with the streams); the phase's thread polls and
 * stops the live loops through a uv_async of each (the signal pipe wakes
 * only the loop that reads its byte). */
typedef struct thr_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
    pthread_barrier_t barrier;
} thr_sync;

typedef struct thr {
    pthread_t tid;
    wf_agent *ws;
    int which;
    thr_sync *sync;
    pb_uvdrv *live;          /* the loop while `stop` may be sent (under mu) */
    uv_async_t stop;         /* on that loop: stop it as interrupted */
    uint64_t *t0;
    int rc;
    char err[256];
} thr;

static void on_remote_stop(uv_async_t *a)
{
    pb_uvdrv *d = a->data;
    d->interrupted = 1;
    uv_stop(&d->loop);
}

static void thr_set_live(thr *self, pb_uvdrv *d)
{
    pthread_mutex_lock(&self->sync->mu);
    self->live = d;
    pthread_mutex_unlock(&self->sync->mu);
}

/* Runs ws[which[0..m)] on one loop. On a thread of the threads runtime
 * (self), the loop is set up first and the agents start when every thread
 * is ready; *t0 (the phase's release, which offsets count from) is read
 * after the barrier. */
static int run_on_loop(wf_agent *ws, int *which, int m, const uint64_t *t0,
                       thr *self, char *err, size_t errlen)
{
    pb_uvdrv d;
    if (pb_uvdrv_init(&d, err, errlen) != 0) {
        if (self)
            pthread_barrier_wait(&self->sync->barrier); /* or the others wait forever */
        return -1;
    }
    loop_set ls = {ws, which, m};
    d.on_done = on_transfer_done;
    d.user = &ls;
    int rc = 0;
    if (self) {
        if (uv_async_init(&d.loop, &self->stop, on_remote_stop) != 0) {
            snprintf(err, errlen, "cannot create a uv_async for the workflow thread");
            rc = -1;
        } else {
            self->stop.data = &d;
            thr_set_live(self, &d);
        }
    }
    for (int i = 0; i < m && rc == 0; i++)
        if (agent_setup(&ws[which[i]], &d) != 0) {
            snprintf(err, errlen, "%s", ws[which[i]].err);
            rc = -1;
        }
    if (self)
        pthread_barrier_wait(&self->sync->barrier);
    if (rc == 0) {
        for (int i = 0; i < m; i++)
            agent_launch(&ws[which[i]], *t0);
        rc = pb_uvdrv_run(&d);
    }
    for (int i = 0; i < m; i++) {
        wf_agent *w = &ws[which[i]];
        if (w->cpu_running) {
            atomic_store(&w->cpu_stop, 1);
            pthread_join(w->cpu_tid, NULL);
            w->cpu_running = 0;
        }
    }
    if (self)
        thr_set_live(self, NULL); /* no remote stop once closing */
    pb_uvdrv_close(&d);
    /* Steps cut short by Ctrl-C still get an end for the record. */
    for (int i = 0; i < m; i++) {
        wf_agent *w = &ws[which[i]];
        for (int k = 0; k < w->n_steps; k++)
            if (w->recs[k].start >= 0 && w->recs[k].end < 0)
                w->recs[k].end = rel_now(w);
    }
    return rc;
}

static void *thr_main(void *arg)
{
    thr *t = arg;
    t->rc = run_on_loop(t->ws, &t->which, 1, t->t0, t, t->err, sizeof t->err);
    pthread_mutex_lock(&t->sync->mu);
    t->sync->finished++;
    pthread_cond_signal(&t->sync->cv);
    pthread_mutex_unlock(&t->sync->mu);
    return NULL;
}

/* Waits for every workflow thread; meanwhile forwards Ctrl-C. */
static void thr_wait(thr *ts, int started, thr_sync *sy)
{
    pthread_mutex_lock(&sy->mu);
    while (sy->finished < started) {
        struct timespec tw;
        clock_gettime(CLOCK_REALTIME, &tw);
        tw.tv_nsec += 20 * 1000000L;
        if (tw.tv_nsec >= 1000000000L) {
            tw.tv_sec++;
            tw.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sy->cv, &sy->mu, &tw);
        if (pb_signals_interrupted())
            for (int i = 0; i < started; i++)
                if (ts[i].live)
                    uv_async_send(&ts[i].stop);
    }
    pthread_mutex_unlock(&sy->mu);
}

static cJSON *step_json(const wf_agent *w, int k)
{
    const step_rec *r = &w->recs[k];
    const pb_step *s = step_of(w, k);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "agent", w->a->id);
    cJSON_AddNumberToObject(j, "step", k);
    int llm = !s || s->kind == PB_STEP_LLM;
    cJSON_AddStringToObject(j, "kind", llm ? "llm" : "work");
    cJSON_AddItemToObject(j, "start_ns", r->start >= 0 ? cJSON_CreateNumber((double)r->start) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "end_ns", r->end >= 0 ? cJSON_CreateNumber((double)r->end) : cJSON_CreateNull());
    if (llm && r->t) {
        const pb_transfer *t = r->t;
        char dig[32];
        const char *prompt = r->prompt ? r->prompt : (s ? s->prompt : w->a->prompt);
        cJSON_AddStringToObject(j, "request_id", t->request_id);
        cJSON_AddBoolToObject(j, "ok", t->ok);
        cJSON_AddItemToObject(j, "sample_seed", r->seed >= 0 ? cJSON_CreateNumber((double)r->seed) : cJSON_CreateNull());
        cJSON_AddStringToObject(j, "prompt_digest", pb_hash_digest(prompt, strlen(prompt), dig, sizeof dig));
        cJSON_AddNumberToObject(j, "prompt_bytes", (double)strlen(prompt));
        if (r->prompt)
            cJSON_AddStringToObject(j, "prompt", r->prompt);
        size_t kept;
        uint64_t total;
        const char *text = pb_transfer_text(t, &kept, &total);
        size_t keep = pb_utf8_cap(text, kept, PB_PREVIOUS_MAX_BYTES);
        char *resp = malloc(keep + 1);
        if (!resp)
            abort();
        memcpy(resp, text, keep);
        resp[keep] = '\0';
        cJSON_AddStringToObject(j, "response", resp);
        free(resp);
        cJSON_AddNumberToObject(j, "response_bytes", (double)total);
        cJSON_AddBoolToObject(j, "response_truncated", keep < total);
    } else if (!llm) {
        cJSON_AddNumberToObject(j, "seconds", r->planned_s);
        cJSON_AddBoolToObject(j, "cpu", s->cpu);
        if (s->cpu)
            cJSON_AddNumberToObject(j, "cpu_s", r->cpu_s);
    }
    return j;
}

int pb_workflow_run(const pb_wf_phase *ph, pb_wf_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->start_ns = res->end_ns = -1;
    int n = ph->n;
    wf_agent *ws = calloc((size_t)n, sizeof *ws);
    int *which = calloc((size_t)n, sizeof *which);
    if (!ws || !which)
        abort();
    for (int i = 0; i < n; i++) {
        wf_agent *w = &ws[i];
        w->ph = ph;
        w->a = ph->agents[i];
        w->idx = i;
        w->n_steps = w->a->n_steps > 0 ? w->a->n_steps : 1;
        w->recs = calloc((size_t)w->n_steps, sizeof *w->recs);
        if (!w->recs)
            abort();
        for (int k = 0; k < w->n_steps; k++)
            w->recs[k].start = w->recs[k].end = -1, w->recs[k].seed = -1;
        which[i] = i;
    }
    uint64_t t0 = uv_hrtime();
    int rc = 0;
    if (ph->driver == PB_DRIVER_UV) {
        rc = run_on_loop(ws, which, n, &t0, NULL, err, errlen);
    } else if (ph->driver == PB_DRIVER_SERIAL) {
        /* The control: whole workflows one after another; an agent starts
         * at its arrival or when the one before it ended, whichever is
         * later. */
        for (int i = 0; i < n && rc == 0; i++)
            rc = run_on_loop(ws, &which[i], 1, &t0, NULL, err, errlen);
    } else {
        thr *ts = calloc((size_t)n, sizeof *ts);
        if (!ts)
            abort();
        thr_sync sy;
        pthread_mutex_init(&sy.mu, NULL);
        pthread_cond_init(&sy.cv, NULL);
        sy.finished = 0;
        pthread_barrier_init(&sy.barrier, NULL, (unsigned)n + 1);
        /* As driver_threads: 256 agents x the default 8 MiB stack would
         * reserve 2 GiB of address space. */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 512 * 1024);
        int started = 0;
        for (int i = 0; i < n; i++) {
            ts[i] = (thr){.ws = ws, .which = i, .sync = &sy, .t0 = &t0};
            if (pthread_create(&ts[i].tid, &attr, thr_main, &ts[i]) != 0) {
                /* The barrier counts every thread: without all of them the
                 * started ones would wait forever. */
                fprintf(stderr, "collect: cannot start workflow thread %d of %d (raise `ulimit -u`?)\n",
                        i + 1, n);
                exit(1);
            }
            started++;
        }
        t0 = uv_hrtime();
        pthread_barrier_wait(&sy.barrier);
        thr_wait(ts, started, &sy);
        for (int i = 0; i < started; i++) {
            pthread_join(ts[i].tid, NULL);
            if (ts[i].rc < 0 && rc >= 0) {
                snprintf(err, errlen, "%s", ts[i].err);
                rc = -1;
            } else if (ts[i].rc > 0 && rc == 0) {
                rc = 1;
            }
        }
        pthread_barrier_destroy(&sy.barrier);
        pthread_cond_destroy(&sy.cv);
        pthread_mutex_destroy(&sy.mu);
        pthread_attr_destroy(&attr);
        free(ts);
    }
    res->release_ns = (int64_t)(t0 - ph->origin);
    if (rc == 0) {
        res->requests = cJSON_CreateArray();
        res->steps = cJSON_CreateArray();
        res->agents = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            wf_agent *w = &ws[i];
            int64_t s = -1, e = -1;
            for (int k = 0; k < w->n_steps; k++) {
                step_rec *r = &w->recs[k];
                if (r->start >= 0 && (s < 0 || r->start < s))
                    s = r->start;
                if (r->end > e)
                    e = r->end;
                if (r->t) {
                    pb_transfer_settle(r->t);
                    cJSON *rj = pb_transfer_to_json(r->t);
                    cJSON_AddNumberToObject(rj, "step", k);
                    cJSON_AddItemToArray(res->requests, rj);
                    if (!r->t->ok && !res->invalid) {
                        size_t l = strlen(r->t->error) + strlen(w->a->id) + 32;
                        res->invalid = malloc(l);
                        snprintf(res->invalid, l, "agent %s step %d: %s", w->a->id, k, r->t->error);
                    }
                }
                if (r->start >= 0 || r->t)
                    cJSON_AddItemToArray(res->steps, step_json(w, k));
            }
            if (w->failed && !res->invalid) {
                size_t l = strlen(w->err) + strlen(w->a->id) + 48;
                res->invalid = malloc(l);
                snprintf(res->invalid, l, "agent %s step %d: %s", w->a->id, w->cur,
                         w->err[0] ? w->err : "failed");
            }
            if (s >= 0 && (res->start_ns < 0 || s < res->start_ns))
                res->start_ns = s;
            if (e > res->end_ns)
                res->end_ns = e;
            cJSON *aj = cJSON_CreateObject();
            cJSON_AddStringToObject(aj, "agent", w->a->id);
            cJSON_AddNumberToObject(aj, "offset_ns", ph->offsets_ns ? (double)ph->offsets_ns[i] : 0.0);
            cJSON_AddNumberToObject(aj, "start_ns", (double)s);
            cJSON_AddNumberToObject(aj, "end_ns", (double)e);
            cJSON_AddNumberToObject(aj, "steps_done", w->cur);
            cJSON_AddItemToArray(res->agents, aj);
        }
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < ws[i].n_steps; k++) {
            pb_transfer_free(ws[i].recs[k].t);
            free(ws[i].recs[k].prompt);
        }
        free(ws[i].recs);
    }
    free(ws);
    free(which);
    return rc;
}

void pb_wf_result_free(pb_wf_result *res)
{
    cJSON_Delete(res->requests);
    cJSON_Delete(res->steps);
    cJSON_Delete(res->agents);
    free(res->invalid);
    memset(res, 0, sizeof *res);
}
