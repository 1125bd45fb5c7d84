/* pb_derive: see pb_derive.h for the why; definitions in report/README.md. */
#include "pb_derive.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pb_stats.h"

static double ms(double a_s, double b_s) { return (b_s - a_s) * 1000.0; }

/* Mean of the finite values in x[0..n); NAN when there is none. */
static double mean_finite(const double *x, size_t n) {
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) { s += x[i]; k++; }
    return k ? s / (double)k : NAN;
}

static double *field(pb_derive_req *r, size_t off) {
    return (double *)((char *)r + off);
}

static double run_wall(const pb_run *run) {
    if (isfinite(run->wall_s) && run->wall_s > 0) return run->wall_s;
    double w = run->conc_end - run->conc_start;
    return (isfinite(w) && w > 0) ? w : NAN;
}

void pb_derive_request(const pb_request *rq, pb_derive_req *o) {
    o->connect_ms = ms(rq->t_start, rq->t_connected);
    o->wait_ms = ms(rq->t_connected, rq->t_first_byte);
    o->first_token_gap_ms = ms(rq->t_first_byte, rq->t_first_token);
    o->load_ms = rq->load_ms;
    o->prompt_eval_ms = rq->prompt_eval_ms;
    o->server_queue_ms = rq->queue_ms;
    /* The loader may not have derived it; the definition is the same. */
    if (!isfinite(o->server_queue_ms))
        o->server_queue_ms = rq->server_total_ms - rq->load_ms -
                             rq->prompt_eval_ms - rq->eval_ms;
    o->server_rate = rq->server_rate;
    if (!isfinite(o->server_rate) && rq->eval_ms > 0)
        o->server_rate = rq->tokens / (rq->eval_ms / 1000.0);
    /* Client decode rate: the first token opens the clock, so tokens-1
     * intervals elapse until the last chunk (the final statistics line,
     * which Ollama sends right after the last token). */
    o->client_rate = NAN;
    if (rq->n_chunks > 0 && isfinite(rq->t_first_token) && rq->tokens > 1) {
        double span = rq->chunks[rq->n_chunks - 1].t_s - rq->t_first_token;
        if (span > 0) o->client_rate = (rq->tokens - 1) / span;
    }
}

typedef struct edge { double t; int d; } edge;

static int edge_cmp(const void *a, const void *b) {
    const edge *x = a, *y = b;
    if (x->t < y->t) return -1;
    if (x->t > y->t) return 1;
    /* Ends before starts at the same instant: touching intervals do not
     * overlap (a zero-length overlap would not change the measure anyway). */
    return x->d - y->d;
}

double pb_derive_overlap(const double *starts, const double *ends, size_t n,
                         double t0, double t1) {
    if (!(t1 > t0)) return NAN;
    edge *e = malloc((2 * n + 1) * sizeof *e);
    if (!e) return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        /* fmax/fmin return the other operand for a NAN: test first. */
        if (!isfinite(starts[i]) || !isfinite(ends[i])) continue;
        double a = fmax(starts[i], t0), b = fmin(ends[i], t1);
        if (b <= a) continue;
        e[m++] = (edge){a, +1};
        e[m++] = (edge){b, -1};
    }
    qsort(e, m, sizeof *e, edge_cmp);
    /* Sweep: accumulate the length of every stretch where >= 2 are open. */
    double covered = 0;
    int open = 0;
    for (size_t i = 0; i < m; i++) {
        if (open >= 2 && i > 0) covered += e[i].t - e[i - 1].t;
        open += e[i].d;
    }
    free(e);
    return covered / (t1 - t0);
}

/* Inter-chunk gaps (ms) of the concurrent requests, pooled, into p50/90/99. */
static void derive_gaps(const pb_run *run, pb_derived *o) {
    size_t total = 0;
    for (size_t i = 0; i < run->n_agents; i++) {
        size_t c = run->agents[i].conc.n_chunks;
        if (c > 1) total += c - 1;
    }
    o->gap_p50_ms = o->gap_p90_ms = o->gap_p99_ms = NAN;
    if (total == 0) return;
    double *g = malloc(total * sizeof *g);
    if (!g) return;
    size_t k = 0;
    for (size_t i = 0; i < run->n_agents; i++) {
        const pb_request *rq = &run->agents[i].conc;
        for (size_t j = 1; j < rq->n_chunks; j++)
            g[k++] = ms(rq->chunks[j - 1].t_s, rq->chunks[j].t_s);
    }
    o->gap_p50_ms = pb_stats_quantile(g, k, 0.50);
    o->gap_p90_ms = pb_stats_quantile(g, k, 0.90);
    o->gap_p99_ms = pb_stats_quantile(g, k, 0.99);
    free(g);
}

