/* fake_openai: a tiny OpenAI-compatible streaming server for the
 * collector's tests, so the OpenAI dialect runs end to end (libcurl, the
 * event stream, preflight, the API key) without depending on ollama-emu's
 * /v1 routes. Not a model of any server's timing.
 *
 *   fake_openai [--listeners N] [--require-key KEY] [--log FILE] [--gap-ms MS]
 *
 * Prints `listening http://127.0.0.1:PORT` per listener, then serves until
 * killed. GET /v1/models lists "fake-model" (owned_by "fakeco"). POST
 * /v1/chat/completions and /v1/completions stream, one event every MS
 * (default 5): a role chunk and a `:` comment, a reasoning chunk (chat),
 * max_tokens content chunks (default 3), a finish chunk, a usage chunk when
 * stream_options.include_usage is set, `data: [DONE]`; events alternate LF
 * and CRLF line ends. Every answer has `Server: fake-openai/1.0` and
 * `X-Parbench-Emulator: time-scale=3; preset=fake`. With --require-key a
 * request without `Authorization: Bearer KEY` gets a 401 OpenAI error
 * object; an unknown model or path a 404 one. --log appends each request's
 * method, path, Authorization presence and body as one line. A request in
 * a proxy's absolute form (`POST http://host/v1/...`) is answered as its
 * path and logged with ` via=proxy`: the server is its own --proxy. */
#include <cjson/cJSON.h>
#include <http_parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

static const char *g_key;
static FILE *g_log;
static int g_gap_ms = 5;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_parser parser;
    char url[256];
    char field[64];
    size_t field_len;
    int last_was_value, is_auth;
    char auth[512];
    char *body;
    size_t body_len;
    int step, n_tokens, chat, usage, streaming, closing, handles;
} conn;

typedef struct wreq {
    uv_write_t w;
    char *buf;
} wreq;

static void on_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles == 0) {
        free(c->body);
        free(c);
    }
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_closed);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    wreq *r = (wreq *)w;
    free(r->buf);
    free(r);
}

static void send_text(conn *c, const char *s, size_t n)
{
    if (c->closing)
        return;
    wreq *r = malloc(sizeof *r);
    r->buf = malloc(n);
    memcpy(r->buf, s, n);
    uv_buf_t b = uv_buf_init(r->buf, (unsigned)n);
    uv_write(&r->w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void send_str(conn *c, const char *s) { send_text(c, s, strlen(s)); }

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    conn *c = s->data;
    free(s);
    conn_close(c);
}

/* Closes after everything queued is written. */
static void finish(conn *c)
{
    uv_shutdown_t *s = malloc(sizeof *s);
    s->data = c;
    if (uv_shutdown(s, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(s);
        conn_close(c);
    }
}

#define HEADERS(status, type) \
    "HTTP/1.1 " status "\r\nContent-Type: " type "\r\nServer: fake-openai/1.0\r\n" \
    "X-Parbench-Emulator: time-scale=3; preset=fake\r\nConnection: close\r\n\r\n"

static void answer_json(conn *c, const char *status, const char *json)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
             "Server: fake-openai/1.0\r\nX-Parbench-Emulator: time-scale=3; preset=fake\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(json), json);
    send_str(c, buf);
    finish(c);
}

static void event(conn *c, const char *data)
{
    char buf[1024];
    /* Alternate line ends: the client must take both. */
    snprintf(buf, sizeof buf, c->step % 2 ? "data: %s\r\n\r\n" : "data: %s\n\n", data);
    send_str(c, buf);
}

static void on_tick(uv_timer_t *t)
{
    conn *c = t->data;
    char d[512];
    int s = c->step++;
    if (s == 0 && c->chat) {
        event(c, "{\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\",\"choices\":[{\"index\":0,"
                 "\"delta\":{\"reasoning_content\":\"hmm\"},\"finish_reason\":null}]}");
    } else if (s >= 1 && s <= c->n_tokens) {
        if (c->chat)
            snprintf(d, sizeof d, "{\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\",\"choices\":"
                     "[{\"index\":0,\"delta\":{\"content\":\"t%d \"},\"finish_reason\":null}]}", s);
        else
            snprintf(d, sizeof d, "{\"object\":\"text_completion\",\"model\":\"fake-model\",\"choices\":"
                     "[{\"index\":0,\"text\":\"t%d \",\"finish_reason\":null}]}", s);
        event(c, d);
    } else if (s == c->n_tokens + 1) {
        event(c, c->chat ? "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
                           "\"finish_reason\":\"length\"}]}"
                         : "{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"\","
                           "\"finish_reason\":\"length\"}]}");
        if (c->usage) {
            snprintf(d, sizeof d, "{\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":%d,"
                     "\"total_tokens\":%d},\"timings\":{\"predicted_n\":%d,\"predicted_ms\":1.5}}",
                     c->n_tokens, c->n_tokens + 4, c->n_tokens);
            event(c, d);
        }
        event(c, "[DONE]");
        uv_timer_stop(t);
        finish(c);
    }
}

static void route(conn *c, const char *method)
{
    /* A request sent through an HTTP proxy names the whole URL
     * (`POST http://host:port/v1/...`): answer it as the origin would, so
     * the server also serves as the proxy of --proxy tests, and log it. */
    int via_proxy = strncmp(c->url, "http://", 7) == 0;
    if (via_proxy) {
        const char *path = strchr(c->url + 7, '/');
        memmove(c->url, path ? path : "/", strlen(path ? path : "/") + 1);
    }
    if (g_log) {
        fprintf(g_log, "%s %s auth=%s%s %.*s\n", method, c->url, c->auth[0] ? "yes" : "no",
                via_proxy ? " via=proxy" : "", (int)c->body_len, c->body ? c->body : "");
        fflush(g_log);
    }
    if (g_key) {
        char want[600];
        snprintf(want, sizeof want, "Bearer %s", g_key);
        if (strcmp(c->auth, want) != 0) {
            answer_json(c, "401 Unauthorized", "{\"error\":{\"message\":\"invalid api key\","
                        "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
            return;
        }
    }
    if (strcmp(method, "GET") == 0 && strcmp(c->url, "/v1/models") == 0) {
        answer_json(c, "200 OK", "{\"object\":\"list\",\"data\":[{\"id\":\"fake-model\","
                    "\"object\":\"model\",\"created\":1,\"owned_by\":\"fakeco\"}]}");
        return;
    }
    int chat = strcmp(c->url, "/v1/chat/completions") == 0;
    if (strcmp(method, "POST") != 0 || (!chat && strcmp(c->url, "/v1/completions") != 0)) {
        answer_json(c, "404 Not Found", "{\"error\":{\"message\":\"no such route\"}}");
        return;
    }
    cJSON *b = cJSON_ParseWithLength(c->body ? c->body : "", c->body_len);
    const cJSON *m = cJSON_GetObjectItem(b, "model");
    if (!cJSON_IsString(m) || strcmp(m->valuestring, "fake-model") != 0) {
        cJSON_Delete(b);
        answer_json(c, "404 Not Found", "{\"error\":{\"message\":\"model not found\","
                    "\"type\":\"api_error\"}}");
        return;
    }
    const cJSON *mt = cJSON_GetObjectItem(b, "max_tokens");
    c->n_tokens = cJSON_IsNumber(mt) ? mt->valueint : 3;
    c->usage = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "stream_options"), "include_usage"));
    c->chat = chat;
    c->step = chat ? 0 : 1;
    cJSON_Delete(b);
    send_str(c, HEADERS("200 OK", "text/event-stream") ": keep-alive\n\n");
    event(c, chat ? "{\"object\":\"chat.completion.chunk\",\"model\":\"fake-model\",\"choices\":[{\"index\":0,"
                    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"
                  : "{\"object\":\"text_completion\",\"model\":\"fake-model\",\"choices\":[{\"index\":0,"
                    "\"text\":\"\",\"finish_reason\":null}]}");
    c->streaming = 1;
    uv_timer_start(&c->timer, on_tick, (uint64_t)g_gap_ms, (uint64_t)g_gap_ms);
}

