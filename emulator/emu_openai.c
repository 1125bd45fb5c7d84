/* emu_openai: Ollama's OpenAI compatibility layer (/v1/chat/completions,
 * /v1/completions, /v1/embeddings, /v1/models, /v1/models/{model}).
 *
 * Like Ollama's middleware (middleware/openai.go, openai/openai.go), a
 * request is translated into Ollama's native body and handed to the shared
 * request code (emu_req_submit_as), which schedules, times, faults and
 * traces it exactly as it does /api/chat and /api/generate; only the bytes
 * differ, and this module shapes them (an emu_dialect table): server-sent
 * events `data: {...}\n\n`, one HTTP chunk per native line, keys in the
 * order of Ollama's Go structs. Errors are OpenAI error objects carrying
 * the status code the native handler chose. */
#include "emu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <gsl/gsl_randist.h>

#include "pb_hash.h"
#include "pb_mem.h"


/* Embedding width of the emulated model (EmbeddingGemma's). */

/* ---- errors ---- */

/* openai.NewError: the type follows the status code. */
static const char *error_type(int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 404: return "not_found_error";
    default: return "api_error";
    }
}

/* The type of an error the native handler produced and the middleware's
 * writeError rewrapped: Ollama 0.6.5 called NewError(500, ...) there, so
 * every such error was an api_error whatever its status; >= 0.32.6 passes
 * the status. Errors of the middleware itself (bad JSON, no messages)
 * always follow the status. */
static const char *handler_error_type(const emu_conn *c, int status)
{
    return c->inst->emu->o.openai_format == EMU_OPENAI_0_32
               ? error_type(status)
               : "api_error";
}

static void error_object(emu_buf *b, const char *type, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(err, "message", msg);
    cJSON_AddStringToObject(err, "type", type);
    cJSON_AddNullToObject(err, "param");
    cJSON_AddNullToObject(err, "code");
    char *s = cJSON_PrintUnformatted(o);
    if (!s)
        PB_MEM_OOM();
    emu_buf_append(b, s, strlen(s));
    cJSON_free(s);
    cJSON_Delete(o);
}

/* json.Encoder, so a trailing newline, and Content-Type application/json
 * (Ollama's writeError and AbortWithStatusJSON alike). */
static void reply_error_typed(emu_conn *c, int status, const char *type,
                              const char *msg)
{
    emu_buf b = {0};
    error_object(&b, type, msg);
    emu_buf_append(&b, "\n", 1);
    emu_http_reply(c, status, "application/json", b.data, b.len, 0);
    emu_buf_free(&b);
}

/* An error of the native handler (the dialect's reply_error). */
static void oai_reply_error(emu_conn *c, int status, const char *msg)
{
    reply_error_typed(c, status, handler_error_type(c, status), msg);
}

static void handler_error_done(emu_conn *c, int status, const char *msg)
{
    oai_reply_error(c, status, msg);
    emu_conn_response_done(c);
}

void emu_openai_error(emu_conn *c, int status, const char *msg,
                      int from_handler)
{
    reply_error_typed(c, status,
                      from_handler ? handler_error_type(c, status)
                                   : error_type(status),
                      msg);
}

/* An error of the middleware itself. */
static void reply_error_done(emu_conn *c, int status, const char *msg)
{
    reply_error_typed(c, status, error_type(status), msg);
    emu_conn_response_done(c);
}

static void reply_json_done(emu_conn *c, emu_buf *b)
{
    emu_buf_append(b, "\n", 1);
    emu_http_reply(c, 200, "application/json", b->data, b->len, 0);
    emu_buf_free(b);
    emu_conn_response_done(c);
}

/* ---- response events ---- */

/* Ollama's id is "chatcmpl-<rand.Intn(999)>"; ours comes from the request
 * id, so a run under --seed is reproducible byte for byte. */
static void put_id(emu_buf *b, const emu_req *r)
{
    unsigned n = (unsigned)(pb_hash_fnv1a64(r->id, strlen(r->id)) % 999);
    emu_buf_printf(b, "\"id\":\"%s-%u\"", r->is_chat ? "chatcmpl" : "cmpl",
                   n);
}

static void put_usage(emu_buf *b, int prompt, int completion)
{
    emu_buf_printf(b,
                   "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,"
                   "\"total_tokens\":%d}",
                   prompt, completion, prompt + completion);
}

static void put_model(emu_buf *b, const emu_req *r)
{
    APPEND_LIT(b, "\"model\":");
    emu_buf_append(b, r->model_json, strlen(r->model_json));
}

