/* emu_responses: POST /v1/responses as Ollama serves it
 * (openai/responses.go FromResponsesRequest, ToResponse,
 * ResponsesStreamConverter; middleware/openai.go ResponsesMiddleware and
 * ResponsesWriter).
 *
 * Like the chat completions route, the request becomes a native chat
 * request (instructions as a system message, input items as messages,
 * flat function tools as native tools, text.format json_schema as
 * `format`, reasoning.effort as `think`, max_output_tokens as
 * num_predict), so scheduling, timing and the model's output plan are
 * those of /api/chat; this dialect shapes the bytes. Streaming events are
 * `event: TYPE\ndata: JSON\n\n`, numbered by sequence_number; their
 * payloads are Go maps, which encoding/json writes with sorted keys, while
 * the stream=false answer is the ResponsesResponse struct in field order.
 * The events of one native line go out in one write. */
#include "emu_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "pb_hash.h"
#include "pb_mem.h"

typedef struct resp_state {
    cJSON *req;          /* the request as sent, echoed in the response */
    char resp_id[24], msg_id[24], rs_id[24], fc_id[24];
    int seq;             /* next sequence_number */
    int out_index;       /* output_index of the current item */
    int started, reasoning, content, tools_sent;
    emu_buf text;        /* output text so far (streamed) */
    emu_buf thinking;    /* reasoning text of the open reasoning item */
    cJSON *done_items;   /* items completed before the message */
} resp_state;

static void state_free(void *p)
{
    resp_state *st = p;
    if (!st)
        return;
    cJSON_Delete(st->req);
    cJSON_Delete(st->done_items);
    emu_buf_free(&st->text);
    emu_buf_free(&st->thinking);
    free(st);
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* ---- request translation ---- */

static const char *kind(const cJSON *v)
{
    return cJSON_IsNumber(v) ? "number"
           : cJSON_IsBool(v) ? "bool"
           : cJSON_IsArray(v) ? "array"
           : cJSON_IsObject(v) ? "object"
                               : "string";
}

/* The text of a message's content: a string, or the text of its
 * input_text/output_text parts (images count nothing). */
static int content_text(const cJSON *content, emu_buf *out)
{
    if (cJSON_IsString(content)) {
        emu_buf_append(out, content->valuestring,
                       strlen(content->valuestring));
        return 0;
    }
    if (!cJSON_IsArray(content))
        return content && !cJSON_IsNull(content) ? -1 : 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *text = get(part, "text");
        if (cJSON_IsString(text))
            emu_buf_append(out, text->valuestring, strlen(text->valuestring));
    }
    return 0;
}

static cJSON *message(const char *role, const char *content)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    return m;
}

