/* pb_design: see pb_design.h; methods in analyze/README.md. */
#include "pb_design.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_power.h"

static double wall_of(const pb_run *r)
{
    if (isfinite(r->wall_s) && r->wall_s > 0)
        return r->wall_s;
    double w = r->conc_end - r->conc_start;
    return isfinite(w) && w > 0 ? w : NAN;
}

/* Metric values of every runtime's runs, in group order. */
static int runtime_values(const pb_dataset *ds, pb_analysis *a)
{
    for (size_t r = 0; r < a->n_rts; r++) {
        pb_rt *rt = &a->rts[r];
        size_t n = 0;
        for (size_t k = 0; k < rt->n_groups; k++)
            n += a->groups[rt->first_group + k].n;
        rt->n_runs = n;
        rt->run_cfg = malloc((n + 1) * sizeof *rt->run_cfg);
        if (!rt->run_cfg)
            return -1;
        for (int m = 0; m < PB_M_COUNT; m++)
            if (!(rt->mvals[m] = malloc((n + 1) * sizeof(double))))
                return -1;
        size_t i = 0;
        for (size_t k = 0; k < rt->n_groups; k++) {
            const pb_group *g = &a->groups[rt->first_group + k];
            for (size_t j = 0; j < g->n; j++, i++) {
                rt->run_cfg[i] = g->cfg;
                for (int m = 0; m < PB_M_COUNT; m++)
                    rt->mvals[m][i] = pb_metric_run(&ds->runs[g->runs[j]], (pb_metric_id)m);
            }
        }
        for (int m = 0; m < PB_M_COUNT; m++) {
            pb_stats_summarize(rt->mvals[m], n, 0, 0, &rt->msum[m]);
            /* The centre the comparisons compare: geometric mean on the
             * log scale (their estimate is a ratio of these). */
            if (pb_metrics[m].log_scale) {
                pb_geomean g;
                pb_ratio_geomean(rt->mvals[m], n, &g);
                rt->mcenter[m] = g.n ? g.gm : NAN;
            } else {
                rt->mcenter[m] = rt->msum[m].n ? rt->msum[m].mean : NAN;
            }
        }
        pb_ratio_geomean(rt->mvals[PB_M_MEAS_SPEEDUP], n, &rt->paired_speedup);
    }
    return 0;
}

/* Spearman trend, first-run effect and Tukey fences of each group's walls. */
static int group_order(const pb_dataset *ds, pb_analysis *a)
{
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        pb_group *g = &a->groups[gi];
        pb_order *o = &g->order;
        double *w = malloc((2 * g->n + 1) * sizeof *w);
        o->cls = malloc((g->n + 1) * sizeof *o->cls);
        if (!w || !o->cls) {
            free(w);
            return -1;
        }
        double *ix = w + g->n;
        for (size_t i = 0; i < g->n; i++) {
            w[i] = wall_of(&ds->runs[g->runs[i]]);
            ix[i] = ds->runs[g->runs[i]].run_index;
        }
        pb_rank_spearman(ix, w, g->n, &o->rho, &o->rho_p, &o->n);
        pb_rank_first_run(w, g->n, &o->first_diff, &o->first_t, &o->first_p);
        pb_rank_tukey(w, g->n, &o->tukey, o->cls);
        free(w);
    }
    return 0;
}

size_t pb_design_walls(const pb_dataset *ds, const pb_analysis *a, size_t r,
                       double *w, size_t *st)
{
    const pb_rt *rt = &a->rts[r];
    size_t n = 0;
    for (size_t k = 0; k < rt->n_groups; k++) {
        const pb_group *g = &a->groups[rt->first_group + k];
        for (size_t j = 0; j < g->n; j++) {
            w[n] = wall_of(&ds->runs[g->runs[j]]);
            st[n++] = g->cfg;
        }
    }
    return n;
}