static void put_string(emu_buf *b, const char *text)
{
    cJSON *s = cJSON_CreateString(text);
    char *p = s ? cJSON_PrintUnformatted(s) : NULL;
    if (!p)
        PB_MEM_OOM();
    emu_buf_append(b, p, strlen(p));
    cJSON_free(p);
    cJSON_Delete(s);
}

/* Ollama 0.6.5's chat chunks (the default) or those of >= 0.32.6, which
 * match OpenAI's: role on the first delta only, one created per stream, a
 * separate finish chunk (ollama commit 8edecb5, #17485). */
static int chat_0_32(const emu_req *r)
{
    return r->inst->emu->o.openai_format == EMU_OPENAI_0_32;
}

/* "data: {id, object, created, model, system_fingerprint, choices:" of a
 * chat.completion.chunk. 0.32 pins created to the first chunk's time;
 * 0.6 stamps each chunk with its own. */
static void chat_chunk_head(emu_buf *b, emu_req *r, int restamp)
{
    if (!r->created || (restamp && !chat_0_32(r)))
        r->created = (long long)time(NULL);
    APPEND_LIT(b, "data: {");
    put_id(b, r);
    emu_buf_printf(b, ",\"object\":\"chat.completion.chunk\",\"created\":%lld,",
                   r->created);
    put_model(b, r);
    APPEND_LIT(b, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":");
}

/* One text_completion chunk (CompletionChunk: choices before model).
 * text_json is a JSON string literal or NULL for an empty choices list;
 * usage: 0 none, 1 zeros (Ollama puts an empty usage on every chunk when
 * include_usage is set), 2 the request's counts. */
static void cmpl_chunk(emu_buf *b, emu_req *r, const char *text_json,
                       const char *reason, int usage)
{
    APPEND_LIT(b, "data: {");
    put_id(b, r);
    emu_buf_printf(b, ",\"object\":\"text_completion\",\"created\":%lld,"
                      "\"choices\":[",
                   (long long)time(NULL));
    if (text_json) {
        APPEND_LIT(b, "{\"text\":");
        emu_buf_append(b, text_json, strlen(text_json));
        emu_buf_printf(b, ",\"index\":0,\"finish_reason\":%s}", reason);
    }
    APPEND_LIT(b, "],");
    put_model(b, r);
    APPEND_LIT(b, ",\"system_fingerprint\":\"fp_ollama\"");
    if (usage) {
        APPEND_LIT(b, ",");
        if (usage == 2)
            put_usage(b, r->prompt_tokens, r->n_sent);
        else
            put_usage(b, 0, 0);
    }
    APPEND_LIT(b, "}\n\n");
}

static void oai_token(emu_buf *b, emu_req *r, int kind, const char *tok)
{
    /* Per-token path: appends only (token text comes escaped). */
    if (r->is_chat) {
        chat_chunk_head(b, r, 1);
        /* 0.6 repeats the role on every delta, 0.32 sends it once. */
        if (r->n_written == 0 || !chat_0_32(r))
            APPEND_LIT(b, "[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                          "\"content\":\"");
        else
            APPEND_LIT(b, "[{\"index\":0,\"delta\":{\"content\":\"");
        /* Thinking is Delta.reasoning, a call Delta.tool_calls, each
         * beside an empty content (openai.go toChunk). */
        if (kind == EMU_TOK_THINK) {
            APPEND_LIT(b, "\",\"reasoning\":\"");
        } else if (kind == EMU_TOK_TOOLS) {
            APPEND_LIT(b, "\",\"tool_calls\":");
            emu_tools_openai(b, r->out->calls, r->out->calls_sent - 1,
                             r->out->calls_sent);
            APPEND_LIT(b, "},\"finish_reason\":null}]}\n\n");
            return;
        }
        emu_buf_append(b, tok, strlen(tok));
        APPEND_LIT(b, "\"},\"finish_reason\":null}]}\n\n");
        return;
    }
    if (kind != EMU_TOK_CONTENT)
        tok = ""; /* CompleteChunk has no thinking: an empty text */
    emu_buf q = {0};
    APPEND_LIT(&q, "\"");
    emu_buf_append(&q, tok, strlen(tok));
    APPEND_LIT(&q, "\"");
    cmpl_chunk(b, r, q.data, "null", r->include_usage);
    emu_buf_free(&q);
}

static const char *finish_reason(const emu_req *r)
{
    /* FinishChunk / ToChatCompletion: a stop after a call is tool_calls. */
    return r->hit_limit                     ? "\"length\""
           : r->out && r->out->calls_sent ? "\"tool_calls\""
                                           : "\"stop\"";
}

