/* proxy_conn: one client connection of the recording proxy and the
 * upstream connection that serves it.
 *
 * Bytes go through verbatim. A response read is forwarded before it is
 * parsed (the parse must never delay the forward); a request read is
 * parsed first (http_parser alone, cheap) so that a refused request is not
 * forwarded. Interpreting bodies waits until the records are taken
 * (proxy_record.c). Requests wait in a FIFO
 * for their responses (HTTP/1.1 answers in order). Writes go out with
 * uv_try_write first (the socket usually takes a token's chunk at once:
 * no copy, no callback); what it does not take is copied and queued, its
 * callback stamping the chunks it carried.
 *
 * Ownership: the connection is on the proxy's list from accept until its
 * last handle's close callback (px_conn_closed frees it). Write requests
 * point at it; libuv runs their callbacks (cancelled) before the close
 * callbacks. A write carrying a record's bytes holds a reference on the
 * record, so the record stays until the client's socket took them. */
#include "pb_mem.h"
#include "proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stop reading one side while more than this waits for the other side's
 * socket, resume below LOW: memory stays bounded with a slow reader. */
#define PX_QUEUE_HIGH (4u << 20)
#define PX_QUEUE_LOW (1u << 20)

enum { UP_NONE = 0, UP_CONNECTING, UP_OPEN, UP_CLOSING };

typedef struct px_mark {
    pxr *r;
    size_t chunk;              /* index in r->ch, or MARK_* */
} px_mark;
#define MARK_DONE ((size_t)-1) /* the response's last byte */
#define MARK_SENT ((size_t)-2) /* the request's last byte (upstream writes) */

typedef struct pxw {
    uv_write_t w;
    pxc *c;
    px_mark *marks;
    size_t n_marks, cap_marks;
    char data[];
} pxw;

struct pxc {
    pb_proxy *px;
    pxc *prev, *next;
    unsigned long no, n_req;
    uv_tcp_t client, up;
    uv_connect_t creq;
    uv_timer_t timer;
    int handles;               /* open handles; freed at 0 */
    int up_state;
    int client_open, closing;
    int client_eof;            /* the client half-closed */
    int close_after;           /* a response said Connection: close */
    int up_paused, client_paused;
    int connect_err;           /* uv_tcp_connect's own failure, reported by the timer */
    http_parser rq, rs;
    pxr *req;                  /* request being read from the client */
    pxr *head, *tail;          /* requests awaiting their responses */
    uint64_t t_accept, t_read, last_active;
    int accept_used;           /* t_accept went to the first request */
    size_t hbytes;             /* header bytes of the request being read */
    int hstate;                /* 1 in a header name, 2 in a value */
    int hname_is_id;
    char hname[24];
    size_t hname_len;
    px_buf pend;               /* for upstream, before it is connected */
    int pend_sent_mark;        /* pend holds some request's last byte */
    pxw *cur_w;                /* the client write the parsed read went out in */
    uint64_t cur_w_t;          /* when it was taken whole (cur_w == NULL) */
    int cur_w_sync;
};

static void conn_shutdown_client(pxc *c);
static void up_connect(pxc *c);
static void timer_idle(pxc *c);

/* ---- small helpers ---- */

static void fifo_push(pxc *c, pxr *r)
{
    r->fifo_next = NULL;
    if (c->tail)
        c->tail->fifo_next = r;
    else
        c->head = r;
    c->tail = r;
}

static pxr *fifo_pop(pxc *c)
{
    pxr *r = c->head;
    if (r) {
        c->head = r->fifo_next;
        if (!c->head)
            c->tail = NULL;
        r->fifo_next = NULL;
    }
    return r;
}

static void on_handle_closed(uv_handle_t *h)
{
    pxc *c = h->data;
    if (--c->handles == 0)
        px_conn_closed(c);
}

