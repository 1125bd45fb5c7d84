/* emu_http: connections, HTTP/1.1 request parsing (http_parser), routing
 * and the small routes (/, /api/version, /api/tags, /api/ps).
 *
 * Ownership: a connection (emu_conn) is owned by the emulator's list from
 * accept until its uv close callback, which frees it. It owns at most one
 * request (emu_req) at a time; bytes of a pipelined next request wait in
 * `pending` until the current response is complete. */
#include "emu_internal.h"
#include "pb_mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <pb_time.h>

typedef struct emu_wreq {
    uv_write_t w;
    emu_conn *c;
    char data[];
} emu_wreq;

static const char *status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 403: return "Forbidden";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void http_date(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- connection lifetime ---- */

static void conn_reset_message(emu_conn *c)
{
    c->url.len = c->body.len = c->hname.len = c->hval.len = 0;
    c->hstate = 0;
    c->req_id[0] = c->fault_spec[0] = '\0';
    c->origin[0] = c->host[0] = c->cors_header[0] = '\0';
    c->header_bytes = 0;
    c->err_status = 0;
    c->msg_complete = 0;
    c->keep_alive = 0;
    c->bad_te = 0;
}

static void conn_on_close(uv_handle_t *h)
{
    emu_conn *c = h->data;
    emu_buf_free(&c->url);
    emu_buf_free(&c->body);
    emu_buf_free(&c->hname);
    emu_buf_free(&c->hval);
    emu_buf_free(&c->pending);
    free(c);
}

static void conn_detach(emu_conn *c)
{
    c->closing = 1;
    if (c->req)
        emu_req_cancel(c->req);
    emu *e = c->inst->emu;
    e->n_conns--;
    if (c->prev)
        c->prev->next = c->next;
    else
        e->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void emu_conn_close(emu_conn *c)
{
    if (c->closing)
        return;
    conn_detach(c);
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

void emu_conn_reset(emu_conn *c)
{
    if (c->closing)
        return;
    conn_detach(c);
    /* Fails only while a shutdown is pending; a plain close is next best. */
    if (uv_tcp_close_reset(&c->tcp, conn_on_close))
        uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    emu_conn *c = req->data;
    (void)status;
    /* Our FIN is out. Keep reading until the client closes too (or the
     * housekeeping timer gives up): closing with unread input would send
     * an RST that can destroy the response the client has not read yet. */
    c->drain_since = uv_hrtime();
    if (status < 0)
        emu_conn_close(c);
}

void emu_conn_shutdown(emu_conn *c)
{
    if (c->closing || c->shutting_down)
        return;
    c->shutting_down = 1;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, conn_on_shutdown))
        emu_conn_close(c);
}

static void conn_on_write(uv_write_t *w, int status)
{
    emu_wreq *wr = (emu_wreq *)w;
    emu_conn *c = wr->c;
    free(wr);
    if (status < 0 && !c->closing)
        emu_conn_close(c);
}

int emu_conn_write(emu_conn *c, const char *data, size_t len)
{
    if (c->closing || c->shutting_down)
        return -1;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    /* Fast path: the socket usually takes the whole chunk at once, which
     * saves an allocation and a callback per token. uv_try_write refuses
     * (EAGAIN) while earlier writes are queued, so order is kept. */
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len)
        return 0;
    if (n < 0 && n != UV_EAGAIN) {
        emu_conn_close(c);
        return -1;
    }
    size_t off = n > 0 ? (size_t)n : 0;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
        EMU_MAX_WRITE_QUEUE) {
        emu_log(c->inst->emu, "instance %d: client reads too slowly "
                "(%d bytes queued), dropping the connection",
                c->inst->index, EMU_MAX_WRITE_QUEUE);
        emu_conn_close(c);
        return -1;
    }
    emu_wreq *wr = pb_mem_alloc(sizeof *wr + (len - off));
    wr->c = c;
    memcpy(wr->data, data + off, len - off);
    b = uv_buf_init(wr->data, (unsigned)(len - off));
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, conn_on_write)) {
        free(wr);
        emu_conn_close(c);
        return -1;
    }
    return 0;
}

/* ---- responses ---- */

