/* emu_req: one /api/generate, /api/chat, /api/embed or /api/embeddings
 * request, from validation through the scheduler (emu_model.c: runner,
 * pending queue, slot), model load, prompt evaluation and token decoding,
 * to the final line.
 *
 * Every write of a request happens inside a scheduler callback, never in
 * emu_req_submit or while another request finishes: that keeps re-entrancy
 * out (finishing one request may start the next one in the queue).
 *
 * Lifetime rule: emu_conn_close() cancels (frees) the connection's request.
 * So after any emu_conn_write() that returns -1 the request is gone and the
 * code returns at once without touching it. */
#include "emu_internal.h"
#include "pb_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_randist.h>

#include "pb_hash.h"
#include "pb_mem.h"

static const char busy_msg[] =
    "server busy, please try again.  maximum pending requests exceeded";

static void req_on_event(emu_sched_item *it, uint64_t now);

/* ---- validation ---- */

typedef enum { OPT_INT, OPT_FLOAT, OPT_BOOL, OPT_STRINGS } opt_type;
static const struct {
    const char *name;
    opt_type type;
} known_options[] = {
    {"num_keep", OPT_INT},          {"seed", OPT_INT},
    {"num_predict", OPT_INT},       {"top_k", OPT_INT},
    {"repeat_last_n", OPT_INT},     {"mirostat", OPT_INT},
    {"num_ctx", OPT_INT},           {"num_batch", OPT_INT},
    {"num_gpu", OPT_INT},           {"main_gpu", OPT_INT},
    {"num_thread", OPT_INT},        {"top_p", OPT_FLOAT},
    {"min_p", OPT_FLOAT},           {"tfs_z", OPT_FLOAT},
    {"typical_p", OPT_FLOAT},       {"temperature", OPT_FLOAT},
    {"repeat_penalty", OPT_FLOAT},  {"presence_penalty", OPT_FLOAT},
    {"frequency_penalty", OPT_FLOAT}, {"mirostat_tau", OPT_FLOAT},
    {"mirostat_eta", OPT_FLOAT},    {"penalize_newline", OPT_BOOL},
    {"numa", OPT_BOOL},             {"low_vram", OPT_BOOL},
    {"f16_kv", OPT_BOOL},           {"logits_all", OPT_BOOL},
    {"vocab_only", OPT_BOOL},       {"use_mmap", OPT_BOOL},
    {"use_mlock", OPT_BOOL},        {"stop", OPT_STRINGS},
};

/* Ollama's Options.FromMap: JSON numbers are accepted for integers (then
 * truncated), null is skipped, unknown keys are ignored. Returns 0 or fills
 * err with Ollama's message. */
static int check_options(const cJSON *opts, char *err, size_t errlen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, opts)
    {
        if (cJSON_IsNull(it))
            continue;
        for (size_t i = 0; i < sizeof known_options / sizeof *known_options;
             i++) {
            if (strcmp(it->string, known_options[i].name))
                continue;
            const char *want = NULL;
            switch (known_options[i].type) {
            case OPT_INT:
                if (!cJSON_IsNumber(it))
                    want = "integer";
                break;
            case OPT_FLOAT:
                if (!cJSON_IsNumber(it))
                    want = "float32";
                break;
            case OPT_BOOL:
                if (!cJSON_IsBool(it))
                    want = "boolean";
                break;
            case OPT_STRINGS:
                if (!cJSON_IsArray(it)) {
                    want = "array";
                } else {
                    const cJSON *s;
                    cJSON_ArrayForEach(s, it)
                    {
                        if (cJSON_IsString(s))
                            continue;
                        snprintf(err, errlen,
                                 "option \"%s\" must be of an array of "
                                 "strings",
                                 it->string);
                        return -1;
                    }
                }
                break;
            }
            if (want) {
                snprintf(err, errlen, "option \"%s\" must be of type %s",
                         it->string, want);
                return -1;
            }
        }
    }
    return 0;
}

static size_t str_len(const cJSON *j)
{
    return cJSON_IsString(j) && j->valuestring ? strlen(j->valuestring) : 0;
}

static uint64_t str_hash(const cJSON *j)
{
    return pb_hash_fnv1a64(cJSON_IsString(j) && j->valuestring ? j->valuestring : "",
                           str_len(j));
}

/* ---- the prompt as the prompt cache compares it (emu_pcache.c) ----
 * A message is its role, content and images, each ended by a separator
 * byte, so that a conversation sent back with the model's answer as an
 * assistant message extends the bytes the slot cached (req_cache_answer). */
static void pcache_key_text(emu_buf *k, const cJSON *j, char end)
{
    if (cJSON_IsString(j) && j->valuestring)
        emu_buf_append(k, j->valuestring, strlen(j->valuestring));
    emu_buf_append(k, &end, 1);
}

static void pcache_key_images(emu_buf *k, const cJSON *images)
{
    const cJSON *im;
    cJSON_ArrayForEach(im, images)
    {
        emu_buf_printf(k, "%016llx", (unsigned long long)str_hash(im));
        emu_buf_append(k, "\x1d", 1);
    }
}

