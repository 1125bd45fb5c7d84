/* plan: JSON plan parsing, flag overrides and expansion. See plan.h and
 * README.md (section "Plan files") for the schema. */
#include "plan.h"
#include "exec_cmd.h"
#include "exec_listen.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "pb_fs.h"
#include "pb_hash.h"
#include "precision.h"
#include "pb_text.h"
#include "pb_mem.h"

#define PLAN_MAX_BYTES (64u << 20)
#define PLAN_MAX_AGENTS 4096
/* Same cap as --chunk-bytes: a batch larger than this is a typo, and the
 * parser would allocate it. */
#define PLAN_MAX_CHUNK (1L << 24)

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void pb_overrides_init(pb_overrides *o)
{
    memset(o, 0, sizeof *o);
    o->runs = -1;
    o->timeout_s = -1;
    o->chunk_bytes = -1;
    o->reuse_connections = -1;
    o->emulate = o->emulate_ideal = o->emulate_shared_gpu = -1;
    o->time_scale = -1;
    o->emulate_parallel = -1;
    o->target_ci_pct = -1;
    o->max_runs = -1;
    o->stagger_s = -1;
    o->rate_per_s = -1;
}

int pb_runtime_parse(pb_runtime *r, const char *label, long default_chunk,
                     char *err, size_t errlen)
{
    static const struct { const char *name; pb_driver_kind kind; } drivers[] = {
        {"uv", PB_DRIVER_UV}, {"threads", PB_DRIVER_THREADS},
        {"serial", PB_DRIVER_SERIAL}};
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        size_t n = strlen(drivers[i].name);
        if (strncmp(label, drivers[i].name, n) != 0)
            continue;
        const char *rest = label + n;
        long chunk = default_chunk;
        if (*rest == '-') {
            char *end;
            errno = 0;
            long v = strtol(rest + 1, &end, 10);
            if (v < 0 || end == rest + 1 || (strcmp(end, "kb") != 0 && strcmp(end, "b") != 0))
                continue;
            /* Bound before multiplying: "kb" of a huge number overflows. */
            long unit = strcmp(end, "kb") == 0 ? 1024 : 1;
            if (errno == ERANGE || v > PLAN_MAX_CHUNK / unit)
                return fail(err, errlen,
                            "runtime '%s': the chunk suffix must be at most %ld bytes "
                            "(%ldkb), like --chunk-bytes", label, PLAN_MAX_CHUNK,
                            PLAN_MAX_CHUNK / 1024);
            chunk = v * unit;
        } else if (*rest != '\0') {
            continue;
        }
        r->driver = drivers[i].kind;
        r->chunk_bytes = chunk;
        if (*rest == '\0' && chunk > 0) {
            /* The label must say that delivery is batched. */
            char buf[64];
            if (chunk % 1024 == 0)
                snprintf(buf, sizeof buf, "%s-%ldkb", drivers[i].name, chunk / 1024);
            else
                snprintf(buf, sizeof buf, "%s-%ldb", drivers[i].name, chunk);
            r->label = pb_mem_strdup(buf);
        } else {
            r->label = pb_mem_strdup(label);
        }
        char why[128];
        if (pb_text_label_check(r->label, why, sizeof why) != 0) {
            /* Unreachable for labels built above; kept so a future driver
             * name cannot become an unsafe directory. */
            int rc = fail(err, errlen, "runtime '%s' %s", r->label, why);
            free(r->label);
            r->label = NULL;
            return rc;
        }
        return 0;
    }
    return fail(err, errlen,
                "unknown runtime '%s': use uv, threads or serial, optionally "
                "with a chunk suffix such as uv-1kb or threads-512b", label);
}

static void runtime_free(pb_runtime *r)
{
    free(r->label);
    pb_exec_argv_free(r->exec_argv);
}

static void agent_free(pb_agent_spec *a)
{
    free(a->id);
    free(a->endpoint);
    free(a->model);
    free(a->api);
    free(a->prompt);
    cJSON_Delete(a->options);
    cJSON_Delete(a->headers);
    pb_steps_free(a->steps, a->n_steps);
}

void pb_plan_free(pb_plan *p)
{
    free(p->name);
    free(p->out);
    for (int i = 0; i < p->n_endpoints; i++) {
        free(p->endpoints[i]);
        if (p->exec_listen)
            free(p->exec_listen[i]);
    }
    free(p->endpoints);
    free(p->exec_listen);
    for (int c = 0; c < p->n_configs; c++) {
        for (int a = 0; a < p->configs[c].n_agents; a++)
            agent_free(&p->configs[c].agents[a]);
        free(p->configs[c].agents);
        free(p->configs[c].name);
        free(p->configs[c].base_name);
        cJSON_Delete(p->configs[c].server_env);
    }
    free(p->configs);
    for (int i = 0; i < p->n_runtimes; i++)
        runtime_free(&p->runtimes[i]);
    free(p->runtimes);
    free(p->emulate.trace);
    free(p->proxy);
    cJSON_Delete(p->emulate.faults);
    for (int i = 0; i < p->emulate.n_models; i++)
        free(p->emulate.models[i]);
    free(p->emulate.models);
    for (int i = 0; i < p->n_servers; i++)
        pb_server_spec_free(&p->servers[i]);
    free(p->servers);
    memset(p, 0, sizeof *p);
}

/* --- the keys each plan object may have ---
 *
 * A key that is not in its object's table is refused: a typo such as
 * "run": 3 would otherwise run once without a word. To add a plan key, add
 * it to its table here (and to README's "Plan files"). */
#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
static const char *const *const plan_root_keys =
    KEYS("name", "out", "runs", "seed", "timeout_s", "chunk_bytes", "warmup_tokens",
         "warmup", "solo", "paired_seed", "reuse_connections", "emulate", "runtimes",
         "model", "api", "agents", "configs", "arrival", "max_runs", "target_ci_pct",
         "servers", "exec_listen");
static const char *const *const plan_emulate_keys =
    KEYS("enabled", "ideal", "time_scale", "num_parallel", "trace", "shared_gpu", "faults",
         "models");
static const char *const *const plan_agent_keys =
    KEYS("id", "model", "api", "prompt", "prompt_file", "count", "endpoint", "options",
         "headers", "steps");
static const char *const *const plan_config_keys = KEYS("name", "options", "agents", "server_env");

static int check_keys(const cJSON *o, const char *const *known, const char *where,
                      char *err, size_t errlen)
{
    size_t n = 0;
    while (known[n])
        n++;
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        int ok = 0;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(it->string, known[i]) == 0;
        if (ok)
            continue;
        const char *near = pb_text_nearest(it->string, known, n);
        char q[300];
        pb_text_quote(it->string, q, sizeof q);
        if (near)
            return fail(err, errlen, "%s: unknown key \"%s\"; did you mean \"%s\"?",
                        where, q, near);
        return fail(err, errlen, "%s: unknown key \"%s\" (known keys are listed in "
                    "collector/README.md, \"Plan files\")", where, q);
    }
    return 0;
}

/* --- small typed getters that name the offending key on error --- */

