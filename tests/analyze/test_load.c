/* Loader and analysis tests: hand-written fixtures (expected values worked
 * out by hand in tests/fixtures/README.md and trace/README.md), the TR115
 * reproduction against the study's own runtime_comparison.csv, and bad
 * input that must be reported, never crash. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pb_analysis.h"
#include "pb_load.h"
#include "pb_stats.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static pb_load_opts quiet_opts(void)
{
    pb_load_opts o;
    pb_load_opts_init(&o);
    o.quiet = 1;
    return o;
}

static const pb_run *find_run(const pb_dataset *ds, const char *rt, int idx)
{
    for (size_t i = 0; i < ds->n_runs; i++)
        if (strcmp(ds->runs[i].runtime, rt) == 0 && ds->runs[i].run_index == idx)
            return &ds->runs[i];
    return NULL;
}

static void test_parbench_fixtures(void **st)
{
    (void)st;
    char *p[] = {PB_FIXTURES_DIR "/trace"};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    assert_int_equal(pb_load_paths(&ds, p, 1, &o), 3);
    assert_int_equal(ds.n_skips, 0);
    assert_int_equal(ds.files_manifest, 1);
    const pb_run *r = find_run(&ds, "uv", 1);
    assert_non_null(r);
    assert_string_equal(r->config, "cfg_a");
    assert_true(r->valid);
    /* trace/README.md: wall 22-14 = 8 s; (5+8)/8 = 1.625, 81.25 %;
     * solo (4+6)/8 = 1.25, 62.5 %. */
    NEAR(r->wall_s, 8, 1e-12);
    NEAR(r->est_speedup, 1.625, 1e-12);
    NEAR(r->est_efficiency, 81.25, 1e-10);
    NEAR(r->meas_speedup, 1.25, 1e-12);
    NEAR(r->meas_efficiency, 62.5, 1e-10);
    assert_int_equal(r->n_agents, 2);
    const pb_request *a = &r->agents[0].conc, *b = &r->agents[1].conc;
    NEAR(a->ttft_ms, 500, 1e-6);
    NEAR(a->server_rate, 50, 1e-9);
    NEAR(a->queue_ms, 2200, 1e-6);
    assert_int_equal(a->n_chunks, 3);
    NEAR(a->chunks[1].t_s, 15, 1e-12);
    assert_int_equal(a->chunks[1].bytes, 80);
    NEAR(b->ttft_ms, 2000, 1e-6);
    NEAR(b->server_rate, 30, 1e-9);
    NEAR(b->queue_ms, 2000, 1e-6);
    assert_true(r->agents[0].has_solo);
    NEAR(r->agents[0].solo.duration_s, 4, 1e-12);
    /* Invalid run: loaded, flagged, reason kept. */
    const pb_run *inv = find_run(&ds, "uv", 2);
    assert_non_null(inv);
    assert_false(inv->valid);
    assert_string_equal(inv->invalid_reason, "agent b: HTTP 503: server busy");
    /* --no-solo run: (6+10)/10 = 1.6, 80 %; measured n/a. */
    const pb_run *ns = find_run(&ds, "threads", 1);
    assert_non_null(ns);
    NEAR(ns->est_efficiency, 80, 1e-10);
    assert_true(isnan(ns->meas_speedup));
    assert_int_equal(pb_dataset_n_valid(&ds), 2);
    pb_dataset_free(&ds);
}

