/* Unit tests for pb_stats. Every expected literal below was derived outside
 * this program: by hand (shown in the comments), or with python3's stdlib
 * only (statistics, itertools; Student t p values by Simpson integration of
 * the t density, t quantiles by bisection on it; Mann-Whitney p by full
 * enumeration of the orderings). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pb_stats.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* NIST StRD log relative error: -log10(|est - cert| / |cert|); 15 when
 * the estimate is exact to double precision. */
static double lre(double est, double cert)
{
    double e = fabs(est - cert);
    if (e == 0)
        return 15;
    return -log10(e / fabs(cert));
}

static void test_summary_small(void **st)
{
    (void)st;
    /* 1..5: mean 3, SD sqrt(2.5), median 3, t(0.975,4) = 2.776445105197803,
     * CI = 3 -+ 2.776445 * sqrt(2.5)/sqrt(5). NAN is skipped. */
    double x[] = {5, 1, NAN, 3, 2, 4};
    pb_summary s;
    pb_stats_summarize(x, 6, 2000, 42, &s);
    assert_int_equal(s.n, 5);
    NEAR(s.mean, 3.0, 1e-15);
    NEAR(s.sd, 1.5811388300841898, 1e-15);
    NEAR(s.median, 3.0, 0);
    NEAR(s.min, 1.0, 0);
    NEAR(s.max, 5.0, 0);
    NEAR(s.ci_lo, 1.036756838522436, 1e-9);
    NEAR(s.ci_hi, 4.963243161477564, 1e-9);
    /* n = 5 < PB_BOOT_MIN_N: no bootstrap interval at all. */
    assert_true(isnan(s.boot_lo) && isnan(s.boot_hi));
}

static void test_summary_degenerate(void **st)
{
    (void)st;
    double one[] = {7};
    pb_summary s;
    pb_stats_summarize(one, 1, 100, 1, &s);
    assert_int_equal(s.n, 1);
    NEAR(s.mean, 7, 0);
    assert_true(isnan(s.sd) && isnan(s.ci_lo) && isnan(s.boot_hi));
    double none[] = {NAN, NAN};
    pb_stats_summarize(none, 2, 100, 1, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean));
    pb_stats_summarize(NULL, 0, 100, 1, &s);
    assert_int_equal(s.n, 0);
}

static void test_quantile_type7(void **st)
{
    (void)st;
    /* R type 7: h = (n-1) q; {1,2,3,4}: q=.25 -> h=.75 -> 1.75;
     * q=.9 -> h=2.7 -> 3 + .7 = 3.7. */
    double x[] = {4, 1, 3, 2};
    NEAR(pb_stats_quantile(x, 4, 0.25), 1.75, 1e-15);
    NEAR(pb_stats_quantile(x, 4, 0.9), 3.7, 1e-15);
    NEAR(pb_stats_quantile(x, 4, 0.5), 2.5, 1e-15);
    assert_true(isnan(pb_stats_quantile(x, 0, 0.5)));
}

/* NIST StRD univariate NumAcc1-4. Certified: NumAcc1 mean 10000002, SD 1;
 * NumAcc2/3/4 mean x, SD 0.1. Required LRE: mean >= 14 everywhere, SD >= 13
 * (NumAcc2), 9 (NumAcc3), 8 (NumAcc4). */
static void numacc(double x0, double need_sd)
{
    static double v[1001];
    v[0] = x0;
    for (int i = 0; i < 500; i++) {
        v[1 + 2 * i] = x0 - 0.1;
        v[2 + 2 * i] = x0 + 0.1;
    }
    pb_summary s;
    pb_stats_summarize(v, 1001, 0, 0, &s);
    assert_true(lre(s.mean, x0) >= 14);
    assert_true(lre(s.sd, 0.1) >= need_sd);
}

static void test_stats_nist(void **st)
{
    (void)st;
    double a1[] = {10000001, 10000003, 10000002};
    pb_summary s;
    pb_stats_summarize(a1, 3, 0, 0, &s);
    assert_true(lre(s.mean, 10000002) >= 14);
    assert_true(lre(s.sd, 1) >= 14);
    numacc(1.2, 13);
    numacc(1000000.2, 9);
    numacc(10000000.2, 8);
}

/* A naive one-pass variance (sum x^2 - n mean^2) on NumAcc4 is far off;
 * kept here to show the test above has teeth. */
static void test_naive_variance_fails(void **st)
{
    (void)st;
    double x0 = 10000000.2, s1 = 0, s2 = 0;
    int n = 1001;
    for (int i = 0; i < n; i++) {
        double v = i == 0 ? x0 : (i % 2 ? x0 - 0.1 : x0 + 0.1);
        s1 += v;
        s2 += v * v;
    }
    double var = (s2 - s1 * s1 / n) / (n - 1);
    double sd = var > 0 ? sqrt(var) : 0;
    assert_true(lre(sd, 0.1) < 8);
}

