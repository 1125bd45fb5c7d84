/* Helpers for the emulator tests: an in-process emulator, a raw-socket HTTP
 * client that records when each byte arrived (parsed by http_parser in
 * response mode), and libcurl transfers run in parallel. */
#ifndef EMU_TEST_UTIL_H
#define EMU_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "emu.h"

#define RAW_MAX_CHUNKS 4096

/* Monotonic ns (same clock as uv_hrtime). */
uint64_t t_now(void);

/* emu_options for tests: one instance on port 0, quiet, fast, no jitter. */
void test_opts(emu_options *o, int n_instances, double time_scale);
emu_t *test_start(const emu_options *o);

typedef struct raw_chunk {
    char *data;
    size_t len;
    uint64_t t;     /* when the read completing it returned */
    int read_no;    /* which recv() completed it */
} raw_chunk;

typedef struct raw_result {
    int status;              /* 0 = no response */
    int parse_ok;            /* the whole response parsed */
    int complete;            /* message complete seen */
    int eof;                 /* server closed */
    int reset;               /* recv() failed with ECONNRESET */
    int connect_failed;
    char content_type[128];
    char transfer_encoding[64];
    long long content_length_hdr; /* -1 none */
    int headers_read_no;     /* recv() that completed the headers */
    uint64_t t_sent, t_first_byte, t_headers, t_end;
    char *body;              /* whole body (de-chunked) */
    size_t body_len;
    raw_chunk chunks[RAW_MAX_CHUNKS];
    int n_chunks;
    size_t raw_len;          /* bytes received */
} raw_result;

/* Connects to 127.0.0.1:port, sends req (whole), reads the response until
 * it is complete, the server closes, or timeout_ms passes. */
void raw_exchange(int port, const char *req, size_t len, raw_result *r,
                  int timeout_ms);
/* Builds "POST path" with a JSON body (and extra header lines "K: V\r\n"). */
void raw_post(int port, const char *path, const char *body,
              const char *extra_headers, raw_result *r, int timeout_ms);
void raw_free(raw_result *r);
int raw_connect(int port);

typedef struct xfer {
    /* in */
    int port;
    const char *path;
    const char *body;        /* NULL = GET */
    const char *header;      /* one extra header line or NULL */
    int head;                /* 1: HEAD request */
    /* out */
    long status;
    int curl_rc;
    char *data;
    size_t len;
    int n_writes;
    uint64_t t_start, t_first, t_done;
} xfer;

/* Runs all transfers at once (curl multi), each on its own connection. */
void xfer_run(xfer *x, int n);
void xfer_free(xfer *x, int n);
/* One request to 127.0.0.1:port run to its end: a POST of `body`, or a
 * GET when body is NULL (free with xfer_free(&x, 1)). */
xfer xfer_one(int port, const char *path, const char *body);

/* Splits NDJSON text into lines; returns count (lines are NUL-terminated in
 * place). */
int split_lines(char *text, size_t len, char **lines, int max);
/* Value of an integer field in a JSON line (via cJSON valuedouble). */
double json_num(const char *line, const char *key);
/* 1 when the keys of the object in line appear exactly in this order. */
int keys_in_order(const char *line, const char *const *keys, int n);

#endif
