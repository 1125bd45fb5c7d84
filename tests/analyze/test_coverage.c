/* Coverage simulations: every interval analyze prints must cover its
 * target at least 94% of the time for a nominal 95% (the project's rule),
 * and an interval that does not is not printed. Each test draws data from
 * a known distribution with GSL's mt19937 (fixed seeds: the figures are
 * reproducible), computes the interval as analyze does, and counts how
 * often it holds the truth. Sizes are kept to seconds (a few thousand
 * repetitions: the standard error of a 95% coverage is about 0.5% at 2000).
 * The figures are printed, so a CI log shows them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_ratio.h"
#include "pb_stein.h"
#include "pb_stats.h"

#define NOMINAL_OK 0.94

/* Normal(0, 1), or exponential(1) as the skewed case (skewness 2: wall
 * times have a long right tail). Returns the true mean. */
static double draw(gsl_rng *r, int skewed, double *x, size_t n, double shift)
{
    for (size_t i = 0; i < n; i++)
        x[i] = shift + (skewed ? gsl_ran_exponential(r, 1.0) : gsl_ran_gaussian(r, 1.0));
    return shift + (skewed ? 1.0 : 0.0);
}

/* BCa of the mean at n = 5, 10, 30, normal and skewed. analyze prints a
 * bootstrap interval for a summary only at a size where both reached 94%;
 * the simulation found none (about 84/80% at 5, 90/88% at 10, 93/93% at
 * 30), so pb_stats_summarize leaves boot_lo/hi NAN and the t interval is
 * the one printed. The test holds the code to whatever the simulation
 * says. */
static void test_bca_coverage_decides(void **st)
{
    (void)st;
    const size_t ns[] = {5, 10, 30};
    const int sims = 2000;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20261206);
    double x[30];
    for (size_t k = 0; k < 3; k++) {
        double cov[2], tcov[2];
        for (int sk = 0; sk < 2; sk++) {
            int hit = 0, thit = 0;
            for (int s = 0; s < sims; s++) {
                double mu = draw(r, sk, x, ns[k], 0);
                double lo, hi;
                pb_stats_bca_mean(x, ns[k], 999, (uint64_t)s + 1, &lo, &hi);
                hit += lo <= mu && mu <= hi;
                pb_summary sm;
                pb_stats_summarize(x, ns[k], 999, 1, &sm);
                thit += sm.ci_lo <= mu && mu <= sm.ci_hi;
            }
            cov[sk] = (double)hit / sims;
            tcov[sk] = (double)thit / sims;
        }
        printf("coverage n=%2zu: BCa normal %.3f skewed %.3f | t normal %.3f skewed %.3f\n",
               ns[k], cov[0], cov[1], tcov[0], tcov[1]);
        int ok = cov[0] >= NOMINAL_OK && cov[1] >= NOMINAL_OK;
        double y[30];
        draw(r, 0, y, ns[k], 10);
        pb_summary sm;
        pb_stats_summarize(y, ns[k], 2000, 7, &sm);
        /* Printed exactly where the simulation allows it. */
        assert_int_equal(ok, isfinite(sm.boot_lo) && isfinite(sm.boot_hi));
        /* The fallback, the t interval, is exact for normal data. */
        assert_true(tcov[0] >= NOMINAL_OK);
    }
    gsl_rng_free(r);
}

/* The old method, kept here to show why it went: a percentile bootstrap of
 * the maximum of k config means, each config resampled within. */
static void boot_max(gsl_rng *r, double *const *x, size_t k, size_t n,
                     unsigned reps, double *lo, double *hi)
{
    double *rep = malloc(reps * sizeof *rep);
    for (unsigned b = 0; b < reps; b++) {
        double best = -INFINITY;
        for (size_t g = 0; g < k; g++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += x[g][gsl_rng_uniform_int(r, n)];
            if (s / (double)n > best)
                best = s / (double)n;
        }
        rep[b] = best;
    }
    gsl_sort(rep, 1, reps);
    *lo = gsl_stats_quantile_from_sorted_data(rep, 1, reps, 0.025);
    *hi = gsl_stats_quantile_from_sorted_data(rep, 1, reps, 0.975);
    free(rep);
}

/* The best config's interval (pb_stats_best_mean) covers the true mean of
 * the config the data picked: six equal configs of 5 runs (the case where
 * picking the maximum biases most), six spread ones, and two; normal and
 * skewed. The old bootstrap of the maximum covered ~16% with six equal
 * configs. */
