#include "sweep.h"

#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pb_fs.h"
#include "pb_mem.h"
#include "precision.h"
#include "run.h"
#include "signals.h"

/* CURLSH needs locks because the threads runtime uses it from many threads. */
static pthread_mutex_t g_share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
    (void)h, (void)a, (void)u;
    pthread_mutex_lock(&g_share_locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
    (void)h, (void)u;
    pthread_mutex_unlock(&g_share_locks[d]);
}

/* --retry-failed: the failed run's file is preserved under a hidden name
 * (readers ignore hidden files) before the run is measured again. */
static int preserve_failed(const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    if (pb_fs_read_all(path, 1u << 30, &buf, &len, err, errlen) != 0)
        return -1;
    char dst[8500];
    const char *slash = strrchr(path, '/');
    int dl = slash ? (int)(slash - path) : 0;
    for (int i = 1; i < 10000; i++) {
        snprintf(dst, sizeof dst, "%.*s%s.%s.failed-%d", dl, path, slash ? "/" : "",
                 slash ? slash + 1 : path, i);
        FILE *f = fopen(dst, "r");
        if (!f)
            break;
        fclose(f);
    }
    int rc = pb_fs_write_atomic(dst, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* Appends "path: old there, new here" for each differing leaf of a and b
 * (at most `max` in total, counted in *n). */
static void diff_json(const cJSON *a, const cJSON *b, const char *path, char *out,
                      size_t outlen, int *n, int max)
{
    if (*n >= max)
        return;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *it;
        char sub[300];
        cJSON_ArrayForEach(it, a) {
            snprintf(sub, sizeof sub, "%s.%s", path, it->string);
            diff_json(it, cJSON_GetObjectItemCaseSensitive(b, it->string), sub, out, outlen, n, max);
        }
        cJSON_ArrayForEach(it, b)
            if (!cJSON_GetObjectItemCaseSensitive(a, it->string)) {
                snprintf(sub, sizeof sub, "%s.%s", path, it->string);
                diff_json(NULL, it, sub, out, outlen, n, max);
            }
        return;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        char sub[300];
        for (int i = 0; i < cJSON_GetArraySize(a); i++) {
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
            diff_json(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), sub, out, outlen, n, max);
        }
        return;
    }
    if (a && b && cJSON_Compare(a, b, 1))
        return;
    char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
    size_t l = strlen(out);
    snprintf(out + l, outlen - l, "%s%s is %.60s%s there, %.60s%s here", *n ? "; " : "", path + 1,
             sa ? sa : "absent", sa && strlen(sa) > 60 ? "..." : "", sb ? sb : "absent",
             sb && strlen(sb) > 60 ? "..." : "");
    cJSON_free(sa);
    cJSON_free(sb);
    (*n)++;
}

static const cJSON *find_named(const cJSON *arr, const char *key, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0)
            return it;
    }
    return NULL;
}

/* Why the file at path, written by another plan, conflicts: the settings
 * that differ between the plan in the manifest that wrote it (found in the
 * out dir by its plan_hash) and this plan, for this runtime and config. */