size_t pb_derive_wb_lags(const pb_run *run, double **out) {
    size_t total = 0, k = 0;
    *out = NULL;
    for (size_t i = 0; i < run->n_agents; i++)
        if (run->agents[i].conc.written_s)
            total += run->agents[i].conc.n_chunks;
    if (total == 0 || !(*out = malloc(total * sizeof **out))) return 0;
    for (size_t i = 0; i < run->n_agents; i++) {
        const pb_request *rq = &run->agents[i].conc;
        for (size_t j = 0; rq->written_s && j < rq->n_chunks; j++)
            if (isfinite(rq->written_s[j]) && isfinite(rq->chunks[j].t_s))
                (*out)[k++] = ms(rq->chunks[j].t_s, rq->written_s[j]);
    }
    if (k == 0) {
        free(*out);
        *out = NULL;
    }
    return k;
}

/* Process and wire spans of an exec runtime's run, and its lags. */
static void derive_exec(const pb_run *run, double wall, double solo_sum, int solo_ok,
                        pb_derived *o) {
    o->process_s = o->wire_s = o->process_overhead_s = NAN;
    o->solo_process_s = o->solo_wire_s = NAN;
    o->wb_lag_p50_ms = o->wb_lag_p99_ms = NAN;
    if (run->measured_by == PB_BY_DRIVER) return;
    o->process_s = run->conc_process_s;
    o->wire_s = wall;
    o->process_overhead_s = o->process_s - o->wire_s;
    o->solo_process_s = run->solo_process_s;
    o->solo_wire_s = solo_ok ? solo_sum : NAN;
    double *lag;
    size_t k = pb_derive_wb_lags(run, &lag);
    if (k) {
        o->wb_lag_p50_ms = pb_stats_quantile(lag, k, 0.50);
        o->wb_lag_p99_ms = pb_stats_quantile(lag, k, 0.99);
    }
    free(lag);
}

void pb_derive_run(const pb_run *run, pb_derived *o) {
    size_t n = run->n_agents;
    double wall = run_wall(run);
    memset(o, 0, sizeof *o);
    o->n_agents = n;
    o->ref_seq_s = o->ref_speedup = o->ref_efficiency = NAN;

    /* Sums over agents; any missing term makes the sum unusable (a partial
     * sum would silently understate the sequential time). */
    double conc_sum = 0, solo_sum = 0, conc_tok = 0, solo_tok = 0;
    int conc_ok = n > 0, solo_ok = n > 0, tok_ok = n > 0;
    double tmin = INFINITY, tmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const pb_agent *a = &run->agents[i];
        conc_sum += a->conc.duration_s;
        if (!isfinite(a->conc.duration_s)) conc_ok = 0;
        if (a->has_solo && isfinite(a->solo.duration_s) && a->solo.duration_s > 0)
            solo_sum += a->solo.duration_s;
        else
            solo_ok = 0;
        if (isfinite(a->conc.tokens) && a->has_solo && isfinite(a->solo.tokens)) {
            conc_tok += a->conc.tokens;
            solo_tok += a->solo.tokens;
        } else {
            tok_ok = 0;
        }
        if (isfinite(a->conc.t_start)) {
            tmin = fmin(tmin, a->conc.t_start);
            tmax = fmax(tmax, a->conc.t_start);
        }
    }

    /* Estimated: the file's own figure when it states one (the original
     * study's tables are regenerated from it), else computed. */
    o->est_speedup = run->est_speedup;
    o->est_efficiency = run->est_efficiency;
    if (!isfinite(o->est_efficiency)) {
        o->est_speedup = (conc_ok && isfinite(wall)) ? conc_sum / wall : NAN;
        o->est_efficiency = o->est_speedup / (double)(n ? n : 1) * 100.0;
    }
    if (!isfinite(o->est_speedup) && isfinite(o->est_efficiency))
        o->est_speedup = o->est_efficiency / 100.0 * (double)n;

    o->meas_speedup = (solo_ok && isfinite(wall)) ? solo_sum / wall
                                                  : run->meas_speedup;
    o->meas_efficiency = isfinite(o->meas_speedup) && n
                             ? o->meas_speedup / (double)n * 100.0
                             : NAN;

    o->tok_speedup = NAN;
    if (tok_ok && solo_ok && isfinite(wall) && solo_tok > 0)
        o->tok_speedup = (conc_tok / wall) / (solo_tok / solo_sum);

    o->start_skew_ms = (n >= 2 && tmax >= tmin) ? ms(tmin, tmax) : NAN;
    derive_exec(run, wall, solo_sum, solo_ok, o);

    /* Overlap: an agent is "streaming" from its first token (first byte when
     * the token time is missing) to its end. */
    o->overlap = NAN;
    if (n > 0 && isfinite(run->conc_start) && isfinite(run->conc_end)) {
        double *s = malloc(2 * n * sizeof *s);
        if (s) {
            double *e = s + n;
            for (size_t i = 0; i < n; i++) {
                const pb_request *rq = &run->agents[i].conc;
                s[i] = isfinite(rq->t_first_token) ? rq->t_first_token
                                                   : rq->t_first_byte;
                e[i] = rq->t_end;
            }
            o->overlap = pb_derive_overlap(s, e, n, run->conc_start,
                                           run->conc_end);
            free(s);
        }
    }

    /* Per-request split, averaged over the agents of the concurrent phase. */
    static const size_t off[] = {
        offsetof(pb_derive_req, connect_ms),
        offsetof(pb_derive_req, wait_ms),
        offsetof(pb_derive_req, server_queue_ms),
        offsetof(pb_derive_req, load_ms),
        offsetof(pb_derive_req, prompt_eval_ms),
        offsetof(pb_derive_req, first_token_gap_ms),
        offsetof(pb_derive_req, client_rate),
        offsetof(pb_derive_req, server_rate),
    };
    enum { F = sizeof off / sizeof off[0] };
    double *vals = n ? malloc(n * F * sizeof *vals) : NULL;
    for (size_t f = 0; f < F; f++) *field(&o->req, off[f]) = NAN;
    if (vals) {
        for (size_t i = 0; i < n; i++) {
            pb_derive_req r;
            pb_derive_request(&run->agents[i].conc, &r);
            for (size_t f = 0; f < F; f++) vals[f * n + i] = *field(&r, off[f]);
        }
        for (size_t f = 0; f < F; f++)
            *field(&o->req, off[f]) = mean_finite(vals + f * n, n);
        free(vals);
    }
    derive_gaps(run, o);
}

