/* pb_anova: two-way ANOVA, runtime (factor A) x config (factor B) with
 * interaction, and the runtime means adjusted for config.
 *
 * Why: a runtime's runs come from several configs; tests that pool them
 * treat config effects as noise. The ANOVA separates the two factors, and
 * the estimated marginal means (EMM: the unweighted mean of a runtime's
 * cell means) compare runtimes as if every one ran every config equally.
 *
 * Balanced design (every cell the same n >= 1): the classical sums of
 * squares. Unbalanced: type II sums of squares from nested least-squares
 * fits (gsl_multifit_linear): SS(A | B) = RSS(B) - RSS(A + B),
 * SS(B | A) = RSS(A) - RSS(A + B), SS(AB) = RSS(A + B) - RSS(A * B), where
 * RSS(A * B) is the within-cell sum of squares. ss_type says which. */
#ifndef PB_ANOVA_H
#define PB_ANOVA_H

#include <stddef.h>

typedef struct pb_anova_row {
    double ss, df, ms, F, p;  /* F, p NAN for the error row or df_E = 0 */
} pb_anova_row;

typedef struct pb_anova {
    size_t n;                 /* observations used (finite y) */
    size_t na, nb;            /* levels (as given; empty levels allowed) */
    size_t na_used, nb_used;  /* levels with at least one observation */
    size_t cells_used;        /* non-empty cells */
    int balanced;
    const char *ss_type;      /* "classical (balanced)" or "type II" */
    pb_anova_row a, b, ab, err;
    /* Per cell (row-major a * nb + b): count and mean. Owned. */
    size_t *cell_n;
    double *cell_mean;
    /* Per level of A: estimated marginal mean (mean of its cell means over
     * the levels of B) and 95% CI with the error df; NAN when one of its
     * cells is empty or df_E = 0. Owned. */
    double *emm, *emm_lo, *emm_hi;
} pb_anova;

/* y[i] belongs to level fa[i] < na of A and fb[i] < nb of B. Non-finite y
 * are skipped. Returns 0, -1 when out of memory. */
int pb_anova_two_way(const double *y, const size_t *fa, const size_t *fb,
                     size_t n, size_t na, size_t nb, pb_anova *out);
void pb_anova_free(pb_anova *a);

/* EMM(i) - EMM(k) with its 95% CI (t with the error df; variance
 * MS_E / nb^2 * sum over B of (1/n_ij + 1/n_kj)). NAN when not estimable. */
void pb_anova_emm_diff(const pb_anova *a, size_t i, size_t k, double *d,
                       double *lo, double *hi);

#endif
