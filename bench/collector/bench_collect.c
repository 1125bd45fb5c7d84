/* bench_collect: how much the collector disturbs what it measures.
 *
 * For each runtime and agent count it starts `ollama-emu --ideal` as a
 * separate process (so the emulator's CPU is not charged to collect), runs
 * `collect` on N identical agents (fixed num_predict) against one instance
 * with enough slots, and prints:
 *   efficiency   D_solo / concurrent wall, where D_solo is the solo duration
 *                measured by a 1-agent run on the same emulator (under the
 *                ideal preset every agent's solo duration is identical, so
 *                this equals sum(solo)/wall/N without N solo phases)
 *   cpu/token    collect's user+system CPU (getrusage of the child) divided
 *                by the tokens it received
 *   peak RSS     collect's ru_maxrss
 *   ts error     client chunk time (uv_hrtime in the write callback) minus
 *                the emulator's own uv_hrtime when it wrote that chunk
 *                (--trace; same CLOCK_MONOTONIC), median and p99
 *
 * --pin: the emulator runs on CPU 1 and collect on CPU 0
 * (sched_setaffinity in the forked child before exec), so on a 2-core
 * machine the two busy processes never take each other's core; the
 * emulator's bursts (every stream's token due at the same instant under
 * --ideal) then no longer delay collect's reads. Without --pin the kernel
 * places them.
 *
 * --api API: collect's --api (e.g. openai: the same streams as event-stream
 * chunks through /v1/chat/completions; needs an ollama-emu with /v1).
 *
 * Usage: bench_collect COLLECT OLLAMA_EMU [--agents 2,8,32,128,256]
 *                      [--runtimes uv,threads] [--tokens 100] [--api API]
 *                      [--keep DIR] [--pin] */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_emu.h"
#include "pb_fs.h"

static const char *g_collect, *g_emu;
static int g_tokens = 100;
static char g_dir[4096];
static int g_pin;
static char g_api_arg[64];  /* "--api=NAME", or empty: the plan's (generate) */

