/* pb_sampling: see pb_sampling.h. */
#include "pb_sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_stein.h"

static int same_group(const pb_run *a, const pb_run *b)
{
    return strcmp(a->runtime, b->runtime) == 0 && strcmp(a->config, b->config) == 0;
}

int pb_sampling_build(const pb_dataset *ds, pb_sampling_group **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    double *pilot = malloc((ds->n_runs + 1) * sizeof *pilot);
    double *all = malloc((ds->n_runs + 1) * sizeof *all);
    if (!pilot || !all) {
        free(pilot), free(all);
        return -1;
    }
    /* Few groups use --target-ci: a scan per group is fine. */
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        if (!(r->target_ci_pct > 0))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = ds->runs[j].target_ci_pct > 0 && same_group(&ds->runs[j], r);
        if (seen)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            pb_sampling_group *g = realloc(*out, cap * sizeof *g);
            if (!g) {
                free(pilot), free(all);
                return -1;
            }
            *out = g;
        }
        pb_sampling_group *g = &(*out)[(*n)++];
        memset(g, 0, sizeof *g);
        g->runtime = r->runtime;
        g->config = r->config;
        g->target_pct = r->target_ci_pct;
        g->planned = r->planned_runs;
        g->max_runs = r->max_runs;
        /* The pilot: the planned runs (not added by the rule). */
        for (size_t j = i; j < ds->n_runs; j++) {
            const pb_run *q = &ds->runs[j];
            if (!(q->target_ci_pct > 0) || !same_group(q, r))
                continue;
            g->n_runs++;
            g->n_added += q->sampling_added != 0;
            if (!q->valid || !isfinite(q->meas_speedup))
                continue;
            all[g->n_valid++] = q->meas_speedup;
            if (!q->sampling_added)
                pilot[g->n_pilot++] = q->meas_speedup;
        }
        g->met = pb_stein_interval(pilot, g->n_pilot, all, g->n_valid, g->target_pct,
                                   &g->mean, &g->lo, &g->hi);
        g->halfwidth_pct = fabs(g->mean) > 0 ? (g->hi - g->mean) / fabs(g->mean) * 100 : NAN;
    }
    free(pilot), free(all);
    return 0;
}