/* Ollama's native final line becomes, in one write: for chat the chunk of
 * its empty content carrying finish_reason (0.6) or a finish chunk with an
 * empty delta (0.32, the empty content is not sent); for completions a
 * chunk with empty text; then the usage-only chunk when include_usage is
 * set; then [DONE]. */
static void oai_stream_end(emu_buf *b, emu_req *r, uint64_t t_final)
{
    (void)t_final;
    if (r->is_chat) {
        chat_chunk_head(b, r, 1);
        emu_buf_printf(b,
                       "[{\"index\":0,\"delta\":{%s},\"finish_reason\":%s}]}"
                       "\n\n",
                       chat_0_32(r) ? ""
                                    : "\"role\":\"assistant\",\"content\":\"\"",
                       finish_reason(r));
        if (r->include_usage) {
            /* A copy of the chunk before it: same created. */
            chat_chunk_head(b, r, 0);
            APPEND_LIT(b, "[],");
            put_usage(b, r->prompt_tokens, r->n_sent);
            APPEND_LIT(b, "}\n\n");
        }
    } else {
        cmpl_chunk(b, r, "\"\"", finish_reason(r), r->include_usage);
        if (r->include_usage)
            cmpl_chunk(b, r, NULL, NULL, 2);
    }
    APPEND_LIT(b, "data: [DONE]\n\n");
}

