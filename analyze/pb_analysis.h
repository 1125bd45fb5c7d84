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

#include "pb_anova.h"
#include "pb_metric.h"
#include "pb_model.h"
#include "pb_rank.h"
#include "pb_ratio.h"
#include "pb_stats.h"

/* Order effects and outliers of one group, on the concurrent wall time
 * (s) in run order (issue 8 section 6). */
typedef struct pb_order {
    size_t n;
    double rho, rho_p;        /* Spearman: wall time vs run index */
    double first_diff;        /* run 1 - mean of the rest, s */
    double first_t, first_p;  /* prediction t test of run 1 (pb_rank_first_run) */
    pb_tukey tukey;           /* fences of the wall times */
    pb_outlier *cls;          /* per run of the group (owned), NULL if none */
} pb_order;

typedef struct pb_group {
    const char *runtime, *config;   /* borrowed from the dataset */
    size_t n;
    size_t *runs;                   /* indices into ds->runs (owned), run order */
    size_t cfg;                     /* index into pb_analysis.configs */
    size_t n_dropped;               /* first runs dropped by --drop-first */
    pb_summary eff, speedup;
    pb_order order;
    pb_ratio seqref;                /* --sequential-ref: mean wall of the
                                     * reference in this config / mean wall
                                     * here (Fieller; no bootstrap at n <
                                     * PB_BOOT_MIN_N); est NAN without one */
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
    /* parbench's own statistics (issue 8): */
    size_t n_runs;                  /* valid runs (after --drop-first) */
    size_t *run_cfg;                /* config index of each run, group order (owned) */
    double *mvals[PB_M_COUNT];      /* metric values per run, group order (owned) */
    pb_summary msum[PB_M_COUNT];    /* per metric over runs (no bootstrap) */
    double mcenter[PB_M_COUNT];     /* per metric, the centre comparisons use:
                                     * geometric mean for log-scale metrics,
                                     * else the mean; NAN without values */
    pb_geomean paired_speedup;      /* measured speedup: geometric mean [t CI of
                                     * the mean ln ratio], n; efficiency = / N */
    pb_ratio seqref;                /* --sequential-ref ratio of means over
                                     * configs (sums of config means): est,
                                     * Fieller CI + df, unbounded (boot_lo/hi
                                     * NAN: analyze asks for no bootstrap) */
    int seqref_is_self;             /* the reference itself: exactly 1 */
    /* Best config by mean efficiency (biased upwards: the maximum of noisy
     * means): despite the name, the picked config's t interval at level
     * 1 - 0.05/k over the k configs (pb_stats_best_mean, Bonferroni; the
     * bootstrap of the maximum it replaced covered 16%); NAN when a config
     * has < 2 runs. */
    double best_boot_lo, best_boot_hi;
} pb_rt;

/* One comparison of two runtimes on one metric (issue 8 sections 2-4, 7).
 * Families: one Holm family per metric and test over all pairs; a pair
 * with the --baseline is the same entry (oriented "other vs baseline"), so
 * every p value appears once. */
typedef struct pb_comparison {
    pb_metric_id metric;
    size_t a, b;                    /* indices into rts: a vs b */
    int with_baseline;              /* b is --baseline */
    int log_scale;                  /* values compared as ln */
    /* Estimate: mean(a) - mean(b), or on the log scale the ratio of
     * geometric means exp(mean ln a - mean ln b); 95% Welch CI. */
    double estimate, lo, hi;
    const char *test;               /* "Welch t (pooled over configs)" */
    double statistic, df, p, p_holm;
    char family[64];                /* "all pairs: <metric key>" */
    pb_compare c;                   /* on the compared scale (ln for log):
                                     * Welch, Mann-Whitney (pooled), Cohen's d,
                                     * Hedges' g, Glass's delta, HL shift + CI */
    /* van Elteren (Mann-Whitney stratified by config) and its Holm p in
     * the same metric's van Elteren family. */
    pb_vanelteren ve;
    double ve_p_holm;
    /* Runtime difference adjusted for config: difference of the ANOVA's
     * estimated marginal means (ratio for log metrics) with its 95% CI. */
    double adj, adj_lo, adj_hi;
    /* Power (alpha 0.05, power 0.8) on the compared scale: minimum
     * detectable difference (log metrics: as a ratio, exp(mdd)), the
     * target difference (metric target: 1 pp, or 2%) and runs per group
     * needed for it (INFINITY above 1e6). */
    double mdd, target, n_needed;
} pb_comparison;

typedef struct pb_analysis {
    pb_group *groups;
    size_t n_groups;
    pb_rt *rts;
    size_t n_rts;
    long baseline;                  /* index into rts, -1 if none/unknown */
    /* parbench's own statistics (issue 8); see pb_comparison. */
    const char **configs;           /* sorted config names (owned array,
                                     * borrowed strings) */
    size_t n_configs;
    size_t drop_first;              /* --drop-first N applied to every group */
    size_t n_dropped;               /* runs dropped in total */
    long seqref;                    /* --sequential-ref runtime in rts, -1 */
    pb_comparison *cmps;            /* per metric, all pairs (metric-major) */
    size_t n_cmps;
    pb_anova anova[PB_M_COUNT];     /* runtime x config, per metric (ln for
                                     * log metrics); n = 0 when no data */
    uint64_t seed;                  /* seed of the bootstrap streams (0 from
                                     * analyze, which bootstraps nothing) */
    unsigned boot_reps;
} pb_analysis;

/* Options of pb_analysis_build_opts (zero = defaults: no bootstrap). */
typedef struct pb_analysis_opts {
    unsigned boot_reps;
    uint64_t seed;
    const char *baseline;           /* --baseline, or NULL */
    const char *sequential_ref;     /* --sequential-ref, or NULL */
    size_t drop_first;              /* --drop-first N */
    int answer_only;                /* only what pb_answer reads: groups,
                                     * runtime values, paired speedups and
                                     * the reference ratio (no comparisons,
                                     * ANOVA, order effects):
                                     * the robustness re-analyses */
} pb_analysis_opts;

int pb_analysis_build_opts(const pb_dataset *ds, const pb_analysis_opts *o,
                           pb_analysis *out);

/* Builds the analysis. boot_reps / seed would go to a bootstrap CI (each
 * group's stream derived from seed and its name); none is computed at
 * present (pb_stats.h: none reached 94% coverage), analyze passes 0. baseline may be NULL.
 * Returns 0, -1 when out of memory. Same as pb_analysis_build_opts with
 * no sequential reference and no dropped runs. */
int pb_analysis_build(const pb_dataset *ds, unsigned boot_reps, uint64_t seed,
                      const char *baseline, pb_analysis *out);
void pb_analysis_free(pb_analysis *a);

/* Index of runtime name in a->rts, or -1. */
long pb_analysis_find_rt(const pb_analysis *a, const char *name);

#endif
