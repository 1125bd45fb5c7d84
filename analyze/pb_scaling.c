/* pb_scaling: see pb_scaling.h. */
#include "pb_scaling.h"

#include "pb_derive.h"
#include "pb_ratio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Runs from `collect` name their config as the plan wrote it
 * (run.base_config, the same for every N of a count sweep); older traces
 * and other formats do not, and are then grouped by runtime alone, with
 * every config's runs at their own N. */
static const char *base_of(const pb_run *r)
{
    return r->base_config ? r->base_config : PB_SCALING_ALL_CONFIGS;
}


static const pb_dataset *g_ds; /* qsort has no context argument */

static int cmp_run(const void *a, const void *b)
{
    const pb_run *x = &g_ds->runs[*(const size_t *)a], *y = &g_ds->runs[*(const size_t *)b];
    int c = strcmp(x->runtime, y->runtime);
    if (c == 0)
        c = strcmp(base_of(x), base_of(y));
    if (c == 0)
        c = (x->n_agents > y->n_agents) - (x->n_agents < y->n_agents);
    return c;
}

double pb_scaling_run_throughput(const pb_run *r)
{
    double tok = 0;
    for (size_t i = 0; i < r->n_agents; i++) {
        if (!isfinite(r->agents[i].conc.tokens))
            return NAN;
        tok += r->agents[i].conc.tokens;
    }
    return r->wall_s > 0 ? tok / r->wall_s : NAN;
}

/* Speedups, efficiencies and throughputs are ratios: summarised on the
 * log scale (geometric mean, Student t interval of the mean ln value),
 * where an interval cannot go below 0 (the linear one read "1.11 [-0.15,
 * 2.38]" at n = 2). n, sd, min, max and median stay those of the values. */
static void log_summary(const double *v, size_t n, pb_summary *out)
{
    pb_stats_summarize(v, n, 0, 0, out);
    pb_geomean g;
    pb_ratio_geomean(v, n, &g);
    out->mean = g.n ? g.gm : NAN;
    out->ci_lo = g.lo;
    out->ci_hi = g.hi;
}

/* Fills the points of runs idx[0..n) (one runtime and config, sorted by N). */
static int fill_series(const pb_dataset *ds, const size_t *idx, size_t n, double knee,
                       pb_scaling_series *s)
{
    /* pb_derive's definitions, the ones the true-efficiency section uses. */
    pb_derived *dv = malloc(n * sizeof *dv);
    if (!dv)
        return -1;
    int measured = 1;
    for (size_t i = 0; i < n; i++) {
        pb_derive_run(&ds->runs[idx[i]], &dv[i]);
        measured &= isfinite(dv[i].meas_efficiency);
    }
    s->eff_measured = measured;
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || ds->runs[idx[i]].n_agents != ds->runs[idx[i - 1]].n_agents)
            distinct++;
    s->pts = calloc(distinct, sizeof *s->pts);
    double *e = malloc(n * sizeof *e), *sp = malloc(n * sizeof *sp), *th = malloc(n * sizeof *th);
    if (!s->pts || !e || !sp || !th) {
        free(e), free(sp), free(th), free(dv);
        return -1;
    }
    for (size_t q = 0; q < n;) {
        size_t na = ds->runs[idx[q]].n_agents, m = 0;
        for (; q < n && ds->runs[idx[q]].n_agents == na; q++, m++) {
            const pb_run *r = &ds->runs[idx[q]];
            e[m] = measured ? dv[q].meas_efficiency : dv[q].est_efficiency;
            sp[m] = measured ? dv[q].meas_speedup : dv[q].est_speedup;
            th[m] = pb_scaling_run_throughput(r);
        }
        pb_scaling_point *p = &s->pts[s->n_points++];
        p->n_agents = na;
        p->runs = m;
        log_summary(e, m, &p->eff);
        log_summary(sp, m, &p->speedup);
        log_summary(th, m, &p->throughput);
    }
    free(e), free(sp), free(th), free(dv);
    /* The knee: efficiency usually falls with N, but a noisy middle point
     * must not hide an earlier drop, so every smaller N must pass too.
     * N = 1 is 100% by definition: its noise never decides the knee. */
    int ok_mean = 1, ok_ci = 1;
    for (size_t i = 0; i < s->n_points; i++) {
        const pb_summary *x = &s->pts[i].eff;
        if (s->pts[i].n_agents == 1) {
            if (ok_mean)
                s->knee_n = 1;
            if (ok_ci)
                s->knee_n_ci = 1;
            continue;
        }
        ok_mean = ok_mean && x->n > 0 && x->mean >= knee;
        ok_ci = ok_ci && isfinite(x->ci_lo) && x->ci_lo >= knee;
        if (ok_mean)
            s->knee_n = s->pts[i].n_agents;
        if (ok_ci)
            s->knee_n_ci = s->pts[i].n_agents;
    }
    return 0;
}

int pb_scaling_build(const pb_dataset *ds, double knee_pct, pb_scaling *out)
{
    memset(out, 0, sizeof *out);
    out->knee_pct = knee_pct;
    size_t *idx = malloc((ds->n_runs + 1) * sizeof *idx), n = 0;
    if (!idx)
        return -1;
    for (size_t i = 0; i < ds->n_runs; i++)
        if (ds->runs[i].valid && ds->runs[i].n_agents > 0 && ds->runs[i].wall_s > 0)
            idx[n++] = i;
    g_ds = ds;
    qsort(idx, n, sizeof *idx, cmp_run);
    int rc = 0;
    for (size_t q = 0; q < n && rc == 0;) {
        size_t start = q, distinct = 1;
        const pb_run *r0 = &ds->runs[idx[q]];
        for (q++; q < n && strcmp(ds->runs[idx[q]].runtime, r0->runtime) == 0 &&
                  strcmp(base_of(&ds->runs[idx[q]]), base_of(r0)) == 0; q++)
            if (ds->runs[idx[q]].n_agents != ds->runs[idx[q - 1]].n_agents)
                distinct++;
        if (distinct < 2)
            continue; /* one N: nothing scales */
        pb_scaling_series *ns = realloc(out->series, (out->n_series + 1) * sizeof *ns);
        if (!ns) {
            rc = -1;
            break;
        }
        out->series = ns;
        pb_scaling_series *s = &out->series[out->n_series++];
        memset(s, 0, sizeof *s);
        s->runtime = r0->runtime;
        s->config = base_of(r0);
        rc = fill_series(ds, idx + start, q - start, knee_pct, s);
    }
    free(idx);
    if (rc != 0)
        pb_scaling_free(out);
    return rc;
}

void pb_scaling_free(pb_scaling *s)
{
    for (size_t i = 0; i < s->n_series; i++)
        free(s->series[i].pts);
    free(s->series);
    memset(s, 0, sizeof *s);
}
