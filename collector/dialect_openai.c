/* dialect_openai: the OpenAI-compatible streaming API that vLLM, llama.cpp's
 * llama-server, SGLang, TGI, LM Studio and Ollama's /v1 speak:
 * POST /v1/chat/completions and /v1/completions with "stream": true.
 *
 * The reply is an event stream: `data: {chunk}` events, the last content
 * event with a finish_reason, a usage-only event when stream_options asks
 * for it, then `data: [DONE]`. */
#include <stdio.h>
#include <string.h>

#include "dialect.h"

/* Ollama option -> OpenAI request field. Anything else has no equivalent
 * in the OpenAI API and is refused rather than dropped. */
static const struct { const char *ollama, *openai; } option_map[] = {
    {"num_predict", "max_tokens"},
    {"temperature", "temperature"},
    {"top_p", "top_p"},
    {"seed", "seed"},
    {"stop", "stop"},
    {"frequency_penalty", "frequency_penalty"},
    {"presence_penalty", "presence_penalty"},
};
#define N_MAP (sizeof option_map / sizeof option_map[0])

static const char *mapped(const char *ollama)
{
    for (size_t i = 0; i < N_MAP; i++)
        if (strcmp(ollama, option_map[i].ollama) == 0)
            return option_map[i].openai;
    return NULL;
}

static int check_options(const cJSON *options, char *err, size_t errlen)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, options) {
        if (mapped(o->string))
            continue;
        const char *hint = strcmp(o->string, "parbench_fault") == 0
                               ? "; send a fault with the header X-Parbench-Fault instead"
                               : "; remove it, or use api \"generate\" or \"chat\" (Ollama's own API)";
        snprintf(err, errlen,
                 "option \"%s\" has no OpenAI equivalent (the OpenAI dialects send "
                 "num_predict as max_tokens, temperature, top_p, seed, stop, "
                 "frequency_penalty, presence_penalty)%s", o->string, hint);
        return -1;
    }
    return 0;
}

static cJSON *build(const pb_agent_spec *a, const pb_request_params *p, int chat)
{
    cJSON *body = pb_request_body_new(a, chat);
    /* The server's own token count arrives in a last, usage-only event. */
    cJSON *so = cJSON_AddObjectToObject(body, "stream_options");
    cJSON_AddBoolToObject(so, "include_usage", 1);
    const cJSON *o;
    cJSON_ArrayForEach(o, a->options) {
        const char *f = mapped(o->string);
        if (!f || (p->num_predict > 0 && strcmp(f, "max_tokens") == 0))
            continue; /* unmapped ones were refused when the plan was loaded */
        cJSON_AddItemToObject(body, f, cJSON_Duplicate(o, 1));
    }
    if (p->num_predict > 0)
        cJSON_AddNumberToObject(body, "max_tokens", p->num_predict);
    if (p->sample_seed >= 0 && !cJSON_GetObjectItemCaseSensitive(body, "seed"))
        cJSON_AddNumberToObject(body, "seed", (double)p->sample_seed);
    return body;
}

static cJSON *build_chat(const pb_agent_spec *a, const pb_request_params *p)
{
    return build(a, p, 1);
}

static cJSON *build_completions(const pb_agent_spec *a, const pb_request_params *p)
{
    return build(a, p, 0);
}

/* {"error": "text"} or OpenAI's {"error": {"message": "text", ...}}. */
static const char *error_text(const cJSON *body)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static int nonempty(const cJSON *s)
{
    return cJSON_IsString(s) && s->valuestring[0];
}

/* The kept statistics: an object created on first use. */
static cJSON *final_obj(pb_reply *r)
{
    if (!r->final)
        r->final = cJSON_CreateObject();
    return r->final;
}

static void keep(pb_reply *r, const char *key, const cJSON *v)
{
    cJSON *f = final_obj(r);
    cJSON_DeleteItemFromObjectCaseSensitive(f, key);
    cJSON_AddItemToObject(f, key, cJSON_Duplicate(v, 1));
}

