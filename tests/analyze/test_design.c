/* Unit tests for the statistics of issue 8 (pb_ratio, pb_anova, pb_rank,
 * pb_power, the Mann-Whitney tail, Hodges-Lehmann, BCa, streams) and their
 * assembly in pb_analysis. Expected values are hand-worked (shown) or from
 * an independent computation: /work/shared/notes/stats-methods.md (numpy and
 * scipy 1.10 on TR115), or the scipy/numpy/itertools lines quoted beside each
 * value (run with Debian's /usr/bin/python3). tests/analyze/scipy_check.py
 * cross-checks the whole JSON dump against scipy as well. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pb_analysis.h"
#include "pb_anova.h"
#include "pb_load.h"
#include "pb_power.h"
#include "pb_rank.h"
#include "pb_ratio.h"
#include "pb_stats.h"

#define NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, want %.17g", #a, a_, b_); } while (0)
#define REL(a, b, tol) NEAR((a), (b), (tol) * fabs(b))

/* Fully separated samples of n: exact two-sided p = 2 / C(2n, n); the old
 * upper-tail subtraction gave -4.45e-18 at 36 and 1.59e-18 at 50. Values:
 * scipy.special.comb(72, 36, exact=True) etc. */
static void test_mw_exact_tail(void **st)
{
    (void)st;
    static const struct { size_t n; double p; } cases[] = {
        {36, 4.519645926302554e-21}, {50, 1.9823306042836678e-29}};
    for (size_t c = 0; c < 2; c++) {
        double a[50], b[50], u, p;
        int exact;
        for (size_t i = 0; i < cases[c].n; i++) {
            a[i] = 100 + (double)i;   /* every a above every b */
            b[i] = (double)i;
        }
        pb_stats_mann_whitney(a, cases[c].n, b, cases[c].n, &u, &p, &exact);
        assert_int_equal(exact, 1);
        NEAR(u, (double)(cases[c].n * cases[c].n), 0);
        REL(p, cases[c].p, 1e-6);
        /* And the other direction (U = 0): same p. */
        pb_stats_mann_whitney(b, cases[c].n, a, cases[c].n, &u, &p, &exact);
        REL(p, cases[c].p, 1e-6);
    }
}

/* a = 1.1 2.3 3.0 4.7 5.2 6.8, b = 0.5 1.9 2.2 3.1 3.3. The 30 differences
 * have median 1.7. Exact U distribution by enumerating the C(11, 6) = 462
 * orderings (itertools): P(U <= 3) <= 0.025 < P(U <= 4), so k = 4: the 4th
 * smallest difference -1.0 and the 4th largest 4.6. U = 22, exact p =
 * 0.24675 (scipy mannwhitneyu method='exact'). */
