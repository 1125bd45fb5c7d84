/* pb_rank: see pb_rank.h for the why. */
#include "pb_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_stats.h"

int pb_rank_van_elteren(const double *a, const size_t *sa, size_t na,
                        const double *b, const size_t *sb, size_t nb,
                        size_t ns, pb_vanelteren *o)
{
    memset(o, 0, sizeof *o);
    o->T = o->E = o->var = o->z = o->p = NAN;
    double *v = malloc((na + nb + 1) * sizeof *v);
    double *rk = malloc((na + nb + 1) * sizeof *rk);
    if (!v || !rk) {
        free(v), free(rk);
        return -1;
    }
    double T = 0, E = 0, var = 0;
    /* Strata are few: one pass over both samples per stratum. */
    for (size_t s = 0; s < ns; s++) {
        size_t m = 0, k = 0;
        for (size_t i = 0; i < na; i++)
            if (sa[i] == s && isfinite(a[i])) v[m++] = a[i];
        for (size_t j = 0; j < nb; j++)
            if (sb[j] == s && isfinite(b[j])) v[m + k++] = b[j];
        size_t N = m + k;
        if (m == 0 || k == 0)
            continue;
        double ts;
        if (pb_stats_midranks(v, N, rk, &ts) != 0) {
            free(v), free(rk);
            return -1;
        }
        double W = 0;
        for (size_t i = 0; i < m; i++)
            W += rk[i];
        double w = 1.0 / ((double)N + 1.0), Nd = (double)N;
        T += w * W;
        E += w * (double)m * (Nd + 1) / 2.0;
        var += w * w * (double)m * (double)k / 12.0 *
               ((Nd + 1) - (N > 1 ? ts / (Nd * (Nd - 1)) : 0));
        o->n_strata++;
    }
    free(v), free(rk);
    if (o->n_strata == 0)
        return 0;
    o->T = T;
    o->E = E;
    o->var = var;
    if (var > 0) {
        o->z = (T - E) / sqrt(var);
        o->p = 2.0 * gsl_cdf_ugaussian_Q(fabs(o->z));
    } else {
        o->z = 0;
        o->p = 1;   /* every value tied within every stratum */
    }
    return 0;
}

/* Exact two-sided permutation p of Spearman's rho for m <= PB_SPEARMAN_EXACT_MAX
 * pairs: every one of the m! pairings of the y ranks with the x ranks (Heap's
 * algorithm, one swap per step, so the statistic S = sum (rx_i - c) ry_i is
 * updated in O(1)). rho is a monotone function of S (the rank SDs do not
 * change under permutation), so p = 2 min(P(S >= s), P(S <= s)), capped at
 * 1, as scipy.stats.permutation_test(permutation_type='pairings'). Ties
 * (mid-ranks) are handled as they are: the permuted values are the ranks. */
static double spearman_exact_p(const double *rx, const double *ry, size_t m)
{
    double cx[PB_SPEARMAN_EXACT_MAX], y[PB_SPEARMAN_EXACT_MAX];
    size_t c[PB_SPEARMAN_EXACT_MAX] = {0};
    double mx = 0;
    for (size_t i = 0; i < m; i++)
        mx += rx[i] / (double)m;
    double s = 0;
    for (size_t i = 0; i < m; i++) {
        cx[i] = rx[i] - mx;
        y[i] = ry[i];
        s += cx[i] * y[i];
    }
    /* Mid-ranks are multiples of 0.5, so S is exact up to rounding of mx:
     * a relative tolerance counts equal statistics as equal. */
    double tol = 1e-9 * (fabs(s) + 1);
    double obs = s;
    unsigned long ge = 1, le = 1, total = 1;   /* the identity pairing */
    for (size_t i = 1; i < m;) {
        if (c[i] < i) {
            size_t j = i % 2 == 0 ? 0 : c[i];
            /* swapping y[i] and y[j] changes S by (cx_i - cx_j)(y_j - y_i) */
            s += (cx[i] - cx[j]) * (y[j] - y[i]);
            double t = y[i];
            y[i] = y[j];
            y[j] = t;
            total++;
            ge += s >= obs - tol;
            le += s <= obs + tol;
            c[i]++;
            i = 1;
        } else {
            c[i] = 0;
            i++;
        }
    }
    double p = 2.0 * (double)(ge < le ? ge : le) / (double)total;
    return p > 1 ? 1 : p;
}