/* http-parser may hand a URL or header value over in pieces: appends one
 * piece to the NUL-terminated dst, or drops the piece when it would not
 * fit in cap bytes (the checks below only need the start). */
static void append_capped(char *dst, size_t cap, const char *at, size_t n)
{
    size_t l = strlen(dst);
    if (l + n < cap) {
        memcpy(dst + l, at, n);
        dst[l + n] = '\0';
    }
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    append_capped(c->url, sizeof c->url, at, n);
    return 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (c->last_was_value)
        c->field_len = 0;
    c->last_was_value = 0;
    if (c->field_len + n < sizeof c->field) {
        memcpy(c->field + c->field_len, at, n);
        c->field_len += n;
    }
    c->field[c->field_len] = '\0';
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (!c->last_was_value)
        c->is_auth = strcasecmp(c->field, "Authorization") == 0;
    c->last_was_value = 1;
    if (c->is_auth)
        append_capped(c->auth, sizeof c->auth, at, n);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    conn *c = p->data;
    c->body = realloc(c->body, c->body_len + n + 1);
    memcpy(c->body + c->body_len, at, n);
    c->body_len += n;
    return 0;
}

static int on_complete(http_parser *p)
{
    conn *c = p->data;
    route(c, http_method_str((enum http_method)p->method));
    return 0;
}

static http_parser_settings g_settings = {
    .on_url = on_url, .on_header_field = on_field, .on_header_value = on_value,
    .on_body = on_body, .on_message_complete = on_complete,
};

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(s);
    b->len = b->base ? s : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n > 0 && !c->streaming)
        http_parser_execute(&c->parser, &g_settings, b->base, (size_t)n);
    free(b->base);
    if (n < 0 && !c->streaming)
        conn_close(c);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->handles = 2;
    c->tcp.data = c->timer.data = c;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    /* A client that gave up (a --timeout test) must not kill the server
     * when its next event is written. */
    signal(SIGPIPE, SIG_IGN);
    int listeners = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listeners") == 0)
            listeners = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--require-key") == 0)
            g_key = argv[i + 1];
        else if (strcmp(argv[i], "--log") == 0)
            g_log = fopen(argv[i + 1], "a");
        else if (strcmp(argv[i], "--gap-ms") == 0)
            g_gap_ms = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "fake_openai: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (listeners < 1 || listeners > 8)
        return 2;
    uv_loop_t *loop = uv_default_loop();
    static uv_tcp_t srv[8];
    for (int i = 0; i < listeners; i++) {
        struct sockaddr_in a;
        uv_ip4_addr("127.0.0.1", 0, &a);
        uv_tcp_init(loop, &srv[i]);
        if (uv_tcp_bind(&srv[i], (const struct sockaddr *)&a, 0) != 0 ||
            uv_listen((uv_stream_t *)&srv[i], 128, on_conn) != 0) {
            fprintf(stderr, "fake_openai: cannot listen on 127.0.0.1\n");
            return 1;
        }
        struct sockaddr_in got;
        int len = sizeof got;
        uv_tcp_getsockname(&srv[i], (struct sockaddr *)&got, &len);
        printf("listening http://127.0.0.1:%d\n", ntohs(got.sin_port));
    }
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
