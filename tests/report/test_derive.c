/* pb_derive, hand-checked on tr_hand_run (pb_test_runs.c):
 *
 * solo:       a 0..4 s (40 tokens), b 5..11 s (60 tokens)  -> 10 s, 100 tokens
 * concurrent: phase 12..20 s, wall W = 8 s
 *   a: start 12.0, connected 12.1, first byte 12.5, first token 12.75,
 *      end 17.0 (5 s), 41 tokens, chunks 12.75 13.75 14.75 15.75 16.75;
 *      server load 100, prompt 200, eval 4000, total 4500 ms, rate 10.25
 *   b: start 12.5, connected 12.5 (reused), first byte = first token 15.0,
 *      end 20.0 (7.5 s), 81 tokens, chunks 15.0 16.5 19.0;
 *      server load 0, prompt 500, eval 4000, total 7000 ms, rate absent
 *
 * estimated speedup (5 + 7.5) / 8 = 1.5625, efficiency /2 = 78.125 %
 * measured  speedup (4 + 6) / 8   = 1.25,   efficiency /2 = 62.5 %
 * token-normalised ((41+81)/8) / (100/10) = 15.25 / 10 = 1.525
 * overlap: a streams 12.75..17, b 15..20 -> both 15..17 = 2 s / 8 = 0.25
 * start skew 12.5 - 12.0 = 500 ms
 * means over a, b: connect (100+0)/2 = 50; wait (400+2500)/2 = 1450;
 *   first-token gap (250+0)/2 = 125; load 50; prompt eval 350;
 *   server queue ((4500-100-200-4000) + (7000-0-500-4000))/2 = (200+2500)/2 = 1350;
 *   client rate a 40/4 = 10, b 80/4 = 20 -> 15;
 *   server rate a 10.25, b 81/4 s = 20.25 -> 15.25
 * chunk gaps pooled: 1000 x4, 1500, 2500 (ms). R type 7 on the sorted 6:
 *   p50 h = 2.5 -> 1000; p90 h = 4.5 -> 1500 + .5*1000 = 2000;
 *   p99 h = 4.95 -> 1500 + .95*1000 = 2450 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "pb_derive.h"
#include "pb_stats.h"
#include "pb_test_runs.h"

#define NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9 * (1 + fabs((double)(b))))

static void test_hand_run(void **state) {
    (void)state;
    pb_dataset ds = {0};
    pb_run *r = tr_add_run(&ds, "uv", "cfg", 1, 2);
    tr_hand_run(r);
    pb_derived d;
    pb_derive_run(r, &d);
    NEAR(d.est_speedup, 1.5625);
    NEAR(d.est_efficiency, 78.125);
    NEAR(d.meas_speedup, 1.25);
    NEAR(d.meas_efficiency, 62.5);
    NEAR(d.tok_speedup, 1.525);
    NEAR(d.overlap, 0.25);
    NEAR(d.start_skew_ms, 500);
    NEAR(d.req.connect_ms, 50);
    NEAR(d.req.wait_ms, 1450);
    NEAR(d.req.first_token_gap_ms, 125);
    NEAR(d.req.load_ms, 50);
    NEAR(d.req.prompt_eval_ms, 350);
    NEAR(d.req.server_queue_ms, 1350);
    NEAR(d.req.client_rate, 15);
    NEAR(d.req.server_rate, 15.25);
    NEAR(d.gap_p50_ms, 1000);
    NEAR(d.gap_p90_ms, 2000);
    NEAR(d.gap_p99_ms, 2450);
    assert_true(isnan(d.ref_speedup));
    tr_dataset_free(&ds);
}

/* Without solo phases or timestamps (the original study's files): only the
 * file's stated figure survives; everything else is NAN, not 0. */
static void test_original_file(void **state) {
    (void)state;
    pb_dataset ds = {0};
    pb_run *r = tr_add_run(&ds, "tokio", "cfg", 1, 2);
    r->agents[0].conc.duration_s = 10;
    r->agents[1].conc.duration_s = 9;
    r->wall_s = 10.5;
    r->est_efficiency = 93.6; /* stated by the file: preferred over 19/21 */
    pb_derived d;
    pb_derive_run(r, &d);
    NEAR(d.est_efficiency, 93.6);
    NEAR(d.est_speedup, 1.872);
    assert_true(isnan(d.meas_speedup) && isnan(d.meas_efficiency));
    assert_true(isnan(d.tok_speedup) && isnan(d.overlap) && isnan(d.start_skew_ms));
    assert_true(isnan(d.req.client_rate) && isnan(d.gap_p50_ms));
    /* Not stated: computed from the durations, (10 + 9) / 10.5 / 2. */
    r->est_efficiency = NAN;
    pb_derive_run(r, &d);
    NEAR(d.est_speedup, 19.0 / 10.5);
    NEAR(d.est_efficiency, 19.0 / 10.5 / 2 * 100);
    tr_dataset_free(&ds);
}

