/* pb_ratio: speedups estimated as ratios.
 *
 * Why: a mean of per-run ratios against another runtime's mean treats that
 * mean as known and biases the estimate (async-std against itself read
 * 1.066 on TR115). An unpaired speedup is a ratio of two means, with the
 * uncertainty of both (Fieller). A paired speedup (solo and concurrent
 * phases of the same run) is a ratio per run, summarised on the log scale,
 * where ratios are symmetric and an interval cannot go below 0.
 * Formulas: /work/shared/notes/stats-methods.md, analyze/README.md. */
#ifndef PB_RATIO_H
#define PB_RATIO_H

#include <stddef.h>
#include <stdint.h>

/* Ratio of means R = a / b with a = sum over strata of the numerator's
 * stratum means, b likewise for the denominator (every stratum weighs the
 * same). */
typedef struct pb_ratio {
    size_t n_strata;          /* strata with >= 2 values on both sides */
    size_t n_num, n_den;      /* values used on each side */
    double est;               /* a / b */
    double lo, hi;            /* 95% Fieller CI (Student t, df below) */
    double df;                /* Welch-Satterthwaite df of a - R b */
    double se;                /* delta-method standard error of est:
                               * est sqrt(va/a^2 + vb/b^2) (hyperfine's ±) */
    double a, va, b, vb;      /* the two sums and their variances (Fieller's
                               * inputs: another level via pb_ratio_fieller) */
    int unbounded;            /* 1: b not significantly different from 0
                               * (g >= 1): lo = hi = NAN, say "unbounded" */
    int clipped;              /* 1: Fieller's lower bound was below 0 (a
                               * ratio of positive means cannot be) and
                               * was set to 0 */
    double boot_lo, boot_hi;  /* 95% percentile bootstrap: both samples
                               * resampled within each stratum; NAN when off */
} pb_ratio;

/* num[0..n_num) and den[0..n_den) hold values; num_stratum[i] and
 * den_stratum[j] their stratum ids (0 .. n_strata_max-1). Strata missing a
 * side, or with fewer than 2 values on a side, are left out of both sums.
 * When num and den are the same array (same pointers and counts), the ratio
 * is exactly 1 with a zero-width interval. boot_reps 0 = no bootstrap; the
 * bootstrap also needs PB_BOOT_MIN_N values on each side of every stratum
 * used (it resamples within strata); seed as pb_stats_stream_seed. Returns 0, -1 when out of memory (out NAN). */
int pb_ratio_of_means(const double *num, const size_t *num_stratum, size_t n_num,
                      const double *den, const size_t *den_stratum, size_t n_den,
                      size_t n_strata_max, unsigned boot_reps, uint32_t seed,
                      pb_ratio *out);

/* Fieller's interval from the two sums and the variances of those sums.
 * q: the t (or z) quantile. Sets lo/hi, or unbounded. Exposed for tests. */
void pb_ratio_fieller(double a, double va, double b, double vb, double q,
                      double *lo, double *hi, int *unbounded);

/* Geometric mean of positive ratios r[0..n) (NAN / <= 0 skipped) with the
 * 95% Student t interval of the mean log ratio, exponentiated. */
typedef struct pb_geomean {
    size_t n;
    double gm, lo, hi;        /* lo/hi NAN for n < 2 */
    double log_mean, log_sd;  /* of ln r */
} pb_geomean;

void pb_ratio_geomean(const double *r, size_t n, pb_geomean *out);

#endif
