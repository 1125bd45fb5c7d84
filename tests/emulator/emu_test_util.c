#include "emu_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <http_parser.h>

uint64_t t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void test_opts(emu_options *o, int n, double scale)
{
    emu_options_init(o);
    o->n_instances = n;
    for (int i = 0; i < n; i++) {
        strcpy(o->host[i], "127.0.0.1");
        o->port[i] = 0;
    }
    o->quiet = 1;
    o->jitter = 0;
    o->time_scale = scale;
}

emu_t *test_start(const emu_options *o)
{
    char err[256];
    emu_t *e = emu_start(o, err, sizeof err);
    if (!e)
        fprintf(stderr, "emu_start: %s\n", err);
    return e;
}

/* ---- raw client ---- */

typedef struct raw_ctx {
    raw_result *r;
    int read_no;
    uint64_t t_read;
    char hname[64];
    int hfield; /* 1 content-type, 2 transfer-encoding, 3 content-length */
    char *cur;
    size_t cur_len;
} raw_ctx;

static int on_status(http_parser *p, const char *at, size_t len)
{
    (void)at;
    (void)len;
    raw_ctx *c = p->data;
    c->r->status = (int)p->status_code;
    return 0;
}

static int on_hfield(http_parser *p, const char *at, size_t len)
{
    raw_ctx *c = p->data;
    size_t n = len < sizeof c->hname - 1 ? len : sizeof c->hname - 1;
    memcpy(c->hname, at, n);
    c->hname[n] = '\0';
    c->hfield = !strcasecmp(c->hname, "Content-Type")        ? 1
                : !strcasecmp(c->hname, "Transfer-Encoding") ? 2
                : !strcasecmp(c->hname, "Content-Length")    ? 3
                                                             : 0;
    return 0;
}

static int on_hvalue(http_parser *p, const char *at, size_t len)
{
    raw_ctx *c = p->data;
    char *dst = c->hfield == 1 ? c->r->content_type
                : c->hfield == 2 ? c->r->transfer_encoding
                                 : NULL;
    size_t cap = c->hfield == 1 ? sizeof c->r->content_type
                                : sizeof c->r->transfer_encoding;
    if (dst) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(dst, at, n);
        dst[n] = '\0';
    }
    if (c->hfield == 3)
        c->r->content_length_hdr = strtoll(at, NULL, 10);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    raw_ctx *c = p->data;
    c->r->status = (int)p->status_code;
    c->r->t_headers = c->t_read;
    c->r->headers_read_no = c->read_no;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    raw_ctx *c = p->data;
    raw_result *r = c->r;
    r->body = realloc(r->body, r->body_len + len + 1);
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    c->cur = realloc(c->cur, c->cur_len + len + 1);
    memcpy(c->cur + c->cur_len, at, len);
    c->cur_len += len;
    c->cur[c->cur_len] = '\0';
    return 0;
}

static int on_chunk_complete(http_parser *p)
{
    raw_ctx *c = p->data;
    raw_result *r = c->r;
    if (!c->cur_len)
        return 0; /* the terminating 0-length chunk */
    if (r->n_chunks < RAW_MAX_CHUNKS) {
        raw_chunk *k = &r->chunks[r->n_chunks++];
        k->data = c->cur;
        k->len = c->cur_len;
        k->t = c->t_read;
        k->read_no = c->read_no;
    } else {
        free(c->cur);
    }
    c->cur = NULL;
    c->cur_len = 0;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    raw_ctx *c = p->data;
    c->r->complete = 1;
    c->r->t_end = c->t_read;
    http_parser_pause(p, 1);
    return 0;
}