/* A valid run of the reference: its config's slot, run index and wall. */
typedef struct ref_run { size_t t; int run_index; size_t pos; double wall; } ref_run;

static int ref_run_cmp(const void *a, const void *b) {
    const ref_run *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    if (x->run_index != y->run_index) return x->run_index < y->run_index ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

size_t pb_derive_dataset(const pb_dataset *ds, const char *ref_runtime,
                         size_t drop_first, pb_derived *out) {
    for (size_t i = 0; i < ds->n_runs; i++) pb_derive_run(&ds->runs[i], &out[i]);
    if (!ref_runtime) return 0;

    /* The reference runtime's mean wall time per config, over the runs
     * --drop-first keeps (the first drop_first valid runs of each config by
     * run index, as pb_analysis drops them). Configs are few (tens), runs
     * many: a linear table of configs, one sort of the reference's runs. */
    typedef struct { const char *config; double sum; size_t k; } ref_mean;
    ref_mean *tab = NULL;
    ref_run *rr = malloc((ds->n_runs + 1) * sizeof *rr);
    size_t nt = 0, nr = 0;
    for (size_t i = 0; rr && i < ds->n_runs; i++) {
        const pb_run *q = &ds->runs[i];
        if (!q->valid || !q->runtime || !q->config || strcmp(q->runtime, ref_runtime) != 0)
            continue;
        size_t t = 0;
        while (t < nt && strcmp(tab[t].config, q->config) != 0) t++;
        if (t == nt) {
            ref_mean *g = realloc(tab, (nt + 1) * sizeof *tab);
            if (!g) break; /* out of memory: the reference covers fewer configs */
            tab = g;
            tab[nt++] = (ref_mean){q->config, 0, 0};
        }
        rr[nr++] = (ref_run){t, q->run_index, i, run_wall(q)};
    }
    if (rr) qsort(rr, nr, sizeof *rr, ref_run_cmp);
    for (size_t k = 0, seen = 0; k < nr; k++) {
        seen = k > 0 && rr[k].t == rr[k - 1].t ? seen + 1 : 0;
        if (seen < drop_first || !isfinite(rr[k].wall)) continue;
        tab[rr[k].t].sum += rr[k].wall;
        tab[rr[k].t].k++;
    }
    free(rr);
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        double wall = run_wall(r);
        if (!r->config || !isfinite(wall)) continue;
        for (size_t t = 0; t < nt; t++) {
            if (strcmp(tab[t].config, r->config) != 0 || tab[t].k == 0) continue;
            out[i].ref_seq_s = tab[t].sum / (double)tab[t].k;
            out[i].ref_speedup = out[i].ref_seq_s / wall;
            out[i].ref_efficiency = r->n_agents
                ? out[i].ref_speedup / (double)r->n_agents * 100.0 : NAN;
            break;
        }
    }
    free(tab);
    return nt;
}

void pb_derive_ref_summary(pb_summary *s, const pb_ratio *r, int efficiency,
                           double n_agents) {
    if (!r || !isfinite(r->est) || s->n == 0) return;
    double k = efficiency ? 100.0 / n_agents : 1.0;
    s->mean = r->est * k;
    s->ci_lo = r->unbounded ? NAN : r->lo * k;
    s->ci_hi = r->unbounded ? NAN : r->hi * k;
}
