/* proxy_internal: what proxy.c (listener, lifetime, records list),
 * proxy_conn.c (one client connection and its upstream connection) and
 * proxy_record.c (one request's record and its trace object) share. */
#ifndef PB_PROXY_INTERNAL_H
#define PB_PROXY_INTERNAL_H

#include <http_parser.h>

#include "proxy.h"
#include "plan.h"
#include "transfer.h"

typedef struct pxc pxc;

/* A growable byte buffer. */
typedef struct px_buf {
    char *data;
    size_t len, cap;
} px_buf;

void px_buf_append(px_buf *b, const char *d, size_t n);
void px_buf_free(px_buf *b);

/* One request forwarded: its times (absolute uv_hrtime, 0 = never), what
 * the request said, and the response's chunk log. Owned by the proxy's
 * list from the request's first byte until pb_proxy_take_requests hands it
 * out (only once finished, with no write still carrying its bytes). */
typedef struct pxr {
    struct pxr *next;          /* the proxy's list, creation order */
    struct pxr *fifo_next;     /* its connection's requests awaiting a response */
    struct pb_proxy *px;
    uint64_t origin;
    unsigned long order, conn_no, conn_order;
    int method;                /* enum http_method */
    char *path;
    char request_id[128];
    int has_id;                /* X-Parbench-Request was sent */
    uint64_t t_start, t_begin, t_headers, t_req_end, t_sent, t_first_byte, t_end, t_done;
    int status;
    int interim;               /* a 1xx response is being read */
    uint64_t request_bytes;    /* request body bytes */
    px_buf body;               /* request body, up to max_parse_body */
    int body_cut;              /* longer than that: not read */
    const pb_dialect *dialect; /* from the path, NULL when not a known stream API */
    const char *api;           /* "generate", ..., "openai-responses", or NULL */
    pb_agent_spec agent;       /* what the transfer module reads */
    cJSON *options;            /* recorded options (owned), or NULL */
    cJSON *request_body;       /* the parsed body when the proxy keeps them */
    pb_transfer *tr;           /* interprets the body (known dialects) */
    uint64_t bytes;            /* response body bytes */
    uint64_t (*ch)[3];         /* per body piece: t_in, bytes, t_out (0 = not yet) */
    size_t n_ch, cap_ch;
    px_buf unparsed;           /* pieces ch[parsed..] not yet given to tr */
    size_t parsed;
    struct pxr *dirty_next;    /* the proxy's list of records with unparsed pieces */
    int dirty;
    int to_interpret;          /* request complete, body not read yet */
    char *error;
    int req_complete, finished;
    int sent_queued;           /* its last byte went (or waits to go) upstream */
    int refs;                  /* client writes still carrying its bytes */
} pxr;

struct pb_proxy {
    uv_loop_t *loop;
    uv_tcp_t listener;
    pb_proxy_opts o;           /* strings below are our copies */
    char *label, *upstream;
    char up_host[256];
    int up_port;
    struct sockaddr_storage up_addr;
    int port;
    uint64_t origin;
    pxc *conns;
    unsigned long n_conns_total, n_reqs_total;
    pxr *reqs, *reqs_tail;
    pxr *dirty;                /* records with body pieces to interpret */
    uv_check_t check;          /* interprets them after each poll phase */
    int closing, handles_open;
    pb_proxy_closed_cb closed_cb;
    void *closed_ud;
};

/* proxy_conn.c */
void px_conn_accept(pb_proxy *px);
void px_conn_close(pxc *c, const char *why);
/* pb_proxy_close: counts every connection in px->handles_open, closes it. */
void px_conns_close_all(pb_proxy *px, const char *why);
/* pb_proxy_end_connections. */
void px_conns_end(pb_proxy *px, const char *why);
/* A connection's handles are all closed: proxy.c unlinks and frees. */
void px_conn_closed(pxc *c);

/* proxy.c: a handle counted in handles_open closed (after pb_proxy_close). */
void px_handle_gone(pb_proxy *px);

/* proxy_record.c */
pxr *px_rec_new(pb_proxy *px, unsigned long conn_no, unsigned long conn_order);

void px_rec_set_path(pxr *r, const char *path, size_t len);
/* The request's body is complete: reads model, options, stream API. */
void px_rec_request_done(pxr *r);
void px_rec_response_headers(pxr *r, int status);
/* A body piece arrived at t_in; returns its index in the chunk log. */
size_t px_rec_body(pxr *r, const char *d, size_t n, uint64_t t_in);
/* Interprets the records with a large backlog (the check phase). */
void px_rec_parse_dirty(pb_proxy *px);
/* Reads the request body and hands the response pieces to the transfer
 * (at the latest when the record is taken). */
void px_rec_interpret(pxr *r);
/* Marks the request finished (error NULL when the response completed). */
void px_rec_finish(pxr *r, const char *error, uint64_t now);
int px_rec_takeable(const pxr *r);
cJSON *px_rec_to_json(pxr *r, const char *label);
void px_rec_free(pxr *r);

#endif
