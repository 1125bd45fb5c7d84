/* pb_answer: one speedup estimate per runtime and N (see pb_answer.h), from
 * the analysis: the paired measured speedup (geometric mean of the per-run
 * ratios, Student t interval on the log scale) when the runs have solo
 * phases, else the ratio of means against --sequential-ref (Fieller). */
#include "pb_answer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_design.h"
#include "pb_ratio.h"
#include "pb_stats.h"

pb_verdict pb_answer_verdict(size_t n, double lo, double hi, int unbounded)
{
    if (n == 0)
        return PB_VERDICT_NONE;
    if (unbounded)
        return PB_VERDICT_INCONCLUSIVE;
    if (n < 2 || isnan(lo) || isnan(hi))
        return PB_VERDICT_SINGLE;
    /* Within 2% of 1x: "slower" in the fourth digit is no finding (the
     * serial control reads 0.995 [0.99, 1.00]). */
    if (lo >= 0.98 && hi <= 1.02)
        return PB_VERDICT_SAME;
    if (hi < 1.0)
        return PB_VERDICT_SLOWER;
    if (lo > 1.0)
        return PB_VERDICT_FASTER;
    return PB_VERDICT_INCONCLUSIVE;
}

int pb_answer_self_ref(const pb_answer_rt *r)
{
    return r->is_reference && r->estimator && strcmp(r->estimator, "seqref_ratio_fieller") == 0;
}

const char *pb_answer_verdict_word(pb_verdict v)
{
    switch (v) {
    case PB_VERDICT_SINGLE: return "one run, no interval";
    case PB_VERDICT_SAME: return "the same";
    case PB_VERDICT_SLOWER: return "slower";
    case PB_VERDICT_FASTER: return "faster";
    case PB_VERDICT_INCONCLUSIVE: return "inconclusive";
    case PB_VERDICT_NONE: break;
    }
    return "n/a";
}

const char *pb_answer_estimator_name(const char *id)
{
    if (!id)
        return "none (no sequential baseline)";
    if (strcmp(id, "solo_geomean_t") == 0)
        return "geometric mean of the per-run measured speedups (sum of the agents' solo "
               "durations / concurrent wall), 95% Student-t interval of the mean log ratio";
    if (strcmp(id, "seqref_ratio_fieller") == 0)
        return "ratio of means against the sequential reference (sum over configs of its "
               "mean wall / the runtime's), 95% Fieller interval";
    return id;
}

/* The runtime's values of one N, in group order: paired speedups (ln
 * when want_log) or walls with their strata; returns the count. */
typedef struct rt_vals {
    double *w;                /* walls, group order */
    size_t *st;               /* their config ids */
    double *na;               /* their agent counts */
    size_t n;
} rt_vals;

static int rt_vals_load(const pb_dataset *ds, const pb_analysis *an, size_t r, rt_vals *v)
{
    const pb_rt *rt = &an->rts[r];
    size_t cap = 1;
    for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
        cap += an->groups[g].n;
    v->w = malloc(cap * sizeof *v->w);
    v->st = malloc(cap * sizeof *v->st);
    v->na = malloc(cap * sizeof *v->na);
    if (!v->w || !v->st || !v->na)
        return -1;
    v->n = pb_design_walls(ds, an, r, v->w, v->st);
    size_t k = 0;
    for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
        for (size_t j = 0; j < an->groups[g].n; j++)
            v->na[k++] = (double)ds->runs[an->groups[g].runs[j]].n_agents;
    return 0;
}

static void rt_vals_free(rt_vals *v)
{
    free(v->w), free(v->st), free(v->na);
    memset(v, 0, sizeof *v);
}

/* Entries of v (and the parallel metric values m, may be NULL) whose N is
 * na, compacted into w/st/mv; returns the count. */
static size_t pick_n(const rt_vals *v, const double *m, double na, double *w, size_t *st,
                     double *mv)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->na[i] == na) {
            w[k] = v->w[i];
            st[k] = v->st[i];
            if (m)
                mv[k] = m[i];
            k++;
        }
    return k;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The row's estimate from the solo phases (geomean) or the reference. */