static void pcache_key_message(emu_buf *k, const cJSON *role,
                               const cJSON *content, const cJSON *images)
{
    pcache_key_text(k, role, '\n');
    pcache_key_images(k, images);
    pcache_key_text(k, content, '\x1e');
}

/* A generate: system, then the previous exchange's tokens (`context`),
 * then the prompt; the answer follows it directly. */
static void pcache_key_generate(emu_buf *k, const cJSON *root)
{
    pcache_key_text(k, cJSON_GetObjectItemCaseSensitive(root, "system"),
                    '\x1f');
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "context"))
        emu_buf_printf(k, "%.0f,", cJSON_IsNumber(t) ? t->valuedouble : 0.0);
    emu_buf_append(k, "\x1f", 1);
    pcache_key_images(k, cJSON_GetObjectItemCaseSensitive(root, "images"));
    pcache_key_text(k, cJSON_GetObjectItemCaseSensitive(root, "prompt"), 0);
    k->len--; /* the prompt's end is where the answer goes on */
}

/* The slot's cache after r: its prompt, then what it generated (as the
 * assistant message a client sends back, for a chat). */
static void req_cache_answer(emu_req *r)
{
    if (!r->pkey.len)
        return;
    if (r->is_chat)
        APPEND_LIT(&r->pkey, "assistant\n");
    if (r->text.len)
        emu_buf_append(&r->pkey, r->text.data, r->text.len);
    if (r->is_chat)
        APPEND_LIT(&r->pkey, "\x1e");
}

/* ---- lifetime ---- */

static void req_free(emu_req *r)
{
    if (r->rng)
        gsl_rng_free(r->rng);
    free(r->model_json);
    emu_buf_free(&r->text);
    emu_buf_free(&r->pkey);
    emu_output_free(r->out);
    free(r->input_hashes);
    if (r->dialect_free)
        r->dialect_free(r->dialect_state);
    free(r);
}

void emu_req_start(emu_req *r, uint64_t now)
{
    r->t_start = now;
    uint64_t until = r->runner->load_end;
    /* Always through the scheduler, even with nothing to wait for, so that
     * writes never happen inside submit or finish (see top of file). */
    r->state = EMU_REQ_LOAD;
    emu_sched_add(&r->inst->emu->sched, &r->item, until > now ? until : now);
}

/* Releases r's slot, runner reference and GPU share (emu_model), detaches
 * and frees it; queued work may start (it is only scheduled). The
 * connection stays open (the caller decides what follows). */
static void req_finish(emu_req *r)
{
    emu_sched_remove(&r->inst->emu->sched, &r->item);
    if (r->conn)
        r->conn->req = NULL;
    req_cache_answer(r);
    emu_model_release(r);
    req_free(r);
}

void emu_req_cancel(emu_req *r)
{
    emu *e = r->inst->emu;
    if (!e->o.quiet)
        emu_log(e, "instance %d: request %s: client went away after %d "
                "tokens", r->inst->index, r->id, r->n_sent);
    req_finish(r);
}

/* ---- submit ---- */

/* An error before streaming, in the dialect of the route (c->dialect). */
static void reply_now(emu_conn *c, int status, const char *msg)
{
    c->dialect->reply_error(c, status, msg);
    emu_conn_response_done(c);
}

/* 1 when the "model" string of the JSON body holds a NUL (a \u0000
 * escape). cJSON ends its C string there, so "gemma3:latest\u0000x" would
 * read as "gemma3:latest"; Go keeps the NUL and finds no such model. Found
 * by parsing a copy in which each \u0000 escape is \u0001 and comparing
 * the model's length. */
static int model_has_nul(const char *s, size_t n, const char *model)
{
    char *copy = NULL;
    for (size_t i = 0; i + 6 <= n; i++) {
        if (s[i] != '\\')
            continue;
        size_t k = i; /* an odd run of backslashes escapes the next char */
        while (k < n && s[k] == '\\')
            k++;
        if ((k - i) % 2 == 1 && k + 5 <= n && s[k] == 'u' && !memcmp(s + k + 1, "0000", 4)) {
            if (!copy) {
                if (!(copy = malloc(n)))
                    return 0;
                memcpy(copy, s, n);
            }
            copy[k + 4] = '1';
        }
        i = k - 1;
    }
    if (!copy)
        return 0;
    cJSON *j = cJSON_ParseWithLength(copy, n);
    free(copy);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    int nul = cJSON_IsString(m) && strlen(m->valuestring) != strlen(model);
    cJSON_Delete(j);
    return nul;
}

int emu_req_keep_alive(const emu *e, const cJSON *v, int64_t *ns, char *err,
                       size_t errlen)
{
    double secs;
    /* api.Duration.UnmarshalJSON: a number is seconds, a string a Go
     * duration; negative means forever; other types are refused. */
    if (cJSON_IsNumber(v)) {
        secs = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        if (emu_duration_parse(v->valuestring, &secs, err, errlen))
            return -1;
    } else {
        snprintf(err, errlen, "Unsupported type: '%s'",
                 cJSON_IsBool(v) ? "bool"
                 : cJSON_IsArray(v) ? "[]interface {}"
                                    : "map[string]interface {}");
        return -1;
    }
    if (secs < 0 || secs > 9.2e9)
        *ns = INT64_MAX;
    else
        *ns = (int64_t)emu_scale_ns(e, secs);
    return 0;
}