/* FromResponsesRequest's input: a string (one user message) or items. */
static int map_input(const cJSON *in, cJSON *msgs, char *err, size_t errlen)
{
    if (cJSON_IsString(in)) {
        if (in->valuestring[0])
            cJSON_AddItemToArray(msgs, message("user", in->valuestring));
        return 0;
    }
    if (!in || cJSON_IsNull(in))
        return 0;
    if (!cJSON_IsArray(in)) {
        snprintf(err, errlen,
                 "input must be a string or array: json: cannot unmarshal %s "
                 "into Go value of type []json.RawMessage",
                 kind(in));
        return -1;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, in)
    {
        const cJSON *type = get(it, "type"), *role = get(it, "role");
        const char *t = cJSON_IsString(type) ? type->valuestring : "";
        if (!t[0] && cJSON_IsString(role) && role->valuestring[0])
            t = "message";
        if (!strcmp(t, "message")) {
            emu_buf text = {0};
            if (content_text(get(it, "content"), &text)) {
                snprintf(err, errlen, "input[%d]: invalid content", i);
                emu_buf_free(&text);
                return -1;
            }
            cJSON_AddItemToArray(
                msgs, message(cJSON_IsString(role) ? role->valuestring : "",
                              text.data ? text.data : ""));
            emu_buf_free(&text);
        } else if (!strcmp(t, "function_call")) {
            /* An assistant message with the call (merged into the last
             * assistant message, as FromResponsesRequest does). */
            cJSON *last = cJSON_GetArrayItem(msgs,
                                             cJSON_GetArraySize(msgs) - 1);
            const cJSON *lr = get(last, "role");
            if (!(cJSON_IsString(lr) && !strcmp(lr->valuestring, "assistant"))) {
                last = message("assistant", "");
                cJSON_AddItemToArray(msgs, last);
            }
            cJSON *calls = cJSON_GetObjectItemCaseSensitive(last, "tool_calls");
            if (!calls)
                calls = cJSON_AddArrayToObject(last, "tool_calls");
            cJSON *call = cJSON_CreateObject();
            const cJSON *id = get(it, "call_id"), *name = get(it, "name");
            const cJSON *args = get(it, "arguments");
            cJSON_AddStringToObject(call, "id", cJSON_IsString(id) ? id->valuestring : "");
            cJSON *fn = cJSON_AddObjectToObject(call, "function");
            cJSON_AddStringToObject(fn, "name", cJSON_IsString(name) ? name->valuestring : "");
            cJSON *a = cJSON_IsString(args) && args->valuestring[0]
                           ? cJSON_Parse(args->valuestring)
                           : cJSON_CreateObject();
            if (!cJSON_IsObject(a)) {
                cJSON_Delete(a);
                cJSON_Delete(call);
                snprintf(err, errlen,
                         "failed to parse function call arguments: invalid "
                         "character looking for beginning of value");
                return -1;
            }
            cJSON_AddItemToObject(fn, "arguments", a);
            cJSON_AddItemToArray(calls, call);
        } else if (!strcmp(t, "function_call_output")) {
            emu_buf text = {0};
            const cJSON *out = get(it, "output");
            content_text(out, &text);
            cJSON *m = message("tool", text.data ? text.data : "");
            const cJSON *id = get(it, "call_id");
            if (cJSON_IsString(id))
                cJSON_AddStringToObject(m, "tool_call_id", id->valuestring);
            cJSON_AddItemToArray(msgs, m);
            emu_buf_free(&text);
        } else if (!strcmp(t, "reasoning") || !strcmp(t, "web_search_call")) {
            /* history the model does not read as prompt here */
        } else if (!t[0]) {
            snprintf(err, errlen,
                     "input[%d]: input item missing required 'type' field", i);
            return -1;
        } else {
            snprintf(err, errlen, "input[%d]: unknown input item type: \"%.64s\"",
                     i, t);
            return -1;
        }
        i++;
    }
    return 0;
}

/* convertTools: a flat {type, name, description, parameters} function
 * becomes Ollama's {type, function:{...}}; a namespace contributes its
 * member functions. */
static void map_tools(const cJSON *tools, cJSON *out)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const cJSON *type = get(t, "type");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "namespace")) {
            map_tools(get(t, "tools"), out);
            continue;
        }
        cJSON *nt = cJSON_CreateObject();
        cJSON_AddStringToObject(nt, "type", "function");
        cJSON *fn = cJSON_AddObjectToObject(nt, "function");
        const char *keys[] = {"name", "description", "parameters"};
        for (int k = 0; k < 3; k++) {
            const cJSON *v = get(t, keys[k]);
            if (v && !cJSON_IsNull(v))
                cJSON_AddItemToObject(fn, keys[k], cJSON_Duplicate(v, 1));
        }
        cJSON_AddItemToArray(out, nt);
    }
}

