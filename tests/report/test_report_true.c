/* The "True parallel efficiency" section: present, with the hand-checked
 * values of tr_hand_run (derivation in test_derive.c) and of the trace
 * fixtures in tests/fixtures/trace (derivation in its README.md), the
 * sequential reference, plain-words verdicts and the definitions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pb_load.h"
#include "pb_report_true.h"
#include "pb_stats.h"
#include "pb_test_runs.h"

static char *section(const pb_dataset *ds, const char *ref) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_result_opts so = {.sequential_ref = ref};
    pb_result res;
    assert_int_equal(pb_result_build(ds, &so, &res), 0);
    pb_report_opts opts = {.res = &res};
    pb_report_true(f, &opts);
    pb_result_free(&res);
    fclose(f);
    return buf;
}

#define HAS(md, s) do { if (!strstr((md), (s))) fail_msg("missing: %s\n---\n%s", (s), (md)); } while (0)

static void test_hand_run(void **state) {
    (void)state;
    pb_dataset ds = {0};
    tr_hand_run(tr_add_run(&ds, "uv", "cfg", 1, 2));
    char *md = section(&ds, NULL);
    HAS(md, "## True parallel efficiency");
    HAS(md, "### Definitions (true parallel efficiency)");
    /* estimated 78.125 %, measured 62.5 %, speedup 1.25, overlap 25 %,
     * skew 500 ms (one run: no CI). */
    HAS(md, "| uv | 1 | 78.1 | 62.5 | 1.25 |");
    HAS(md, "| 25.0 | 500.0 |");
    /* TTFT split: connect 50, wait 1450, queue 1350, load 50, prompt 350, gap 125. */
    HAS(md, "| uv | 1 | 50.0 | 1450.0 | 1350.0 | 50.0 | 350.0 | 125.00 |");
    /* client 15, server 15.25, gaps 1000 / 2000 / 2450. */
    HAS(md, "| uv | 1 | 15.0 | 15.2 | 1000.00 | 2000.00 | 2450.00 |");
    /* 78.125 - 62.5 = 15.6 pp overstated; one run has no CI, so no verdict
     * on whether 1.25x differs from 1x. */
    HAS(md, "overstates efficiency by 15.6 percentage points");
    HAS(md, "measured speedup is 1.25x (geometric mean; measured efficiency 62.5%): "
            "a single run, too few");
    free(md);
    tr_dataset_free(&ds);
}

/* Labels with Markdown metacharacters are escaped in tables. */
static void test_escape_and_ref(void **state) {
    (void)state;
    pb_dataset ds = {0};
    tr_add_run(&ds, "a|b", "c1", 1, 2)->wall_s = 10;
    tr_add_run(&ds, "a|b", "c1", 2, 2)->wall_s = 12;
    /* Reference: mean wall of a|b in c1 = (10 + 12) / 2 = 11 s. */
    const double walls[] = {5.5, 5.5, 5.0};
    for (int i = 0; i < 3; i++) {
        pb_run *r = tr_add_run(&ds, "tokio", "c1", i + 1, 2);
        r->wall_s = walls[i];
        r->est_efficiency = 95;
    }
    char *md = section(&ds, "a|b");
    HAS(md, "| a\\|b |");
    HAS(md, "### Speedup against the sequential reference **a\\|b** (ratio of means)");
    /* Ratio of means (issue 8): R = mean(10, 12) / mean(5.5, 5.5, 5) =
     * 11 / (16/3) = 2.0625; efficiency R / 2 = 103.1 %. Fieller: v_a =
     * var(10, 12) / 2 = 1, v_b = var(5.5, 5.5, 5) / 3 = 0.0833333 / 3 =
     * 0.0277778; Satterthwaite df of a - R b = (1 + R^2 v_b)^2 / (1^2 / 1 +
     * (R^2 v_b)^2 / 2) = 1.24162; q = t(0.975, 1.24162); g = q^2 v_b / b^2 =
     * 0.0644666; bounds (R -+ h) / (1 - g) = [0.5331, 3.8762] (recomputed
     * with scipy 1.10's t quantile in /usr/bin/python3, formula from
     * stats-methods.md). The old mean of per-run ratios said 2.07 [1.78, 2.35]
     * as if the reference's mean were known. */
    HAS(md, "the speedup (ratio of means) is 2.0625x (efficiency 103.1% against an "
            "estimated 95.0%): not distinguishable from running the agents one after "
            "another (95% CI [0.53, 3.88] includes 1x)");
    HAS(md, "| tokio | 2.0625 | [0.5331, 3.8762] | 1.2 | n/a |");
    free(md);
    /* No baseline at all: says so instead of a verdict. */
    md = section(&ds, NULL);
    HAS(md, "No run has a sequential baseline");
    free(md);
    tr_dataset_free(&ds);
}

/* A serial control against a reference of three runs: reference walls
 * 10.99, 11, 11.01 (mean 11, v_a = 0.0001 / 3), serial walls 11/0.999, 11,
 * 11/1.001 (mean 11.0000073, v_b = 3.6737e-5 / 3 approx.). R = 0.9999993,
 * Satterthwaite df 3.964, Fieller [0.99783, 1.00218] (scipy 1.10, formula
 * of stats-methods.md): inside 1x +- 2%, so "the same", not "slower". */
static void test_equivalent_to_serial(void **state) {
    (void)state;
    pb_dataset ds = {0};
    const double ref[] = {10.99, 11, 11.01};
    for (int i = 0; i < 3; i++)
        tr_add_run(&ds, "ref", "c1", i + 1, 2)->wall_s = ref[i];
    const double walls[] = {11 / 0.999, 11, 11 / 1.001};
    for (int i = 0; i < 3; i++)
        tr_add_run(&ds, "serial", "c1", i + 1, 2)->wall_s = walls[i];
    char *md = section(&ds, "ref");
    HAS(md, "the same as running the agents one after another (95% CI [0.998, 1.002], "
            "within 2% of 1x)");
    /* The reference against itself: exactly 1 by construction. */
    HAS(md, "| ref | 1 (the reference itself) | exactly 1 |");
    free(md);
    tr_dataset_free(&ds);
}

/* The hand-written trace fixtures through analyze's loader:
 * uv/cfg_a/run_1: est 81.25 %, measured 62.5 % (speedup 1.25);
 * run_2 invalid (excluded); threads/cfg_a/run_1 no solo: 80 %, measured n/a. */
static void test_trace_fixtures(void **state) {
    (void)state;
    pb_dataset ds = {0};
    pb_load_opts o;
    pb_load_opts_init(&o);
    o.quiet = 1;
    char *paths[] = {PB_FIXTURES_DIR "/trace"};
    size_t n = pb_load_paths(&ds, paths, 1, &o);
    assert_int_equal(n, 3);
    char *md = section(&ds, NULL);
    HAS(md, "| uv | 1 | 81.2 | 62.5 | 1.25 |");
    HAS(md, "| threads | 1 | 80.0 | n/a | n/a |");
    free(md);
    pb_dataset_free(&ds);
}

int main(void) {
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_run),
        cmocka_unit_test(test_escape_and_ref),
        cmocka_unit_test(test_equivalent_to_serial),
        cmocka_unit_test(test_trace_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