static void mark_add(pxw *w, pxr *r, size_t chunk)
{
    if (w->n_marks == w->cap_marks) {
        size_t cap = w->cap_marks ? w->cap_marks * 2 : 4;
        px_mark *m = pb_mem_realloc(w->marks, cap * sizeof *m);
        w->marks = m;
        w->cap_marks = cap;
    }
    w->marks[w->n_marks].r = r;
    w->marks[w->n_marks].chunk = chunk;
    w->n_marks++;
    r->refs++;
}

static void mark_stamp(pxr *r, size_t chunk, uint64_t t)
{
    if (chunk == MARK_DONE)
        r->t_done = t;
    else if (chunk == MARK_SENT)
        r->t_sent = t;
    else if (chunk < r->n_ch)
        r->ch[chunk][2] = t;
}

/* ---- writes ---- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_up_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_write(uv_write_t *req, int status)
{
    uint64_t now = uv_hrtime();
    pxw *w = (pxw *)req;
    pxc *c = w->c;
    for (size_t i = 0; i < w->n_marks; i++) {
        if (status == 0)
            mark_stamp(w->marks[i].r, w->marks[i].chunk, now);
        w->marks[i].r->refs--;
    }
    uv_stream_t *s = req->handle;
    free(w->marks);
    free(w);
    if (status < 0 || c->closing)
        return;
    /* The side we stopped reading resumes once this one drained. */
    size_t q = uv_stream_get_write_queue_size(s);
    if (s == (uv_stream_t *)&c->client && c->up_paused && q < PX_QUEUE_LOW &&
        c->up_state == UP_OPEN) {
        c->up_paused = 0;
        uv_read_start((uv_stream_t *)&c->up, alloc_cb, on_up_read);
    }
    if (s == (uv_stream_t *)&c->up && c->client_paused && q < PX_QUEUE_LOW && c->client_open) {
        c->client_paused = 0;
        uv_read_start((uv_stream_t *)&c->client, alloc_cb, on_client_read);
    }
    if (s == (uv_stream_t *)&c->client && !c->head && (c->close_after || c->client_eof))
        conn_shutdown_client(c);
}

/* Writes data to s: returns NULL when the socket took it all, else the
 * queued write (the marks of the bytes it carries go on it); -1 in *err
 * when the write failed. */
static pxw *stream_write(pxc *c, uv_stream_t *s, const char *data, size_t len, int *err)
{
    *err = 0;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &b, 1);
    if (n == (int)len)
        return NULL;
    if (n < 0 && n != UV_EAGAIN) {
        *err = -1;
        return NULL;
    }
    size_t off = n > 0 ? (size_t)n : 0;
    pxw *w = pb_mem_calloc(1, sizeof *w + (len - off));
    w->c = c;
    memcpy(w->data, data + off, len - off);
    b = uv_buf_init(w->data, (unsigned)(len - off));
    if (uv_write(&w->w, s, &b, 1, on_write)) {
        free(w);
        *err = -1;
        return NULL;
    }
    return w;
}

/* Marks every request whose last byte was in what just went upstream. */
static void sent_marks(pxc *c, pxw *w, uint64_t now)
{
    for (pxr *r = c->head; r; r = r->fifo_next)
        if (r->req_complete && !r->sent_queued) {
            r->sent_queued = 1;
            if (w)
                mark_add(w, r, MARK_SENT);
            else
                r->t_sent = now;
        }
}

static void up_write(pxc *c, const char *data, size_t len, int has_end)
{
    int err;
    pxw *w = stream_write(c, (uv_stream_t *)&c->up, data, len, &err);
    if (err) {
        px_conn_close(c, "cannot write the request to the upstream server");
        return;
    }
    if (has_end)
        sent_marks(c, w, uv_hrtime());
    if (w && uv_stream_get_write_queue_size((uv_stream_t *)&c->up) > PX_QUEUE_HIGH &&
        !c->client_paused) {
        c->client_paused = 1;
        uv_read_stop((uv_stream_t *)&c->client);
    }
}

/* ---- closing ---- */