static void route_responses(emu_conn *c, const char *path)
{
    (void)path;
    char err[320];
    if (!c->body.len) {
        emu_openai_error(c, 400, "missing request body", 0);
        emu_conn_response_done(c);
        return;
    }
    cJSON *root = cJSON_ParseWithLength(c->body.data, c->body.len);
    cJSON *native = cJSON_CreateObject();
    if (!cJSON_IsObject(root)) {
        snprintf(err, sizeof err, "invalid JSON in request body");
        goto bad;
    }
    static const struct {
        const char *key;
        int (*ok)(const cJSON *);
        const char *go;
    } fields[] = {
        {"model", cJSON_IsString, "string"},
        {"instructions", cJSON_IsString, "string"},
        {"max_output_tokens", cJSON_IsNumber, "int"},
        {"temperature", cJSON_IsNumber, "float64"},
        {"top_p", cJSON_IsNumber, "float64"},
        {"stream", cJSON_IsBool, "bool"},
        {"tools", cJSON_IsArray, "[]openai.ResponsesTool"},
        {"text", cJSON_IsObject, "openai.ResponsesText"},
        {"reasoning", cJSON_IsObject, "openai.ResponsesReasoning"},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const cJSON *v = get(root, fields[i].key);
        if (v && !cJSON_IsNull(v) && !fields[i].ok(v)) {
            snprintf(err, sizeof err,
                     "json: cannot unmarshal %s into Go struct field "
                     "ResponsesRequest.%s of type %s",
                     kind(v), fields[i].key, fields[i].go);
            goto bad;
        }
    }
    const cJSON *model = get(root, "model");
    if (model)
        cJSON_AddItemToObject(native, "model", cJSON_Duplicate(model, 1));
    cJSON *msgs = cJSON_AddArrayToObject(native, "messages");
    const cJSON *ins = get(root, "instructions");
    if (cJSON_IsString(ins) && ins->valuestring[0])
        cJSON_AddItemToArray(msgs, message("system", ins->valuestring));
    if (map_input(get(root, "input"), msgs, err, sizeof err))
        goto bad;
    cJSON *opts = cJSON_AddObjectToObject(native, "options");
    const cJSON *t = get(root, "temperature"), *tp = get(root, "top_p");
    cJSON_AddNumberToObject(opts, "temperature",
                            cJSON_IsNumber(t) ? t->valuedouble : 1.0);
    if (cJSON_IsNumber(tp))
        cJSON_AddNumberToObject(opts, "top_p", tp->valuedouble);
    const cJSON *mt = get(root, "max_output_tokens");
    if (cJSON_IsNumber(mt))
        cJSON_AddNumberToObject(opts, "num_predict", mt->valuedouble);
    /* Not an OpenAI field: lets a test pin the sample as `seed` does for
     * chat completions (Ollama ignores unknown fields). */
    const cJSON *seed = get(root, "seed");
    if (cJSON_IsNumber(seed))
        cJSON_AddNumberToObject(opts, "seed", seed->valuedouble);
    if (emu_openai_effort(get(get(root, "reasoning"), "effort"), native, err,
                          sizeof err))
        goto bad;
    if (cJSON_GetArraySize(get(root, "tools")) > 0)
        map_tools(get(root, "tools"), cJSON_AddArrayToObject(native, "tools"));
    const cJSON *fmt = get(get(root, "text"), "format");
    const cJSON *ft = get(fmt, "type");
    if (cJSON_IsString(ft) && !strcmp(ft->valuestring, "json_schema") &&
        get(fmt, "schema"))
        cJSON_AddItemToObject(native, "format",
                              cJSON_Duplicate(get(fmt, "schema"), 1));
    cJSON_AddBoolToObject(native, "stream",
                          cJSON_IsTrue(get(root, "stream")));

    resp_state *st = pb_mem_calloc(1, sizeof *st);
    st->req = root;
    root = NULL;
    st->done_items = cJSON_CreateArray();
    /* rand.Intn(999999) in Ollama; from the request here (reproducible). */
    uint64_t h = pb_hash_fnv1a64(c->body.data, c->body.len) ^ uv_hrtime();
    snprintf(st->resp_id, sizeof st->resp_id, "resp_%u", (unsigned)(h % 999999));
    snprintf(st->msg_id, sizeof st->msg_id, "msg_%u",
             (unsigned)((h >> 20) % 999999));
    snprintf(st->rs_id, sizeof st->rs_id, "rs_%u", (unsigned)((h >> 40) % 999999));
    snprintf(st->fc_id, sizeof st->fc_id, "fc_%u_0",
             (unsigned)((h >> 10) % 999999));
    c->dialect = &emu_dialect_responses;
    c->dialect_state = st;
    c->dialect_free = state_free;
    emu_req_submit_as(c, 1, 0, native);
    /* Refused before a request took the state over. */
    if (c->dialect_state) {
        state_free(c->dialect_state);
        c->dialect_state = NULL;
    }
    goto out;
bad:
    emu_openai_error(c, 400, err, 0);
    emu_conn_response_done(c);
out:
    cJSON_Delete(native);
    cJSON_Delete(root);
}

