/* Exec runtimes in analyze (issue 18 section 4), against the hand-written
 * traces in tests/fixtures/trace_exec (README.md there derives every value
 * below by hand): the wire span as the speedup's wall, the process span
 * beside it, the write-back lag percentiles, the warnings, and the
 * report's lines. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pb_charts.h"
#include "pb_exec.h"
#include "pb_load.h"
#include "pb_report.h"
#include "pb_report_exec.h"
#include "pb_stats.h"

#define HAS(hay, needle)                                                    \
    do {                                                                    \
        if (!strstr((hay), (needle)))                                       \
            fail_msg("missing: %s\n--- in:\n%s", (needle), (hay));          \
    } while (0)

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-6)

static pb_dataset ds;
static pb_result res;

static int setup(void **state) {
    (void)state;
    pb_load_opts o;
    pb_load_opts_init(&o);
    o.quiet = 1;
    char *paths[] = {PB_FIXTURES_DIR "/trace_exec"};
    if (pb_load_paths(&ds, paths, 1, &o) != 2)
        return -1;
    pb_result_opts so = {0};
    return pb_result_build(&ds, &so, &res);
}

static int teardown(void **state) {
    (void)state;
    pb_result_free(&res);
    pb_dataset_free(&ds);
    return 0;
}

static const pb_derived *dv_of(const char *runtime, const pb_run **run) {
    for (size_t i = 0; i < ds.n_runs; i++)
        if (strcmp(ds.runs[i].runtime, runtime) == 0) {
            *run = &ds.runs[i];
            return &res.dv[i];
        }
    fail_msg("no run of %s", runtime);
    return NULL;
}

/* py: program for every phase. Concurrent process 6..9 s, requests a
 * 7.0..7.6 and b 7.2..7.8 (an /api/tags request is no agent's and left
 * out): wire 0.8 s; solo processes 2 + 2 s, solo wires 0.5 + 0.5 s. */
static void test_spans(void **state) {
    (void)state;
    const pb_run *r;
    const pb_derived *d = dv_of("py", &r);
    assert_int_equal(r->measured_by, PB_BY_PROXY);
    NEAR(d->process_s, 3.0);
    NEAR(d->wire_s, 0.8);
    NEAR(d->process_overhead_s, 2.2);
    NEAR(d->solo_process_s, 4.0);
    NEAR(d->solo_wire_s, 1.0);
    NEAR(d->meas_speedup, 1.25);  /* 1.0 / 0.8, not 4.0 / 3.0 */
    NEAR(d->est_speedup, 1.5);    /* (0.6 + 0.6) / 0.8 */
    d = dv_of("pyr", &r);
    assert_int_equal(r->measured_by, PB_BY_PROXY_REPLAY);
    NEAR(d->process_s, 0.9);
    NEAR(d->wire_s, 0.6);
    NEAR(d->process_overhead_s, 0.3);
    assert_true(isnan(d->solo_process_s));
    NEAR(d->solo_wire_s, 0.9);
    NEAR(d->meas_speedup, 1.5);
}

/* Lags (ms) of py's concurrent chunks: a 1, 4, 10; b 2, 3, never (left
 * out). Sorted 1 2 3 4 10: p50 = 3; p99 (type 7) = 4 + 0.96 x 6 = 9.76.
 * pyr: 5, 7: p50 6, p99 5 + 0.99 x 2 = 6.98. */
static void test_lag(void **state) {
    (void)state;
    const pb_run *r;
    const pb_derived *d = dv_of("py", &r);
    NEAR(d->wb_lag_p50_ms, 3.0);
    NEAR(d->wb_lag_p99_ms, 9.76);
    d = dv_of("pyr", &r);
    NEAR(d->wb_lag_p50_ms, 6.0);
    NEAR(d->wb_lag_p99_ms, 6.98);
}

/* py: process 3 s > 2 x wire 0.8 s warns; pyr (0.9 vs 0.6) does not,
 * but its replayed baseline does. */