void px_conn_close(pxc *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = 1;
    uint64_t now = uv_hrtime();
    for (pxr *r; (r = fifo_pop(c));)
        px_rec_finish(r, why, now);
    c->req = NULL;
    uv_close((uv_handle_t *)&c->client, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (c->up_state == UP_OPEN || c->up_state == UP_CONNECTING)
        uv_close((uv_handle_t *)&c->up, on_handle_closed);
    c->up_state = UP_CLOSING;
    c->client_open = 0;
}

static void on_client_shutdown(uv_shutdown_t *req, int status)
{
    pxc *c = req->data;
    (void)status;
    free(req);
    px_conn_close(c, "connection closed");
}

/* Every response went out and the connection ends (Connection: close, or
 * the client half-closed): FIN after the queued writes, then close. */
static void conn_shutdown_client(pxc *c)
{
    if (c->closing || !c->client_open)
        return;
    c->client_open = 0;
    uv_shutdown_t *req = pb_mem_alloc(sizeof *req);
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->client, on_client_shutdown)) {
        free(req);
        px_conn_close(c, "connection closed");
    }
}

/* A response of the proxy's own (the upstream could not be reached, a
 * request it refuses) to the request at the head, then the connection
 * ends. */
static void reply_error(pxc *c, pxr *r, int status, const char *reason, const char *msg)
{
    uint64_t now = uv_hrtime();
    char body[512], head[256];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    if (!cJSON_PrintPreallocated(o, body, sizeof body, 0))
        snprintf(body, sizeof body, "{\"error\":\"proxy error\"}");
    cJSON_Delete(o);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      status, reason, strlen(body));
    if (r) {
        r->status = status;
        if (!r->t_first_byte)
            r->t_first_byte = now;
        px_rec_finish(r, msg, now);
        r->t_done = now;
    }
    if (c->client_open) {
        int err;
        stream_write(c, (uv_stream_t *)&c->client, head, (size_t)hl, &err);
        if (!err)
            stream_write(c, (uv_stream_t *)&c->client, body, strlen(body), &err);
    }
    /* Every other waiting request fails the same way. */
    for (pxr *q; (q = fifo_pop(c));)
        px_rec_finish(q, msg, now);
    c->req = NULL;
    c->close_after = 1;
    uv_read_stop((uv_stream_t *)&c->client);
    conn_shutdown_client(c);
    if (c->up_state == UP_OPEN || c->up_state == UP_CONNECTING) {
        uv_close((uv_handle_t *)&c->up, on_handle_closed);
        c->up_state = UP_CLOSING;
    }
}

/* ---- upstream connection ---- */

static void on_up_closed(uv_handle_t *h)
{
    pxc *c = h->data;
    c->up_state = UP_NONE;
    if (!c->closing && c->head) {
        /* A request arrived while the old connection was closing. */
        c->handles--;
        up_connect(c);
        return;
    }
    on_handle_closed(h);
}

/* The upstream connection could not be made: the waiting requests get a
 * 502. Made early (at accept) with no request yet, it is simply dropped:
 * the first request tries again. */
static void connect_failed(pxc *c, const char *msg)
{
    if (!c->head) {
        uv_timer_stop(&c->timer);
        timer_idle(c);
        uv_close((uv_handle_t *)&c->up, on_up_closed);
        c->up_state = UP_CLOSING;
        return;
    }
    px_buf_free(&c->pend);
    reply_error(c, c->head, 502, "Bad Gateway", msg);
}

static void on_connect(uv_connect_t *req, int status)
{
    pxc *c = req->data;
    if (c->closing || c->up_state != UP_CONNECTING)
        return;
    uv_timer_stop(&c->timer);
    if (status < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "proxy %s: cannot connect to the upstream server %s: %s",
                 c->px->label, c->px->upstream, uv_strerror(status));
        connect_failed(c, msg);
        return;
    }
    c->up_state = UP_OPEN;
    timer_idle(c);
    uv_tcp_nodelay(&c->up, 1);
    uv_read_start((uv_stream_t *)&c->up, alloc_cb, on_up_read);
    if (c->pend.len) {
        px_buf p = c->pend;
        memset(&c->pend, 0, sizeof c->pend);
        up_write(c, p.data, p.len, c->pend_sent_mark);
        c->pend_sent_mark = 0;
        px_buf_free(&p);
    }
    /* Reading stopped while the pending bytes piled up: if the socket took
     * them at once no write callback will resume it. */
    if (!c->closing && c->client_paused && c->client_open &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->up) < PX_QUEUE_LOW) {
        c->client_paused = 0;
        uv_read_start((uv_stream_t *)&c->client, alloc_cb, on_client_read);
    }
}

