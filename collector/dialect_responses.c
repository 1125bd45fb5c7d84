/* dialect_responses: OpenAI's Responses API, POST /v1/responses with
 * "stream": true, as Ollama serves it (openai/responses.go) and as agent
 * frameworks built on it send it (the openai SDK's responses.stream,
 * @openai/agents).
 *
 * The reply is an event stream of typed events (`event: <type>` and a data
 * object whose "type" repeats it): response.created, ...,
 * response.output_text.delta with the text in "delta", reasoning as
 * response.reasoning_summary_text.delta (Ollama) or
 * response.reasoning_text.delta, and a last response.completed (or
 * response.incomplete when max_output_tokens cut it) whose response.usage
 * holds the server's output_tokens. response.failed and `error` events are
 * failures. There is no `data: [DONE]`. */
#include <stdio.h>
#include <string.h>

#include "dialect.h"

/* Ollama option -> Responses request field: the request has no seed, stop
 * or penalties (Ollama's ResponsesRequest reads max_output_tokens,
 * temperature and top_p), so those are refused rather than dropped. */
static const pb_option_map option_map[] = {
    {"num_predict", "max_output_tokens"},
    {"temperature", "temperature"},
    {"top_p", "top_p"},
};
#define N_MAP (sizeof option_map / sizeof option_map[0])

static int check_options(const cJSON *options, char *err, size_t errlen)
{
    const char *bad = pb_option_unmapped(options, option_map, N_MAP);
    if (!bad)
        return 0;
    snprintf(err, errlen,
             "option \"%s\" has no equivalent in the Responses API (it carries "
             "num_predict as max_output_tokens, temperature and top_p); remove it, "
             "or use api \"openai-chat\" or \"chat\"", bad);
    return -1;
}

/* The prompt as "input" (a string is one user message). No sampling
 * seed: the API has none, so paired seeds do not reach the server. */
static cJSON *build_request(const pb_agent_spec *a, const pb_request_params *p)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", a->model);
    cJSON_AddStringToObject(body, "input", a->prompt ? a->prompt : "");
    cJSON_AddBoolToObject(body, "stream", 1);
    pb_options_add_mapped(body, a->options, option_map, N_MAP, "max_output_tokens",
                          p->num_predict);
    return body;
}

/* {"error": "text"}, {"error": {"message": "text"}}, or an `error`
 * event's own {"type": "error", "message": "text"}. */
static const char *error_text(const cJSON *body)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    if (cJSON_IsString(e))
        return e->valuestring;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (cJSON_IsString(m))
        return m->valuestring;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "type");
    m = cJSON_GetObjectItemCaseSensitive(body, "message");
    return cJSON_IsString(t) && !strcmp(t->valuestring, "error") && cJSON_IsString(m)
               ? m->valuestring : NULL;
}

/* The end of the stream: the response's status, model and usage kept,
 * its output_tokens the server's count. */
static void finished(pb_reply *r, const cJSON *response)
{
    r->done = 1;
    const char *keys[] = {"status", "model", "usage", "incomplete_details"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(response, keys[i]);
        if (v && !cJSON_IsNull(v))
            pb_reply_keep(r, keys[i], v);
    }
    const cJSON *ot = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(response, "usage"), "output_tokens");
    if (cJSON_IsNumber(ot) && ot->valuedouble >= 0)
        r->server_tokens = (int64_t)ot->valuedouble;
}