/* --sequential-ref: ratio of means per config and over configs. */
static int seqref(const pb_dataset *ds, pb_analysis *a)
{
    pb_ratio none = {0};
    none.est = none.lo = none.hi = none.df = none.boot_lo = none.boot_hi = NAN;
    for (size_t gi = 0; gi < a->n_groups; gi++)
        a->groups[gi].seqref = none;
    for (size_t r = 0; r < a->n_rts; r++)
        a->rts[r].seqref = none;
    if (a->seqref < 0)
        return 0;
    size_t nv = pb_dataset_n_valid(ds) + 1, ref = (size_t)a->seqref;
    double *rw = malloc(nv * sizeof *rw), *xw = malloc(nv * sizeof *xw);
    size_t *rs = malloc(nv * sizeof *rs), *xs = malloc(nv * sizeof *xs);
    if (!rw || !xw || !rs || !xs) {
        free(rw), free(xw), free(rs), free(xs);
        return -1;
    }
    size_t nr = pb_design_walls(ds, a, ref, rw, rs);
    int rc = 0;
    for (size_t r = 0; r < a->n_rts && rc == 0; r++) {
        pb_rt *rt = &a->rts[r];
        size_t nx = pb_design_walls(ds, a, r, xw, xs);
        /* The reference against itself is 1 by construction (same sample
         * on both sides); passing the same arrays makes pb_ratio say so. */
        int self = r == ref;
        rt->seqref_is_self = self;
        /* No bootstrap cross-check: it covered < 94% at every stratum size
         * simulated (PB_BOOT_MIN_N); Fieller's interval is the one printed. */
        unsigned reps = 0;
        rc = pb_ratio_of_means(rw, rs, nr, self ? rw : xw, self ? rs : xs,
                               self ? nr : nx, a->n_configs, reps,
                               pb_stats_stream_seed(a->seed, rt->runtime, "seqref"),
                               &rt->seqref);
        /* Per config: one stratum; no bootstrap at 5 runs (PB_BOOT_MIN_N). */
        for (size_t k = 0; k < rt->n_groups && rc == 0; k++) {
            pb_group *g = &a->groups[rt->first_group + k];
            size_t i0 = 0, j0 = 0, ni = 0, nj = 0;
            for (size_t i = 0; i < nr; i++)
                if (rs[i] == g->cfg) { if (!ni++) i0 = i; }
            for (size_t j = 0; j < nx; j++)
                if (xs[j] == g->cfg) { if (!nj++) j0 = j; }
            if (!ni || !nj)
                continue;
            /* Runs of a config are contiguous (group order). */
            unsigned greps = 0;   /* as above: no bootstrap */
            rc = pb_ratio_of_means(rw + i0, rs + i0, ni, self ? rw + i0 : xw + j0,
                                   self ? rs + i0 : xs + j0, self ? ni : nj,
                                   a->n_configs, greps,
                                   pb_stats_stream_seed(a->seed, g->runtime, g->config),
                                   &g->seqref);
        }
    }
    free(rw), free(xw), free(rs), free(xs);
    return rc;
}

/* The best config (largest mean original efficiency) with a 95% interval
 * for its true mean that holds whichever config the data picked
 * (pb_stats_best_mean: Bonferroni over the configs). Kept in best_boot_*
 * (the field names the renderers read). */
static int best_config(const pb_dataset *ds, pb_analysis *a)
{
    for (size_t r = 0; r < a->n_rts; r++) {
        pb_rt *rt = &a->rts[r];
        rt->best_boot_lo = rt->best_boot_hi = NAN;
        size_t k = rt->n_groups, total = 0;
        for (size_t j = 0; j < k; j++)
            total += a->groups[rt->first_group + j].n;
        if (k == 0)
            continue;
        double *v = malloc((total + 1) * sizeof *v);
        const double **x = malloc(k * sizeof *x);
        size_t *n = malloc(k * sizeof *n);
        if (!v || !x || !n) {
            free(v), free(x), free(n);
            return -1;
        }
        size_t off = 0;
        for (size_t j = 0; j < k; j++) {
            const pb_group *g = &a->groups[rt->first_group + j];
            x[j] = v + off;
            n[j] = g->n;
            for (size_t i = 0; i < g->n; i++)
                v[off++] = ds->runs[g->runs[i]].est_efficiency;
        }
        size_t best;
        pb_stats_best_mean(x, n, k, &best, &rt->best_boot_lo, &rt->best_boot_hi);
        free(v), free(x), free(n);
    }
    return 0;
}