static void on_timer(uv_timer_t *t)
{
    pxc *c = t->data;
    if (c->closing)
        return;
    if (c->up_state == UP_CONNECTING) {
        char msg[512];
        if (c->connect_err)
            snprintf(msg, sizeof msg, "proxy %s: cannot connect to the upstream server %s: %s",
                     c->px->label, c->px->upstream, uv_strerror(c->connect_err));
        else
            snprintf(msg, sizeof msg,
                     "proxy %s: the upstream server %s did not accept a connection within %.1f s",
                     c->px->label, c->px->upstream, c->px->o.connect_timeout_s);
        connect_failed(c, msg);
        return;
    }
    /* Idle: nothing in flight and no bytes either way for the timeout. */
    uint64_t idle_ns = (uint64_t)(c->px->o.idle_timeout_s * 1e9);
    if (!c->head && !c->req && uv_hrtime() - c->last_active >= idle_ns)
        px_conn_close(c, "idle timeout");
}

static void timer_idle(pxc *c)
{
    uint64_t ms = (uint64_t)(c->px->o.idle_timeout_s * 1000 / 4);
    if (ms < 10)
        ms = 10;
    uv_timer_start(&c->timer, on_timer, ms, ms);
}

static void up_connect(pxc *c)
{
    uv_tcp_init(c->px->loop, &c->up);
    c->up.data = c;
    c->handles++;
    c->up_state = UP_CONNECTING;
    c->creq.data = c;
    /* A fresh parser: the old connection may have ended mid-message. */
    http_parser_init(&c->rs, HTTP_RESPONSE);
    c->rs.data = c;
    int rc = uv_tcp_connect(&c->creq, &c->up, (const struct sockaddr *)&c->px->up_addr,
                            on_connect);
    /* A failure now is reported from the timer: we may be inside the
     * request parser, which must not see the connection torn down. */
    c->connect_err = rc;
    uv_timer_start(&c->timer, on_timer,
                   rc ? 0 : (uint64_t)(c->px->o.connect_timeout_s * 1000), 0);
}

/* ---- request parsing (client -> proxy) ---- */

static int rq_begin(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = px_rec_new(c->px, c->no, ++c->n_req);
    r->t_begin = c->t_read;
    r->t_start = c->accept_used ? c->t_read : c->t_accept;
    c->accept_used = 1;
    c->req = r;
    c->hbytes = 0;
    c->hname_len = 0;
    c->hstate = 0;
    c->hname_is_id = 0;
    /* In the FIFO from its first byte: an early answer (a 413 before the
     * body is sent) belongs to it. */
    fifo_push(c, r);
    if (c->up_state == UP_NONE)
        up_connect(c);
    return 0;
}

static int header_budget(pxc *c, size_t n)
{
    c->hbytes += n;
    return c->hbytes > c->px->o.max_header_bytes ? -1 : 0;
}

static int rq_url(http_parser *p, const char *at, size_t n)
{
    pxc *c = p->data;
    if (header_budget(c, n))
        return -1;
    pxr *r = c->req;
    if (!r)
        return 0; /* answered early and recorded: the rest is forwarded only */
    size_t old = r->path ? strlen(r->path) : 0;
    char *s = pb_mem_alloc(old + n + 1);
    if (old)
        memcpy(s, r->path, old);
    memcpy(s + old, at, n);
    px_rec_set_path(r, s, old + n);
    free(s);
    return 0;
}