/* One agent without a solo phase makes the measured sum unusable: a partial
 * sum would understate the sequential time. */
static void test_partial_solo(void **state) {
    (void)state;
    pb_dataset ds = {0};
    pb_run *r = tr_add_run(&ds, "uv", "cfg", 1, 2);
    tr_hand_run(r);
    r->agents[1].has_solo = 0;
    pb_derived d;
    pb_derive_run(r, &d);
    assert_true(isnan(d.meas_speedup) && isnan(d.tok_speedup));
    NEAR(d.est_efficiency, 78.125);
    tr_dataset_free(&ds);
}

static void test_overlap(void **state) {
    (void)state;
    /* Three intervals over [0, 10]: [0,4], [2,6], [3,8]. >= 2 open on
     * [2,6] (a&b 2..4, b&c 4..6, all three 3..4) and [3,8]∩[2,6] = [3,6]
     * -> union of >=2 = [2,6] = 4 -> 0.4. */
    double s[] = {0, 2, 3}, e[] = {4, 6, 8};
    NEAR(pb_derive_overlap(s, e, 3, 0, 10), 0.4);
    /* Touching intervals do not overlap. */
    double s2[] = {0, 5}, e2[] = {5, 10};
    NEAR(pb_derive_overlap(s2, e2, 2, 0, 10), 0.0);
    /* Nested; clipped to the window [1, 9]: [1,9] and [2,3] -> 1/8. */
    double s3[] = {0, 2}, e3[] = {10, 3};
    NEAR(pb_derive_overlap(s3, e3, 2, 1, 9), 0.125);
    /* NAN interval ignored; empty window is NAN. */
    double s4[] = {0, NAN, 1}, e4[] = {10, 5, 3};
    NEAR(pb_derive_overlap(s4, e4, 3, 0, 10), 0.2);
    assert_true(isnan(pb_derive_overlap(s4, e4, 3, 5, 5)));
}

/* --sequential-ref: serial's mean wall per config is the sequential time.
 * serial/c1 walls 10 and 12 -> 11 s (the invalid 100 s run is ignored).
 * par/c1 wall 5.5 with 2 agents -> speedup 11/5.5 = 2, efficiency 100 %.
 * par/c2 has no reference -> NAN. serial's own runs: 10/11 and 12/11. */
static void test_sequential_ref(void **state) {
    (void)state;
    pb_dataset ds = {0};
    tr_add_run(&ds, "serial", "c1", 1, 2)->wall_s = 10;
    tr_add_run(&ds, "serial", "c1", 2, 2)->wall_s = 12;
    pb_run *bad = tr_add_run(&ds, "serial", "c1", 3, 2);
    bad->wall_s = 100;
    bad->valid = 0;
    tr_add_run(&ds, "par", "c1", 1, 2)->wall_s = 5.5;
    tr_add_run(&ds, "par", "c2", 1, 2)->wall_s = 5;
    pb_derived d[5];
    assert_int_equal(pb_derive_dataset(&ds, "serial", 0, d), 1);
    NEAR(d[0].ref_speedup, 11.0 / 10.0);
    NEAR(d[1].ref_speedup, 11.0 / 12.0);
    NEAR(d[3].ref_seq_s, 11);
    NEAR(d[3].ref_speedup, 2);
    NEAR(d[3].ref_efficiency, 100);
    assert_true(isnan(d[4].ref_speedup));
    /* Unknown reference runtime: no config has a mean. */
    assert_int_equal(pb_derive_dataset(&ds, "nope", 0, d), 0);
    assert_true(isnan(d[3].ref_speedup));
    assert_int_equal(pb_derive_dataset(&ds, NULL, 0, d), 0);
    tr_dataset_free(&ds);
}

int main(void) {
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_run),
        cmocka_unit_test(test_original_file),
        cmocka_unit_test(test_partial_solo),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_sequential_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