static int get_bool(const cJSON *o, const char *key, int *out, const char *origin,
                    char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return fail(err, errlen, "%s: \"%s\" must be true or false", origin, key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_num(const cJSON *o, const char *key, double *out, double lo,
                   double hi, const char *origin, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
        return fail(err, errlen, "%s: \"%s\" must be a number in [%g, %g]",
                    origin, key, lo, hi);
    *out = v->valuedouble;
    return 0;
}

static int get_str(const cJSON *o, const char *key, const char **out,
                   const char *origin, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(err, errlen, "%s: \"%s\" must be a string", origin, key);
    /* Names, models, paths and URLs reach the terminal in collect's
     * messages: no control characters (ESC would drive the terminal), C1
     * included. A prompt is text sent to the model: newlines allowed. */
    if (strcmp(key, "prompt") != 0)
        for (const unsigned char *c = (const unsigned char *)v->valuestring; *c; c++)
            if (*c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)) {
                char q[128];
                return fail(err, errlen, "%s: \"%s\" holds a control character (%s); "
                            "remove it", origin, key, pb_text_quote(v->valuestring, q, sizeof q));
            }
    *out = v->valuestring;
    return 0;
}

static int endpoint_index(pb_plan *p, const char *url)
{
    for (int i = 0; i < p->n_endpoints; i++)
        if (strcmp(p->endpoints[i], url) == 0)
            return i;
    p->endpoints = pb_mem_realloc(p->endpoints, sizeof(char *) * (p->n_endpoints + 1));
    p->endpoints[p->n_endpoints] = pb_mem_strdup(url);
    return p->n_endpoints++;
}

/* Base agents before configs are applied; `count` replicates an agent. */
typedef struct base_agent {
    char *id, *group, *endpoint, *model, *api, *prompt;
    cJSON *options, *headers;
    int n_steps;
    pb_step *steps;     /* options as the plan wrote them (merged later) */
} base_agent;

static void base_free(base_agent *b, int n)
{
    for (int i = 0; i < n; i++) {
        free(b[i].id);
        free(b[i].group);
        free(b[i].endpoint);
        free(b[i].model);
        free(b[i].api);
        free(b[i].prompt);
        cJSON_Delete(b[i].options);
        cJSON_Delete(b[i].headers);
        pb_steps_free(b[i].steps, b[i].n_steps);
    }
    free(b);
}

static char *read_prompt_file(const char *base_dir, const char *file,
                              char *err, size_t errlen)
{
    char path[4096];
    if (file[0] == '/' || !base_dir)
        snprintf(path, sizeof path, "%s", file);
    else
        snprintf(path, sizeof path, "%s/%s", base_dir, file);
    char *buf = NULL;
    size_t len = 0;
    char e[512];
    if (pb_fs_read_all(path, 16u << 20, &buf, &len, e, sizeof e) != 0) {
        fail(err, errlen, "cannot read prompt_file: %s", e);
        return NULL;
    }
    return buf;
}

/* counted: index of the agent whose count a count sweep sets, and count_n
 * that count (count_n 0: every agent's own "count", which must be a
 * number). */
static int parse_agents(const cJSON *root, const char *origin, const char *base_dir,
                        const char *force_api, int counted, int count_n,
                        base_agent **out, int *n_out, char *err, size_t errlen)
{
    const char *dmodel = "gemma3:latest", *dapi = "generate";
    if (get_str(root, "model", &dmodel, origin, err, errlen) ||
        get_str(root, "api", &dapi, origin, err, errlen))
        return -1;
    const cJSON *agents = cJSON_GetObjectItemCaseSensitive(root, "agents");
    if (!cJSON_IsArray(agents) || cJSON_GetArraySize(agents) == 0)
        return fail(err, errlen, "%s: \"agents\" must be a non-empty array", origin);
    base_agent *b = NULL;
    int n = 0, idx = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, agents) {
        char where[600];
        snprintf(where, sizeof where, "%s: agents[%d]", origin, idx++);
        if (!cJSON_IsObject(a)) {
            base_free(b, n);
            return fail(err, errlen, "%s must be an object", where);
        }
        const char *id = NULL, *model = dmodel, *api = dapi, *prompt = NULL,
                   *pfile = NULL;
        double count = 1;
        if (check_keys(a, plan_agent_keys, where, err, errlen) ||
            get_str(a, "id", &id, where, err, errlen) ||
            get_str(a, "model", &model, where, err, errlen) ||
            get_str(a, "api", &api, where, err, errlen) ||
            get_str(a, "prompt", &prompt, where, err, errlen) ||
            get_str(a, "prompt_file", &pfile, where, err, errlen) ||
            (!(count_n > 0 && idx - 1 == counted) &&
             get_num(a, "count", &count, 1, PLAN_MAX_AGENTS, where, err, errlen))) {
            base_free(b, n);
            return -1;
        }
        if (count_n > 0 && idx - 1 == counted)
            count = count_n;
        char why[128];
        if (!id || !*id) {
            base_free(b, n);
            return fail(err, errlen, "%s: \"id\" is required (no spaces, quotes or '/')", where);
        }
        if (pb_text_label_check(id, why, sizeof why) != 0) {
            /* Ids name report rows and request headers: the path rules fit. */
            base_free(b, n);
            return fail(err, errlen, "%s: \"id\" %s; use letters, digits, '-' or '_'", where, why);
        }
        /* --api sets every agent's dialect; aliases are stored resolved. */
        const pb_dialect *dl = pb_dialect_find(force_api ? force_api : api);
        if (!dl) {
            base_free(b, n);
            if (force_api)
                return fail(err, errlen, "--api %s: use one of %s (or openai, ollama)",
                            force_api, pb_dialect_names());
            return fail(err, errlen, "%s: \"api\" \"%s\" is not one of %s (or openai, ollama)",
                        where, api, pb_dialect_names());
        }
        api = dl->name;
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(a, "steps");
        if ((prompt != NULL) + (pfile != NULL) + (steps != NULL) != 1) {
            base_free(b, n);
            return fail(err, errlen, "%s: give exactly one of \"prompt\", \"prompt_file\" and \"steps\"", where);
        }
        pb_step *st = NULL;
        int n_st = 0;
        if (steps && pb_steps_parse(steps, where, base_dir, &st, &n_st, err, errlen) != 0) {
            base_free(b, n);
            return -1;
        }
        /* A step's own api is resolved like the agent's; --api sets every
         * step's too. */
        for (int k = 0; k < n_st; k++) {
            if (st[k].kind != PB_STEP_LLM || (!st[k].api && !force_api))
                continue;
            const pb_dialect *sd = pb_dialect_find(force_api ? force_api : st[k].api);
            if (!sd) {
                int rc = fail(err, errlen, "%s.steps[%d].llm: \"api\" \"%s\" is not one of %s "
                              "(or openai, ollama)", where, k, st[k].api, pb_dialect_names());
                pb_steps_free(st, n_st);
                base_free(b, n);
                return rc;
            }
            free(st[k].api);
            st[k].api = pb_mem_strdup(sd->name);
        }
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(a, "endpoint");
        int n_ep = cJSON_IsArray(ep) ? cJSON_GetArraySize(ep) : 1;
        if (!(cJSON_IsString(ep) || (cJSON_IsArray(ep) && n_ep > 0))) {
            base_free(b, n);
            return fail(err, errlen, "%s: \"endpoint\" must be a URL or an array of URLs "
                        "(e.g. \"http://127.0.0.1:11434\")", where);
        }
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(a, "options");
        const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(a, "headers");
        if ((opts && !cJSON_IsObject(opts)) || (hdrs && !cJSON_IsObject(hdrs))) {
            base_free(b, n);
            return fail(err, errlen, "%s: \"options\" and \"headers\" must be objects", where);
        }
        const cJSON *h;
        cJSON_ArrayForEach(h, hdrs) {
            if (!pb_text_http_token_ok(h->string)) {
                /* A name with ':' or CRLF would inject a header of its own. */
                char q[300];
                pb_text_quote(h->string, q, sizeof q);
                base_free(b, n);
                return fail(err, errlen, "%s: header name \"%s\" is not an HTTP token "
                            "(letters, digits and !#$%%&'*+-.^_`|~ only, e.g. \"X-Trace-Id\")",
                            where, q);
            }
            if (!cJSON_IsString(h) || strpbrk(h->valuestring, "\r\n")) {
                base_free(b, n);
                return fail(err, errlen, "%s: header \"%s\" must be a one-line string", where, h->string);
            }
        }
        char *ptext = st ? pb_mem_strdup(st[pb_steps_first_llm(st, n_st)].prompt)
                    : pfile ? read_prompt_file(base_dir, pfile, err, errlen) : pb_mem_strdup(prompt);
        if (!ptext) {
            base_free(b, n);
            return -1;
        }
        int c = (int)count;
        if (n + c > PLAN_MAX_AGENTS) {
            free(ptext);
            pb_steps_free(st, n_st);
            base_free(b, n);
            return fail(err, errlen, "%s: more than %d agents", where, PLAN_MAX_AGENTS);
        }
        b = pb_mem_realloc(b, sizeof *b * (n + c));
        for (int k = 0; k < c; k++) {
            base_agent *x = &b[n++];
            memset(x, 0, sizeof *x);
            char idbuf[300];
            if (c > 1)
                snprintf(idbuf, sizeof idbuf, "%s-%d", id, k + 1);
            else
                snprintf(idbuf, sizeof idbuf, "%s", id);
            x->id = pb_mem_strdup(idbuf);
            x->group = pb_mem_strdup(id);
            const cJSON *e = cJSON_IsArray(ep) ? cJSON_GetArrayItem(ep, k % n_ep) : ep;
            /* "server:NAME" is checked against "servers" once the plan is read. */
            if (!cJSON_IsString(e) || (strncmp(e->valuestring, "http://", 7) != 0 &&
                                       !pb_server_ref(e->valuestring))) {
                free(ptext);
                pb_steps_free(st, n_st);
                base_free(b, n);
                return fail(err, errlen, "%s: endpoint must be an http:// URL or "
                            "\"server:NAME\" (a server in \"servers\")", where);
            }
            /* Normalise: no trailing slash, so "/api/..." can be appended. */
            x->endpoint = pb_mem_strdup(e->valuestring);
            size_t el = strlen(x->endpoint);
            while (el > 7 && x->endpoint[el - 1] == '/')
                x->endpoint[--el] = '\0';
            x->model = pb_mem_strdup(model);
            x->api = pb_mem_strdup(api);
            x->prompt = pb_mem_strdup(ptext);
            x->options = opts ? cJSON_Duplicate(opts, 1) : cJSON_CreateObject();
            x->headers = hdrs ? cJSON_Duplicate(hdrs, 1) : cJSON_CreateObject();
            if (st) {
                x->steps = pb_steps_build(st, n_st, NULL, NULL, NULL, 0);
                x->n_steps = n_st;
                /* build_steps() merges the agent's options in per config. */
            }
        }
        pb_steps_free(st, n_st);
        free(ptext);
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(b[i].id, b[j].id) == 0) {
                int rc = fail(err, errlen, "%s: agent id \"%s\" is used twice", origin, b[i].id);
                base_free(b, n);
                return rc;
            }
    *out = b;
    *n_out = n;
    return 0;
}