static int run_collect(const char *plan, const char *out, int solo, struct rusage *ru)
{
    pid_t pid = fork();
    if (pid == 0) {
        char log[4300];
        snprintf(log, sizeof log, "%s.log", out);
        if (!freopen(log, "w", stderr))
            _exit(127);
        if (g_pin)
            bench_pin("bench_collect", 0);
        execl(g_collect, g_collect, "--plan", plan, "--out", out, "--quiet",
              "--runs=1", solo ? "--runs=1" : "--no-solo",
              g_api_arg[0] ? g_api_arg : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    int st;
    wait4(pid, &st, 0, ru);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_plan(const char *path, int n, const char *rt, int port)
{
    char buf[1024];
    int len = snprintf(buf, sizeof buf,
        "{\"name\":\"bench\",\"runs\":1,\"runtimes\":[\"%s\"],\"agents\":[{\"id\":\"a\",\"count\":%d,"
        "\"endpoint\":\"http://127.0.0.1:%d\",\"prompt\":\"Benchmark prompt.\","
        "\"options\":{\"num_predict\":%d}}]}", rt, n, port, g_tokens);
    char err[256];
    if (pb_fs_write_atomic(path, buf, (size_t)len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
}

static bench_trace g_tr; /* the emulator's trace of the last run */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double solo_reference(const char *rt)
{
    char trace[4200], plan[4200], out[4200];
    snprintf(trace, sizeof trace, "%s/ref-%s.trace", g_dir, rt);
    snprintf(plan, sizeof plan, "%s/ref-%s.json", g_dir, rt);
    snprintf(out, sizeof out, "%s/ref-%s", g_dir, rt);
    int port;
    pid_t e = bench_emu_start("bench_collect", g_emu, trace, g_pin ? 1 : -1, &port);
    write_plan(plan, 1, rt, port);
    struct rusage ru;
    int rc = run_collect(plan, out, 1, &ru);
    bench_emu_stop(e);
    char path[4300];
    snprintf(path, sizeof path, "%s/%s/default/run_1.json", out, rt);
    cJSON *t = bench_load_json("bench_collect", path);
    const cJSON *s = t ? bench_phase(t, "solo") : NULL;
    if (rc != 0 || !s) {
        fprintf(stderr, "bench_collect: reference run failed (exit %d)\n", rc);
        exit(1);
    }
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "requests"), 0);
    double d = cJSON_GetObjectItem(r, "t_end_ns")->valuedouble - cJSON_GetObjectItem(r, "t_start_ns")->valuedouble;
    cJSON_Delete(t);
    return d;
}

static void bench(const char *rt, int n, double dsolo)
{
    char trace[4200], plan[4200], out[4200], path[4300];
    snprintf(trace, sizeof trace, "%s/%s-%d.trace", g_dir, rt, n);
    snprintf(plan, sizeof plan, "%s/%s-%d.json", g_dir, rt, n);
    snprintf(out, sizeof out, "%s/%s-%d", g_dir, rt, n);
    int port;
    pid_t e = bench_emu_start("bench_collect", g_emu, trace, g_pin ? 1 : -1, &port);
    write_plan(plan, n, rt, port);
    struct rusage ru;
    int rc = run_collect(plan, out, 0, &ru);
    bench_emu_stop(e);
    snprintf(path, sizeof path, "%s/%s/default/run_1.json", out, rt);
    cJSON *t = bench_load_json("bench_collect", path);
    const cJSON *c = t ? bench_phase(t, "concurrent") : NULL;
    if (!c) {
        printf("%-8s %5d  collect exit %d, no trace\n", rt, n, rc);
        cJSON_Delete(t);
        return;
    }
    bench_trace_load(&g_tr, trace);
    double wall = cJSON_GetObjectItem(c, "end_ns")->valuedouble - cJSON_GetObjectItem(c, "start_ns")->valuedouble;
    long long origin = atoll(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "run"), "mono_origin_ns")->valuestring);
    double tokens = 0;
    size_t ne = 0, cap = 1024, unmatched = 0;
    double *err = malloc(sizeof *err * cap);
    const cJSON *p, *r;
    int ok = 1;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(t, "phases"))
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "requests")) {
            tokens += cJSON_GetObjectItem(r, "tokens")->valuedouble;
            ok &= cJSON_IsTrue(cJSON_GetObjectItem(r, "ok"));
            const cJSON *ch = cJSON_GetObjectItem(r, "chunks");
            bench_ereq *er = bench_trace_find(&g_tr, cJSON_GetObjectItem(r, "request_id")->valuestring);
            int nch = cJSON_GetArraySize(ch);
            /* One client chunk per emulator write (indices 1..n); when the
             * kernel coalesced writes the pairing is ambiguous: skip. */
            if (!er || er->n != nch) {
                unmatched += (size_t)nch;
                continue;
            }
            for (int i = 0; i < nch; i++) {
                double tc = cJSON_GetArrayItem(cJSON_GetArrayItem(ch, i), 0)->valuedouble;
                if (ne == cap)
                    err = realloc(err, sizeof *err * (cap *= 2));
                err[ne++] = ((double)origin + tc - (double)er->ns[i + 1]) / 1000.0;
            }
        }
    qsort(err, ne, sizeof *err, cmp_d);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("%-8s %5d  %9.2f%%  %10.2f  %9.1f  %9.1f  %9.1f  %8zu  %s\n", rt, n,
           dsolo / wall * 100, cpu / tokens * 1e6, ru.ru_maxrss / 1024.0,
           ne ? err[ne / 2] : -1, ne ? err[(size_t)(ne * 0.99)] : -1, unmatched,
           ok && rc == 0 ? "" : "(some requests failed)");
    fflush(stdout);
    free(err);
    cJSON_Delete(t);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_collect COLLECT OLLAMA_EMU [--agents LIST] [--runtimes LIST] [--tokens N] [--api API] [--keep DIR] [--pin]\n");
        return 2;
    }
    g_collect = argv[1];
    g_emu = argv[2];
    const char *agents = "2,8,32,128,256", *rts = "uv,threads", *keep = NULL;
    for (int i = 3; i < argc; i += 2) {
        if (!strcmp(argv[i], "--pin")) {
            g_pin = 1;
            i--;
            continue;
        }
        if (i + 1 >= argc) break;
        if (!strcmp(argv[i], "--agents")) agents = argv[i + 1];
        else if (!strcmp(argv[i], "--runtimes")) rts = argv[i + 1];
        else if (!strcmp(argv[i], "--tokens")) g_tokens = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--keep")) keep = argv[i + 1];
        else if (!strcmp(argv[i], "--api"))
            snprintf(g_api_arg, sizeof g_api_arg, "--api=%s", argv[i + 1]);
    }
    if (keep) {
        snprintf(g_dir, sizeof g_dir, "%s", keep);
        char e[256];
        pb_fs_mkdirs(g_dir, e, sizeof e);
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/bench_collect.XXXXXX");
        if (!mkdtemp(g_dir))
            return 1;
    }
    printf("ideal emulator in a separate process, %d tokens per request, %ld CPUs, %s\n",
           g_tokens, sysconf(_SC_NPROCESSORS_ONLN),
           g_pin ? "pinned: emulator CPU 1, collect CPU 0" : "not pinned");
    printf("%-8s %5s  %10s  %10s  %9s  %9s  %9s  %8s\n", "runtime", "N", "efficiency",
           "cpu/tok us", "RSS MiB", "err p50us", "err p99us", "unpaired");
    char rbuf[256];
    snprintf(rbuf, sizeof rbuf, "%s", rts);
    for (char *s1, *rt = strtok_r(rbuf, ",", &s1); rt; rt = strtok_r(NULL, ",", &s1)) {
        double dsolo = solo_reference(rt);
        char abuf[256];
        snprintf(abuf, sizeof abuf, "%s", agents);
        for (char *s2, *a = strtok_r(abuf, ",", &s2); a; a = strtok_r(NULL, ",", &s2))
            bench(rt, atoi(a), dsolo);
    }
    printf("data in %s\n", g_dir);
    return 0;
}
