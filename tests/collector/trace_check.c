/* trace_check: validates a collect output directory and prints per-run
 * efficiency, for the integration tests.
 *
 *   trace_check DIR [--runs N] [--all-valid] [--invalid SUBSTR]
 *               [--runtime LABEL] [--eff-min X] [--eff-max X]
 *               [--speedup-min X] [--speedup-max X]
 *
 * Checks: every non-hidden run_*.json parses as a parbench trace whose
 * (runtime, config, run_index) matches its path; no (runtime, config, k)
 * twice; --runs N: exactly N run files; --all-valid: every run valid;
 * --invalid S: every run invalid with S in invalid_reason; --paired: every
 * agent has a sample_seed and its solo request produced as many tokens as its
 * concurrent one (valid runs). Efficiency and
 * speedup are the measured ones (sum of solo durations / concurrent wall
 * [/ N]), checked on the mean over runs of --runtime (or all).
 * Exit 0 when every check passes, 1 otherwise (reasons on stderr). */
#define _XOPEN_SOURCE 700
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_fs.h"

static int g_files, g_fail, g_all_valid, g_paired;
static const char *g_invalid, *g_runtime;
static double g_eff_sum, g_sp_sum;
static int g_eff_n;
static char **g_keys;
static int g_nkeys;

static void bad(const char *path, const char *why)
{
    fprintf(stderr, "trace_check: %s: %s\n", path, why);
    g_fail = 1;
}

static double dur(const cJSON *req)
{
    return cJSON_GetObjectItem(req, "t_end_ns")->valuedouble -
           cJSON_GetObjectItem(req, "t_start_ns")->valuedouble;
}