/* ---- the response object ---- */

/* Sorts every object's members by key (encoding/json's order for Go
 * maps), except inside a json.RawMessage (the schema), kept as sent. */
static void sort_keys(cJSON *o)
{
    if (!o)
        return;
    cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (!(it->string && !strcmp(it->string, "schema")))
            sort_keys(it);
    }
    if (!cJSON_IsObject(o) || !o->child)
        return;
    /* insertion sort of the child list (a few dozen members at most) */
    cJSON *sorted = NULL, *next;
    for (it = o->child; it; it = next) {
        next = it->next;
        cJSON **pp = &sorted;
        while (*pp && strcmp((*pp)->string, it->string) <= 0)
            pp = &(*pp)->next;
        it->next = *pp;
        *pp = it;
    }
    o->child = sorted;
    cJSON *prev = NULL;
    for (it = sorted; it; it = it->next) {
        it->prev = prev;
        prev = it;
    }
    sorted->prev = prev; /* cJSON: the first child's prev is the last */
}

static void add_or_null(cJSON *o, const char *k, const cJSON *v)
{
    if (v && !cJSON_IsNull(v))
        cJSON_AddItemToObject(o, k, cJSON_Duplicate(v, 1));
    else
        cJSON_AddNullToObject(o, k);
}

/* ResponsesResponse (stream=false, struct order) or the streaming map
 * (buildResponseObject, sorted by the caller). Takes output and usage. */
