/* proxy_record: one request seen by the recording proxy, and its trace
 * object. The response body is interpreted by the transfer module (the
 * dialects collect's own drivers use), fed the de-chunked body pieces with
 * their arrival times, so the final object, token counts, first token and
 * errors mean exactly what they mean for collect's drivers. */
#include "proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_mem.h"

void px_buf_append(px_buf *b, const char *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 1024;
        while (c < b->len + n)
            c *= 2;
        char *p = pb_mem_realloc(b->data, c);
        b->data = p;
        b->cap = c;
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
}

void px_buf_free(px_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

pxr *px_rec_new(pb_proxy *px, unsigned long conn_no, unsigned long conn_order)
{
    pxr *r = pb_mem_calloc(1, sizeof *r);
    r->origin = px->origin;
    r->px = px;
    r->order = ++px->n_reqs_total;
    r->conn_no = conn_no;
    r->conn_order = conn_order;
    r->status = 0;
    if (px->reqs_tail)
        px->reqs_tail->next = r;
    else
        px->reqs = r;
    px->reqs_tail = r;
    /* Until the client names it (X-Parbench-Request): endpoint, connection
     * and order on that connection identify it. */
    snprintf(r->request_id, sizeof r->request_id, "%s-c%lu-r%lu", px->label, conn_no,
             conn_order);
    return r;
}

/* The stream APIs by path (query string ignored). */
static const struct {
    const char *path, *api;
} apis[] = {
    {"/api/generate", "generate"},
    {"/api/chat", "chat"},
    {"/v1/chat/completions", "openai-chat"},
    {"/v1/completions", "openai-completions"},
    {"/v1/responses", "openai-responses"},
};

void px_rec_set_path(pxr *r, const char *path, size_t len)
{
    free(r->path);
    r->path = pb_mem_alloc(len + 1);
    memcpy(r->path, path, len);
    r->path[len] = '\0';
    size_t plen = strcspn(r->path, "?#");
    for (size_t i = 0; i < sizeof apis / sizeof *apis; i++)
        if (strlen(apis[i].path) == plen && !strncmp(r->path, apis[i].path, plen)) {
            r->api = apis[i].api;
            r->dialect = pb_dialect_find(apis[i].api);
        }
}

/* The sampling parameters an OpenAI-compatible body carries at its top
 * level, recorded under their own names. */
static const char *const openai_keys[] = {"max_tokens", "max_completion_tokens",
                                          "max_output_tokens", "seed", "temperature",
                                          "top_p", "stop", "frequency_penalty",
                                          "presence_penalty"};

static void mark_dirty(pxr *r)
{
    if (!r->dirty) {
        r->dirty = 1;
        r->dirty_next = r->px->dirty;
        r->px->dirty = r;
    }
}

/* Interpreting a request (its body read with cJSON, a transfer set up
 * with a libcurl handle: tens of microseconds) and its response (lines or
 * events parsed, JSON read by the dialect: microseconds per token) waits
 * until the records are taken, after the phase: done in the loop, it
 * delayed the forwarding of every other stream (with 128 streams starting
 * together, the last request reached the server ~10 ms late). The times
 * are those of the reads, kept in the chunk log, so the results are the
 * same. Only a large backlog (a body over HEAVY_BODY, a response over
 * HEAVY_RESPONSE not yet read) is interpreted from the loop's check phase,
 * after the poll phase's reads were forwarded, to bound memory. */
#define HEAVY_BODY (64u << 10)
#define HEAVY_RESPONSE (256u << 10)

void px_rec_request_done(pxr *r)
{
    r->req_complete = 1;
    r->to_interpret = 1;
    if (r->body.len > HEAVY_BODY)
        mark_dirty(r);
}

static void interpret_request(pxr *r)
{
    r->to_interpret = 0;
    if (!r->api || r->body_cut || !r->body.len)
        return;
    cJSON *j = cJSON_ParseWithLength(r->body.data, r->body.len);
    /* Read: a 1 MiB body per agent need not wait for the end of the run. */
    px_buf_free(&r->body);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
    r->agent.model = pb_mem_strdup(cJSON_IsString(m) ? m->valuestring : "");
    if (!strncmp(r->api, "openai", 6)) {
        r->options = cJSON_CreateObject();
        for (size_t i = 0; i < sizeof openai_keys / sizeof *openai_keys; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, openai_keys[i]);
            if (v)
                cJSON_AddItemToObject(r->options, openai_keys[i], cJSON_Duplicate(v, 1));
        }
    } else {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "options");
        r->options = cJSON_IsObject(o) ? cJSON_Duplicate(o, 1) : cJSON_CreateObject();
    }
    /* A program may ask for no stream: the answer is then one document. */
    int streams = r->dialect ? pb_dialect_streams(r->dialect, j) : 1;
    if (r->px->o.keep_request_body)
        r->request_body = j; /* recorded: what a replay sends again */
    else
        cJSON_Delete(j);
    if (!r->dialect)
        return;
    /* The transfer module interprets the response; its libcurl handle is
     * never performed. Built now, while the server computes the answer,
     * not when the first byte comes back. */
    r->agent.id = pb_mem_strdup(r->request_id);
    r->agent.api = pb_mem_strdup(r->dialect->name);
    r->agent.prompt = pb_mem_strdup("");
    r->agent.endpoint = pb_mem_strdup("");
    /* The Ollama dialects read num_predict from here to size the chunk
     * log; OpenAI's max_tokens means the same. */
    r->agent.options = cJSON_Duplicate(r->options, 1);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(r->options, "max_tokens");
    if (!mt)
        mt = cJSON_GetObjectItemCaseSensitive(r->options, "max_output_tokens");
    if (mt && !cJSON_GetObjectItemCaseSensitive(r->agent.options, "num_predict"))
        cJSON_AddItemToObject(r->agent.options, "num_predict", cJSON_Duplicate(mt, 1));
    pb_transfer_opts to = {.url = "", .request_id = r->request_id, .timeout_s = 1,
                           .sample_seed = -1};
    char err[256];
    r->tr = pb_transfer_new(&r->agent, &to, r->origin, err, sizeof err);
    if (r->tr) {
        r->tr->status = r->status;
        r->tr->whole = !streams;
        /* Error texts name the path the client asked for. */
        free(r->tr->url);
        r->tr->url = pb_mem_strdup(r->path);
        r->tr->reply.url = r->tr->url;
    }
}