/* Go's json type names for "cannot unmarshal X into ..." messages. */
static const char *go_json_type(const cJSON *v)
{
    return cJSON_IsNumber(v) ? "number"
           : cJSON_IsBool(v) ? "bool"
           : cJSON_IsArray(v) ? "array"
           : cJSON_IsObject(v) ? "object"
                               : "string";
}

/* What every scheduled route checks before a request exists: the model
 * (required, known), options and keep_alive. Returns the model index, or
 * -1 after answering. missing_404: /api/generate and /api/embed answer a
 * missing model with 404 "model '' not found", the others with 400. */
static int req_check(emu_conn *c, const cJSON *root, const char *go_struct,
                     int missing_404, int64_t *keep_alive, int *has_ka)
{
    emu *e = c->inst->emu;
    char err[512];
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    const cJSON *ka = cJSON_GetObjectItemCaseSensitive(root, "keep_alive");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) {
        snprintf(err, sizeof err,
                 "json: cannot unmarshal %s into Go struct field %s.model "
                 "of type string", go_json_type(model), go_struct);
        reply_now(c, 400, err);
        return -1;
    }
    if (!cJSON_IsString(model) || !model->valuestring[0]) {
        if (missing_404)
            reply_now(c, 404, "model '' not found");
        else
            reply_now(c, 400, "model is required");
        return -1;
    }
    int mi = emu_model_find(&e->o, model->valuestring);
    if (mi < 0 || model_has_nul(c->body.data, c->body.len, model->valuestring)) {
        /* A name holding a NUL matches no model. */
        if (!strcmp(go_struct, "EmbeddingRequest")) {
            /* EmbeddingsHandler: handleScheduleError's os.ErrNotExist
             * text, the name as Go's %q prints it. */
            char *q = cJSON_PrintUnformatted(model);
            snprintf(err, sizeof err,
                     "model %.300s not found, try pulling it first",
                     q ? q : "\"\"");
            cJSON_free(q);
        } else {
            emu_model_not_found(err, sizeof err, model->valuestring);
        }
        reply_now(c, 404, err);
        return -1;
    }
    if (opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts)) {
        snprintf(err, sizeof err,
                 "json: cannot unmarshal %s into Go struct field %s.options "
                 "of type map[string]interface {}", go_json_type(opts),
                 go_struct);
        reply_now(c, 400, err);
        return -1;
    }
    if (opts && check_options(opts, err, sizeof err)) {
        reply_now(c, 500, err);
        return -1;
    }
    *has_ka = ka && !cJSON_IsNull(ka);
    if (*has_ka && emu_req_keep_alive(e, ka, keep_alive, err, sizeof err)) {
        reply_now(c, 400, err);
        return -1;
    }
    return mi;
}

/* encoding/json's type check of the request struct's other fields
 * (api.GenerateRequest / api.ChatRequest): Go's message, or NULL. */
static const struct {
    int chat; /* 0 generate, 1 chat */
    const char *key;
    int (*ok)(const cJSON *);
    const char *go;
} typed_fields[] = {
    {0, "prompt", cJSON_IsString, "string"},
    {0, "suffix", cJSON_IsString, "string"},
    {0, "system", cJSON_IsString, "string"},
    {0, "template", cJSON_IsString, "string"},
    {0, "context", cJSON_IsArray, "[]int"},
    {0, "raw", cJSON_IsBool, "bool"},
    {0, "images", cJSON_IsArray, "[]api.ImageData"},
    {1, "messages", cJSON_IsArray, "[]api.Message"},
    {1, "truncate", cJSON_IsBool, "bool"},
    {1, "shift", cJSON_IsBool, "bool"},
    {-1, "stream", cJSON_IsBool, "bool"},
    {-1, "logprobs", cJSON_IsBool, "bool"},
    {-1, "top_logprobs", cJSON_IsNumber, "int"},
};

static int check_types(const cJSON *root, int is_chat, char *err,
                       size_t errlen)
{
    const char *st = is_chat ? "ChatRequest" : "GenerateRequest";
    for (size_t i = 0; i < sizeof typed_fields / sizeof *typed_fields; i++) {
        if (typed_fields[i].chat >= 0 && typed_fields[i].chat != is_chat)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root,
                                                          typed_fields[i].key);
        if (!v || cJSON_IsNull(v) || typed_fields[i].ok(v))
            continue;
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go struct field %s.%s of "
                 "type %s",
                 go_json_type(v), st, typed_fields[i].key,
                 typed_fields[i].go);
        return -1;
    }
    const cJSON *m, *msgs = is_chat ? cJSON_GetObjectItemCaseSensitive(
                                          root, "messages")
                                    : NULL;
    cJSON_ArrayForEach(m, msgs)
    {
        if (cJSON_IsObject(m) || cJSON_IsNull(m))
            continue;
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go struct field %s.messages "
                 "of type api.Message",
                 go_json_type(m), st);
        return -1;
    }
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(root, "top_logprobs");
    if (cJSON_IsNumber(tl) && (tl->valuedouble < 0 || tl->valuedouble > 20)) {
        snprintf(err, errlen, "top_logprobs must be between 0 and 20");
        return -1;
    }
    return 0;
}

