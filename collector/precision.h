/* precision: sampling to a precision (`--target-ci PCT`, `--max-runs N`).
 *
 * Stein's two-stage procedure (common/pb_stein.h): the planned runs (at
 * least PB_STEIN_MIN_PILOT) are the pilot; from the SD of its measured
 * speedups (sum of the agents' solo phase spans / concurrent phase span,
 * per run) each (runtime, config) gets N = ceil((t(0.975, n0-1) s0 / d)^2)
 * runs in total, d = PCT% of the pilot mean, at most max_runs; the extra
 * runs are added round-robin over the groups (one each per round). The
 * final interval is Stein's (the pilot's SD, t on the pilot's df), widened
 * to the t interval of all runs when that is wider (pb_stein.h says why). The earlier rule ("add runs until
 * the t interval is narrow enough") stopped on runs whose SD happened to be
 * small: for skewed data its final 95% interval covered 79-83%. A group
 * capped by max_runs misses the target; collect and analyze say which. */
#ifndef PB_PRECISION_H
#define PB_PRECISION_H

#include <cjson/cJSON.h>

#include "pb_stein.h"

#define PB_PRECISION_RULE \
    "Stein's two-stage procedure: the planned runs are the pilot (at least 5); from the SD s0 " \
    "of its measured speedups each (runtime, config) gets N = ceil((t(0.975, n0-1) s0 / d)^2) " \
    "runs in total, d = target_ci_pct% of the pilot mean, at most max_runs, added round-robin; " \
    "the final 95% interval is mean(all runs) +- max(t(0.975, n0-1) s0, t(0.975, N-1) s_N) / sqrt(N)"

/* Measured speedup of a valid trace with solo phases; NAN otherwise. */
double pb_precision_speedup(const cJSON *trace);

/* Half-width of the final interval (pb_stein_interval) in percent of the
 * mean of all runs x[0..n), the pilot being x[0..m0); INFINITY when m0 < 2
 * or the mean is 0. *met (may be NULL): the target was met. */
double pb_precision_halfwidth_pct(const double *x, int m0, int n, double target_pct,
                                  int *met);

#endif