static void test_hodges_lehmann(void **st)
{
    (void)st;
    double a[] = {1.1, 2.3, 3.0, 4.7, 5.2, 6.8}, b[] = {0.5, 1.9, 2.2, 3.1, 3.3};
    double s, lo, hi;
    pb_stats_hodges_lehmann(a, 6, b, 5, &s, &lo, &hi);
    NEAR(s, 1.7, 1e-12);
    NEAR(lo, -1.0, 1e-12);
    NEAR(hi, 4.6, 1e-12);
    pb_compare c;
    pb_stats_compare(a, 6, b, 5, &c);
    NEAR(c.mw_u, 22, 0);
    NEAR(c.mw_p, 0.24675324675324672, 1e-12);
    NEAR(c.hl_shift, 1.7, 1e-12);
    /* Glass's delta: diff / SD(b). mean a = 23.1/6 = 3.85, mean b = 11/5 =
     * 2.2; SD(b) = sqrt((1.7^2 + 0.3^2 + 0^2 + 0.9^2 + 1.1^2) / 4) =
     * sqrt(5 / 4) = 1.1180340. delta = 1.65 / 1.1180340 = 1.4758049. */
    NEAR(c.glass_delta, 1.65 / sqrt(1.25), 1e-12);
    /* Too few values for a 95% interval: 3 vs 2 has P(U = 0) = 0.1. */
    pb_stats_hodges_lehmann(a, 3, b, 2, &s, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

/* Geometric mean of {1, 4} = 2; ln values 0, ln 4: mean ln 2, SD ln4/sqrt2,
 * SE ln 2; t(0.975, 1) = 12.7062047 -> CI 2^(1 -+ 12.7062047) =
 * [0.00029928244, 13365.301] (scipy.stats.t.ppf). {1, 1/4} mirrors it. */
static void test_geomean(void **st)
{
    (void)st;
    double r[] = {1, 4, NAN, -1}, q[] = {1, 0.25};
    pb_geomean g, h;
    pb_ratio_geomean(r, 4, &g);
    assert_int_equal(g.n, 2);
    NEAR(g.gm, 2, 1e-14);
    REL(g.lo, 0.0002992824420776006, 1e-9);
    REL(g.hi, 13365.30125934633, 1e-9);
    pb_ratio_geomean(q, 2, &h);
    REL(h.gm, 1 / g.gm, 1e-14);
    REL(h.lo, 1 / g.hi, 1e-12);
    REL(h.hi, 1 / g.lo, 1e-12);
}

/* Fieller by hand: a = 10, v_a = 1, b = 5, v_b = 0.25, q = 2:
 * R = 2, g = 4 * 0.25 / 25 = 0.04, h = 2/5 sqrt(1 * 0.96 + 4 * 0.25) =
 * 0.4 sqrt(1.96) = 0.56; CI [(2 - 0.56) / 0.96, (2 + 0.56) / 0.96] =
 * [1.5, 2.6666667]. With v_b = 6.25: g = 1 -> unbounded. */
static void test_fieller_hand(void **st)
{
    (void)st;
    double lo, hi;
    int unb;
    pb_ratio_fieller(10, 1, 5, 0.25, 2, &lo, &hi, &unb);
    assert_int_equal(unb, 0);
    NEAR(lo, 1.5, 1e-12);
    NEAR(hi, 2.56 / 0.96, 1e-12);
    pb_ratio_fieller(10, 1, 5, 6.25, 2, &lo, &hi, &unb);
    assert_int_equal(unb, 1);
    assert_true(isnan(lo) && isnan(hi));
    /* A sample against itself: exactly 1. */
    double w[] = {10, 12, 11};
    size_t s[] = {0, 0, 0};
    pb_ratio r;
    assert_int_equal(pb_ratio_of_means(w, s, 3, w, s, 3, 1, 100, 7, &r), 0);
    NEAR(r.est, 1, 0);
    NEAR(r.lo, 1, 0);
    NEAR(r.hi, 1, 0);
}

/* Unbalanced 2 x 2 (cells of 2, 4, 2, 3): type II SS from numpy.linalg.lstsq
 * fits of intercept + treatment dummies; full model = 4 cell means,
 * SSE 30.4166667 on 7 df. F and p from scipy.stats.f.sf. */
static void test_anova_type2(void **st)
{
    (void)st;
    double y[] = {3, 4, 5, 6, 7, 9, 2, 3, 8, 10, 11};
    size_t fa[] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    size_t fb[] = {0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1};
    pb_anova v;
    assert_int_equal(pb_anova_two_way(y, fa, fb, 11, 2, 2, &v), 0);
    assert_int_equal(v.balanced, 0);
    assert_string_equal(v.ss_type, "type II");
    REL(v.err.ss, 30.416666666666664, 1e-10);
    NEAR(v.err.df, 7, 0);
    REL(v.a.ss, 14.210526315789473, 1e-9);
    REL(v.a.F, 3.270367700072098, 1e-9);
    REL(v.a.p, 0.1134777582135325, 1e-7);
    REL(v.b.ss, 54.3438596491228, 1e-9);
    REL(v.b.F, 12.506532083633742, 1e-9);
    REL(v.ab.ss, 5.372807017543863, 1e-9);
    REL(v.ab.F, 1.236481614996396, 1e-9);
    REL(v.ab.p, 0.30287592633608423, 1e-7);
    /* EMM of A = 0: cell means (3.5, 6.75) -> 5.125; A = 1: (13/3, 10.5)
     * -> 7.4166667. */
    NEAR(v.emm[0], 5.125, 1e-12);
    NEAR(v.emm[1], (13.0 / 3 + 10.5) / 2, 1e-12);
    pb_anova_free(&v);
}

/* Two strata. Stratum 0: A = 1, 2, 3.5 vs B = 1.5, 0.5 (N 5, W = 2+4+5 =
 * 11, w 1/6); stratum 1: A = 10, 12, 11, 15 vs B = 9, 13, 8 (N 7, W =
 * 3+5+4+7 = 19, w 1/8). T = 11/6 + 19/8 = 4.2083333; E = 3*6/2/6 + 4*8/2/8
 * = 1.5 + 2 = 3.5; Var = (1/36) 3*2/12*6 + (1/64) 4*3/12*8 = 1/12 + 1/8 =
 * 0.2083333; z = 0.7083333 / 0.4564355 = 1.5518806, p = 0.1206908
 * (scipy.stats.norm.sf). */
static void test_van_elteren(void **st)
{
    (void)st;
    double a[] = {1, 2, 3.5, 10, 12, 11, 15}, b[] = {1.5, 0.5, 9, 13, 8};
    size_t sa[] = {0, 0, 0, 1, 1, 1, 1}, sb[] = {0, 0, 1, 1, 1};
    pb_vanelteren v;
    assert_int_equal(pb_rank_van_elteren(a, sa, 7, b, sb, 5, 2, &v), 0);
    assert_int_equal(v.n_strata, 2);
    NEAR(v.T, 11.0 / 6 + 19.0 / 8, 1e-12);
    NEAR(v.E, 3.5, 1e-12);
    NEAR(v.var, 1.0 / 12 + 1.0 / 8, 1e-12);
    NEAR(v.z, 1.5518805795979702, 1e-10);
    NEAR(v.p, 0.12069080052744563, 1e-10);
}

/* Spearman: ranks (1..5) vs (2,1,4,3,5): sum d^2 = 4, rho = 1 - 24/120 =
 * 0.8. Exact p (n <= 10): of the 120 pairings, sum d^2 <= 4 for the
 * identity, the 4 adjacent swaps and the 3 pairs of disjoint adjacent
 * swaps: 8; two-sided 2 * 8/120 = 0.1333 (the t approximation said 0.104).
 * rho = -1: 2/120 (the t approximation said 0). First run {15, 10, 11, 9, 10}:
 * rest mean 10, SD sqrt(2/3); t = 5 / (sqrt(2/3) sqrt(1.25)) = 5.4772256,
 * 3 df, p = 0.0119669 (scipy.stats.t.sf). */
static void test_order(void **st)
{
    (void)st;
    double x[] = {1, 2, 3, 4, 5}, y[] = {2, 1, 4, 3, 5}, rho, p, d, t;
    size_t n;
    pb_rank_spearman(x, y, 5, &rho, &p, &n);
    assert_int_equal(n, 5);
    NEAR(rho, 0.8, 1e-12);
    NEAR(p, 16.0 / 120.0, 1e-12);
    double yr[] = {5, 4, 3, 2, 1};
    pb_rank_spearman(x, yr, 5, &rho, &p, &n);
    NEAR(rho, -1, 1e-12);
    NEAR(p, 2.0 / 120.0, 1e-12);
    double w[] = {15, 10, 11, 9, 10};
    pb_rank_first_run(w, 5, &d, &t, &p);
    NEAR(d, 5, 1e-12);
    NEAR(t, 5.477225575051661, 1e-10);
    NEAR(p, 0.011966912298547419, 1e-9);
}

/* 1..9, 18, 30 (n 11): type-7 Q1 at position 2.5 -> 3.5, Q3 at 7.5 ->
 * 8.5, IQR 5; fences -4 / -11.5 and 16 / 23.5: 18 mild, 30 severe. */
static void test_tukey(void **st)
{
    (void)st;
    double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 18, 30, NAN};
    pb_outlier c[12];
    pb_tukey t;
    pb_rank_tukey(x, 12, &t, c);
    assert_int_equal(t.n, 11);
    NEAR(t.q1, 3.5, 1e-12);
    NEAR(t.q3, 8.5, 1e-12);
    NEAR(t.hi_mild, 16, 1e-12);
    NEAR(t.hi_severe, 23.5, 1e-12);
    assert_int_equal(t.n_mild, 1);
    assert_int_equal(t.n_severe, 1);
    assert_int_equal(c[9], PB_OUT_HIGH_MILD);
    assert_int_equal(c[10], PB_OUT_HIGH_SEVERE);
    assert_int_equal(c[0], PB_OUT_NONE);
    assert_int_equal(c[11], PB_OUT_NONE);
}

/* s = 1, n = 10 per group: (t(0.975, 18) + t(0.8, 18)) sqrt(0.2) =
 * 1.3250808; a difference of 1 needs n = 17 per group (scipy.stats.t.ppf
 * loop over n). Normal check: 2 (1.959964 + 0.841621)^2 = 15.7 < 17. */
static void test_power(void **st)
{
    (void)st;
    NEAR(pb_power_mdd(1, 10, 1, 10, 0.05, 0.8), 1.325080783788845, 1e-9);
    NEAR(pb_power_n_needed(1, 1, 1, 0.05, 0.8), 17, 0);
    assert_true(isnan(pb_power_n_needed(1, 1, 0, 0.05, 0.8)));
    assert_true(isinf(pb_power_n_needed(1, 1, 1e-5, 0.05, 0.8)));
    /* The search against its definition, the smallest n with MDD(n, n) <=
     * delta found by counting up from 2, over SDs and differences whose
     * answers run from 2 to a few thousand (and with power < 0.5, where
     * the normal approximation is no longer below the answer). */
    const double sds[][2] = {{1, 1}, {0.3, 2.5}, {4, 0.01}, {0, 0}, {1e-3, 1e-3}};
    const double deltas[] = {10, 2, 1, 0.5, 0.2, 0.1, 0.05};
    const double powers[] = {0.8, 0.3};
    for (size_t a = 0; a < sizeof sds / sizeof sds[0]; a++)
        for (size_t b = 0; b < sizeof deltas / sizeof deltas[0]; b++)
            for (size_t c = 0; c < 2; c++) {
                double s1 = sds[a][0], s2 = sds[a][1], d = deltas[b], pw = powers[c];
                long n = 2;
                while (n < 20000 && pb_power_mdd(s1, (size_t)n, s2, (size_t)n, 0.05, pw) > d)
                    n++;
                if (n < 20000)
                    NEAR(pb_power_n_needed(s1, s2, d, 0.05, pw), (double)n, 0);
            }
}

/* The ratio bootstrap resamples within strata: 2 strata of 5 runs per
 * side (10 in total) are too few, whatever the total; 2 strata of
 * PB_BOOT_MIN_N are enough. */
static void test_ratio_boot_per_stratum(void **st)
{
    (void)st;
    double a[2 * PB_BOOT_MIN_N], b[2 * PB_BOOT_MIN_N];
    size_t sa[2 * PB_BOOT_MIN_N];
    for (size_t i = 0; i < 2 * PB_BOOT_MIN_N; i++) {
        a[i] = 10 + (double)(i % 7) / 3;
        b[i] = 8 + (double)(i % 5) / 4;
        sa[i] = i % 2;
    }
    pb_ratio o;
    /* 10 values, strata 0 and 1 with 5 each */
    assert_int_equal(pb_ratio_of_means(a, sa, 10, b, sa, 10, 2, 500, 3, &o), 0);
    assert_true(isfinite(o.lo));
    assert_true(isnan(o.boot_lo) && isnan(o.boot_hi));
    assert_int_equal(pb_ratio_of_means(a, sa, 2 * PB_BOOT_MIN_N, b, sa,
                                       2 * PB_BOOT_MIN_N, 2, 500, 3, &o), 0);
    assert_true(isfinite(o.boot_lo) && isfinite(o.boot_hi));
}

/* BCa (pb_stats_bca_mean): inside [min, max] around the mean,
 * reproducible; summaries print none (test_coverage); different streams
 * for different names. */
static void test_bca_and_streams(void **st)
{
    (void)st;
    double x[20];
    for (int i = 0; i < 20; i++)
        x[i] = (i % 5 == 0) ? 10.0 + i : (double)i / 10;   /* skewed */
    pb_summary s;
    double lo, hi, lo2, hi2;
    pb_stats_summarize(x, 20, 2000, 5, &s);
    pb_stats_bca_mean(x, 20, 2000, 5, &lo, &hi);
    pb_stats_bca_mean(x, 20, 2000, 5, &lo2, &hi2);
    assert_true(lo < s.mean && s.mean < hi);
    assert_true(lo >= s.min && hi <= s.max);
    assert_true(lo == lo2 && hi == hi2);
    assert_true(isnan(s.boot_lo) && isnan(s.boot_hi));
    uint32_t a = pb_stats_stream_seed(1, "tokio", "cfg1");
    uint32_t b = pb_stats_stream_seed(1, "tokio", "cfg2");
    uint32_t c = pb_stats_stream_seed(2, "tokio", "cfg1");
    assert_true(a != b && a != c && a != 0);
    assert_true(a == pb_stats_stream_seed(1, "tokio", "cfg1"));
    /* Name parts are separated: ("ab", "c") is not ("a", "bc"). */
    assert_true(pb_stats_stream_seed(1, "ab", "c") != pb_stats_stream_seed(1, "a", "bc"));
}

/* {98, 100, 100}: mean 99.3333, SD 1.1547, t(0.975, 2) = 4.3026527 ->
 * half-width 2.8684: [96.465, 102.202] -> clipped to 100 and flagged. */
static void test_clip(void **st)
{
    (void)st;
    double x[] = {98, 100, 100};
    pb_summary s;
    pb_stats_summarize(x, 3, 0, 1, &s);
    NEAR(s.ci_hi, 99.0 + 1.0 / 3 + 4.302652729911275 * sqrt(4.0 / 3) / sqrt(3), 1e-9);
    assert_int_equal(s.clipped, 0);
    pb_stats_clip(&s, 0, 100);
    NEAR(s.ci_hi, 100, 0);
    NEAR(s.ci_lo, 99.0 + 1.0 / 3 - 4.302652729911275 * sqrt(4.0 / 3) / sqrt(3), 1e-9);
    assert_int_equal(s.clipped, 1);
}

static int load_tr115(pb_dataset *ds)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/tr115-v1", PB_SHARED_DIR);
    FILE *f = fopen(dir, "r");
    if (!f)
        return -1;
    fclose(f);
    char *p[] = {dir};
    pb_load_opts o;
    pb_load_opts_init(&o);
    o.quiet = 1;
    return pb_load_paths(ds, p, 1, &o) == 150 ? 0 : -1;
}