void emu_http_reply(emu_conn *c, int status, const char *ctype,
                    const char *body, size_t len, int head_only)
{
    char date[64];
    http_date(date, sizeof date);
    emu_buf b = {0};
    emu_buf_printf(&b,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nDate: %s\r\n"
                   "%s%sContent-Length: %zu\r\n%s\r\n",
                   status, status_text(status), ctype, date,
                   c->inst->emu->ident_header, c->cors_header, len,
                   c->keep_alive ? "" : "Connection: close\r\n");
    if (!head_only)
        emu_buf_append(&b, body, len);
    emu_conn_write(c, b.data, b.len);
    emu_buf_free(&b);
}

void emu_http_reply_headers(emu_conn *c, int status, const char *extra)
{
    char date[64];
    http_date(date, sizeof date);
    emu_buf b = {0};
    emu_buf_printf(&b, "HTTP/1.1 %d %s\r\n%sDate: %s\r\n%s%s\r\n", status,
                   status_text(status), extra, date,
                   c->inst->emu->ident_header,
                   c->keep_alive ? "" : "Connection: close\r\n");
    emu_conn_write(c, b.data, b.len);
    emu_buf_free(&b);
}

void emu_http_reply_error(emu_conn *c, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *s = cJSON_PrintUnformatted(o);
    emu_http_reply(c, status, "application/json; charset=utf-8", s,
                   strlen(s), 0);
    cJSON_free(s);
    cJSON_Delete(o);
}

void emu_http_stream_headers(emu_buf *b, const emu_conn *c,
                             const char *ctype)
{
    char date[64];
    http_date(date, sizeof date);
    emu_buf_printf(b,
                   "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                   "Date: %s\r\n%s%sTransfer-Encoding: chunked\r\n%s\r\n",
                   ctype, date, c->inst->emu->ident_header, c->cors_header,
                   c->keep_alive ? "" : "Connection: close\r\n");
}

static void conn_feed(emu_conn *c, const char *data, size_t len);
static void conn_reject(emu_conn *c, enum http_errno en);

void emu_conn_response_done(emu_conn *c)
{
    if (c->closing)
        return;
    if (!c->keep_alive) {
        emu_conn_shutdown(c);
        return;
    }
    conn_reset_message(c);
    http_parser_pause(&c->parser, 0);
    /* Waiting for the next request: idle until its first byte. */
    c->wait_since = uv_hrtime();
    c->idle = c->pending.len == 0;
    /* Answered from inside conn_feed (a short route): its loop goes on
     * with the bytes after this request. Feeding them from here instead
     * recursed once per pipelined request, each level holding a copy of
     * the rest: O(n^2) memory and an n-deep stack. */
    if (c->feeding)
        return;
    if (c->pending.len) {
        emu_buf tmp = c->pending;
        memset(&c->pending, 0, sizeof c->pending);
        conn_feed(c, tmp.data, tmp.len);
        emu_buf_free(&tmp);
    }
}

/* ---- simple routes ---- */

static void reply_json(emu_conn *c, cJSON *o, int head_only)
{
    char *s = cJSON_PrintUnformatted(o);
    emu_http_reply(c, 200, "application/json; charset=utf-8", s, strlen(s),
                   head_only);
    cJSON_free(s);
    cJSON_Delete(o);
}

static void add_model_fields(cJSON *m, const char *name)
{
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "model", name);
}

static void route_tags(emu_conn *c, int head_only)
{
    emu *e = c->inst->emu;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < e->o.n_models; i++) {
        const char *name = e->o.models[i];
        char digest[65];
        if (!name[0])
            continue; /* deleted */
        emu_model_digest(name, digest);
        cJSON *m = cJSON_CreateObject();
        add_model_fields(m, name);
        cJSON_AddStringToObject(m, "modified_at", e->started_at);
        cJSON_AddNumberToObject(m, "size", EMU_MODEL_SIZE);
        cJSON_AddStringToObject(m, "digest", digest);
        cJSON_AddItemToObject(m, "details", emu_model_details(name));
        /* ListModelResponse.Capabilities (omitempty, never empty here). */
        emu_caps_json(cJSON_AddArrayToObject(m, "capabilities"),
                      e->model_caps[i]);
        cJSON_AddItemToArray(arr, m);
    }
    reply_json(c, o, head_only);
}

