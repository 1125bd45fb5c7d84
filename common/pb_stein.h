/* pb_stein: Stein's two-stage procedure for a fixed-width interval of a
 * mean, shared by collect (--target-ci decides how many runs a group gets)
 * and analyze (prints the final interval and whether the target was met).
 *
 * Why not "add runs until the t interval is narrow enough": that rule stops
 * on the runs whose sample SD happens to be small, so its final interval is
 * too narrow (covered 79-83% for skewed data) and the mean slightly biased.
 * Stein's procedure looks at the data once: a pilot of n0 runs gives the SD
 * s0; the group gets N = max(n0, ceil((t(0.975, n0-1) s0 / d)^2)) runs in
 * total (d = the target half-width). Stein's final interval is
 * mean(all N) +- t(0.975, n0-1) s0 / sqrt(N): exact for normal data,
 * because N depends on s0 only (Stein 1945). For skewed data a small pilot
 * often underestimates the SD, N is then too small and that interval too
 * narrow (gamma data of skewness 1: 93%). So the final half-width is the
 * larger of Stein's and the t interval of all N runs (t(0.975, N-1) s_N /
 * sqrt(N)): Stein's when the runs agree with the pilot, wider (and the
 * target reported missed) when they show it underestimated the spread.
 * Coverage, normal and skewed, capped or not: tests/analyze/
 * test_coverage.c (>= 94%). */
#ifndef PB_STEIN_H
#define PB_STEIN_H

#include <stddef.h>

/* Smallest pilot: with fewer runs s0 is too rough to plan on (t(0.975, 1)
 * = 12.7), and the width rule it replaces stopped groups at 3 runs. */
#define PB_STEIN_MIN_PILOT 5

/* Total runs for a group whose pilot has the finite values x[0..m) out of
 * n0 pilot runs, for a half-width of target_pct% of the pilot mean, capped
 * at max_runs (>= n0). n0 when m < 2 or the pilot has no spread. */
int pb_stein_total(const double *x, size_t m, int n0, double target_pct, int max_runs);

/* The final interval: mean of all[0..n) (finite values) +- the larger of
 * t(0.975, m0-1) s0 / sqrt(n) (s0 the SD of the pilot's values
 * pilot[0..m0)) and t(0.975, n-1) s_n / sqrt(n) (s_n that of all[0..n)).
 * NAN bounds when m0 < 2; all NAN when n = 0. Returns 1 when the target
 * was met: the half-width is at most d = target_pct% of the pilot mean, the
 * width the run count was planned for (Stein's part always is, unless
 * capped; the t part is not when the pilot underestimated the spread);
 * 0 when missed or unknown. */
int pb_stein_interval(const double *pilot, size_t m0, const double *all, size_t n,
                      double target_pct, double *mean, double *lo, double *hi);

#endif