/* Copies every key of src over dst (replacing equal keys). */
static void merge_options(cJSON *dst, const cJSON *src)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
        cJSON_AddItemToObject(dst, it->string, cJSON_Duplicate(it, 1));
    }
}

static int build_config(pb_plan *p, pb_config *cfg, const char *name,
                        int sweep_n, const cJSON *c, const base_agent *b, int nb,
                        const char *where, char *err, size_t errlen)
{
    const cJSON *opts = c ? cJSON_GetObjectItemCaseSensitive(c, "options") : NULL;
    const cJSON *per = c ? cJSON_GetObjectItemCaseSensitive(c, "agents") : NULL;
    if ((opts && !cJSON_IsObject(opts)) || (per && !cJSON_IsObject(per)))
        return fail(err, errlen, "%s: \"options\" and \"agents\" must be objects", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, per) {
        int found = 0;
        for (int i = 0; i < nb && !found; i++)
            found = strcmp(b[i].group, it->string) == 0 || strcmp(b[i].id, it->string) == 0;
        char q[300];
        if (!found || !cJSON_IsObject(it))
            return fail(err, errlen, "%s: \"agents\" names unknown agent \"%s\" (or its value is not an object)",
                        where, pb_text_quote(it->string, q, sizeof q));
    }
    if (sweep_n > 0) {
        char nb_name[600];
        snprintf(nb_name, sizeof nb_name, "%s-n%d", name, sweep_n);
        cfg->name = pb_mem_strdup(nb_name);
    } else {
        cfg->name = pb_mem_strdup(name);
    }
    cfg->base_name = pb_mem_strdup(name);
    cfg->sweep_n = sweep_n;
    const cJSON *senv = c ? cJSON_GetObjectItemCaseSensitive(c, "server_env") : NULL;
    if (senv && !(cfg->server_env = pb_server_env_parse(senv, where, err, errlen)))
        return -1;
    cfg->n_agents = nb;
    cfg->agents = pb_mem_calloc(nb, sizeof *cfg->agents);
    for (int i = 0; i < nb; i++) {
        pb_agent_spec *a = &cfg->agents[i];
        a->id = pb_mem_strdup(b[i].id);
        a->endpoint = pb_mem_strdup(b[i].endpoint);
        a->endpoint_index = endpoint_index(p, b[i].endpoint);
        a->model = pb_mem_strdup(b[i].model);
        a->api = pb_mem_strdup(b[i].api);
        a->prompt = pb_mem_strdup(b[i].prompt);
        a->options = cJSON_Duplicate(b[i].options, 1);
        a->headers = cJSON_Duplicate(b[i].headers, 1);
        if (opts)
            merge_options(a->options, opts);
        const cJSON *g = per ? cJSON_GetObjectItemCaseSensitive(per, b[i].group) : NULL;
        if (g)
            merge_options(a->options, g);
        const cJSON *s = per && strcmp(b[i].group, b[i].id) != 0
                             ? cJSON_GetObjectItemCaseSensitive(per, b[i].id) : NULL;
        if (s)
            merge_options(a->options, s);
        if (b[i].n_steps > 0) {
            /* Each llm step: agent options, step options, then the config's
             * (the same precedence as for a single-request agent). */
            const cJSON *ov[3] = {opts, g, s};
            a->steps = pb_steps_build(b[i].steps, b[i].n_steps, b[i].options,
                                      b[i].headers, ov, 3);
            a->n_steps = b[i].n_steps;
            for (int k = 0; k < a->n_steps; k++)
                if (a->steps[k].kind == PB_STEP_LLM && !a->steps[k].api)
                    a->steps[k].api = pb_mem_strdup(b[i].api);
            const pb_step *f = &a->steps[pb_steps_first_llm(a->steps, a->n_steps)];
            cJSON_Delete(a->options);
            a->options = cJSON_Duplicate(f->options, 1);
            free(a->api);
            a->api = pb_mem_strdup(f->api);
        }
        /* Options the agent's API cannot carry are refused here, before
         * anything is measured, rather than dropped from the request
         * (every llm step of a workflow agent with its own API). */
        char why[600];
        int bad = pb_dialect_find(a->api)->check_options(a->options, why, sizeof why) != 0;
        const char *bad_api = a->api;
        for (int k = 0; !bad && k < a->n_steps; k++)
            if (a->steps[k].kind == PB_STEP_LLM &&
                pb_dialect_find(a->steps[k].api)->check_options(a->steps[k].options, why,
                                                                sizeof why) != 0) {
                bad = 1;
                bad_api = a->steps[k].api;
            }
        if (bad) {
            fail(err, errlen, "%s: agent %s (api %s): %s", where, a->id, bad_api, why);
            /* Not yet counted in the plan: pb_plan_free would miss it. */
            for (int k = 0; k <= i; k++)
                agent_free(&cfg->agents[k]);
            free(cfg->agents);
            free(cfg->name);
            free(cfg->base_name);
            memset(cfg, 0, sizeof *cfg);
            return -1;
        }
    }
    return 0;
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = list; s && *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && strncmp(s, name, n) == 0)
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

/* A count sweep: the agent counts (from --agents, else an agent's
 * "count": [..]) and which agent they replicate. --agents picks the one
 * agent with a "count", else the plan's only agent. n = 0: no sweep. */
static int plan_counts(const cJSON *root, const pb_overrides *o, const char *origin,
                       int *counted, int *counts, int *n, char *err, size_t errlen)
{
    *n = 0;
    *counted = -1;
    const cJSON *agents = cJSON_GetObjectItemCaseSensitive(root, "agents");
    int idx = 0, n_with = 0, with = -1;
    const cJSON *a;
    cJSON_ArrayForEach(a, agents) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "count");
        if (c) {
            n_with++;
            if (with < 0 || cJSON_IsArray(c))
                with = idx;
        }
        if (cJSON_IsArray(c)) {
            char where[600];
            snprintf(where, sizeof where, "%s: agents[%d]", origin, idx);
            if (*n > 0)
                return fail(err, errlen, "%s: only one agent may have a list of counts", where);
            if (pb_counts_from_json(c, counts, n, PLAN_MAX_AGENTS, where, err, errlen) != 0)
                return -1;
            *counted = idx;
        }
        idx++;
    }
    if (o && o->agents) {
        if (pb_counts_parse(o->agents, counts, n, PLAN_MAX_AGENTS, err, errlen) != 0)
            return -1;
        if (*counted < 0) {
            if (n_with > 1)
                return fail(err, errlen, "--agents: %s has %d agents with \"count\"; give the "
                            "list in the plan instead (\"count\": [1, 2, 4])", origin, n_with);
            if (n_with == 0 && idx != 1)
                return fail(err, errlen, "--agents: %s has %d agents and none with \"count\"; "
                            "mark the one to replicate with \"count\"", origin, idx);
            *counted = n_with ? with : 0;
        }
    }
    return 0;
}