static int opt_int(const cJSON *opts, const char *name, int def)
{
    const cJSON *v = opts ? cJSON_GetObjectItemCaseSensitive(opts, name)
                          : NULL;
    if (!cJSON_IsNumber(v))
        return def;
    double d = v->valuedouble;
    return d > 1e9 ? 1000000000 : d < -1e9 ? -1000000000 : (int)d;
}

static emu_req *req_new(emu_conn *c, const cJSON *root, int api, int mi,
                        int64_t keep_alive, int has_ka)
{
    emu_instance *inst = c->inst;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    if (!cJSON_IsObject(opts))
        opts = NULL;
    emu_req *r = pb_mem_calloc(1, sizeof *r);
    r->item.idx = SIZE_MAX;
    r->item.cb = req_on_event;
    r->slot = -1;
    r->conn = c;
    r->inst = inst;
    r->api = api;
    r->is_chat = api == EMU_API_CHAT;
    r->model_index = mi;
    r->fault = inst->fault;
    r->t_arrive = uv_hrtime();
    r->model_json = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(root, "model"));
    r->dialect = c->dialect;
    r->dialect_state = c->dialect_state;
    r->dialect_free = c->dialect_free;
    c->dialect_state = NULL;
    r->has_keep_alive = has_ka;
    r->keep_alive_ns = keep_alive;
    /* Runner options as Ollama fills them (getRunner: num_ctx >= 4). */
    r->num_ctx = opt_int(opts, "num_ctx", emu_options_ctx_default(&inst->emu->o));
    if (r->num_ctx < 4)
        r->num_ctx = 4;
    /* getRunner: "multimodal models require at least 2048 context". */
    if ((inst->emu->model_caps[mi] & EMU_CAP_VISION) && r->num_ctx < 2048)
        r->num_ctx = 2048;
    r->num_batch = opt_int(opts, "num_batch", EMU_DEFAULT_NUM_BATCH);
    r->num_gpu = opt_int(opts, "num_gpu", -1);
    r->main_gpu = opt_int(opts, "main_gpu", EMU_OPT_UNSET);
    r->num_thread = opt_int(opts, "num_thread", EMU_OPT_UNSET);
    if (r->num_thread == 0)
        r->num_thread = EMU_OPT_UNSET; /* an int: 0 is "not given" */
    const cJSON *mm = opts ? cJSON_GetObjectItemCaseSensitive(opts, "use_mmap")
                           : NULL;
    r->use_mmap = cJSON_IsBool(mm) ? cJSON_IsTrue(mm) : EMU_OPT_UNSET;
    uint64_t nth = inst->n_requests++;
    if (c->req_id[0])
        snprintf(r->id, sizeof r->id, "%s", c->req_id);
    else
        snprintf(r->id, sizeof r->id, "i%d-%llu", inst->index,
                 (unsigned long long)nth);
    r->rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r->rng, (unsigned long)(inst->emu->o.seed +
                                        1000003ull * (uint64_t)inst->index +
                                        nth));
    return r;
}

/* Hands r to the scheduler; a full pending queue is Ollama's 503. */
static void req_schedule(emu_conn *c, emu_req *r)
{
    emu *e = c->inst->emu;
    c->req = r;
    pthread_mutex_lock(&e->mu);
    e->stats.requests++;
    pthread_mutex_unlock(&e->mu);
    if (emu_model_submit(r) < 0) {
        c->req = NULL;
        req_free(r);
        reply_now(c, 503, busy_msg);
    }
}

void emu_req_submit(emu_conn *c, int is_chat)
{
    c->dialect = &emu_dialect_ollama;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    emu_req_submit_as(c, is_chat, 0, root);
    cJSON_Delete(root);
}