static void explain_conflict(const pb_plan *p, const pb_runtime *rt, const pb_config *cfg,
                             const char *path, char *out, size_t outlen)
{
    out[0] = '\0';
    char *buf = NULL, e[600];
    size_t len = 0;
    if (pb_fs_read_all(path, 1u << 30, &buf, &len, e, sizeof e) != 0)
        return;
    cJSON *t = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "run"), "plan_hash");
    cJSON *old = NULL;
    DIR *d = cJSON_IsString(h) ? opendir(p->out) : NULL;
    struct dirent *de;
    while (d && !old && (de = readdir(d))) {
        if (strncmp(de->d_name, "manifest", 8) != 0)
            continue;
        char mp[4400];
        snprintf(mp, sizeof mp, "%s/%s", p->out, de->d_name);
        if (pb_fs_read_all(mp, 64u << 20, &buf, &len, e, sizeof e) != 0)
            continue;
        cJSON *m = cJSON_ParseWithLength(buf, len);
        free(buf);
        const cJSON *mh = cJSON_GetObjectItemCaseSensitive(m, "plan_hash");
        if (cJSON_IsString(mh) && strcmp(mh->valuestring, h->valuestring) == 0)
            old = cJSON_DetachItemFromObjectCaseSensitive(m, "plan");
        cJSON_Delete(m);
    }
    if (d)
        closedir(d);
    cJSON_Delete(t);
    if (!old) {
        snprintf(out, outlen, "the manifest of the plan that wrote it is not in %s, so the "
                 "differing setting is unknown", p->out);
        return;
    }
    cJSON *cur = pb_plan_to_json(p);
    int n = 0;
    static const char *const protocol[] = {"warmup", "warmup_tokens", "solo", "paired_seed",
                                           "seed", "timeout_s", "reuse_connections", "emulate"};
    char where[300];
    for (size_t i = 0; i < sizeof protocol / sizeof protocol[0]; i++) {
        snprintf(where, sizeof where, ".%s", protocol[i]);
        diff_json(cJSON_GetObjectItemCaseSensitive(old, protocol[i]),
                  cJSON_GetObjectItemCaseSensitive(cur, protocol[i]), where, out, outlen, &n, 3);
    }
    snprintf(where, sizeof where, ".runtime %s", rt->label);
    diff_json(find_named(cJSON_GetObjectItemCaseSensitive(old, "runtimes"), "label", rt->label),
              find_named(cJSON_GetObjectItemCaseSensitive(cur, "runtimes"), "label", rt->label),
              where, out, outlen, &n, 3);
    snprintf(where, sizeof where, ".config %s", cfg->name);
    diff_json(find_named(cJSON_GetObjectItemCaseSensitive(old, "configs"), "name", cfg->name),
              find_named(cJSON_GetObjectItemCaseSensitive(cur, "configs"), "name", cfg->name),
              where, out, outlen, &n, 3);
    if (n == 0)
        snprintf(out, outlen, "no plan setting differs; the collector version may");
    cJSON_Delete(old);
    cJSON_Delete(cur);
}

/* What sweep_one tells the loops. */
enum { SWEEP_GO = 0, SWEEP_INTERRUPTED = 1, SWEEP_STOP = 2 };

/* The endpoint of the first request in trace that never got a connection
 * (no HTTP status, no connect time, not interrupted): the server refused
 * or did not answer at all. Copied to ep; returns 0 when every request
 * connected. A request that connected and then failed (an HTTP error, a
 * stall, a reset) is the server's answer, a result, and does not count. */
static int connect_failure(const cJSON *trace, char *ep, size_t eplen)
{
    const cJSON *ph, *rq;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(trace, "phases"))
        cJSON_ArrayForEach(rq, cJSON_GetObjectItemCaseSensitive(ph, "requests")) {
            const cJSON *ok = cJSON_GetObjectItemCaseSensitive(rq, "ok");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(rq, "http_status");
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(rq, "t_connected_ns");
            const cJSON *er = cJSON_GetObjectItemCaseSensitive(rq, "error");
            if (cJSON_IsTrue(ok) || !cJSON_IsNumber(st) || st->valuedouble != 0 ||
                !cJSON_IsNull(ct) || (cJSON_IsString(er) && !strcmp(er->valuestring, "interrupted")))
                continue;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(rq, "agent");
            const cJSON *ag = find_named(cJSON_GetObjectItemCaseSensitive(trace, "agents"), "id",
                                         cJSON_IsString(id) ? id->valuestring : "");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(ag, "endpoint");
            const cJSON *pu = cJSON_GetObjectItemCaseSensitive(ag, "plan_endpoint");
            const char *url = cJSON_IsString(u) ? u->valuestring : "?";
            /* Under --emulate the plan's endpoint is what the user wrote. */
            if (cJSON_IsString(pu) && strcmp(pu->valuestring, url) != 0)
                snprintf(ep, eplen, "%s (plan endpoint %s)", url, pu->valuestring);
            else
                snprintf(ep, eplen, "%s", url);
            return 1;
        }
    return 0;
}

/* Measures run k of (rt, cfg) unless its file already holds it. Returns
 * SWEEP_INTERRUPTED on a signal, SWEEP_STOP when the sweep cannot go on
 * (a run could not be written, or the server stopped answering; the reason
 * is printed), else SWEEP_GO (the outcome is counted in st). */