/* Values of runtime r for metric m on the compared scale (ln for log
 * metrics; non-positive values become NAN there). */
static void scaled(const pb_rt *rt, pb_metric_id m, double *out)
{
    for (size_t i = 0; i < rt->n_runs; i++) {
        double v = rt->mvals[m][i];
        out[i] = pb_metrics[m].log_scale ? (v > 0 ? log(v) : NAN) : v;
    }
}

static size_t n_finite(const double *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += isfinite(x[i]) != 0;
    return k;
}

static int anova_all(pb_analysis *a, size_t total)
{
    double *y = malloc((total + 1) * sizeof *y);
    size_t *fa = malloc((total + 1) * sizeof *fa), *fb = malloc((total + 1) * sizeof *fb);
    int rc = y && fa && fb ? 0 : -1;
    for (int m = 0; m < PB_M_COUNT && rc == 0; m++) {
        size_t n = 0;
        for (size_t r = 0; r < a->n_rts; r++) {
            scaled(&a->rts[r], (pb_metric_id)m, y + n);
            for (size_t i = 0; i < a->rts[r].n_runs; i++, n++) {
                fa[n] = r;
                fb[n] = a->rts[r].run_cfg[i];
            }
        }
        if (n_finite(y, n) == 0)
            continue;   /* a->anova[m].n stays 0: the metric is absent */
        rc = pb_anova_two_way(y, fa, fb, n, a->n_rts, a->n_configs, &a->anova[m]);
    }
    free(y), free(fa), free(fb);
    return rc;
}

static void holm_family(pb_comparison *c, size_t n)
{
    double *p = malloc((3 * n + 1) * sizeof *p);
    if (!p)
        return;
    for (size_t i = 0; i < n; i++) {
        p[i] = c[i].p;
        p[n + i] = c[i].c.mw_p;
        p[2 * n + i] = c[i].ve.p;
    }
    pb_stats_holm(p, n, p);
    pb_stats_holm(p + n, n, p + n);
    pb_stats_holm(p + 2 * n, n, p + 2 * n);
    for (size_t i = 0; i < n; i++) {
        c[i].p_holm = c[i].c.welch_p_holm = p[i];
        c[i].c.mw_p_holm = p[n + i];
        c[i].ve_p_holm = p[2 * n + i];
    }
    free(p);
}