static void test_tr115_fixtures(void **st)
{
    (void)st;
    char *p[] = {PB_FIXTURES_DIR "/tr115_rust", PB_FIXTURES_DIR "/tr115_python"};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    assert_int_equal(pb_load_paths(&ds, p, 2, &o), 9);
    assert_int_equal(ds.n_skips, 0);
    assert_int_equal(ds.files_duplicate, 6);   /* one summary.json per Rust run */
    assert_int_equal(ds.files_aggregate, 2);   /* Python config summaries */
    pb_analysis a;
    assert_int_equal(pb_analysis_build(&ds, 200, 1, "beta", &a), 0);
    long ia = pb_analysis_find_rt(&a, "alpha"), ib = pb_analysis_find_rt(&a, "beta");
    long ip = pb_analysis_find_rt(&a, "pyrt");
    assert_true(ia >= 0 && ib >= 0 && ip >= 0);
    const pb_rt *al = &a.rts[ia];
    /* fixtures/README.md: config means 85, 71 -> peak 85, mean 78,
     * SD 14/sqrt(2); peak speedup 1.7; runs 80,90,70,72: mean 78,
     * SD sqrt(((2)^2+12^2+8^2+6^2)/3) = sqrt(248/3) = 9.092121131323903. */
    NEAR(al->cfg_peak, 85, 1e-12);
    assert_string_equal(al->cfg_peak_config, "cfg1");
    NEAR(al->cfg_mean, 78, 1e-12);
    NEAR(al->cfg_sd, 9.899494936611665, 1e-12);
    NEAR(al->cfg_peak_speedup, 1.7, 1e-12);
    NEAR(al->eff.mean, 78, 1e-12);
    NEAR(al->eff.sd, 9.092121131323903, 1e-12);
    NEAR(al->run_peak, 90, 0);
    assert_int_equal(ds.runs[al->run_peak_idx].run_index, 2);
    /* Per-config SDs 50^0.5 = 7.0710678 (cfg1) and 2^0.5 (cfg2): most stable
     * cfg2, least stable cfg1, mean of SDs (sqrt(50)+sqrt(2))/2. */
    assert_string_equal(al->most_stable, "cfg2");
    assert_string_equal(al->least_stable, "cfg1");
    NEAR(al->cfg_mean_sd, (sqrt(50) + sqrt(2)) / 2, 1e-12);
    /* Python: efficiency = speedup/2*100 -> 75, 85 | 95. */
    NEAR(a.rts[ip].eff.mean, 85, 1e-12);
    NEAR(a.rts[ip].cfg_peak, 95, 1e-12);
    /* alpha vs beta (baseline): Mann-Whitney U = 8 of 4*2, exact,
     * one ordering of C(6,2) = 15 is as extreme -> p = 2/15. */
    const pb_comparison *pr = NULL;
    for (size_t i = 0; i < a.n_cmps; i++)
        if (a.cmps[i].metric == PB_M_EST_EFF && a.cmps[i].a == (size_t)ia &&
            a.cmps[i].b == (size_t)ib && a.cmps[i].with_baseline)
            pr = &a.cmps[i];
    assert_non_null(pr);
    NEAR(pr->c.diff, 16, 1e-12);
    NEAR(pr->c.mw_u, 8, 0);
    assert_int_equal(pr->c.mw_exact, 1);
    NEAR(pr->c.mw_p, 2.0 / 15.0, 1e-15);
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
}

/* The key test: the study's runtime_comparison.csv, every value, 1e-9
 * relative. peak = max config mean; mean/SD (n-1) of config means; peak
 * speedup = max config-mean speedup; gain_vs_tr114 = peak - 95.7;
 * gap_vs_tr110 = 99.25 - peak. */
static int rel_ok(double got, double want)
{
    double d = fabs(got - want), s = fabs(want) > 1e-300 ? fabs(want) : 1;
    if (d / s <= 1e-9)
        return 1;
    fprintf(stderr, "mismatch: got %.17g want %.17g (rel %.3g)\n", got, want, d / s);
    return 0;
}

/* Two loads of the same inputs agree on everything the report shows:
 * runs (in order, with their numbers), skips (in order), the counts. */
static void assert_same_dataset(const pb_dataset *a, const pb_dataset *b)
{
    assert_int_equal(a->n_runs, b->n_runs);
    for (size_t i = 0; i < a->n_runs; i++) {
        assert_string_equal(a->runs[i].path, b->runs[i].path);
        assert_string_equal(a->runs[i].runtime, b->runs[i].runtime);
        assert_string_equal(a->runs[i].config, b->runs[i].config);
        assert_int_equal(a->runs[i].run_index, b->runs[i].run_index);
        assert_memory_equal(&a->runs[i].wall_s, &b->runs[i].wall_s, sizeof(double));
        assert_memory_equal(&a->runs[i].est_efficiency, &b->runs[i].est_efficiency,
                            sizeof(double));
    }
    assert_int_equal(a->n_skips, b->n_skips);
    for (size_t i = 0; i < a->n_skips; i++) {
        assert_string_equal(a->skips[i].path, b->skips[i].path);
        assert_string_equal(a->skips[i].reason, b->skips[i].reason);
    }
    assert_int_equal(a->files_seen, b->files_seen);
    assert_int_equal(a->files_duplicate, b->files_duplicate);
    assert_int_equal(a->files_aggregate, b->files_aggregate);
    assert_int_equal(a->files_manifest, b->files_manifest);
    assert_int_equal(a->files_revisited, b->files_revisited);
    assert_int_equal(a->files_copies, b->files_copies);
    assert_int_equal(a->files_hidden, b->files_hidden);
    assert_int_equal(a->n_manifests, b->n_manifests);
}