static int sweep_one(pb_run_ctx *ctx, const pb_plan *p, const pb_runtime *rt,
                     const pb_config *cfg, int k, const pb_sweep_opts *o,
                     pb_sweep_stats *st, pb_progress *pr)
{
    char path[4200], why[600], key[32], err[1200];
    pb_run_path(path, sizeof path, p->out, rt->label, cfg->name, k);
    pb_plan_run_key(p, rt, cfg, k, key, sizeof key);
    pb_existing ex = pb_run_check_file(path, key, why, sizeof why);
    pb_progress_begin(pr, rt->label, cfg->name, k);
    char status[10000];
    if (ex == PB_EXIST_VALID) {
        st->skipped_valid++;
        pb_progress_end(pr, rt->label, cfg->name, k, 0, "skipped (already valid)");
        return 0;
    }
    if (ex == PB_EXIST_INVALID && !o->retry_failed) {
        st->kept_invalid++;
        pb_progress_end(pr, rt->label, cfg->name, k, 0,
                        "skipped (recorded as invalid; --retry-failed measures it again)");
        return 0;
    }
    if (ex == PB_EXIST_FOREIGN || ex == PB_EXIST_UNREADABLE) {
        /* Never overwrite what we cannot account for. The first foreign
         * file says which setting differs; the others (usually the whole
         * directory) are only counted. */
        st->conflicts++;
        if (ex == PB_EXIST_FOREIGN && st->foreign_seen++ > 0) {
            pb_progress_end(pr, rt->label, cfg->name, k, 0, NULL);
            return 0;
        }
        char diff[1500] = "";
        if (ex == PB_EXIST_FOREIGN)
            explain_conflict(p, rt, cfg, path, diff, sizeof diff);
        snprintf(status, sizeof status,
                 "NOT RUN: %s exists and is %s%s%s; left untouched (use another --out%s)",
                 path, why, diff[0] ? ": " : "", diff,
                 ex == PB_EXIST_FOREIGN ? ", or the same settings; later conflicts "
                 "are only counted" : "");
        pb_progress_end(pr, rt->label, cfg->name, k, 0, status);
        return 0;
    }
    if (ex == PB_EXIST_INVALID) {
        if (preserve_failed(path, err, sizeof err) != 0) {
            st->write_errors++;
            st->stopped = 1;
            snprintf(status, sizeof status, "NOT RUN: cannot preserve the failed run: %s", err);
            pb_progress_end(pr, rt->label, cfg->name, k, 0, status);
            pb_progress_clear(pr);
            fprintf(stderr, "collect: stopped: nothing more can be written to %s (free space "
                    "or fix it, then run the same command again to resume)\n", p->out);
            return SWEEP_STOP;
        }
        st->retried++;
    }
    cJSON *trace = NULL;
    int hr = o->before_run ? o->before_run(o->hud, cfg, err, sizeof err) : 0;
    if (hr != 0) {
        st->write_errors++;
        st->stopped = hr == -2;
        snprintf(status, sizeof status, "NOT RUN: %s", err);
        pb_progress_end(pr, rt->label, cfg->name, k, 1, status);
        if (hr == -2) {
            pb_progress_clear(pr);
            fprintf(stderr, "collect: %s\n", err);
        }
        return hr == -2 ? SWEEP_STOP : SWEEP_GO;
    }
    int rc = pb_run_execute(ctx, rt, cfg, k, &trace, err, sizeof err);
    char herr[1200] = "";
    if (rc == 0 && o->after_run)
        st->stopped = o->after_run(o->hud, cfg, trace, herr, sizeof herr) == -2;
    if (rc == 1) {
        pb_progress_clear(pr);
        return SWEEP_INTERRUPTED;
    }
    if (rc < 0) {
        st->write_errors++;
        snprintf(status, sizeof status, "NOT RUN: %s", err);
        pb_progress_end(pr, rt->label, cfg->name, k, 1, status);
        return 0;
    }
    st->executed++;
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(trace, "run");
    int valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "valid"));
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(run, "invalid_reason");
    char ep[512];
    int no_connect = connect_failure(trace, ep, sizeof ep);
    int write_failed = 0;
    if (o->before_first_write && !st->first_written &&
        o->before_first_write(o->ud, err, sizeof err) != 0) {
        write_failed = 1;
        snprintf(status, sizeof status, "NOT WRITTEN: %s", err);
    } else if ((st->first_written = 1, pb_run_trace_write(path, trace, err, sizeof err) != 0)) {
        write_failed = 1;
        snprintf(status, sizeof status, "NOT WRITTEN: %s (check free space and permissions)", err);
    } else if (!valid) {
        st->failed_new++;
        snprintf(status, sizeof status, "INVALID: %s",
                 cJSON_IsString(reason) ? reason->valuestring : "?");
    } else {
        snprintf(status, sizeof status, "ok");
    }
    /* A run kept counts in the answer (an invalid one as "without"). */
    if (!write_failed && st->answers)
        pb_progress_answer_add(&st->answers[rt - p->runtimes], pb_precision_speedup(trace));
    cJSON_Delete(trace);
    pb_progress_end(pr, rt->label, cfg->name, k, 1, status);
    /* A server hook (after_run) may stop the sweep: a server that keeps
     * dying. The run itself is written above. */
    if (st->stopped && !write_failed) {
        pb_progress_clear(pr);
        fprintf(stderr, "collect: %s\n", herr);
        return SWEEP_STOP;
    }
    if (write_failed) {
        /* Disk full, quota, a folder gone: every later run would be
         * measured and thrown away the same way. Runs already written are
         * complete files (pb_fs), so resuming later loses nothing. */
        st->write_errors++;
        st->stopped = 1;
        pb_progress_clear(pr);
        fprintf(stderr, "collect: stopped at the first run that could not be written (%s/%s "
                "run %d): %s. The runs written before it are complete; free space or fix "
                "%s, then run the same command again to resume\n", rt->label, cfg->name, k,
                err, p->out);
        return SWEEP_STOP;
    }
    /* A server that stopped answering turns every later run into an
     * instant failure: stop after a few in a row instead. */
    st->connect_failures_in_row = no_connect ? st->connect_failures_in_row + 1 : 0;
    if (no_connect && o->max_connect_failures > 0 &&
        st->connect_failures_in_row >= o->max_connect_failures) {
        st->stopped = 1;
        pb_progress_clear(pr);
        fprintf(stderr, "collect: stopped: %d runs in a row could not connect to %s; is the "
                "server still running? Those runs are recorded as invalid: once it answers, "
                "run the same command with --retry-failed to measure them again "
                "(--max-connect-failures 0 never stops)\n", st->connect_failures_in_row, ep);
        return SWEEP_STOP;
    }
    return SWEEP_GO;
}