/* An exec runtime's definition: from the plan's "runtimes" object or a
 * --exec flag (which wins). */
typedef struct exec_def {
    const char *name;
    char **argv;             /* owned */
    int solo_replay;
} exec_def;

static int exec_def_check(exec_def *d, const char *where, char *err, size_t errlen)
{
    char why[128], e[600];
    if (pb_text_label_check(d->name, why, sizeof why) != 0)
        return fail(err, errlen, "%s: runtime name \"%s\" %s", where, d->name, why);
    /* {parbench}: the source tree's reference agents, from any cwd. */
    for (int i = 0; d->argv[i]; i++) {
        char *w = pb_exec_expand_root(d->argv[i], e, sizeof e);
        if (!w)
            return fail(err, errlen, "%s: runtime \"%s\": %s", where, d->name, e);
        free(d->argv[i]);
        d->argv[i] = w;
    }
    return 0;
}

/* A program that is missing is found now, before any run is measured:
 * an error, or with --skip-missing-exec a warning and the runtime left
 * out. 1 = left out. */
static int exec_def_present(const exec_def *d, const char *where, int skip, char *err, size_t errlen)
{
    char path[4096], e[600];
    if (pb_exec_resolve(d->argv[0], path, sizeof path, e, sizeof e) == 0)
        return 0;
    /* One of the reference agents (agents/rust/...): say how to build them. */
    int ours = strstr(d->argv[0], "agents/rust/target/") != NULL;
    const char *hint = ours ? "; the reference agents are built by scripts/agents-build.sh "
                              "(Rust: Debian's cargo and librust-*-dev, agents/README.md)" : "";
    if (skip) {
        fprintf(stderr, "collect: warning: runtime \"%s\" left out (--skip-missing-exec): %s%s\n",
                d->name, e, hint);
        return 1;
    }
    return fail(err, errlen, "%s: runtime \"%s\": %s%s (or leave such runtimes out: "
                "--skip-missing-exec)", where, d->name, e, hint);
}

static exec_def *exec_find(exec_def *defs, int n, const char *name)
{
    for (int i = n - 1; i >= 0; i--) /* the last definition wins */
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

static int parse_runtimes(pb_plan *p, const cJSON *root, const pb_overrides *o,
                          const char *origin, char *err, size_t errlen)
{
    const char *labels[64];
    char listbuf[1024];
    int n = 0, rc = 0;
    exec_def defs[64];
    int nd = 0;
    const cJSON *rts = cJSON_GetObjectItemCaseSensitive(root, "runtimes");
    if (cJSON_IsObject(rts)) {
        /* {"uv": {}, "tokio": {"exec": [argv...], "solo": "replay"}} */
        const cJSON *r;
        cJSON_ArrayForEach(r, rts) {
            if (!cJSON_IsObject(r))
                return fail(err, errlen, "%s: runtimes.%s must be an object ({} for a built-in runtime, "
                            "{\"exec\": [\"program\", \"arg\"...]} for a program)", origin, r->string);
            const cJSON *ex = cJSON_GetObjectItemCaseSensitive(r, "exec");
            const cJSON *solo = cJSON_GetObjectItemCaseSensitive(r, "solo");
            const cJSON *it;
            cJSON_ArrayForEach(it, r) {
                if (strcmp(it->string, "exec") != 0 && strcmp(it->string, "solo") != 0)
                    return fail(err, errlen, "%s: runtimes.%s: unknown key \"%s\" (known: exec, solo)",
                                origin, r->string, it->string);
            }
            if (solo && !(cJSON_IsString(solo) && (strcmp(solo->valuestring, "replay") == 0 ||
                                                   strcmp(solo->valuestring, "own") == 0)))
                return fail(err, errlen, "%s: runtimes.%s.solo must be \"replay\" or \"own\"", origin, r->string);
            if (ex) {
                int ok = cJSON_IsArray(ex) && cJSON_GetArraySize(ex) > 0 && nd < 64;
                cJSON_ArrayForEach(it, ex) ok = ok && cJSON_IsString(it) && it->valuestring[0];
                if (!ok)
                    return fail(err, errlen, "%s: runtimes.%s.exec must be a non-empty array of "
                                "non-empty strings: the program and its arguments", origin, r->string);
                char **argv = pb_mem_calloc((size_t)cJSON_GetArraySize(ex) + 1, sizeof *argv);
                int k = 0;
                cJSON_ArrayForEach(it, ex) argv[k++] = pb_mem_strdup(it->valuestring);
                defs[nd++] = (exec_def){r->string, argv,
                                        solo && strcmp(solo->valuestring, "replay") == 0};
            } else if (solo) {
                return fail(err, errlen, "%s: runtimes.%s: \"solo\" is for exec runtimes", origin, r->string);
            }
            if (n < 64)
                labels[n++] = r->string;
        }
    }
    int nd_plan = nd;
    for (int i = 0; o && i < o->n_execs && rc == 0; i++) {
        /* NAME=COMMAND */
        const char *eq = strchr(o->execs[i], '=');
        char name[128], e[600];
        if (!eq || eq == o->execs[i] || (size_t)(eq - o->execs[i]) >= sizeof name || nd >= 64) {
            rc = fail(err, errlen, "--exec %s: give NAME=COMMAND, e.g. --exec tokio='pb-agent --runtime tokio'",
                      o->execs[i]);
            break;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->execs[i]), o->execs[i]);
        char **argv = pb_exec_split(eq + 1, e, sizeof e);
        if (!argv) {
            rc = fail(err, errlen, "--exec %s: %s", name, e);
            break;
        }
        exec_def *old = exec_find(defs, nd, name);
        defs[nd] = (exec_def){pb_mem_strdup(name), argv, old ? old->solo_replay : 0};
        nd++;
    }
    for (int i = 0; i < nd && rc == 0; i++)
        rc = exec_def_check(&defs[i], i >= nd_plan ? "--exec" : origin, err, errlen);
    int skip = o && o->skip_missing_exec;
    if (rc == 0 && o && o->runtimes) {
        snprintf(listbuf, sizeof listbuf, "%s", o->runtimes);
        n = 0;
        for (char *save, *t = strtok_r(listbuf, ",", &save); t && n < 64;
             t = strtok_r(NULL, ",", &save))
            labels[n++] = t;
        if (n == 0)
            rc = fail(err, errlen, "--runtime: empty list (use e.g. uv,threads,serial)");
    } else if (rc == 0 && !cJSON_IsObject(rts)) {
        if (!rts) {
            labels[n++] = "uv";
            labels[n++] = "threads";
            labels[n++] = "serial";
        } else {
            if (!cJSON_IsArray(rts) || cJSON_GetArraySize(rts) == 0)
                rc = fail(err, errlen, "%s: \"runtimes\" must be a non-empty array of labels, or an "
                          "object of runtimes", origin);
            const cJSON *r;
            cJSON_ArrayForEach(r, rts) {
                if (rc)
                    break;
                if (!cJSON_IsString(r))
                    rc = fail(err, errlen, "%s: \"runtimes\" entries must be strings such as \"uv-1kb\"", origin);
                else if (n < 64)
                    labels[n++] = r->valuestring;
            }
        }
    }
    /* --exec adds its runtimes to the list (the plan's or --runtime's). */
    for (int i = nd_plan; rc == 0 && i < nd; i++) {
        int have = 0;
        for (int j = 0; j < n; j++)
            have |= strcmp(labels[j], defs[i].name) == 0;
        if (!have && n < 64)
            labels[n++] = defs[i].name;
    }
    if (rc == 0) {
        p->runtimes = pb_mem_calloc((size_t)n + 1, sizeof *p->runtimes);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        exec_def *d = exec_find(defs, nd, labels[i]);
        if (d) {
            int gone = exec_def_present(d, d - defs >= nd_plan ? "--exec" : origin, skip, err, errlen);
            if (gone < 0) {
                rc = -1;
                break;
            }
            if (gone) {
                memmove(&labels[i], &labels[i + 1], sizeof *labels * (size_t)(n - i - 1));
                n--;
                i--;
                continue;
            }
            pb_runtime *r = &p->runtimes[p->n_runtimes];
            memset(r, 0, sizeof *r);
            r->label = pb_mem_strdup(d->name);
            r->driver = PB_DRIVER_EXEC;
            r->exec_argv = pb_exec_argv_dup(d->argv);
            r->solo_replay = d->solo_replay;
        } else if (pb_runtime_parse(&p->runtimes[i], labels[i], p->chunk_bytes, err, errlen) != 0) {
            rc = -1;
            break;
        }
        p->n_runtimes++;
        for (int j = 0; j < i; j++)
            if (strcmp(p->runtimes[j].label, p->runtimes[i].label) == 0) {
                rc = fail(err, errlen, "runtime \"%s\" is listed twice", p->runtimes[i].label);
                break;
            }
    }
    if (rc == 0 && p->n_runtimes == 0)
        rc = fail(err, errlen, "%s: every runtime was left out (--skip-missing-exec): nothing to "
                  "measure", origin);
    for (int i = 0; i < nd; i++) {
        pb_exec_argv_free(defs[i].argv);
        if (i >= nd_plan)
            free((char *)defs[i].name);
    }
    return rc;
}