void px_rec_response_headers(pxr *r, int status)
{
    r->status = status;
    if (r->tr)
        r->tr->status = status;
}

/* Hands the response pieces not read yet to the transfer. */
static void parse_pending(pxr *r)
{
    size_t off = 0;
    for (size_t i = r->parsed; i < r->n_ch; i++) {
        size_t n = (size_t)r->ch[i][1];
        if (r->tr)
            pb_transfer_deliver(r->tr, r->unparsed.data + off, n, r->ch[i][0]);
        off += n;
    }
    r->parsed = r->n_ch;
    r->unparsed.len = 0;
}

void px_rec_parse_dirty(pb_proxy *px)
{
    while (px->dirty) {
        pxr *r = px->dirty;
        px->dirty = r->dirty_next;
        r->dirty_next = NULL;
        r->dirty = 0;
        px_rec_interpret(r);
    }
}

void px_rec_interpret(pxr *r)
{
    if (r->to_interpret)
        interpret_request(r);
    parse_pending(r);
}

size_t px_rec_body(pxr *r, const char *d, size_t n, uint64_t t_in)
{
    if (r->n_ch == r->cap_ch) {
        size_t cap = r->cap_ch ? r->cap_ch * 2 : 512;
        void *p = pb_mem_realloc(r->ch, cap * sizeof *r->ch);
        r->ch = p;
        r->cap_ch = cap;
    }
    size_t i = r->n_ch++;
    r->ch[i][0] = t_in;
    r->ch[i][1] = n;
    r->ch[i][2] = 0;
    r->bytes += n;
    if (r->dialect && !r->body_cut) {
        /* A transfer will read it (px_rec_interpret). */
        px_buf_append(&r->unparsed, d, n);
        if (r->unparsed.len > HEAVY_RESPONSE)
            mark_dirty(r);
    } else {
        r->parsed = r->n_ch;
    }
    return i;
}

