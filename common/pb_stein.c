/* pb_stein: see pb_stein.h. */
#include "pb_stein.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

int pb_stein_total(const double *x, size_t m, int n0, double target_pct, int max_runs)
{
    if (m < 2 || !(target_pct > 0))
        return n0;
    double mean = gsl_stats_mean(x, 1, m);
    double s0 = gsl_stats_sd_m(x, 1, m, mean);
    double d = target_pct / 100.0 * fabs(mean);
    if (!(s0 > 0) || !(d > 0))
        return n0;
    double t = gsl_cdf_tdist_Pinv(0.975, (double)(m - 1));
    double need = ceil(t * t * s0 * s0 / (d * d));
    if (need < (double)n0)
        return n0;
    return need >= (double)max_runs ? max_runs : (int)need;
}

int pb_stein_interval(const double *pilot, size_t m0, const double *all, size_t n,
                      double target_pct, double *mean, double *lo, double *hi)
{
    *mean = *lo = *hi = NAN;
    if (n == 0)
        return 0;
    *mean = gsl_stats_mean(all, 1, n);
    if (m0 < 2)
        return 0;
    double pm = gsl_stats_mean(pilot, 1, m0);
    double s0 = gsl_stats_sd_m(pilot, 1, m0, pm);
    double h = gsl_cdf_tdist_Pinv(0.975, (double)(m0 - 1)) * s0 / sqrt((double)n);
    if (n >= 2) {
        /* Never narrower than the t interval of all n runs (pb_stein.h). */
        double hn = gsl_cdf_tdist_Pinv(0.975, (double)(n - 1)) *
                    gsl_stats_sd_m(all, 1, n, *mean) / sqrt((double)n);
        if (hn > h)
            h = hn;
    }
    *lo = *mean - h;
    *hi = *mean + h;
    /* A relative tolerance for the rounding of ceil() in the plan. */
    return h <= target_pct / 100.0 * fabs(pm) * (1 + 1e-12);
}