/* Speedups of the valid runs 1..n of (rt, cfg), read back from their
 * files (runs kept from an earlier sweep count too). Returns how many. */
static int group_speedups(const pb_plan *p, const pb_runtime *rt, const pb_config *cfg,
                          int n, double *x)
{
    int m = 0;
    for (int k = 1; k <= n; k++) {
        char path[4200], e[600];
        pb_run_path(path, sizeof path, p->out, rt->label, cfg->name, k);
        char *buf = NULL;
        size_t len = 0;
        if (pb_fs_read_all(path, 1u << 30, &buf, &len, e, sizeof e) != 0)
            continue;
        cJSON *j = cJSON_ParseWithLength(buf, len);
        free(buf);
        double v = pb_precision_speedup(j);
        cJSON_Delete(j);
        if (isfinite(v))
            x[m++] = v;
    }
    return m;
}

/* --target-ci: Stein's two-stage procedure (precision.h). The planned
 * runs are the pilot: each group's total is decided once from them, then
 * the extra runs are added round-robin. Returns sweep_one's verdict that
 * ended it (SWEEP_GO when every group is done). */
static int sweep_precision(pb_run_ctx *ctx, const pb_plan *p, const pb_sweep_opts *o,
                           pb_sweep_stats *st, pb_progress *pr)
{
    int ng = p->n_configs * p->n_runtimes;
    int *have = malloc((size_t)ng * sizeof *have);
    int *need = malloc((size_t)ng * sizeof *need);
    int *m0 = malloc((size_t)ng * sizeof *m0);
    double *x = malloc((size_t)p->max_runs * sizeof *x);
    if (!have || !need || !m0 || !x)
        PB_MEM_OOM();
    for (int g = 0; g < ng; g++) {
        int c = g / p->n_runtimes, r = g % p->n_runtimes;
        have[g] = p->runs;
        m0[g] = group_speedups(p, &p->runtimes[r], &p->configs[c], p->runs, x);
        need[g] = pb_stein_total(x, (size_t)m0[g], p->runs, p->target_ci_pct, p->max_runs);
    }
    int interrupted = 0;
    for (int added = 1; added && !interrupted;) {
        added = 0;
        for (int c = 0; c < p->n_configs && !interrupted; c++)
            for (int r = 0; r < p->n_runtimes && !interrupted; r++) {
                int g = c * p->n_runtimes + r;
                if (have[g] >= need[g])
                    continue;
                have[g]++;
                st->total++;
                st->added++;
                pr->total++;
                pr->to_run++;
                interrupted = sweep_one(ctx, p, &p->runtimes[r], &p->configs[c], have[g], o, st, pr);
                added++;
            }
    }
    if (!interrupted && !o->quiet) {
        pb_progress_clear(pr);
        for (int c = 0; c < p->n_configs; c++)
            for (int r = 0; r < p->n_runtimes; r++) {
                int g = c * p->n_runtimes + r;
                /* The pilot's valid values come first in x (runs 1..n0). */
                int m = group_speedups(p, &p->runtimes[r], &p->configs[c], have[g], x);
                int met;
                double hw = pb_precision_halfwidth_pct(x, m0[g], m, p->target_ci_pct, &met);
                fprintf(stderr, "collect: --target-ci %g: %s %s: %d runs (%d valid, pilot %d), "
                        "speedup 95%% CI +-%.2f%%%s\n", p->target_ci_pct, p->runtimes[r].label,
                        p->configs[c].name, have[g], m, m0[g], hw,
                        met ? "" : have[g] >= p->max_runs
                                 ? " (MISSED the target: capped by --max-runs)"
                                 : " (MISSED the target: the runs spread more than the pilot)");
            }
    }
    free(have);
    free(need);
    free(m0);
    free(x);
    return interrupted;
}