static int rq_hfield(http_parser *p, const char *at, size_t n)
{
    pxc *c = p->data;
    if (header_budget(c, n))
        return -1;
    /* A field name may come in pieces; only X-Parbench-Request matters,
     * so a longer name is just marked as not it. */
    if (c->hstate != 1)
        c->hname_len = 0;
    c->hstate = 1;
    if (c->hname_len + n < sizeof c->hname) {
        memcpy(c->hname + c->hname_len, at, n);
        c->hname_len += n;
    } else {
        c->hname_len = sizeof c->hname;
    }
    return 0;
}

static int rq_hvalue(http_parser *p, const char *at, size_t n)
{
    pxc *c = p->data;
    if (header_budget(c, n))
        return -1;
    pxr *r = c->req;
    if (!r)
        return 0; /* answered early and recorded: the rest is forwarded only */
    if (c->hstate == 1) {
        /* The name is complete: is it the request id? */
        c->hname_is_id = c->hname_len < sizeof c->hname &&
                         c->hname_len == strlen("X-Parbench-Request") &&
                         !strncasecmp(c->hname, "X-Parbench-Request", c->hname_len);
        if (c->hname_is_id) {
            r->request_id[0] = '\0';
            r->has_id = 1;
        }
    }
    c->hstate = 2;
    if (c->hname_is_id) {
        size_t have = strlen(r->request_id);
        size_t room = sizeof r->request_id - 1 - have;
        size_t k = n < room ? n : room;
        memcpy(r->request_id + have, at, k);
        r->request_id[have + k] = '\0';
    }
    return 0;
}

static int rq_headers_done(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = c->req;
    if (!r)
        return 0; /* answered early and recorded: the rest is forwarded only */
    r->t_headers = c->t_read;
    r->method = p->method;
    return 0;
}

static int rq_body(http_parser *p, const char *at, size_t n)
{
    pxc *c = p->data;
    pxr *r = c->req;
    if (!r)
        return 0; /* answered early and recorded: the rest is forwarded only */
    r->request_bytes += n;
    if (r->body_cut || !r->api)
        return 0;
    if (r->body.len + n > c->px->o.max_parse_body) {
        r->body_cut = 1;
        px_buf_free(&r->body);
        return 0;
    }
    px_buf_append(&r->body, at, n);
    return 0;
}

static int rq_complete(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = c->req;
    if (!r)
        return 0; /* answered early and recorded: the rest is forwarded only */
    r->t_req_end = c->t_read;
    px_rec_request_done(r);
    c->req = NULL;
    return 0;
}

static const http_parser_settings rq_settings = {
    .on_message_begin = rq_begin,
    .on_url = rq_url,
    .on_header_field = rq_hfield,
    .on_header_value = rq_hvalue,
    .on_headers_complete = rq_headers_done,
    .on_body = rq_body,
    .on_message_complete = rq_complete,
};

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    uint64_t now = uv_hrtime();
    pxc *c = s->data;
    if (nread == 0 || c->closing) {
        free(buf->base);
        return;
    }
    if (nread < 0) {
        free(buf->base);
        if (nread == UV_EOF && !c->req) {
            /* Half-closed after its requests: answer them, then close. */
            c->client_eof = 1;
            uv_read_stop(s);
            if (!c->head)
                px_conn_close(c, "client closed the connection");
            return;
        }
        px_conn_close(c, nread == UV_EOF ? "client closed the connection mid-request"
                                         : "client connection failed");
        return;
    }
    c->last_active = now;
    c->t_read = now;
    size_t n = (size_t)nread;
    size_t done = http_parser_execute(&c->rq, &rq_settings, buf->base, n);
    if (c->rq.http_errno != HPE_OK || c->rq.upgrade) {
        enum http_errno en = HTTP_PARSER_ERRNO(&c->rq);
        int too_big = c->hbytes > c->px->o.max_header_bytes || en == HPE_HEADER_OVERFLOW;
        char msg[256];
        if (c->rq.upgrade)
            snprintf(msg, sizeof msg, "proxy %s: protocol upgrades are not forwarded",
                     c->px->label);
        else if (too_big)
            snprintf(msg, sizeof msg, "proxy %s: request headers longer than %zu bytes",
                     c->px->label, c->px->o.max_header_bytes);
        else
            snprintf(msg, sizeof msg, "proxy %s: malformed HTTP request: %s", c->px->label,
                     http_errno_description(en));
        free(buf->base);
        /* The request is not forwarded: the answer is the proxy's. */
        pxr *r = c->tail;
        reply_error(c, r, c->rq.upgrade ? 501 : too_big ? 431 : 400,
                    c->rq.upgrade ? "Not Implemented"
                    : too_big     ? "Request Header Fields Too Large"
                                  : "Bad Request",
                    msg);
        return;
    }
    (void)done;
    /* Did this read carry some request's last byte? */
    int has_end = 0;
    for (pxr *r = c->head; r; r = r->fifo_next)
        if (r->req_complete && !r->sent_queued)
            has_end = 1;
    if (c->up_state == UP_OPEN) {
        up_write(c, buf->base, n, has_end);
    } else {
        px_buf_append(&c->pend, buf->base, n);
        c->pend_sent_mark |= has_end;
        if (c->up_state == UP_NONE && c->head)
            up_connect(c);
        if (c->pend.len > PX_QUEUE_HIGH && !c->client_paused) {
            c->client_paused = 1;
            uv_read_stop(s);
        }
    }
    free(buf->base);
}

