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
 * (0 = skip) with gsl_rng mt19937 seeded by `seed`. Each call seeds a fresh
 * generator, so a group's interval does not depend on what ran before. */
void pb_stats_summarize(const double *x, size_t n, unsigned boot_reps,
                        uint64_t seed, pb_summary *out);

/* Quantile q in [0,1] of x (NANs skipped), R type 7. NAN when empty. */
double pb_stats_quantile(const double *x, size_t n, double q);

/* Copies the non-NAN values of x into a new malloc'd array; *m = count.
 * Returns NULL (and *m = 0) when there are none or on allocation failure. */
double *pb_stats_finite(const double *x, size_t n, size_t *m);

/* Two-sample comparison of a vs b (difference = mean(a) - mean(b)). */
typedef struct pb_compare {
    size_t n1, n2;
    double mean1, mean2, sd1, sd2;
    double diff;               /* mean1 - mean2 */
    double welch_se, welch_df, welch_t;
    double diff_lo, diff_hi;   /* 95% Welch CI of diff */
    double welch_p;            /* two-sided */
    double mw_u;               /* Mann-Whitney U of sample a (R's W) */
    double mw_p;               /* two-sided */
    int mw_exact;              /* 1 exact distribution, 0 normal approx */
    double cohen_d;            /* diff / pooled SD */
    double hedges_g, g_lo, g_hi; /* small-sample corrected d, 95% CI */
    double welch_p_holm, mw_p_holm; /* filled by the caller via pb_stats_holm */
} pb_compare;

/* Fills *out; fields that need more data than given are NAN (Welch and d
 * need n >= 2 in both samples, Mann-Whitney n >= 1). */
void pb_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                      pb_compare *out);

/* Mann-Whitney alone. Exact null distribution when both samples have at
 * most PB_MW_EXACT_MAX values and there are no ties; otherwise the normal
 * approximation with tie correction and continuity correction 0.5. */
#define PB_MW_EXACT_MAX 50
void pb_stats_mann_whitney(const double *a, size_t na, const double *b,
                           size_t nb, double *u, double *p, int *exact);

/* Holm step-down adjustment of p[0..n) into adj[0..n) (may alias p).
 * NAN entries stay NAN and do not count towards the number of tests. */
void pb_stats_holm(const double *p, size_t n, double *adj);

#endif