/* GET /api/ps: the runners loaded now (a model still loading is listed,
 * as Ollama lists it), longest time to expiry first; expires_at is the
 * instant the keep-alive timer will unload it (scaled by --time-scale). */
static void route_ps(emu_conn *c, int head_only)
{
    emu *e = c->inst->emu;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "models");
    int order[EMU_MAX_MODELS], n = 0;
    int64_t exp[EMU_MAX_MODELS];
    int64_t now = pb_time_wall_ns();
    for (int i = 0; i < e->o.n_models; i++) {
        const emu_runner *run = &c->inst->runner[i];
        if (!run->loaded)
            continue;
        /* Not idle yet: Ollama estimates now + session duration. */
        int64_t x = run->expires_wall_ns;
        if (!x)
            x = run->session_ns == INT64_MAX || now > INT64_MAX - run->session_ns
                    ? INT64_MAX
                    : now + run->session_ns;
        exp[i] = x;
        int k = n++;
        while (k > 0 && exp[order[k - 1]] < x) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    for (int j = 0; j < n; j++) {
        int i = order[j];
        const emu_runner *run = &c->inst->runner[i];
        /* A deleted model stays loaded, under its name (emu_manage.c). */
        const char *name = e->o.models[i][0] ? e->o.models[i]
                                             : e->deleted_name[i];
        char digest[65], expires[40];
        emu_model_digest(name, digest);
        if (exp[i] == INT64_MAX) {
            /* Forever: Go's time.Now().Add(math.MaxInt64), ~292 years. */
            long ns = (long)(now % 1000000000) + 854775807;
            emu_rfc3339nano(now / 1000000000 + 9223372036 + ns / 1000000000,
                            ns % 1000000000, expires);
        } else {
            emu_rfc3339nano(exp[i] / 1000000000, (long)(exp[i] % 1000000000),
                            expires);
        }
        cJSON *m = cJSON_CreateObject();
        add_model_fields(m, name);
        cJSON_AddNumberToObject(m, "size", run->vram_bytes);
        cJSON_AddStringToObject(m, "digest", digest);
        cJSON_AddItemToObject(m, "details", emu_model_details(name));
        cJSON_AddStringToObject(m, "expires_at", expires);
        cJSON_AddNumberToObject(m, "size_vram", run->vram_bytes);
        cJSON_AddNumberToObject(m, "context_length", run->num_ctx);
        cJSON_AddItemToArray(arr, m);
    }
    reply_json(c, o, head_only);
}

static void reply_text(emu_conn *c, int status, const char *text,
                       int head_only)
{
    emu_http_reply(c, status, "text/plain; charset=utf-8", text,
                   strlen(text), head_only);
}

/* ---- Ollama's native routes (server/routes.go GenerateRoutes) ---- */

static int is_head(const emu_conn *c)
{
    return c->parser.method == HTTP_HEAD;
}

static void native_root(emu_conn *c, const char *path)
{
    (void)path;
    reply_text(c, 200, "Ollama is running", is_head(c));
    emu_conn_response_done(c);
}

static void native_version(emu_conn *c, const char *path)
{
    (void)path;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", c->inst->emu->o.version_string);
    reply_json(c, o, is_head(c));
    emu_conn_response_done(c);
}

static void native_tags(emu_conn *c, const char *path)
{
    (void)path;
    route_tags(c, is_head(c));
    emu_conn_response_done(c);
}

static void native_ps(emu_conn *c, const char *path)
{
    (void)path;
    route_ps(c, is_head(c));
    emu_conn_response_done(c);
}

static void native_show(emu_conn *c, const char *path)
{
    (void)path;
    emu_api_show(c);
}

static void native_pull(emu_conn *c, const char *path)
{
    (void)path;
    emu_api_pull(c);
}

static void native_embed(emu_conn *c, const char *path)
{
    emu_req_submit_embed(c, !strcmp(path, "/api/embed") ? EMU_API_EMBED
                                                        : EMU_API_EMBEDDINGS);
}