void px_rec_finish(pxr *r, const char *error, uint64_t now)
{
    if (r->finished)
        return;
    r->finished = 1;
    if (!r->t_end)
        r->t_end = now;
    if (error)
        r->error = pb_mem_strdup(error);
}

int px_rec_takeable(const pxr *r)
{
    return r->finished && r->refs == 0;
}

static cJSON *rel(const pxr *r, uint64_t t)
{
    return t ? cJSON_CreateNumber((double)(int64_t)(t - r->origin)) : cJSON_CreateNull();
}

static void put(cJSON *j, const char *key, cJSON *v)
{
    if (cJSON_HasObjectItem(j, key))
        cJSON_ReplaceItemInObjectCaseSensitive(j, key, v);
    else
        cJSON_AddItemToObject(j, key, v);
}

/* Settles the transfer as if libcurl had reported the end: the stream
 * ended with the response's last byte (or failed with the proxy's error). */
static cJSON *transfer_json(pxr *r)
{
    pb_transfer *t = r->tr;
    t->t_done = r->t_done ? (int64_t)(r->t_done - r->origin) : (int64_t)(r->t_end - r->origin);
    t->t_end = (int64_t)(r->t_end - r->origin);
    t->finished = 1;
    t->curl_rc = CURLE_OK;
    if (r->error) {
        pb_reply_fail(&t->reply, "%s", r->error);
        t->error = t->reply.error;
    }
    pb_transfer_settle(t);
    return pb_transfer_to_json(t);
}

/* The same keys for a request no dialect reads (another path, a body we
 * could not parse): what the proxy itself knows. */
static cJSON *raw_json(pxr *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "agent", r->request_id);
    cJSON_AddStringToObject(j, "request_id", r->request_id);
    cJSON_AddBoolToObject(j, "ok", !r->error && r->status >= 200 && r->status < 300);
    cJSON_AddNumberToObject(j, "http_status", r->status);
    cJSON_AddItemToObject(j, "error", r->error ? cJSON_CreateString(r->error)
                                               : r->status >= 300 ? cJSON_CreateString("HTTP error status")
                                                                  : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "t_first_token_ns", cJSON_CreateNull());
    cJSON_AddNumberToObject(j, "bytes", (double)r->bytes);
    cJSON_AddNumberToObject(j, "lines", 0);
    cJSON_AddNumberToObject(j, "tokens", 0);
    cJSON_AddItemToObject(j, "final", cJSON_CreateNull());
    cJSON_AddItemToObject(j, "dialect", cJSON_CreateNull());
    cJSON_AddItemToObject(j, "t_first_reasoning_ns", cJSON_CreateNull());
    cJSON_AddItemToObject(j, "completion_tokens", cJSON_CreateNull());
    cJSON_AddBoolToObject(j, "tokens_estimated", 1);
    return j;
}

/* [[t, n], ...] and [t_out, ...] as JSON text (see transfer.c: cJSON nodes
 * per chunk cost ~200 bytes each). */