static cJSON *resp_object(const resp_state *st, const emu_req *r,
                          const char *status, cJSON *output, cJSON *usage,
                          int stream)
{
    const cJSON *q = st->req;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", st->resp_id);
    cJSON_AddStringToObject(o, "object", "response");
    cJSON_AddNumberToObject(o, "created_at", (double)time(NULL));
    if (!strcmp(status, "completed"))
        cJSON_AddNumberToObject(o, "completed_at", (double)time(NULL));
    else
        cJSON_AddNullToObject(o, "completed_at");
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddNullToObject(o, "incomplete_details");
    cJSON_AddItemToObject(o, "model", cJSON_Parse(r->model_json));
    cJSON_AddNullToObject(o, "previous_response_id");
    const cJSON *ins = get(q, "instructions");
    add_or_null(o, "instructions",
                cJSON_IsString(ins) && ins->valuestring[0] ? ins : NULL);
    cJSON_AddItemToObject(o, "output", output);
    cJSON_AddNullToObject(o, "error");
    cJSON *tools = cJSON_AddArrayToObject(o, "tools");
    const cJSON *t;
    cJSON_ArrayForEach(t, get(q, "tools"))
    {
        cJSON *e = cJSON_CreateObject();
        const cJSON *ty = get(t, "type"), *nm = get(t, "name");
        cJSON_AddStringToObject(e, "type", cJSON_IsString(ty) ? ty->valuestring : "");
        cJSON_AddStringToObject(e, "name", cJSON_IsString(nm) ? nm->valuestring : "");
        add_or_null(e, "description", get(t, "description"));
        add_or_null(e, "strict", get(t, "strict"));
        add_or_null(e, "parameters", get(t, "parameters"));
        cJSON_AddItemToArray(tools, e);
    }
    cJSON_AddStringToObject(o, "tool_choice", "auto");
    const cJSON *tr = get(q, "truncation");
    cJSON_AddStringToObject(o, "truncation",
                            cJSON_IsString(tr) ? tr->valuestring : "disabled");
    cJSON_AddTrueToObject(o, "parallel_tool_calls");
    cJSON *fmt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "text"),
                                         "format");
    const cJSON *rf = get(get(q, "text"), "format");
    if (cJSON_IsObject(rf)) {
        const char *keys[] = {"type", "name", "schema", "strict"};
        for (int k = 0; k < 4; k++) {
            const cJSON *v = get(rf, keys[k]);
            if (v && !cJSON_IsNull(v) &&
                !(cJSON_IsString(v) && !v->valuestring[0] && k == 1))
                cJSON_AddItemToObject(fmt, keys[k], cJSON_Duplicate(v, 1));
            else if (k == 0)
                cJSON_AddStringToObject(fmt, "type", "");
        }
    } else {
        cJSON_AddStringToObject(fmt, "type", "text");
    }
    const cJSON *tp = get(q, "top_p"), *temp = get(q, "temperature");
    cJSON_AddNumberToObject(o, "top_p", cJSON_IsNumber(tp) ? tp->valuedouble : 1.0);
    cJSON_AddNumberToObject(o, "presence_penalty", 0);
    cJSON_AddNumberToObject(o, "frequency_penalty", 0);
    cJSON_AddNumberToObject(o, "top_logprobs", 0);
    cJSON_AddNumberToObject(o, "temperature",
                            cJSON_IsNumber(temp) ? temp->valuedouble : 1.0);
    const cJSON *re = get(get(q, "reasoning"), "effort");
    const cJSON *rs = get(get(q, "reasoning"), "summary");
    int has_e = cJSON_IsString(re) && re->valuestring[0];
    int has_s = cJSON_IsString(rs) && rs->valuestring[0];
    if (has_e || has_s) {
        cJSON *ro = cJSON_AddObjectToObject(o, "reasoning");
        /* the struct omits an empty one, the map has it as null */
        if (has_e)
            cJSON_AddItemToObject(ro, "effort", cJSON_Duplicate(re, 1));
        else if (stream)
            cJSON_AddNullToObject(ro, "effort");
        if (has_s)
            cJSON_AddItemToObject(ro, "summary", cJSON_Duplicate(rs, 1));
        else if (stream)
            cJSON_AddNullToObject(ro, "summary");
    } else {
        cJSON_AddNullToObject(o, "reasoning");
    }
    if (usage)
        cJSON_AddItemToObject(o, "usage", usage);
    else
        cJSON_AddNullToObject(o, "usage");
    add_or_null(o, "max_output_tokens", get(q, "max_output_tokens"));
    cJSON_AddNullToObject(o, "max_tool_calls");
    cJSON_AddFalseToObject(o, "store");
    cJSON_AddBoolToObject(o, "background", cJSON_IsTrue(get(q, "background")));
    cJSON_AddStringToObject(o, "service_tier", "default");
    cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddNullToObject(o, "safety_identifier");
    cJSON_AddNullToObject(o, "prompt_cache_key");
    return o;
}

static cJSON *usage_object(const emu_req *r)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "input_tokens", r->prompt_tokens);
    cJSON_AddNumberToObject(u, "output_tokens", r->n_sent);
    cJSON_AddNumberToObject(u, "total_tokens", r->prompt_tokens + r->n_sent);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(u, "input_tokens_details"),
                            "cached_tokens", 0);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(u, "output_tokens_details"),
                            "reasoning_tokens", 0);
    return u;
}

static cJSON *text_part(const char *text)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "output_text");
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddArrayToObject(p, "annotations");
    cJSON_AddArrayToObject(p, "logprobs");
    return p;
}

