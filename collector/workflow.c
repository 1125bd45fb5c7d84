/* workflow: the engine's agents and their records (see workflow.h). */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "driver.h"
#include "pb_hash.h"
#include "pb_mem.h"
#include "pb_text.h"
#include "signals.h"

typedef struct step_rec {
    int64_t start, end;       /* relative to origin, -1 = not reached */
    pb_transfer *t;           /* llm */
    char *prompt;             /* llm: the prompt sent when it was filled */
    long seed;                /* llm: sample seed sent, or -1 */
    double planned_s;         /* work: seconds asked for (after scaling) */
    double cpu_s;             /* work with cpu: CPU time burnt */
} step_rec;

struct pb_wf_agent {
    const pb_wf_phase *ph;
    const pb_agent_spec *a;
    int idx;                  /* in ph->agents */
    int n_steps;              /* a->n_steps, or 1 for a plain agent */
    int plain;                /* one request: no steps, or ph->plain */
    int cur;                  /* step running or next */
    step_rec *recs;
    pb_agent_spec req;        /* the llm step's request (borrowed fields
                                 except prompt) */
    pb_transfer *first;       /* step 0's request, built before the release */
    void *user;               /* the driver's */
    int failed;
    char err[256];
};

typedef pb_wf_agent wf_agent;

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
    return w->plain ? NULL : &w->a->steps[k];
}

pb_wf_next pb_wf_agent_next(const pb_wf_agent *w)
{
    if (w->failed || w->cur >= w->n_steps || pb_signals_interrupted())
        return PB_WF_DONE;
    const pb_step *s = step_of(w, w->cur);
    if (!s || s->kind == PB_STEP_LLM)
        return PB_WF_LLM;
    return s->cpu ? PB_WF_CPU : PB_WF_IDLE;
}

int64_t pb_wf_agent_offset(const pb_wf_agent *w)
{
    int64_t off = w->ph->offsets_ns ? w->ph->offsets_ns[w->idx] : 0;
    return off > 0 ? off : 0;
}

void pb_wf_agent_set_user(pb_wf_agent *w, void *user) { w->user = user; }
const pb_agent_spec *pb_wf_agent_spec(const pb_wf_agent *w) { return w->a; }
const char *pb_wf_agent_endpoint(const pb_wf_agent *w) { return w->ph->ctx->urls[w->a->endpoint_index]; }
long pb_wf_agent_seed(const pb_wf_agent *w) { return w->ph->seeds[w->idx]; }
const pb_transfer *pb_wf_agent_request(const pb_wf_agent *w) { return w->first; }

cJSON *pb_wf_agent_steps_json(const pb_wf_agent *w)
{
    if (w->plain)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < w->n_steps; k++) {
        const pb_step *s = &w->a->steps[k];
        cJSON *j = cJSON_CreateObject(), *b;
        if (s->kind == PB_STEP_LLM) {
            b = cJSON_AddObjectToObject(j, "llm");
            cJSON_AddStringToObject(b, "api", s->api ? s->api : w->a->api);
            cJSON_AddStringToObject(b, "prompt", s->prompt);
            cJSON *opt = cJSON_Duplicate(s->options, 1);
            long seed = pb_workflow_step_seed(w->ph->seeds[w->idx], k);
            if (seed >= 0 && !cJSON_GetObjectItemCaseSensitive(opt, "seed"))
                cJSON_AddNumberToObject(opt, "seed", (double)seed);
            cJSON_AddItemToObject(b, "options", opt);
        } else {
            const double *ws = w->ph->work_s[w->idx];
            b = cJSON_AddObjectToObject(j, "work");
            cJSON_AddNumberToObject(b, "seconds", (ws ? ws[k] : 0) / w->ph->work_divisor);
            cJSON_AddBoolToObject(b, "cpu", s->cpu);
        }
        cJSON_AddItemToArray(arr, j);
    }
    return arr;
}
void *pb_wf_agent_user(const pb_wf_agent *w) { return w->user; }