/* ---- response parsing (upstream -> proxy) ---- */

static int rs_begin(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = c->head;
    if (!r)
        return -1; /* an answer nobody asked for */
    if (!r->t_first_byte)
        r->t_first_byte = c->t_read;
    return 0;
}

static int rs_headers_done(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = c->head;
    int st = (int)p->status_code;
    r->interim = st >= 100 && st < 200 && st != 101;
    if (!r->interim)
        px_rec_response_headers(r, st);
    /* A HEAD response has headers only (http_parser cannot know). */
    return r->method == HTTP_HEAD ? 1 : 0;
}

static void mark_now(pxc *c, pxr *r, size_t chunk)
{
    if (c->cur_w)
        mark_add(c->cur_w, r, chunk);
    else if (c->cur_w_sync)
        mark_stamp(r, chunk, c->cur_w_t);
}

static int rs_body(http_parser *p, const char *at, size_t n)
{
    pxc *c = p->data;
    pxr *r = c->head;
    size_t i = px_rec_body(r, at, n, c->t_read);
    mark_now(c, r, i);
    return 0;
}

static int rs_complete(http_parser *p)
{
    pxc *c = p->data;
    pxr *r = c->head;
    if (r->interim) {
        /* 100 Continue: the real answer follows; its first byte is the
         * response's first byte. */
        r->interim = 0;
        r->t_first_byte = 0;
        return 0;
    }
    fifo_pop(c);
    /* A server may answer before the request's end (413): the record is
     * complete, the rest of the request is forwarded but not read. */
    if (c->req == r)
        c->req = NULL;
    r->t_end = c->t_read;
    mark_now(c, r, MARK_DONE);
    px_rec_finish(r, NULL, c->t_read);
    if (!http_should_keep_alive(p))
        c->close_after = 1;
    return 0;
}

static const http_parser_settings rs_settings = {
    .on_message_begin = rs_begin,
    .on_headers_complete = rs_headers_done,
    .on_body = rs_body,
    .on_message_complete = rs_complete,
};

/* The client's queue drained and nothing waits: end the connection if a
 * response asked for it. */
static void maybe_finish(pxc *c)
{
    if (c->closing || c->head)
        return;
    if ((c->close_after || c->client_eof) &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->client) == 0)
        conn_shutdown_client(c);
}

