/* pb_anova: see pb_anova.h for the why and the sums of squares used. */
#include "pb_anova.h"
#include "pb_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit.h>

static void row_finish(pb_anova_row *r, const pb_anova_row *err)
{
    r->ms = r->df > 0 ? r->ss / r->df : NAN;
    r->F = r->p = NAN;
    if (r->df > 0 && err->df > 0 && err->ms > 0) {
        r->F = r->ms / err->ms;
        r->p = gsl_cdf_fdist_Q(r->F, r->df, err->df);
    }
}

/* RSS of y on an intercept plus treatment dummies of A (use_a) and/or B
 * (use_b), the first used level of each the reference. -1 on failure. */
static double rss_fit(const double *y, const size_t *fa, const size_t *fb,
                      const int *keep, size_t n, size_t m, const long *col_a,
                      const long *col_b, size_t pa, size_t pb, int use_a,
                      int use_b)
{
    size_t p = 1 + (use_a ? pa : 0) + (use_b ? pb : 0);
    gsl_matrix *X = gsl_matrix_calloc(m, p);
    gsl_vector *Y = gsl_vector_alloc(m), *c = gsl_vector_alloc(p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(m, p);
    double chisq = -1;
    if (X && Y && c && cov && w) {
        size_t r = 0;
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            gsl_matrix_set(X, r, 0, 1.0);
            if (use_a && col_a[fa[i]] >= 0)
                gsl_matrix_set(X, r, 1 + (size_t)col_a[fa[i]], 1.0);
            if (use_b && col_b[fb[i]] >= 0)
                gsl_matrix_set(X, r, 1 + (use_a ? pa : 0) + (size_t)col_b[fb[i]], 1.0);
            gsl_vector_set(Y, r++, y[i]);
        }
        if (gsl_multifit_linear(X, Y, c, cov, &chisq, w) != 0)
            chisq = -1;
    }
    if (X) gsl_matrix_free(X);
    if (Y) gsl_vector_free(Y);
    if (c) gsl_vector_free(c);
    if (cov) gsl_matrix_free(cov);
    if (w) gsl_multifit_linear_free(w);
    return chisq;
}

int pb_anova_two_way(const double *y, const size_t *fa, const size_t *fb,
                     size_t n, size_t na, size_t nb, pb_anova *o)
{
    memset(o, 0, sizeof *o);
    o->na = na;
    o->nb = nb;
    pb_anova_row nanrow = {NAN, NAN, NAN, NAN, NAN};
    o->a = o->b = o->ab = o->err = nanrow;
    o->ss_type = "n/a";
    size_t nc = na * nb;
    o->cell_n = calloc(nc ? nc : 1, sizeof *o->cell_n);
    o->cell_mean = calloc(nc ? nc : 1, sizeof *o->cell_mean);
    o->emm = malloc((na ? na : 1) * sizeof *o->emm);
    o->emm_lo = malloc((na ? na : 1) * sizeof *o->emm_lo);
    o->emm_hi = malloc((na ? na : 1) * sizeof *o->emm_hi);
    int *keep = malloc((n ? n : 1) * sizeof *keep);
    double *ma = calloc(na ? na : 1, sizeof *ma), *mb = calloc(nb ? nb : 1, sizeof *mb);
    size_t *nla = calloc(na ? na : 1, sizeof *nla), *nlb = calloc(nb ? nb : 1, sizeof *nlb);
    long *col_a = malloc((na ? na : 1) * sizeof *col_a);
    long *col_b = malloc((nb ? nb : 1) * sizeof *col_b);
    int rc = -1;
    if (!o->cell_n || !o->cell_mean || !o->emm || !o->emm_lo || !o->emm_hi ||
        !keep || !ma || !mb || !nla || !nlb || !col_a || !col_b)
        goto out;
    rc = 0;
    for (size_t i = 0; i < na; i++)
        o->emm[i] = o->emm_lo[i] = o->emm_hi[i] = NAN;
    /* Pass 1: counts and means (grand, per level, per cell). */
    double grand = 0;
    for (size_t i = 0; i < n; i++) {
        keep[i] = isfinite(y[i]) && fa[i] < na && fb[i] < nb;
        if (!keep[i])
            continue;
        size_t c = fa[i] * nb + fb[i];
        o->n++;
        grand += (y[i] - grand) / (double)o->n;
        o->cell_n[c]++;
        o->cell_mean[c] += (y[i] - o->cell_mean[c]) / (double)o->cell_n[c];
        nla[fa[i]]++;
        ma[fa[i]] += (y[i] - ma[fa[i]]) / (double)nla[fa[i]];
        nlb[fb[i]]++;
        mb[fb[i]] += (y[i] - mb[fb[i]]) / (double)nlb[fb[i]];
    }
    if (o->n == 0)
        goto out;
    for (size_t i = 0; i < na; i++) o->na_used += nla[i] > 0;
    for (size_t j = 0; j < nb; j++) o->nb_used += nlb[j] > 0;
    size_t n0 = 0;
    o->balanced = 1;
    for (size_t c = 0; c < nc; c++) {
        if (o->cell_n[c] == 0)
            continue;
        o->cells_used++;
        if (n0 == 0) n0 = o->cell_n[c];
        if (o->cell_n[c] != n0) o->balanced = 0;
    }
    if (o->cells_used != o->na_used * o->nb_used)
        o->balanced = 0;
    /* Within-cell SS: the error of the full (cell means) model. */
    double sse = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i]) {
            double d = y[i] - o->cell_mean[fa[i] * nb + fb[i]];
            sse += d * d;
        }
    o->err.ss = sse;
    o->err.df = (double)(o->n - o->cells_used);
    o->err.ms = o->err.df > 0 ? sse / o->err.df : NAN;
    o->a.df = (double)o->na_used - 1;
    o->b.df = (double)o->nb_used - 1;
    o->ab.df = (double)o->cells_used - (double)o->na_used - (double)o->nb_used + 1;
    if (o->balanced) {
        o->ss_type = "classical (balanced)";
        double ssa = 0, ssb = 0, ssab = 0;
        for (size_t i = 0; i < na; i++)
            if (nla[i]) ssa += (double)nla[i] * (ma[i] - grand) * (ma[i] - grand);
        for (size_t j = 0; j < nb; j++)
            if (nlb[j]) ssb += (double)nlb[j] * (mb[j] - grand) * (mb[j] - grand);
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++) {
                size_t c = i * nb + j;
                if (!o->cell_n[c]) continue;
                double d = o->cell_mean[c] - ma[i] - mb[j] + grand;
                ssab += (double)o->cell_n[c] * d * d;
            }
        o->a.ss = ssa;
        o->b.ss = ssb;
        o->ab.ss = ssab;
    } else {
        o->ss_type = "type II";
        size_t pa = 0, pb = 0;
        for (size_t i = 0; i < na; i++)
            col_a[i] = nla[i] ? (pa++ == 0 ? -1 : (long)pa - 2) : -1;
        for (size_t j = 0; j < nb; j++)
            col_b[j] = nlb[j] ? (pb++ == 0 ? -1 : (long)pb - 2) : -1;
        pa = pa ? pa - 1 : 0;
        pb = pb ? pb - 1 : 0;
        if (o->n <= 1 + pa + pb)
            goto rows;   /* fewer observations than parameters */
        double r_a = rss_fit(y, fa, fb, keep, n, o->n, col_a, col_b, pa, pb, 1, 0);
        double r_b = rss_fit(y, fa, fb, keep, n, o->n, col_a, col_b, pa, pb, 0, 1);
        double r_ab = rss_fit(y, fa, fb, keep, n, o->n, col_a, col_b, pa, pb, 1, 1);
        if (r_a < 0 || r_b < 0 || r_ab < 0) {
            rc = -1;
            goto out;
        }
        o->a.ss = r_b - r_ab;
        o->b.ss = r_a - r_ab;
        o->ab.ss = r_ab - sse;
        /* Least squares can leave -1e-12 where the exact value is 0. */
        if (o->ab.ss < 0) o->ab.ss = 0;
    }
