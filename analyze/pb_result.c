/* pb_result: the one computation behind every output (pb_result.h). */
#include "pb_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ref_speedup / ref_efficiency over runs[0..n): per run they treat the
 * reference's mean as known, so the summary's mean and interval are the
 * ratio of means with Fieller's interval (pb_derive_ref_summary). */
static void ref_summary(const pb_result *r, const pb_metric_def *d, const size_t *runs,
                        size_t n, const pb_ratio *seqref, pb_summary *s)
{
    if (strncmp(d->id, "ref_", 4) != 0)
        return;
    double nag = NAN;   /* the runs' common agent count, NAN when mixed */
    for (size_t i = 0; i < n; i++)
        nag = i == 0 ? (double)r->dv[runs[i]].n_agents
                     : (nag == (double)r->dv[runs[i]].n_agents ? nag : NAN);
    pb_derive_ref_summary(s, seqref, strcmp(d->id, "ref_efficiency") == 0, nag);
}

/* Every metric over every group and runtime (the exports' and the report's
 * one set of numbers). */
static int summaries(pb_result *r)
{
    const pb_analysis *an = &r->an;
    size_t M = PB_N_METRICS;
    r->gsum = calloc(an->n_groups * M + 1, sizeof *r->gsum);
    r->rsum = calloc(an->n_rts * M + 1, sizeof *r->rsum);
    double *v = malloc((r->ds->n_runs + 1) * sizeof *v);
    size_t *idx = malloc((r->ds->n_runs + 1) * sizeof *idx);
    if (!r->gsum || !r->rsum || !v || !idx) {
        free(v);
        free(idx);
        return -1;
    }
    for (size_t m = 0; m < M; m++) {
        const pb_metric_def *d = &PB_METRICS[m];
        for (size_t g = 0; g < an->n_groups; g++) {
            const pb_group *gr = &an->groups[g];
            for (size_t i = 0; i < gr->n; i++)
                v[i] = pb_metric_get(&r->dv[gr->runs[i]], d);
            pb_metrics_summarize(d, v, gr->n, &r->gsum[g * M + m]);
            ref_summary(r, d, gr->runs, gr->n, &gr->seqref, &r->gsum[g * M + m]);
        }
        for (size_t t = 0; t < an->n_rts; t++) {
            const pb_rt *rt = &an->rts[t];
            size_t k = 0;
            for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
                for (size_t i = 0; i < an->groups[g].n; i++)
                    v[k++] = pb_metric_get(&r->dv[an->groups[g].runs[i]], d);
            pb_metrics_summarize(d, v, k, &r->rsum[t * M + m]);
            for (size_t g = rt->first_group, i = 0; g < rt->first_group + rt->n_groups; g++)
                for (size_t j = 0; j < an->groups[g].n; j++)
                    idx[i++] = an->groups[g].runs[j];
            ref_summary(r, d, idx, k, &rt->seqref, &r->rsum[t * M + m]);
        }
    }
    free(v);
    free(idx);
    return 0;
}

int pb_result_build(const pb_dataset *ds, const pb_result_opts *o, pb_result *r)
{
    memset(r, 0, sizeof *r);
    r->ds = ds;
    r->opts = *o;
    if (r->opts.knee_pct <= 0)
        r->opts.knee_pct = PB_KNEE_DEFAULT;
    pb_analysis_opts ao = {.boot_reps = o->boot_reps, .seed = o->seed,
                           .baseline = o->baseline,
                           .sequential_ref = o->sequential_ref,
                           .drop_first = o->drop_first};
    if (pb_analysis_build_opts(ds, &ao, &r->an) != 0)
        return -1;
    r->dv = calloc(ds->n_runs ? ds->n_runs : 1, sizeof *r->dv);
    if (!r->dv)
        goto oom;
    r->ref_configs = pb_derive_dataset(ds, o->sequential_ref, o->drop_first, r->dv);
    if (pb_answer_build(ds, &r->an, o->sequential_ref, &r->ans) != 0 ||
        pb_scaling_build(ds, r->opts.knee_pct, &r->sc) != 0 ||
        summaries(r) != 0 || pb_servers_settings_build(ds, &r->an, r->dv, &r->st) != 0 ||
        pb_warn_build(r, &r->warn) != 0)
        goto oom;
    return 0;
oom:
    pb_result_free(r);
    return -1;
}

void pb_result_free(pb_result *r)
{
    pb_analysis_free(&r->an);
    pb_answer_free(&r->ans);
    pb_scaling_free(&r->sc);
    pb_servers_settings_free(&r->st);
    pb_warn_free(&r->warn);
    free(r->dv);
    free(r->gsum);
    free(r->rsum);
    memset(r, 0, sizeof *r);
}
