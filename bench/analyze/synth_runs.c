/* synth_runs: writes N synthetic parbench v1 run files (2 agents, solo +
 * concurrent phases, four chunks per request) for bench_analyze.sh.
 *
 *   synth_runs OUT N [PART]
 *
 * Files go to OUT/part_<p>/<runtime>/<config>/run_<k>.json with PART runs
 * per part directory (default N), so one generated tree serves several
 * sizes: analyze part_0 alone, part_0..2, and so on. 5 runtimes x 20
 * configs, runs spread evenly; deterministic (fixed-seed xorshift).
 * Replaces a Python generator that needed minutes for 100 000 files. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng_state = 12345;

static uint64_t rnd(uint64_t n) /* uniform-ish in [0, n) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

static int mkdir_p(const char *p)
{
    if (mkdir(p, 0777) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "synth_runs: mkdir %s: %s\n", p, strerror(errno));
    return -1;
}

static void req(FILE *f, const char *agent, int64_t t0, int64_t dur)
{
    int64_t t1 = t0 + dur, ct[4];
    int cb[4], bytes = 0;
    static const double frac[4] = {0.1, 0.4, 0.7, 1.0};
    for (int i = 0; i < 4; i++) {
        ct[i] = t0 + (int64_t)((double)dur * frac[i]);
        cb[i] = 100 + (int)rnd(50);
        bytes += cb[i];
    }
    fprintf(f, "{\"agent\":\"%s\",\"request_id\":\"r%lld%s\",\"ok\":true,"
            "\"http_status\":200,\"error\":null,\"t_start_ns\":%lld,"
            "\"t_connected_ns\":%lld,\"t_first_byte_ns\":%lld,"
            "\"t_first_token_ns\":%lld,\"t_end_ns\":%lld,"
            "\"curl\":{\"namelookup_us\":0,\"connect_us\":1000,"
            "\"pretransfer_us\":1100,\"starttransfer_us\":1000,\"total_us\":%lld},"
            "\"bytes\":%d,\"lines\":4,\"tokens\":4,\"chunks\":[",
            agent, (long long)t0, agent, (long long)t0, (long long)(t0 + 1000000),
            (long long)ct[0], (long long)ct[0], (long long)t1,
            (long long)(dur / 1000), bytes);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s[%lld,%d]", i ? "," : "", (long long)ct[i], cb[i]);
    fprintf(f, "],\"final\":{\"done\":true,\"total_duration\":%lld,"
            "\"load_duration\":1000000,\"prompt_eval_count\":10,"
            "\"prompt_eval_duration\":2000000,\"eval_count\":%d,"
            "\"eval_duration\":%lld}}",
            (long long)(dur - 1000000), 100 + (int)rnd(100), (long long)(dur / 2));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: synth_runs OUT N [PART]\n");
        return 2;
    }
    const char *out = argv[1];
    long n = atol(argv[2]), part = argc > 3 ? atol(argv[3]) : n;
    if (n <= 0 || part <= 0) {
        fprintf(stderr, "synth_runs: N and PART must be positive\n");
        return 2;
    }
    char path[4096];
    if (mkdir_p(out))
        return 1;
    const int64_t G = 1000000000;
    for (long i = 0; i < n; i++) {
        long p = i / part;
        int rt = (int)(i % 5), cfg = (int)((i / 5) % 20);
        long k = i / 100 + 1;
        if (i % part == 0) {
            snprintf(path, sizeof path, "%s/part_%ld", out, p);
            if (mkdir_p(path))
                return 1;
        }
        { /* mkdir on EEXIST is cheap next to writing the file */
            snprintf(path, sizeof path, "%s/part_%ld/rt%d", out, p, rt);
            if (mkdir_p(path))
                return 1;
            snprintf(path, sizeof path, "%s/part_%ld/rt%d/cfg%d", out, p, rt, cfg);
            if (mkdir_p(path))
                return 1;
        }
        int64_t da = (int64_t)(3 + rnd(3)) * G, db = (int64_t)(5 + rnd(4)) * G;
        int64_t sa = 0, sb = da + G / 10, c0 = sb + db + G / 10;
        int64_t wall = (da > db ? da : db) + (int64_t)rnd((uint64_t)G);
        snprintf(path, sizeof path, "%s/part_%ld/rt%d/cfg%d/run_%ld.json", out, p,
                 rt, cfg, k);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "synth_runs: %s: %s\n", path, strerror(errno));
            return 1;
        }
        fprintf(f, "{\"format\":\"parbench-trace\",\"format_version\":1,"
                "\"tool\":{\"name\":\"parbench-collect\",\"version\":\"bench\"},"
                "\"run\":{\"runtime\":\"rt%d\",\"config\":\"cfg%d\",\"run_index\":%ld,"
                "\"plan_hash\":\"fnv1a64:0\",\"host\":\"bench\","
                "\"wall_origin\":\"2026-01-01T00:00:00Z\",\"mono_origin_ns\":\"0\","
                "\"seed\":1,\"chunk_bytes\":0,\"connection_reuse\":true,"
                "\"valid\":true,\"invalid_reason\":null},"
                "\"agents\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"phases\":[",
                rt, cfg, k);
        fprintf(f, "{\"name\":\"solo:a\",\"kind\":\"solo\",\"start_ns\":%lld,"
                "\"end_ns\":%lld,\"requests\":[", (long long)sa, (long long)(sa + da));
        req(f, "a", sa, da);
        fprintf(f, "]},{\"name\":\"solo:b\",\"kind\":\"solo\",\"start_ns\":%lld,"
                "\"end_ns\":%lld,\"requests\":[", (long long)sb, (long long)(sb + db));
        req(f, "b", sb, db);
        fprintf(f, "]},{\"name\":\"concurrent\",\"kind\":\"concurrent\","
                "\"start_ns\":%lld,\"end_ns\":%lld,\"requests\":[",
                (long long)c0, (long long)(c0 + wall));
        /* A request ends inside its phase: efficiency <= 100%, or analyze
         * refuses the run as impossible. */
        req(f, "a", c0, da + G / 10 < wall ? da + G / 10 : wall);
        fputc(',', f);
        req(f, "b", c0, db < wall ? db : wall);
        fputs("]}]}", f);
        if (fclose(f) != 0) {
            fprintf(stderr, "synth_runs: %s: write failed\n", path);
            return 1;
        }
    }
    return 0;
}
