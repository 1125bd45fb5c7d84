/* pb_scaling (issue 12): efficiency, speedup and aggregate throughput per
 * agent count, series grouping and the knee, on a hand-built data set.
 *
 * Every agent takes 1 s alone and produces 10 tokens; a run's concurrent
 * wall W then gives measured speedup N / W, efficiency 100 / W and
 * aggregate throughput 10 N / W tokens/s:
 *   N=1: W = 1.0, 1.0   -> efficiency 100, 100 (mean 100, SD 0)
 *   N=2: W = 1.0, 1.1   -> 100, 90.909091; tokens/s 20, 18.181818
 *   N=4: W = 1.25, 1.25 -> 80, 80
 * Ratios are summarised on the log scale (issue 20: no negative bounds):
 * N=2's efficiency is the geometric mean sqrt(100 x 90.909091) = 95.346259
 * with exp(mean ln -+ t(0.975, 1) sd(ln) / sqrt 2) = [52.039329, 174.693048]
 * (scipy: stats.t.ppf, stats.tstd on the logs; the linear interval read
 * [37.699, 153.210]); speedup 1.906925 [1.040787, 3.493861], tokens/s
 * 19.069252 [10.407866, 34.938610].
 * Knee at 90% by the mean: N=2 (N=4 is at 80). By the lower bound: N=2's
 * 52.04 is below 90, so only N=1 (which passes by definition). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pb_scaling.h"
#include "pb_stats.h"

static void add(pb_dataset *ds, const char *rt, const char *base, size_t n, double wall)
{
    pb_run *r = pb_dataset_add_run(ds);
    assert_non_null(r);
    r->runtime = strdup(rt);
    r->config = strdup("c");
    r->base_config = base ? strdup(base) : NULL;
    r->valid = 1;
    r->n_agents = n;
    r->agents = calloc(n, sizeof *r->agents);
    for (size_t i = 0; i < n; i++) {
        pb_agent *a = &r->agents[i];
        a->id = strdup("x");
        pb_request_clear(&a->conc);
        pb_request_clear(&a->solo);
        a->has_solo = a->has_conc = 1;
        a->solo.duration_s = 1.0;
        a->conc.duration_s = wall;
        a->solo.tokens = a->conc.tokens = 10;
    }
    r->conc_start = 0;
    r->conc_end = r->wall_s = wall;
}

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.9g, want %.9g", got, want);
}

static void test_points_and_knee(void **st)
{
    (void)st;
    pb_stats_init();
    pb_dataset ds = {0};
    add(&ds, "uv", "c", 4, 1.25);
    add(&ds, "uv", "c", 1, 1.0);
    add(&ds, "uv", "c", 2, 1.0);
    add(&ds, "uv", "c", 2, 1.1);
    add(&ds, "uv", "c", 1, 1.0);
    add(&ds, "uv", "c", 4, 1.25);
    add(&ds, "serial", "c", 2, 2.0); /* one N only: no series */
    pb_scaling sc;
    assert_int_equal(pb_scaling_build(&ds, 90, &sc), 0);
    assert_int_equal(sc.n_series, 1);
    const pb_scaling_series *s = &sc.series[0];
    assert_string_equal(s->runtime, "uv");
    assert_true(s->eff_measured);
    assert_int_equal(s->n_points, 3);
    assert_int_equal(s->pts[0].n_agents, 1);
    assert_int_equal(s->pts[1].n_agents, 2);
    assert_int_equal(s->pts[2].n_agents, 4);
    near(s->pts[0].eff.mean, 100, 1e-9);
    near(s->pts[1].eff.mean, 95.346258924559, 1e-9);
    near(s->pts[1].eff.ci_lo, 52.039329, 1e-5); /* scipy, header comment */
    near(s->pts[1].eff.ci_hi, 174.693048, 1e-5);
    near(s->pts[1].speedup.mean, 1.906925178491, 1e-9);
    near(s->pts[1].speedup.ci_lo, 1.040787, 1e-5);
    near(s->pts[1].throughput.mean, 19.069251784912, 1e-9);
    near(s->pts[1].throughput.ci_lo, 10.407866, 1e-5);
    near(s->pts[2].eff.mean, 80, 1e-9);
    near(s->pts[2].throughput.mean, 32, 1e-9);
    assert_int_equal(s->knee_n, 2);
    assert_int_equal(s->knee_n_ci, 1);
    pb_scaling_free(&sc);
    /* A lower threshold moves the knee; above N = 1 (100% by definition)
     * none passes 101%. */
    assert_int_equal(pb_scaling_build(&ds, 75, &sc), 0);
    assert_int_equal(sc.series[0].knee_n, 4);
    pb_scaling_free(&sc);
    assert_int_equal(pb_scaling_build(&ds, 101, &sc), 0);
    assert_int_equal(sc.series[0].knee_n, 1);
    pb_scaling_free(&sc);
    pb_dataset_free(&ds);
}

/* N = 1 is 100% by definition: a noisy N = 1 (walls 1.0 and 1.3: mean
 * efficiency 87.7%) must not put the knee at "none" when N = 2 holds
 * 95% (walls 1.05, 1.05). */
static void test_knee_not_by_n1(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    add(&ds, "uv", "c", 1, 1.0);
    add(&ds, "uv", "c", 1, 1.3);
    add(&ds, "uv", "c", 2, 1.05);
    add(&ds, "uv", "c", 2, 1.05);
    add(&ds, "uv", "c", 4, 2.0);
    add(&ds, "uv", "c", 4, 2.0);
    pb_scaling sc;
    assert_int_equal(pb_scaling_build(&ds, 90, &sc), 0);
    assert_int_equal(sc.series[0].knee_n, 2);
    assert_int_equal(sc.series[0].knee_n_ci, 2);
    pb_scaling_free(&sc);
    pb_dataset_free(&ds);
}

static void test_grouping(void **st)
{
    (void)st;
    pb_dataset ds = {0};
    /* Two base configs of one runtime: two series; runs without a base
     * config are grouped by runtime alone. */
    add(&ds, "uv", "a", 1, 1.0);
    add(&ds, "uv", "a", 2, 1.0);
    add(&ds, "uv", "b", 1, 1.0);
    add(&ds, "uv", "b", 2, 2.0);
    add(&ds, "old", NULL, 1, 1.0);
    add(&ds, "old", NULL, 3, 1.5);
    pb_scaling sc;
    assert_int_equal(pb_scaling_build(&ds, 90, &sc), 0);
    assert_int_equal(sc.n_series, 3);
    assert_string_equal(sc.series[0].runtime, "old");
    assert_string_equal(sc.series[0].config, PB_SCALING_ALL_CONFIGS);
    assert_string_equal(sc.series[1].config, "a");
    assert_string_equal(sc.series[2].config, "b");
    near(sc.series[2].pts[1].eff.mean, 50, 1e-9);
    pb_scaling_free(&sc);
    pb_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_and_knee),
        cmocka_unit_test(test_knee_not_by_n1),
        cmocka_unit_test(test_grouping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