/* stats-methods.md: Fieller (t, Satterthwaite df) per runtime against
 * async-std; async-std against itself exactly 1. The ratios of means to
 * 1e-6 relative (the 0.8777, 0.8212, 0.9069, 0.9035). */
static void test_tr115_fieller(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    if (load_tr115(&ds) != 0) {
        fprintf(stderr, "SKIP test_tr115_fieller: ../shared/data/tr115-v1 absent\n");
        pb_dataset_free(&ds);
        skip();
    }
    pb_analysis_opts o = {.boot_reps = 500, .seed = 1, .sequential_ref = "async-std"};
    pb_analysis a;
    assert_int_equal(pb_analysis_build_opts(&ds, &o, &a), 0);
    static const struct { const char *rt; double R, lo, hi, df; } want[] = {
        {"smol", 0.877701, 0.7665, 0.9981, 23.5},
        {"tokio-default", 0.821249, 0.7082, 0.9499, 25.9},
        {"smol-1kb", 0.906917, 0.7825, 1.0484, 27.3},
        {"tokio-localset", 0.903490, 0.7703, 1.0610, 24.6},
    };
    for (size_t i = 0; i < 4; i++) {
        long r = pb_analysis_find_rt(&a, want[i].rt);
        assert_true(r >= 0);
        const pb_ratio *x = &a.rts[r].seqref;
        REL(x->est, want[i].R, 1e-6);
        NEAR(x->lo, want[i].lo, 5e-5);
        NEAR(x->hi, want[i].hi, 5e-5);
        NEAR(x->df, want[i].df, 0.05);
        assert_int_equal(x->unbounded, 0);
        /* No bootstrap cross-check: below 94% coverage (test_coverage). */
        assert_true(isnan(x->boot_lo) && isnan(x->boot_hi));
    }
    long s = pb_analysis_find_rt(&a, "async-std");
    NEAR(a.rts[s].seqref.est, 1, 0);
    assert_int_equal(a.rts[s].seqref_is_self, 1);
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
}

