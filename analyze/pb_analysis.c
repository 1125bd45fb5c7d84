#include "pb_analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "pb_design.h"
#include "pb_hash.h"

/* Labels are interned once: an open-addressing table (FNV-1a, linear
 * probing, load <= 1/2) maps each distinct runtime or config string to an
 * id, the few distinct strings are sorted by strcmp, and every run gets
 * integer ranks. Sorting and grouping 100 000 runs then compares integers,
 * not strings (strcmp was 20-33% of the profile), and stays O(n log n). */
typedef struct intern {
    const char **str;   /* slot -> string, NULL = empty */
    uint64_t *hash;
    size_t *id;         /* slot -> id (order of first appearance) */
    size_t cap, n;
    const char **by_id; /* id -> string */
} intern;

static int intern_init(intern *t, size_t max_keys)
{
    memset(t, 0, sizeof *t);
    t->cap = 16;
    while (t->cap < 2 * max_keys)
        t->cap *= 2;
    t->str = calloc(t->cap, sizeof *t->str);
    t->hash = calloc(t->cap, sizeof *t->hash);
    t->id = calloc(t->cap, sizeof *t->id);
    t->by_id = calloc(max_keys ? max_keys : 1, sizeof *t->by_id);
    return t->str && t->hash && t->id && t->by_id ? 0 : -1;
}

static void intern_free(intern *t)
{
    free(t->str), free(t->hash), free(t->id), free(t->by_id);
}

static size_t intern_id(intern *t, const char *s)
{
    uint64_t h = pb_hash_fnv1a64(s, strlen(s));
    size_t k = (size_t)(h ^ (h >> 32)) & (t->cap - 1);
    while (t->str[k]) {
        if (t->hash[k] == h && strcmp(t->str[k], s) == 0)
            return t->id[k];
        k = (k + 1) & (t->cap - 1);
    }
    t->str[k] = s;
    t->hash[k] = h;
    t->by_id[t->n] = s;
    return t->id[k] = t->n++;
}

static int cmp_strp(const void *x, const void *y)
{
    return strcmp(**(const char *const *const *)x, **(const char *const *const *)y);
}

/* rank[id] = position of string id in strcmp order. */
static int intern_ranks(const intern *t, size_t *rank)
{
    const char ***ord = malloc((t->n ? t->n : 1) * sizeof *ord);
    if (!ord)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        ord[i] = &t->by_id[i];
    qsort(ord, t->n, sizeof *ord, cmp_strp);
    for (size_t i = 0; i < t->n; i++)
        rank[ord[i] - t->by_id] = i;
    free(ord);
    return 0;
}

typedef struct run_key {
    size_t rt, cfg;     /* ranks of the runtime / config names */
    size_t run;         /* index into ds->runs */
} run_key;

static const pb_dataset *sort_ds; /* qsort has no context argument */

static int cmp_key(const void *x, const void *y)
{
    const run_key *p = x, *q = y;
    if (p->rt != q->rt)
        return p->rt < q->rt ? -1 : 1;
    if (p->cfg != q->cfg)
        return p->cfg < q->cfg ? -1 : 1;
    const pb_run *a = &sort_ds->runs[p->run], *b = &sort_ds->runs[q->run];
    int c = (a->run_index > b->run_index) - (a->run_index < b->run_index);
    if (!c)
        c = strcmp(a->path ? a->path : "", b->path ? b->path : "");
    return c;
}

long pb_analysis_find_rt(const pb_analysis *a, const char *name)
{
    for (size_t i = 0; name && i < a->n_rts; i++)
        if (strcmp(a->rts[i].runtime, name) == 0)
            return (long)i;
    return -1;
}

static void summarize_group(const pb_dataset *ds, pb_group *g, unsigned reps,
                            uint64_t seed, double *tmp)
{
    for (size_t i = 0; i < g->n; i++)
        tmp[i] = ds->runs[g->runs[i]].est_efficiency;
    /* Own stream per group: groups of equal n must not share indices. */
    pb_stats_summarize(tmp, g->n, reps,
                       pb_stats_stream_seed(seed, g->runtime, g->config), &g->eff);
    pb_stats_clip(&g->eff, 0, 100);   /* an efficiency is a percentage */
    for (size_t i = 0; i < g->n; i++)
        tmp[i] = ds->runs[g->runs[i]].est_speedup;
    /* No bootstrap for speedup: no table shows it, and it would double
     * the cost of the whole analysis. */
    pb_stats_summarize(tmp, g->n, 0, seed, &g->speedup);
}