static int visit(const char *path, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb;
    const char *base = path + f->base;
    if (type != FTW_F || base[0] == '.' || strncmp(base, "run_", 4) != 0)
        return 0;
    g_files++;
    char *buf;
    size_t len;
    char err[512];
    if (pb_fs_read_all(path, 1u << 30, &buf, &len, err, sizeof err) != 0) {
        bad(path, err);
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *run = cJSON_GetObjectItem(j, "run");
    const cJSON *fmt = cJSON_GetObjectItem(j, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "parbench-trace") || !run) {
        bad(path, "not a parbench trace");
        cJSON_Delete(j);
        return 0;
    }
    const char *rt = cJSON_GetObjectItem(run, "runtime")->valuestring;
    const char *cfg = cJSON_GetObjectItem(run, "config")->valuestring;
    int k = cJSON_GetObjectItem(run, "run_index")->valueint;
    char expect[2048], key[2048];
    snprintf(expect, sizeof expect, "/%s/%s/run_%d.json", rt, cfg, k);
    if (strlen(path) < strlen(expect) || strcmp(path + strlen(path) - strlen(expect), expect))
        bad(path, "path does not match run.runtime/config/run_index");
    snprintf(key, sizeof key, "%s/%s/%d", rt, cfg, k);
    for (int i = 0; i < g_nkeys; i++)
        if (!strcmp(g_keys[i], key))
            bad(path, "duplicate run");
    g_keys = realloc(g_keys, sizeof *g_keys * (g_nkeys + 1));
    g_keys[g_nkeys++] = strdup(key);
    int valid = cJSON_IsTrue(cJSON_GetObjectItem(run, "valid"));
    const cJSON *reason = cJSON_GetObjectItem(run, "invalid_reason");
    if (g_all_valid && !valid) {
        snprintf(err, sizeof err, "invalid: %s", cJSON_IsString(reason) ? reason->valuestring : "?");
        bad(path, err);
    }
    if (g_invalid) {
        if (valid)
            bad(path, "expected an invalid run");
        else if (!cJSON_IsString(reason) || !strstr(reason->valuestring, g_invalid)) {
            snprintf(err, sizeof err, "invalid_reason '%s' lacks '%s'",
                     cJSON_IsString(reason) ? reason->valuestring : "null", g_invalid);
            bad(path, err);
        }
    }
    if (g_paired && valid) {
        /* Tokens per agent in the solo phase must equal the concurrent ones:
         * the same options.seed gives the same response. */
        const cJSON *ag;
        cJSON_ArrayForEach(ag, cJSON_GetObjectItem(j, "agents")) {
            const char *id = cJSON_GetObjectItem(ag, "id")->valuestring;
            if (!cJSON_IsNumber(cJSON_GetObjectItem(ag, "sample_seed")))
                bad(path, "agent without sample_seed");
            double tok[2] = {-1, -2};
            const cJSON *p2, *rq;
            cJSON_ArrayForEach(p2, cJSON_GetObjectItem(j, "phases")) {
                const char *kind = cJSON_GetObjectItem(p2, "kind")->valuestring;
                int slot = !strcmp(kind, "solo") ? 0 : !strcmp(kind, "concurrent") ? 1 : -1;
                if (slot < 0)
                    continue;
                cJSON_ArrayForEach(rq, cJSON_GetObjectItem(p2, "requests"))
                    if (!strcmp(cJSON_GetObjectItem(rq, "agent")->valuestring, id))
                        tok[slot] = cJSON_GetObjectItem(rq, "tokens")->valuedouble;
            }
            if (tok[0] != tok[1]) {
                snprintf(err, sizeof err, "agent %s: %g tokens alone, %g concurrently (not paired)",
                         id, tok[0], tok[1]);
                bad(path, err);
            }
        }
    }
    /* Measured efficiency from the solo and concurrent phases. */
    double solo = 0, wall = -1;
    int n = 0, nsolo = 0;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItem(j, "phases")) {
        const char *kind = cJSON_GetObjectItem(ph, "kind")->valuestring;
        const cJSON *req;
        /* The collector's own CPU for the phase: present, and no more than
         * the phase could have used (wall plus set-up slack on every core). */
        const cJSON *cpu = cJSON_GetObjectItem(ph, "collector_cpu");
        const cJSON *cu = cJSON_GetObjectItem(cpu, "user_us"), *cs = cJSON_GetObjectItem(cpu, "system_us");
        const cJSON *ct = cJSON_GetObjectItem(cpu, "cpu_us");
        if (!cJSON_IsNumber(cu) || !cJSON_IsNumber(cs) || !cJSON_IsNumber(ct) || cu->valuedouble < 0 ||
            cs->valuedouble < 0 || ct->valuedouble <= 0) {
            bad(path, "phase without a collector_cpu {cpu_us > 0, user_us, system_us} record");
        } else {
            double ph_us = (cJSON_GetObjectItem(ph, "end_ns")->valuedouble -
                            cJSON_GetObjectItem(ph, "start_ns")->valuedouble) / 1e3;
            long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
            if (ct->valuedouble > (ph_us + 2e6) * (double)(ncpu > 0 ? ncpu : 1)) {
                snprintf(err, sizeof err, "collector_cpu %.0f us for a %.0f us phase on %ld CPUs",
                         ct->valuedouble, ph_us, ncpu);
                bad(path, err);
            }
        }
        if (!strcmp(kind, "solo")) {
            cJSON_ArrayForEach(req, cJSON_GetObjectItem(ph, "requests")) {
                solo += dur(req);
                nsolo++;
            }
        } else if (!strcmp(kind, "concurrent")) {
            wall = cJSON_GetObjectItem(ph, "end_ns")->valuedouble -
                   cJSON_GetObjectItem(ph, "start_ns")->valuedouble;
            n = cJSON_GetArraySize(cJSON_GetObjectItem(ph, "requests"));
        }
    }
    if (wall < 0)
        bad(path, "no concurrent phase");
    if (valid && wall > 0 && nsolo == n && n > 0) {
        double sp = solo / wall, eff = sp / n * 100;
        printf("%-10s %-40s #%-3d speedup %.4f efficiency %.2f%%\n", rt, cfg, k, sp, eff);
        if (!g_runtime || !strcmp(g_runtime, rt)) {
            g_eff_sum += eff;
            g_sp_sum += sp;
            g_eff_n++;
        }
    } else {
        printf("%-10s %-40s #%-3d %s\n", rt, cfg, k, valid ? "(no solo phases)" : "INVALID");
    }
    cJSON_Delete(j);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trace_check DIR [checks]\n");
        return 2;
    }
    int runs = -1;
    double effmin = -1, effmax = -1, spmin = -1, spmax = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--runs")) runs = atoi(v), i++;
        else if (!strcmp(a, "--all-valid")) g_all_valid = 1;
        else if (!strcmp(a, "--paired")) g_paired = 1;
        else if (!strcmp(a, "--invalid")) g_invalid = v, i++;
        else if (!strcmp(a, "--runtime")) g_runtime = v, i++;
        else if (!strcmp(a, "--eff-min")) effmin = atof(v), i++;
        else if (!strcmp(a, "--eff-max")) effmax = atof(v), i++;
        else if (!strcmp(a, "--speedup-min")) spmin = atof(v), i++;
        else if (!strcmp(a, "--speedup-max")) spmax = atof(v), i++;
        else {
            fprintf(stderr, "trace_check: unknown option %s\n", a);
            return 2;
        }
    }
    if (nftw(argv[1], visit, 16, FTW_PHYS) != 0) {
        perror(argv[1]);
        return 1;
    }
    if (runs >= 0 && g_files != runs) {
        fprintf(stderr, "trace_check: %d run files, expected %d\n", g_files, runs);
        g_fail = 1;
    }
    if (g_eff_n) {
        double eff = g_eff_sum / g_eff_n, sp = g_sp_sum / g_eff_n;
        printf("mean over %d runs%s%s: speedup %.4f efficiency %.2f%%\n", g_eff_n,
               g_runtime ? " of " : "", g_runtime ? g_runtime : "", sp, eff);
        if ((effmin >= 0 && eff < effmin) || (effmax >= 0 && eff > effmax) ||
            (spmin >= 0 && sp < spmin) || (spmax >= 0 && sp > spmax)) {
            fprintf(stderr, "trace_check: mean efficiency %.2f%% / speedup %.4f outside the expected range\n", eff, sp);
            g_fail = 1;
        }
    } else if (effmin >= 0 || effmax >= 0 || spmin >= 0 || spmax >= 0) {
        fprintf(stderr, "trace_check: no valid run with solo phases to check efficiency\n");
        g_fail = 1;
    }
    for (int i = 0; i < g_nkeys; i++)
        free(g_keys[i]);
    free(g_keys);
    return g_fail;
}
