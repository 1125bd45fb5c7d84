/* pb_scaling: efficiency and aggregate throughput against the number of
 * agents N (agent-count sweeps, `collect --agents 1,2,4,8`), per runtime
 * and config, and the "knee": the largest N that keeps efficiency above a
 * threshold (analyze --knee, default 90%).
 *
 * Pure computation on a pb_dataset (valid runs only); the numbers live in
 * pb_scaling so that the Markdown section, the chart and any exporter read
 * the same values. */
#ifndef PB_SCALING_H
#define PB_SCALING_H

#include <stddef.h>

#include "pb_model.h"
#include "pb_stats.h"

#define PB_KNEE_DEFAULT 90.0
/* Series label of runs that do not name a base config. */
#define PB_SCALING_ALL_CONFIGS "all configs"

typedef struct pb_scaling_point {
    size_t n_agents;          /* N */
    size_t runs;              /* valid runs at this N */
    /* Ratios, summarised on the log scale: mean = geometric mean, ci_lo /
     * ci_hi = exp of the Student t interval of the mean ln value (never
     * below 0); n, sd, min, max, median of the values themselves. */
    pb_summary eff;           /* efficiency %, per run (see eff_measured) */
    pb_summary speedup;       /* the matching speedup, per run */
    pb_summary throughput;    /* aggregate tokens/s: sum of the agents'
                                 concurrent tokens / concurrent wall */
} pb_scaling_point;

typedef struct pb_scaling_series {
    const char *runtime;      /* borrowed from the dataset */
    const char *config;       /* base config (run.base_config), borrowed, or
                                 PB_SCALING_ALL_CONFIGS */
    int eff_measured;         /* 1: measured (solo phases), 0: estimated */
    size_t n_points;
    pb_scaling_point *pts;    /* owned, N ascending */
    /* Largest N whose mean efficiency, and that of every smaller N, is >=
     * the threshold (N = 1 passes by definition: 100%); 0 when already the
     * smallest N is below it. */
    size_t knee_n;
    /* The same with the lower 95% bound instead of the mean (0 when none
     * or the interval is unknown, n < 2). */
    size_t knee_n_ci;
} pb_scaling_series;

typedef struct pb_scaling {
    double knee_pct;          /* threshold, percent */
    size_t n_series;
    pb_scaling_series *series;/* owned; runtime then config order (strcmp) */
} pb_scaling;

/* Builds the series with at least two distinct N. Returns 0, -1 when out of
 * memory (*out is then empty). */
int pb_scaling_build(const pb_dataset *ds, double knee_pct, pb_scaling *out);
void pb_scaling_free(pb_scaling *s);

/* Aggregate tokens/s of a run: the agents' concurrent tokens over its
 * concurrent wall; NAN when a count or the wall is missing. */
double pb_scaling_run_throughput(const pb_run *r);

#endif