void pb_rank_spearman(const double *x, const double *y, size_t n, double *rho,
                      double *p, size_t *used)
{
    *rho = *p = NAN;
    *used = 0;
    double *buf = malloc((4 * n + 1) * sizeof *buf);
    if (!buf)
        return;
    double *xs = buf, *ys = buf + n, *rx = buf + 2 * n, *ry = buf + 3 * n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) {
            xs[m] = x[i];
            ys[m++] = y[i];
        }
    *used = m;
    if (m >= 3 && pb_stats_midranks(xs, m, rx, NULL) == 0 &&
        pb_stats_midranks(ys, m, ry, NULL) == 0) {
        double r = gsl_stats_correlation(rx, 1, ry, 1, m);
        if (isfinite(r)) {
            *rho = r;
            if (m <= PB_SPEARMAN_EXACT_MAX) {
                /* The t approximation is far off at small n (rho = -1 at
                 * n = 5 gave 1e-24; the exact p is 2/120). */
                *p = spearman_exact_p(rx, ry, m);
            } else if (fabs(r) >= 1) {
                *p = 0;
            } else {
                double df = (double)m - 2;
                double t = r * sqrt(df / (1 - r * r));
                *p = 2.0 * gsl_cdf_tdist_Q(fabs(t), df);
            }
        }
    }
    free(buf);
}

void pb_rank_first_run(const double *x, size_t n, double *diff, double *t,
                       double *p)
{
    *diff = *t = *p = NAN;
    if (n < 3 || !isfinite(x[0]))
        return;
    double mean = 0;
    size_t m = 0;
    for (size_t i = 1; i < n; i++)
        if (isfinite(x[i]))
            mean += (x[i] - mean) / (double)++m;
    if (m < 2)
        return;
    double ss = 0;
    for (size_t i = 1; i < n; i++)
        if (isfinite(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(ss / (double)(m - 1));
    *diff = x[0] - mean;
    if (!(sd > 0))
        return;
    *t = *diff / (sd * sqrt(1.0 + 1.0 / (double)m));
    *p = 2.0 * gsl_cdf_tdist_Q(fabs(*t), (double)(m - 1));
}

void pb_rank_tukey(const double *x, size_t n, pb_tukey *o, pb_outlier *cls)
{
    memset(o, 0, sizeof *o);
    o->q1 = o->q3 = o->iqr = NAN;
    o->lo_severe = o->lo_mild = o->hi_mild = o->hi_severe = NAN;
    for (size_t i = 0; cls && i < n; i++)
        cls[i] = PB_OUT_NONE;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    o->n = m;
    if (m >= 2) {
        gsl_sort(v, 1, m);
        o->q1 = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.25);
        o->q3 = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.75);
        o->iqr = o->q3 - o->q1;
        o->lo_severe = o->q1 - 3 * o->iqr;
        o->lo_mild = o->q1 - 1.5 * o->iqr;
        o->hi_mild = o->q3 + 1.5 * o->iqr;
        o->hi_severe = o->q3 + 3 * o->iqr;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(x[i]))
                continue;
            pb_outlier c = PB_OUT_NONE;
            if (x[i] < o->lo_severe) c = PB_OUT_LOW_SEVERE;
            else if (x[i] < o->lo_mild) c = PB_OUT_LOW_MILD;
            else if (x[i] > o->hi_severe) c = PB_OUT_HIGH_SEVERE;
            else if (x[i] > o->hi_mild) c = PB_OUT_HIGH_MILD;
            if (c == PB_OUT_LOW_SEVERE || c == PB_OUT_HIGH_SEVERE) o->n_severe++;
            else if (c != PB_OUT_NONE) o->n_mild++;
            if (cls) cls[i] = c;
        }
    }
    free(v);
}