static void test_compare_welch_cohen(void **st)
{
    (void)st;
    /* a = 1..5 (var 2.5), b = 2,4,..,10 (var 10). diff = -3,
     * SE = sqrt(2.5/5 + 10/5) = sqrt(2.5); Welch df = 2.5^2 /
     * (0.5^2/4 + 2^2/4) = 6.25/1.0625 = 5.882352941176471; t = -1.8973665961;
     * p (Simpson on the t density) = 0.10753119493063157;
     * t(0.975, df) = 2.458823709699 -> CI -6.887741643737, 0.887741643737.
     * Pooled SD = sqrt((4*2.5 + 4*10)/8) = 2.5, d = -1.2;
     * J = 1 - 3/(4*10 - 9) = 28/31, g = -1.0838709677419354;
     * SE(g) = sqrt(10/25 + g^2/20), CI g -+ 1.959964 SE = -2.41135967, 0.24361774. */
    double a[] = {1, 2, 3, 4, 5}, b[] = {2, 4, 6, 8, 10};
    pb_compare c;
    pb_stats_compare(a, 5, b, 5, &c);
    NEAR(c.diff, -3, 1e-15);
    NEAR(c.welch_se, 1.5811388300841898, 1e-14);
    NEAR(c.welch_df, 5.882352941176471, 1e-12);
    NEAR(c.welch_t, -1.8973665961010275, 1e-12);
    NEAR(c.welch_p, 0.10753119493063157, 1e-8);
    NEAR(c.diff_lo, -6.88774164373689, 1e-6);
    NEAR(c.diff_hi, 0.8877416437368901, 1e-6);
    NEAR(c.cohen_d, -1.2, 1e-14);
    NEAR(c.hedges_g, -1.0838709677419354, 1e-14);
    NEAR(c.g_lo, -2.4113596729367224, 1e-9);
    NEAR(c.g_hi, 0.24361773745285165, 1e-9);
    /* pb_stats_welch: the same Welch fields, bit for bit, nothing else. */
    pb_compare w;
    pb_stats_welch(a, 5, b, 5, &w);
    assert_int_equal(w.n1, 5);
    assert_int_equal(w.n2, 5);
    assert_memory_equal(&w.diff, &c.diff, sizeof w.diff);
    assert_memory_equal(&w.welch_se, &c.welch_se, sizeof w.welch_se);
    assert_memory_equal(&w.welch_df, &c.welch_df, sizeof w.welch_df);
    assert_memory_equal(&w.welch_p, &c.welch_p, sizeof w.welch_p);
    assert_memory_equal(&w.diff_lo, &c.diff_lo, sizeof w.diff_lo);
    assert_memory_equal(&w.diff_hi, &c.diff_hi, sizeof w.diff_hi);
    assert_true(isnan(w.mw_p) && isnan(w.hl_shift) && isnan(w.hedges_g));
}

static void test_mann_whitney(void **st)
{
    (void)st;
    double u, p;
    int exact;
    /* Complete separation, 3 vs 4: U = 0, only 1 of C(7,3) = 35 orderings is
     * as extreme on each side: p = 2/35. */
    double a1[] = {1, 2, 3}, b1[] = {4, 5, 6, 7};
    pb_stats_mann_whitney(a1, 3, b1, 4, &u, &p, &exact);
    assert_int_equal(exact, 1);
    NEAR(u, 0, 0);
    NEAR(p, 2.0 / 35.0, 1e-15);
    /* Interleaved 3 vs 3: ranks of a 1,3,5 -> U = 9 - 6 = 3; counts of U
     * 0..9 are 1,1,2,3,3,3,3,2,1,1 (of 20): P(U<=3) = 7/20 -> p = 0.7. */
    double a2[] = {1, 3, 5}, b2[] = {2, 4, 6};
    pb_stats_mann_whitney(a2, 3, b2, 3, &u, &p, &exact);
    NEAR(u, 3, 0);
    NEAR(p, 0.7, 1e-15);
    /* 5 vs 6 by full enumeration (itertools.combinations): U = 10,
     * p = 0.42857142857142855. */
    double a3[] = {1.5, 2.5, 9, 10.5, 3}, b3[] = {4, 5, 6, 7, 8, 11};
    pb_stats_mann_whitney(a3, 5, b3, 6, &u, &p, &exact);
    NEAR(u, 10, 0);
    NEAR(p, 0.42857142857142855, 1e-14);
    /* Ties -> normal approximation: x = 1,2,2,3,7, y = 2,3,3,4,5,6; mid-ranks
     * give U = 9; tie groups {2 x3, 3 x3}: sum(t^3 - t) = 48;
     * var = 30/12 * (12 - 48/110); z = (9 - 15 + 0.5)/sqrt(var);
     * p = 2 (1 - Phi(|z|)) = 0.30634143782771117. */
    double a4[] = {1, 2, 2, 3, 7}, b4[] = {2, 3, 3, 4, 5, 6};
    pb_stats_mann_whitney(a4, 5, b4, 6, &u, &p, &exact);
    assert_int_equal(exact, 0);
    NEAR(u, 9, 0);
    NEAR(p, 0.30634143782771117, 1e-12);
}

static void test_holm(void **st)
{
    (void)st;
    /* m = 3 finite p: sorted .01,.03,.04 -> 3*.01 = .03, 2*.03 = .06,
     * 1*.04 = .04 raised to the running max .06. */
    double p[] = {0.01, 0.04, 0.03, NAN}, adj[4];
    pb_stats_holm(p, 4, adj);
    NEAR(adj[0], 0.03, 1e-15);
    NEAR(adj[1], 0.06, 1e-15);
    NEAR(adj[2], 0.06, 1e-15);
    assert_true(isnan(adj[3]));
}

int main(void)
{
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_small),
        cmocka_unit_test(test_summary_degenerate),
        cmocka_unit_test(test_quantile_type7),
        cmocka_unit_test(test_stats_nist),
        cmocka_unit_test(test_naive_variance_fails),
        cmocka_unit_test(test_compare_welch_cohen),
        cmocka_unit_test(test_mann_whitney),
        cmocka_unit_test(test_holm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
