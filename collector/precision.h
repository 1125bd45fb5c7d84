/* precision: sampling to a precision (`--target-ci PCT`, `--max-runs N`).
 *
 * After the planned runs, a (runtime, config) group gets more runs while the
 * 95% Student-t interval of its measured speedup (sum of the agents' solo
 * phase spans / concurrent phase span, per run) is wider than +-PCT% of its
 * mean, up to max_runs runs; runs are added round-robin over the groups that
 * still need one (one each per round, then every group is judged again).
 * A rule on the interval's width, unlike one on significance, does not stop
 * at the runs that happen to look extreme, so it does not bias the
 * estimate. */
#ifndef PB_PRECISION_H
#define PB_PRECISION_H

#include <cjson/cJSON.h>

#define PB_PRECISION_RULE \
    "after the planned runs, runs are added round-robin (one per group and round) to every " \
    "(runtime, config) whose 95% Student-t interval of the measured speedup is wider than " \
    "+-target_ci_pct% of its mean, until every group is narrow enough or has max_runs runs; " \
    "a width rule, not a significance rule, so stopping does not bias the estimate"

/* Measured speedup of a valid trace with solo phases; NAN otherwise. */
double pb_precision_speedup(const cJSON *trace);

/* Half-width of the 95% Student-t interval of the mean of x[0..n) as a
 * percentage of the mean; INFINITY when n < 2 or the mean is 0. */
double pb_precision_halfwidth_pct(const double *x, int n);

#endif