void emu_req_submit_as(emu_conn *c, int is_chat, int include_usage,
                       const cJSON *root)
{
    emu_instance *inst = c->inst;
    emu *e = inst->emu;
    char err[512];
    /* The prompt as the prompt cache compares it (emu_pcache.c). */
    emu_buf pkey = {0};

    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    int64_t keep_alive = 0;
    int has_ka = 0;
    if (check_types(root, is_chat, err, sizeof err)) {
        reply_now(c, 400, err);
        goto out;
    }
    int mi = req_check(c, root, is_chat ? "ChatRequest" : "GenerateRequest",
                       !is_chat, &keep_alive, &has_ka);
    if (mi < 0)
        goto out;
    if (!is_chat &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "raw")) &&
        (str_len(cJSON_GetObjectItemCaseSensitive(root, "template")) ||
         str_len(cJSON_GetObjectItemCaseSensitive(root, "system")) ||
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root,
                                                             "context")))) {
        reply_now(c, 400,
                  "raw mode does not support template, system, or context");
        goto out;
    }

    size_t prompt_bytes = 0;
    uint64_t prompt_hash = 0;
    long n_images = 0, n_context = 0;
    int load_only;
    if (is_chat) {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
        const cJSON *m;
        int n_msgs = 0;
        cJSON_ArrayForEach(m, msgs)
        {
            n_msgs++;
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
            prompt_bytes += str_len(content);
            prompt_hash = prompt_hash * 31 + str_hash(content);
            const cJSON *images = cJSON_GetObjectItemCaseSensitive(m, "images");
            n_images += cJSON_GetArraySize(images);
            pcache_key_message(&pkey, cJSON_GetObjectItemCaseSensitive(m, "role"),
                               content, images);
        }
        load_only = n_msgs == 0;
    } else {
        prompt_bytes =
            str_len(cJSON_GetObjectItemCaseSensitive(root, "prompt")) +
            str_len(cJSON_GetObjectItemCaseSensitive(root, "system"));
        load_only =
            !str_len(cJSON_GetObjectItemCaseSensitive(root, "prompt"));
        prompt_hash = str_hash(cJSON_GetObjectItemCaseSensitive(root, "prompt"));
        n_images = cJSON_GetArraySize(
            cJSON_GetObjectItemCaseSensitive(root, "images"));
        n_context = cJSON_GetArraySize(
            cJSON_GetObjectItemCaseSensitive(root, "context"));
        pcache_key_generate(&pkey, root);
    }

    /* routes.go: an empty prompt with keep_alive 0 unloads the model at
     * once (when idle) and answers without touching the scheduler. */
    if (load_only && has_ka && keep_alive == 0 &&
        c->dialect == &emu_dialect_ollama) {
        emu_model_expire(inst, mi);
        emu_req tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.is_chat = is_chat;
        tmp.model_json = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(root, "model"));
        emu_buf line = {0};
        emu_stream_load_line(&line, &tmp, "unload");
        emu_http_reply(c, 200, "application/json; charset=utf-8", line.data,
                       line.len, 0);
        emu_buf_free(&line);
        cJSON_free(tmp.model_json);
        emu_conn_response_done(c);
        goto out;
    }

    /* Fault: per request (option, then header) overrides the instance's. */
    emu_fault fault = inst->fault;
    const cJSON *fopt = cJSON_IsObject(opts)
                            ? cJSON_GetObjectItemCaseSensitive(opts,
                                                               "parbench_fault")
                            : NULL;
    const char *fspec = cJSON_IsString(fopt) ? fopt->valuestring
                        : c->fault_spec[0] ? c->fault_spec
                                           : NULL;
    if (fspec && emu_fault_parse(fspec, &fault, err, sizeof err)) {
        reply_now(c, 400, err);
        goto out;
    }
    switch (fault.kind) {
    case EMU_FAULT_DOWN:
        /* As if the instance died: drop the connection without a word. */
        emu_conn_close(c);
        goto out;
    case EMU_FAULT_HTTP500:
        reply_now(c, 500, "llama runner process has terminated: "
                          "exit status 2 (parbench fault http500)");
        goto out;
    case EMU_FAULT_BUSY503:
        reply_now(c, 503, busy_msg);
        goto out;
    default:
        break;
    }

    emu_req *r = req_new(c, root, is_chat ? EMU_API_CHAT : EMU_API_GENERATE,
                         mi, keep_alive, has_ka);
    if (e->o.prompt_cache && !load_only) {
        r->pkey = pkey;
        pkey = (emu_buf){0};
    }
    r->stream = !cJSON_IsFalse(stream);
    r->fault = fault;
    r->dialect = c->dialect;
    r->include_usage = include_usage;
    r->load_only = load_only;

    /* Deterministic per request. With options.seed the response depends
     * only on --seed, options.seed and the prompt, as Ollama's seeded
     * sampling does: the same request gives the same length (and jitter)
     * on any instance, which lets a client pair a solo request with a
     * concurrent one. Without it: seed + instance + n-th request there
     * (req_new). */
    const cJSON *oseed = cJSON_IsObject(opts)
                             ? cJSON_GetObjectItemCaseSensitive(opts, "seed")
                             : NULL;
    /* Through int64_t: a negative or huge seed must not be UB. */
    int seeded = cJSON_IsNumber(oseed) && fabs(oseed->valuedouble) < 4e18;
    if (seeded)
        gsl_rng_set(r->rng,
                    (unsigned long)(e->o.seed +
                                    1000003ull *
                                        (uint64_t)(int64_t)oseed->valuedouble +
                                    prompt_hash));
    /* ~4 bytes per token plus the chat template's own tokens; a generate's
     * `context` is prompt tokens already (the previous exchange, sent
     * back), and each image costs what routes.go's chatPrompt budgets for
     * one (768 tokens). */
    long pt = (long)((prompt_bytes + 3) / 4) + 8 + n_context +
              EMU_IMAGE_TOKENS * n_images;
    r->prompt_tokens = pt > 100000000 ? 100000000 : (int)pt;

    /* The response's natural length (where the model would emit its end
     * token); num_predict caps it. A seeded response is a fixed sample, so
     * it may end before the cap ("stop"); an unseeded one is drawn fresh
     * and runs to the cap, as before (the collector's fixed-length
     * requests rely on it). */
    double len = e->o.len_mean;
    if (e->o.len_sd > 0)
        len += gsl_ran_gaussian(r->rng, e->o.len_sd);
    int natural = len < 1 ? 1 : len > 1e6 ? 1000000 : (int)lround(len);
    /* Thinking, a tool call or a JSON document (emu_output.c): checked
     * against the model's capabilities, drawn from the seeded RNG. A call
     * or a document ends by itself, seeded or not. */
    int status, fixed = 0;
    if (emu_output_plan(&r->out, root, is_chat, e->o.models[mi],
                        e->model_caps[mi], r->rng, natural,
                        e->o.parallel_tools, &status, err,
                        sizeof err)) {
        req_free(r);
        reply_now(c, status, err);
        goto out;
    }
    if (r->out) {
        natural = emu_output_length(r->out);
        fixed = emu_output_fixed(r->out);
    }
    const cJSON *np = cJSON_IsObject(opts)
                          ? cJSON_GetObjectItemCaseSensitive(opts, "num_predict")
                          : NULL;
    if (cJSON_IsNumber(np) && np->valuedouble >= 1) {
        int cap = np->valuedouble > 1e6 ? 1000000 : (int)np->valuedouble;
        if (fixed) {
            /* Cut where llama.cpp stops: after num_predict tokens, even
             * mid-document ("length"). */
            r->n_tokens = natural < cap ? natural : cap;
            r->hit_limit = natural > cap;
        } else {
            r->n_tokens = seeded && natural < cap ? natural : cap;
            r->hit_limit = r->n_tokens == cap;
        }
    } else {
        r->n_tokens = natural;
    }
    req_schedule(c, r);