static void runtime_aggregate(const pb_dataset *ds, pb_analysis *a, pb_rt *r,
                              unsigned reps, uint64_t seed, double *tmp)
{
    /* (a) over config means: the original script's numbers. */
    double *means = malloc((r->n_groups + 1) * sizeof *means);
    size_t nm = 0;
    double sd_sum = 0;
    size_t sd_n = 0;
    r->cfg_peak = r->cfg_peak_speedup = r->cfg_mean = r->cfg_sd = NAN;
    r->cfg_mean_sd = r->most_stable_sd = r->least_stable_sd = NAN;
    for (size_t k = 0; k < r->n_groups; k++) {
        const pb_group *g = &a->groups[r->first_group + k];
        if (g->eff.n == 0)
            continue;
        if (means)
            means[nm++] = g->eff.mean;
        if (isnan(r->cfg_peak) || g->eff.mean > r->cfg_peak) {
            r->cfg_peak = g->eff.mean;
            r->cfg_peak_config = g->config;
        }
        if (isnan(r->cfg_peak_speedup) || g->speedup.mean > r->cfg_peak_speedup)
            r->cfg_peak_speedup = g->speedup.mean;
        if (!isnan(g->eff.sd)) {
            sd_sum += g->eff.sd;
            sd_n++;
            if (isnan(r->most_stable_sd) || g->eff.sd < r->most_stable_sd) {
                r->most_stable_sd = g->eff.sd;
                r->most_stable = g->config;
            }
            if (isnan(r->least_stable_sd) || g->eff.sd > r->least_stable_sd) {
                r->least_stable_sd = g->eff.sd;
                r->least_stable = g->config;
            }
        }
    }
    if (nm > 0)
        r->cfg_mean = gsl_stats_mean(means, 1, nm);
    if (nm > 1)
        r->cfg_sd = gsl_stats_sd(means, 1, nm);
    if (sd_n > 0)
        r->cfg_mean_sd = sd_sum / (double)sd_n;
    free(means);

    /* (b) over individual runs. */
    size_t n = 0;
    r->run_peak = NAN;
    for (size_t k = 0; k < r->n_groups; k++) {
        const pb_group *g = &a->groups[r->first_group + k];
        for (size_t i = 0; i < g->n; i++) {
            const pb_run *run = &ds->runs[g->runs[i]];
            r->values[n] = run->est_efficiency;
            tmp[n++] = run->est_speedup;
            if (isnan(r->run_peak) || run->est_efficiency > r->run_peak) {
                r->run_peak = run->est_efficiency;
                r->run_peak_idx = g->runs[i];
            }
        }
    }
    pb_stats_summarize(r->values, n, reps,
                       pb_stats_stream_seed(seed, r->runtime, NULL), &r->eff);
    pb_stats_clip(&r->eff, 0, 100);
    pb_stats_summarize(tmp, n, 0, seed, &r->speedup);
}

static size_t rt_nruns(const pb_analysis *a, const pb_rt *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->n_groups; k++)
        n += a->groups[r->first_group + k].n;
    return n;
}

int pb_analysis_build(const pb_dataset *ds, unsigned reps, uint64_t seed,
                      const char *baseline, pb_analysis *a)
{
    pb_analysis_opts o = {.boot_reps = reps, .seed = seed, .baseline = baseline};
    return pb_analysis_build_opts(ds, &o, a);
}