static int on_message(pb_reply *r, const pb_message *m)
{
    char ex[128];
    if (m->stray) {
        /* A bare JSON error object written into the event stream. */
        cJSON *j = cJSON_ParseWithLength(m->data, m->len);
        const char *et = error_text(j);
        if (et)
            pb_reply_fail(r, "stream error from %s: %s", r->url, et);
        cJSON_Delete(j);
        return et ? PB_MSG_STOP : 0;
    }
    if (strcmp(m->type, "error") == 0) {
        cJSON *j = cJSON_ParseWithLength(m->data, m->len);
        const char *et = error_text(j);
        pb_excerpt(et ? et : m->data, et ? strlen(et) : m->len, ex, sizeof ex);
        pb_reply_fail(r, "stream error from %s: %s", r->url, ex);
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    if (m->len == 6 && memcmp(m->data, "[DONE]", 6) == 0) {
        r->done = 1;
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(m->data, m->len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        pb_excerpt(m->data, m->len, ex, sizeof ex);
        pb_reply_fail(r, "malformed event %llu from %s (data is not a JSON object): %s",
                      (unsigned long long)m->index, r->url, ex);
        return PB_MSG_STOP;
    }
    const char *et = error_text(j);
    if (et || cJSON_GetObjectItemCaseSensitive(j, "error")) {
        pb_reply_fail(r, "stream error from %s: %s", r->url, et ? et : "(no message)");
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    if (ch) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(ch, "delta");
        const cJSON *c = d ? cJSON_GetObjectItemCaseSensitive(d, "content")
                           : cJSON_GetObjectItemCaseSensitive(ch, "text");
        if (nonempty(c)) {
            pb_reply_content(r, c->valuestring);
            bits |= PB_MSG_CONTENT;
        }
        /* vLLM and llama.cpp say reasoning_content, Ollama says reasoning. */
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(d, "reasoning_content");
        if (!nonempty(rc))
            rc = cJSON_GetObjectItemCaseSensitive(d, "reasoning");
        if (nonempty(rc)) {
            r->reasoning_events++;
            bits |= PB_MSG_REASONING;
        }
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
        if (nonempty(fr))
            keep(r, "finish_reason", fr);
    }
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(u)) {
        keep(r, "usage", u);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
        if (cJSON_IsNumber(ct) && ct->valuedouble >= 0)
            r->server_tokens = (int64_t)ct->valuedouble;
    }
    /* llama.cpp's server timings, verbatim. */
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "timings");
    if (cJSON_IsObject(t))
        keep(r, "timings", t);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (nonempty(model) && !cJSON_GetObjectItemCaseSensitive(final_obj(r), "model"))
        keep(r, "model", model);
    cJSON_Delete(j);
    return bits;
}

/* A non-streamed answer: choices[0].message (chat) or .text
 * (completions), usage and timings, in one object. */
static int on_whole(pb_reply *r, const char *data, size_t len)
{
    char ex[128];
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        pb_excerpt(data, len, ex, sizeof ex);
        pb_reply_fail(r, "answer from %s is not a JSON object: %s", r->url, ex);
        return PB_MSG_STOP;
    }
    const char *et = error_text(j);
    if (et || cJSON_GetObjectItemCaseSensitive(j, "error")) {
        pb_reply_fail(r, "error from %s: %s", r->url, et ? et : "(no message)");
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    const cJSON *c = msg ? cJSON_GetObjectItemCaseSensitive(msg, "content")
                         : cJSON_GetObjectItemCaseSensitive(ch, "text");
    if (nonempty(c)) {
        pb_reply_content(r, c->valuestring);
        bits |= PB_MSG_CONTENT;
    }
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(msg, "reasoning_content");
    if (!nonempty(rc))
        rc = cJSON_GetObjectItemCaseSensitive(msg, "reasoning");
    if (nonempty(rc)) {
        r->reasoning_events++;
        bits |= PB_MSG_REASONING;
    }
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    if (nonempty(fr))
        keep(r, "finish_reason", fr);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(u)) {
        keep(r, "usage", u);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
        if (cJSON_IsNumber(ct) && ct->valuedouble >= 0)
            r->server_tokens = (int64_t)ct->valuedouble;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "timings");
    if (cJSON_IsObject(t))
        keep(r, "timings", t);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (nonempty(model))
        keep(r, "model", model);
    r->done = 1;
    cJSON_Delete(j);
    return bits;
}

static void on_end(pb_reply *r, const char *partial, size_t partial_len)
{
    char ex[128];
    if (partial_len) {
        pb_excerpt(partial, partial_len, ex, sizeof ex);
        pb_reply_fail(r, "stream from %s ended inside an event (no blank line after it): %s",
                      r->url, ex);
        return;
    }
    if (!r->done)
        pb_reply_fail(r, "stream from %s ended without data: [DONE]", r->url);
}

static cJSON *model_ids(const cJSON *models)
{
    cJSON *ids = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(models, "data")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(id))
            cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
    }
    return ids;
}

/* The OpenAI API has no version route, and a model's owned_by is its
 * owner ("library" on Ollama, "vllm", "llamacpp"), not the server's
 * version: the version is what /api/version of the same base states when
 * the server is an Ollama (version_probe), else none. */
static cJSON *server_version(const cJSON *version, const cJSON *models, const char *model)
{
    (void)models;
    (void)model;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(version, "version");
    return nonempty(v) ? cJSON_CreateString(v->valuestring) : NULL;
}

const pb_dialect pb_dialect_openai_chat = {
    .name = "openai-chat", .family = "openai", .path = "/v1/chat/completions",
    .framing = PB_FRAMING_SSE,
    .check_options = check_options, .build_request = build_chat,
    .on_message = on_message, .on_end = on_end, .on_whole = on_whole,
    .error_text = error_text,
    .models_path = "/v1/models", .model_ids = model_ids,
    .version_path = NULL, .version_probe = "/api/version",
    .server_version = server_version,
};

const pb_dialect pb_dialect_openai_completions = {
    .name = "openai-completions", .family = "openai", .path = "/v1/completions",
    .framing = PB_FRAMING_SSE,
    .check_options = check_options, .build_request = build_completions,
    .on_message = on_message, .on_end = on_end, .on_whole = on_whole,
    .error_text = error_text,
    .models_path = "/v1/models", .model_ids = model_ids,
    .version_path = NULL, .version_probe = "/api/version",
    .server_version = server_version,
};