/* "a/./b/../c" -> "a/c": the directory a relative path names, worked out
 * lexically (the runs do not exist yet). */
static void path_normalise(const char *in, char *out, size_t outlen)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", in);
    const char *parts[64];
    int n = 0;
    for (char *save, *t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0)
            n--;
        else if (n < 64)
            parts[n++] = t;
    }
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < n && k < outlen; i++)
        k += (size_t)snprintf(out + k, outlen - k, "%s%s", i ? "/" : "", parts[i]);
}

int pb_plan_check_paths(const pb_plan *p, char *err, size_t errlen)
{
    int n = p->n_runtimes * p->n_configs;
    char (*dirs)[600] = pb_mem_calloc((size_t)(n ? n : 1), sizeof *dirs);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const pb_runtime *rt = &p->runtimes[i / p->n_configs];
        const pb_config *cfg = &p->configs[i % p->n_configs];
        char joined[600];
        snprintf(joined, sizeof joined, "%s/%s", rt->label, cfg->name);
        path_normalise(joined, dirs[i], sizeof dirs[i]);
        for (int j = 0; j < i && rc == 0; j++)
            if (strcmp(dirs[i], dirs[j]) == 0)
                rc = fail(err, errlen, "runtime \"%s\" with config \"%s\" writes to the "
                          "same directory (%s) as another pair: its runs would overwrite "
                          "theirs; rename the config", rt->label, cfg->name, dirs[i]);
    }
    free(dirs);
    return rc;
}

/* --server-env: the plan's configs (or its one default config), each once
 * per combination of the values, named "<config>+KEY=V" (just "KEY=V" for
 * a plan without configs), its server_env merged with the combination's. */
static int server_env_configs(cJSON *root, const pb_overrides *o, char *err, size_t errlen)
{
    cJSON *combos = pb_server_env_configs(o->server_env, o->n_server_env, err, errlen);
    if (!combos)
        return -1;
    const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(root, "configs");
    cJSON *plain = NULL;
    if (!cfgs) {
        plain = cJSON_CreateArray();
        cJSON_AddItemToArray(plain, cJSON_CreateObject());
        cfgs = plain;
    }
    cJSON *out = cJSON_CreateArray();
    const cJSON *c, *k;
    int rc = 0;
    cJSON_ArrayForEach(c, cfgs) {
        cJSON_ArrayForEach(k, combos) {
            if (!cJSON_IsObject(c)) {
                rc = fail(err, errlen, "\"configs\" entries must be objects");
                break;
            }
            cJSON *x = cJSON_Duplicate(c, 1);
            const cJSON *cn = cJSON_GetObjectItemCaseSensitive(c, "name");
            const cJSON *kn = cJSON_GetObjectItemCaseSensitive(k, "name");
            char nm[1200];
            snprintf(nm, sizeof nm, "%s%s%s", cJSON_IsString(cn) ? cn->valuestring : "",
                     cJSON_IsString(cn) ? "+" : "", kn->valuestring);
            cJSON_DeleteItemFromObjectCaseSensitive(x, "name");
            cJSON_AddStringToObject(x, "name", nm);
            cJSON *env = cJSON_GetObjectItemCaseSensitive(x, "server_env");
            if (!cJSON_IsObject(env)) {
                cJSON_DeleteItemFromObjectCaseSensitive(x, "server_env");
                env = cJSON_AddObjectToObject(x, "server_env");
            }
            const cJSON *v;
            cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(k, "server_env")) {
                /* The flag wins over the plan, as every flag does. */
                cJSON_DeleteItemFromObjectCaseSensitive(env, v->string);
                cJSON_AddItemToObject(env, v->string, cJSON_Duplicate(v, 1));
            }
            cJSON_AddItemToArray(out, x);
        }
    }
    cJSON_Delete(plain);
    cJSON_Delete(combos);
    if (rc != 0) {
        cJSON_Delete(out);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "configs");
    cJSON_AddItemToObject(root, "configs", out);
    return 0;
}

/* "servers", and every "server:NAME" endpoint and "server_env" checked
 * against them (before anything is measured). */
static int plan_servers(pb_plan *p, const cJSON *root, const char *origin, char *err,
                        size_t errlen)
{
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "servers");
    if (sv && pb_servers_parse(sv, origin, &p->servers, &p->n_servers, err, errlen) != 0)
        return -1;
    int refs = 0;
    for (int i = 0; i < p->n_endpoints; i++) {
        const char *name = pb_server_ref(p->endpoints[i]);
        if (!name)
            continue;
        refs++;
        int found = 0;
        for (int k = 0; k < p->n_servers && !found; k++)
            found = strcmp(p->servers[k].name, name) == 0;
        if (!found)
            return fail(err, errlen, "%s: endpoint \"%s\" names no server in \"servers\"%s",
                        origin, p->endpoints[i], p->n_servers ? "" : " (the plan has none)");
    }
    if (refs && p->emulate.enabled)
        return fail(err, errlen, "%s: --emulate starts its own servers; endpoints must be "
                    "URLs, not \"server:NAME\" (drop --emulate or the servers)", origin);
    for (int c = 0; c < p->n_configs; c++)
        if (p->configs[c].server_env && !p->n_servers && !p->emulate.enabled)
            return fail(err, errlen, "%s: config %s has \"server_env\", but collect starts no "
                        "server (add \"servers\" or --server CMD, or --emulate)", origin,
                        p->configs[c].name);
    return 0;
}

/* "exec_listen": {"ENDPOINT": "HOST:PORT"} then --exec-listen
 * ENDPOINT=HOST:PORT (which wins): the address each endpoint's recording
 * proxy listens on for exec runtimes. ENDPOINT is a plan endpoint's URL
 * or the id of an agent using it. */
static int listen_set(pb_plan *p, const char *ep, const char *addr, const char *where, char *err,
                      size_t errlen)
{
    int j = -1;
    for (int i = 0; i < p->n_endpoints; i++)
        if (strcmp(p->endpoints[i], ep) == 0)
            j = i;
    for (int c = 0; c < p->n_configs && j < 0; c++)
        for (int a = 0; a < p->configs[c].n_agents && j < 0; a++)
            if (strcmp(p->configs[c].agents[a].id, ep) == 0)
                j = p->configs[c].agents[a].endpoint_index;
    if (j < 0)
        return fail(err, errlen, "%s: \"%s\" is neither an endpoint of the plan nor an agent id "
                    "(see --dry-run)", where, ep);
    char host[64], e[300];
    int port;
    if (pb_exec_listen_parse(addr, host, sizeof host, &port, e, sizeof e) != 0)
        return fail(err, errlen, "%s %s: %s", where, ep, e);
    if (!p->exec_listen) {
        p->exec_listen = pb_mem_calloc((size_t)p->n_endpoints + 1, sizeof *p->exec_listen);
    }
    char norm[96];
    snprintf(norm, sizeof norm, "%s:%d", host, port);
    for (int i = 0; i < p->n_endpoints; i++)
        if (i != j && p->exec_listen[i] && strcmp(p->exec_listen[i], norm) == 0)
            return fail(err, errlen, "%s: endpoints %s and %s would both listen on %s", where,
                        p->endpoints[i], p->endpoints[j], norm);
    free(p->exec_listen[j]);
    p->exec_listen[j] = pb_mem_strdup(norm);
    return 0;
}