/* stats-methods.md: TR115 efficiency 5 x 6 x 5, F values to 1e-6 relative,
 * with and without async-std. */
static void test_tr115_anova(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    if (load_tr115(&ds) != 0) {
        fprintf(stderr, "SKIP test_tr115_anova: ../shared/data/tr115-v1 absent\n");
        pb_dataset_free(&ds);
        skip();
    }
    pb_analysis a;
    assert_int_equal(pb_analysis_build(&ds, 0, 1, NULL, &a), 0);
    const pb_anova *v = &a.anova[PB_M_EST_EFF];
    assert_int_equal(v->balanced, 1);
    REL(v->a.F, 239.1389258, 1e-6);
    REL(v->b.F, 1.802404505, 1e-6);
    REL(v->ab.F, 1.021117915, 1e-6);
    REL(v->err.ss, 4688.864646, 1e-6);
    NEAR(v->a.df, 4, 0);
    NEAR(v->b.df, 5, 0);
    NEAR(v->ab.df, 20, 0);
    NEAR(v->err.df, 120, 0);
    pb_analysis_free(&a);
    for (size_t i = 0; i < ds.n_runs; i++)
        if (strcmp(ds.runs[i].runtime, "async-std") == 0)
            ds.runs[i].valid = 0;
    assert_int_equal(pb_analysis_build(&ds, 0, 1, NULL, &a), 0);
    v = &a.anova[PB_M_EST_EFF];
    REL(v->a.F, 0.6215888286, 1e-6);
    NEAR(v->a.p, 0.603, 5e-4);
    REL(v->b.F, 1.802316523, 1e-6);
    REL(v->ab.F, 0.9690615305, 1e-6);
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
}