/* stream=false: one chat.completion / text_completion object. */
static void whole_object(emu_buf *b, emu_req *r, const char *text,
                         const char *reason, int prompt, int completion)
{
    APPEND_LIT(b, "{");
    put_id(b, r);
    emu_buf_printf(b, ",\"object\":\"%s\",\"created\":%lld,",
                   r->is_chat ? "chat.completion" : "text_completion",
                   (long long)time(NULL));
    put_model(b, r);
    APPEND_LIT(b, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{");
    if (r->is_chat) {
        APPEND_LIT(b, "\"index\":0,\"message\":{\"role\":\"assistant\","
                      "\"content\":");
        put_string(b, text);
        if (r->out && r->out->thinking.len) {
            APPEND_LIT(b, ",\"reasoning\":");
            put_string(b, r->out->thinking.data);
        }
        if (r->out && r->out->calls_sent) {
            APPEND_LIT(b, ",\"tool_calls\":");
            emu_tools_openai(b, r->out->calls, 0, r->out->calls_sent);
        }
        emu_buf_printf(b, "},\"finish_reason\":%s}],", reason);
    } else {
        APPEND_LIT(b, "\"text\":");
        put_string(b, text);
        emu_buf_printf(b, ",\"index\":0,\"finish_reason\":%s}],", reason);
    }
    put_usage(b, prompt, completion);
    APPEND_LIT(b, "}\n");
}

static void oai_whole(emu_buf *b, emu_req *r, const char *text,
                      uint64_t t_final)
{
    (void)t_final;
    whole_object(b, r, text, finish_reason(r), r->prompt_tokens, r->n_sent);
}

/* A completion with an empty prompt only loads the model; Ollama's load
 * answer carries no counts, hence zero usage. (A chat without messages
 * never gets here: the middleware refuses it.) */
static const char *oai_load(emu_buf *b, emu_req *r)
{
    if (!r->stream) {
        whole_object(b, r, "", "\"load\"", 0, 0);
        return "application/json";
    }
    cmpl_chunk(b, r, "\"\"", "\"load\"", r->include_usage);
    if (r->include_usage)
        cmpl_chunk(b, r, NULL, NULL, 1);
    APPEND_LIT(b, "data: [DONE]\n\n");
    return "text/event-stream";
}

/* An error that ends a stream. Ollama's layer would turn its native
 * {"error":...} line into an empty content chunk (the message lost); we
 * send what OpenAI-compatible servers send instead, an error object as an
 * event, and no [DONE], so a client's error path can be tested. */
static void oai_error_event(emu_buf *b, emu_req *r, const char *msg)
{
    (void)r;
    APPEND_LIT(b, "data: ");
    error_object(b, "api_error", msg);
    APPEND_LIT(b, "\n\n");
}

/* The OpenAI layer's framing and errors; the embeddings routes add their
 * answer to them. */
#define OAI_DIALECT                                                      \
    .stream_ctype = "text/event-stream", .json_ctype = "application/json", \
    .token = oai_token, .stream_end = oai_stream_end, .whole = oai_whole,  \
    .load = oai_load, .error_event = oai_error_event, .reply_error = oai_reply_error

static const emu_dialect dialect_openai = {OAI_DIALECT};

/* ---- request translation (Ollama's FromChatRequest/FromCompleteRequest) */

/* Go's %T of a decoded JSON value, for Ollama's error texts. */
static const char *go_type(const cJSON *j)
{
    if (!j || cJSON_IsNull(j))
        return "<nil>";
    if (cJSON_IsNumber(j))
        return "float64";
    if (cJSON_IsString(j))
        return "string";
    if (cJSON_IsBool(j))
        return "bool";
    if (cJSON_IsArray(j))
        return "[]interface {}";
    return "map[string]interface {}";
}

/* encoding/json's name of a JSON value's kind. */
static const char *json_kind(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return "number";
    if (cJSON_IsString(j))
        return "string";
    if (cJSON_IsBool(j))
        return "bool";
    if (cJSON_IsArray(j))
        return "array";
    return "object";
}

typedef enum { F_STRING, F_INT, F_NUM, F_BOOL, F_ARRAY, F_OBJECT } ftype;
typedef struct {
    const char *key;
    ftype type;
    const char *go; /* the Go field type, for the error text */
} field;

static const field chat_fields[] = {
    {"model", F_STRING, "string"},
    {"messages", F_ARRAY, "[]openai.Message"},
    {"stream", F_BOOL, "bool"},
    {"stream_options", F_OBJECT, "openai.StreamOptions"},
    {"max_tokens", F_INT, "int"},
    {"seed", F_INT, "int"},
    {"temperature", F_NUM, "float64"},
    {"frequency_penalty", F_NUM, "float64"},
    {"presence_penalty", F_NUM, "float64"},
    {"top_p", F_NUM, "float64"},
    {"reasoning_effort", F_STRING, "string"},
    {"reasoning", F_OBJECT, "openai.Reasoning"},
    {"logprobs", F_BOOL, "bool"},
    {"top_logprobs", F_INT, "int"},
};

static const field completion_fields[] = {
    {"model", F_STRING, "string"},
    {"prompt", F_STRING, "string"},
    {"frequency_penalty", F_NUM, "float32"},
    {"max_tokens", F_INT, "int"},
    {"presence_penalty", F_NUM, "float32"},
    {"seed", F_INT, "int"},
    {"stream", F_BOOL, "bool"},
    {"stream_options", F_OBJECT, "openai.StreamOptions"},
    {"temperature", F_NUM, "float32"},
    {"top_p", F_NUM, "float32"},
    {"suffix", F_STRING, "string"},
    {"logprobs", F_INT, "int"},
};

static const field embed_fields[] = {
    {"model", F_STRING, "string"},
    {"dimensions", F_INT, "int"},
    {"encoding_format", F_STRING, "string"},
};

/* The check encoding/json makes while decoding into Ollama's request
 * struct `st`: null is accepted anywhere, integers must be integral. */
static int check_fields(const cJSON *root, const char *st, const field *fs,
                        size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, fs[i].key);
        if (!v || cJSON_IsNull(v))
            continue;
        int ok = 0;
        switch (fs[i].type) {
        case F_STRING: ok = cJSON_IsString(v); break;
        case F_NUM: ok = cJSON_IsNumber(v); break;
        case F_BOOL: ok = cJSON_IsBool(v); break;
        case F_ARRAY: ok = cJSON_IsArray(v); break;
        case F_OBJECT: ok = cJSON_IsObject(v); break;
        case F_INT:
            ok = cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
                 fabs(v->valuedouble) < 9.2e18;
            if (cJSON_IsNumber(v) && !ok) {
                snprintf(err, errlen,
                         "json: cannot unmarshal number %g into Go struct "
                         "field %s.%s of type int",
                         v->valuedouble, st, fs[i].key);
                return -1;
            }
            break;
        }
        if (!ok) {
            snprintf(err, errlen,
                     "json: cannot unmarshal %s into Go struct field %s.%s "
                     "of type %s",
                     json_kind(v), st, fs[i].key, fs[i].go);
            return -1;
        }
    }
    return 0;
}

/* The body as a JSON object, or an error answered (returns NULL). */
static cJSON *parse_body(emu_conn *c)
{
    if (!c->body.len) {
        reply_error_done(c, 400, "missing request body");
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(c->body.data, c->body.len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        reply_error_done(c, 400, "invalid JSON in request body");
        return NULL;
    }
    return root;
}

static void copy_item(cJSON *dst, const char *key, const cJSON *src)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    if (v && !cJSON_IsNull(v))
        cJSON_AddItemToObject(dst, key, cJSON_Duplicate(v, 1));
}

