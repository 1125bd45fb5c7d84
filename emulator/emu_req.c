/* emu_req: one /api/generate or /api/chat request, from validation through
 * the slot queue, model load, prompt evaluation and token decoding, to the
 * final line.
 *
 * Every write of a request happens inside a scheduler callback, never in
 * emu_req_submit or while another request finishes: that keeps re-entrancy
 * out (finishing one request may start the next one in the queue).
 *
 * Lifetime rule: emu_conn_close() cancels (frees) the connection's request.
 * So after any emu_conn_write() that returns -1 the request is gone and the
 * code returns at once without touching it. */
#include "emu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_randist.h>

#include "pb_hash.h"

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

/* "gemma3" means "gemma3:latest", as in Ollama. */
int emu_model_find(const emu_options *o, const char *name)
{
    char full[160];
    if (strchr(name, ':'))
        snprintf(full, sizeof full, "%s", name);
    else
        snprintf(full, sizeof full, "%s:latest", name);
    for (int i = 0; i < o->n_models; i++) {
        const char *m = o->models[i];
        if (!strcmp(m, full) || !strcmp(m, name))
            return i;
        if (!strchr(m, ':')) {
            char mf[160];
            snprintf(mf, sizeof mf, "%s:latest", m);
            if (!strcmp(mf, full))
                return i;
        }
    }
    return -1;
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

/* ---- slot queue ---- */

static void req_free(emu_req *r)
{
    if (r->rng)
        gsl_rng_free(r->rng);
    free(r->model_json);
    emu_buf_free(&r->text);
    free(r);
}

static void req_start(emu_req *r, uint64_t now)
{
    emu_instance *inst = r->inst;
    r->t_start = now;
    inst->active++;
    uint32_t bit = 1u << r->model_index;
    if (!(inst->loaded_mask & bit)) {
        inst->loaded_mask |= bit;
        inst->loaded_until[r->model_index] = now + emu_scale_ns(inst->emu,
                                                                inst->emu->o.load_s);
    }
    uint64_t until = inst->loaded_until[r->model_index];
    /* Always through the scheduler, even with nothing to wait for, so that
     * writes never happen inside submit or finish (see top of file). */
    r->state = EMU_REQ_LOAD;
    emu_sched_add(&inst->emu->sched, &r->item, until > now ? until : now);
}

static void inst_dequeue(emu_instance *inst)
{
    while (inst->active < inst->emu->o.num_parallel && inst->q_head) {
        emu_req *r = inst->q_head;
        inst->q_head = r->qnext;
        if (!inst->q_head)
            inst->q_tail = NULL;
        r->qnext = NULL;
        inst->n_queued--;
        req_start(r, uv_hrtime());
    }
}

/* Releases r's slot and GPU share, detaches and frees it, starts queued
 * work. The connection stays open (the caller decides what follows). */
static void req_finish(emu_req *r)
{
    emu_instance *inst = r->inst;
    emu_sched_remove(&inst->emu->sched, &r->item);
    if (r->decoding)
        inst->gpu->k--;
    if (r->state == EMU_REQ_QUEUED) {
        emu_req **pp = &inst->q_head;
        emu_req *prev = NULL;
        while (*pp && *pp != r) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = r->qnext;
            if (inst->q_tail == r)
                inst->q_tail = prev;
            inst->n_queued--;
        }
    } else {
        inst->active--;
    }
    if (r->conn)
        r->conn->req = NULL;
    req_free(r);
    inst_dequeue(inst);
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

void emu_req_submit(emu_conn *c, int is_chat)
{
    c->dialect = &emu_dialect_ollama;
    if (!c->body.len) {
        reply_now(c, 400, "missing request body");
        return;
    }
    cJSON *root = cJSON_ParseWithLength(c->body.data, c->body.len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        reply_now(c, 400, "invalid JSON in request body");
        return;
    }
    emu_req_submit_as(c, is_chat, 0, root);
    cJSON_Delete(root);
}

void emu_req_submit_as(emu_conn *c, int is_chat, int include_usage,
                       const cJSON *root)
{
    emu_instance *inst = c->inst;
    emu *e = inst->emu;
    char err[256];

    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    int mi;
    if (model && !cJSON_IsString(model)) {
        reply_now(c, 400, "json: cannot unmarshal model: expected a string");
        goto out;
    }
    if (!model || !model->valuestring[0]) {
        reply_now(c, 400, "model is required");
        goto out;
    }
    if ((mi = emu_model_find(&e->o, model->valuestring)) < 0) {
        snprintf(err, sizeof err, "model '%s' not found",
                 model->valuestring);
        reply_now(c, 404, err);
        goto out;
    }
    if (opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts)) {
        reply_now(c, 400, "json: cannot unmarshal options: expected an "
                          "object");
        goto out;
    }
    if (opts && check_options(opts, err, sizeof err)) {
        reply_now(c, 500, err);
        goto out;
    }

    /* Fault: per request (option, then header) overrides the instance's. */
    emu_fault fault = inst->fault;
    const cJSON *fopt = opts ? cJSON_GetObjectItemCaseSensitive(
                                   opts, "parbench_fault")
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

    /* Admission: a slot now, a place in the queue, or 503. */
    if (inst->active >= e->o.num_parallel && inst->n_queued >= e->o.max_queue) {
        reply_now(c, 503, busy_msg);
        goto out;
    }

    emu_req *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->item.idx = SIZE_MAX;
    r->item.cb = req_on_event;
    r->conn = c;
    r->inst = inst;
    r->is_chat = is_chat;
    r->stream = !cJSON_IsFalse(stream);
    r->model_index = mi;
    r->fault = fault;
    r->dialect = c->dialect;
    r->include_usage = include_usage;
    r->t_arrive = uv_hrtime();
    r->model_json = cJSON_PrintUnformatted(model);
    uint64_t nth = inst->n_requests++;
    if (c->req_id[0])
        snprintf(r->id, sizeof r->id, "%s", c->req_id);
    else
        snprintf(r->id, sizeof r->id, "i%d-%llu", inst->index,
                 (unsigned long long)nth);

    size_t prompt_bytes = 0;
    uint64_t prompt_hash = 0;
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
        }
        r->load_only = n_msgs == 0;
    } else {
        prompt_bytes =
            str_len(cJSON_GetObjectItemCaseSensitive(root, "prompt")) +
            str_len(cJSON_GetObjectItemCaseSensitive(root, "system"));
        r->load_only =
            !str_len(cJSON_GetObjectItemCaseSensitive(root, "prompt"));
        prompt_hash = str_hash(cJSON_GetObjectItemCaseSensitive(root, "prompt"));
    }

    /* Deterministic per request. With options.seed the response depends
     * only on --seed, options.seed and the prompt, as Ollama's seeded
     * sampling does: the same request gives the same length (and jitter)
     * on any instance, which lets a client pair a solo request with a
     * concurrent one. Without it: seed + instance + n-th request there. */
    const cJSON *oseed =
        opts ? cJSON_GetObjectItemCaseSensitive(opts, "seed") : NULL;
    /* Through int64_t: a negative or huge seed must not be UB. */
    int seeded = cJSON_IsNumber(oseed) && fabs(oseed->valuedouble) < 4e18;
    uint64_t rseed = seeded
        ? e->o.seed + 1000003ull * (uint64_t)(int64_t)oseed->valuedouble + prompt_hash
        : e->o.seed + 1000003ull * (uint64_t)inst->index + nth;
    r->rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r->rng, (unsigned long)rseed);
    /* ~4 bytes per token plus the chat template's own tokens. */
    r->prompt_tokens = (int)((prompt_bytes + 3) / 4) + 8;

    const cJSON *np =
        opts ? cJSON_GetObjectItemCaseSensitive(opts, "num_predict") : NULL;
    if (cJSON_IsNumber(np) && np->valuedouble >= 1) {
        r->n_tokens = np->valuedouble > 1e6 ? 1000000 : (int)np->valuedouble;
        r->hit_limit = 1;
    } else {
        double len = e->o.len_mean;
        if (e->o.len_sd > 0)
            len += gsl_ran_gaussian(r->rng, e->o.len_sd);
        r->n_tokens = len < 1 ? 1 : (int)lround(len);
    }

    c->req = r;
    pthread_mutex_lock(&e->mu);
    e->stats.requests++;
    pthread_mutex_unlock(&e->mu);

    if (inst->active < e->o.num_parallel) {
        req_start(r, r->t_arrive);
    } else {
        r->state = EMU_REQ_QUEUED;
        if (inst->q_tail)
            inst->q_tail->qnext = r;
        else
            inst->q_head = r;
        inst->q_tail = r;
        inst->n_queued++;
    }
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
    double secs = r->prompt_tokens / e->o.prompt_rate + e->o.first_token_s;
    if (r->fault.kind == EMU_FAULT_DELAY_HEADERS)
        secs += r->fault.seconds;
    r->state = EMU_REQ_PROMPT;
    emu_sched_add(&e->sched, &r->item, due + emu_scale_ns(e, secs));
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
        emu_trace_chunk(e, r->inst->index, r->id, r->n_sent + 1, t_final);
        if (emu_conn_write(c, out->data, out->len) < 0)
            goto done;
    } else {
        r->dialect->whole(&line, r, r->text.data ? r->text.data : "",
                          t_final);
        emu_trace_chunk(e, r->inst->index, r->id, r->n_sent + 1, t_final);
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

    if (!r->n_sent && r->stream)
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

    const char *tok = emu_stream_vocab(r->rng);
    if (r->stream) {
        r->dialect->token(line, r, tok);
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
        if (req_send(r, out, r->n_sent + 1) < 0)
            goto out; /* r is gone */
        emu_record_lag(e, due, uv_hrtime());
        out->len = 0;
    } else {
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
                  due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->rng));
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
        /* Decoding starts: this stream now shares its GPU. The schedule
         * runs from the due instant, not from now, so lag never drifts. */
        r->t_eval0 = due;
        r->decoding = 1;
        r->inst->gpu->k++;
        r->state = EMU_REQ_DECODE;
        emu_sched_add(&e->sched, &r->item,
                      due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->rng));
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
                      due + emu_gpu_token_ns(&e->o, r->inst->gpu, r->rng));
        break;
    case EMU_REQ_QUEUED:
        break;
    }
}