/* emu_req answers, now or when the stream ends. */
static void native_generate(emu_conn *c, const char *path)
{
    emu_req_submit(c, !strcmp(path, "/api/chat"));
}

static const emu_route native_routes[] = {
    {"/", HTTP_GET, native_root},
    {"/", HTTP_HEAD, native_root},
    {"/api/version", HTTP_GET, native_version},
    {"/api/version", HTTP_HEAD, native_version},
    {"/api/tags", HTTP_GET, native_tags},
    {"/api/tags", HTTP_HEAD, native_tags},
    {"/api/ps", HTTP_GET, native_ps},
    {"/api/ps", HTTP_HEAD, native_ps},
    {"/api/show", HTTP_POST, native_show},
    {"/api/pull", HTTP_POST, native_pull},
    {"/api/embed", HTTP_POST, native_embed},
    {"/api/embeddings", HTTP_POST, native_embed},
    {"/api/generate", HTTP_POST, native_generate},
    {"/api/chat", HTTP_POST, native_generate},
};
static const size_t native_n_routes = sizeof native_routes / sizeof *native_routes;

/* Every route, one table per module (a new API is a new file and a line
 * here). Returns 1 when the path is known (answered, handed to a request,
 * or a 405 for another method), 0 for a 404. */
static int route_table(emu_conn *c, const char *path, int method)
{
    static const struct {
        const emu_route *routes;
        const size_t *n;
    } tables[] = {
        {native_routes, &native_n_routes},
        {emu_openai_routes, &emu_openai_n_routes},
        {emu_responses_routes, &emu_responses_n_routes},
        {emu_manage_routes, &emu_manage_n_routes},
    };
    int path_known = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        for (size_t i = 0; i < *tables[t].n; i++) {
            const emu_route *rt = &tables[t].routes[i];
            size_t n = strlen(rt->path);
            /* "/x/" is every path below it; "/" itself is exact. */
            int match = n > 1 && rt->path[n - 1] == '/'
                            ? !strncmp(path, rt->path, n) && path[n]
                            : !strcmp(path, rt->path);
            if (!match)
                continue;
            if (rt->method == method) {
                rt->handle(c, path);
                return 1;
            }
            path_known = 1;
        }
    }
    if (!path_known)
        return 0;
    reply_text(c, 405, "405 method not allowed", 0);
    emu_conn_response_done(c);
    return 1;
}

/* Routes one complete request. Every branch either answers now and calls
 * emu_conn_response_done, or hands the connection to a request (emu_req)
 * that does so when its stream ends. */
static void conn_dispatch(emu_conn *c)
{
    emu *e = c->inst->emu;
    char path[256];
    size_t plen = strcspn(c->url.data ? c->url.data : "", "?#");
    if (plen >= sizeof path)
        plen = sizeof path - 1;
    memcpy(path, c->url.data ? c->url.data : "", plen);
    path[plen] = '\0';
    int m = c->parser.method;

    if (!e->o.quiet)
        emu_log(e, "instance %d: %s %s", c->inst->index,
                http_method_str((enum http_method)m), path);

    if (emu_cors_check(c, m))
        return;
    if (route_table(c, path, m))
        return;
    reply_text(c, 404, "404 page not found", 0);
    emu_conn_response_done(c);
}

/* ---- parsing ---- */

static int header_budget(emu_conn *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > EMU_MAX_HEADER_BYTES) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static void copy_header(char *dst, size_t cap, const emu_buf *v)
{
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = v->data[i];
        /* The id goes into a tab-separated trace: keep it on one field. */
        dst[i] = (ch == '\t' || ch == '\n' || ch == '\r') ? '_' : ch;
    }
    dst[n] = '\0';
}