/* The options Ollama's middleware derives from an OpenAI request. Chat
 * drops non-string stop entries; completions refuse them. */
static int map_options(const cJSON *root, cJSON *opts, int strict_stop,
                       char *err, size_t errlen)
{
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (cJSON_IsString(stop)) {
        cJSON *arr = cJSON_AddArrayToObject(opts, "stop");
        cJSON_AddItemToArray(arr, cJSON_CreateString(stop->valuestring));
    } else if (cJSON_IsArray(stop)) {
        cJSON *arr = cJSON_AddArrayToObject(opts, "stop");
        const cJSON *s;
        cJSON_ArrayForEach(s, stop)
        {
            if (cJSON_IsString(s)) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(s->valuestring));
            } else if (strict_stop) {
                snprintf(err, errlen, "invalid type for 'stop' field: %s",
                         go_type(s));
                return -1;
            }
        }
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "max_tokens");
    if (cJSON_IsNumber(mt))
        cJSON_AddNumberToObject(opts, "num_predict", mt->valuedouble);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "temperature");
    cJSON_AddNumberToObject(opts, "temperature",
                            cJSON_IsNumber(t) ? t->valuedouble : 1.0);
    copy_item(opts, "seed", root);
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(root,
                                                       "frequency_penalty");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root,
                                                       "presence_penalty");
    if (strict_stop) {
        /* CompletionRequest's penalties are plain float32: always sent. */
        cJSON_AddNumberToObject(opts, "frequency_penalty",
                                cJSON_IsNumber(fp) ? fp->valuedouble : 0);
        cJSON_AddNumberToObject(opts, "presence_penalty",
                                cJSON_IsNumber(pp) ? pp->valuedouble : 0);
    } else {
        copy_item(opts, "frequency_penalty", root);
        copy_item(opts, "presence_penalty", root);
    }
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(root, "top_p");
    cJSON_AddNumberToObject(opts, "top_p",
                            cJSON_IsNumber(tp) && tp->valuedouble != 0
                                ? tp->valuedouble
                                : 1.0);
    return 0;
}

static int include_usage(const cJSON *root, const char *st, char *err,
                         size_t errlen)
{
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    const cJSON *iu = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
    if (iu && !cJSON_IsNull(iu) && !cJSON_IsBool(iu)) {
        snprintf(err, errlen,
                 "json: cannot unmarshal %s into Go struct field "
                 "%s.stream_options.include_usage of type bool",
                 json_kind(iu), st);
        return -1;
    }
    return cJSON_IsTrue(iu);
}

/* thinkFromReasoningEffort: the effort as the native `think` (none is
 * false, OpenAI's extra tiers clamp to Ollama's). */
int emu_openai_effort(const cJSON *e, cJSON *native, char *err,
                      size_t errlen)
{
    if (!cJSON_IsString(e) || !e->valuestring[0])
        return 0;
    static const char *const ok[][2] = {
        {"none", NULL},    {"minimal", "low"}, {"low", "low"},
        {"medium", "medium"}, {"high", "high"}, {"max", "max"},
        {"xhigh", "max"},  {"ultra", "max"}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (strcmp(e->valuestring, ok[i][0]))
            continue;
        if (ok[i][1])
            cJSON_AddStringToObject(native, "think", ok[i][1]);
        else
            cJSON_AddFalseToObject(native, "think");
        return 0;
    }
    snprintf(err, errlen,
             "invalid reasoning value: \"%.64s\" (must be \"minimal\", "
             "\"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", "
             "or \"none\")",
             e->valuestring);
    return -1;
}

/* One native message per OpenAI message, or per text part of a message
 * whose content is a list; image and audio parts count no prompt text. */
