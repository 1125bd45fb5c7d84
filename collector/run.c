/* run: phase ordering and trace assembly. */
#include "run.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cpus.h"
#include "driver.h"
#include "pb_fs.h"
#include "pb_text.h"
#include "pb_hash.h"
#include "pb_time.h"
#include "transfer.h"
#include "precision.h"
#include "workflow.h"
#include "pb_mem.h"
#include "telemetry.h"

void pb_run_ctx_init(pb_run_ctx *c, const pb_plan *p, const char *const *urls,
                     const char *plan_hash)
{
    memset(c, 0, sizeof *c);
    c->plan = p;
    c->urls = urls;
    c->plan_hash = plan_hash;
    uint64_t n = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ uv_hrtime();
    snprintf(c->nonce, sizeof c->nonce, "%08llx", (unsigned long long)(pb_hash_fnv1a64(&n, sizeof n) & 0xffffffffu));
}

typedef enum { PH_WARMUP, PH_SOLO, PH_CONCURRENT } phase_kind;

typedef struct phase {
    phase_kind kind;
    int agent;                /* solo: agent index; warm-up: endpoint's agent */
    int endpoint;
} phase;

/* The collector's own CPU time so far, in microseconds: total (the
 * scheduler's exact count, CLOCK_PROCESS_CPUTIME_ID), user, system (getrusage,
 * split at tick granularity); every thread. The trace records what each
 * phase cost the measuring process, so its overhead is data, not a guess. */
static void cpu_now(int64_t us[3])
{
    struct rusage ru;
    struct timespec ts;
    us[0] = us[1] = us[2] = -1;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 && getrusage(RUSAGE_SELF, &ru) == 0) {
        us[0] = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        us[1] = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
        us[2] = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    }
}

static void add_cpu(cJSON *pj, const int64_t before[3])
{
    int64_t after[3];
    cpu_now(after);
    if (before[0] < 0 || after[0] < 0)
        return;
    cJSON *c = cJSON_AddObjectToObject(pj, "collector_cpu");
    cJSON_AddNumberToObject(c, "cpu_us", (double)(after[0] - before[0]));
    cJSON_AddNumberToObject(c, "user_us", (double)(after[1] - before[1]));
    cJSON_AddNumberToObject(c, "system_us", (double)(after[2] - before[2]));
}

static const char *kind_name(phase_kind k)
{
    return k == PH_WARMUP ? "warmup" : k == PH_SOLO ? "solo" : "concurrent";
}

/* Request ids come from the run context's counter, which the threads
 * runtime's agents share. */
static pthread_mutex_t seq_mu = PTHREAD_MUTEX_INITIALIZER;

pb_transfer *pb_run_transfer_new(pb_run_ctx *c, const pb_runtime *rt, const pb_agent_spec *a,
                                 int num_predict, long sample_seed, size_t keep_text,
                                 uint64_t origin, char *err, size_t errlen)
{
    char rid[96];
    pthread_mutex_lock(&seq_mu);
    snprintf(rid, sizeof rid, "pb-%s-%lu", c->nonce, ++c->seq);
    pthread_mutex_unlock(&seq_mu);
    pb_transfer_opts o = {
        .url = c->urls[a->endpoint_index],
        .proxy = c->plan->proxy,
        .request_id = rid,
        .chunk_bytes = rt->chunk_bytes,
        .timeout_s = c->plan->timeout_s,
        .reuse_connections = c->plan->reuse_connections,
        .share = c->share,
        .num_predict = num_predict,
        .sample_seed = sample_seed,
        .auth_header = c->auth_header,
        .keep_text = keep_text,
    };
    return pb_transfer_new(a, &o, origin, err, errlen);
}

/* A workflow agent's steps as run: kind, and for work the seconds drawn
 * for this run (before time scaling). */
