#include "pb_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

void pb_stats_init(void)
{
    /* GSL's default handler calls abort(); a bad group must only yield NAN
     * in one cell, never kill the report. */
    gsl_set_error_handler_off();
}

double *pb_stats_finite(const double *x, size_t n, size_t *m)
{
    *m = 0;
    if (n == 0)
        return NULL;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[k++] = x[i];
    if (k == 0) {
        free(v);
        return NULL;
    }
    *m = k;
    return v;
}

double pb_stats_quantile(const double *x, size_t n, double q)
{
    size_t m;
    double *v = pb_stats_finite(x, n, &m);
    if (!v)
        return NAN;
    gsl_sort(v, 1, m);
    double r = gsl_stats_quantile_from_sorted_data(v, 1, m, q);
    free(v);
    return r;
}

void pb_stats_summarize(const double *x, size_t n, unsigned boot_reps,
                        uint64_t seed, pb_summary *out)
{
    out->n = 0;
    out->mean = out->sd = out->min = out->max = out->median = NAN;
    out->ci_lo = out->ci_hi = out->boot_lo = out->boot_hi = NAN;
    size_t m;
    double *v = pb_stats_finite(x, n, &m);
    if (!v)
        return;
    out->n = m;
    /* gsl_stats_mean updates a running mean and gsl_stats_sd is two-pass
     * about that mean: both pass the NIST StRD NumAcc sets (see the test
     * test_stats_nist), unlike a naive sum of squares. */
    out->mean = gsl_stats_mean(v, 1, m);
    gsl_sort(v, 1, m);
    out->min = v[0];
    out->max = v[m - 1];
    out->median = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.5);
    if (m >= 2) {
        out->sd = gsl_stats_sd_m(v, 1, m, out->mean);
        double h = gsl_cdf_tdist_Pinv(0.975, (double)(m - 1)) * out->sd /
                   sqrt((double)m);
        out->ci_lo = out->mean - h;
        out->ci_hi = out->mean + h;
    }
    if (m >= 2 && boot_reps > 0) {
        double *bm = malloc((size_t)boot_reps * sizeof *bm);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        if (bm && r) {
            gsl_rng_set(r, (unsigned long)seed);
            for (unsigned b = 0; b < boot_reps; b++) {
                /* Running mean like gsl_stats_mean: no catastrophic
                 * growth for large values. */
                double mu = 0;
                for (size_t i = 0; i < m; i++)
                    mu += (v[gsl_rng_uniform_int(r, m)] - mu) / (double)(i + 1);
                bm[b] = mu;
            }
            gsl_sort(bm, 1, boot_reps);
            out->boot_lo = gsl_stats_quantile_from_sorted_data(bm, 1, boot_reps, 0.025);
            out->boot_hi = gsl_stats_quantile_from_sorted_data(bm, 1, boot_reps, 0.975);
        }
        free(bm);
        if (r)
            gsl_rng_free(r);
    }
    free(v);
}

/* Coefficients of the Gaussian binomial [n1+n2 choose n1]_q: c[u] is the
 * number of orderings of n1 a's and n2 b's whose U statistic equals u.
 * Built as prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i); after step i the
 * partial product is [n2+i choose i]_q, a polynomial with non-negative
 * coefficients, so every intermediate is exact until it exceeds 2^53. */
static double *mw_counts(size_t n1, size_t n2)
{
    size_t deg = n1 * n2;
    double *c = calloc(deg + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    for (size_t i = 1; i <= n1; i++) {
        size_t k = n2 + i;
        for (size_t u = deg; u >= k; u--) {   /* multiply by (1 - q^k) */
            c[u] -= c[u - k];
            if (u == k)
                break;
        }
        for (size_t u = i; u <= deg; u++)     /* divide by (1 - q^i) */
            c[u] += c[u - i];
    }
    return c;
}

void pb_stats_mann_whitney(const double *a, size_t na, const double *b,
                           size_t nb, double *u_out, double *p_out, int *exact)
{
    *u_out = *p_out = NAN;
    *exact = 0;
    size_t n1, n2;
    double *x = pb_stats_finite(a, na, &n1);
    double *y = pb_stats_finite(b, nb, &n2);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    size_t n = n1 + n2;
    double *all = malloc(n * sizeof *all);
    size_t *idx = malloc(n * sizeof *idx);
    double *rank = malloc(n * sizeof *rank);
    if (!all || !idx || !rank)
        goto out;
    memcpy(all, x, n1 * sizeof *all);
    memcpy(all + n1, y, n2 * sizeof *all);
    gsl_sort_index(idx, all, 1, n);
    /* Mid-ranks for ties; sum of (t^3 - t) over tie groups for the
     * variance correction. */
    double tie_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && all[idx[j + 1]] == all[idx[i]])
            j++;
        double r = (double)(i + j) / 2.0 + 1.0;
        for (size_t k = i; k <= j; k++)
            rank[idx[k]] = r;
        double t = (double)(j - i + 1);
        tie_sum += t * t * t - t;
        i = j + 1;
    }
    double r1 = 0;
    for (size_t i = 0; i < n1; i++)
        r1 += rank[i];
    double u = r1 - (double)n1 * (double)(n1 + 1) / 2.0;
    *u_out = u;
    double mu = (double)n1 * (double)n2 / 2.0;
    if (tie_sum == 0 && n1 <= PB_MW_EXACT_MAX && n2 <= PB_MW_EXACT_MAX) {
        double *c = mw_counts(n1, n2);
        if (c) {
            size_t deg = n1 * n2, ui = (size_t)u;
            double total = 0, le = 0, ge = 0;
            for (size_t k = 0; k <= deg; k++) {
                total += c[k];
                if (k <= ui)
                    le += c[k];
                if (k >= ui)
                    ge += c[k];
            }
            double p = 2.0 * (le < ge ? le : ge) / total;
            *p_out = p > 1 ? 1 : p;
            *exact = 1;
            free(c);
            goto out;
        }
    }
    {
        double nn = (double)n;
        double var = (double)n1 * (double)n2 / 12.0 *
                     ((nn + 1) - tie_sum / (nn * (nn - 1)));
        if (var > 0) {
            double d = u - mu;
            /* Continuity correction towards the mean, as R's default. */
            double cc = d > 0 ? 0.5 : (d < 0 ? -0.5 : 0);
            double z = (d - cc) / sqrt(var);
            double p = 2.0 * gsl_cdf_ugaussian_Q(fabs(z));
            *p_out = p > 1 ? 1 : p;
        } else {
            *p_out = 1; /* every value tied: no evidence of a shift */
        }
    }