static int map_messages(const cJSON *msgs, cJSON *out, char *err,
                        size_t errlen)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if (!cJSON_IsObject(m)) {
            snprintf(err, errlen,
                     "json: cannot unmarshal %s into Go struct field "
                     "ChatCompletionRequest.messages of type openai.Message",
                     json_kind(m));
            return -1;
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        const char *rs = cJSON_IsString(role) ? role->valuestring : "";
        if (cJSON_IsString(content)) {
            cJSON *nm = cJSON_CreateObject();
            cJSON_AddStringToObject(nm, "role", rs);
            cJSON_AddStringToObject(nm, "content", content->valuestring);
            cJSON_AddItemToArray(out, nm);
        } else if (cJSON_IsArray(content)) {
            const cJSON *part;
            cJSON_ArrayForEach(part, content)
            {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(part,
                                                                     "type");
                const cJSON *text = cJSON_GetObjectItemCaseSensitive(part,
                                                                     "text");
                const char *ts = cJSON_IsString(type) ? type->valuestring : "";
                const char *txt = NULL;
                if (!strcmp(ts, "text") && cJSON_IsString(text))
                    txt = text->valuestring;
                else if (!strcmp(ts, "image_url") ||
                         !strcmp(ts, "input_audio"))
                    txt = "";
                if (!cJSON_IsObject(part) || !txt) {
                    snprintf(err, errlen, "invalid message format");
                    return -1;
                }
                cJSON *nm = cJSON_CreateObject();
                cJSON_AddStringToObject(nm, "role", rs);
                cJSON_AddStringToObject(nm, "content", txt);
                /* An image part is an image of the native message (its
                 * bytes do not matter here, its prompt tokens do). */
                if (!strcmp(ts, "image_url"))
                    cJSON_AddItemToArray(cJSON_AddArrayToObject(nm, "images"),
                                         cJSON_CreateString(""));
                cJSON_AddItemToArray(out, nm);
            }
        } else if (cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
            cJSON *nm = cJSON_CreateObject();
            cJSON_AddStringToObject(nm, "role", rs);
            cJSON_AddStringToObject(nm, "content", "");
            cJSON_AddItemToArray(out, nm);
        } else {
            snprintf(err, errlen, "invalid message content type: %s",
                     go_type(content));
            return -1;
        }
    }
    return 0;
}

/* POST /v1/chat/completions and /v1/completions. */
static void submit(emu_conn *c, int is_chat)
{
    const char *st = is_chat ? "ChatCompletionRequest" : "CompletionRequest";
    char err[320];
    cJSON *root = parse_body(c);
    if (!root)
        return;
    cJSON *native = cJSON_CreateObject();
    cJSON *opts = NULL;
    int usage = 0;
    if (is_chat ? check_fields(root, st, chat_fields,
                               sizeof chat_fields / sizeof *chat_fields, err,
                               sizeof err)
                : check_fields(root, st, completion_fields,
                               sizeof completion_fields /
                                   sizeof *completion_fields,
                               err, sizeof err))
        goto bad;
    if ((usage = include_usage(root, st, err, sizeof err)) < 0)
        goto bad;
    copy_item(native, "model", root);
    if (is_chat) {
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
        if (!cJSON_GetArraySize(msgs)) {
            snprintf(err, sizeof err, "[] is too short - 'messages'");
            goto bad;
        }
        if (map_messages(msgs, cJSON_AddArrayToObject(native, "messages"),
                         err, sizeof err) ||
            emu_openai_effort(
                cJSON_GetObjectItemCaseSensitive(root, "reasoning")
                    ? cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(root, "reasoning"),
                          "effort")
                    : cJSON_GetObjectItemCaseSensitive(root,
                                                       "reasoning_effort"),
                native, err, sizeof err) ||
            emu_tools_check(cJSON_GetObjectItemCaseSensitive(root, "tools"),
                            st, err, sizeof err))
            goto bad;
        copy_item(native, "tools", root);
        /* response_format: json_object is "json", json_schema its schema
         * (FromChatRequest). */
        const cJSON *rf = cJSON_GetObjectItemCaseSensitive(root,
                                                           "response_format");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rf, "type");
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema");
        if (cJSON_IsString(rt) && !strcasecmp(rt->valuestring, "json_object"))
            cJSON_AddStringToObject(native, "format", "json");
        else if (cJSON_IsString(rt) &&
                 !strcasecmp(rt->valuestring, "json_schema") && js)
            cJSON_AddItemToObject(native, "format", cJSON_Duplicate(js, 1));
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "prompt");
        cJSON_AddStringToObject(native, "prompt",
                                cJSON_IsString(p) ? p->valuestring : "");
    }
    /* OpenAI's stream defaults to false (Ollama's native one to true). */
    cJSON_AddBoolToObject(
        native, "stream",
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream")));
    opts = cJSON_AddObjectToObject(native, "options");
    if (map_options(root, opts, !is_chat, err, sizeof err))
        goto bad;
    c->dialect = &dialect_openai;
    emu_req_submit_as(c, is_chat, usage, native);
    goto out;
bad:
    reply_error_done(c, 400, err);
out:
    cJSON_Delete(native);
    cJSON_Delete(root);
}

static void route_chat(emu_conn *c, const char *path)
{
    (void)path;
    submit(c, 1);
}

static void route_completions(emu_conn *c, const char *path)
{
    (void)path;
    submit(c, 0);
}

/* ---- models ---- */