static void header_done(emu_conn *c)
{
    if (!c->hname.data)
        return;
    if (!strcasecmp(c->hname.data, "X-Parbench-Request"))
        copy_header(c->req_id, sizeof c->req_id, &c->hval);
    else if (!strcasecmp(c->hname.data, "Origin"))
        copy_header(c->origin, sizeof c->origin, &c->hval);
    else if (!strcasecmp(c->hname.data, "Host"))
        copy_header(c->host, sizeof c->host, &c->hval);
    else if (!strcasecmp(c->hname.data, "X-Parbench-Fault"))
        copy_header(c->fault_spec, sizeof c->fault_spec, &c->hval);
    else if (!strcasecmp(c->hname.data, "Expect") && c->hval.data &&
             !strcasecmp(c->hval.data, "100-continue"))
        c->expect_continue = 1;
    else if (!strcasecmp(c->hname.data, "Transfer-Encoding") &&
             (!c->hval.data || strcasecmp(c->hval.data, "chunked")))
        /* http_parser reads "gzip, chunked" as chunked and would hand us
         * gzip bytes as JSON; like Go's server, refuse codings we do not
         * implement (RFC 9112 6.1: 501). */
        c->bad_te = 1;
    c->hname.len = c->hval.len = 0;
    if (c->hname.data)
        c->hname.data[0] = '\0';
    if (c->hval.data)
        c->hval.data[0] = '\0';
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    emu_conn *c = p->data;
    if (header_budget(c, len))
        return -1;
    emu_buf_append(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    emu_conn *c = p->data;
    if (header_budget(c, len))
        return -1;
    if (c->hstate == 2)
        header_done(c);
    c->hstate = 1;
    emu_buf_append(&c->hname, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    emu_conn *c = p->data;
    if (header_budget(c, len))
        return -1;
    c->hstate = 2;
    emu_buf_append(&c->hval, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    emu_conn *c = p->data;
    if (c->hstate == 2)
        header_done(c);
    c->hstate = 0;
    if (c->bad_te) {
        c->err_status = 501;
        return -1;
    }
    if (p->content_length != ULLONG_MAX &&
        p->content_length > EMU_MAX_BODY_BYTES) {
        c->err_status = 413;
        return -1;
    }
    if (c->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        emu_conn_write(c, cont, sizeof cont - 1);
        c->expect_continue = 0;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    emu_conn *c = p->data;
    if (c->body.len + len > EMU_MAX_BODY_BYTES) {
        c->err_status = 413;
        return -1;
    }
    emu_buf_append(&c->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    emu_conn *c = p->data;
    c->msg_complete = 1;
    c->wait_since = 0; /* answering: no request timeout */
    c->keep_alive = http_should_keep_alive(p);
    /* Stop here: bytes after this message belong to the next request and
     * wait until this response is complete. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Parses and serves the requests in data, one after another. A request
 * answered at once lets the loop go on with the next; one still answering
 * (a stream) leaves the rest in `pending` for emu_conn_response_done. */
static void conn_feed(emu_conn *c, const char *data, size_t len)
{
    c->feeding = 1;
    for (;;) {
        size_t done = http_parser_execute(&c->parser, &parser_settings, data, len);
        enum http_errno en = HTTP_PARSER_ERRNO(&c->parser);
        if (c->msg_complete) {
            data += done;
            len -= done;
            conn_dispatch(c);
            if (c->closing || c->shutting_down)
                break;
            if (c->msg_complete) {
                /* Still answering: the rest waits. */
                if (len)
                    emu_buf_append(&c->pending, data, len);
                break;
            }
            if (len)
                continue;
            break;
        }
        if (en == HPE_OK)
            break; /* need more bytes */
        conn_reject(c, en);
        break;
    }
    c->feeding = 0;
}

static void conn_reject(emu_conn *c, enum http_errno en)
{
    /* A request we cannot serve: answer once, then close the connection,
     * since the rest of the byte stream cannot be trusted. */
    c->keep_alive = 0;
    int status = c->err_status ? c->err_status : 400;
    emu *e = c->inst->emu;
    emu_log(e, "instance %d: rejecting request with %d (%s)", c->inst->index,
            status, status == 400 ? http_errno_description(en)
                                  : status_text(status));
    if (status == 413)
        emu_http_reply_error(c, 413, "http: request body too large");
    else if (status == 431)
        reply_text(c, 431, "431 Request Header Fields Too Large", 0);
    else if (status == 501)
        reply_text(c, 501, "unsupported transfer encoding", 0);
    else
        reply_text(c, 400, "400 Bad Request", 0);
    c->msg_complete = 1; /* ignore whatever else the client sends */
    emu_conn_shutdown(c);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    emu_conn *c = h->data;
    (void)suggested;
    /* One buffer for all connections: a read is consumed (parsed or copied
     * to `pending`) inside conn_on_read, before the next read starts. */
    emu *e = c->inst->emu;
    *buf = uv_buf_init(e->read_buf, sizeof e->read_buf);
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    emu_conn *c = s->data;
    if (nread < 0) {
        /* EOF or error: the client is gone (also mid-stream). */
        emu_conn_close(c);
        return;
    }
    if (nread == 0 || c->closing || c->shutting_down)
        return;
    if (c->msg_complete) {
        /* A response is in flight: keep pipelined bytes for later. */
        if (c->pending.len + (size_t)nread > EMU_MAX_BODY_BYTES + 65536) {
            emu_conn_close(c);
            return;
        }
        emu_buf_append(&c->pending, buf->base, (size_t)nread);
        return;
    }
    if (c->idle) {
        /* The first byte of the next request: the header timeout runs. */
        c->idle = 0;
        c->wait_since = uv_hrtime();
    }
    conn_feed(c, buf->base, (size_t)nread);
}

void emu_http_on_connection(uv_stream_t *server, int status)
{
    emu_instance *inst = server->data;
    emu *e = inst->emu;
    if (status < 0) {
        emu_log(e, "instance %d: accept failed: %s", inst->index,
                uv_strerror(status));
        return;
    }
    emu_conn *c = pb_mem_calloc(1, sizeof *c);
    c->inst = inst;
    uv_tcp_init(&e->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, conn_on_close);
        return;
    }
    /* Without NODELAY a chunk written after another on a reused connection
     * waits ~40 ms for the client's delayed ACK (Nagle). */
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->next = e->conns;
    if (e->conns)
        e->conns->prev = c;
    e->conns = c;
    c->wait_since = uv_hrtime(); /* the first request: header timeout */
    if (e->n_conns++ >= e->o.max_connections) {
        /* Over the limit: a 503 the client can read beats a reset, and
         * the log says why (one line a second at most under a flood). */
        e->refused++;
        uint64_t now = uv_hrtime();
        if (now - e->refused_logged_at >= 1000000000ull || !e->refused_logged_at) {
            emu_log(e, "instance %d: refusing a connection: %d open, the limit "
                    "(--max-connections %d); %llu refused so far", inst->index,
                    e->n_conns - 1, e->o.max_connections,
                    (unsigned long long)e->refused);
            e->refused_logged_at = now;
        }
        c->keep_alive = 0;
        c->msg_complete = 1; /* whatever the client sends is ignored */
        reply_text(c, 503, "too many connections", 0);
        emu_conn_shutdown(c);
        /* Read on, so the client's close ends the drain at once. */
        uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_on_read);
}

/* Called periodically: connections that we shut down but whose client never
 * closed are closed after 2 s; a request that does not arrive within
 * --header-timeout gets a 408 and the connection is shut down (a client
 * sending a byte a second would hold it forever); a keep-alive connection
 * idle for --idle-timeout is closed. */
void emu_http_sweep(emu *e)
{
    uint64_t now = uv_hrtime();
    uint64_t head_ns = (uint64_t)(e->o.header_timeout_s * 1e9);
    uint64_t idle_ns = (uint64_t)(e->o.idle_timeout_s * 1e9);
    emu_conn *c = e->conns;
    while (c) {
        emu_conn *next = c->next;
        if (c->drain_since && now - c->drain_since > 2000000000ull) {
            emu_conn_close(c);
        } else if (c->wait_since && !c->shutting_down && !c->closing) {
            uint64_t waited = now - c->wait_since;
            if (c->idle && waited > idle_ns) {
                emu_conn_close(c);
            } else if (!c->idle && waited > head_ns) {
                emu_log(e, "instance %d: closing a connection: no complete request "
                        "within %g s (--header-timeout)", c->inst->index,
                        e->o.header_timeout_s);
                c->keep_alive = 0;
                c->msg_complete = 1;
                c->wait_since = 0;
                reply_text(c, 408, "408 Request Timeout", 0);
                emu_conn_shutdown(c);
            }
        }
        c = next;
    }
}
