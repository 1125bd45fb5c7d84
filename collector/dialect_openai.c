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
static const pb_option_map option_map[] = {
    {"num_predict", "max_tokens"},
    {"temperature", "temperature"},
    {"top_p", "top_p"},
    {"seed", "seed"},
    {"stop", "stop"},
    {"frequency_penalty", "frequency_penalty"},
    {"presence_penalty", "presence_penalty"},
};
#define N_MAP (sizeof option_map / sizeof option_map[0])

static int check_options(const cJSON *options, char *err, size_t errlen)
{
    const char *bad = pb_option_unmapped(options, option_map, N_MAP);
    if (!bad)
        return 0;
    const char *hint = strcmp(bad, "parbench_fault") == 0
                           ? "; send a fault with the header X-Parbench-Fault instead"
                           : "; remove it, or use api \"generate\" or \"chat\" (Ollama's own API)";
    snprintf(err, errlen,
             "option \"%s\" has no OpenAI equivalent (the OpenAI dialects send "
             "num_predict as max_tokens, temperature, top_p, seed, stop, "
             "frequency_penalty, presence_penalty)%s", bad, hint);
    return -1;
}

static cJSON *build(const pb_agent_spec *a, const pb_request_params *p, int chat)
{
    cJSON *body = pb_request_body_new(a, chat);
    /* The server's own token count arrives in a last, usage-only event. */
    cJSON *so = cJSON_AddObjectToObject(body, "stream_options");
    cJSON_AddBoolToObject(so, "include_usage", 1);
    pb_options_add_mapped(body, a->options, option_map, N_MAP, "max_tokens", p->num_predict);
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

/* One choice: its text (in `part`, "delta" or "message", or its own
 * "text" for completions), reasoning and finish_reason. */
static int read_choice(pb_reply *r, const cJSON *ch, const char *part)
{
    int bits = 0;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ch, part);
    const cJSON *c = d ? cJSON_GetObjectItemCaseSensitive(d, "content")
                       : cJSON_GetObjectItemCaseSensitive(ch, "text");
    if (pb_json_nonempty(c)) {
        pb_reply_content(r, c->valuestring);
        bits |= PB_MSG_CONTENT;
    }
    /* vLLM and llama.cpp say reasoning_content, Ollama says reasoning. */
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(d, "reasoning_content");
    if (!pb_json_nonempty(rc))
        rc = cJSON_GetObjectItemCaseSensitive(d, "reasoning");
    if (pb_json_nonempty(rc)) {
        r->reasoning_events++;
        bits |= PB_MSG_REASONING;
    }
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    if (pb_json_nonempty(fr))
        pb_reply_keep(r, "finish_reason", fr);
    return bits;
}

/* The statistics of an event or an answer: usage (the server's count),
 * llama.cpp's timings, the first model named. */
static void read_stats(pb_reply *r, const cJSON *j)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsObject(u)) {
        pb_reply_keep(r, "usage", u);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
        if (cJSON_IsNumber(ct) && ct->valuedouble >= 0)
            r->server_tokens = (int64_t)ct->valuedouble;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "timings");
    if (cJSON_IsObject(t))
        pb_reply_keep(r, "timings", t);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    if (pb_json_nonempty(model) && !cJSON_GetObjectItemCaseSensitive(r->final, "model"))
        pb_reply_keep(r, "model", model);
}

/* An error object in place of an answer or an event: recorded. */
static int failed(pb_reply *r, const cJSON *j, const char *what)
{
    const char *et = error_text(j);
    if (!et && !cJSON_GetObjectItemCaseSensitive(j, "error"))
        return 0;
    pb_reply_fail(r, "%s from %s: %s", what, r->url, et ? et : "(no message)");
    return 1;
}

static int on_message(pb_reply *r, const pb_message *m)
{
    if (m->stray)
        return pb_reply_sse_stray(r, m, error_text);
    if (strcmp(m->type, "error") == 0) {
        pb_reply_sse_error(r, m, error_text);
        return PB_MSG_STOP;
    }
    if (m->len == 6 && memcmp(m->data, "[DONE]", 6) == 0) {
        r->done = 1;
        return 0;
    }
    cJSON *j = pb_reply_sse_json(r, m);
    if (!j)
        return PB_MSG_STOP;
    if (failed(r, j, "stream error")) {
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    if (ch)
        bits = read_choice(r, ch, "delta");
    read_stats(r, j);
    cJSON_Delete(j);
    return bits;
}

/* A non-streamed answer: choices[0].message (chat) or .text
 * (completions), usage and timings, in one object. */
static int on_whole(pb_reply *r, const char *data, size_t len)
{
    cJSON *j = pb_reply_parse_whole(r, data, len);
    if (!j)
        return PB_MSG_STOP;
    if (failed(r, j, "error")) {
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    if (ch)
        bits = read_choice(r, ch, "message");
    read_stats(r, j);
    r->done = 1;
    cJSON_Delete(j);
    return bits;
}

static void on_end(pb_reply *r, const char *partial, size_t partial_len)
{
    pb_reply_sse_end(r, partial, partial_len, "data: [DONE]");
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
    return pb_json_nonempty(v) ? cJSON_CreateString(v->valuestring) : NULL;
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
