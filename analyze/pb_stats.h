/* pb_stats: descriptive statistics and comparisons on top of GSL.
 *
 * Every function skips NAN inputs (a quantity the source did not have) and
 * reports the count it actually used. Nothing here aborts: GSL's default
 * error handler is replaced by pb_stats_init(). */
#ifndef PB_STATS_H
#define PB_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pb_summary {
    size_t n;
    double mean, sd;          /* sd: sample SD (n-1); NAN for n < 2 */
    double min, max, median;  /* median: R type 7 */
    double ci_lo, ci_hi;      /* 95% CI of the mean, Student t; NAN n < 2 */
    double boot_lo, boot_hi;  /* 95% percentile-bootstrap CI; NAN n < 2 */
} pb_summary;

/* Turns off GSL's abort-on-error handler (call once at start-up). */
void pb_stats_init(void);

/* Summary of x[0..n) ignoring NANs. Bootstrap: `boot_reps` resamples
 * (0 = skip) with gsl_rng mt19937 seeded by `seed`. */
void pb_stats_summarize(const double *x, size_t n, unsigned boot_reps,
                        uint64_t seed, pb_summary *out);

/* Quantile q in [0,1] of x (NANs skipped), R type 7. NAN when empty. */
double pb_stats_quantile(const double *x, size_t n, double q);

#endif