/* Removes the hidden temp files (see pb_fs_tmp_pid)
 * in dir whose writer is gone: a kill -9 during a write leaves them, and
 * nobody else would ever remove them. A live pid's file is left alone (it
 * may be another collect writing now). Returns how many were removed. */
static int remove_stale_tmp(const char *dir, int quiet)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = pb_fs_tmp_pid(e->d_name);
        if (pid <= 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) {
            n++;
            if (!quiet)
                fprintf(stderr, "collect: removed %s (a temp file whose writer, pid %ld, is gone)\n",
                        path, pid);
        }
    }
    closedir(d);
    return n;
}

/* The sweep's answer, one line per runtime, from the runs just made (as
 * hyperfine ends with its summary): what a user came for, without waiting
 * for analyze. */
static void print_answers(const pb_plan *p, const pb_sweep_stats *st)
{
    if (!st->answers)
        return;
    int width = 0;
    for (int r = 0; r < p->n_runtimes; r++) {
        int w = (int)strlen(p->runtimes[r].label);
        width = w > width ? w : width;
    }
    for (int r = 0; r < p->n_runtimes; r++) {
        const pb_progress_answer *a = &st->answers[r];
        if (a->n + a->n_without == 0)
            continue;
        char line[512];
        pb_progress_answer_line(line, sizeof line, p->runtimes[r].label, width, a);
        fprintf(stderr, "collect: %s\n", line);
    }
}

int pb_sweep_check_out(const pb_plan *p, char *err, size_t errlen)
{
    char e[4600], dir[4200];
    if (pb_fs_check_dir(p->out, e, sizeof e) != 0) {
        snprintf(err, errlen, "--out %s cannot hold the runs: %s (choose a folder you can "
                 "write, e.g. --out runs/%s)", p->out, e, p->name);
        return -1;
    }
    /* The run folders too: a file named like a runtime or a config below
     * --out would otherwise fail the first write of that group. */
    for (int c = 0; c < p->n_configs; c++)
        for (int r = 0; r < p->n_runtimes; r++) {
            pb_run_path(dir, sizeof dir, p->out, p->runtimes[r].label, p->configs[c].name, 1);
            *strrchr(dir, '/') = '\0';
            if (pb_fs_check_dir(dir, e, sizeof e) != 0) {
                snprintf(err, errlen, "--out %s cannot hold the runs of %s/%s: %s (move it "
                         "away or choose another --out)", p->out, p->runtimes[r].label,
                         p->configs[c].name, e);
                return -1;
            }
        }
    return 0;
}