int pb_analysis_build_opts(const pb_dataset *ds, const pb_analysis_opts *opt,
                           pb_analysis *a)
{
    unsigned reps = opt->boot_reps;
    uint64_t seed = opt->seed;
    const char *baseline = opt->baseline;
    memset(a, 0, sizeof *a);
    a->baseline = -1;
    a->seqref = -1;
    a->seed = seed;
    a->boot_reps = reps;
    a->drop_first = opt->drop_first;
    run_key *keys = NULL;
    size_t nv = pb_dataset_n_valid(ds);
    size_t *idx = malloc((nv ? nv : 1) * sizeof *idx);
    double *tmp = malloc((nv ? nv : 1) * sizeof *tmp);
    if (!idx || !tmp)
        goto oom;
    /* Sort once by (runtime, config, run index, path) on interned ranks;
     * groups are then contiguous ranges of idx. */
    keys = malloc((nv ? nv : 1) * sizeof *keys);
    size_t *rank_rt = malloc((nv ? nv : 1) * sizeof *rank_rt);
    size_t *rank_cf = malloc((nv ? nv : 1) * sizeof *rank_cf);
    intern trt = {0}, tcf = {0};
    int ok = keys && rank_rt && rank_cf && intern_init(&trt, nv) == 0 &&
             intern_init(&tcf, nv) == 0;
    size_t k = 0;
    for (size_t i = 0; ok && i < ds->n_runs; i++)
        if (ds->runs[i].valid) {
            keys[k].rt = intern_id(&trt, ds->runs[i].runtime);
            keys[k].cfg = intern_id(&tcf, ds->runs[i].config);
            keys[k++].run = i;
        }
    ok = ok && intern_ranks(&trt, rank_rt) == 0 && intern_ranks(&tcf, rank_cf) == 0;
    for (size_t i = 0; ok && i < nv; i++) {
        keys[i].rt = rank_rt[keys[i].rt];
        keys[i].cfg = rank_cf[keys[i].cfg];
    }
    /* Config names by rank: the strata of the stratified statistics. */
    a->configs = ok ? malloc((tcf.n ? tcf.n : 1) * sizeof *a->configs) : NULL;
    ok = ok && a->configs;
    for (size_t i = 0; ok && i < tcf.n; i++)
        a->configs[rank_cf[i]] = tcf.by_id[i];
    a->n_configs = ok ? tcf.n : 0;
    if (ok) {
        sort_ds = ds;
        qsort(keys, nv, sizeof *keys, cmp_key);
        for (size_t i = 0; i < nv; i++)
            idx[i] = keys[i].run;
    }
    intern_free(&trt);
    intern_free(&tcf);
    free(rank_rt);
    free(rank_cf);
    if (!ok)
        goto oom;

    /* Groups: consecutive runs with the same (runtime, config). */
    a->groups = calloc(nv ? nv : 1, sizeof *a->groups);
    a->rts = calloc(nv ? nv : 1, sizeof *a->rts);
    if (!a->groups || !a->rts)
        goto oom;
    for (size_t i = 0; i < nv;) {
        size_t j = i;
        while (j < nv && keys[j].rt == keys[i].rt && keys[j].cfg == keys[i].cfg)
            j++;
        /* --drop-first: the group's first runs in run order (warm-up). */
        size_t d = opt->drop_first < j - i ? opt->drop_first : j - i;
        a->n_dropped += d;
        if (d == j - i) {
            i = j;
            continue;   /* every run of the group dropped */
        }
        const pb_run *r0 = &ds->runs[idx[i]];
        pb_group *g = &a->groups[a->n_groups++];
        g->runtime = r0->runtime;
        g->config = r0->config;
        g->cfg = keys[i].cfg;
        g->n_dropped = d;
        g->n = j - i - d;
        g->runs = malloc(g->n * sizeof *g->runs);
        if (!g->runs)
            goto oom;
        memcpy(g->runs, idx + i + d, g->n * sizeof *g->runs);
        summarize_group(ds, g, reps, seed, tmp);
        if (a->n_rts == 0 || strcmp(a->rts[a->n_rts - 1].runtime, g->runtime) != 0) {
            pb_rt *r = &a->rts[a->n_rts++];
            r->runtime = g->runtime;
            r->first_group = a->n_groups - 1;
        }
        a->rts[a->n_rts - 1].n_groups++;
        i = j;
    }
    free(keys);
    keys = NULL;
    for (size_t r = 0; r < a->n_rts; r++) {
        a->rts[r].values = malloc((rt_nruns(a, &a->rts[r]) + 1) * sizeof(double));
        if (!a->rts[r].values)
            goto oom;
        runtime_aggregate(ds, a, &a->rts[r], reps, seed, tmp);
    }

    /* The comparisons of runtimes (all pairs, every metric, the baseline's
     * pairs marked) are pb_design's: computed once, there. */
    a->baseline = pb_analysis_find_rt(a, baseline);
    a->seqref = pb_analysis_find_rt(a, opt->sequential_ref);
    if (pb_design_build(ds, opt, a) != 0)
        goto oom;
    free(idx);
    free(tmp);
    return 0;
oom:
    free(keys);
    free(idx);
    free(tmp);
    pb_analysis_free(a);
    return -1;
}

void pb_analysis_free(pb_analysis *a)
{
    for (size_t i = 0; i < a->n_groups; i++) {
        free(a->groups[i].runs);
        free(a->groups[i].order.cls);
    }
    for (size_t i = 0; i < a->n_rts; i++) {
        free(a->rts[i].values);
        free(a->rts[i].run_cfg);
        for (int m = 0; m < PB_M_COUNT; m++)
            free(a->rts[i].mvals[m]);
    }
    for (int m = 0; m < PB_M_COUNT; m++)
        pb_anova_free(&a->anova[m]);
    free(a->cmps);
    free(a->configs);
    free(a->groups);
    free(a->rts);
    memset(a, 0, sizeof *a);
    a->baseline = -1;
    a->seqref = -1;
}