static cJSON *message_item(const char *id, const char *status,
                           const char *text)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "type", "message");
    cJSON_AddStringToObject(m, "status", status);
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON *content = cJSON_AddArrayToObject(m, "content");
    if (text)
        cJSON_AddItemToArray(content, text_part(text));
    return m;
}

static cJSON *reasoning_item(const char *id, const char *thinking)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "type", "reasoning");
    cJSON *s = cJSON_AddArrayToObject(m, "summary");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "summary_text");
    cJSON_AddStringToObject(p, "text", thinking);
    cJSON_AddItemToArray(s, p);
    cJSON_AddStringToObject(m, "encrypted_content", thinking);
    return m;
}

static cJSON *call_item(const char *id, const char *status, const emu_call *c,
                        int with_args)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "type", "function_call");
    cJSON_AddStringToObject(m, "status", status);
    cJSON_AddStringToObject(m, "call_id", c->id);
    cJSON_AddStringToObject(m, "name", c->name);
    cJSON_AddStringToObject(m, "arguments", with_args ? c->args : "");
    return m;
}

/* ---- streaming events ---- */

/* "event: TYPE\ndata: {...}\n\n" with type and sequence_number added,
 * keys sorted (a Go map). Takes data. */
static void event(emu_buf *b, resp_state *st, const char *type, cJSON *data)
{
    cJSON_AddStringToObject(data, "type", type);
    cJSON_AddNumberToObject(data, "sequence_number", st->seq++);
    sort_keys(data);
    char *s = cJSON_PrintUnformatted(data);
    if (!s)
        PB_MEM_OOM();
    emu_buf_printf(b, "event: %s\ndata: ", type);
    emu_buf_append(b, s, strlen(s));
    emu_buf_append(b, "\n\n", 2);
    cJSON_free(s);
    cJSON_Delete(data);
}

static cJSON *with_index(const char *item_id, int out_index)
{
    cJSON *d = cJSON_CreateObject();
    if (item_id)
        cJSON_AddStringToObject(d, "item_id", item_id);
    cJSON_AddNumberToObject(d, "output_index", out_index);
    return d;
}

static void start(emu_buf *b, resp_state *st, const emu_req *r)
{
    if (st->started)
        return;
    st->started = 1;
    const char *types[] = {"response.created", "response.in_progress"};
    for (int i = 0; i < 2; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddItemToObject(d, "response",
                              resp_object(st, r, "in_progress",
                                          cJSON_CreateArray(), NULL, 1));
        event(b, st, types[i], d);
    }
}

/* finishReasoning */
static void finish_reasoning(emu_buf *b, resp_state *st)
{
    if (!st->reasoning)
        return;
    const char *th = st->thinking.data ? st->thinking.data : "";
    cJSON *d = with_index(st->rs_id, st->out_index);
    cJSON_AddNumberToObject(d, "summary_index", 0);
    cJSON_AddStringToObject(d, "text", th);
    event(b, st, "response.reasoning_summary_text.done", d);
    cJSON *item = reasoning_item(st->rs_id, th);
    cJSON_AddItemToArray(st->done_items, cJSON_Duplicate(item, 1));
    d = with_index(NULL, st->out_index);
    cJSON_AddItemToObject(d, "item", item);
    event(b, st, "response.output_item.done", d);
    st->reasoning = 0;
    st->thinking.len = 0;
    st->out_index++;
}

/* The JSON-escaped token text, unescaped. */
static char *unescape(const char *tok)
{
    emu_buf q = {0};
    emu_buf_append(&q, "\"", 1);
    emu_buf_append(&q, tok, strlen(tok));
    emu_buf_append(&q, "\"", 1);
    cJSON *s = cJSON_Parse(q.data);
    emu_buf_free(&q);
    char *out = strdup(cJSON_IsString(s) ? s->valuestring : "");
    cJSON_Delete(s);
    if (!out)
        PB_MEM_OOM();
    return out;
}