static cJSON *pb_run_steps_json(const pb_agent_spec *a, const double *work)
{
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < a->n_steps; k++) {
        const pb_step *s = &a->steps[k];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "kind", s->kind == PB_STEP_LLM ? "llm" : "work");
        if (s->kind == PB_STEP_WORK) {
            cJSON_AddNumberToObject(j, "seconds", work ? work[k] : s->seconds);
            cJSON_AddStringToObject(j, "dist", s->sd > 0 ? "lognormal" : "fixed");
            cJSON_AddBoolToObject(j, "cpu", s->cpu);
        } else {
            char dig[32];
            cJSON_AddStringToObject(j, "prompt_digest", pb_hash_digest(s->prompt, strlen(s->prompt), dig, sizeof dig));
            cJSON_AddBoolToObject(j, "uses_previous", strstr(s->prompt, PB_PREVIOUS_MARK) != NULL);
            cJSON_AddItemToObject(j, "options", cJSON_Duplicate(s->options, 1));
        }
        cJSON_AddItemToArray(arr, j);
    }
    return arr;
}

static cJSON *agents_json(pb_run_ctx *c, const pb_config *cfg, const long *seeds,
                          double *const *work)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < cfg->n_agents; i++) {
        const pb_agent_spec *a = &cfg->agents[i];
        cJSON *j = cJSON_CreateObject();
        char dig[32];
        cJSON_AddStringToObject(j, "id", a->id);
        cJSON_AddStringToObject(j, "endpoint", c->urls[a->endpoint_index]);
        cJSON_AddStringToObject(j, "plan_endpoint", a->endpoint);
        cJSON_AddStringToObject(j, "api", a->api);
        cJSON_AddStringToObject(j, "model", a->model);
        cJSON_AddItemToObject(j, "options", cJSON_Duplicate(a->options, 1));
        cJSON_AddStringToObject(j, "prompt_digest",
                                pb_hash_digest(a->prompt, strlen(a->prompt), dig, sizeof dig));
        cJSON_AddNumberToObject(j, "prompt_bytes", (double)strlen(a->prompt));
        cJSON *own = cJSON_GetObjectItemCaseSensitive(a->options, "seed");
        if (own)
            cJSON_AddItemToObject(j, "sample_seed", cJSON_Duplicate(own, 1));
        else if (seeds[i] >= 0)
            cJSON_AddNumberToObject(j, "sample_seed", (double)seeds[i]);
        else
            cJSON_AddNullToObject(j, "sample_seed");
        if (cJSON_GetArraySize(a->headers) > 0)
            cJSON_AddItemToObject(j, "headers", cJSON_Duplicate(a->headers, 1));
        if (a->n_steps > 0)
            cJSON_AddItemToObject(j, "steps", pb_run_steps_json(a, work ? work[i] : NULL));
        cJSON_AddItemToArray(arr, j);
    }
    return arr;
}