rows:
    row_finish(&o->a, &o->err);
    row_finish(&o->b, &o->err);
    row_finish(&o->ab, &o->err);
    /* Estimated marginal means of A over the used levels of B. */
    for (size_t i = 0; i < na && o->err.df > 0; i++) {
        double s = 0, inv = 0;
        int ok = nla[i] > 0;
        for (size_t j = 0; j < nb && ok; j++) {
            if (!nlb[j]) continue;
            size_t c = i * nb + j;
            if (!o->cell_n[c]) { ok = 0; break; }
            s += o->cell_mean[c];
            inv += 1.0 / (double)o->cell_n[c];
        }
        if (!ok) continue;
        double k = (double)o->nb_used;
        o->emm[i] = s / k;
        double h = pb_stats_t_quantile(0.975, o->err.df) * sqrt(o->err.ms * inv) / k;
        o->emm_lo[i] = o->emm[i] - h;
        o->emm_hi[i] = o->emm[i] + h;
    }
out:
    free(keep), free(ma), free(mb), free(nla), free(nlb), free(col_a), free(col_b);
    if (rc != 0) {
        pb_anova_free(o);
        o->a = o->b = o->ab = o->err = nanrow;
    }
    return rc;
}

void pb_anova_emm_diff(const pb_anova *a, size_t i, size_t k, double *d,
                       double *lo, double *hi)
{
    *d = *lo = *hi = NAN;
    if (!a->emm || i >= a->na || k >= a->na || isnan(a->emm[i]) ||
        isnan(a->emm[k]))
        return;
    double inv = 0;
    for (size_t j = 0; j < a->nb; j++) {
        if (!a->cell_n[i * a->nb + j] && !a->cell_n[k * a->nb + j])
            continue;   /* a config neither ran: not one of the used levels */
        inv += 1.0 / (double)a->cell_n[i * a->nb + j] +
               1.0 / (double)a->cell_n[k * a->nb + j];
    }
    double kb = (double)a->nb_used;
    *d = a->emm[i] - a->emm[k];
    double h = pb_stats_t_quantile(0.975, a->err.df) * sqrt(a->err.ms * inv) / kb;
    *lo = *d - h;
    *hi = *d + h;
}

void pb_anova_free(pb_anova *a)
{
    free(a->cell_n), free(a->cell_mean), free(a->emm), free(a->emm_lo),
        free(a->emm_hi);
    a->cell_n = NULL;
    a->cell_mean = a->emm = a->emm_lo = a->emm_hi = NULL;
}