out:
    emu_buf_free(&pkey);
    return;
}

void emu_req_submit_embed(emu_conn *c, int api)
{
    c->dialect = &emu_dialect_ollama;
    cJSON *root = emu_api_parse_body(c);
    if (!root)
        return;
    emu_req_submit_embed_as(c, api, root);
    cJSON_Delete(root);
}

void emu_req_submit_embed_as(emu_conn *c, int api, const cJSON *root)
{
    int64_t keep_alive = 0;
    int has_ka = 0;
    int embed = api == EMU_API_EMBED;
    int mi = req_check(c, root, embed ? "EmbedRequest" : "EmbeddingRequest",
                       embed, &keep_alive, &has_ka);
    if (mi < 0)
        goto out;
    /* EmbedHandler: input is a string (empty = none) or an array of
     * strings; /api/embeddings takes one prompt. */
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(
        root, embed ? "input" : "prompt");
    size_t tokens = 0;
    int n = 0;
    uint64_t h = 1469598103934665603ull;
    if (cJSON_IsString(in)) {
        n = in->valuestring[0] ? 1 : 0;
        tokens = (str_len(in) + 3) / 4 + 2;
        h = str_hash(in);
    } else if (embed && cJSON_IsArray(in)) {
        const cJSON *s;
        cJSON_ArrayForEach(s, in)
        {
            if (!cJSON_IsString(s)) {
                reply_now(c, 400, "invalid input type");
                goto out;
            }
            n++;
            tokens += (str_len(s) + 3) / 4 + 2;
            h = h * 31 + str_hash(s);
        }
    } else if (in && !cJSON_IsNull(in)) {
        if (embed)
            reply_now(c, 400, "invalid input type");
        else
            reply_now(c, 400, "json: cannot unmarshal into Go struct field "
                              "EmbeddingRequest.prompt of type string");
        goto out;
    }
    /* An emulator limit, not Ollama's: a 1 MiB body of one-letter inputs
     * would otherwise ask for gigabytes of vectors. */
    if ((long long)n * c->inst->emu->o.embed_dim > EMU_MAX_EMBED_FLOATS) {
        char err[160];
        snprintf(err, sizeof err,
                 "ollama-emu: at most %d inputs of %d dimensions per request",
                 EMU_MAX_EMBED_FLOATS / c->inst->emu->o.embed_dim,
                 c->inst->emu->o.embed_dim);
        reply_now(c, 400, err);
        goto out;
    }
    emu_req *r = req_new(c, root, api, mi, keep_alive, has_ka);
    r->stream = 0;
    r->n_inputs = n;
    r->input_hash = h;
    r->prompt_tokens = n ? (int)tokens : 0;
    /* One seed per input text: a text has the same vector in any batch
     * and on either route, as a model's embedding does. */
    if (n > 0) {
        r->input_hashes = pb_mem_alloc((size_t)n * sizeof *r->input_hashes);
        if (cJSON_IsString(in)) {
            r->input_hashes[0] = h;
        } else {
            int i = 0;
            const cJSON *s;
            cJSON_ArrayForEach(s, in) r->input_hashes[i++] = str_hash(s);
        }
    }
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(root, "dimensions");
    if (cJSON_IsNumber(dims) && dims->valuedouble >= 1 &&
        dims->valuedouble < c->inst->emu->o.embed_dim)
        r->dims = (int)dims->valuedouble;
    req_schedule(c, r);
out:
    return;
}

