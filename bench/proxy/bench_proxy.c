/* bench_proxy: what the recording proxy costs the streams it records.
 *
 * For each agent count N it runs `collect` (the `uv` driver: libcurl multi
 * on libuv, N identical agents, fixed num_predict) against `ollama-emu
 * --ideal` (a separate process, --trace: the emulator's own uv_hrtime when
 * it wrote each chunk), twice:
 *   direct   collect -> emulator
 *   proxy    collect -> pb_proxy (in this process, on this process's libuv
 *            loop, as collect hosts it for exec runtimes) -> emulator
 * and prints the two side by side:
 *   efficiency    D_solo / concurrent wall (D_solo from a 1-agent run in
 *                 the same mode and repetition: under --ideal every
 *                 agent's solo duration is the same, as bench_collect
 *                 computes it)
 *   wall          the concurrent phase's wall time; proxy/direct = the
 *                 total-time ratio
 *   delay p50/p99 per chunk: collect's write-callback time minus the
 *                 emulator's write time of the same chunk (same clock,
 *                 CLOCK_MONOTONIC), paired by request id and index
 *   added p99     proxy p99 minus direct p99 (goal: <= 100 us at 16
 *                 streams, <= 500 us at 128; efficiency within 0.5 pp)
 *   proxy in      the first hop: the proxy's read of a chunk minus the
 *                 emulator's write of it (the proxy's records, same clock)
 *   proxy fwd     the proxy's own work: chunk written to collect's socket
 *                 minus chunk read from the emulator's
 *
 * --pin: emulator on CPU 1, collect and the proxy on CPU 0 (as
 * bench_collect --pin).
 *
 * Usage: bench_proxy COLLECT OLLAMA_EMU [--agents 16,128] [--tokens 100]
 *                    [--reps 3] [--keep DIR] [--pin]
 *
 * Files: DIR/<mode>-<N>[-solo]-r<k>: collect's output, .trace the emulator's
 * trace, .proxy.json the proxy's records. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "bench_emu.h"
#include "pb_fs.h"
#include "proxy.h"

static const char *g_collect, *g_emu;
static int g_tokens = 100, g_pin, g_reps = 3;
#define MAX_REPS 16
static char g_dir[4096];

static void write_plan(const char *path, int n, int port)
{
    char buf[1024];
    int len = snprintf(buf, sizeof buf,
        "{\"name\":\"bench\",\"runs\":1,\"runtimes\":[\"uv\"],\"agents\":[{\"id\":\"a\",\"count\":%d,"
        "\"endpoint\":\"http://127.0.0.1:%d\",\"prompt\":\"Benchmark prompt.\","
        "\"options\":{\"num_predict\":%d}}]}", n, port, g_tokens);
    char err[256];
    if (pb_fs_write_atomic(path, buf, (size_t)len, err, sizeof err) != 0) {
        fprintf(stderr, "bench_proxy: %s\n", err);
        exit(1);
    }
}

/* ---- collect as a child of this process's loop (the proxy runs on it) ---- */

static int64_t g_exit = -1;

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    g_exit = sig ? 128 + sig : status;
    uv_close((uv_handle_t *)p, NULL);
    /* The proxy's listener would keep the loop running. */
    uv_stop(p->loop);
}

static int run_collect(uv_loop_t *loop, const char *plan, const char *out, int solo)
{
    char log[4300];
    snprintf(log, sizeof log, "%s.log", out);
    FILE *lf = fopen(log, "w");
    if (!lf)
        return 127;
    char *args[] = {(char *)g_collect, "--plan", (char *)plan, "--out", (char *)out, "--quiet",
                    "--runs=1", solo ? "--runs=1" : "--no-solo", NULL};
    uv_stdio_container_t io[3] = {{.flags = UV_IGNORE},
                                  {.flags = UV_IGNORE},
                                  {.flags = UV_INHERIT_FD, .data.fd = fileno(lf)}};
    uv_process_options_t po = {.exit_cb = on_exit_cb, .file = g_collect, .args = args,
                               .stdio = io, .stdio_count = 3};
    uv_process_t proc;
    g_exit = -1;
    int rc = uv_spawn(loop, &proc, &po);
    fclose(lf);
    if (rc) {
        fprintf(stderr, "bench_proxy: cannot start %s: %s\n", g_collect, uv_strerror(rc));
        return 127;
    }
    /* The proxy serves collect's requests from this loop meanwhile. */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_run(loop, UV_RUN_NOWAIT); /* the process handle's close callback */
    return (int)g_exit;
}

static void on_closed(void *ud)
{
    *(int *)ud = 1;
}