static int plan_listen(pb_plan *p, const cJSON *root, const pb_overrides *o, const char *origin,
                       char *err, size_t errlen)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "exec_listen"), *it;
    char where[600];
    snprintf(where, sizeof where, "%s: exec_listen", origin);
    if (l && !cJSON_IsObject(l))
        return fail(err, errlen, "%s must be an object {\"ENDPOINT\": \"HOST:PORT\"}", where);
    cJSON_ArrayForEach(it, l) {
        if (!cJSON_IsString(it))
            return fail(err, errlen, "%s.%s must be a string \"HOST:PORT\"", where, it->string);
        if (listen_set(p, it->string, it->valuestring, where, err, errlen) != 0)
            return -1;
    }
    for (int i = 0; o && i < o->n_listens; i++) {
        const char *eq = strrchr(o->listens[i], '=');
        char ep[1024];
        if (!eq || eq == o->listens[i] || (size_t)(eq - o->listens[i]) >= sizeof ep)
            return fail(err, errlen, "--exec-listen %s: give ENDPOINT=HOST:PORT, e.g. "
                        "--exec-listen http://127.0.0.1:11434=127.0.0.1:11434", o->listens[i]);
        snprintf(ep, sizeof ep, "%.*s", (int)(eq - o->listens[i]), o->listens[i]);
        if (listen_set(p, ep, eq + 1, "--exec-listen", err, errlen) != 0)
            return -1;
    }
    return 0;
}

