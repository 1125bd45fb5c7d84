/* dialect_ollama: Ollama's native streaming API, /api/generate and
 * /api/chat. NDJSON: one object per line, the last with "done": true and
 * the server's statistics (integer nanosecond durations). */
#include <string.h>

#include "dialect.h"

static int check_options(const cJSON *options, char *err, size_t errlen)
{
    /* Ollama takes its own options verbatim: nothing to refuse. */
    (void)options;
    (void)err;
    (void)errlen;
    return 0;
}

static cJSON *build(const pb_agent_spec *a, const pb_request_params *p, int chat)
{
    cJSON *body = pb_request_body_new(a, chat);
    cJSON *opts = a->options ? cJSON_Duplicate(a->options, 1) : cJSON_CreateObject();
    if (p->num_predict > 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(opts, "num_predict");
        cJSON_AddNumberToObject(opts, "num_predict", p->num_predict);
    }
    if (p->sample_seed >= 0 && !cJSON_GetObjectItemCaseSensitive(opts, "seed"))
        cJSON_AddNumberToObject(opts, "seed", (double)p->sample_seed);
    /* No options at all is what the study's baseline agent sent. */
    if (cJSON_GetArraySize(opts) > 0)
        cJSON_AddItemToObject(body, "options", opts);
    else
        cJSON_Delete(opts);
    return body;
}

static cJSON *build_generate(const pb_agent_spec *a, const pb_request_params *p)
{
    return build(a, p, 0);
}

static cJSON *build_chat(const pb_agent_spec *a, const pb_request_params *p)
{
    return build(a, p, 1);
}

/* One parsed message (a line, or a whole answer): taken and freed. */
static int interpret_obj(pb_reply *r, cJSON *j)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (e) {
        pb_reply_fail(r, "stream error from %s: %s", r->url,
                      cJSON_IsString(e) ? e->valuestring : "(non-string error)");
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "response");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(j, "thinking");
    if (m) {
        c = cJSON_GetObjectItemCaseSensitive(m, "content");
        th = cJSON_GetObjectItemCaseSensitive(m, "thinking");
    }
    if (cJSON_IsString(c) && c->valuestring[0]) {
        pb_reply_content(r, c->valuestring);
        bits |= PB_MSG_CONTENT;
    }
    if (cJSON_IsString(th) && th->valuestring[0]) {
        r->reasoning_events++;
        bits |= PB_MSG_REASONING;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "done"))) {
        r->done = 1;
        /* The statistics verbatim, except the context token array
         * (hundreds of numbers that say nothing about timing). */
        cJSON *ctx = cJSON_DetachItemFromObjectCaseSensitive(j, "context");
        if (ctx) {
            cJSON_AddNumberToObject(j, "context_len",
                                    cJSON_IsArray(ctx) ? cJSON_GetArraySize(ctx) : 0);
            cJSON_Delete(ctx);
        }
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "eval_count");
        if (cJSON_IsNumber(ec) && ec->valuedouble >= 0)
            r->server_tokens = (int64_t)ec->valuedouble;
        cJSON_Delete(r->final);
        r->final = j;
        return bits;
    }
    cJSON_Delete(j);
    return bits;
}

static int interpret(pb_reply *r, const char *line, size_t len, uint64_t index, int at_end)
{
    char ex[128];
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        pb_excerpt(line, len, ex, sizeof ex);
        if (at_end)
            pb_reply_fail(r, "truncated last line from %s (no newline, not JSON): %s", r->url, ex);
        else
            pb_reply_fail(r, "malformed NDJSON line %llu from %s: %s",
                          (unsigned long long)index, r->url, ex);
        return PB_MSG_STOP;
    }
    return interpret_obj(r, j);
}

static int on_message(pb_reply *r, const pb_message *m)
{
    return interpret(r, m->data, m->len, m->index, 0);
}

static void on_end(pb_reply *r, const char *partial, size_t partial_len)
{
    /* Ollama ends every line with '\n'; a rest without one is the last
     * line cut short, unless it still parses. */
    while (partial_len && (partial[partial_len - 1] == '\r' || partial[partial_len - 1] == ' '))
        partial_len--;
    if (partial_len && (interpret(r, partial, partial_len, 0, 1) & PB_MSG_STOP))
        return;
    if (!r->error && !r->done)
        pb_reply_fail(r, "stream from %s ended without a final line (done:true)", r->url);
}

/* A non-streamed answer is the stream's final line with all the text. */
static int on_whole(pb_reply *r, const char *data, size_t len)
{
    cJSON *j = pb_reply_parse_whole(r, data, len);
    if (!j)
        return PB_MSG_STOP;
    int bits = interpret_obj(r, j);
    if (!r->error && !r->done)
        pb_reply_fail(r, "answer from %s without done:true", r->url);
    return bits;
}

static const char *error_text(const cJSON *body)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

static cJSON *model_ids(const cJSON *tags)
{
    cJSON *ids = cJSON_CreateArray();
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(tags, "models"), *m;
    cJSON_ArrayForEach(m, ms) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (!cJSON_IsString(n))
            n = cJSON_GetObjectItemCaseSensitive(m, "model");
        if (cJSON_IsString(n))
            cJSON_AddItemToArray(ids, cJSON_CreateString(n->valuestring));
    }
    return ids;
}

static cJSON *server_version(const cJSON *version, const cJSON *models, const char *model)
{
    (void)models;
    (void)model;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(version, "version");
    return cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : NULL;
}

const pb_dialect pb_dialect_ollama_generate = {
    .name = "generate", .family = "ollama", .path = "/api/generate",
    .framing = PB_FRAMING_NDJSON,
    .check_options = check_options, .build_request = build_generate,
    .on_message = on_message, .on_end = on_end, .on_whole = on_whole,
    .error_text = error_text,
    .models_path = "/api/tags", .model_ids = model_ids,
    .version_path = "/api/version", .server_version = server_version,
};

const pb_dialect pb_dialect_ollama_chat = {
    .name = "chat", .family = "ollama", .path = "/api/chat",
    .framing = PB_FRAMING_NDJSON,
    .check_options = check_options, .build_request = build_chat,
    .on_message = on_message, .on_end = on_end, .on_whole = on_whole,
    .error_text = error_text,
    .models_path = "/api/tags", .model_ids = model_ids,
    .version_path = "/api/version", .server_version = server_version,
};
