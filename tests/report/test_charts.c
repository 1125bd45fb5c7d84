/* pb_charts: every chart as a valid PNG and SVG from a fixture data set,
 * gnuplot silent (no warnings) both when analyze renders and when a user
 * re-renders the kept script; without gnuplot, scripts + data + one
 * warning; sparse data draws what it can without gnuplot warnings. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pb_charts.h"
#include "pb_fs.h"
#include "pb_gnuplot.h"
#include "pb_stats.h"
#include "pb_test_runs.h"

/* One agent count (every run 2 agents): every chart but scaling. */
static const char *NAMES[] = {"speedup", "efficiency_box", "efficiency_config",
                              "ttft_ecdf", "throughput_aggregate",
                              "throughput_ecdf", "client_rate_ecdf", "timeline"};
enum { NNAMES = sizeof NAMES / sizeof NAMES[0] };
/* Several agent counts per runtime (2 and 3): the charts that keep N apart;
 * the ones over a runtime's runs would pool N and are not drawn. */
static const char *SWEEP[] = {"speedup", "efficiency_config", "scaling", "timeline"};
static const char *POOLED[] = {"efficiency_box", "ttft_ecdf", "throughput_aggregate",
                               "throughput_ecdf", "client_rate_ecdf"};

static long file_size(const char *dir, const char *name, const char *ext) {
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s.%s", dir, name, ext);
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void read_head(const char *dir, const char *name, const char *ext,
                      char *buf, size_t n) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

static void clean_dir(const char *dir) {
    static const char *ext[] = {"png", "svg", "gp", "dat"};
    char p[1024];
    for (size_t i = 0; i <= NNAMES; i++)
        for (size_t e = 0; e < 4; e++) {
            snprintf(p, sizeof p, "%s/%s.%s", dir, i < NNAMES ? NAMES[i] : "scaling", ext[e]);
            unlink(p);
        }
}

/* Runs fn with stderr going to a file; returns what was written (malloc'd). */
static char *capture_stderr(int (*fn)(void *), void *arg, int *rc) {
    char path[1024];
    snprintf(path, sizeof path, "%s/stderr.txt", PB_TEST_OUT);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    dup2(fileno(f), 2);
    *rc = fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

typedef struct call { pb_dataset *ds; pb_report_opts *opts; FILE *links; const char *seq; } call;
/* The charts of ds, from the one result analyze computes (pb_result). */
static int do_write(void *arg) {
    call *c = arg;
    pb_result_opts so = {.sequential_ref = c->seq};
    pb_result res;
    assert_int_equal(pb_result_build(c->ds, &so, &res), 0);
    c->opts->res = &res;
    int rc = pb_charts_write(c->opts, c->links, NULL);
    c->opts->res = NULL;
    pb_result_free(&res);
    return rc;
}

static int setup(void **state) {
    (void)state;
    char err[256];
    assert_int_equal(pb_fs_mkdirs(PB_TEST_OUT, err, sizeof err), 0);
    assert_int_equal(chdir(PB_TEST_OUT), 0);
    return 0;
}

static void all_charts(int one_n);

static void test_all_charts(void **state) {
    (void)state;
    all_charts(1);
    all_charts(0);
}

static void all_charts(int one_n) {
    char *gp = pb_gnuplot_find();
    if (!gp) {
        fprintf(stderr, "test_charts: gnuplot not on PATH (apt-get install "
                        "gnuplot-nox); cannot check the images, skipping\n");
        skip();
    }
    const char *const *names = one_n ? NAMES : SWEEP;
    size_t nnames = one_n ? NNAMES : sizeof SWEEP / sizeof SWEEP[0];
    pb_dataset ds = {0};
    tr_chart_dataset_n(&ds, one_n);
    /* Emulated at 50x: every chart must say so in its own picture. */
    for (size_t i = 0; i < ds.n_runs; i++)
        ds.runs[i].emu_time_scale = 50;
    /* A relative directory with a space: the links must stay relative and
     * usable. --sequential-ref adds the third efficiency definition. */
    const char *dir = one_n ? "charts all" : "charts sweep";
    clean_dir(dir);
    pb_report_opts opts = {0};
    opts.charts_dir = dir;
    char *md = NULL;
    size_t mdlen = 0;
    FILE *links = open_memstream(&md, &mdlen);
    call c = {&ds, &opts, links, "uv"};
    int rc;
    char *err = capture_stderr(do_write, &c, &rc);
    fclose(links);
    assert_int_equal(rc, 0);
    assert_string_equal(err, ""); /* gnuplot said nothing: no warnings */
    free(err);
    for (size_t i = 0; i < nnames; i++) {
        char head[64];
        long png = file_size(dir, names[i], "png"), svg = file_size(dir, names[i], "svg");
        print_message("%-18s png %ld bytes, svg %ld bytes\n", names[i], png, svg);
        assert_true(png > 10000);
        assert_true(svg > 5000);
        read_head(dir, names[i], "png", head, sizeof head);
        assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
        read_head(dir, names[i], "svg", head, sizeof head);
        assert_true(strncmp(head, "<?xml", 5) == 0 || strncmp(head, "<svg", 4) == 0);
        assert_true(file_size(dir, names[i], "gp") > 100);
        char gpp[256], *gtxt = NULL;
        size_t glen;
        snprintf(gpp, sizeof gpp, "%s/%s.gp", dir, names[i]);
        assert_int_equal(pb_fs_read_all(gpp, 1 << 20, &gtxt, &glen, gpp, sizeof gpp), 0);
        assert_non_null(strstr(gtxt, "Emulated data, time scale 50x"));
        free(gtxt);
        assert_true(file_size(dir, names[i], "dat") > 20);
        /* Links are relative, in <...> because of the space. */
        char want[256];
        snprintf(want, sizeof want, "](<%s/%s.png>)", dir, names[i]);
        assert_non_null(strstr(md, want));
        snprintf(want, sizeof want, "(<%s/%s.gp>)", dir, names[i]);
        assert_non_null(strstr(md, want));
        /* A user re-rendering the kept script gets no warning either. */
        char script[128], *e = NULL;
        snprintf(script, sizeof script, "%s.gp", names[i]);
        assert_int_equal(pb_gnuplot_run(gp, dir, script, &e), 0);
        assert_string_equal(e, "");
        free(e);
    }
    if (!one_n) {
        /* A sweep: nothing pools N; the headline is the answer against N. */
        for (size_t i = 0; i < sizeof POOLED / sizeof POOLED[0]; i++)
            assert_int_equal(file_size(dir, POOLED[i], "gp"), -1);
        assert_non_null(strstr(md, "not drawn, the runs hold several agent counts"));
        char p[256], *txt = NULL;
        size_t len;
        snprintf(p, sizeof p, "%s/speedup.gp", dir);
        assert_int_equal(pb_fs_read_all(p, 1 << 20, &txt, &len, p, sizeof p), 0);
        assert_non_null(strstr(txt, "ideal: speedup = N"));
        assert_non_null(strstr(txt, "set logscale xy 2"));
        free(txt);
        free(md);
        free(gp);
        tr_dataset_free(&ds);
        return;
    }
    assert_int_equal(file_size(dir, "scaling", "gp"), -1);
    /* The odd runtime label reaches the script quoted, not raw. */
    char p[256], *txt = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/efficiency_box.gp", dir);
    assert_int_equal(pb_fs_read_all(p, 1 << 20, &txt, &len, p, sizeof p), 0);
    assert_non_null(strstr(txt, "'it''s_a {odd}|label \"x\" @&~^'"));
    assert_non_null(strstr(txt, "noenhanced"));
    free(txt);
    /* The headline chart: both reference lines, named in the key. */
    snprintf(p, sizeof p, "%s/speedup.gp", dir);
    assert_int_equal(pb_fs_read_all(p, 1 << 20, &txt, &len, p, sizeof p), 0);
    assert_non_null(strstr(txt, "title '1x: one after the other'"));
    assert_non_null(strstr(txt, "perfect overlap"));
    free(txt);
    free(md);
    free(gp);
    tr_dataset_free(&ds);
}

static void test_without_gnuplot(void **state) {
    (void)state;
    pb_dataset ds = {0};
    tr_chart_dataset_n(&ds, 1);
    const char *dir = "charts_nognuplot";
    clean_dir(dir);
    pb_report_opts opts = {0};
    opts.charts_dir = dir;
    char *md = NULL;
    size_t mdlen = 0;
    FILE *links = open_memstream(&md, &mdlen);
    char *old = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    call c = {&ds, &opts, links, NULL};
    int rc;
    char *err = capture_stderr(do_write, &c, &rc);
    setenv("PATH", old, 1);
    free(old);
    fclose(links);
    assert_int_equal(rc, 0);
    /* Exactly one warning, saying how to install gnuplot. */
    char *w = strstr(err, "apt-get install gnuplot-nox");
    assert_non_null(w);
    assert_null(strstr(w + 1, "apt-get install gnuplot-nox"));
    assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err));
    free(err);
    for (size_t i = 0; i < NNAMES; i++) {
        assert_true(file_size(dir, NAMES[i], "gp") > 100);
        assert_true(file_size(dir, NAMES[i], "dat") > 20);
        assert_int_equal(file_size(dir, NAMES[i], "png"), -1);
    }
    assert_null(strstr(md, "!["));               /* no broken images */
    assert_non_null(strstr(md, "(charts_nognuplot/timeline.gp)"));
    free(md);
    tr_dataset_free(&ds);
}