/* The same inputs loaded with 1, 2 and 5 threads: the same dataset. */
static void assert_jobs_agree(char **paths, int n)
{
    pb_dataset ds[3] = {{0}};
    int jobs[3] = {1, 2, 5};
    for (int k = 0; k < 3; k++) {
        pb_load_opts o = quiet_opts();
        o.jobs = jobs[k];
        pb_load_paths(&ds[k], paths, n, &o);
    }
    assert_same_dataset(&ds[0], &ds[1]);
    assert_same_dataset(&ds[0], &ds[2]);
    for (int k = 0; k < 3; k++)
        pb_dataset_free(&ds[k]);
}

static void test_tr115_reproduction(void **st)
{
    (void)st;
    char dir[4096], csv[4200];
    snprintf(dir, sizeof dir, "%s/data/tr115-v1", PB_SHARED_DIR);
    snprintf(csv, sizeof csv, "%s/runtime_comparison.csv", dir);
    FILE *f = fopen(csv, "r");
    if (!f) {
        fprintf(stderr, "SKIP test_tr115_reproduction: %s not found (../shared "
                "absent; set -DPARBENCH_SHARED_DIR=...)\n", csv);
        skip();
    }
    char *p[] = {dir};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    assert_int_equal(pb_load_paths(&ds, p, 1, &o), 150);
    assert_int_equal(ds.n_runs, 150);
    assert_int_equal(ds.files_duplicate, 150);
    assert_int_equal(ds.n_skips, 0);
    assert_jobs_agree(p, 1);
    pb_analysis a;
    assert_int_equal(pb_analysis_build(&ds, 0, 1, NULL, &a), 0);
    assert_int_equal(a.n_rts, 5);
    char line[1024];
    int rows = 0, ok = 1;
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char name[128];
        double v[6];
        if (sscanf(line, "%127[^,],%lf,%lf,%lf,%lf,%lf,%lf", name, &v[0], &v[1],
                   &v[2], &v[3], &v[4], &v[5]) != 7)
            continue;
        long k = pb_analysis_find_rt(&a, name);
        assert_true(k >= 0);
        const pb_rt *r = &a.rts[k];
        assert_int_equal(r->eff.n, 30);
        assert_int_equal(r->n_groups, 6);
        ok &= rel_ok(r->cfg_peak, v[0]);
        ok &= rel_ok(r->cfg_mean, v[1]);
        ok &= rel_ok(r->cfg_sd, v[2]);
        ok &= rel_ok(r->cfg_peak_speedup, v[3]);
        ok &= rel_ok(r->cfg_peak - 95.7, v[4]);
        ok &= rel_ok(99.25 - r->cfg_peak, v[5]);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 5);
    assert_true(ok);
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
}

/* ---- bad input ---- */

static char tmpdir[256];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *reason_of(const pb_dataset *ds, const char *name_part)
{
    for (size_t i = 0; i < ds->n_skips; i++)
        if (strstr(ds->skips[i].path, name_part))
            return ds->skips[i].reason;
    return NULL;
}

#define RUST(eff, sp, wall, t) \
    "{\"collector\":{\"execution_time_s\":" t "},\"insight\":{\"execution_time_s\":" t "}," \
    "\"summary\":{\"efficiency_percent\":" eff ",\"concurrency_speedup\":" sp \
    ",\"concurrent_wall_time_s\":" wall "}}"