/* ---- traces ---- */

static bench_trace g_tr; /* the emulator's trace of the last run */

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static void add(samples *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, sizeof *s->v * s->cap);
    }
    s->v[s->n++] = x;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of sorted samples; -1 when none. */
static double q(samples *s, double p)
{
    if (!s->n)
        return -1;
    size_t k = (size_t)(p * (double)s->n);
    return s->v[k < s->n ? k : s->n - 1];
}

typedef struct result {
    int ok;
    double wall_ns, dsolo_ns, tokens;
    samples delay;             /* us: collect chunk time - emulator write time */
    samples fwd;               /* us: proxy write-back - proxy read */
    samples in;                /* us: proxy read - emulator write */
    size_t unpaired;
} result;

/* One collect run (n agents, solo: the 1-agent reference) direct or
 * through a proxy; fills r from the traces. */
static int g_run_no;

static void run_one(uv_loop_t *loop, int n, int via_proxy, int solo, result *r)
{
    int k = ++g_run_no;
    const char *mode = via_proxy ? "proxy" : "direct";
    char trace[4200], plan[4200], out[4200], path[4300];
    snprintf(trace, sizeof trace, "%s/%s-%d%s-r%d.trace", g_dir, mode, n, solo ? "-solo" : "", k);
    snprintf(plan, sizeof plan, "%s/%s-%d%s-r%d.json", g_dir, mode, n, solo ? "-solo" : "", k);
    snprintf(out, sizeof out, "%s/%s-%d%s-r%d", g_dir, mode, n, solo ? "-solo" : "", k);
    int port;
    pid_t e = bench_emu_start("bench_proxy", g_emu, trace, g_pin ? 1 : -1, &port);
    pb_proxy *px = NULL;
    uint64_t px_origin = 0;
    if (via_proxy) {
        char up[64], err[256];
        snprintf(up, sizeof up, "http://127.0.0.1:%d", port);
        px_origin = uv_hrtime();
        pb_proxy_opts o = {.upstream = up, .label = "bench", .origin_ns = px_origin};
        px = pb_proxy_start(loop, &o, err, sizeof err);
        if (!px) {
            fprintf(stderr, "bench_proxy: %s\n", err);
            exit(1);
        }
        port = pb_proxy_port(px);
    }
    write_plan(plan, n, port);
    int rc = run_collect(loop, plan, out, solo);
    cJSON *recs = NULL;
    if (px) {
        recs = pb_proxy_take_requests(px);
        int done = 0;
        pb_proxy_close(px, on_closed, &done);
        uv_run(loop, UV_RUN_DEFAULT);
    }
    bench_emu_stop(e);
    snprintf(path, sizeof path, "%s/uv/default/run_1.json", out);
    cJSON *t = bench_load_json("bench_proxy", path);
    const cJSON *c = t ? bench_phase(t, solo ? "solo" : "concurrent") : NULL;
    memset(r, 0, sizeof *r);
    if (rc != 0 || !c) {
        fprintf(stderr, "bench_proxy: %s run of %d agents failed (collect exit %d, log %s.log)\n",
                mode, n, rc, out);
        cJSON_Delete(t);
        cJSON_Delete(recs);
        return;
    }
    r->ok = 1;
    r->wall_ns = cJSON_GetObjectItem(c, "end_ns")->valuedouble -
                 cJSON_GetObjectItem(c, "start_ns")->valuedouble;
    bench_trace_load(&g_tr, trace);
    long long origin = atoll(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "run"), "mono_origin_ns")->valuestring);
    const cJSON *q_, *ch;
    cJSON_ArrayForEach(q_, cJSON_GetObjectItem(c, "requests")) {
        r->ok &= cJSON_IsTrue(cJSON_GetObjectItem(q_, "ok"));
        r->tokens += cJSON_GetObjectItem(q_, "tokens")->valuedouble;
        if (solo)
            r->dsolo_ns = cJSON_GetObjectItem(q_, "t_end_ns")->valuedouble -
                          cJSON_GetObjectItem(q_, "t_start_ns")->valuedouble;
        ch = cJSON_GetObjectItem(q_, "chunks");
        bench_ereq *er = bench_trace_find(&g_tr, cJSON_GetObjectItem(q_, "request_id")->valuestring);
        int nch = cJSON_GetArraySize(ch);
        /* One client chunk per emulator write; when the kernel coalesced
         * writes the pairing is ambiguous: skip. */
        if (!er || er->n != nch) {
            r->unpaired += (size_t)nch;
            continue;
        }
        int i = 1;
        for (const cJSON *k = ch->child; k; k = k->next, i++)
            add(&r->delay, ((double)origin + k->child->valuedouble - (double)er->ns[i]) / 1e3);
    }
    /* The proxy's forwarding time, from its own records of the same
     * requests (chunk lists are raw JSON text until printed). */
    if (recs) {
        char *s = cJSON_PrintUnformatted(recs);
        /* Kept beside the run for a closer look (per-hop delays). */
        char rp[4400], err[256];
        snprintf(rp, sizeof rp, "%s.proxy.json", out);
        if (pb_fs_write_atomic(rp, s, strlen(s), err, sizeof err) != 0)
            fprintf(stderr, "bench_proxy: %s\n", err);
        cJSON *parsed = cJSON_Parse(s);
        cJSON_free(s);
        cJSON_ArrayForEach(q_, parsed) {
            const cJSON *in = cJSON_GetObjectItem(q_, "chunks");
            const cJSON *outw = cJSON_GetObjectItem(q_, "chunks_written_ns");
            if (!cJSON_IsArray(in) || !cJSON_IsArray(outw) || !cJSON_IsString(cJSON_GetObjectItem(q_, "api")))
                continue;
            const cJSON *w = outw->child;
            for (const cJSON *k = in->child; k && w; k = k->next, w = w->next)
                if (cJSON_IsNumber(w))
                    add(&r->fwd, (w->valuedouble - k->child->valuedouble) / 1e3);
            /* The first hop, emulator -> proxy: same clock, the proxy's
             * times count from px_origin. */
            bench_ereq *er = bench_trace_find(&g_tr, cJSON_GetObjectItem(q_, "request_id")->valuestring);
            if (!er || er->n != cJSON_GetArraySize(in))
                continue;
            int i = 1;
            for (const cJSON *k = in->child; k; k = k->next, i++)
                add(&r->in, ((double)px_origin + k->child->valuedouble - (double)er->ns[i]) / 1e3);
        }
        cJSON_Delete(parsed);
        cJSON_Delete(recs);
    }
    /* qsort's base may not be NULL, even for no element (UBSan). */
    if (r->delay.n)
        qsort(r->delay.v, r->delay.n, sizeof *r->delay.v, cmp_d);
    if (r->fwd.n)
        qsort(r->fwd.v, r->fwd.n, sizeof *r->fwd.v, cmp_d);
    if (r->in.n)
        qsort(r->in.v, r->in.n, sizeof *r->in.v, cmp_d);
    cJSON_Delete(t);
}