static cJSON *chunks_raw(const pxr *r, int written)
{
    size_t cap = 3 + r->n_ch * 44, len = 0;
    char *raw = pb_mem_alloc(cap);
    raw[len++] = '[';
    for (size_t i = 0; i < r->n_ch; i++) {
        const char *sep = i ? "," : "";
        if (!written)
            len += (size_t)snprintf(raw + len, cap - len, "%s[%lld,%lld]", sep,
                                    (long long)(r->ch[i][0] - r->origin), (long long)r->ch[i][1]);
        else if (r->ch[i][2])
            len += (size_t)snprintf(raw + len, cap - len, "%s%lld", sep,
                                    (long long)(r->ch[i][2] - r->origin));
        else
            len += (size_t)snprintf(raw + len, cap - len, "%snull", sep);
    }
    raw[len++] = ']';
    raw[len] = '\0';
    cJSON *j = cJSON_CreateRaw(raw);
    free(raw);
    return j;
}

cJSON *px_rec_to_json(pxr *r, const char *label)
{
    px_rec_interpret(r);
    cJSON *j = r->tr ? transfer_json(r) : raw_json(r);
    /* The proxy's own clock readings replace libcurl's. */
    put(j, "http_status", cJSON_CreateNumber(r->status));
    put(j, "t_start_ns", rel(r, r->t_start));
    put(j, "t_connected_ns", rel(r, r->t_begin));
    put(j, "t_first_byte_ns", rel(r, r->t_first_byte));
    put(j, "t_end_ns", rel(r, r->t_end));
    put(j, "curl", cJSON_CreateNull());
    put(j, "bytes", cJSON_CreateNumber((double)r->bytes));
    put(j, "chunks", chunks_raw(r, 0));
    put(j, "url_path", r->path ? cJSON_CreateString(r->path) : cJSON_CreateNull());
    put(j, "t_done_ns", rel(r, r->t_done));
    /* Only the proxy's records carry these (data/FORMAT.md). */
    cJSON_AddStringToObject(j, "source", "proxy");
    cJSON_AddStringToObject(j, "endpoint", label);
    cJSON_AddStringToObject(j, "method", http_method_str((enum http_method)r->method));
    cJSON_AddItemToObject(j, "api", r->api ? cJSON_CreateString(r->api) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "model", r->agent.model ? cJSON_CreateString(r->agent.model)
                                                     : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "options", r->options ? r->options : cJSON_CreateNull());
    r->options = NULL;
    if (r->px->o.keep_request_body) {
        cJSON_AddItemToObject(j, "request_body",
                              r->request_body ? r->request_body : cJSON_CreateNull());
        r->request_body = NULL;
    }
    cJSON_AddBoolToObject(j, "request_id_sent", r->has_id);
    cJSON_AddNumberToObject(j, "connection", (double)r->conn_no);
    cJSON_AddNumberToObject(j, "connection_request", (double)r->conn_order);
    cJSON_AddNumberToObject(j, "order", (double)r->order);
    cJSON_AddNumberToObject(j, "request_bytes", (double)r->request_bytes);
    cJSON_AddItemToObject(j, "t_request_in_ns", rel(r, r->t_headers));
    cJSON_AddItemToObject(j, "t_request_end_ns", rel(r, r->t_req_end));
    cJSON_AddItemToObject(j, "t_sent_upstream_ns", rel(r, r->t_sent));
    cJSON_AddItemToObject(j, "chunks_written_ns", chunks_raw(r, 1));
    uint64_t lag = 0;
    for (size_t i = 0; i < r->n_ch; i++)
        if (r->ch[i][2] && r->ch[i][2] - r->ch[i][0] > lag)
            lag = r->ch[i][2] - r->ch[i][0];
    cJSON_AddNumberToObject(j, "writeback_lag_max_ns", (double)lag);
    return j;
}

void px_rec_free(pxr *r)
{
    if (!r)
        return;
    pb_transfer_free(r->tr);
    free(r->agent.id);
    free(r->agent.api);
    free(r->agent.prompt);
    free(r->agent.endpoint);
    free(r->agent.model);
    cJSON_Delete(r->agent.options);
    cJSON_Delete(r->options);
    cJSON_Delete(r->request_body);
    px_buf_free(&r->body);
    px_buf_free(&r->unparsed);
    free(r->path);
    free(r->ch);
    free(r->error);
    free(r);
}