int pb_plan_from_json(pb_plan *p, const char *text, size_t len,
                      const char *origin, const char *base_dir,
                      const pb_overrides *o, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* Where the parser stopped, as an editor counts it (1-based). */
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return fail(err, errlen, "%s: JSON syntax error at line %d, column %d (a missing "
                    "comma or quote just before it?)", origin, line, col);
    }
    /* cJSON decodes \u0000 to a NUL byte and the name ends there: "a\u0000b"
     * would silently run as "a". */
    if (pb_text_json_has_nul_escape(text, len)) {
        cJSON_Delete(root);
        return fail(err, errlen, "%s: a string holds \\u0000 (a NUL character), which "
                    "would cut a name short; remove it", origin);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(err, errlen, "%s: not a JSON object: a plan is {...} with \"agents\" "
                    "(see collector/README.md, \"Plan files\")", origin);
    }
    if (o && o->n_server_env && server_env_configs(root, o, err, errlen) != 0) {
        cJSON_Delete(root);
        return -1;
    }
    base_agent *b = NULL;
    int nb = 0, rc = -1;
    const char *name = "plan", *out = "runs/", *trace = NULL;
    double runs = 1, seed = 115, timeout = 600, chunk = 0, wt = 8, tci = 0, maxr = 0;
    int warmup = 1, solo = 1, reuse = 0, paired = 1;
    if (check_keys(root, plan_root_keys, origin, err, errlen) ||
        get_str(root, "name", &name, origin, err, errlen) ||
        get_str(root, "out", &out, origin, err, errlen) ||
        get_num(root, "runs", &runs, 1, 1e6, origin, err, errlen) ||
        get_num(root, "seed", &seed, 0, 9007199254740992.0, origin, err, errlen) ||
        get_num(root, "timeout_s", &timeout, 0.001, 1e7, origin, err, errlen) ||
        get_num(root, "chunk_bytes", &chunk, 0, 1 << 24, origin, err, errlen) ||
        get_num(root, "warmup_tokens", &wt, 1, 1e6, origin, err, errlen) ||
        get_num(root, "target_ci_pct", &tci, 0, 100, origin, err, errlen) ||
        get_num(root, "max_runs", &maxr, 1, 1e6, origin, err, errlen) ||
        get_bool(root, "warmup", &warmup, origin, err, errlen) ||
        get_bool(root, "solo", &solo, origin, err, errlen) ||
        get_bool(root, "paired_seed", &paired, origin, err, errlen) ||
        get_bool(root, "reuse_connections", &reuse, origin, err, errlen))
        goto done;
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(root, "emulate");
    int em_on = 0, em_ideal = 0, em_shared = -1;
    double em_scale = 1, em_par = 0;
    if (em) {
        char where[600];
        snprintf(where, sizeof where, "%s: emulate", origin);
        if (!cJSON_IsObject(em)) {
            fail(err, errlen, "%s must be an object", where);
            goto done;
        }
        if (check_keys(em, plan_emulate_keys, where, err, errlen) ||
            get_bool(em, "enabled", &em_on, where, err, errlen) ||
            get_bool(em, "ideal", &em_ideal, where, err, errlen) ||
            get_num(em, "time_scale", &em_scale, 1e-3, 1e6, where, err, errlen) ||
            get_num(em, "num_parallel", &em_par, 0, 1 << 20, where, err, errlen) ||
            get_str(em, "trace", &trace, where, err, errlen))
            goto done;
        const cJSON *sg = cJSON_GetObjectItemCaseSensitive(em, "shared_gpu");
        if (sg) {
            if (!cJSON_IsBool(sg)) {
                fail(err, errlen, "%s: \"shared_gpu\" must be true or false", where);
                goto done;
            }
            em_shared = cJSON_IsTrue(sg);
        }
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(em, "faults");
        if (f && !cJSON_IsObject(f)) {
            fail(err, errlen, "%s: \"faults\" must map endpoint URLs to fault specs", where);
            goto done;
        }
        if (f)
            p->emulate.faults = cJSON_Duplicate(f, 1);
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(em, "models"), *m;
        if (ms) {
            /* 16: the most models one ollama-emu serves (EMU_MAX_MODELS). */
            int nm = cJSON_GetArraySize(ms);
            if (!cJSON_IsArray(ms) || nm < 1 || nm > 16) {
                fail(err, errlen, "%s: \"models\" must be a list of 1 to 16 model names", where);
                goto done;
            }
            p->emulate.models = pb_mem_calloc((size_t)nm, sizeof *p->emulate.models);
            cJSON_ArrayForEach(m, ms) {
                if (!cJSON_IsString(m) || !m->valuestring[0] || strlen(m->valuestring) >= 128) {
                    fail(err, errlen, "%s: \"models\" entries must be non-empty strings of < 128 bytes", where);
                    goto done;
                }
                p->emulate.models[p->emulate.n_models++] = pb_mem_strdup(m->valuestring);
            }
            p->emulate.models_given = 1;
        }
    }
    if (!p->emulate.models) {
        /* The served model defaults to the plan's own default model, so a
         * typo in one agent's "model" fails the preflight. */
        const char *dm = "gemma3:latest";
        if (get_str(root, "model", &dm, origin, err, errlen))
            goto done;
        p->emulate.models = pb_mem_calloc(1, sizeof *p->emulate.models);
        p->emulate.models[p->emulate.n_models++] = pb_mem_strdup(dm);
    }
    if (o) {
        if (o->out) out = o->out;
        if (o->runs > 0) runs = o->runs;
        if (o->no_solo) solo = 0;
        if (o->no_warmup) warmup = 0;
        if (o->no_paired_seed) paired = 0;
        if (o->have_seed) seed = (double)o->seed;
        if (o->timeout_s > 0) timeout = o->timeout_s;
        if (o->chunk_bytes >= 0) chunk = (double)o->chunk_bytes;
        if (o->reuse_connections > 0) reuse = 1;
        if (o->emulate > 0) em_on = 1;
        if (o->emulate_ideal > 0) em_on = em_ideal = 1;
        if (o->emulate_shared_gpu >= 0) em_shared = o->emulate_shared_gpu;
        if (o->time_scale > 0) em_scale = o->time_scale;
        if (o->emulate_parallel >= 0) em_par = o->emulate_parallel;
        if (o->emulate_trace) trace = o->emulate_trace;
        if (o->target_ci_pct > 0) tci = o->target_ci_pct;
        if (o->max_runs > 0) maxr = o->max_runs;
    }
    if (pb_arrival_parse(cJSON_GetObjectItemCaseSensitive(root, "arrival"), origin,
                         &p->arrival, &p->arrival_param, err, errlen) != 0)
        goto done;
    if (o && o->stagger_s >= 0 && o->rate_per_s > 0) {
        fail(err, errlen, "--stagger and --arrival-rate exclude each other");
        goto done;
    }
    if (o && o->stagger_s >= 0) {
        p->arrival = o->stagger_s > 0 ? PB_ARRIVAL_STAGGER : PB_ARRIVAL_TOGETHER;
        p->arrival_param = o->stagger_s;
    } else if (o && o->rate_per_s > 0) {
        p->arrival = PB_ARRIVAL_POISSON;
        p->arrival_param = o->rate_per_s;
    }
    if (tci > 0 && !solo) {
        fail(err, errlen, "--target-ci needs solo phases (it judges the measured speedup): "
             "drop --no-solo or \"solo\": false");
        goto done;
    }
    if (tci > 0 && runs < PB_STEIN_MIN_PILOT) {
        fail(err, errlen, "--target-ci plans from a pilot of the planned runs, at least %d "
             "(%g given): add --runs %d or more", PB_STEIN_MIN_PILOT, runs, PB_STEIN_MIN_PILOT);
        goto done;
    }
    if (tci > 0 && maxr == 0)
        maxr = runs > 20 ? runs : 20;
    if (tci > 0 && maxr < runs) {
        fail(err, errlen, "--max-runs %g is below the planned --runs %g", maxr, runs);
        goto done;
    }
    p->name = pb_mem_strdup(name);
    p->out = pb_mem_strdup(out);
    p->runs = (int)runs;
    p->seed = o && o->have_seed ? o->seed : (uint64_t)seed;
    p->timeout_s = timeout;
    p->chunk_bytes = (long)chunk;
    p->warmup = warmup;
    p->warmup_tokens = (int)wt;
    p->solo = solo;
    p->paired_seed = paired;
    p->reuse_connections = reuse;
    p->target_ci_pct = tci;
    p->max_runs = tci > 0 ? (int)maxr : 0;
    p->emulate.enabled = em_on;
    p->emulate.ideal = em_ideal;
    p->emulate.shared_gpu = em_shared;
    p->emulate.time_scale = em_scale;
    p->emulate.num_parallel = (int)em_par;
    p->emulate.trace = trace && *trace ? pb_mem_strdup(trace) : NULL;
    /* The in-process emulator is on loopback: never through a proxy. */
    p->proxy = o && o->proxy && !em_on ? pb_mem_strdup(o->proxy) : NULL;

    int counted = -1;
    if (parse_runtimes(p, root, o, origin, err, errlen) != 0 ||
        plan_counts(root, o, origin, &counted, p->counts, &p->n_counts, err, errlen) != 0)
        goto done;
    /* A single count (--agents 4) is no sweep: names stay the plan's. */
    int suffix = p->n_counts > 1;
    for (int ci = 0; ci < (p->n_counts ? p->n_counts : 1); ci++) {
    int count_n = p->n_counts ? p->counts[ci] : 0;
    base_free(b, nb);
    b = NULL;
    nb = 0;
    if (parse_agents(root, origin, base_dir, o ? o->api : NULL, counted, count_n, &b, &nb,
                     err, errlen) != 0)
        goto done;

    const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(root, "configs");
    if (cfgs && (!cJSON_IsArray(cfgs) || cJSON_GetArraySize(cfgs) == 0)) {
        fail(err, errlen, "%s: \"configs\" must be a non-empty array", origin);
        goto done;
    }
    int ncfg = cfgs ? cJSON_GetArraySize(cfgs) : 1;
    p->configs = pb_mem_realloc(p->configs, sizeof *p->configs * (size_t)(p->n_configs + ncfg));
    memset(p->configs + p->n_configs, 0, sizeof *p->configs * (size_t)ncfg);
    for (int i = 0; i < ncfg; i++) {
        const cJSON *c = cfgs ? cJSON_GetArrayItem(cfgs, i) : NULL;
        char where[600];
        snprintf(where, sizeof where, "%s: configs[%d]", origin, i);
        const char *cname = "default";
        if (c && (!cJSON_IsObject(c) || check_keys(c, plan_config_keys, where, err, errlen) ||
                  get_str(c, "name", &cname, where, err, errlen))) {
            if (!cJSON_IsObject(c))
                fail(err, errlen, "%s must be an object", where);
            goto done;
        }
        char why[128];
        if (pb_text_label_check(cname, why, sizeof why) != 0) {
            /* The name is a directory: DIR/<runtime>/<name>/run_k.json. */
            fail(err, errlen, "%s: \"name\" %s; a config name becomes a directory, "
                 "use letters, digits, '-', '_' or '.' (not first), at most %d bytes",
                 where, why, PB_LABEL_MAX);
            goto done;
        }
        if (o && o->configs && !in_list(o->configs, cname))
            continue;
        for (int j = 0; j < p->n_configs; j++)
            if (strcmp(p->configs[j].base_name, cname) == 0 &&
                p->configs[j].sweep_n == (suffix ? count_n : 0)) {
                fail(err, errlen, "%s: config name \"%s\" is used twice", where, cname);
                goto done;
            }
        if (build_config(p, &p->configs[p->n_configs], cname, suffix ? count_n : 0, c, b, nb,
                         where, err, errlen) != 0) {
            p->n_configs++; /* freed with the plan, even half-built */
            goto done;
        }
        p->n_configs++;
    }
    }
    if (o && o->configs) {
        /* Every name in --config must exist: a typo must not run nothing. */
        char listbuf[1024];
        snprintf(listbuf, sizeof listbuf, "%s", o->configs);
        for (char *save, *t = strtok_r(listbuf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int found = 0;
            for (int j = 0; j < p->n_configs; j++)
                found |= strcmp(p->configs[j].base_name, t) == 0;
            if (!found) {
                fail(err, errlen, "--config: %s has no config \"%s\" (see --dry-run for the list)", origin, t);
                goto done;
            }
        }
    }
    if (p->n_configs == 0) {
        fail(err, errlen, "%s: no config selected", origin);
        goto done;
    }
    if (pb_plan_check_paths(p, err, errlen) != 0 ||
        plan_servers(p, root, origin, err, errlen) != 0 ||
        plan_listen(p, root, o, origin, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    base_free(b, nb);
    cJSON_Delete(root);
    if (rc != 0)
        pb_plan_free(p);
    return rc;
}

int pb_plan_load(pb_plan *p, const char *name_or_path, const pb_overrides *o,
                 char *err, size_t errlen)
{
    if (strcmp(name_or_path, "tr115") == 0)
        return pb_plan_from_json(p, pb_plan_tr115_json, strlen(pb_plan_tr115_json),
                                 "plan tr115", NULL, o, err, errlen);
    if (strcmp(name_or_path, "tr115-workflow") == 0) {
        char *j = pb_plan_tr115_workflow_json();
        int rc = pb_plan_from_json(p, j, strlen(j), "plan tr115-workflow", NULL, o, err, errlen);
        cJSON_free(j);
        return rc;
    }
    char builtin[4096];
    if (strcmp(name_or_path, "tr115-runtimes") == 0) {
        /* The study's runtimes as programs: the plan is a file of the
         * source tree, beside the agents it runs (agents/plans/). */
        if (pb_exec_root(builtin, sizeof builtin - 64) != 0)
            return fail(err, errlen, "plan tr115-runtimes is agents/plans/tr115-runtimes.json in "
                        "parbench's source tree, which collect cannot find (neither where it was "
                        "built nor two levels above its binary): give that file's path to --plan");
        strcat(builtin, "/agents/plans/tr115-runtimes.json");
        name_or_path = builtin;
    }
    char *buf = NULL;
    size_t len = 0;
    char e[600];
    if (pb_fs_read_all(name_or_path, PLAN_MAX_BYTES, &buf, &len, e, sizeof e) != 0)
        return fail(err, errlen, "cannot read plan: %s (give a JSON plan file, `--plan tr115`, `tr115-workflow` or `tr115-runtimes`)", e);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", name_or_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int rc = pb_plan_from_json(p, buf, len, name_or_path, dir, o, err, errlen);
    free(buf);
    return rc;
}

static cJSON *agent_json(const pb_agent_spec *a)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", a->id);
    cJSON_AddStringToObject(j, "endpoint", a->endpoint);
    cJSON_AddStringToObject(j, "api", a->api);
    cJSON_AddStringToObject(j, "model", a->model);
    cJSON_AddItemToObject(j, "options", cJSON_Duplicate(a->options, 1));
    cJSON_AddItemToObject(j, "headers", cJSON_Duplicate(a->headers, 1));
    cJSON_AddStringToObject(j, "prompt", a->prompt);
    if (a->n_steps > 0)
        cJSON_AddItemToObject(j, "steps", pb_steps_to_json(a->steps, a->n_steps));
    return j;
}

static cJSON *runtime_json(const pb_runtime *r)
{
    static const char *names[] = {"uv", "threads", "serial", "exec"};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "label", r->label);
    cJSON_AddStringToObject(j, "driver", names[r->driver]);
    cJSON_AddNumberToObject(j, "chunk_bytes", (double)r->chunk_bytes);
    if (r->exec_argv) {
        cJSON *a = cJSON_AddArrayToObject(j, "exec");
        for (int i = 0; r->exec_argv[i]; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(r->exec_argv[i]));
        cJSON_AddStringToObject(j, "solo", r->solo_replay ? "replay" : "own");
    }
    return j;
}