/* Builds step k's request (k == w->cur, or 0 before the release). */
static pb_transfer *build_llm(wf_agent *w, int k)
{
    const pb_step *s = step_of(w, k);
    step_rec *r = &w->recs[k];
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
            for (int j = k - 1; j >= 0; j--)
                if (w->recs[j].t) {
                    size_t kept;
                    prev = pb_transfer_text(w->recs[j].t, &kept, NULL);
                    plen = pb_text_utf8_cap(prev, kept, PB_PREVIOUS_MAX_BYTES);
                    break;
                }
            r->prompt = pb_steps_fill_prompt(s->prompt, prev, plen);
            w->req.prompt = r->prompt;
        }
    }
    r->seed = pb_workflow_step_seed(ph->seeds[w->idx], k);
    /* A replayed baseline sends what the program sent (the same JSON), on
     * the API it used (its first request; a workflow's later steps are
     * built here as for any runtime). */
    const cJSON *rp = k == 0 ? cJSON_GetObjectItemCaseSensitive(ph->replay, w->a->id) : NULL;
    const cJSON *rp_api = cJSON_GetObjectItemCaseSensitive(rp, "api");
    const cJSON *rp_body = cJSON_GetObjectItemCaseSensitive(rp, "body");
    if (cJSON_IsString(rp_api) && cJSON_IsObject(rp_body))
        w->req.api = rp_api->valuestring;
    /* 4 bytes over the cap so that the cut can find a character boundary
     * at or below it. */
    size_t keep = ph->keep_text ? PB_PREVIOUS_MAX_BYTES + 4 : 0;
    pb_transfer *t = pb_run_transfer_new(ph->ctx, ph->rt, &w->req, ph->num_predict, r->seed, keep,
                                         ph->origin, w->err, sizeof w->err);
    if (t && cJSON_IsString(rp_api) && cJSON_IsObject(rp_body))
        pb_transfer_set_body(t, rp_body);
    return t;
}

pb_transfer *pb_wf_llm_begin(pb_wf_agent *w)
{
    step_rec *r = &w->recs[w->cur];
    pb_transfer *t = w->cur == 0 && w->first ? w->first : build_llm(w, w->cur);
    if (w->cur == 0)
        w->first = NULL;
    if (!t) {
        w->failed = 1;
        return NULL;
    }
    r->t = t;
    r->start = rel_now(w);
    return t;
}

void pb_wf_llm_end(pb_wf_agent *w)
{
    step_rec *r = &w->recs[w->cur];
    pb_transfer *t = r->t;
    r->end = t->t_end >= 0 ? t->t_end : rel_now(w);
    if (t->aborted) {
        w->failed = 1;
    } else if (w->cur + 1 < w->n_steps) {
        /* The next step needs the answer now: judge the response here
         * rather than after the phase (this agent's own time, as a real
         * agent would spend it reading its answer). The last step's is
         * judged after the phase, outside its timing. */
        pb_transfer_settle(t);
        if (!t->ok)
            w->failed = 1;
    }
    w->cur++;
}

double pb_wf_work_begin(pb_wf_agent *w)
{
    step_rec *r = &w->recs[w->cur];
    r->start = rel_now(w);
    const double *ws = w->ph->work_s[w->idx];
    r->planned_s = (ws ? ws[w->cur] : 0) / w->ph->work_divisor;
    return r->planned_s;
}

uint64_t pb_wf_work_due(const pb_wf_agent *w)
{
    const step_rec *r = &w->recs[w->cur];
    return w->ph->origin + (uint64_t)r->start + (uint64_t)(r->planned_s * 1e9 + 0.5);
}

void pb_wf_work_end(pb_wf_agent *w, double cpu_s)
{
    step_rec *r = &w->recs[w->cur];
    r->end = rel_now(w);
    r->cpu_s = cpu_s;
    w->cur++;
}

void pb_wf_agent_stop(pb_wf_agent *w)
{
    for (int k = 0; k < w->n_steps; k++)
        if (w->recs[k].start >= 0 && w->recs[k].end < 0)
            w->recs[k].end = rel_now(w);
}