/* ---- timed events ---- */

/* Writes out (headers first if none went out yet) and traces it. Returns -1
 * when the connection is gone (and r with it). */
static int req_send(emu_req *r, emu_buf *out, int index)
{
    emu *e = r->inst->emu;
    uint64_t t = uv_hrtime();
    emu_trace_chunk(e, r->inst->index, r->id, index, t);
    return emu_conn_write(r->conn, out->data, out->len);
}

static void req_on_load_done(emu_req *r, uint64_t due)
{
    emu *e = r->inst->emu;
    r->t_load_end = due;
    if (r->load_only) {
        /* Ollama answers an empty prompt by loading the model only. */
        emu_buf line = {0};
        emu_conn *c = r->conn;
        const char *ctype = r->dialect->load(&line, r);
        req_finish(r);
        emu_http_reply(c, 200, ctype, line.data, line.len, 0);
        emu_buf_free(&line);
        emu_conn_response_done(c);
        return;
    }
    if (r->api == EMU_API_EMBED || r->api == EMU_API_EMBEDDINGS) {
        /* The embedding is one forward pass over the inputs: the timing
         * model's prompt cost, no first-token latency. */
        r->state = EMU_REQ_PROMPT;
        emu_sched_add(&e->sched, &r->item,
                      due + emu_scale_ns(e, r->prompt_tokens /
                                                e->o.prompt_rate));
        return;
    }
    /* Only the tokens not found in the slot's cache are evaluated
     * (emu_pcache.c); prompt_eval_count still counts them all, as Ollama
     * reports llama-server's cache_n + prompt_n. */
    double secs = (r->prompt_tokens - r->cached_tokens) / e->o.prompt_rate +
                  e->o.first_token_s;
    if (r->fault.kind == EMU_FAULT_DELAY_HEADERS)
        secs += r->fault.seconds;
    r->state = EMU_REQ_PROMPT;
    emu_sched_add(&e->sched, &r->item, due + emu_scale_ns(e, secs));
}

static void req_embed_done(emu_req *r, uint64_t due)
{
    emu_conn *c = r->conn;
    emu *e = r->inst->emu;
    r->t_eval0 = due;
    emu_buf body = {0};
    uint64_t t_final = uv_hrtime();
    const char *ctype = "application/json; charset=utf-8";
    if (r->dialect->embed) {
        r->dialect->embed(&body, r);
        ctype = r->dialect->json_ctype;
    } else {
        emu_api_embed_body(&body, r, t_final);
    }
    emu_trace_chunk(e, r->inst->index, r->id, 1, uv_hrtime());
    req_finish(r);
    emu_http_reply(c, 200, ctype, body.data, body.len, 0);
    emu_buf_free(&body);
    emu_conn_response_done(c);
}

static void req_final(emu_req *r, uint64_t due, emu_buf *out)
{
    emu_conn *c = r->conn;
    emu *e = r->inst->emu;
    emu_buf line = {0};
    uint64_t t_final = uv_hrtime();
    if (r->stream) {
        r->dialect->stream_end(&line, r, t_final);
        if (r->stream && r->fault.kind == EMU_FAULT_TRUNCATE_FINAL)
            line.len /= 2; /* cut mid-line, no newline */
        emu_stream_chunk(out, line.data, line.len);
        emu_buf_append(out, "0\r\n\r\n", 5);
        /* The trace is the ground truth of when bytes went out: stamped
         * now, not at t_final (the line's own clock), so the time spent
         * formatting Ollama's final line (its context ids) is not counted
         * as the client's lateness. */
        emu_trace_chunk(e, r->inst->index, r->id, r->n_sent + 1, uv_hrtime());
        if (emu_conn_write(c, out->data, out->len) < 0)
            goto done;
    } else {
        r->dialect->whole(&line, r, r->text.data ? r->text.data : "",
                          t_final);
        emu_trace_chunk(e, r->inst->index, r->id, r->n_sent + 1, uv_hrtime());
        emu_http_reply(c, 200, r->dialect->json_ctype, line.data, line.len,
                       0);
        if (c->closing)
            goto done;
    }
    emu_record_lag(e, due, t_final);
    if (!e->o.quiet)
        emu_log(e, "instance %d: request %s done: %d tokens in %.3f s",
                r->inst->index, r->id, r->n_sent,
                (double)(t_final - r->t_arrive) / 1e9);
    req_finish(r);
    emu_conn_response_done(c);
done:
    emu_buf_free(&line);
}