static void test_best_config_coverage(void **st)
{
    (void)st;
    enum { K = 6, N = 5 };
    const int sims = 2000;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 4242);
    double buf[K][N], *x[K];
    const double *cx[K];
    size_t n[K];
    for (int g = 0; g < K; g++) {
        x[g] = buf[g];
        cx[g] = buf[g];
        n[g] = N;
    }
    struct { const char *name; size_t k; double step; } cases[] = {
        {"6 equal configs", 6, 0}, {"6 configs 0.5 SD apart", 6, 0.5},
        {"2 equal configs", 2, 0},
    };
    for (size_t c = 0; c < 3; c++)
        for (int sk = 0; sk < 2; sk++) {
            int hit = 0, old = 0;
            for (int s = 0; s < sims; s++) {
                double mu[K];
                for (size_t g = 0; g < cases[c].k; g++)
                    mu[g] = draw(r, sk, x[g], N, cases[c].step * (double)g);
                size_t best;
                double lo, hi;
                pb_stats_best_mean(cx, n, cases[c].k, &best, &lo, &hi);
                hit += lo <= mu[best] && mu[best] <= hi;
                if (s < 500) {   /* the old method: fewer reps, it is slow */
                    boot_max(r, x, cases[c].k, N, 500, &lo, &hi);
                    old += lo <= mu[best] && mu[best] <= hi;
                }
            }
            double cov = (double)hit / sims;
            printf("best config, %s, %s: Bonferroni t %.3f (old bootstrap of the max %.3f)\n",
                   cases[c].name, sk ? "skewed" : "normal", cov, old / 500.0);
            /* The skewed case at n = 5 is the t interval's known weak spot;
             * the Bonferroni level leaves margin for it. */
            assert_true(cov >= NOMINAL_OK);
        }
    gsl_rng_free(r);
}

/* The percentile bootstrap of a ratio of means (Fieller's cross-check)
 * against Fieller itself, one stratum of n runs per side. It stays below
 * 94% for skewed data at every size tried, so analyze computes no such
 * bootstrap; Fieller holds. */
static void test_ratio_bootstrap_coverage(void **st)
{
    (void)st;
    const size_t ns[] = {10, 30};
    const int sims = 1000;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 99);
    double x[30], y[30];
    size_t strat[30] = {0};
    int boot_ever_ok = 0;
    for (size_t k = 0; k < 2; k++)
        for (int sk = 0; sk < 2; sk++) {
            int hb = 0, hf = 0;
            for (int s = 0; s < sims; s++) {
                double a = draw(r, sk, x, ns[k], sk ? 9 : 10);
                double b = draw(r, sk, y, ns[k], sk ? 7 : 8);
                pb_ratio o;
                assert_int_equal(pb_ratio_of_means(x, strat, ns[k], y, strat, ns[k], 1,
                                                   499, (uint32_t)s + 1, &o), 0);
                hb += o.boot_lo <= a / b && a / b <= o.boot_hi;
                hf += o.lo <= a / b && a / b <= o.hi;
            }
            printf("ratio, %zu per side, %s: percentile bootstrap %.3f, Fieller %.3f\n",
                   ns[k], sk ? "skewed" : "normal", (double)hb / sims, (double)hf / sims);
            assert_true((double)hf / sims >= NOMINAL_OK);
            boot_ever_ok |= (double)hb / sims >= NOMINAL_OK && sk;
        }
    /* If the skewed case ever reached 94%, analyze could print the
     * bootstrap there: revisit pb_design's reps = 0. */
    assert_false(boot_ever_ok);
    gsl_rng_free(r);
}

/* Per-stage intervals pool the agents of several runs; runs differ (host,
 * server state), so agents of one run are correlated. 5 runs of 4 agents,
 * run effect SD 1, agent noise SD 1: the naive t interval on the 20 values
 * undercovers, the run-clustered one (pb_stats_summarize_clustered)
 * holds. */
static void test_clustered_coverage(void **st)
{
    (void)st;
    enum { G = 5, M = 4 };
    const int sims = 4000;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    double v[G * M];
    size_t cl[G * M];
    int naive = 0, clus = 0;
    for (int s = 0; s < sims; s++) {
        for (size_t g = 0; g < G; g++) {
            double u = gsl_ran_gaussian(r, 1.0);
            for (size_t j = 0; j < M; j++) {
                v[g * M + j] = u + gsl_ran_gaussian(r, 1.0);
                cl[g * M + j] = g;
            }
        }
        pb_summary a, b;
        pb_stats_summarize(v, G * M, 0, 0, &a);
        pb_stats_summarize_clustered(v, cl, G * M, &b);
        naive += a.ci_lo <= 0 && 0 <= a.ci_hi;
        clus += b.ci_lo <= 0 && 0 <= b.ci_hi;
    }
    printf("per-stage mean, 5 runs x 4 agents: pooled t %.3f, clustered by run %.3f\n",
           (double)naive / sims, (double)clus / sims);
    assert_true((double)clus / sims >= NOMINAL_OK);
    assert_true((double)naive / sims < NOMINAL_OK);
    gsl_rng_free(r);
}