static void on_up_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    /* The timestamp comes first: everything after it is our overhead. */
    uint64_t now = uv_hrtime();
    pxc *c = s->data;
    if (nread == 0 || c->closing) {
        free(buf->base);
        return;
    }
    if (nread < 0) {
        free(buf->base);
        c->t_read = now;
        /* A response delimited by the connection's end completes here. */
        http_parser_execute(&c->rs, &rs_settings, NULL, 0);
        uv_close((uv_handle_t *)&c->up, on_up_closed);
        c->up_state = UP_CLOSING;
        if (c->head) {
            /* The client already has part of the answer: only closing its
             * connection tells it the answer is cut. */
            px_conn_close(c, nread == UV_EOF
                                 ? "upstream server closed the connection before the response ended"
                                 : "upstream connection failed");
            return;
        }
        /* Between requests: the next one reconnects. */
        maybe_finish(c);
        return;
    }
    c->last_active = now;
    size_t n = (size_t)nread;
    c->cur_w = NULL;
    c->cur_w_sync = 0;
    if (c->client_open) {
        int err;
        c->cur_w = stream_write(c, (uv_stream_t *)&c->client, buf->base, n, &err);
        if (err) {
            free(buf->base);
            px_conn_close(c, "client connection failed while the response was written");
            return;
        }
        c->cur_w_t = uv_hrtime();
        c->cur_w_sync = c->cur_w == NULL;
        if (c->cur_w && !c->up_paused &&
            uv_stream_get_write_queue_size((uv_stream_t *)&c->client) > PX_QUEUE_HIGH) {
            /* A slow reader: let the server's socket fill, as it would
             * without the proxy, rather than our memory. */
            c->up_paused = 1;
            uv_read_stop(s);
        }
    }
    c->t_read = now;
    http_parser_execute(&c->rs, &rs_settings, buf->base, n);
    c->cur_w = NULL;
    c->cur_w_sync = 0;
    free(buf->base);
    if (c->rs.http_errno != HPE_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "proxy %s: malformed HTTP response from %s: %s",
                 c->px->label, c->px->upstream,
                 http_errno_description(HTTP_PARSER_ERRNO(&c->rs)));
        px_conn_close(c, msg);
        return;
    }
    maybe_finish(c);
}

/* A token's chunk is 100-300 bytes, a final line a few KB: 64 KiB reads
 * take a whole burst, and the buffer is freed after each read. */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = malloc(65536);
    buf->len = buf->base ? 65536 : 0;
}

/* ---- accept ---- */

static void free_unaccepted(uv_handle_t *h)
{
    free(h->data);
}

void px_conn_accept(pb_proxy *px)
{
    pxc *c = pb_mem_calloc(1, sizeof *c);
    c->px = px;
    c->no = ++px->n_conns_total;
    uv_tcp_init(px->loop, &c->client);
    c->client.data = c;
    c->handles = 1;
    if (uv_accept((uv_stream_t *)&px->listener, (uv_stream_t *)&c->client)) {
        uv_close((uv_handle_t *)&c->client, free_unaccepted);
        return;
    }
    c->t_accept = c->last_active = uv_hrtime();
    c->client_open = 1;
    c->next = px->conns;
    if (px->conns)
        px->conns->prev = c;
    px->conns = c;
    uv_tcp_nodelay(&c->client, 1);
    uv_timer_init(px->loop, &c->timer);
    c->timer.data = c;
    c->handles++;
    http_parser_init(&c->rq, HTTP_REQUEST);
    c->rq.data = c;
    http_parser_init(&c->rs, HTTP_RESPONSE);
    c->rs.data = c;
    timer_idle(c);
    uv_read_start((uv_stream_t *)&c->client, alloc_cb, on_client_read);
    /* The upstream connection is made now, while the client sends its
     * request, as the server would see the client's own connect: waiting
     * for the request's first byte added a connect to every request's
     * path (with 128 clients connecting together, milliseconds). */
    up_connect(c);
}

void px_conn_closed(pxc *c)
{
    pb_proxy *px = c->px;
    if (c->prev)
        c->prev->next = c->next;
    else
        px->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    px_buf_free(&c->pend);
    free(c);
    if (px->closing)
        px_handle_gone(px);
}

void px_conns_close_all(pb_proxy *px, const char *why)
{
    for (pxc *c = px->conns; c; c = c->next)
        px->handles_open++;
    for (pxc *c = px->conns; c; c = c->next)
        px_conn_close(c, why);
}

void px_conns_end(pb_proxy *px, const char *why)
{
    for (pxc *c = px->conns; c; c = c->next)
        px_conn_close(c, why);
}