/* One token is due: write it (or act out the fault due at this point). */
static void req_on_token(emu_req *r, uint64_t due)
{
    emu *e = r->inst->emu;
    emu_conn *c = r->conn;
    const emu_fault *f = &r->fault;
    int fault_here = r->stream && f->k == r->n_sent;
    /* Scratch buffers owned by the emulator and reused for every token:
     * no malloc/free pair per token (a write that cannot go out at once is
     * copied by emu_conn_write, so reuse is safe). */
    emu_buf *out = &e->tok_out, *line = &e->tok_line;
    out->len = line->len = 0;

    if (!r->n_written && r->stream)
        emu_http_stream_headers(out, c, r->dialect->stream_ctype);

    if (fault_here && f->kind == EMU_FAULT_RESET_AFTER) {
        emu_log(e, "instance %d: request %s: fault reset_after:%d, sending "
                "RST", r->inst->index, r->id, f->k);
        req_finish(r);
        emu_conn_reset(c);
        goto out;
    }
    if (fault_here && f->kind == EMU_FAULT_GARBAGE) {
        char junk[64];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)gsl_rng_uniform_int(r->rng, 256);
        emu_buf_append(out, junk, sizeof junk);
        req_finish(r);
        if (emu_conn_write(c, out->data, out->len) == 0)
            emu_conn_shutdown(c);
        goto out;
    }
    if (fault_here && f->kind == EMU_FAULT_ERROR_AFTER) {
        r->dialect->error_event(line, r,
                                "an error was encountered while running the "
                                "model: parbench fault error_after");
        emu_stream_chunk(out, line->data, line->len);
        emu_buf_append(out, "0\r\n\r\n", 5);
        int idx = r->n_sent + 1;
        emu_trace_chunk(e, r->inst->index, r->id, idx, uv_hrtime());
        req_finish(r);
        if (emu_conn_write(c, out->data, out->len) == 0)
            emu_conn_response_done(c);
        goto out;
    }

    const char *tok;
    emu_tok_kind kind = EMU_TOK_CONTENT;
    if (r->out) {
        kind = emu_output_next(r->out, r->n_sent, r->rng, &e->tok_json,
                               &e->tok_raw);
        tok = e->tok_json.data ? e->tok_json.data : "";
    } else {
        tok = emu_stream_vocab(r->rng);
    }
    if (kind == EMU_TOK_HIDDEN) {
        /* Held back by Ollama's tool parser: decoded, not sent. */
    } else if (r->stream) {
        r->dialect->token(line, r, (int)kind, tok);
        if (f->kind == EMU_FAULT_MALFORMED_LINE && f->k == r->n_sent + 1) {
            /* Drop the last closing brace: the line (or SSE event) is no
             * longer JSON, its framing stays intact. */
            size_t i = line->len;
            while (i > 0 && line->data[i - 1] != '}')
                i--;
            if (i > 0) {
                memmove(line->data + i - 1, line->data + i, line->len - i);
                line->len--;
            }
        }
        emu_stream_chunk(out, line->data, line->len);
        r->n_written++;
        if (req_send(r, out, r->n_sent + 1) < 0)
            goto out; /* r is gone */
        emu_record_lag(e, due, uv_hrtime());
        out->len = 0;
    }
    /* The answer's text: the whole response of stream:false, and what the
     * slot's cache holds after it (req_cache_answer). */
    if (kind == EMU_TOK_CONTENT && (!r->stream || r->pkey.len)) {
        if (r->out)
            emu_buf_append(&r->text, e->tok_raw.data, e->tok_raw.len);
        else
            emu_buf_append(&r->text, tok, strlen(tok));
    }
    r->n_sent++;

    if (r->n_sent >= r->n_tokens) {
        req_final(r, due, out);
        goto out;
    }
    if (r->stream && f->kind == EMU_FAULT_STALL && f->k == r->n_sent &&
        !r->stalled) {
        r->stalled = 1;
        r->state = EMU_REQ_STALL;
        emu_sched_add(&e->sched, &r->item, due + emu_scale_ns(e, f->seconds));
        goto out;
    }
    emu_sched_add(&e->sched, &r->item,
                  due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->runner->decoding,
                                   r->rng));
out:
    out->len = line->len = 0;
}

static void req_on_event(emu_sched_item *it, uint64_t now)
{
    emu_req *r = (emu_req *)it;
    emu *e = r->inst->emu;
    uint64_t due = it->due;
    (void)now;
    switch (r->state) {
    case EMU_REQ_LOAD:
        req_on_load_done(r, due);
        break;
    case EMU_REQ_PROMPT:
        if (r->api == EMU_API_EMBED || r->api == EMU_API_EMBEDDINGS) {
            req_embed_done(r, due);
            break;
        }
        /* Decoding starts: this stream now shares its GPU. The schedule
         * runs from the due instant, not from now, so lag never drifts. */
        r->t_eval0 = due;
        emu_model_decode_begin(r);
        r->state = EMU_REQ_DECODE;
        emu_sched_add(&e->sched, &r->item,
                      due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->runner->decoding,
                                   r->rng));
        break;
    case EMU_REQ_DECODE:
        req_on_token(r, due);
        break;
    case EMU_REQ_STALL:
        if (r->fault.close) {
            emu_conn *c = r->conn;
            emu_log(e, "instance %d: request %s: fault stall:close, closing "
                    "mid-stream", r->inst->index, r->id);
            req_finish(r);
            emu_conn_close(c);
            break;
        }
        r->state = EMU_REQ_DECODE;
        emu_sched_add(&e->sched, &r->item,
                      due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->runner->decoding,
                                   r->rng));
        break;
    case EMU_REQ_QUEUED:
    case EMU_REQ_PENDING:
        break;
    }
}
