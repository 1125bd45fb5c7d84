/* pb_rank: rank-based and order statistics beyond Mann-Whitney: the
 * config-stratified van Elteren test, Spearman's trend over run index, the
 * first-run effect, and Tukey's outlier fences.
 *
 * Why: pooled tests treat runs of different configs as one sample (van
 * Elteren compares within each config, then combines); a warm-up run or a
 * drift over the run index biases every mean built on it (TR115's run 1 is
 * slower in every runtime); outliers are counted and listed, never dropped
 * silently. Formulas: analyze/README.md. */
#ifndef PB_RANK_H
#define PB_RANK_H

#include <stddef.h>

typedef struct pb_vanelteren {
    size_t n_strata;          /* strata with values on both sides */
    double T, E, var;         /* weighted rank sum, its mean and variance */
    double z, p;              /* normal approximation, two-sided */
} pb_vanelteren;

/* a[i] in stratum sa[i], b[j] in sb[j] (ids < ns); NANs skipped. Weight
 * 1 / (N_k + 1) per stratum, mid-ranks, tie-corrected variance. Returns 0,
 * -1 when out of memory. */
int pb_rank_van_elteren(const double *a, const size_t *sa, size_t na,
                        const double *b, const size_t *sb, size_t nb,
                        size_t ns, pb_vanelteren *out);

/* Spearman's rho of (x, y) pairs (pairs with a NAN skipped), mid-ranks.
 * p: for n <= PB_SPEARMAN_EXACT_MAX the exact two-sided permutation p over
 * all n! pairings (scipy.stats.permutation_test, 'pairings'); above, from
 * t = rho sqrt((n - 2) / (1 - rho^2)) with n - 2 df (scipy's spearmanr).
 * n >= 3, else NAN. */
#define PB_SPEARMAN_EXACT_MAX 10
void pb_rank_spearman(const double *x, const double *y, size_t n, double *rho,
                      double *p, size_t *used);

/* Run 1 against the rest: x[0] is the first run, x[1..n) the others (in run
 * order). diff = x[0] - mean(rest); t = diff / (sd(rest) sqrt(1 + 1/m)),
 * m - 1 df (is run 1 a new draw from the rest's distribution?). NAN when
 * the rest has fewer than 2 values or no spread. */
void pb_rank_first_run(const double *x, size_t n, double *diff, double *t,
                       double *p);

/* Tukey's fences (type-7 quartiles), criterion.rs's classes. */
typedef enum pb_outlier {
    PB_OUT_NONE = 0, PB_OUT_LOW_SEVERE, PB_OUT_LOW_MILD, PB_OUT_HIGH_MILD,
    PB_OUT_HIGH_SEVERE
} pb_outlier;

typedef struct pb_tukey {
    size_t n;
    double q1, q3, iqr;
    double lo_severe, lo_mild, hi_mild, hi_severe; /* the four fences */
    size_t n_mild, n_severe;  /* mild: beyond 1.5 IQR, within 3 IQR */
} pb_tukey;

/* Fences of x[0..n) (NANs skipped); cls (may be NULL) gets each value's
 * class (NONE for a NAN). */
void pb_rank_tukey(const double *x, size_t n, pb_tukey *out, pb_outlier *cls);

#endif
