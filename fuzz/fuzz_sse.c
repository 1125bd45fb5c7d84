/* libFuzzer target: the SSE parser of the OpenAI dialect (pb_sse). Built
 * only when collector/sse.c exists. The first byte chooses how the rest is
 * cut into chunks; the events (type, data, stray flag) must be the same as
 * when the whole input arrives in one chunk: framing may not depend on
 * where the network cut the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

typedef struct log {
    char *buf;
    size_t len, cap;
} log_t;

static void put(log_t *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->len + n)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (!b)
            abort();
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static int on_event(void *ud, const pb_sse_event *ev)
{
    log_t *l = ud;
    uint64_t n = ev->len;
    put(l, ev->stray ? "S" : "E", 1);
    put(l, ev->type, strlen(ev->type) + 1);
    put(l, &n, sizeof n);
    put(l, ev->data, ev->len);
    return 0;
}

static int run(const char *s, size_t n, size_t piece, log_t *l)
{
    pb_sse p;
    pb_sse_init(&p, 4096);
    int rc = 0;
    size_t off = 0;
    for (int i = 0; off < n && rc == 0; i++) {
        size_t k = i % 3 == 2 ? 1 : piece;
        if (k > n - off)
            k = n - off;
        rc = pb_sse_feed(&p, s + off, k, on_event, l);
        off += k;
    }
    if (rc == 0)
        pb_sse_finish(&p);
    pb_sse_free(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1, piece = (size_t)data[0] % 13 + 1;
    log_t whole = {0}, cut = {0};
    int a = run(s, n, n ? n : 1, &whole), b = run(s, n, piece, &cut);
    if (a == 0 && b == 0 &&
        (whole.len != cut.len || (whole.len && memcmp(whole.buf, cut.buf, whole.len) != 0)))
        __builtin_trap();
    free(whole.buf);
    free(cut.buf);
    return 0;
}