static int row_fill(const pb_analysis *an, const rt_vals *v, const rt_vals *ref,
                    size_t r, double na, int per_n, double *w, size_t *st, double *mv,
                    double *rw, size_t *rst, pb_answer_rt *a)
{
    const pb_rt *rt = &an->rts[r];
    pb_geomean gm = rt->paired_speedup;
    pb_ratio sr = rt->seqref;
    if (per_n) {
        size_t k = pick_n(v, rt->mvals[PB_M_MEAS_SPEEDUP], na, w, st, mv);
        pb_ratio_geomean(mv, k, &gm);
        if (an->seqref >= 0 && !rt->seqref_is_self) {
            size_t kr = pick_n(ref, NULL, na, rw, rst, NULL);
            /* No bootstrap: it covered < 94% (tests/analyze/test_coverage.c). */
            if (pb_ratio_of_means(rw, rst, kr, w, st, k, an->n_configs, 0,
                                  pb_stats_stream_seed(an->seed, rt->runtime, "seqref"),
                                  &sr) != 0)
                return -1;
        }
    }
    /* Solo phases measure each run against its own sequential cost: the
     * better baseline whenever present; the reference is for data
     * without them (the original study's). */
    if (gm.n > 0 && isfinite(gm.gm)) {
        a->estimator = "solo_geomean_t";
        a->n = gm.n;
        a->estimate = gm.gm;
        a->lo = gm.lo;
        a->hi = gm.hi;
        /* On the log scale SE(mean ln r) is the relative SE of gm. */
        if (gm.n >= 2)
            a->rel_se = gm.log_sd / sqrt((double)gm.n);
    } else if (an->seqref >= 0 && (rt->seqref_is_self || isfinite(sr.est))) {
        a->estimator = "seqref_ratio_fieller";
        /* n is the runtime's own run count (the denominator side). */
        a->n = rt->seqref_is_self ? sr.n_num : sr.n_den;
        a->estimate = rt->seqref_is_self ? 1.0 : sr.est;
        a->lo = rt->seqref_is_self ? 1.0 : sr.lo;
        a->hi = rt->seqref_is_self ? 1.0 : sr.hi;
        a->unbounded = sr.unbounded && !rt->seqref_is_self;
        a->rel_se = rt->seqref_is_self ? 0 : sr.se / sr.est;
        a->ratio = sr;
    }
    if (a->estimator)
        a->verdict = pb_answer_verdict(a->n, a->lo, a->hi, a->unbounded);
    return 0;
}

/* hyperfine's line between rows f (fastest) and s of one N, computed
 * directly between the two runtimes (module comment in pb_answer.h). */
static int vs_fill(const pb_analysis *an, const rt_vals *vals, const pb_answer *ans,
                   size_t f, size_t s, double *w1, size_t *s1, double *m1, double *w2,
                   size_t *s2, double *m2, pb_answer_vs *out)
{
    const pb_answer_rt *F = &ans->rts[f], *S = &ans->rts[s];
    memset(out, 0, sizeof *out);
    out->fast = f;
    out->slow = s;
    out->ratio = out->pm = out->lo = out->hi = NAN;
    const rt_vals *vf = &vals[F->rt], *vs = &vals[S->rt];
    if (strcmp(F->estimator, "seqref_ratio_fieller") == 0 &&
        strcmp(S->estimator, "seqref_ratio_fieller") == 0) {
        size_t kf = pick_n(vf, NULL, F->n_agents, w1, s1, NULL);
        size_t ks = pick_n(vs, NULL, S->n_agents, w2, s2, NULL);
        pb_ratio q;
        if (pb_ratio_of_means(w2, s2, ks, w1, s1, kf, an->n_configs, 0, 0, &q) != 0)
            return -1;
        out->ratio = q.est;
        out->pm = q.se;
        out->lo = q.unbounded ? NAN : q.lo;
        out->hi = q.unbounded ? NAN : q.hi;
    } else {
        /* Independent paired speedups: ratio of geometric means, Welch on ln. */
        const double *mf = an->rts[F->rt].mvals[PB_M_MEAS_SPEEDUP];
        const double *ms = an->rts[S->rt].mvals[PB_M_MEAS_SPEEDUP];
        size_t kf = pick_n(vf, mf, F->n_agents, w1, s1, m1);
        size_t ks = pick_n(vs, ms, S->n_agents, w2, s2, m2);
        size_t a = 0, b = 0;
        for (size_t i = 0; i < kf; i++)
            if (m1[i] > 0 && isfinite(m1[i]))
                m1[a++] = log(m1[i]);
        for (size_t i = 0; i < ks; i++)
            if (m2[i] > 0 && isfinite(m2[i]))
                m2[b++] = log(m2[i]);
        pb_compare c;
        pb_stats_welch(m1, a, m2, b, &c);
        out->ratio = exp(c.diff);
        out->pm = out->ratio * c.welch_se;
        out->lo = exp(c.diff_lo);
        out->hi = exp(c.diff_hi);
    }
    out->significant = isfinite(out->lo) && isfinite(out->hi) && (out->lo > 1 || out->hi < 1);
    return 0;
}