int pb_run_execute(pb_run_ctx *c, const pb_runtime *rt, const pb_config *cfg,
                   int run_index, cJSON **trace, char *err, size_t errlen)
{
    const pb_plan *p = c->plan;
    *trace = NULL;
    int n = cfg->n_agents;
    phase *ph = pb_mem_calloc((size_t)(n + 1 + p->n_endpoints), sizeof *ph);
    int nph = 0;
    if (p->warmup) {
        /* One warm-up per endpoint, with its first agent's options (a
         * different num_ctx would make Ollama reload the model later). */
        for (int e = 0; e < p->n_endpoints; e++)
            for (int i = 0; i < n; i++)
                if (cfg->agents[i].endpoint_index == e) {
                    ph[nph++] = (phase){PH_WARMUP, i, e};
                    break;
                }
    }
    int first_measured = nph;
    if (p->solo)
        for (int i = 0; i < n; i++)
            ph[nph++] = (phase){PH_SOLO, i, cfg->agents[i].endpoint_index};
    ph[nph++] = (phase){PH_CONCURRENT, -1, -1};

    /* Warm-ups stay first (they exist to load the model); the measured
     * phases are shuffled so neither solo nor concurrent always runs on a
     * warmer or cooler machine. */
    uint64_t seed = pb_plan_run_seed(p, rt, cfg, run_index);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, (unsigned long)seed);
    gsl_ran_shuffle(rng, ph + first_measured, (size_t)(nph - first_measured), sizeof *ph);
    /* "solo": "replay": the solo phases replay what the program sent in
     * the concurrent phase, which therefore runs first. */
    if (rt->driver == PB_DRIVER_EXEC && rt->solo_replay)
        for (int k = first_measured; k < nph; k++)
            if (ph[k].kind == PH_CONCURRENT) {
                phase c = ph[k];
                memmove(ph + first_measured + 1, ph + first_measured, sizeof *ph * (size_t)(k - first_measured));
                ph[first_measured] = c;
            }
    /* Paired sampling: an agent's solo and concurrent requests carry the
     * same Ollama options.seed, so a sampling model produces the same
     * response both times and solo vs concurrent compares the same work.
     * A fresh seed per run keeps runs independent samples. */
    long *seeds = pb_mem_alloc((size_t)n * sizeof *seeds);
    for (int i = 0; i < n; i++)
        seeds[i] = p->paired_seed ? (long)gsl_rng_uniform_int(rng, 2147483647UL) : -1;
    gsl_rng_free(rng);
    int has_steps = 0;
    for (int i = 0; i < n; i++)
        has_steps |= cfg->agents[i].n_steps > 0;
    /* Staggered starts need the workflow engine's per-agent timers; plain
     * agents then run there as one-step workflows (solo phases too, so
     * that solo and concurrent pay the same machinery). */
    int use_wf = has_steps || p->arrival != PB_ARRIVAL_TOGETHER;
    double divisor = p->emulate.enabled && p->emulate.time_scale > 0 ? p->emulate.time_scale : 1.0;
    int64_t *offsets = NULL;
    if (p->arrival != PB_ARRIVAL_TOGETHER) {
        /* Offsets in emulated time (divided by the time scale like work
         * steps), from their own stream of the run's seed. Poisson: the
         * first agent opens the phase, the others follow at exponential
         * gaps of mean 1/rate. */
        offsets = calloc((size_t)n, sizeof *offsets);
        gsl_rng *ar = gsl_rng_alloc(gsl_rng_mt19937);
        if (!offsets || !ar)
            PB_MEM_OOM();
        gsl_rng_set(ar, (unsigned long)(seed ^ 0x2545f491UL));
        double t = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0)
                t += p->arrival == PB_ARRIVAL_STAGGER ? p->arrival_param
                                                      : gsl_ran_exponential(ar, 1.0 / p->arrival_param);
            offsets[i] = (int64_t)(t / divisor * 1e9);
        }
        gsl_rng_free(ar);
    }
    /* Work durations: drawn once per run and agent step from their own
     * stream of the run's seed (the phase order's draws stay as they
     * were), and shared by the solo and concurrent phases: paired like
     * the sampling seeds. */
    double **work = use_wf ? calloc((size_t)n, sizeof *work) : NULL;
    if (use_wf) {
        gsl_rng *wr = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(wr, (unsigned long)(seed ^ 0x5bd1e995UL));
        for (int i = 0; i < n; i++) {
            const pb_agent_spec *a = &cfg->agents[i];
            work[i] = pb_mem_calloc((size_t)(a->n_steps > 0 ? a->n_steps : 1), sizeof **work);
            for (int k = 0; k < a->n_steps; k++) {
                const pb_step *st = &a->steps[k];
                if (st->kind != PB_STEP_WORK)
                    continue;
                if (st->sd > 0) {
                    /* mean m and SD s of the lognormal itself:
                     * sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2/2. */
                    double s2 = log1p(st->sd * st->sd / (st->seconds * st->seconds));
                    work[i][k] = gsl_ran_lognormal(wr, log(st->seconds) - s2 / 2, sqrt(s2));
                } else {
                    work[i][k] = st->seconds;
                }
            }
        }
        gsl_rng_free(wr);
    }

    char wall[64];
    uint64_t origin = uv_hrtime();
    pb_time_rfc3339_now(wall, sizeof wall);

    cJSON *phases = cJSON_CreateArray();
    char *invalid = NULL;
    int rc = 0;
    const pb_agent_spec **ags = calloc((size_t)n, sizeof *ags);
    long *sds = calloc((size_t)n, sizeof *sds);
    const double **wk = calloc((size_t)n, sizeof *wk);
    if (!ags || !sds || !wk)
        PB_MEM_OOM();
    /* Every phase is a set of agents' workflows on one engine; a plain
     * agent is a one-step workflow. Only what is recorded differs: the
     * workflow fields (steps, agents, release) when the run has steps or
     * arrival offsets. */
    for (int k = 0; k < nph && rc == 0; k++) {
        char name[512];
        int64_t cpu0[3];
        cpu_now(cpu0);
        pb_host_load host0;
        pb_telemetry_host_load_start(&host0);
        int na = 0, warm = ph[k].kind == PH_WARMUP;
        for (int i = 0; i < n; i++)
            if (ph[k].kind == PH_CONCURRENT || i == ph[k].agent) {
                ags[na] = &cfg->agents[i];
                sds[na] = warm ? -1 : seeds[i];
                wk[na++] = work ? work[i] : NULL;
            }
        if (ph[k].kind == PH_CONCURRENT)
            snprintf(name, sizeof name, "concurrent");
        else if (warm)
            snprintf(name, sizeof name, "warmup:%s", cfg->agents[ph[k].agent].endpoint);
        else
            snprintf(name, sizeof name, "solo:%s", cfg->agents[ph[k].agent].id);
        int wf = use_wf && !warm;
        /* A solo request runs on the runtime's own machinery too, so that
         * solo and concurrent pay the same per-request overhead; a warm-up
         * only loads the model, except a program's (it is its warm-up).
         * "solo": "replay": parbench sends the requests itself, one after
         * another (the bodies the job gives the program). */
        int exec = rt->driver == PB_DRIVER_EXEC;
        int replay = exec && ph[k].kind == PH_SOLO && rt->solo_replay;
        pb_driver_kind dk = replay ? PB_DRIVER_SERIAL : warm && !exec ? PB_DRIVER_UV : rt->driver;
        char stem[sizeof name];
        if (warm)
            snprintf(stem, sizeof stem, "warmup-%d", ph[k].endpoint + 1);
        else
            snprintf(stem, sizeof stem, "%s", name);
        char *colon = strchr(stem, ':');
        if (colon)
            *colon = '-'; /* solo:ID -> solo-ID */
        char run_file[4200], exec_dir[4300];
        pb_run_path(run_file, sizeof run_file, p->out, rt->label, cfg->name, run_index);
        snprintf(exec_dir, sizeof exec_dir, "%.*s.exec", (int)(strlen(run_file) - 5), run_file);
        pb_wf_phase wp = {
            .ctx = c, .rt = rt,
            .driver = dk,
            .origin = origin, .n = na, .agents = ags, .seeds = sds, .work_s = wk,
            .offsets_ns = ph[k].kind == PH_CONCURRENT ? offsets : NULL,
            .work_divisor = divisor,
            /* Warm-ups: a fixed short answer (one per endpoint). Only
             * steps need the answer's text ({{previous}}) kept. */
            .num_predict = warm ? (int)p->warmup_tokens : 0,
            .plain = warm,
            .workflow = wf,
            .keep_text = has_steps && !warm,
            .kind = kind_name(ph[k].kind), .cfg = cfg, .run_index = run_index,
            .exec_dir = exec_dir, .exec_stem = stem,
        };
        /* The concurrent phase's recorded requests (driver_exec.c). */
        cJSON *rp = NULL;
        if (replay) {
            char path[4400], *buf = NULL, e[600];
            size_t len = 0;
            snprintf(path, sizeof path, "%s/concurrent.replay", exec_dir);
            if (pb_fs_read_all(path, 256u << 20, &buf, &len, e, sizeof e) == 0)
                rp = cJSON_ParseWithLength(buf, len);
            free(buf);
            wp.replay = rp;
        }
        const char *replayed =
            replay && cJSON_GetObjectItemCaseSensitive(rp, cfg->agents[ph[k].agent].id) ? "recorded" : "job";
        pb_wf_result wr;
        rc = pb_workflow_run(&wp, &wr, err, errlen);
        cJSON_Delete(rp);
        if (rc == 0) {
            cJSON *pj = cJSON_CreateObject();
            cJSON_AddStringToObject(pj, "name", name);
            cJSON_AddStringToObject(pj, "kind", kind_name(ph[k].kind));
            cJSON_AddNumberToObject(pj, "start_ns", (double)wr.start_ns);
            cJSON_AddNumberToObject(pj, "end_ns", (double)wr.end_ns);
            if (wf)
                cJSON_AddNumberToObject(pj, "release_ns", (double)wr.release_ns);
            cJSON_AddItemToObject(pj, "requests", wr.requests);
            if (wf) {
                cJSON_AddItemToObject(pj, "steps", wr.steps);
                cJSON_AddItemToObject(pj, "agents", wr.agents);
                wr.steps = wr.agents = NULL;
            }
            if (wr.process) {
                cJSON_AddItemToObject(pj, "process", wr.process);
                wr.process = NULL;
            }
            if (replay) {
                cJSON_AddStringToObject(pj, "baseline", "replay");
                cJSON_AddStringToObject(pj, "replayed", replayed);
            }
            add_cpu(pj, cpu0);
            pb_telemetry_host_load_add(pj, &host0);
            wr.requests = NULL;
            cJSON_AddItemToArray(phases, pj);
            /* A failed warm-up does not make the run invalid. */
            if (wr.invalid && !invalid && !warm) {
                invalid = wr.invalid;
                wr.invalid = NULL;
            }
        }
        pb_wf_result_free(&wr);
    }
    free(ags);
    free(sds);
    free(wk);
    free(ph);
    if (rc != 0) {
        cJSON_Delete(phases);
        free(invalid);
        free(seeds);
        for (int i = 0; work && i < n; i++)
            free(work[i]);
        free(work);
        free(offsets);
        return rc;
    }

    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "format", "parbench-trace");
    cJSON_AddNumberToObject(t, "format_version", 1);
    cJSON *tool = cJSON_AddObjectToObject(t, "tool");
    cJSON_AddStringToObject(tool, "name", "parbench-collect");
    cJSON_AddStringToObject(tool, "version", PARBENCH_VERSION);
    cJSON_AddStringToObject(tool, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
    cJSON_AddStringToObject(tool, "libuv", uv_version_string());
    cJSON *r = cJSON_AddObjectToObject(t, "run");
    char key[32], mono[32];
    pb_plan_run_key(p, rt, cfg, run_index, key, sizeof key);
    snprintf(mono, sizeof mono, "%llu", (unsigned long long)origin);
    cJSON_AddStringToObject(r, "runtime", rt->label);
    cJSON_AddStringToObject(r, "config", cfg->name);
    /* N of a count sweep: analyze's scaling section groups by it. */
    cJSON_AddStringToObject(r, "base_config", cfg->base_name ? cfg->base_name : cfg->name);
    cJSON_AddNumberToObject(r, "n_agents", cfg->n_agents);
    cJSON_AddBoolToObject(r, "workflow", has_steps);
    cJSON_AddItemToObject(r, "arrival", pb_arrival_to_json(p->arrival, p->arrival_param));
    if (p->target_ci_pct > 0) {
        /* The stopping rule travels with every run, so analyze can state
         * it (and which runs it added) without the manifest. */
        cJSON *sm = cJSON_AddObjectToObject(r, "sampling");
        cJSON_AddNumberToObject(sm, "target_ci_pct", p->target_ci_pct);
        cJSON_AddNumberToObject(sm, "max_runs", p->max_runs);
        cJSON_AddNumberToObject(sm, "planned_runs", p->runs);
        cJSON_AddBoolToObject(sm, "added", run_index > p->runs);
        cJSON_AddStringToObject(sm, "rule", PB_PRECISION_RULE);
    }
    cJSON_AddNumberToObject(r, "run_index", run_index);
    cJSON_AddStringToObject(r, "plan_hash", c->plan_hash);
    cJSON_AddStringToObject(r, "run_key", key);
    cJSON_AddStringToObject(r, "host", c->host ? c->host : "");
    char cpus[256];
    pb_cpus_current(cpus, sizeof cpus);
    cJSON_AddStringToObject(r, "collector_cpus", cpus);
    cJSON_AddStringToObject(r, "wall_origin", wall);
    cJSON_AddStringToObject(r, "mono_origin_ns", mono);
    cJSON_AddNumberToObject(r, "seed", (double)seed);
    cJSON_AddNumberToObject(r, "chunk_bytes", (double)rt->chunk_bytes);
    cJSON_AddBoolToObject(r, "connection_reuse", p->reuse_connections);
    cJSON_AddBoolToObject(r, "valid", invalid == NULL);
    cJSON_AddItemToObject(r, "invalid_reason", invalid ? cJSON_CreateString(invalid) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, "emulator", c->emulator ? cJSON_Duplicate(c->emulator, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(t, "agents", agents_json(c, cfg, seeds, work));
    cJSON_AddItemToObject(t, "phases", phases);
    /* Who answered at each endpoint (added compatibly in format v1). */
    cJSON_AddItemToObject(t, "servers", c->servers ? cJSON_Duplicate(c->servers, 1)
                                                   : cJSON_CreateArray());
    free(invalid);
    free(seeds);
    for (int i = 0; work && i < n; i++)
        free(work[i]);
    free(work);
    free(offsets);
    *trace = t;
    return 0;
}

void pb_run_path(char *buf, size_t len, const char *out, const char *runtime,
                 const char *config, int k)
{
    size_t ol = strlen(out);
    while (ol > 1 && out[ol - 1] == '/')
        ol--;
    snprintf(buf, len, "%.*s/%s/%s/run_%d.json", (int)ol, out, runtime, config, k);
}

/* Replaces every invalid UTF-8 sequence in the strings (keys and values) of
 * a tree with U+FFFD; returns how many strings were repaired. */
static size_t repair_utf8(cJSON *j)
{
    size_t n = 0;
    for (; j; j = j->next) {
        if (j->string && !pb_text_utf8_valid(j->string, strlen(j->string))) {
            char *r = pb_text_utf8_repair(j->string, strlen(j->string), NULL);
            char *k = r && !(j->type & cJSON_StringIsConst) ? cJSON_malloc(strlen(r) + 1) : NULL;
            if (k) { /* out of memory: the key stays as it was */
                strcpy(k, r);
                cJSON_free(j->string);
                j->string = k;
                n++;
            }
            free(r);
        }
        if (cJSON_IsString(j) && j->valuestring &&
            !pb_text_utf8_valid(j->valuestring, strlen(j->valuestring))) {
            char *r = pb_text_utf8_repair(j->valuestring, strlen(j->valuestring), NULL);
            if (r && cJSON_SetValuestring(j, r))
                n++;
            free(r);
        }
        n += repair_utf8(j->child);
    }
    return n;
}

/* Writes j as cJSON_PrintUnformatted would, byte for byte, but containers
 * down to `depth` levels are written member by member: a run's trace (128
 * agents x 400 chunks: ~1.5 MB of text) never exists as one string next
 * to its tree. */
static int emit_json(pb_fs_out *o, const cJSON *j, int depth)
{
    if (depth <= 0 || !(cJSON_IsObject(j) || cJSON_IsArray(j))) {
        char *s = cJSON_PrintUnformatted(j);
        if (!s)
            return -1;
        int rc = pb_fs_out_write(o, s, strlen(s));
        cJSON_free(s);
        return rc;
    }
    int obj = cJSON_IsObject(j);
    if (pb_fs_out_write(o, obj ? "{" : "[", 1) != 0)
        return -1;
    for (const cJSON *c = j->child; c; c = c->next) {
        if (c != j->child && pb_fs_out_write(o, ",", 1) != 0)
            return -1;
        if (obj) {
            /* The key, escaped as cJSON escapes it. */
            cJSON *k = cJSON_CreateStringReference(c->string ? c->string : "");
            char *ks = k ? cJSON_PrintUnformatted(k) : NULL;
            cJSON_Delete(k);
            if (!ks)
                return -1;
            int rc = pb_fs_out_write(o, ks, strlen(ks));
            cJSON_free(ks);
            if (rc != 0 || pb_fs_out_write(o, ":", 1) != 0)
                return -1;
        }
        if (emit_json(o, c, depth - 1) != 0)
            return -1;
    }
    return pb_fs_out_write(o, obj ? "}" : "]", 1);
}

static int emit_trace(pb_fs_out *o, void *ud)
{
    /* trace > phases > phase > requests > request: each request is one
     * piece. A failed piece is out of memory (a failed write is recorded
     * by pb_fs_out_write itself). */
    if (emit_json(o, ud, 4) != 0)
        return -1;
    return pb_fs_out_write(o, "\n", 1); /* the file ends with a newline */
}

int pb_run_trace_write(const char *path, cJSON *trace, char *err, size_t errlen)
{
    /* A server's raw bytes (an error body, the final line) must not make
     * the file unreadable to strict JSON readers such as Python's: repair
     * them and say so in the run. */
    size_t repaired = repair_utf8(trace->child);
    if (repaired) {
        cJSON *run = cJSON_GetObjectItemCaseSensitive(trace, "run");
        cJSON *at = cJSON_IsObject(run) ? run : trace;
        cJSON_DeleteItemFromObjectCaseSensitive(at, "text_repaired");
        cJSON_AddNumberToObject(at, "text_repaired", (double)repaired);
    }
    return pb_fs_write_atomic_with(path, emit_trace, trace, err, errlen);
}

pb_existing pb_run_check_file(const char *path, const char *run_key, char *why, size_t whylen)
{
    if (access(path, F_OK) != 0)
        return PB_EXIST_ABSENT;
    char *buf = NULL;
    size_t len = 0;
    char e[512];
    if (pb_fs_read_all(path, 1u << 30, &buf, &len, e, sizeof e) != 0) {
        snprintf(why, whylen, "%s", e);
        return PB_EXIST_UNREADABLE;
    }
    cJSON *j = cJSON_ParseWithLength(buf, len);
    free(buf);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "format");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "run");
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(j, "phases");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "valid");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "run_key");
    pb_existing res;
    if (!cJSON_IsString(f) || strcmp(f->valuestring, "parbench-trace") != 0 ||
        !cJSON_IsArray(ph) || !cJSON_IsBool(v)) {
        snprintf(why, whylen, "not a complete parbench trace");
        res = PB_EXIST_UNREADABLE;
    } else if (!cJSON_IsString(k) || strcmp(k->valuestring, run_key) != 0) {
        snprintf(why, whylen, "written by another plan (run_key %s, expected %s)",
                 cJSON_IsString(k) ? k->valuestring : "none", run_key);
        res = PB_EXIST_FOREIGN;
    } else {
        res = cJSON_IsTrue(v) ? PB_EXIST_VALID : PB_EXIST_INVALID;
        why[0] = '\0';
    }
    cJSON_Delete(j);
    return res;
}