out:
    free(all);
    free(idx);
    free(rank);
    free(x);
    free(y);
}

void pb_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                      pb_compare *o)
{
    memset(o, 0, sizeof *o);
    o->mean1 = o->mean2 = o->sd1 = o->sd2 = o->diff = NAN;
    o->welch_se = o->welch_df = o->welch_t = o->diff_lo = o->diff_hi = NAN;
    o->welch_p = o->mw_u = o->mw_p = o->cohen_d = NAN;
    o->hedges_g = o->g_lo = o->g_hi = o->welch_p_holm = o->mw_p_holm = NAN;
    pb_summary s1, s2;
    pb_stats_summarize(a, na, 0, 0, &s1);
    pb_stats_summarize(b, nb, 0, 0, &s2);
    o->n1 = s1.n;
    o->n2 = s2.n;
    o->mean1 = s1.mean;
    o->mean2 = s2.mean;
    o->sd1 = s1.sd;
    o->sd2 = s2.sd;
    o->diff = s1.mean - s2.mean;
    pb_stats_mann_whitney(a, na, b, nb, &o->mw_u, &o->mw_p, &o->mw_exact);
    if (s1.n < 2 || s2.n < 2)
        return;
    double n1 = (double)s1.n, n2 = (double)s2.n;
    double q1 = s1.sd * s1.sd / n1, q2 = s2.sd * s2.sd / n2;
    o->welch_se = sqrt(q1 + q2);
    if (o->welch_se > 0) {
        /* Welch-Satterthwaite degrees of freedom (non-integer). */
        o->welch_df = (q1 + q2) * (q1 + q2) /
                      (q1 * q1 / (n1 - 1) + q2 * q2 / (n2 - 1));
        o->welch_t = o->diff / o->welch_se;
        o->welch_p = 2.0 * gsl_cdf_tdist_Q(fabs(o->welch_t), o->welch_df);
        double h = gsl_cdf_tdist_Pinv(0.975, o->welch_df) * o->welch_se;
        o->diff_lo = o->diff - h;
        o->diff_hi = o->diff + h;
    }
    double sp = sqrt(((n1 - 1) * s1.sd * s1.sd + (n2 - 1) * s2.sd * s2.sd) /
                     (n1 + n2 - 2));
    if (sp > 0) {
        o->cohen_d = o->diff / sp;
        /* Hedges' small-sample factor J and the Hedges & Olkin large-sample
         * variance of g; the CI is g +- z(0.975) * SE. */
        double J = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
        o->hedges_g = J * o->cohen_d;
        double se = sqrt((n1 + n2) / (n1 * n2) +
                         o->hedges_g * o->hedges_g / (2.0 * (n1 + n2)));
        double z = gsl_cdf_ugaussian_Pinv(0.975);
        o->g_lo = o->hedges_g - z * se;
        o->g_hi = o->hedges_g + z * se;
    }
}

void pb_stats_holm(const double *p, size_t n, double *adj)
{
    if (n == 0)
        return;
    size_t *idx = malloc(n * sizeof *idx);
    double *tmp = malloc(n * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        for (size_t i = 0; i < n; i++)
            adj[i] = NAN;
        return;
    }
    /* NANs sort last with +inf so they never take a Holm rank. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[i] = isnan(p[i]) ? INFINITY : p[i];
        if (!isnan(p[i]))
            m++;
    }
    gsl_sort_index(idx, tmp, 1, n);
    double run = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        if (isinf(tmp[i]) && k >= m) {
            tmp[i] = NAN;
            continue;
        }
        double v = (double)(m - k) * tmp[i];
        if (v > 1)
            v = 1;
        if (v < run)
            v = run;   /* step-down: adjusted p never decreases */
        run = v;
        tmp[i] = v;
    }
    for (size_t i = 0; i < n; i++)
        adj[i] = tmp[i];
    free(idx);
    free(tmp);
}