static void resp_token(emu_buf *b, emu_req *r, int kind, const char *tok)
{
    resp_state *st = r->dialect_state;
    start(b, st, r);
    if (kind == EMU_TOK_THINK) {
        if (!st->reasoning) {
            st->reasoning = 1;
            cJSON *d = with_index(NULL, st->out_index);
            cJSON *item = cJSON_AddObjectToObject(d, "item");
            cJSON_AddStringToObject(item, "id", st->rs_id);
            cJSON_AddStringToObject(item, "type", "reasoning");
            cJSON_AddArrayToObject(item, "summary");
            event(b, st, "response.output_item.added", d);
        }
        char *t = unescape(tok);
        emu_buf_append(&st->thinking, t, strlen(t));
        cJSON *d = with_index(st->rs_id, st->out_index);
        cJSON_AddNumberToObject(d, "summary_index", 0);
        cJSON_AddStringToObject(d, "delta", t);
        event(b, st, "response.reasoning_summary_text.delta", d);
        free(t);
        return;
    }
    if (kind == EMU_TOK_TOOLS) {
        finish_reasoning(b, st);
        const emu_call *c = &r->out->calls[r->out->calls_sent - 1];
        /* Each chunk's calls are fc_<random>_<i> (i within the chunk):
         * a call of its own chunk gets a new number and _0. */
        if (r->out->calls_sent > 1) {
            unsigned k;
            if (sscanf(st->fc_id, "fc_%u_0", &k) == 1)
                snprintf(st->fc_id, sizeof st->fc_id, "fc_%u_0",
                         (k * 7919u + 1) % 999999);
        }
        cJSON *d = with_index(NULL, st->out_index);
        cJSON_AddItemToObject(d, "item", call_item(st->fc_id, "in_progress", c, 0));
        event(b, st, "response.output_item.added", d);
        d = with_index(st->fc_id, st->out_index);
        cJSON_AddStringToObject(d, "delta", c->args);
        event(b, st, "response.function_call_arguments.delta", d);
        d = with_index(st->fc_id, st->out_index);
        cJSON_AddStringToObject(d, "arguments", c->args);
        event(b, st, "response.function_call_arguments.done", d);
        cJSON *item = call_item(st->fc_id, "completed", c, 1);
        cJSON_AddItemToArray(st->done_items, cJSON_Duplicate(item, 1));
        d = with_index(NULL, st->out_index);
        cJSON_AddItemToObject(d, "item", item);
        event(b, st, "response.output_item.done", d);
        st->out_index++;
        st->tools_sent = 1;
        return;
    }
    if (st->tools_sent)
        return;
    finish_reasoning(b, st);
    if (!st->content) {
        st->content = 1;
        cJSON *d = with_index(NULL, st->out_index);
        cJSON_AddItemToObject(d, "item", message_item(st->msg_id, "in_progress",
                                                      NULL));
        event(b, st, "response.output_item.added", d);
        d = with_index(st->msg_id, st->out_index);
        cJSON_AddNumberToObject(d, "content_index", 0);
        cJSON_AddItemToObject(d, "part", text_part(""));
        event(b, st, "response.content_part.added", d);
    }
    char *t = unescape(tok);
    emu_buf_append(&st->text, t, strlen(t));
    cJSON *d = with_index(st->msg_id, st->out_index);
    cJSON_AddNumberToObject(d, "content_index", 0);
    cJSON_AddStringToObject(d, "delta", t);
    cJSON_AddArrayToObject(d, "logprobs");
    event(b, st, "response.output_text.delta", d);
    free(t);
}