static cJSON *emulate_json(const pb_plan *p)
{
    if (!p->emulate.enabled)
        return cJSON_CreateNull();
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "preset", p->emulate.ideal ? "ideal" : "default");
    int shared = p->emulate.shared_gpu >= 0 ? p->emulate.shared_gpu : !p->emulate.ideal;
    cJSON_AddBoolToObject(j, "shared_gpu", shared);
    cJSON_AddNumberToObject(j, "time_scale", p->emulate.time_scale);
    cJSON_AddNumberToObject(j, "num_parallel", p->emulate.num_parallel);
    cJSON_AddItemToObject(j, "faults", p->emulate.faults ? cJSON_Duplicate(p->emulate.faults, 1)
                                                         : cJSON_CreateObject());
    /* Only when given, so that the hash of every older plan is unchanged. */
    if (p->emulate.models_given) {
        cJSON *ms = cJSON_AddArrayToObject(j, "models");
        for (int i = 0; i < p->emulate.n_models; i++)
            cJSON_AddItemToArray(ms, cJSON_CreateString(p->emulate.models[i]));
    }
    return j;
}

/* The protocol fields that every run of the plan shares. */
static void add_protocol(cJSON *j, const pb_plan *p)
{
    cJSON_AddBoolToObject(j, "warmup", p->warmup);
    cJSON_AddNumberToObject(j, "warmup_tokens", p->warmup_tokens);
    cJSON_AddBoolToObject(j, "solo", p->solo);
    cJSON_AddBoolToObject(j, "paired_seed", p->paired_seed);
    cJSON_AddNumberToObject(j, "seed", (double)p->seed);
    cJSON_AddNumberToObject(j, "timeout_s", p->timeout_s);
    cJSON_AddBoolToObject(j, "reuse_connections", p->reuse_connections);
    cJSON_AddItemToObject(j, "emulate", emulate_json(p));
    /* Only when set: run keys of plans without one stay as they were. */
    if (p->arrival != PB_ARRIVAL_TOGETHER)
        cJSON_AddItemToObject(j, "arrival", pb_arrival_to_json(p->arrival, p->arrival_param));
    /* Only when set, as arrival: the servers collect runs are measured too. */
    if (p->n_servers) {
        cJSON *sv = cJSON_AddObjectToObject(j, "servers");
        for (int i = 0; i < p->n_servers; i++)
            cJSON_AddItemToObject(sv, p->servers[i].name, pb_server_spec_json(&p->servers[i]));
    }
}

cJSON *pb_plan_to_json(const pb_plan *p)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "format", "parbench-plan");
    cJSON_AddStringToObject(j, "name", p->name);
    cJSON_AddStringToObject(j, "out", p->out);
    cJSON_AddNumberToObject(j, "runs", p->runs);
    add_protocol(j, p);
    cJSON *eps = cJSON_AddArrayToObject(j, "endpoints");
    for (int i = 0; i < p->n_endpoints; i++)
        cJSON_AddItemToArray(eps, cJSON_CreateString(p->endpoints[i]));
    if (p->exec_listen) {
        cJSON *l = cJSON_AddObjectToObject(j, "exec_listen");
        for (int i = 0; i < p->n_endpoints; i++)
            if (p->exec_listen[i])
                cJSON_AddStringToObject(l, p->endpoints[i], p->exec_listen[i]);
    }
    cJSON *rts = cJSON_AddArrayToObject(j, "runtimes");
    for (int i = 0; i < p->n_runtimes; i++)
        cJSON_AddItemToArray(rts, runtime_json(&p->runtimes[i]));
    cJSON *cfgs = cJSON_AddArrayToObject(j, "configs");
    for (int c = 0; c < p->n_configs; c++) {
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddStringToObject(cj, "name", p->configs[c].name);
        if (p->configs[c].sweep_n > 0) {
            cJSON_AddStringToObject(cj, "base_name", p->configs[c].base_name);
            cJSON_AddNumberToObject(cj, "n_agents", p->configs[c].sweep_n);
        }
        if (p->configs[c].server_env)
            cJSON_AddItemToObject(cj, "server_env", pb_server_env_masked(p->configs[c].server_env));
        cJSON *ag = cJSON_AddArrayToObject(cj, "agents");
        for (int a = 0; a < p->configs[c].n_agents; a++)
            cJSON_AddItemToArray(ag, agent_json(&p->configs[c].agents[a]));
        cJSON_AddItemToArray(cfgs, cj);
    }
    if (p->target_ci_pct > 0) {
        cJSON *sm = cJSON_AddObjectToObject(j, "sampling");
        cJSON_AddNumberToObject(sm, "target_ci_pct", p->target_ci_pct);
        cJSON_AddNumberToObject(sm, "max_runs", p->max_runs);
        cJSON_AddStringToObject(sm, "rule", PB_PRECISION_RULE);
    }
    if (p->n_counts > 1) {
        cJSON *cn = cJSON_AddArrayToObject(j, "agent_counts");
        for (int i = 0; i < p->n_counts; i++)
            cJSON_AddItemToArray(cn, cJSON_CreateNumber(p->counts[i]));
    }
    cJSON_AddNumberToObject(j, "total_runs", (double)p->runs * p->n_configs * p->n_runtimes);
    return j;
}

static void digest_json(cJSON *j, char *buf, size_t len)
{
    char *s = cJSON_PrintUnformatted(j);
    pb_hash_digest(s, strlen(s), buf, len);
    cJSON_free(s);
    cJSON_Delete(j);
}

void pb_plan_hash(const pb_plan *p, char *buf, size_t len)
{
    cJSON *j = pb_plan_to_json(p);
    /* Where the data goes does not change what is measured. */
    cJSON_DeleteItemFromObjectCaseSensitive(j, "out");
    digest_json(j, buf, len);
}

void pb_plan_run_key(const pb_plan *p, const pb_runtime *rt, const pb_config *cfg,
                     int run_index, char *buf, size_t len)
{
    cJSON *j = cJSON_CreateObject();
    add_protocol(j, p);
    cJSON_AddItemToObject(j, "runtime", runtime_json(rt));
    cJSON_AddStringToObject(j, "config", cfg->name);
    if (cfg->server_env)
        cJSON_AddItemToObject(j, "server_env", pb_server_env_masked(cfg->server_env));
    cJSON_AddNumberToObject(j, "run_index", run_index);
    cJSON *ag = cJSON_AddArrayToObject(j, "agents");
    for (int a = 0; a < cfg->n_agents; a++)
        cJSON_AddItemToArray(ag, agent_json(&cfg->agents[a]));
    digest_json(j, buf, len);
}

uint64_t pb_plan_run_seed(const pb_plan *p, const pb_runtime *rt,
                          const pb_config *cfg, int run_index)
{
    char s[1024];
    int n = snprintf(s, sizeof s, "%llu/%s/%s/%d", (unsigned long long)p->seed,
                     rt->label, cfg->name, run_index);
    /* 32 bits: gsl_rng_set takes an unsigned long, and the JSON number
     * recording it must stay exact. */
    return pb_hash_fnv1a64(s, (size_t)n) & 0xffffffffu;
}