/* The original study's shape: no timestamps, no solo phases, one agent
 * count, a config with a single run (no CI). What can be drawn is drawn
 * without gnuplot warnings; the rest is named as not drawn. */
static void test_sparse(void **state) {
    (void)state;
    pb_dataset ds = {0};
    for (int i = 0; i < 3; i++) {
        pb_run *r = tr_add_run(&ds, "tokio", "c1", i + 1, 2);
        r->est_efficiency = 90 + i;
        r->agents[0].conc.server_rate = 50 + i;
    }
    tr_add_run(&ds, "async-std", "c1", 1, 2)->est_efficiency = 50;
    const char *dir = "charts_sparse";
    clean_dir(dir);
    pb_report_opts opts = {0};
    opts.charts_dir = dir;
    char *md = NULL;
    size_t mdlen = 0;
    FILE *links = open_memstream(&md, &mdlen);
    call c = {&ds, &opts, links, NULL};
    int rc;
    char *err = capture_stderr(do_write, &c, &rc);
    fclose(links);
    assert_int_equal(rc, 0);
    char *gp = pb_gnuplot_find();
    free(gp);
    if (!gp) {
        free(err);
        free(md);
        tr_dataset_free(&ds);
        skip();
    }
    assert_string_equal(err, "");
    free(err);
    assert_true(file_size(dir, "efficiency_box", "png") > 5000);
    assert_true(file_size(dir, "efficiency_config", "svg") > 5000);
    assert_true(file_size(dir, "throughput_ecdf", "png") > 5000);
    assert_int_equal(file_size(dir, "ttft_ecdf", "gp"), -1);
    assert_int_equal(file_size(dir, "timeline", "gp"), -1);
    assert_non_null(strstr(md, "Timeline of one run: not drawn"));
    assert_non_null(strstr(md, "Scaling with agents: not drawn"));
    free(md);
    /* An empty data set: nothing to draw, still no failure. */
    pb_dataset empty = {0};
    links = open_memstream(&md, &mdlen);
    call ce = {&empty, &opts, links, NULL};
    assert_int_equal(do_write(&ce), 0);
    fclose(links);
    free(md);
    tr_dataset_free(&ds);
}

int main(void) {
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_charts),
        cmocka_unit_test(test_without_gnuplot),
        cmocka_unit_test(test_sparse),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