static int on_message(pb_reply *r, const pb_message *m)
{
    /* Not part of this API, but harmless where a server adds it. */
    if (m->len == 6 && memcmp(m->data, "[DONE]", 6) == 0)
        return 0;
    if (m->stray)
        return pb_reply_sse_stray(r, m, error_text);
    cJSON *j = pb_reply_sse_json(r, m);
    if (!j)
        return PB_MSG_STOP;
    /* The event's name, from its `event:` line or, without one, from the
     * data's own "type". */
    const char *type = m->type;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "type");
    if ((!type || !strcmp(type, "message")) && cJSON_IsString(dt))
        type = dt->valuestring;
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(j, "response");
    int bits = 0;
    if (!strcmp(type, "error")) {
        pb_reply_sse_error(r, m, error_text);
        bits = PB_MSG_STOP;
    } else if (!strcmp(type, "response.failed")) {
        const char *et = error_text(resp);
        pb_reply_fail(r, "stream error from %s: %s", r->url, et ? et : "response.failed");
        bits = PB_MSG_STOP;
    } else if (!strcmp(type, "response.output_text.delta")) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delta");
        if (pb_json_nonempty(d)) {
            pb_reply_content(r, d->valuestring);
            bits = PB_MSG_CONTENT;
        }
    } else if (!strcmp(type, "response.reasoning_summary_text.delta") ||
               !strcmp(type, "response.reasoning_text.delta")) {
        if (pb_json_nonempty(cJSON_GetObjectItemCaseSensitive(j, "delta"))) {
            r->reasoning_events++;
            bits = PB_MSG_REASONING;
        }
    } else if (!strcmp(type, "response.completed") || !strcmp(type, "response.incomplete")) {
        finished(r, resp);
    }
    cJSON_Delete(j);
    return bits;
}

/* A non-streamed answer: the response object itself, its output items
 * (messages with output_text parts, reasoning items) and usage. */
static int on_whole(pb_reply *r, const char *data, size_t len)
{
    cJSON *j = pb_reply_parse_whole(r, data, len);
    if (!j)
        return PB_MSG_STOP;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    const char *et = error_text(j);
    if (et || (cJSON_IsString(st) && !strcmp(st->valuestring, "failed"))) {
        pb_reply_fail(r, "error from %s: %s", r->url, et ? et : "status failed");
        cJSON_Delete(j);
        return PB_MSG_STOP;
    }
    int bits = 0;
    const cJSON *item, *part;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(j, "output")) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        if (!cJSON_IsString(type))
            continue;
        if (!strcmp(type->valuestring, "message")) {
            cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(item, "content")) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
                if (pb_json_nonempty(t)) {
                    pb_reply_content(r, t->valuestring);
                    bits |= PB_MSG_CONTENT;
                }
            }
        } else if (!strcmp(type->valuestring, "reasoning")) {
            /* Ollama puts the thinking in summary[].text; OpenAI may put it in
             * content[].text. */
            const char *lists[] = {"summary", "content"};
            for (int k = 0; k < 2 && !(bits & PB_MSG_REASONING); k++)
                cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(item, lists[k]))
                    if (pb_json_nonempty(cJSON_GetObjectItemCaseSensitive(part, "text"))) {
                        r->reasoning_events++;
                        bits |= PB_MSG_REASONING;
                        break;
                    }
        }
    }
    finished(r, j);
    cJSON_Delete(j);
    return bits;
}

static void on_end(pb_reply *r, const char *partial, size_t partial_len)
{
    pb_reply_sse_end(r, partial, partial_len, "response.completed");
}

/* Preflight as for the other OpenAI dialects (/v1/models; the version from
 * /api/version of an Ollama). */
extern const pb_dialect pb_dialect_openai_chat;

static cJSON *model_ids(const cJSON *models)
{
    return pb_dialect_openai_chat.model_ids(models);
}

static cJSON *server_version(const cJSON *version, const cJSON *models, const char *model)
{
    return pb_dialect_openai_chat.server_version(version, models, model);
}

const pb_dialect pb_dialect_openai_responses = {
    .name = "openai-responses", .family = "openai", .path = "/v1/responses",
    .framing = PB_FRAMING_SSE,
    .check_options = check_options, .build_request = build_request,
    .on_message = on_message, .on_end = on_end, .on_whole = on_whole,
    .error_text = error_text,
    .models_path = "/v1/models", .model_ids = model_ids,
    .version_path = NULL, .version_probe = "/api/version",
    .server_version = server_version,
};