int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void raw_exchange(int port, const char *req, size_t len, raw_result *r,
                  int timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->content_length_hdr = -1;
    int fd = raw_connect(port);
    if (fd < 0) {
        r->connect_failed = 1;
        return;
    }
    static const http_parser_settings st = {
        .on_status = on_status,
        .on_header_field = on_hfield,
        .on_header_value = on_hvalue,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_chunk_complete = on_chunk_complete,
        .on_message_complete = on_message_complete,
    };
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    raw_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    p.data = &c;
    r->t_sent = t_now();
    if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
        close(fd);
        return;
    }
    uint64_t deadline = t_now() + (uint64_t)timeout_ms * 1000000u;
    char buf[65536];
    r->parse_ok = 1;
    while (!r->complete) {
        uint64_t now = t_now();
        if (now >= deadline)
            break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        c.t_read = t_now();
        c.read_no++;
        if (n < 0) {
            if (errno == ECONNRESET)
                r->reset = 1;
            break;
        }
        if (n == 0) {
            r->eof = 1;
            http_parser_execute(&p, &st, buf, 0);
            break;
        }
        if (!r->t_first_byte)
            r->t_first_byte = c.t_read;
        r->raw_len += (size_t)n;
        if (r->parse_ok) {
            http_parser_execute(&p, &st, buf, (size_t)n);
            if (HTTP_PARSER_ERRNO(&p) != HPE_OK &&
                HTTP_PARSER_ERRNO(&p) != HPE_PAUSED)
                r->parse_ok = 0;
        }
    }
    if (!r->complete)
        r->parse_ok = 0;
    free(c.cur);
    close(fd);
}

void raw_post(int port, const char *path, const char *body,
              const char *extra, raw_result *r, int timeout_ms)
{
    size_t cap = strlen(body) + (extra ? strlen(extra) : 0) + 512;
    char *req = malloc(cap);
    int n = snprintf(req, cap,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     path, strlen(body), extra ? extra : "", body);
    raw_exchange(port, req, (size_t)n, r, timeout_ms);
    free(req);
}

void raw_free(raw_result *r)
{
    for (int i = 0; i < r->n_chunks; i++)
        free(r->chunks[i].data);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- libcurl ---- */

static size_t xfer_write(char *p, size_t sz, size_t n, void *ud)
{
    xfer *x = ud;
    uint64_t t = t_now();
    if (!x->t_first)
        x->t_first = t;
    x->data = realloc(x->data, x->len + sz * n + 1);
    memcpy(x->data + x->len, p, sz * n);
    x->len += sz * n;
    x->data[x->len] = '\0';
    x->n_writes++;
    return sz * n;
}

void xfer_run(xfer *x, int n)
{
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)n, sizeof *h);
    struct curl_slist **hl = calloc((size_t)n, sizeof *hl);
    for (int i = 0; i < n; i++) {
        char url[256];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", x[i].port,
                 x[i].path);
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, xfer_write);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &x[i]);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, &x[i]);
        curl_easy_setopt(h[i], CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 30L);
        if (x[i].body)
            curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, x[i].body);
        if (x[i].head)
            curl_easy_setopt(h[i], CURLOPT_NOBODY, 1L);
        if (x[i].header) {
            hl[i] = curl_slist_append(NULL, x[i].header);
            curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hl[i]);
        }
        x[i].t_start = t_now();
        curl_multi_add_handle(m, h[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            xfer *xi;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &xi);
            xi->t_done = t_now();
            xi->curl_rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
                              &xi->status);
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        curl_slist_free_all(hl[i]);
    }
    free(h);
    free(hl);
    curl_multi_cleanup(m);
}

xfer xfer_one(int port, const char *path, const char *body)
{
    xfer x = {.port = port, .path = path, .body = body};
    xfer_run(&x, 1);
    return x;
}

void xfer_free(xfer *x, int n)
{
    for (int i = 0; i < n; i++) {
        free(x[i].data);
        x[i].data = NULL;
    }
}

int split_lines(char *text, size_t len, char **lines, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i < len && n < max; i++) {
        if (text[i] == '\n') {
            text[i] = '\0';
            lines[n++] = text + start;
            start = i + 1;
        }
    }
    if (start < len && n < max)
        lines[n++] = text + start;
    return n;
}

double json_num(const char *line, const char *key)
{
    cJSON *j = cJSON_Parse(line);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(j);
    return d;
}

int keys_in_order(const char *line, const char *const *keys, int n)
{
    cJSON *j = cJSON_Parse(line);
    if (!j)
        return 0;
    int i = 0, ok = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        if (i >= n || strcmp(it->string, keys[i])) {
            ok = 0;
            break;
        }
        i++;
    }
    cJSON_Delete(j);
    return ok && i == n;
}