/* --target-ci: the two-stage procedure (pb_stein) against the rule it
 * replaced (add a run until the t interval is within the target), on the
 * same draws. Speedups with mean 1.65 and SD 0.15: normal, gamma of shape 4
 * (skewness 1) shifted, and exponential shifted (skewness 2); pilot 5,
 * target +-2%; uncapped (max 2000 runs) and capped at 20 (the group then
 * misses the target, and coverage must still hold). Stein's own interval
 * (pilot SD only) is printed beside. The exponential case is printed, not
 * asserted: at its skewness no t-based interval reaches 94% with the few
 * runs a small pilot sometimes plans (the t interval of 20 such values
 * covers 92%). */
static void test_stein_coverage(void **st)
{
    (void)st;
    enum { CAP = 2000 };
    const int sims = 2000;
    const double target = 2.0, mu = 1.65;
    static const char *const dist[] = {"normal", "gamma(4)", "exponential"};
    static double x[CAP];
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 1945);
    for (int d = 0; d < 3; d++)
        for (int capped = 0; capped < 2; capped++) {
            int max_runs = capped ? 20 : CAP;
            int hit = 0, old_hit = 0, missed = 0, pure = 0;
            double bias = 0, old_bias = 0, runs = 0;
            for (int s = 0; s < sims; s++) {
                for (int i = 0; i < max_runs; i++)
                    x[i] = d == 0 ? mu + gsl_ran_gaussian(r, 0.15)
                         : d == 1 ? mu - 0.3 + gsl_ran_gamma(r, 4, 0.075)
                                  : mu - 0.15 + gsl_ran_exponential(r, 0.15);
                int n = pb_stein_total(x, PB_STEIN_MIN_PILOT, PB_STEIN_MIN_PILOT, target, max_runs);
                double mean, lo, hi;
                int met = pb_stein_interval(x, PB_STEIN_MIN_PILOT, x, (size_t)n, target,
                                            &mean, &lo, &hi);
                hit += lo <= mu && mu <= hi;
                runs += n;
                double hs = gsl_cdf_tdist_Pinv(0.975, PB_STEIN_MIN_PILOT - 1) *
                            gsl_stats_sd(x, 1, PB_STEIN_MIN_PILOT) / sqrt((double)n);
                pure += fabs(mean - mu) <= hs;
                missed += !met;
                bias += mean - mu;
                /* The old rule: from 3 runs on, stop at the first n whose t
                 * interval is within the target. */
                int k = 3;
                double h = INFINITY, m = 0;
                for (;; k++) {
                    m = gsl_stats_mean(x, 1, (size_t)k);
                    h = gsl_cdf_tdist_Pinv(0.975, k - 1) * gsl_stats_sd_m(x, 1, (size_t)k, m) /
                        sqrt((double)k);
                    if (h / m * 100 <= target || k == max_runs)
                        break;
                }
                old_hit += m - h <= mu && mu <= m + h;
                old_bias += m - mu;
            }
            double cov = (double)hit / sims;
            printf("target-ci 2%%, %-11s max %4d runs: two-stage %.3f (Stein's s0 alone %.3f; "
                   "mean runs %.0f, bias %+.2f%%, missed %.0f%%) | width rule %.3f (bias %+.2f%%)\n",
                   dist[d], max_runs, cov, (double)pure / sims, runs / sims,
                   bias / sims / mu * 100, 100.0 * missed / sims, (double)old_hit / sims,
                   old_bias / sims / mu * 100);
            if (d < 2)
                assert_true(cov >= NOMINAL_OK);
            if (capped)
                assert_true(missed > 0);   /* capped groups are reported as such */
        }
    gsl_rng_free(r);
}

int main(void)
{
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bca_coverage_decides),
        cmocka_unit_test(test_best_config_coverage),
        cmocka_unit_test(test_ratio_bootstrap_coverage),
        cmocka_unit_test(test_clustered_coverage),
        cmocka_unit_test(test_stein_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