double pb_wf_burn_cpu(double seconds, const atomic_int *stop)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    double t0 = (double)ts.tv_sec + ts.tv_nsec * 1e-9, t = t0;
    volatile unsigned long x = 0;
    while (t - t0 < seconds && !(stop && atomic_load(stop)) && !pb_signals_interrupted()) {
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i * 2654435761u;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        t = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
    }
    return t - t0;
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
        size_t keep = pb_text_utf8_cap(text, kept, PB_PREVIOUS_MAX_BYTES);
        char *resp = pb_mem_alloc(keep + 1);
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
    pb_wf_agent **wp = calloc((size_t)n, sizeof *wp);
    if (!ws || !wp)
        PB_MEM_OOM();
    int rc = 0;
    for (int i = 0; i < n; i++) {
        wf_agent *w = &ws[i];
        w->ph = ph;
        w->a = ph->agents[i];
        w->idx = i;
        w->plain = ph->plain || w->a->n_steps == 0;
        w->n_steps = w->plain ? 1 : w->a->n_steps;
        w->recs = pb_mem_calloc((size_t)w->n_steps, sizeof *w->recs);
        for (int k = 0; k < w->n_steps; k++)
            w->recs[k].start = w->recs[k].end = -1, w->recs[k].seed = -1;
        wp[i] = w;
        /* The first request is built before the release (it cannot use
         * {{previous}}): building it is the client's set-up, not part of
         * the agents' start skew. A request that cannot be built stops the
         * run before anything is sent. */
        const pb_step *s0 = step_of(w, 0);
        if (rc == 0 && (!s0 || s0->kind == PB_STEP_LLM) && !(w->first = build_llm(w, 0))) {
            snprintf(err, errlen, "%s", w->err);
            rc = -1;
        }
    }
    uint64_t t0 = uv_hrtime();
    cJSON *recorded = NULL; /* exec: the program's requests */
    if (rc == 0) {
        switch (ph->driver) {
        case PB_DRIVER_THREADS:
            rc = pb_driver_threads_run(wp, n, &t0, err, errlen);
            break;
        case PB_DRIVER_SERIAL:
            rc = pb_driver_serial_run(wp, n, &t0, err, errlen);
            break;
        case PB_DRIVER_EXEC:
            rc = pb_driver_exec_run(ph, wp, n, &t0, &res->process, &recorded, &res->invalid, err,
                                    errlen);
            break;
        default:
            rc = pb_driver_uv_run(wp, n, &t0, err, errlen);
            break;
        }
    }
    res->release_ns = (int64_t)(t0 - ph->origin);
    if (rc == 0) {
        res->requests = cJSON_CreateArray();
        if (ph->workflow) {
            res->steps = cJSON_CreateArray();
            res->agents = cJSON_CreateArray();
        }
        for (int i = 0; i < n; i++) {
            wf_agent *w = &ws[i];
            int64_t s = -1, e = -1;
            for (int k = 0; k < w->n_steps; k++) {
                step_rec *r = &w->recs[k];
                /* Workflow form: an agent spans its steps; plain form: the
                 * phase spans its requests as libcurl ran them. */
                int64_t rs = ph->workflow || !r->t ? r->start : r->t->t_start;
                int64_t re = ph->workflow || !r->t ? r->end : r->t->t_end;
                if (rs >= 0 && (s < 0 || rs < s))
                    s = rs;
                if (re > e)
                    e = re;
                if (r->t) {
                    /* Responses are judged after the phase, outside its
                     * timing (a no-op for those judged already). */
                    pb_transfer_settle(r->t);
                    cJSON *rj = pb_transfer_to_json(r->t);
                    if (ph->workflow)
                        cJSON_AddNumberToObject(rj, "step", k);
                    cJSON_AddItemToArray(res->requests, rj);
                    if (!r->t->ok && !res->invalid) {
                        size_t l = strlen(r->t->error) + strlen(w->a->id) + 32;
                        res->invalid = malloc(l);
                        if (ph->workflow)
                            snprintf(res->invalid, l, "agent %s step %d: %s", w->a->id, k, r->t->error);
                        else
                            snprintf(res->invalid, l, "agent %s: %s", w->a->id, r->t->error);
                    }
                }
                if (ph->workflow && (r->start >= 0 || r->t))
                    cJSON_AddItemToArray(res->steps, step_json(w, k));
                if (!ph->workflow && r->t) {
                    /* Recorded: freed now, so the next request's record
                     * reuses its memory (chunk list, libcurl handle)
                     * instead of adding to the run's peak. */
                    pb_transfer_free(r->t);
                    r->t = NULL;
                }
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
            if (ph->workflow) {
                cJSON *aj = cJSON_CreateObject();
                cJSON_AddStringToObject(aj, "agent", w->a->id);
                cJSON_AddNumberToObject(aj, "offset_ns", ph->offsets_ns ? (double)ph->offsets_ns[i] : 0.0);
                cJSON_AddNumberToObject(aj, "start_ns", (double)s);
                cJSON_AddNumberToObject(aj, "end_ns", (double)e);
                cJSON_AddNumberToObject(aj, "steps_done", w->cur);
                cJSON_AddItemToArray(res->agents, aj);
            }
        }
    }
    if (rc == 0 && recorded) {
        /* A program's requests, recorded by the proxy; the first failed
         * one makes the run invalid as any failed request does. */
        cJSON_Delete(res->requests);
        res->requests = recorded;
        recorded = NULL;
        const cJSON *q;
        cJSON_ArrayForEach(q, res->requests) {
            const cJSON *ok = cJSON_GetObjectItemCaseSensitive(q, "ok");
            const cJSON *ag = cJSON_GetObjectItemCaseSensitive(q, "agent");
            const cJSON *er = cJSON_GetObjectItemCaseSensitive(q, "error");
            if (!res->invalid && !cJSON_IsTrue(ok)) {
                size_t l = 64 + (cJSON_IsString(ag) ? strlen(ag->valuestring) : 0) +
                           (cJSON_IsString(er) ? strlen(er->valuestring) : 0);
                res->invalid = pb_mem_alloc(l);
                snprintf(res->invalid, l, "agent %s: %s", cJSON_IsString(ag) ? ag->valuestring : "?",
                         cJSON_IsString(er) ? er->valuestring : "request failed");
            }
        }
    }
    cJSON_Delete(recorded);
    if (rc == 0 && res->process) {
        /* A program's phase spans its requests on the wire, as the proxy
         * saw them (first t_start_ns .. last t_end_ns), exactly as a
         * built-in driver's phase does: the solo and concurrent durations
         * analyze divides must be measured the same way. Spanning the
         * process instead put an interpreter's start-up into the
         * concurrent wall but not into the solo requests (a program whose
         * two requests overlapped read 0.96x). The process span stays in
         * process.start_ns/end_ns; it is the phase's span only when the
         * proxy recorded no request (such a run is invalid). */
        int64_t s = -1, e = -1;
        const cJSON *q;
        cJSON_ArrayForEach(q, res->requests) {
            const cJSON *qs = cJSON_GetObjectItemCaseSensitive(q, "t_start_ns");
            const cJSON *qe = cJSON_GetObjectItemCaseSensitive(q, "t_end_ns");
            if (cJSON_IsNumber(qs) && qs->valuedouble >= 0 && (s < 0 || (int64_t)qs->valuedouble < s))
                s = (int64_t)qs->valuedouble;
            if (cJSON_IsNumber(qe) && (int64_t)qe->valuedouble > e)
                e = (int64_t)qe->valuedouble;
        }
        if (s < 0 || e < s) {
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(res->process, "start_ns");
            const cJSON *pe = cJSON_GetObjectItemCaseSensitive(res->process, "end_ns");
            s = cJSON_IsNumber(ps) ? (int64_t)ps->valuedouble : -1;
            e = cJSON_IsNumber(pe) ? (int64_t)pe->valuedouble : -1;
        }
        res->start_ns = s;
        res->end_ns = e;
    }
    for (int i = 0; i < n; i++) {
        pb_transfer_free(ws[i].first);
        for (int k = 0; k < ws[i].n_steps; k++) {
            pb_transfer_free(ws[i].recs[k].t);
            free(ws[i].recs[k].prompt);
        }
        free(ws[i].recs);
    }
    free(ws);
    free(wp);
    return rc;
}

void pb_wf_result_free(pb_wf_result *res)
{
    cJSON_Delete(res->requests);
    cJSON_Delete(res->steps);
    cJSON_Delete(res->agents);
    cJSON_Delete(res->process);
    free(res->invalid);
    memset(res, 0, sizeof *res);
}