static void compare_one(pb_analysis *a, pb_comparison *c, const double *x,
                        const double *y)
{
    const pb_rt *ra = &a->rts[c->a], *rb = &a->rts[c->b];
    const pb_metric_info *mi = &pb_metrics[c->metric];
    pb_stats_compare(x, ra->n_runs, y, rb->n_runs, &c->c);
    int lg = c->log_scale = mi->log_scale;
    c->test = lg ? "Welch t on ln values (pooled over configs)"
                 : "Welch t (pooled over configs)";
    c->statistic = c->c.welch_t;
    c->df = c->c.welch_df;
    c->p = c->c.welch_p;
    c->estimate = lg ? exp(c->c.diff) : c->c.diff;
    c->lo = lg ? exp(c->c.diff_lo) : c->c.diff_lo;
    c->hi = lg ? exp(c->c.diff_hi) : c->c.diff_hi;
    /* Hodges-Lehmann on the same scale as the estimate beside it: a shift
     * of ln values is a ratio once exponentiated (monotone, so the interval
     * maps end to end). */
    if (lg) {
        c->c.hl_shift = exp(c->c.hl_shift);
        c->c.hl_lo = exp(c->c.hl_lo);
        c->c.hl_hi = exp(c->c.hl_hi);
    }
    snprintf(c->family, sizeof c->family, "all pairs: %s", mi->key);
    pb_rank_van_elteren(x, ra->run_cfg, ra->n_runs, y, rb->run_cfg, rb->n_runs,
                        a->n_configs, &c->ve);
    pb_anova_emm_diff(&a->anova[c->metric], c->a, c->b, &c->adj, &c->adj_lo,
                      &c->adj_hi);
    if (lg) {
        c->adj = exp(c->adj);
        c->adj_lo = exp(c->adj_lo);
        c->adj_hi = exp(c->adj_hi);
    }
    /* Power on the compared scale; the target is 1 pp (absolute) or 2%
     * (relative: ln 1.02 on the log scale, 2% of the mean of the two
     * means on the linear scale). */
    c->mdd = pb_power_mdd(c->c.sd1, c->c.n1, c->c.sd2, c->c.n2, PB_POWER_ALPHA,
                          PB_POWER_POWER);
    double target = mi->target;
    if (mi->target_relative)
        target = lg ? log(1 + mi->target)
                    : mi->target * fabs(c->c.mean1 + c->c.mean2) / 2;
    c->target = lg ? exp(target) : target;
    c->n_needed = pb_power_n_needed(c->c.sd1, c->c.sd2, target, PB_POWER_ALPHA,
                                    PB_POWER_POWER);
    if (lg)
        c->mdd = exp(c->mdd);
}

static int comparisons(pb_analysis *a)
{
    size_t np = a->n_rts * (a->n_rts ? a->n_rts - 1 : 0) / 2;
    size_t maxr = 1;
    for (size_t r = 0; r < a->n_rts; r++)
        if (a->rts[r].n_runs + 1 > maxr) maxr = a->rts[r].n_runs + 1;
    a->cmps = calloc(np * PB_M_COUNT + 1, sizeof *a->cmps);
    double *x = malloc(maxr * sizeof *x), *y = malloc(maxr * sizeof *y);
    if (!a->cmps || !x || !y) {
        free(x), free(y);
        return -1;
    }
    for (int m = 0; m < PB_M_COUNT; m++) {
        size_t first = a->n_cmps;
        for (size_t i = 0; i < a->n_rts; i++)
            for (size_t j = i + 1; j < a->n_rts; j++) {
                /* Oriented "other vs baseline" when the baseline is in it. */
                size_t ia = i, ib = j;
                if ((long)i == a->baseline) { ia = j; ib = i; }
                scaled(&a->rts[ia], (pb_metric_id)m, x);
                scaled(&a->rts[ib], (pb_metric_id)m, y);
                if (n_finite(x, a->rts[ia].n_runs) < 2 || n_finite(y, a->rts[ib].n_runs) < 2)
                    continue;
                pb_comparison *c = &a->cmps[a->n_cmps++];
                c->metric = (pb_metric_id)m;
                c->a = ia;
                c->b = ib;
                c->with_baseline = (long)ib == a->baseline;
                compare_one(a, c, x, y);
            }
        holm_family(a->cmps + first, a->n_cmps - first);
    }
    free(x), free(y);
    return 0;
}

int pb_design_build(const pb_dataset *ds, const pb_analysis_opts *o,
                    pb_analysis *a)
{
    /* The answer needs only the runtimes' values and the reference. */
    if (o->answer_only)
        return runtime_values(ds, a) || seqref(ds, a) ? -1 : 0;
    if (runtime_values(ds, a) || group_order(ds, a) || seqref(ds, a) ||
        best_config(ds, a))
        return -1;
    size_t total = 0;
    for (size_t r = 0; r < a->n_rts; r++)
        total += a->rts[r].n_runs;
    if (anova_all(a, total) || comparisons(a))
        return -1;
    return 0;
}