int pb_sweep_run(const pb_plan *p, const char *const *urls, const char *plan_hash,
                 const char *host, cJSON *emulator, const pb_sweep_opts *o,
                 pb_sweep_stats *st)
{
    memset(st, 0, sizeof *st);
    st->total = p->runs * p->n_configs * p->n_runtimes;
    pb_run_ctx ctx;
    pb_run_ctx_init(&ctx, p, urls, plan_hash);
    ctx.host = host;
    ctx.emulator = emulator;
    ctx.auth_header = o->auth_header;
    ctx.servers = o->servers;
    if (p->reuse_connections) {
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_init(&g_share_locks[i], NULL);
        ctx.share = curl_share_init();
        curl_share_setopt(ctx.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(ctx.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(ctx.share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(ctx.share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    }

    /* Temp files of killed writers, in the out dir and every run dir. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", p->out);
    remove_stale_tmp(dir, o->quiet);
    for (int c = 0; c < p->n_configs; c++)
        for (int r = 0; r < p->n_runtimes; r++) {
            pb_run_path(dir, sizeof dir, p->out, p->runtimes[r].label, p->configs[c].name, 1);
            *strrchr(dir, '/') = '\0';
            remove_stale_tmp(dir, o->quiet);
        }

    /* First pass: how many runs are left (for the ETA). */
    int to_run = 0;
    char path[4200], why[600], key[32];
    for (int k = 1; k <= p->runs; k++)
        for (int c = 0; c < p->n_configs; c++)
            for (int r = 0; r < p->n_runtimes; r++) {
                pb_run_path(path, sizeof path, p->out, p->runtimes[r].label, p->configs[c].name, k);
                pb_plan_run_key(p, &p->runtimes[r], &p->configs[c], k, key, sizeof key);
                pb_existing ex = pb_run_check_file(path, key, why, sizeof why);
                to_run += ex == PB_EXIST_ABSENT || (ex == PB_EXIST_INVALID && o->retry_failed);
            }
    st->answers = calloc((size_t)p->n_runtimes, sizeof *st->answers);
    for (int r = 0; st->answers && r < p->n_runtimes; r++)
        st->answers[r].configs = p->n_configs;
    pb_progress pr;
    pb_progress_init(&pr, o->quiet ? PB_PROGRESS_NONE : o->progress, st->total, to_run);

    int interrupted = 0;
    for (int k = 1; k <= p->runs && !interrupted; k++)
        for (int i = 0; i < p->n_configs && !interrupted; i++) {
            int c = o->config_at ? o->config_at(o->hud, k, i) : i;
            for (int r = 0; r < p->n_runtimes && !interrupted; r++)
                interrupted = sweep_one(&ctx, p, &p->runtimes[r], &p->configs[c], k, o, st, &pr);
        }
    if (!interrupted && p->target_ci_pct > 0)
        interrupted = sweep_precision(&ctx, p, o, st, &pr);
    /* interrupted: SWEEP_INTERRUPTED, or SWEEP_STOP (st->stopped, said). */
    pb_progress_finish(&pr);
    if (!o->quiet && interrupted != SWEEP_INTERRUPTED && st->executed > 0)
        print_answers(p, st);
    free(st->answers);
    st->answers = NULL;
    if (ctx.share) {
        curl_share_cleanup(ctx.share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&g_share_locks[i]);
    }
    if (interrupted == SWEEP_INTERRUPTED || pb_signals_interrupted())
        return PB_EXIT_INTERRUPTED;
    if (st->stopped)
        return PB_EXIT_FAILED;
    if (interrupted)
        return PB_EXIT_INTERRUPTED;
    if (st->kept_invalid || st->failed_new || st->conflicts || st->write_errors)
        return PB_EXIT_FAILED;
    return PB_EXIT_OK;
}