/* model.ParseName's namespace: [host/][namespace/]model[:tag], "library"
 * when absent. */
static void owned_by(const char *id, char *out, size_t n)
{
    const char *last = strrchr(id, '/');
    if (!last) {
        snprintf(out, n, "library");
        return;
    }
    const char *start = last;
    while (start > id && start[-1] != '/')
        start--;
    snprintf(out, n, "%.*s", (int)(last - start), start);
}

/* The served models' modified_at (emu->started_at, RFC 3339 UTC) in Unix
 * seconds, as Ollama's ModifiedAt.Unix(). */
static long long started_unix(const emu *e)
{
    struct tm tm = {0};
    if (sscanf(e->started_at, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return (long long)time(NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static cJSON *model_object(const emu *e, const char *id)
{
    char owner[128];
    owned_by(id, owner, sizeof owner);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)started_unix(e));
    cJSON_AddStringToObject(m, "owned_by", owner);
    return m;
}

static void reply_cjson_done(emu_conn *c, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (!s)
        PB_MEM_OOM();
    emu_buf b = {0};
    emu_buf_append(&b, s, strlen(s));
    cJSON_free(s);
    cJSON_Delete(o);
    reply_json_done(c, &b);
}

static void route_models(emu_conn *c, const char *path)
{
    (void)path;
    const emu *e = c->inst->emu;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (int i = 0; i < e->o.n_models; i++)
        if (e->o.models[i][0]) /* not deleted */
            cJSON_AddItemToArray(data, model_object(e, e->o.models[i]));
    reply_cjson_done(c, o);
}

/* GET /v1/models/{model}: the id is echoed as asked (percent-decoded, as
 * the router does); a name with a '/' matches no route. */
static void route_model(emu_conn *c, const char *path)
{
    const emu *e = c->inst->emu;
    const char *raw = path + strlen("/v1/models/");
    int len = 0;
    char *name = curl_easy_unescape(NULL, raw, 0, &len);
    if (!name)
        PB_MEM_OOM();
    if (strchr(name, '/') || strlen(name) != (size_t)len) {
        emu_http_reply(c, 404, "text/plain", "404 page not found", 18, 0);
        emu_conn_response_done(c);
    } else if (emu_model_find(&e->o, name) < 0) {
        char err[320];
        emu_model_not_found(err, sizeof err, name);
        handler_error_done(c, 404, err);
    } else {
        reply_cjson_done(c, model_object(e, name));
    }
    curl_free(name);
}

/* ---- embeddings ---- */

/* RFC 4648 base64 of the little-endian float32 vector (OpenAI's
 * encoding_format "base64", the openai clients' default). None of our
 * dependencies exports an encoder. */
static void put_base64(emu_buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63],
                     i + 1 < n ? tab[v >> 6 & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};
        emu_buf_append(b, q, 4);
    }
}

/* EmbedWriter / ToEmbeddingList: the native vectors as an OpenAI list,
 * floats or base64 of little-endian float32. */
static void embed_list(emu_buf *b, emu_req *r, int b64)
{
    int dim = r->inst->emu->o.embed_dim;
    double *v = malloc((size_t)dim * sizeof *v);
    unsigned char *le = malloc((size_t)dim * 4);
    if (!v || !le)
        PB_MEM_OOM();
    APPEND_LIT(b, "{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < r->n_inputs; i++) {
        int n = emu_api_embed_vector(r, i, v);
        emu_buf_printf(b, "%s{\"object\":\"embedding\",\"embedding\":",
                       i ? "," : "");
        if (b64) {
            for (int k = 0; k < n; k++) {
                float f = (float)v[k];
                uint32_t u;
                memcpy(&u, &f, 4);
                for (int j = 0; j < 4; j++)
                    le[4 * k + j] = (unsigned char)(u >> (8 * j));
            }
            APPEND_LIT(b, "\"");
            put_base64(b, le, (size_t)n * 4);
            APPEND_LIT(b, "\"");
        } else {
            APPEND_LIT(b, "[");
            for (int k = 0; k < n; k++)
                emu_buf_printf(b, k ? ",%.9g" : "%.9g", (double)(float)v[k]);
            APPEND_LIT(b, "]");
        }
        emu_buf_printf(b, ",\"index\":%d}", i);
    }
    free(v);
    free(le);
    APPEND_LIT(b, "],");
    put_model(b, r);
    emu_buf_printf(b, ",\"usage\":{\"prompt_tokens\":%d,\"total_tokens\":%d}}\n",
                   r->prompt_tokens, r->prompt_tokens);
}