static void print_row(int n, const char *mode, const result *r, double dsolo)
{
    if (!r->ok) {
        printf("%5d  %-6s  (some requests failed)\n", n, mode);
        return;
    }
    samples *d = (samples *)&r->delay, *in = (samples *)&r->in, *f = (samples *)&r->fwd;
    printf("%5d  %-6s  %9.2f%%  %8.1f  %6.0f %6.0f  %6.0f %6.0f  %6.0f %6.0f  %8zu\n", n, mode,
           dsolo / r->wall_ns * 100, r->wall_ns / 1e6, q(d, 0.5), q(d, 0.99), q(in, 0.5),
           q(in, 0.99), q(f, 0.5), q(f, 0.99), r->unpaired);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_proxy COLLECT OLLAMA_EMU [--agents LIST] [--tokens N] "
                        "[--reps R] [--keep DIR] [--pin]\n");
        return 2;
    }
    g_collect = argv[1];
    g_emu = argv[2];
    const char *agents = "16,128", *keep = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--pin"))
            g_pin = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--agents"))
            agents = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--tokens"))
            g_tokens = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--reps"))
            g_reps = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--keep"))
            keep = argv[++i];
        else {
            fprintf(stderr, "bench_proxy: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (g_reps < 1 || g_reps > MAX_REPS) {
        fprintf(stderr, "bench_proxy: --reps must be 1..%d\n", MAX_REPS);
        return 2;
    }
    if (keep) {
        snprintf(g_dir, sizeof g_dir, "%s", keep);
        char e[256];
        pb_fs_mkdirs(g_dir, e, sizeof e);
    } else {
        snprintf(g_dir, sizeof g_dir, "/tmp/bench_proxy.XXXXXX");
        if (!mkdtemp(g_dir))
            return 1;
    }
    /* As collect: a client gone mid-write is EPIPE, not death. */
    signal(SIGPIPE, SIG_IGN);
    if (g_pin)
        bench_pin("bench_proxy", 0); /* collect inherits it */
    uv_loop_t loop;
    uv_loop_init(&loop);
    printf("ideal emulator in a separate process, %d tokens per request, %ld CPUs, %s\n",
           g_tokens, sysconf(_SC_NPROCESSORS_ONLN),
           g_pin ? "pinned: emulator CPU 1, collect and proxy CPU 0" : "not pinned");
    printf("collect (uv driver) direct, and through pb_proxy on this process's loop\n");
    printf("%5s  %-6s  %10s  %8s  %13s  %13s  %13s  %8s\n", "", "", "", "", "delay us",
           "proxy in us", "proxy fwd us", "");
    printf("%5s  %-6s  %10s  %8s  %6s %6s  %6s %6s  %6s %6s  %8s\n", "N", "mode", "efficiency",
           "wall ms", "p50", "p99", "p50", "p99", "p50", "p99", "unpaired");
    /* Each pair of runs (direct, proxy, in alternating order) is repeated:
     * on a shared 2-core machine one run's p99 is often one scheduling
     * hiccup. Rows show the median run (by p99 delay), the summary line
     * the medians of the per-pair figures. */
    int failed = 0;
    char abuf[256];
    snprintf(abuf, sizeof abuf, "%s", agents);
    for (char *s2, *a = strtok_r(abuf, ",", &s2); a; a = strtok_r(NULL, ",", &s2)) {
        int n = atoi(a);
        result d[MAX_REPS], p[MAX_REPS];
        samples added = {0}, deff = {0}, ratio = {0}, dp99 = {0}, pp99 = {0};
        result sd[MAX_REPS], sp[MAX_REPS];
        for (int k = 0; k < g_reps; k++) {
            /* Each run's efficiency counts from a solo run of its own mode
             * and repetition: one shared reference's noise (a few ms of a
             * 1.1 s stream) moved every efficiency of a mode together. */
            int first = k % 2;
            run_one(&loop, 1, first, 1, first ? &sp[k] : &sd[k]);
            run_one(&loop, n, first, 0, first ? &p[k] : &d[k]);
            run_one(&loop, 1, !first, 1, first ? &sd[k] : &sp[k]);
            run_one(&loop, n, !first, 0, first ? &d[k] : &p[k]);
            if (!d[k].ok || !p[k].ok || !sd[k].ok || !sp[k].ok) {
                failed = 1;
                continue;
            }
            add(&dp99, q(&d[k].delay, 0.99));
            add(&pp99, q(&p[k].delay, 0.99));
            add(&added, q(&p[k].delay, 0.99) - q(&d[k].delay, 0.99));
            add(&deff, (sp[k].dsolo_ns / p[k].wall_ns - sd[k].dsolo_ns / d[k].wall_ns) * 100);
            add(&ratio, p[k].wall_ns / d[k].wall_ns);
        }
        for (int k = 0; k < g_reps; k++) {
            print_row(n, "direct", &d[k], sd[k].dsolo_ns);
            print_row(n, "proxy", &p[k], sp[k].dsolo_ns);
        }
        if (added.n) {
            samples *ss[] = {&added, &deff, &ratio, &dp99, &pp99};
            for (size_t i = 0; i < sizeof ss / sizeof *ss; i++)
                qsort(ss[i]->v, ss[i]->n, sizeof *ss[i]->v, cmp_d);
            double goal = n <= 16 ? 100 : 500, ad = q(&added, 0.5), de = q(&deff, 0.5);
            printf("%5d  median of %zu pairs: p99 delay direct %.1f us, proxy %.1f us; added p99 "
                   "per-chunk delay %.1f us (goal <= %.0f us: %s); efficiency %+.2f pp (goal "
                   "within 0.5 pp: %s); total-time ratio proxy/direct %.4f\n",
                   n, added.n, q(&dp99, 0.5), q(&pp99, 0.5), ad, goal,
                   ad <= goal ? "met" : "NOT met", de, de > -0.5 && de < 0.5 ? "met" : "NOT met",
                   q(&ratio, 0.5));
        }
        for (int k = 0; k < g_reps; k++) {
            free(d[k].delay.v);
            free(d[k].fwd.v);
            free(d[k].in.v);
            free(p[k].delay.v);
            free(p[k].fwd.v);
            free(p[k].in.v);
            free(sd[k].delay.v);
            free(sd[k].fwd.v);
            free(sd[k].in.v);
            free(sp[k].delay.v);
            free(sp[k].fwd.v);
            free(sp[k].in.v);
        }
        free(added.v);
        free(deff.v);
        free(ratio.v);
        free(dp99.v);
        free(pp99.v);
        fflush(stdout);
    }
    uv_loop_close(&loop);
    printf("data in %s\n", g_dir);
    return failed ? 1 : 0;
}
