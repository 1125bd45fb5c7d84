/* truth_check: compares collect's traces with the emulator's ground truth
 * (ollama-emu --trace: one line per chunk written, `instance request_id
 * token_index monotonic_ns`, token lines 1..n, the final line n+1).
 *
 *   truth_check DIR EMU_TRACE [--tokens N] [--ttft-median-us X] [--ttft-max-us Y]
 *
 * For every ok request of every run under DIR: `tokens` and
 * `completion_tokens` equal the emulator's n; --tokens N: every measured
 * (solo, concurrent) request has n == N; the first token's arrival
 * (mono_origin_ns + t_first_token_ns, CLOCK_MONOTONIC like the emulator's)
 * minus the emulator's write of token 1 is >= 0, with median <= X and
 * maximum <= Y microseconds. Exit 0 when all hold, 1 otherwise. */
#define _XOPEN_SOURCE 700
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_fs.h"

typedef struct tline {
    char id[96];
    long idx;
    double ns;
} tline;

static tline *g_t;
static size_t g_nt;
static double *g_diff;
static size_t g_nd;
static long g_tokens = -1;
static int g_fail, g_requests, g_files;

static void bad(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "truth_check: %s: ", where);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    g_fail = 1;
}

static void load_trace(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "truth_check: cannot read %s\n", path);
        exit(1);
    }
    char line[512];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        tline t;
        int inst;
        if (sscanf(line, "%d\t%95s\t%ld\t%lf", &inst, t.id, &t.idx, &t.ns) != 4)
            continue;
        if (g_nt == cap) {
            cap = cap ? cap * 2 : 1024;
            g_t = realloc(g_t, cap * sizeof *g_t);
        }
        g_t[g_nt++] = t;
    }
    fclose(f);
}

/* The emulator's token count and token 1's write time for a request. */
static int truth(const char *id, long *n, double *t1)
{
    long max = 0, lines = 0;
    *t1 = -1;
    for (size_t i = 0; i < g_nt; i++)
        if (strcmp(g_t[i].id, id) == 0) {
            lines++;
            if (g_t[i].idx > max)
                max = g_t[i].idx;
            if (g_t[i].idx == 1)
                *t1 = g_t[i].ns;
        }
    *n = max - 1;
    return lines > 0 && lines == max ? 0 : -1;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    const char *base = path + ftw->base;
    if (type != FTW_F || base[0] == '.' || strncmp(base, "run_", 4) != 0)
        return 0;
    char *buf;
    size_t len;
    char e[512];
    if (pb_fs_read_all(path, 1u << 30, &buf, &len, e, sizeof e) != 0) {
        bad(path, "%s", e);
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    g_files++;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "run"),
                                                      "mono_origin_ns");
    double origin = cJSON_IsString(o) ? strtod(o->valuestring, NULL) : -1;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(j, "phases")) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(ph, "kind");
        int measured = cJSON_IsString(kind) && strcmp(kind->valuestring, "warmup") != 0;
        const cJSON *rq;
        cJSON_ArrayForEach(rq, cJSON_GetObjectItemCaseSensitive(ph, "requests")) {
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq, "ok")))
                continue;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(rq, "request_id");
            long n;
            double t1;
            char where[600];
            snprintf(where, sizeof where, "%s: %s", path, cJSON_IsString(id) ? id->valuestring : "?");
            if (!cJSON_IsString(id) || truth(id->valuestring, &n, &t1) != 0 || t1 < 0) {
                bad(where, "no complete emulator trace for this request");
                continue;
            }
            g_requests++;
            if (num(rq, "tokens") != (double)n)
                bad(where, "tokens %g, emulator wrote %ld", num(rq, "tokens"), n);
            if (num(rq, "completion_tokens") != (double)n)
                bad(where, "completion_tokens %g, emulator wrote %ld", num(rq, "completion_tokens"), n);
            if (measured && g_tokens >= 0 && n != g_tokens)
                bad(where, "emulator wrote %ld tokens, expected %ld", n, g_tokens);
            double ft = num(rq, "t_first_token_ns");
            if (ft < 0) {
                bad(where, "no t_first_token_ns");
                continue;
            }
            double d = origin + ft - t1;
            if (d < 0)
                bad(where, "first token seen %.0f ns before the emulator wrote it", -d);
            g_diff = realloc(g_diff, (g_nd + 1) * sizeof *g_diff);
            g_diff[g_nd++] = d / 1e3;
        }
    }
    cJSON_Delete(j);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: truth_check DIR EMU_TRACE [--tokens N] [--ttft-median-us X] [--ttft-max-us Y]\n");
        return 2;
    }
    double med_max = 1e18, max_max = 1e18;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tokens") == 0)
            g_tokens = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--ttft-median-us") == 0)
            med_max = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--ttft-max-us") == 0)
            max_max = atof(argv[i + 1]);
        else {
            fprintf(stderr, "truth_check: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    load_trace(argv[2]);
    nftw(argv[1], visit, 16, FTW_PHYS);
    if (!g_files || !g_nd) {
        fprintf(stderr, "truth_check: no run files or no ok requests under %s\n", argv[1]);
        return 1;
    }
    qsort(g_diff, g_nd, sizeof *g_diff, cmp);
    double med = g_nd % 2 ? g_diff[g_nd / 2] : (g_diff[g_nd / 2 - 1] + g_diff[g_nd / 2]) / 2;
    double max = g_diff[g_nd - 1];
    printf("truth_check: %d runs, %d requests; TTFT client - emulator: median %.0f us, max %.0f us\n",
           g_files, g_requests, med, max);
    if (med > med_max)
        bad(argv[1], "TTFT error median %.0f us > %.0f us", med, med_max);
    if (max > max_max)
        bad(argv[1], "TTFT error max %.0f us > %.0f us", max, max_max);
    free(g_t);
    free(g_diff);
    return g_fail;
}