/* processCompletion */
static void resp_stream_end(emu_buf *b, emu_req *r, uint64_t t_final)
{
    (void)t_final;
    resp_state *st = r->dialect_state;
    start(b, st, r);
    finish_reasoning(b, st);
    const char *text = st->text.data ? st->text.data : "";
    if (!st->tools_sent && st->content) {
        cJSON *d = with_index(st->msg_id, st->out_index);
        cJSON_AddNumberToObject(d, "content_index", 0);
        cJSON_AddStringToObject(d, "text", text);
        cJSON_AddArrayToObject(d, "logprobs");
        event(b, st, "response.output_text.done", d);
        d = with_index(st->msg_id, st->out_index);
        cJSON_AddNumberToObject(d, "content_index", 0);
        cJSON_AddItemToObject(d, "part", text_part(text));
        event(b, st, "response.content_part.done", d);
        d = with_index(NULL, st->out_index);
        cJSON_AddItemToObject(d, "item", message_item(st->msg_id, "completed", text));
        event(b, st, "response.output_item.done", d);
    }
    cJSON *output = cJSON_Duplicate(st->done_items, 1);
    if (st->content)
        cJSON_AddItemToArray(output, message_item(st->msg_id, "completed", text));
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "response", resp_object(st, r, "completed", output,
                                                     usage_object(r), 1));
    event(b, st, "response.completed", d);
}

/* ToResponse: reasoning item, then the calls or the message. */
static void resp_whole(emu_buf *b, emu_req *r, const char *text,
                       uint64_t t_final)
{
    (void)t_final;
    resp_state *st = r->dialect_state;
    cJSON *output = cJSON_CreateArray();
    char id[64];
    if (r->out && r->out->thinking.len) {
        snprintf(id, sizeof id, "rs_%s", st->resp_id);
        cJSON_AddItemToArray(output, reasoning_item(id, r->out->thinking.data));
    }
    if (r->out && r->out->calls_sent) {
        for (int i = 0; i < r->out->calls_sent; i++) {
            snprintf(id, sizeof id, "fc_%s_%d", st->resp_id, i);
            cJSON_AddItemToArray(output, call_item(id, "completed",
                                                   &r->out->calls[i], 1));
        }
    } else {
        cJSON_AddItemToArray(output, message_item(st->msg_id, "completed", text));
    }
    cJSON *o = resp_object(st, r, "completed", output, usage_object(r), 0);
    char *s = cJSON_PrintUnformatted(o);
    if (!s)
        PB_MEM_OOM();
    emu_buf_append(b, s, strlen(s));
    emu_buf_append(b, "\n", 1);
    cJSON_free(s);
    cJSON_Delete(o);
}

/* No input: the chat handler only loads the model; the writer turns its
 * empty answer into a response as usual. */
static const char *resp_load(emu_buf *b, emu_req *r)
{
    if (!r->stream) {
        resp_whole(b, r, "", 0);
        return "application/json";
    }
    resp_stream_end(b, r, 0);
    return "text/event-stream";
}

/* An error that ends the stream: a response.failed event (the writer's
 * ResponseFailed), no response.completed. */
static void resp_error_event(emu_buf *b, emu_req *r, const char *msg)
{
    resp_state *st = r->dialect_state;
    start(b, st, r);
    cJSON *resp = resp_object(st, r, "failed", cJSON_CreateArray(), NULL, 1);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "code", "server_error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_ReplaceItemInObject(resp, "error", e);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddItemToObject(d, "response", resp);
    event(b, st, "response.failed", d);
}

static void resp_reply_error(emu_conn *c, int status, const char *msg)
{
    emu_openai_error(c, status, msg, 1);
}

const emu_dialect emu_dialect_responses = {
    .stream_ctype = "text/event-stream",
    .json_ctype = "application/json",
    .token = resp_token,
    .stream_end = resp_stream_end,
    .whole = resp_whole,
    .load = resp_load,
    .error_event = resp_error_event,
    .reply_error = resp_reply_error,
};

const emu_route emu_responses_routes[] = {
    {"/v1/responses", HTTP_POST, route_responses},
};
const size_t emu_responses_n_routes =
    sizeof emu_responses_routes / sizeof *emu_responses_routes;
