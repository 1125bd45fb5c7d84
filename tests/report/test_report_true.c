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
    pb_report_opts opts = {0};
    opts.sequential_ref = ref;
    pb_report_true(f, ds, &opts);
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
    HAS(md, "measured speedup is 1.25x (measured efficiency 62.5%): a single run, too few");
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
    HAS(md, "Sequential reference: **a\\|b**");
    /* tokio speedups 11/5.5, 11/5.5, 11/5 = 2, 2, 2.2: mean 2.0667 (shown
     * 2.07x), SD 0.11547, t(0.975, 2) = 4.302653, half-width
     * 4.302653 * 0.11547 / sqrt(3) = 0.28684 -> CI [1.78, 2.35], above 1x;
     * efficiency 2.0667 / 2 * 100 = 103.3 %. */
    HAS(md, "speedup is 2.07x (efficiency 103.3% against an estimated 95.0%): "
            "a real speedup (95% CI [1.78, 2.35])");
    free(md);
    /* No baseline at all: says so instead of a verdict. */
    md = section(&ds, NULL);
    HAS(md, "No run has a sequential baseline");
    free(md);
    tr_dataset_free(&ds);
}

/* A serial control: speedups 0.999, 1.000, 1.001 against the reference
 * (walls 11/0.999, 11, 11/1.001 s; reference mean wall 11 s). Mean 1.000,
 * SD 0.001, half-width 4.302653 * 0.001 / sqrt(3) = 0.00248: CI
 * [0.998, 1.002], inside 1x +- 2%, so "the same", not "slower"/"faster". */
static void test_equivalent_to_serial(void **state) {
    (void)state;
    pb_dataset ds = {0};
    tr_add_run(&ds, "ref", "c1", 1, 2)->wall_s = 10;
    tr_add_run(&ds, "ref", "c1", 2, 2)->wall_s = 12;
    const double walls[] = {11 / 0.999, 11, 11 / 1.001};
    for (int i = 0; i < 3; i++)
        tr_add_run(&ds, "serial", "c1", i + 1, 2)->wall_s = walls[i];
    char *md = section(&ds, "ref");
    HAS(md, "the same as running the agents one after another (95% CI [0.998, 1.002], "
            "within 2% of 1x)");
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