static void test_bad_input(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_load_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char p[512];
    snprintf(p, sizeof p, "%s/rt/cfg/run_1", tmpdir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s %s/empty %s/rt/cfg/run_2", p, tmpdir, tmpdir);
    assert_int_equal(system(cmd), 0);
    put("rt/cfg/run_1/good.json", RUST("80", "1.6", "10", "4"));
    put("rt/cfg/run_2/good.json", RUST("90", "1.8", "10", "4.5"));
    put("rt/cfg/truncated.json", "{\"summary\": {\"efficiency_percent\": 8");
    put("rt/cfg/wrongtype.json", RUST("\"80\"", "1.6", "10", "4"));
    put("rt/cfg/missing.json", "{\"collector\":{},\"summary\":{\"concurrency_speedup\":1.5}}");
    put("rt/cfg/zerowall.json", RUST("80", "1.6", "0", "4"));
    put("rt/cfg/negdur.json", RUST("80", "1.6", "10", "-4"));
    put("rt/cfg/nan.json", RUST("NaN", "1.6", "10", "4"));
    put("rt/cfg/inf.json", RUST("1e999", "1.6", "10", "4"));
    put("rt/cfg/array.json", "[1, 2, 3]");
    put("rt/cfg/.hidden.json", "garbage");
    put("rt/cfg/notes.txt", "not json, ignored");
    /* A parbench trace with a zero-length concurrent phase. */
    put("rt/cfg/pbzero.json", "{\"format\":\"parbench-trace\",\"format_version\":1,"
        "\"run\":{\"runtime\":\"x\",\"config\":\"y\",\"run_index\":1,\"valid\":true},"
        "\"agents\":[{\"id\":\"a\"}],\"phases\":[{\"kind\":\"concurrent\",\"start_ns\":5,"
        "\"end_ns\":5,\"requests\":[]}]}");
    snprintf(p, sizeof p, "%s/rt/cfg/dangling.json", tmpdir);
    assert_int_equal(symlink("/nonexistent/nowhere.json", p), 0);
    snprintf(p, sizeof p, "%s/rt/cfg/fifo.json", tmpdir);
    assert_int_equal(mkfifo(p, 0644), 0);
    snprintf(p, sizeof p, "%s/rt/loop", tmpdir);
    assert_int_equal(symlink("..", p), 0);      /* rt/loop -> tmpdir: a cycle */
    /* 100 MB file: sparse, so creating it costs nothing; the loader must
     * refuse it by size without reading it. */
    snprintf(p, sizeof p, "%s/rt/cfg/huge.json", tmpdir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 100L * 1024 * 1024), 0);
    close(fd);

    char *paths[] = {tmpdir, tmpdir /* overlapping argument: counted once */};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    size_t n = pb_load_paths(&ds, paths, 2, &o);
    assert_int_equal(n, 2);
    assert_int_equal(ds.n_runs, 2);
    assert_string_equal(ds.runs[0].runtime, "rt");
    assert_string_equal(ds.runs[0].config, "cfg");
    assert_non_null(strstr(reason_of(&ds, "truncated.json"), "malformed JSON"));
    assert_non_null(strstr(reason_of(&ds, "wrongtype.json"), "is a string, expected a number"));
    assert_non_null(strstr(reason_of(&ds, "missing.json"), "missing field"));
    assert_non_null(strstr(reason_of(&ds, "zerowall.json"), "must be > 0"));
    assert_non_null(strstr(reason_of(&ds, "negdur.json"), "must be > 0"));
    assert_non_null(strstr(reason_of(&ds, "nan.json"), "NaN"));
    assert_non_null(strstr(reason_of(&ds, "inf.json"), "not a finite number"));
    assert_non_null(strstr(reason_of(&ds, "array.json"), "expected an object"));
    assert_non_null(strstr(reason_of(&ds, "pbzero.json"), "must be > 0"));
    assert_non_null(strstr(reason_of(&ds, "dangling.json"), "symbolic link"));
    assert_non_null(strstr(reason_of(&ds, "fifo.json"), "not a regular file"));
    assert_non_null(strstr(reason_of(&ds, "huge.json"), "over the"));
    assert_non_null(strstr(reason_of(&ds, "rt/loop"), "already visited"));
    assert_null(reason_of(&ds, ".hidden"));
    /* Every kind of bad file, read by 1, 2 or 5 threads: one outcome. */
    assert_jobs_agree(paths, 2);
    assert_null(reason_of(&ds, "notes.txt"));
    /* An empty directory alone: nothing loaded, nothing crashes. */
    pb_dataset e = {0};
    char ep[300];
    snprintf(ep, sizeof ep, "%s/empty", tmpdir);
    char *epp[] = {ep};
    assert_int_equal(pb_load_paths(&e, epp, 1, &o), 0);
    pb_analysis a;
    assert_int_equal(pb_analysis_build(&e, 100, 1, "nope", &a), 0);
    assert_int_equal(a.n_rts, 0);
    pb_analysis_free(&a);
    pb_dataset_free(&e);
    pb_dataset_free(&ds);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the directory walk ---- */

#define SUMMARY "{\"runs\": [], \"aggregate\": {}}"

static void mkdirs(const char *rel)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", tmpdir, rel);
    assert_int_equal(system(cmd), 0);
}