int pb_answer_build(const pb_dataset *ds, const pb_analysis *an, const char *seq_ref,
                    pb_answer *out)
{
    memset(out, 0, sizeof *out);
    out->seq_ref = seq_ref;
    size_t nv = pb_dataset_n_valid(ds) + 1, nrt = an->n_rts;
    rt_vals *vals = calloc(nrt + 1, sizeof *vals);
    double *ns = malloc(nv * sizeof *ns);
    double *w1 = malloc(nv * sizeof *w1), *w2 = malloc(nv * sizeof *w2);
    double *m1 = malloc(nv * sizeof *m1), *m2 = malloc(nv * sizeof *m2);
    size_t *s1 = malloc(nv * sizeof *s1), *s2 = malloc(nv * sizeof *s2);
    /* Rows: at most one per (runtime, N), so at most one per valid run. */
    out->rts = calloc(nv, sizeof *out->rts);
    out->vs = calloc(nv, sizeof *out->vs);
    int rc = vals && ns && w1 && w2 && m1 && m2 && s1 && s2 && out->rts && out->vs ? 0 : -1;
    for (size_t r = 0; r < nrt && rc == 0; r++)
        rc = rt_vals_load(ds, an, r, &vals[r]);
    double first_n = NAN;
    for (size_t r = 0; r < nrt && rc == 0; r++) {
        const pb_rt *rt = &an->rts[r];
        /* Distinct agent counts of the runtime, ascending. */
        memcpy(ns, vals[r].na, vals[r].n * sizeof *ns);
        qsort(ns, vals[r].n, sizeof *ns, cmp_double);
        size_t nd = 0;
        for (size_t i = 0; i < vals[r].n; i++)
            if (nd == 0 || ns[i] != ns[nd - 1])
                ns[nd++] = ns[i];
        for (size_t i = 0; i < nd; i++) {
            if (isnan(first_n))
                first_n = ns[i];
            else if (ns[i] != first_n)
                out->several_n = 1;
        }
        for (size_t i = 0; i < nd && rc == 0; i++) {
            pb_answer_rt *a = &out->rts[out->n_rts++];
            a->runtime = rt->runtime;
            a->rt = r;
            a->n_agents = ns[i];
            a->per_n = nd > 1;
            a->estimate = a->lo = a->hi = a->rel_se = NAN;
            a->is_reference = seq_ref && strcmp(seq_ref, a->runtime) == 0;
            a->is_control = a->is_reference || strcmp(a->runtime, "serial") == 0;
            const rt_vals *ref = an->seqref >= 0 ? &vals[an->seqref] : NULL;
            rc = row_fill(an, &vals[r], ref, r, ns[i], nd > 1, w1, s1, m1, w2, s2, a);
            if (a->estimator && !pb_answer_self_ref(a))
                out->n_answered++;
        }
    }
    /* Per N: the fastest row that is no control against every other row
     * with an interval (hyperfine prints the fastest first). */
    for (size_t i = 0; i < out->n_rts && rc == 0; i++) {
        const pb_answer_rt *x = &out->rts[i];
        if (!x->estimator || x->n < 2 || x->is_control || pb_answer_self_ref(x))
            continue;
        int best = 1;
        for (size_t j = 0; j < out->n_rts && best; j++) {
            const pb_answer_rt *y = &out->rts[j];
            if (j == i || y->n_agents != x->n_agents || !y->estimator || y->n < 2 ||
                y->is_control || pb_answer_self_ref(y))
                continue;
            if (y->estimate > x->estimate || (y->estimate == x->estimate && j < i))
                best = 0;
        }
        if (!best)
            continue;
        for (size_t j = 0; j < out->n_rts && rc == 0; j++) {
            const pb_answer_rt *y = &out->rts[j];
            /* Controls are the answer's baseline, not contenders. */
            if (j == i || y->n_agents != x->n_agents || !y->estimator || y->n < 2 ||
                y->is_control || pb_answer_self_ref(y))
                continue;
            rc = vs_fill(an, vals, out, i, j, w1, s1, m1, w2, s2, m2, &out->vs[out->n_vs++]);
        }
    }
    for (size_t r = 0; vals && r < nrt; r++)
        rt_vals_free(&vals[r]);
    free(vals), free(ns), free(w1), free(w2), free(m1), free(m2), free(s1), free(s2);
    if (rc != 0)
        pb_answer_free(out);
    return rc;
}

void pb_answer_free(pb_answer *a)
{
    free(a->rts);
    free(a->vs);
    memset(a, 0, sizeof *a);
}
