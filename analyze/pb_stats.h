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
    double boot_lo, boot_hi;  /* always NAN: kept for the JSON/CSV schema.
                               * BCa covered < 94% at n = 5, 10 and 30 in
                               * the committed simulation (test_coverage) */
    int clipped;              /* 1: an interval left the metric's range and
                               * was clipped to it (pb_stats_clip) */
} pb_summary;

/* pb_ratio_of_means bootstraps only when every stratum has at least this
 * many values on each side (it resamples within strata: the total does not
 * count). analyze itself asks for no bootstrap at all: in the committed
 * simulation (tests/analyze/test_coverage.c) the percentile bootstrap of a
 * ratio covered < 94% at 10, 30 and 50 values per stratum for skewed data,
 * and BCa of a mean < 94% at n = 5, 10, 30; Fieller and t are printed. */
#define PB_BOOT_MIN_N 10

/* Turns off GSL's abort-on-error handler (call once at start-up). */
void pb_stats_init(void);

/* Summary of x[0..n) ignoring NANs. boot_reps and seed are unused: no
 * bootstrap interval reached 94% coverage at the sizes benchmarks have
 * (see boot_lo); they stay for callers and the schema. */
void pb_stats_summarize(const double *x, size_t n, unsigned boot_reps,
                        uint64_t seed, pb_summary *out);

/* The BCa interval of the mean of v[0..m) (m >= 2, no NANs) from `reps`
 * resamples of an mt19937 stream seeded with `seed`; NAN when m < 2 or the
 * interval is undefined. pb_stats_summarize calls it from PB_BOOT_MIN_N
 * values on; exposed for the coverage simulation that sets that limit. */
void pb_stats_bca_mean(const double *v, size_t m, unsigned reps,
                       uint64_t seed, double *lo, double *hi);

/* pb_stats_summarize of values that come in clusters (the agents of one
 * run): cluster[i] is x[i]'s cluster id, the values of one cluster adjacent.
 * Same mean, SD and quantiles; the 95% interval of the mean is the
 * cluster-robust one (CR1 sandwich, t on G - 1 df for G clusters with a
 * value), so agents of one run are not counted as independent runs. */
void pb_stats_summarize_clustered(const double *x, const size_t *cluster,
                                  size_t n, pb_summary *out);

/* The best (largest mean) of k groups x[g][0..n[g]) (NANs skipped) and a
 * 95% interval for that group's true mean valid whichever group the data
 * picked: its Student t interval at level 1 - 0.05 / k (Bonferroni over the
 * k groups). A percentile bootstrap of the maximum of the means is biased
 * upward (it covered the true mean 16% of the time with six equal groups);
 * this one's coverage is checked by tests/analyze/test_coverage.c. lo = hi =
 * NAN when a group has fewer than 2 values. */
void pb_stats_best_mean(const double *const *x, const size_t *n, size_t k,
                        size_t *best, double *lo, double *hi);

/* The seed of one group's random stream: FNV-1a of the printed seed and the
 * group's name parts (b may be NULL), folded to the 32 bits mt19937 uses,
 * never 0. Groups of equal size then do not share resampling indices, and
 * the stream is still reproducible from the printed seed. */
uint32_t pb_stats_stream_seed(uint64_t seed, const char *a, const char *b);

/* Clips the t and bootstrap intervals of s to [lo, hi] (a mean efficiency
 * cannot exceed 100%) and sets s->clipped when that changed anything, so
 * the report can say so instead of printing an impossible bound. */
void pb_stats_clip(pb_summary *s, double lo, double hi);

/* gsl_cdf_tdist_Pinv(p, df), remembered: a report asks for the same few
 * (p, df) thousands of times (every summary, every power bisection step),
 * and each GSL call iterates. The value is GSL's, bit for bit. */
double pb_stats_t_quantile(double p, double df);

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
    double cohen_d;            /* diff / pooled SD (assumes equal variances) */
    double hedges_g, g_lo, g_hi; /* small-sample corrected d, 95% CI (equal var.) */
    double glass_delta;        /* diff / sd2: Glass's delta with the SD of b
                                * (the baseline); valid for unequal variances */
    double hl_shift, hl_lo, hl_hi; /* Hodges-Lehmann shift a - b and its 95%
                                * distribution-free CI (pb_stats_hodges_lehmann) */
    double welch_p_holm, mw_p_holm; /* filled by the caller via pb_stats_holm */
} pb_compare;

/* Fills *out; fields that need more data than given are NAN (Welch and d
 * need n >= 2 in both samples, Mann-Whitney n >= 1). */
void pb_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                      pb_compare *out);

/* The Welch part of pb_stats_compare alone (n, means, SDs, diff, welch_*,
 * diff_lo/hi; the rest NAN), with the same values: for callers that read
 * nothing else (the answer's ratio), as Mann-Whitney and Hodges-Lehmann
 * were most of a comparison's time. */
void pb_stats_welch(const double *a, size_t na, const double *b, size_t nb,
                    pb_compare *out);

/* Mid-ranks of v[0..n) into rank[] (ties share the mean of their ranks,
 * 1-based) and, when tie_sum is not NULL, the sum of (t^3 - t) over tie
 * groups for the variance corrections. -1 when out of memory. Shared by
 * Mann-Whitney, van Elteren and Spearman. */
int pb_stats_midranks(const double *v, size_t n, double *rank, double *tie_sum);

/* Mann-Whitney alone. Exact null distribution when both samples have at
 * most PB_MW_EXACT_MAX values and there are no ties; otherwise the normal
 * approximation with tie correction and continuity correction 0.5. */
#define PB_MW_EXACT_MAX 50
void pb_stats_mann_whitney(const double *a, size_t na, const double *b,
                           size_t nb, double *u, double *p, int *exact);

/* Exact null distribution of U (no ties): P(U <= u) for sizes n1, n2, from
 * the lower tail only (additions of non-negative counts), over C(n1+n2, n1).
 * NAN when out of memory. Used for the exact p (with the symmetry
 * P(U >= u) = P(U <= n1 n2 - u)) and the Hodges-Lehmann interval. */
double pb_stats_mw_cdf(size_t n1, size_t n2, double u);

/* Hodges-Lehmann shift of a vs b: the median of the n1 n2 differences
 * a_i - b_j, with the 95% interval from the k-th smallest to the k-th
 * largest difference, k the largest integer with P(U <= k - 1) <= 0.025
 * (exact distribution when n1, n2 <= PB_MW_EXACT_MAX and no tied
 * differences, else k = floor(n1 n2 / 2 - 1.959964 sqrt(n1 n2 (n1+n2+1)/12))).
 * lo = hi = NAN when k < 1 (too few values for a 95% interval). Needs all
 * n1 n2 differences sorted: above PB_HL_MAX_PAIRS (e.g. 200 runs per side)
 * everything is NAN and the report prints n/a, so the cost of a report
 * stays linear in the runs (at such sizes the Welch interval is the one to
 * read). */
#define PB_HL_MAX_PAIRS 40000
void pb_stats_hodges_lehmann(const double *a, size_t na, const double *b,
                             size_t nb, double *shift, double *lo, double *hi);

/* Holm step-down adjustment of p[0..n) into adj[0..n) (may alias p).
 * NAN entries stay NAN and do not count towards the number of tests. */
void pb_stats_holm(const double *p, size_t n, double *adj);

#endif