/* What the walk must keep however it lists directories: a summary.json
 * is a repeat when a run file sits beside it or one level down (in a
 * folder sorting before or after it), an orphan otherwise; a run reached
 * through a link counts once; the depth limit holds; runs load in path
 * order whatever order the folders were made in. */
static void test_walk_layouts(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_walk_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    /* Made in reverse order: the listing order is not the load order. */
    mkdirs("rt/d_same/run_1");
    mkdirs("rt/c_after/run_1/zz");
    mkdirs("rt/b_orphan/run_1");
    mkdirs("rt/a_below/run_1/run_1");
    put("rt/d_same/run_1/summary.json", SUMMARY);
    put("rt/d_same/run_1/metrics.json", RUST("40", "0.8", "10", "4"));
    put("rt/c_after/run_1/summary.json", SUMMARY);
    put("rt/c_after/run_1/zz/metrics.json", RUST("30", "0.6", "10", "3"));
    put("rt/b_orphan/run_1/summary.json", SUMMARY);
    put("rt/a_below/run_1/summary.json", SUMMARY);
    put("rt/a_below/run_1/run_1/metrics.json", RUST("50", "1.0", "10", "5"));
    /* A second name for a run already loaded. */
    char p[800], q[600];
    snprintf(p, sizeof p, "%s/rt/d_same/run_1/metrics.json", tmpdir);
    snprintf(q, sizeof q, "%s/rt/d_same/run_1/zlink.json", tmpdir);
    assert_int_equal(symlink(p, q), 0);
    /* 66 levels: the run at the bottom is beyond PB_LOAD_MAX_DEPTH. */
    char deep[700] = "deep";
    for (int i = 0; i < 65; i++)
        strcat(deep, "/d");
    mkdirs(deep);
    snprintf(p, sizeof p, "%s/metrics.json", deep);
    put(p, RUST("50", "1.0", "10", "5"));

    char *paths[] = {tmpdir};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    assert_int_equal(pb_load_paths(&ds, paths, 1, &o), 3);
    assert_int_equal(ds.n_runs, 3);
    const char *order[] = {"a_below", "c_after", "d_same"};
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(ds.runs[i].path, order[i]));
    assert_string_equal(ds.runs[0].config, "a_below");
    assert_int_equal(ds.files_duplicate, 3);
    assert_non_null(strstr(reason_of(&ds, "b_orphan/run_1/summary.json"),
                           "without its metrics.json"));
    assert_null(reason_of(&ds, "a_below"));
    assert_null(reason_of(&ds, "c_after"));
    assert_int_equal(ds.files_revisited, 1);
    assert_non_null(strstr(reason_of(&ds, "/d/d/d"), "deeper than 64"));
    assert_jobs_agree(paths, 1);
    pb_dataset_free(&ds);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* Numbers that are finite but outside int: casting them to int is undefined
 * behaviour (C11 6.3.1.4), which on x86 silently yields INT_MIN. Such a file
 * must be refused with its reason (parbench), or the field treated as
 * absent (TR115's optional run_number), never cast. */
#define PBTRACE(idx, bytes) \
    "{\"format\":\"parbench-trace\",\"format_version\":1," \
    "\"run\":{\"runtime\":\"x\",\"config\":\"y\",\"run_index\":" idx ",\"valid\":true}," \
    "\"agents\":[{\"id\":\"a\"}],\"phases\":[{\"kind\":\"concurrent\",\"start_ns\":0," \
    "\"end_ns\":1000,\"requests\":[{\"agent\":\"a\",\"ok\":true,\"t_start_ns\":0," \
    "\"t_end_ns\":1000,\"chunks\":[[500," bytes "]]}]}]}"

/* One request per agent and phase, and every agent in the concurrent phase:
 * otherwise a request would be silently replaced, or the run's efficiency
 * would be a NaN that the statistics drop without a word. */
#define PBREQ(agent) \
    "{\"agent\":\"" agent "\",\"ok\":true,\"t_start_ns\":0,\"t_end_ns\":1000}"
#define PBRUN2(reqs) \
    "{\"format\":\"parbench-trace\",\"format_version\":1," \
    "\"run\":{\"runtime\":\"x\",\"config\":\"y\",\"run_index\":1,\"valid\":true}," \
    "\"agents\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"phases\":[{\"kind\":\"concurrent\"," \
    "\"start_ns\":0,\"end_ns\":1000,\"requests\":[" reqs "]}]}"

static void test_requests_per_agent(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_reqs_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    put("ok.json", PBRUN2(PBREQ("a") "," PBREQ("b")));
    put("missing_b.json", PBRUN2(PBREQ("a")));
    put("twice_a.json", PBRUN2(PBREQ("a") "," PBREQ("a") "," PBREQ("b")));
    char *paths[] = {tmpdir};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    pb_load_paths(&ds, paths, 1, &o);
    assert_int_equal(ds.n_runs, 1);
    /* ok.json: both agents busy the whole 1 us wall: 100%. */
    assert_true(fabs(ds.runs[0].est_efficiency - 100.0) < 1e-9);
    assert_non_null(strstr(reason_of(&ds, "missing_b.json"),
                           "agent \"b\" has no request in the concurrent phase"));
    assert_non_null(strstr(reason_of(&ds, "twice_a.json"),
                           "agent \"a\" has a second request in this concurrent phase"));
    pb_dataset_free(&ds);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_out_of_range_ints(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pb_test_range_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/pb %s/rs", tmpdir, tmpdir);
    assert_int_equal(system(cmd), 0);
    put("pb/ok.json", PBTRACE("3", "42"));
    put("pb/bigidx.json", PBTRACE("1e20", "42"));
    put("pb/fracidx.json", PBTRACE("1.5", "42"));
    put("pb/bigbytes.json", PBTRACE("1", "1e20"));
    put("pb/negbytes.json", PBTRACE("1", "-5"));
    /* No run_N directory above it: run_index comes from run_number. */
    put("rs/huge_run_number.json",
        "{\"collector\":{\"execution_time_s\":4},\"insight\":{\"execution_time_s\":4},"
        "\"summary\":{\"efficiency_percent\":80,\"concurrency_speedup\":1.6,"
        "\"concurrent_wall_time_s\":10},\"run_number\":1e20}");
    char *paths[] = {tmpdir};
    pb_dataset ds = {0};
    pb_load_opts o = quiet_opts();
    pb_load_paths(&ds, paths, 1, &o);
    assert_null(reason_of(&ds, "ok.json"));
    assert_non_null(reason_of(&ds, "bigidx.json"));
    assert_non_null(strstr(reason_of(&ds, "bigidx.json"), "run.run_index"));
    assert_non_null(strstr(reason_of(&ds, "fracidx.json"), "run.run_index"));
    assert_non_null(strstr(reason_of(&ds, "bigbytes.json"), "chunks[0]"));
    assert_non_null(strstr(reason_of(&ds, "negbytes.json"), "chunks[0]"));
    assert_int_equal(ds.n_runs, 2);
    int seen_pb = 0, seen_rs = 0;
    for (size_t i = 0; i < ds.n_runs; i++) {
        if (ds.runs[i].format == PB_FMT_PARBENCH) {
            seen_pb = 1;
            assert_int_equal(ds.runs[i].run_index, 3);
        } else {
            seen_rs = 1;
            assert_int_equal(ds.runs[i].run_index, 0); /* treated as absent */
        }
    }
    assert_true(seen_pb && seen_rs);
    pb_dataset_free(&ds);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    pb_stats_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parbench_fixtures),
        cmocka_unit_test(test_tr115_fixtures),
        cmocka_unit_test(test_tr115_reproduction),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_walk_layouts),
        cmocka_unit_test(test_out_of_range_ints),
        cmocka_unit_test(test_requests_per_agent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