/* Families: one Holm family per metric over all pairs; a baseline pair is
 * the same entry, oriented "other vs baseline". */
static void test_families(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    if (load_tr115(&ds) != 0) {
        fprintf(stderr, "SKIP test_families: ../shared/data/tr115-v1 absent\n");
        pb_dataset_free(&ds);
        skip();
    }
    pb_analysis_opts o = {.seed = 1, .baseline = "smol", .drop_first = 1};
    pb_analysis a;
    assert_int_equal(pb_analysis_build_opts(&ds, &o, &a), 0);
    assert_int_equal(a.n_dropped, 30);    /* 30 groups, one run each */
    assert_int_equal(a.groups[0].n, 4);
    size_t n_eff = 0, n_base = 0;
    for (size_t i = 0; i < a.n_cmps; i++) {
        const pb_comparison *c = &a.cmps[i];
        if (c->metric != PB_M_EST_EFF)
            continue;
        n_eff++;
        assert_string_equal(c->family, "all pairs: est_efficiency");
        assert_true(c->p_holm >= c->p);
        if (c->with_baseline) {
            n_base++;
            assert_string_equal(a.rts[c->b].runtime, "smol");
        }
        assert_true(strcmp(a.rts[c->a].runtime, "smol") != 0);
    }
    assert_int_equal(n_eff, 10);
    assert_int_equal(n_base, 4);
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
}

int main(void)
{
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mw_exact_tail),
        cmocka_unit_test(test_hodges_lehmann),
        cmocka_unit_test(test_geomean),
        cmocka_unit_test(test_fieller_hand),
        cmocka_unit_test(test_anova_type2),
        cmocka_unit_test(test_van_elteren),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_ratio_boot_per_stratum),
        cmocka_unit_test(test_tukey),
        cmocka_unit_test(test_power),
        cmocka_unit_test(test_bca_and_streams),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_tr115_fieller),
        cmocka_unit_test(test_tr115_anova),
        cmocka_unit_test(test_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