static void embed_float(emu_buf *b, emu_req *r) { embed_list(b, r, 0); }
static void embed_b64(emu_buf *b, emu_req *r) { embed_list(b, r, 1); }

static const emu_dialect dialect_embed_float = {OAI_DIALECT, .embed = embed_float};
static const emu_dialect dialect_embed_b64 = {OAI_DIALECT, .embed = embed_b64};

/* The fault of an embeddings request: only those that make sense without a
 * stream (down, http500, busy503) apply. Returns 1 when it answered. */
static int embed_fault(emu_conn *c)
{
    emu_fault f = c->inst->fault;
    char err[256];
    if (c->fault_spec[0] &&
        emu_fault_parse(c->fault_spec, &f, err, sizeof err)) {
        handler_error_done(c, 400, err);
        return 1;
    }
    switch (f.kind) {
    case EMU_FAULT_DOWN:
        emu_conn_close(c);
        return 1;
    case EMU_FAULT_HTTP500:
        handler_error_done(c, 500, "llama runner process has terminated: exit "
                                 "status 2 (parbench fault http500)");
        return 1;
    case EMU_FAULT_BUSY503:
        handler_error_done(c, 503, "server busy, please try again.  maximum "
                                 "pending requests exceeded");
        return 1;
    default:
        return 0;
    }
}

/* POST /v1/embeddings, answered at once (no slot, no timing model). */
static void route_embeddings(emu_conn *c, const char *path)
{
    (void)path;
    const emu *e = c->inst->emu;
    char err[320];
    cJSON *root = parse_body(c);
    if (!root)
        return;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(root, "input");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root,
                                                        "encoding_format");
    const char *fs = cJSON_IsString(fmt) ? fmt->valuestring : "";
    int b64 = !strcasecmp(fs, "base64");
    const char *ms = cJSON_IsString(model) ? model->valuestring : "";
    cJSON *native = NULL;
    /* Up to the model check these are the middleware's errors. */
    int status = 400, from_handler = 0;
    if (check_fields(root, "EmbedRequest", embed_fields,
                     sizeof embed_fields / sizeof *embed_fields, err,
                     sizeof err))
        goto bad;
    if (fs[0] && !b64 && strcasecmp(fs, "float")) {
        snprintf(err, sizeof err,
                 "Invalid value for 'encoding_format' = %.64s. Supported "
                 "values: ['float', 'base64'].",
                 fs);
        goto bad;
    }
    if (!input || cJSON_IsNull(input) ||
        (cJSON_IsArray(input) && !cJSON_GetArraySize(input))) {
        snprintf(err, sizeof err, "invalid input");
        goto bad;
    }
    from_handler = 1;
    if (emu_model_find(&e->o, ms) < 0) {
        emu_model_not_found(err, sizeof err, ms);
        status = 404;
        goto bad;
    }
    if (!cJSON_IsString(input) && !cJSON_IsArray(input)) {
        snprintf(err, sizeof err, "invalid input type");
        goto bad;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, input)
    {
        if (!cJSON_IsString(it)) {
            snprintf(err, sizeof err, "invalid input type");
            goto bad;
        }
    }
    if (embed_fault(c))
        goto out;
    /* The middleware's EmbedRequest for Ollama's EmbedHandler, the one
     * /api/embed has: same scheduler, timing, vectors and counts. */
    native = cJSON_CreateObject();
    copy_item(native, "model", root);
    if (cJSON_IsString(input) && !input->valuestring[0]) {
        cJSON_AddItemToArray(cJSON_AddArrayToObject(native, "input"),
                             cJSON_CreateString("")); /* "" is [""] */
    } else {
        copy_item(native, "input", root);
    }
    copy_item(native, "dimensions", root);
    c->dialect = b64 ? &dialect_embed_b64 : &dialect_embed_float;
    emu_req_submit_embed_as(c, EMU_API_EMBED, native);
    goto out;
bad:
    if (from_handler)
        handler_error_done(c, status, err);
    else
        reply_error_done(c, status, err);
out:
    cJSON_Delete(native);
    cJSON_Delete(root);
}

const emu_route emu_openai_routes[] = {
    {"/v1/chat/completions", HTTP_POST, route_chat},
    {"/v1/completions", HTTP_POST, route_completions},
    {"/v1/embeddings", HTTP_POST, route_embeddings},
    {"/v1/models", HTTP_GET, route_models},
    {"/v1/models/", HTTP_GET, route_model},
};
const size_t emu_openai_n_routes =
    sizeof emu_openai_routes / sizeof *emu_openai_routes;
