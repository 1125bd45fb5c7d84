/* getdents64: a directory is listed from the descriptor the walk opened
 * (and fstat'ed for its identity), with no second open by opendir. */
#define _GNU_SOURCE
#include "pb_load.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_fs.h"
#include "pb_hash.h"
#include "pb_text.h"
#include "pb_json.h"
#include "pb_json_arena.h"
#include "pb_pool.h"
#include "pb_mem.h"

/* Set of (dev, ino) pairs: directories already walked (symlink loops) and
 * files already loaded (a run reached twice must count once). Open
 * addressing, linear probing; grows at 50% load. */
typedef struct seen_set {
    uint64_t *dev, *ino;
    unsigned char *used;
    size_t cap, n;
} seen_set;

static size_t seen_hash(uint64_t d, uint64_t i, size_t cap)
{
    uint64_t h = (d * 0x9E3779B97F4A7C15ull) ^ (i * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Returns 1 if (d, i) was already present, 0 if it was added. */
static int seen_add(seen_set *s, uint64_t d, uint64_t i)
{
    if (2 * (s->n + 1) > s->cap) {
        seen_set g = {0};
        g.cap = s->cap ? s->cap * 2 : 1024;
        g.dev = calloc(g.cap, sizeof *g.dev);
        g.ino = calloc(g.cap, sizeof *g.ino);
        g.used = calloc(g.cap, 1);
        if (!g.dev || !g.ino || !g.used) {
            free(g.dev), free(g.ino), free(g.used);
            return 0; /* out of memory: treat as new rather than lose data */
        }
        for (size_t k = 0; k < s->cap; k++)
            if (s->used[k])
                seen_add(&g, s->dev[k], s->ino[k]);
        free(s->dev), free(s->ino), free(s->used);
        *s = g;
    }
    size_t k = seen_hash(d, i, s->cap);
    while (s->used[k]) {
        if (s->dev[k] == d && s->ino[k] == i)
            return 1;
        k = (k + 1) & (s->cap - 1);
    }
    s->used[k] = 1;
    s->dev[k] = d;
    s->ino[k] = i;
    s->n++;
    return 0;
}

/* Runs loaded so far by content (pb_hash_words64 of the bytes, and the length):
 * a copy of a run (`cp -r sweep sweep.bak` beside it) has another inode but
 * the same bytes, and must not count twice. Open addressing; the first
 * path is kept to name in the Data quality line, and to compare the bytes
 * when hash and length match (a hash collision must never drop a run). */
typedef struct content_set {
    uint64_t *h;
    size_t *len;
    char **path;
    size_t cap, n;
} content_set;

/* One entry of a directory listing. sub: for a subdirectory the walk has
 * listed, whether it holds a run file name (is_run_json); -1 otherwise. */
typedef struct dent {
    const char *name;
    unsigned char type;
    signed char sub;
} dent;

typedef struct walk_ctx {
    pb_dataset *ds;
    const pb_load_opts *o;
    seen_set dirs, files;
    content_set runs;
    size_t added;
    /* The listing of the directory being walked and the child of it being
     * loaded: a summary's check for run files beside it reads this
     * listing, and what the walk found in its subdirectories, instead of
     * opening them again. */
    struct dent *ents;
    int n_ents;
    const char *child;
    /* Files read by the walk are parsed and classified by this pool (one
     * JSON arena per thread) and applied to ds in walk order (pb_pool.h). */
    struct pb_pool *pool;
} walk_ctx;

/* Whether the files at a and b hold the same len bytes. */
static int same_files(const char *a, const char *b, size_t len)
{
    char *x = NULL, *y = NULL, err[256];
    size_t lx = 0, ly = 0;
    int same = pb_fs_read_all(a, len, &x, &lx, err, sizeof err) == 0 &&
               pb_fs_read_all(b, len, &y, &ly, err, sizeof err) == 0 &&
               lx == len && ly == len && memcmp(x, y, len) == 0;
    free(x);
    free(y);
    return same;
}

/* The path of an earlier run with the same bytes (hash h, length len), or
 * NULL after adding this one (NULL too when out of memory: counted rather
 * than lost). */
static const char *content_seen(content_set *s, uint64_t h, size_t len, const char *path)
{
    if (2 * (s->n + 1) > s->cap) {
        content_set g = {0};
        g.cap = s->cap ? s->cap * 2 : 1024;
        g.h = calloc(g.cap, sizeof *g.h);
        g.len = calloc(g.cap, sizeof *g.len);
        g.path = calloc(g.cap, sizeof *g.path);
        if (!g.h || !g.len || !g.path) {
            free(g.h), free(g.len), free(g.path);
            return NULL;
        }
        for (size_t k = 0; k < s->cap; k++) {
            if (!s->path[k])
                continue;
            size_t j = (size_t)(s->h[k] ^ (s->h[k] >> 31)) & (g.cap - 1);
            while (g.path[j])
                j = (j + 1) & (g.cap - 1);
            g.h[j] = s->h[k], g.len[j] = s->len[k], g.path[j] = s->path[k];
            g.n++;
        }
        free(s->h), free(s->len), free(s->path);
        *s = g;
    }
    size_t k = (size_t)(h ^ (h >> 31)) & (s->cap - 1);
    while (s->path[k]) {
        if (s->h[k] == h && s->len[k] == len && same_files(s->path[k], path, len))
            return s->path[k];
        k = (k + 1) & (s->cap - 1);
    }
    if ((s->path[k] = strdup(path))) {
        s->h[k] = h;
        s->len[k] = len;
        s->n++;
    }
    return NULL;
}

static void content_free(content_set *s)
{
    for (size_t k = 0; k < s->cap; k++)
        free(s->path[k]);
    free(s->h), free(s->len), free(s->path);
}

/* Values no measurement can produce (a corrupted or hand-edited file):
 * the run is refused at load, with the reason, instead of entering a mean
 * (efficiency -6e9%, 168.8% for 2 agents, a 292-digit wall time, negative
 * token counts). Returns NULL when plausible, else the reason in buf. */
#define PB_LOAD_MAX_SECONDS 1e7     /* 115 days: no run lasts longer */
#define PB_LOAD_MAX_TOKENS 1e9
static const char *run_implausible(const pb_run *r, char *buf, size_t len)
{
    /* Rounding in the files' own percentages: 100.0001 is still 100. */
    const double tol = 1e-6;
    if (!r->valid)
        return NULL;   /* kept as invalid, never enters a statistic */
    if (r->n_agents == 0)
        snprintf(buf, len, "no agents");
    else if (!isnan(r->wall_s) && !(r->wall_s > 0 && r->wall_s <= PB_LOAD_MAX_SECONDS))
        snprintf(buf, len, "concurrent wall time %.6g s is not in (0, %.0g]", r->wall_s,
                 PB_LOAD_MAX_SECONDS);
    else if (!isfinite(r->est_efficiency))
        snprintf(buf, len, "efficiency is not a number");
    else if (r->est_efficiency < 0 || r->est_efficiency > 100 * (1 + tol))
        snprintf(buf, len, "efficiency %.6g%% is outside 0..100%%: the agents' time inside "
                 "the concurrent phase cannot exceed N x its wall time", r->est_efficiency);
    else if (isfinite(r->est_speedup) &&
             (r->est_speedup < 0 || r->est_speedup > (double)r->n_agents * (1 + tol)))
        snprintf(buf, len, "speedup %.6g is outside 0..%zu (the number of agents)",
                 r->est_speedup, r->n_agents);
    else if (!isnan(r->meas_efficiency) && !(isfinite(r->meas_efficiency) &&
                                              r->meas_efficiency >= 0))
        snprintf(buf, len, "measured efficiency %.6g%% is negative or not finite",
                 r->meas_efficiency);
    else {
        buf[0] = '\0';
        for (size_t a = 0; a < r->n_agents && !buf[0]; a++) {
            /* The original study's loaders fill conc without has_conc;
             * absent fields are NAN or 0, which pass. */
            const pb_request *q[2] = {&r->agents[a].conc, &r->agents[a].solo};
            for (int k = 0; k < 2 && !buf[0]; k++) {
                double v[] = {q[k]->tokens, q[k]->duration_s, q[k]->ttft_ms / 1e3};
                const char *what[] = {"token count", "duration (s)", "TTFT (s)"};
                double max[] = {PB_LOAD_MAX_TOKENS, PB_LOAD_MAX_SECONDS, PB_LOAD_MAX_SECONDS};
                for (int f = 0; f < 3 && !buf[0]; f++)
                    if (!isnan(v[f]) && !(v[f] >= 0 && v[f] <= max[f]))
                        snprintf(buf, len, "agent %zu: %s %.6g is negative or beyond "
                                 "%.0g", a + 1, what[f], v[f], max[f]);
            }
        }
        if (!buf[0])
            return NULL;
    }
    return buf;
}

int pb_load_threads(const pb_load_opts *o)
{
    return o->jobs > 0 ? o->jobs : 1 + pb_pool_default_workers(PB_LOAD_MAX_JOBS - 1);
}

void pb_load_opts_init(pb_load_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_file_bytes = PB_LOAD_DEFAULT_MAX_BYTES;
}

/* A path as text for the terminal: control bytes (ESC would recolour it)
 * as \xNN. */
static void put_path(FILE *f, const char *p)
{
    for (; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

/* Records and (unless quiet) prints why path is not used. Called where
 * files are applied, in walk order; the walk itself calls skip(). */
static void skip_now(walk_ctx *c, const char *path, const char *reason)
{
    if (!c->o->quiet) {
        fputs("analyze: skipped ", stderr);
        put_path(stderr, path);
        fprintf(stderr, ": %s\n", reason);
    }
    pb_dataset_add_skip(c->ds, path, reason);
}

static void skip(walk_ctx *c, const char *path, const char *reason);

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* "run_<digits>" -> the number, else -1. */
static int run_dir_index(const char *name, size_t len)
{
    if (len < 5 || strncmp(name, "run_", 4) != 0)
        return -1;
    long v = 0;
    for (size_t i = 4; i < len; i++) {
        if (name[i] < '0' || name[i] > '9' || v > 100000000)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return (int)v;
}

/* Splits the absolute, lexically normalised directory of `path` into
 * components, innermost first: comp[0] is the directory holding the file.
 * Returns the count (at most max). Components point into buf. */
static int dir_components(const char *path, char *buf, size_t buflen,
                          const char **comp, int max)
{
    char tmp[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(tmp, sizeof tmp, "%s", path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, "/");
        snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
    }
    /* Lexical normalisation: drop "." and resolve ".." so that
     * "analyze ../data" groups by real names, not by "..". */
    const char *parts[512];
    int np = 0;
    char *save = NULL;   /* strtok_r: called from the pool's threads */
    for (char *tok = strtok_r(tmp, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            if (np > 0)
                np--;
            continue;
        }
        if (np < 512)
            parts[np++] = tok;
    }
    np--; /* the last part is the file name itself */
    int n = 0;
    size_t off = 0;
    for (int i = np - 1; i >= 0 && n < max; i--) {
        size_t l = strlen(parts[i]);
        if (off + l + 1 > buflen)
            break;
        memcpy(buf + off, parts[i], l + 1);
        comp[n++] = buf + off;
        off += l + 1;
    }
    return n;
}

static char *display_runtime(const char *s)
{
    /* The TR115 layout names runtime directories "runtime-<name>". */
    if (strncmp(s, "runtime-", 8) == 0 && s[8])
        s += 8;
    return strdup(s);
}

/* Runtime / config / run index from the directory layout (and the --group
 * levels), for formats without labels or when the user asked for levels. */
static void group_from_dirs(const pb_load_opts *o, const char *path, pb_run *r)
{
    char buf[PATH_MAX * 2];
    const char *comp[64];
    int n = dir_components(path, buf, sizeof buf, comp, 64);
    int cfg = -1, rt = -1, idx = -1;
    /* Default rule: skip run_N directories (TR115 nests run_N/run_1);
     * the first other directory is the config, its parent the runtime;
     * the outermost run_N is the run index. */
    for (int i = 0; i < n; i++) {
        int k = run_dir_index(comp[i], strlen(comp[i]));
        if (k >= 0) {
            idx = k;
            continue;
        }
        cfg = i;
        rt = i + 1 < n ? i + 1 : -1;
        break;
    }
    if (o->config_level > 0)
        cfg = o->config_level - 1 < n ? o->config_level - 1 : -1;
    if (o->runtime_level > 0)
        rt = o->runtime_level - 1 < n ? o->runtime_level - 1 : -1;
    if (o->runtime_level > 0 || o->config_level > 0 || !r->runtime) {
        free(r->runtime);
        free(r->config);
        r->runtime = display_runtime(rt >= 0 ? comp[rt] : "(none)");
        r->config = strdup(cfg >= 0 ? comp[cfg] : "(none)");
    }
    if (r->format != PB_FMT_PARBENCH && idx >= 0)
        r->run_index = idx;
}

/* A Rust per-run summary.json has the run's own file next to it (or one
 * directory down, run_N/run_1/metrics.json); without one the run would
 * silently vanish, so the caller reports it. Any *.json other than
 * summary.json counts (fixtures use other names). */
static int is_run_json(const char *name)
{
    size_t l = strlen(name);
    return name[0] != '.' && l > 5 && strcmp(name + l - 5, ".json") == 0 &&
           strcmp(name, "summary.json") != 0;
}

static int has_metrics_near(const char *dir, int depth);
static int list_dir(int fd, dent **out, char **names);

/* Whether entry name of dir is a run file, or (depth > 0) a directory
 * holding one within depth - 1 further levels. */
static int entry_has_metrics(const char *dir, const char *name, unsigned char type,
                             int depth)
{
    if (name[0] == '.')
        return 0;
    if (is_run_json(name))
        return 1;
    /* d_type spares a stat per entry; DT_UNKNOWN and links are still
     * stat'ed (stat follows the link, as before). */
    if (depth <= 0 || type == DT_REG)
        return 0;
    int found = 0;
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (p) {
        sprintf(p, "%s/%s", dir, name);
        struct stat st;
        if (type == DT_DIR || (stat(p, &st) == 0 && S_ISDIR(st.st_mode)))
            found = has_metrics_near(p, depth - 1);
        free(p);
    }
    return found;
}

static int has_metrics_near(const char *dir, int depth)
{
    /* Listed as the walk lists (list_dir), in the rare case the walk has
     * not: a summary given as an argument, a folder after it. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    dent *ents;
    char *names;
    int n = list_dir(fd, &ents, &names);
    close(fd);
    int found = 0;
    for (int i = 0; i < n && !found; i++)
        found = entry_has_metrics(dir, ents[i].name, ents[i].type, depth);
    free(ents);
    free(names);
    return found;
}

static char *dup_str(const cJSON *o, const char *key)
{
    const char *v = pb_json_str(o, key);
    return v ? strdup(v) : NULL;
}

/* What a manifest says about the sweep (the report's "What was measured"),
 * into m. */
static void manifest_read(pb_manifest *m, const char *path, const cJSON *root)
{
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    m->created = dup_str(root, "created");
    m->version = dup_str(root, "parbench_version");
    const cJSON *h = pb_json_obj(root, "host");
    if (h && pb_json_str(h, "name")) {
        char buf[512];
        double cpus = pb_json_opt_num(h, "cpus");
        snprintf(buf, sizeof buf, "%s (%s %s %s, %.0f CPUs)", pb_json_str(h, "name"),
                 pb_json_str(h, "sysname") ? pb_json_str(h, "sysname") : "?",
                 pb_json_str(h, "release") ? pb_json_str(h, "release") : "?",
                 pb_json_str(h, "machine") ? pb_json_str(h, "machine") : "?",
                 isfinite(cpus) ? cpus : 0.0);
        m->host = strdup(buf);
    }
    const cJSON *argv = pb_json_arr(root, "argv"), *a;
    if (argv) {
        char *cmd = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&cmd, &len);
        if (f) {
            int first = 1;
            cJSON_ArrayForEach(a, argv) {
                if (cJSON_IsString(a)) {
                    fprintf(f, "%s%s", first ? "" : " ", a->valuestring);
                    first = 0;
                }
            }
            fclose(f);
            m->command = cmd;
        }
    }
}

/* ---- files: read by the walk, parsed by the pool, applied in order ---- */

typedef enum file_kind {
    FILE_SKIP,          /* reason says why it is not used */
    FILE_MANIFEST,      /* man */
    FILE_RUN,           /* run, with hash and len for the copy check */
    FILE_SUMMARY,       /* a run's summary: a repeat when near, else an orphan */
    FILE_AGGREGATE,     /* a config-level summary */
} file_kind;

/* One pool item. The walk sets path, event, near and buf (the file's
 * bytes) or a reason; job_run, on any thread, parses buf and sets the
 * rest; job_apply adds the outcome to the dataset. */
typedef struct job {
    char *path;
    int event;              /* 1: not a file, only the walk's reason */
    int near;               /* summary.json: a run file beside or below it */
    char *buf;              /* owned; freed by job_apply */
    size_t len;
    file_kind kind;
    char *reason;
    pb_manifest man;
    pb_run run;
    uint64_t hash;
    const pb_load_opts *o;  /* read-only on every thread */
} job;

static void job_reason(job *j, const char *reason)
{
    j->kind = FILE_SKIP;
    j->reason = pb_mem_strdup(reason);
}

/* Classifies a parsed (or unparsable) file. Touches only j. */
static void job_classify(job *j, const cJSON *root, const char *end)
{
    char err[512], reason[700];
    const char *buf = j->buf, *path = j->path;
    size_t len = j->len;
    size_t lead = 0;
    while (lead < len && strchr(" \t\r\n", buf[lead]))
        lead++;
    if (!root && (lead == len || buf[lead] != '{')) {
        /* Not even the start of a JSON object: not a damaged run, but a
         * file that never was one (README.md given by mistake). */
        job_reason(j, "not JSON, so not a run file; give the directory collect "
                   "wrote (--out) or its run_<k>.json files");
        return;
    }
    if (!root) {
        long off = end && end >= buf && end <= buf + len ? (long)(end - buf) : -1;
        snprintf(reason, sizeof reason, "malformed JSON near byte %ld of %zu "
                 "(truncated file, or a NaN/Infinity literal, which JSON does "
                 "not allow); re-collect or repair the run", off, len);
        job_reason(j, reason);
        return;
    }
    /* One JSON document per file: bytes after it ("{run}}{...}") mean a
     * damaged or concatenated file, not a run. */
    size_t tail = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len;
    while (tail < len && strchr(" \t\r\n", buf[tail]))
        tail++;
    if (tail < len) {
        snprintf(reason, sizeof reason, "%zu bytes after the JSON document (from byte "
                 "%zu): a damaged or concatenated file; re-collect or repair the run",
                 len - tail, tail);
        job_reason(j, reason);
        return;
    }
    if (pb_text_json_has_nul_escape(buf, len)) {
        job_reason(j, "a string holds \\u0000 (a NUL character), which would cut a name "
                   "short; remove it");
        return;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(reason, sizeof reason, "top-level JSON value is %s, expected "
                 "an object; not a run file", pb_json_type(root));
        job_reason(j, reason);
        return;
    }
    const char *fmt = pb_json_str(root, "format");
    const cJSON *sum = pb_json_obj(root, "summary");
    int (*parse)(const cJSON *, pb_run *, char *, size_t) = NULL;
    if (fmt && strcmp(fmt, "parbench-manifest") == 0) {
        j->kind = FILE_MANIFEST;
        manifest_read(&j->man, path, root);
        return;
    } else if (fmt && strcmp(fmt, "parbench-trace") == 0) {
        parse = pb_load_parbench;
    } else if (strcmp(base_name(path), "summary.json") == 0) {
        /* Summaries repeat data held in metrics.json files: never a run. */
        j->kind = pb_json_arr(root, "runs") && pb_json_obj(root, "aggregate")
                      ? FILE_SUMMARY : FILE_AGGREGATE;
        return;
    } else if (fmt) {
        snprintf(reason, sizeof reason, "unknown \"format\": \"%.80s\"; this "
                 "analyze reads parbench-trace v1 and the TR115 metrics.json",
                 fmt);
        job_reason(j, reason);
        return;
    } else if (sum && cJSON_GetObjectItemCaseSensitive(sum, "efficiency_percent")) {
        parse = pb_load_tr115_rust;
    } else if (sum && (cJSON_GetObjectItemCaseSensitive(sum, "concurrent_wall_time") ||
                       cJSON_GetObjectItemCaseSensitive(root, "collector_execution_time"))) {
        parse = pb_load_tr115_python;
    } else if (sum && cJSON_GetObjectItemCaseSensitive(root, "collector")) {
        /* Looks like TR115 but lacks the key fields: say which. */
        parse = pb_load_tr115_rust;
    } else {
        job_reason(j, "not a recognised run file (no \"format\": "
                   "\"parbench-trace\" and no TR115 \"summary\" object); ignored");
        return;
    }
    pb_run_init(&j->run);
    if (parse(root, &j->run, err, sizeof err) != 0) {
        pb_run_free(&j->run);
        job_reason(j, err);
    } else if (run_implausible(&j->run, err, sizeof err)) {
        pb_run_free(&j->run);
        snprintf(reason, sizeof reason, "impossible value: %s; the run is not used "
                 "(a damaged or edited file?)", err);
        job_reason(j, reason);
    } else {
        /* The content hash (copies of a run) is taken for a run only:
         * hashing every file, summaries too, was 7% of the time. */
        j->kind = FILE_RUN;
        j->hash = pb_hash_words64(buf, len);
        /* Its name and groups come from its path alone: worked out here,
         * off the walk's thread, and dropped if it turns out a copy. */
        j->run.path = pb_mem_strdup(path);
        group_from_dirs(j->o, path, &j->run);
    }
}

/* pb_pool's run, on any thread: parses and classifies the bytes the walk
 * read, into the thread's arena. The error position comes from end, not
 * cJSON_GetErrorPtr (one global for every thread). */
static void job_run(void *item, void *arena)
{
    job *j = item;
    if (!j->buf)
        return;     /* the walk's skip, or a file that could not be read */
    const char *end = NULL;
    cJSON *root = pb_json_arena_parse(arena, j->buf, j->len, &end);
    job_classify(j, root, end);
}

static void *job_arena_new(void)
{
    return pb_json_arena_new();
}

static void job_arena_free(void *a)
{
    pb_json_arena_free(a);
}

static void manifest_free(pb_manifest *m)
{
    free(m->path), free(m->created), free(m->version), free(m->host), free(m->command);
}

/* Adds what job j found to the dataset, in walk order, and frees it. */
static void job_apply(walk_ctx *c, job *j)
{
    char reason[700];
    const char *first;
    pb_run *r;
    if (j->event) {
        skip_now(c, j->path, j->reason);
        goto done;
    }
    c->ds->files_seen++;
    switch (j->kind) {
    case FILE_SKIP:
        skip_now(c, j->path, j->reason);
        break;
    case FILE_MANIFEST: {
        c->ds->files_manifest++;
        pb_manifest *n = realloc(c->ds->manifests, (c->ds->n_manifests + 1) * sizeof *n);
        if (n) {
            c->ds->manifests = n;
            n[c->ds->n_manifests++] = j->man;
        } else {
            manifest_free(&j->man);   /* not kept, still not a run */
        }
        break;
    }
    case FILE_SUMMARY:
        if (j->near)
            c->ds->files_duplicate++;
        else
            skip_now(c, j->path, "run summary without its metrics.json: "
                     "summaries lack per-agent data, so the run is not "
                     "loaded; restore metrics.json");
        break;
    case FILE_AGGREGATE:
        c->ds->files_aggregate++;
        break;
    case FILE_RUN:
        if ((first = content_seen(&c->runs, j->hash, j->len, j->path))) {
            pb_run_free(&j->run);
            snprintf(reason, sizeof reason, "same content as %.300s (a copy of a run "
                     "already loaded); counted once", first);
            c->ds->files_copies++;
            skip_now(c, j->path, reason);
        } else if (!(r = pb_dataset_add_run(c->ds))) {
            pb_run_free(&j->run);
            skip_now(c, j->path, "out of memory");
        } else {
            *r = j->run;
            c->added++;
        }
        break;
    }
done:
    /* Freed here, on the thread that allocated it: a free from a worker
     * goes to another malloc arena, under its lock. */
    free(j->buf);
    free(j->path);
    free(j->reason);
}

/* Applies the oldest job (waiting for it, or running it here); 0 when
 * none is pending. */
static int apply_oldest(walk_ctx *c)
{
    job *j = pb_pool_take(c->pool);
    if (!j)
        return 0;
    job_apply(c, j);
    pb_pool_release(c->pool);
    return 1;
}

/* A new job's slot, once the window has room. */
static job *job_reserve(walk_ctx *c, const char *path)
{
    job *j;
    while (!(j = pb_pool_reserve(c->pool)))
        apply_oldest(c);
    j->path = pb_mem_strdup(path);
    j->o = c->o;
    return j;
}

/* Where the walk finds a reason not to use path: queued so that it is
 * reported in its place among the files' own. */
static void skip(walk_ctx *c, const char *path, const char *reason)
{
    job *j = job_reserve(c, path);
    j->event = 1;
    j->reason = pb_mem_strdup(reason);
    pb_pool_submit(c->pool);
}

/* Whether a summary.json at path has a run file beside it or one folder
 * down. Decided by the walk, which knows the listing. */
static int summary_near(walk_ctx *c, const char *path)
{
    size_t dl = (size_t)(base_name(path) - path);
    char *dir = dl ? strndup(path, dl) : strdup(".");
    int near = 0;
    if (dir && c->child == path) {
        for (int i = 0; i < c->n_ents && !near; i++) {
            const dent *e = &c->ents[i];
            near = e->name[0] != '.' && e->sub >= 0
                       ? e->sub || is_run_json(e->name)
                       : entry_has_metrics(dir, e->name, e->type, 1);
        }
    } else {
        near = dir && has_metrics_near(dir, 1);
    }
    free(dir);
    return near;
}

/* Reads the file at path, or (fd >= 0) the one open as fd with st its
 * fstat, here (system calls stay on the walk's thread: on the 2-CPU
 * virtual machines parbench is tested on they did not run faster from two
 * threads), and queues its bytes for the pool. */
static void load_file(walk_ctx *c, const char *path, int fd, const struct stat *st)
{
    char err[512], reason[700];
    job *j = job_reserve(c, path);
    int rc = fd >= 0 ? pb_fs_read_fd(fd, st, c->o->max_file_bytes, &j->buf, &j->len, err, sizeof err)
                     : pb_fs_read_all(path, c->o->max_file_bytes, &j->buf, &j->len, err, sizeof err);
    if (rc == -2) {
        snprintf(reason, sizeof reason, "%s; not read (a run file is a few "
                 "KB to a few MB; raise --max-file-mb if this is one)", err);
        job_reason(j, reason);
    } else if (rc != 0) {
        snprintf(reason, sizeof reason, "%s; check that the file exists and "
                 "is readable", err);
        job_reason(j, reason);
    } else if (strcmp(base_name(path), "summary.json") == 0) {
        j->near = summary_near(c, path);
    }
    pb_pool_submit(c->pool);
}

static int is_json_name(const char *name)
{
    size_t l = strlen(name);
    return l > 5 && strcmp(name + l - 5, ".json") == 0;
}

static int cmp_dent(const void *a, const void *b)
{
    /* As alphasort orders scandir's entries: the order runs are loaded in,
     * hence the order of every table. */
    return strcoll(((const dent *)a)->name, ((const dent *)b)->name);
}

/* The entries of the directory open as fd, "." and ".." left out, sorted.
 * Their names live in *names (one block). Returns the count, or -1 with
 * errno set. */
static int list_dir(int fd, dent **out, char **names)
{
    _Alignas(struct dirent64) char buf[16384];
    dent *v = NULL;
    char *nb = NULL;
    size_t n = 0, cap = 0, used = 0, ncap = 0;
    *out = NULL;
    *names = NULL;
    for (;;) {
        ssize_t got = getdents64(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(v), free(nb);
            errno = e;
            return -1;
        }
        if (got == 0)
            break;
        for (ssize_t off = 0; off < got;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
                continue;
            size_t l = strlen(d->d_name) + 1;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                v = pb_mem_realloc(v, cap * sizeof *v);
            }
            if (used + l > ncap) {
                ncap = ncap ? 2 * ncap + l : 1024 + l;
                nb = pb_mem_realloc(nb, ncap);
            }
            memcpy(nb + used, d->d_name, l);
            /* An offset until the block stops moving. */
            v[n++] = (dent){.name = (const char *)(uintptr_t)used, .type = d->d_type,
                            .sub = -1};
            used += l;
        }
    }
    for (size_t i = 0; i < n; i++)
        v[i].name = nb + (uintptr_t)v[i].name;
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_dent);
    *out = v;
    *names = nb;
    return (int)n;
}

static int walk(walk_ctx *c, const char *path, int depth, int explicit_arg);
static int walk_dir(walk_ctx *c, int fd, const char *path, int depth);

/* Whether a directory may be descended into: not already walked (a
 * symbolic link loop, or a second path to the same runs), not too deep.
 * Reported when not (a link only when it is the second path). */
static int dir_enter(walk_ctx *c, const struct stat *st, const char *path, int depth,
                     int is_link)
{
    char reason[600];
    if (seen_add(&c->dirs, (uint64_t)st->st_dev, (uint64_t)st->st_ino)) {
        if (is_link)
            skip(c, path, "symbolic link to a directory already visited "
                 "(a loop or a second path to the same runs); not "
                 "followed, so no run is counted twice");
        return 0;
    }
    if (depth > PB_LOAD_MAX_DEPTH) {
        snprintf(reason, sizeof reason, "deeper than %d directory levels; "
                 "not descended", PB_LOAD_MAX_DEPTH);
        skip(c, path, reason);
        return 0;
    }
    return 1;
}

/* One entry e of the directory open as dfd, at path. The listing's type
 * answers for plain directories and files, which are opened relative to
 * dfd and identified by fstat (no lstat by full path: system calls were
 * 40% of analyze's time). Links, unknown types and anything that changed
 * since the listing take walk's general path. Returns what walk returns. */
static int walk_entry(walk_ctx *c, int dfd, const dent *e, const char *path, int depth)
{
    struct stat st;
    if (e->type == DT_DIR) {
        int fd = openat(dfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) == 0) {
            if (dir_enter(c, &st, path, depth, 0))
                return walk_dir(c, fd, path, depth);
            close(fd);
            return -1;
        }
        if (fd >= 0)
            close(fd);
    } else if (e->type == DT_REG) {
        if (!is_json_name(e->name))
            return -1;
        /* O_NONBLOCK: should it have become a FIFO, open must not wait. */
        int fd = openat(dfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            if (seen_add(&c->files, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
                c->ds->files_revisited++;
            else
                load_file(c, path, fd, &st);
            close(fd);
            return -1;
        }
        if (fd >= 0)
            close(fd);
    }
    return walk(c, path, depth, 0);
}

/* Walks the directory open as fd (closed here), at path. Returns whether
 * it holds a run file name (a summary beside it is then no orphan), or -1
 * when it cannot be listed. */
static int walk_dir(walk_ctx *c, int fd, const char *path, int depth)
{
    char reason[600];
    dent *ents;
    char *names;
    int n = list_dir(fd, &ents, &names);
    if (n < 0) {
        snprintf(reason, sizeof reason, "cannot list directory: %s; check "
                 "its permissions", strerror(errno));
        skip(c, path, reason);
        close(fd);
        return -1;
    }
    int has_run = 0;
    size_t pl = strlen(path);
    dent *outer_ents = c->ents;
    int outer_n = c->n_ents;
    for (int i = 0; i < n; i++)
        has_run |= ents[i].name[0] != '.' && is_run_json(ents[i].name);
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i].name;
        /* Hidden entries: the collector's temp files and preserved failed
         * runs; counted so that analyze can say what it did not read (a
         * config named ".x" hid its runs). */
        if (nm[0] == '.') {
            if (c->ds->files_hidden++ == 0) {
                snprintf(c->ds->hidden_first, sizeof c->ds->hidden_first, "%s%s%s", path,
                         pl && path[pl - 1] == '/' ? "" : "/", nm);
                for (char *q = c->ds->hidden_first; *q; q++)
                    if ((unsigned char)*q < 0x20 || *q == 0x7f)
                        *q = '?'; /* shown on the terminal */
            }
            continue;
        }
        char *child = pb_mem_alloc(pl + strlen(nm) + 2);
        sprintf(child, "%s%s%s", path, pl && path[pl - 1] == '/' ? "" : "/", nm);
        c->ents = ents, c->n_ents = n, c->child = child;
        int sub = walk_entry(c, fd, &ents[i], child, depth + 1);
        ents[i].sub = (signed char)(sub < 0 ? -1 : sub);
        c->child = NULL;
        free(child);
    }
    free(ents);
    free(names);
    close(fd);
    c->ents = outer_ents, c->n_ents = outer_n;
    return has_run;
}

/* Any path: an input as given, or an entry the listing could not answer
 * for (a link, an unknown type). Returns what walk_dir returns for a
 * directory, else -1. */
static int walk(walk_ctx *c, const char *path, int depth, int explicit_arg)
{
    struct stat lst, st;
    char reason[600];
    if (lstat(path, &lst) != 0) {
        snprintf(reason, sizeof reason, "cannot stat: %s; check the path",
                 strerror(errno));
        skip(c, path, reason);
        return -1;
    }
    int is_link = S_ISLNK(lst.st_mode);
    if (is_link && stat(path, &st) != 0) {
        snprintf(reason, sizeof reason, "symbolic link whose target cannot "
                 "be reached (%s); fix or remove the link", strerror(errno));
        skip(c, path, reason);
        return -1;
    }
    if (!is_link)
        st = lst;
    if (S_ISDIR(st.st_mode)) {
        if (!dir_enter(c, &st, path, depth, is_link))
            return -1;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(reason, sizeof reason, "cannot list directory: %s; check "
                     "its permissions", strerror(errno));
            skip(c, path, reason);
            return -1;
        }
        return walk_dir(c, fd, path, depth);
    }
    if (!explicit_arg && !is_json_name(base_name(path)))
        return -1;
    if (!S_ISREG(st.st_mode)) {
        /* Never open a FIFO or device: open() on a FIFO blocks forever. */
        c->ds->files_seen++;
        skip(c, path, "not a regular file (FIFO, socket or device); not read");
        return -1;
    }
    if (seen_add(&c->files, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
        c->ds->files_revisited++;
        return -1;
    }
    load_file(c, path, -1, NULL);
    return -1;
}

/* The directory above the runtime's, by the default layout rule (run_N
 * skipped, config, runtime, then this one), into out; "" when none. */
static void parent_of_runtime(const char *path, char *out, size_t outlen)
{
    char buf[PATH_MAX * 2];
    const char *comp[64];
    int n = dir_components(path, buf, sizeof buf, comp, 64), i = 0;
    while (i < n && run_dir_index(comp[i], strlen(comp[i])) >= 0)
        i++;
    snprintf(out, outlen, "%s", i + 2 < n ? comp[i + 2] : "");
}

typedef struct run_key { const pb_run *r; size_t i; } run_key;

static int run_key_cmp(const void *a, const void *b)
{
    const pb_run *x = ((const run_key *)a)->r, *y = ((const run_key *)b)->r;
    int c = strcmp(x->runtime, y->runtime);
    if (!c) c = strcmp(x->config, y->config);
    if (!c) c = (x->run_index > y->run_index) - (x->run_index < y->run_index);
    return c;
}

/* The study team's TR114 layout holds two phases side by side
 * (phase1/chimera-homo/CONFIG/run_1..5 and phase2/chimera-homo/CONFIG/
 * run_1..5): grouped by directory, both land in one (runtime, config) with
 * run indexes 1..5 twice, pooling two experiments silently. When runs of an
 * input (grouped by directory, default levels) repeat a (runtime, config,
 * run index) and differ in the directory above the runtime's, every run of
 * those runtimes gets that directory as a prefix ("phase1/chimera-homo"),
 * and Data quality says so. */
static int split_phases(pb_dataset *ds, size_t first, size_t n, const pb_load_opts *o)
{
    if (o->runtime_level > 0 || o->config_level > 0 || n < 2)
        return 0;
    run_key *k = malloc(n * sizeof *k);
    char (*split)[PB_LABEL_MAX * 2] = NULL;
    size_t n_split = 0;
    if (!k)
        return -1;
    size_t m = 0;
    for (size_t i = first; i < first + n; i++)
        if (ds->runs[i].format != PB_FMT_PARBENCH && ds->runs[i].runtime && ds->runs[i].config)
            k[m++] = (run_key){&ds->runs[i], i};
    qsort(k, m, sizeof *k, run_key_cmp);
    for (size_t j = 1; j < m; j++) {
        if (run_key_cmp(&k[j], &k[j - 1]) != 0)
            continue;
        char a[512], b[512];
        parent_of_runtime(k[j].r->path, a, sizeof a);
        parent_of_runtime(k[j - 1].r->path, b, sizeof b);
        if (strcmp(a, b) == 0 || !*a || !*b)
            continue;
        int seen = 0;
        for (size_t s = 0; s < n_split && !seen; s++)
            seen = strcmp(split[s], k[j].r->runtime) == 0;
        if (seen)
            continue;
        void *g = realloc(split, (n_split + 1) * sizeof *split);
        if (!g)
            break;
        split = g;
        snprintf(split[n_split++], sizeof *split, "%s", k[j].r->runtime);
    }
    free(k);
    for (size_t s = 0; s < n_split; s++) {
        char note[1024], parents[512] = "";
        for (size_t i = first; i < first + n; i++) {
            pb_run *r = &ds->runs[i];
            if (r->format == PB_FMT_PARBENCH || strcmp(r->runtime, split[s]) != 0)
                continue;
            char p[256];
            parent_of_runtime(r->path, p, sizeof p);
            if (!strstr(parents, p) && strlen(parents) + strlen(p) + 3 < sizeof parents)
                snprintf(parents + strlen(parents), sizeof parents - strlen(parents), "%s%s",
                         *parents ? ", " : "", p);
            size_t len = strlen(p) + 1 + strlen(r->runtime) + 1;
            char *v = malloc(len);
            if (!v)
                continue;
            snprintf(v, len, "%s/%s", p, r->runtime);
            free(r->runtime);
            r->runtime = v;
        }
        snprintf(note, sizeof note, "runtime \"%.128s\" held the same configs and run "
                 "indexes under several directories (%s), e.g. the phases of the study "
                 "team's TR114 layout: kept apart as DIR/%.128s instead of pooled",
                 split[s], parents, split[s]);
        pb_dataset_add_note(ds, note);
        if (!o->quiet)
            fprintf(stderr, "analyze: note: %s\n", note);
    }
    free(split);
    return 0;
}

/* Both public loaders: the n inputs are paths[i], or in[i].path when `in`
 * is given (then each input's runs are recorded in it). */
static size_t load_all(pb_dataset *ds, char *const *paths, pb_load_input *in, int n,
                       const pb_load_opts *o)
{
    pb_load_opts def;
    if (!o) {
        pb_load_opts_init(&def);
        o = &def;
    }
    /* One walk context for all inputs: a file reached from two inputs
     * still counts once (under the first). The window bounds the files
     * read ahead of their parse. */
    static const pb_pool_fns fns = {job_run, job_arena_new, job_arena_free};
    int workers = pb_load_threads(o) - 1;
    walk_ctx c = {.ds = ds, .o = o, .pool = pb_pool_new(workers, 64, sizeof(job), &fns)};
    for (int i = 0; i < n; i++) {
        if (!in) {
            size_t first = ds->n_runs;
            walk(&c, paths[i], 0, 1);
            while (apply_oldest(&c))
                ;
            split_phases(ds, first, ds->n_runs - first, o);
            continue;
        }
        in[i].first_run = ds->n_runs;
        /* Copies are looked for within one input: two labelled inputs with
         * equal files are two sweeps the user asked to compare, kept apart
         * under their labels anyway. */
        content_free(&c.runs);
        memset(&c.runs, 0, sizeof c.runs);
        walk(&c, in[i].path, 0, 1);
        while (apply_oldest(&c))
            ;
        in[i].n_runs = ds->n_runs - in[i].first_run;
        split_phases(ds, in[i].first_run, in[i].n_runs, o);
    }
    pb_pool_free(c.pool);
    free(c.dirs.dev), free(c.dirs.ino), free(c.dirs.used);
    free(c.files.dev), free(c.files.ino), free(c.files.used);
    content_free(&c.runs);
    return c.added;
}

size_t pb_load_inputs(pb_dataset *ds, pb_load_input *in, int n,
                      const pb_load_opts *o)
{
    return load_all(ds, NULL, in, n, o);
}

/* Appends "label/" to the runtime of runs [first, first + n). */
static int prefix_runtimes(pb_dataset *ds, size_t first, size_t n, const char *label)
{
    /* "data/" and "data" name the same input: no "data//uv". */
    int ll = (int)strlen(label);
    while (ll > 1 && label[ll - 1] == '/')
        ll--;
    for (size_t k = first; k < first + n; k++) {
        pb_run *r = &ds->runs[k];
        size_t len = (size_t)ll + 1 + strlen(r->runtime) + 1;
        char *v = malloc(len);
        if (!v)
            return -1;
        snprintf(v, len, "%.*s/%s", ll, label, r->runtime);
        free(r->runtime);
        r->runtime = v;
    }
    return 0;
}

int pb_load_label_inputs(pb_dataset *ds, const pb_load_input *in, int n, int merge)
{
    for (int i = 0; i < n; i++) {
        const char *label = in[i].label ? in[i].label : in[i].path;
        for (size_t k = in[i].first_run; k < in[i].first_run + in[i].n_runs; k++) {
            free(ds->runs[k].input);
            if (!(ds->runs[k].input = strdup(label)))
                return -1;
        }
    }
    if (merge)
        return 0;
    /* Runs of two inputs under one runtime name would pool two sweeps into
     * one mean: an explicitly labelled input always gets its label as a
     * prefix ("old/uv"), an unlabelled one only when its runtime names
     * collide with another input's. */
    int *clash = calloc(n > 0 ? (size_t)n : 1, sizeof *clash);
    if (!clash)
        return -1;
    /* Decide for every input before renaming any (a renamed runtime no
     * longer collides). */
    for (int i = 0; i < n; i++) {
        clash[i] = in[i].label != NULL;
        /* Runs of one directory are contiguous: comparing only where the
         * runtime changes keeps this near-linear for large sweeps. */
        for (size_t k = in[i].first_run; !clash[i] && k < in[i].first_run + in[i].n_runs; k++) {
            if (k > in[i].first_run && strcmp(ds->runs[k].runtime, ds->runs[k - 1].runtime) == 0)
                continue;
            for (int j = 0; j < n && !clash[i]; j++)
                for (size_t m = in[j].first_run; j != i && m < in[j].first_run + in[j].n_runs; m++)
                    if (strcmp(ds->runs[k].runtime, ds->runs[m].runtime) == 0) {
                        clash[i] = 1;
                        break;
                    }
        }
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        if (clash[i])
            rc = prefix_runtimes(ds, in[i].first_run, in[i].n_runs,
                                 in[i].label ? in[i].label : in[i].path);
    free(clash);
    return rc;
}

size_t pb_load_paths(pb_dataset *ds, char *const *paths, int n,
                     const pb_load_opts *o)
{
    return load_all(ds, paths, NULL, n, o);
}
