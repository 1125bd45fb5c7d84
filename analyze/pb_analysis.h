/* pb_analysis: the original study's aggregations and the comparisons,
 * computed once from a pb_dataset for the Markdown report and the CSV.
 *
 * Only runs with valid != 0 enter. The metric is the original study's
 * efficiency (pb_run.est_efficiency, percent) and speedup. Runtimes and
 * configs are sorted by name (strcmp) so output is deterministic. */
#ifndef PB_ANALYSIS_H
#define PB_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "pb_model.h"
#include "pb_stats.h"

typedef struct pb_group {
    const char *runtime, *config;   /* borrowed from the dataset */
    size_t n;
    size_t *runs;                   /* indices into ds->runs (owned) */
    pb_summary eff, speedup;
} pb_group;

typedef struct pb_rt {
    const char *runtime;
    size_t first_group, n_groups;   /* groups[first_group ..+n_groups) */
    /* (a) over config means, as the original script did */
    double cfg_peak;                /* max of the config mean efficiencies */
    const char *cfg_peak_config;
    double cfg_mean, cfg_sd;        /* mean and sample SD of the config means */
    double cfg_peak_speedup;        /* max of the config mean speedups */
    double cfg_mean_sd;             /* mean of the per-config SDs */
    const char *most_stable, *least_stable; /* min / max per-config SD */
    double most_stable_sd, least_stable_sd;
    /* (b) over individual runs */
    pb_summary eff, speedup;
    double run_peak;                /* single-run max efficiency */
    size_t run_peak_idx;            /* index into ds->runs */
    double *values;                 /* efficiencies of its runs (owned) */
} pb_rt;

typedef struct pb_pair {
    size_t a, b;                    /* indices into rts: a vs b */
    pb_compare c;
} pb_pair;

typedef struct pb_analysis {
    pb_group *groups;
    size_t n_groups;
    pb_rt *rts;
    size_t n_rts;
    pb_pair *pairs;                 /* all pairs a < b, Holm across them */
    size_t n_pairs;
    pb_pair *vs_base;               /* each runtime vs --baseline */
    size_t n_vs_base;
    long baseline;                  /* index into rts, -1 if none/unknown */
} pb_analysis;

/* Builds the analysis. boot_reps / seed go to every bootstrap CI.
 * baseline may be NULL. Returns 0, -1 when out of memory. */
int pb_analysis_build(const pb_dataset *ds, unsigned boot_reps, uint64_t seed,
                      const char *baseline, pb_analysis *out);
void pb_analysis_free(pb_analysis *a);

/* Index of runtime name in a->rts, or -1. */
long pb_analysis_find_rt(const pb_analysis *a, const char *name);

#endif
