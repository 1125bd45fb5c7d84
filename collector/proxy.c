/* proxy: the recording proxy's listener, lifetime and records list (the
 * connections are proxy_conn.c's, a request's record proxy_record.c's). */
#include "proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_mem.h"

/* "http://host:port[/...]" -> host and port. Only plain http: the proxy
 * sits between a program and a local server on loopback. */
static int parse_upstream(pb_proxy *px, const char *url, char *err, size_t errlen)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) != 0) {
        snprintf(err, errlen, "proxy upstream \"%s\": only http://host:port URLs are forwarded", url);
        return -1;
    }
    p += 7;
    size_t hl;
    const char *rest;
    if (*p == '[') {
        /* [v6]:port */
        const char *e = strchr(p, ']');
        if (!e) {
            snprintf(err, errlen, "proxy upstream \"%s\": unterminated [IPv6 address]", url);
            return -1;
        }
        hl = (size_t)(e - p - 1);
        p++;
        rest = e + 1;
    } else {
        hl = strcspn(p, ":/");
        rest = p + hl;
    }
    if (hl == 0 || hl >= sizeof px->up_host) {
        snprintf(err, errlen, "proxy upstream \"%s\": no host name", url);
        return -1;
    }
    memcpy(px->up_host, p, hl);
    px->up_host[hl] = '\0';
    px->up_port = 80;
    if (*rest == ':') {
        char *end;
        long port = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "proxy upstream \"%s\": bad port (1-65535)", url);
            return -1;
        }
        px->up_port = (int)port;
    }
    return 0;
}

/* Resolved once at start (a name like "localhost" costs a lookup): every
 * connection then connects to this address. */
static int resolve_upstream(pb_proxy *px, char *err, size_t errlen)
{
    char port[16];
    snprintf(port, sizeof port, "%d", px->up_port);
    uv_getaddrinfo_t req;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(px->loop, &req, NULL, px->up_host, port, &hints);
    if (rc || !req.addrinfo) {
        snprintf(err, errlen, "proxy upstream %s: cannot resolve %s: %s", px->upstream,
                 px->up_host, uv_strerror(rc));
        return -1;
    }
    memcpy(&px->up_addr, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    return 0;
}

static void on_connection(uv_stream_t *s, int status)
{
    pb_proxy *px = s->data;
    if (status < 0 || px->closing)
        return;
    px_conn_accept(px);
}

static void free_proxy(pb_proxy *px)
{
    for (pxr *r = px->reqs, *n; r; r = n) {
        n = r->next;
        px_rec_free(r);
    }
    free(px->label);
    free(px->upstream);
    free(px);
}

static void on_listener_closed_early(uv_handle_t *h)
{
    free_proxy(h->data);
}

static void on_check(uv_check_t *h)
{
    px_rec_parse_dirty(h->data);
}

pb_proxy *pb_proxy_start(uv_loop_t *loop, const pb_proxy_opts *o, char *err, size_t errlen)
{
    pb_proxy *px = pb_mem_calloc(1, sizeof *px);
    px->loop = loop;
    px->o = *o;
    px->label = pb_mem_strdup(o->label ? o->label : "proxy");
    px->upstream = pb_mem_strdup(o->upstream ? o->upstream : "");
    px->o.label = px->label;
    px->o.upstream = px->upstream;
    px->o.listen_host = NULL;
    if (!px->o.max_header_bytes)
        px->o.max_header_bytes = 64 * 1024;
    if (!(px->o.connect_timeout_s > 0))
        px->o.connect_timeout_s = 10;
    if (!(px->o.idle_timeout_s > 0))
        px->o.idle_timeout_s = 300;
    if (!px->o.max_parse_body)
        px->o.max_parse_body = 16u << 20;
    px->origin = o->origin_ns;
    if (parse_upstream(px, px->upstream, err, errlen) || resolve_upstream(px, err, errlen)) {
        free_proxy(px);
        return NULL;
    }
    const char *host = o->listen_host ? o->listen_host : "127.0.0.1";
    struct sockaddr_storage sa;
    if (uv_ip4_addr(host, o->listen_port, (struct sockaddr_in *)&sa) &&
        uv_ip6_addr(host, o->listen_port, (struct sockaddr_in6 *)&sa)) {
        snprintf(err, errlen, "proxy %s: listen address \"%s\" is not an IP address",
                 px->label, host);
        free_proxy(px);
        return NULL;
    }
    uv_tcp_init(loop, &px->listener);
    px->listener.data = px;
    int rc = uv_tcp_bind(&px->listener, (const struct sockaddr *)&sa, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&px->listener, 511, on_connection);
    if (rc) {
        snprintf(err, errlen, "proxy %s: cannot listen on %s:%d: %s (choose another port)",
                 px->label, host, o->listen_port, uv_strerror(rc));
        uv_close((uv_handle_t *)&px->listener, on_listener_closed_early);
        return NULL;
    }
    uv_check_init(loop, &px->check);
    px->check.data = px;
    uv_check_start(&px->check, on_check);
    /* It only runs while the loop has other work: never keeps it alive. */
    uv_unref((uv_handle_t *)&px->check);
    /* The loop is the program's (collect runs it until the program exited
     * and its pipes drained): a listener must not keep it running. Its
     * connections do, while they last. */
    uv_unref((uv_handle_t *)&px->listener);
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&px->listener, (struct sockaddr *)&bound, &len);
    px->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return px;
}

int pb_proxy_port(const pb_proxy *p)
{
    return p->port;
}

void pb_proxy_set_origin(pb_proxy *p, uint64_t origin_ns)
{
    p->origin = origin_ns;
}

cJSON *pb_proxy_take_requests(pb_proxy *p)
{
    px_rec_parse_dirty(p);
    cJSON *arr = cJSON_CreateArray();
    pxr **link = &p->reqs, *last = NULL;
    while (*link) {
        pxr *r = *link;
        if (!px_rec_takeable(r)) {
            last = r;
            link = &r->next;
            continue;
        }
        *link = r->next;
        cJSON_AddItemToArray(arr, px_rec_to_json(r, p->label));
        px_rec_free(r);
    }
    p->reqs_tail = last;
    return arr;
}

size_t pb_proxy_in_flight(const pb_proxy *p)
{
    size_t n = 0;
    for (const pxr *r = p->reqs; r; r = r->next)
        n += !px_rec_takeable(r);
    return n;
}

void pb_proxy_end_connections(pb_proxy *p, const char *why)
{
    px_conns_end(p, why);
}

void px_handle_gone(pb_proxy *px)
{
    if (--px->handles_open > 0)
        return;
    if (px->closed_cb)
        px->closed_cb(px->closed_ud);
    free_proxy(px);
}

/* The listener's and the check handle's close callback. */
static void on_listener_closed(uv_handle_t *h)
{
    px_handle_gone(h->data);
}

void pb_proxy_close(pb_proxy *p, pb_proxy_closed_cb cb, void *ud)
{
    if (p->closing)
        return;
    p->closing = 1;
    p->closed_cb = cb;
    p->closed_ud = ud;
    /* The listener and every connection count until their close callbacks. */
    p->handles_open = 2;
    px_conns_close_all(p, "proxy closed");
    uv_close((uv_handle_t *)&p->listener, on_listener_closed);
    uv_close((uv_handle_t *)&p->check, on_listener_closed);
}