static void test_warnings(void **state) {
    (void)state;
    int startup_py = 0, startup_pyr = 0, replay_py = 0, replay_pyr = 0;
    for (size_t i = 0; i < res.warn.n; i++) {
        const pb_warning *w = &res.warn.v[i];
        int py = strcmp(w->subject, "py") == 0, pyr = strcmp(w->subject, "pyr") == 0;
        if (w->kind == PB_W_STARTUP_DOMINATES) {
            startup_py += py;
            startup_pyr += pyr;
            if (py)
                HAS(w->text, "over 2x the wire span (means): py 3 s vs 0.8 s; speedups leave it out.");
        }
        if (w->kind == PB_W_REPLAY_BASELINE) {
            replay_py += py;
            replay_pyr += pyr;
        }
    }
    assert_int_equal(startup_py, 1);
    assert_int_equal(startup_pyr, 0);
    assert_int_equal(replay_py, 0);
    assert_int_equal(replay_pyr, 1);
}

static char *render(int full) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_report_opts op = {.res = &res};
    if (full)
        pb_report_exec_section(f, &res);
    else
        assert_int_equal(pb_report_front(f, &op), 0);
    fclose(f);
    return buf;
}

/* The front page wraps prose at 100 columns: its lines joined with one
 * space (a continuation line's indent dropped) for the phrase checks. */
static char *flat(const char *md) {
    char *out = malloc(strlen(md) + 1), *w = out;
    for (const char *p = md; *p; p++) {
        if (*p == '\n') {
            while (p[1] == ' ')
                p++;
            *w++ = ' ';
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}

static void test_report(void **state) {
    (void)state;
    char *raw = render(0), *md = flat(raw);
    HAS(md, "- How: program via the recording proxy: py; the same, solo baseline replayed: "
            "pyr. Speedups on the wire span (first request to last byte).");
    HAS(md, "- Solo baseline replayed by parbench's serial driver, not the program (same bodies "
            "and seeds): pyr;");
    size_t lines = 0;
    for (const char *p = raw; *p; p++)
        lines += *p == '\n';
    assert_true(lines <= 100);
    free(raw);
    free(md);
    md = render(1);
    HAS(md, "**The speedup uses the wire span**");
    HAS(md, "- pyr: the program through the recording proxy, solo baseline by replay (started "
            "once per phase, its requests recorded by the proxy); each solo phase is parbench's "
            "serial driver");
    HAS(md, "| py | proxy | 1 | 3.000 | 0.800 | 2.200 | 4.000 | 1.000 |");
    HAS(md, "| pyr | proxy, replayed solo | 1 | 0.900 | 0.600 | 0.300 | replayed | 0.900 |");
    HAS(md, "| py | 1 | 5 | 3.000 | 9.760 | 10.000 |");
    HAS(md, "| pyr | 1 | 2 | 6.000 | 6.980 | 7.000 |");
    free(md);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The lag chart's data: py's five lags 1 2 3 4 10 ms at F = 0.2 .. 1;
 * one timeline per exec runtime, linked from the report. */
static void test_charts(void **state) {
    (void)state;
    char *links = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&links, &len);
    pb_report_opts op = {.res = &res, .charts_dir = PB_TEST_OUT};
    assert_int_equal(pb_charts_write(&op, f, NULL), 0);
    fclose(f);
    char *dat = slurp(PB_TEST_OUT "/writeback_lag_ecdf.dat");
    HAS(dat, "\n1 0.2\n2 0.4\n3 0.6\n4 0.8\n10 1\n");
    HAS(dat, "\n5 0.5\n7 1\n");
    /* py's program runs: solo a 0..2 s, solo b 3..5 s, concurrent 6..9 s
     * under both lanes. */
    char *tl = slurp(PB_TEST_OUT "/timeline_rt1.dat");
    HAS(tl, "program running (spawn to exit)");
    HAS(tl, "0.000000000 2.000000000 1\n6.000000000 9.000000000 1\n"
            "3.000000000 5.000000000 2\n6.000000000 9.000000000 2\n");
    HAS(slurp(PB_TEST_OUT "/timeline_rt2.dat"), "# from to lane");
    HAS(links, "timeline_rt2.gp");
    HAS(links, "writeback_lag_ecdf.gp");
    free(links);
}

int main(void) {
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_lag),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_charts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
