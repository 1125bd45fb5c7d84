/* libFuzzer target: NDJSON line reassembly (pb_lines). The first byte
 * chooses how the rest is cut into chunks; whatever the cut, the lines
 * delivered must be exactly the input split at '\n'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

typedef struct acc {
    char *buf;
    size_t len;
} acc;

static int on_line(void *ud, const char *line, size_t len)
{
    acc *a = ud;
    memcpy(a->buf + a->len, line, len);
    a->len += len;
    a->buf[a->len++] = '\n';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)data[0] % 17 + 1, n = size - 1;
    const char *s = (const char *)data + 1;
    acc a = {malloc(n + 2), 0};
    if (!a.buf)
        return 0;
    pb_lines l;
    pb_lines_init(&l, 4096);
    int rc = 0;
    size_t off = 0;
    for (int i = 0; off < n && rc == 0; i++) {
        /* Vary the cut: every third chunk is one byte. */
        size_t k = i % 3 == 2 ? 1 : piece;
        if (k > n - off)
            k = n - off;
        rc = pb_lines_feed(&l, s + off, k, on_line, &a);
        off += k;
    }
    if (rc == 0)
        rc = pb_lines_finish(&l, on_line, &a);
    if (rc == 0) {
        /* Same bytes, each line ended by '\n' (the last one's added). */
        size_t want = n + (n && s[n - 1] != '\n');
        if (a.len != want || memcmp(a.buf, s, n) != 0)
            __builtin_trap();
    } else {
        /* Only an over-long line may stop it. */
        int longline = 0;
        size_t run = 0;
        for (size_t i = 0; i < n && !longline; i++) {
            run = s[i] == '\n' ? 0 : run + 1;
            longline = run > 4096;
        }
        if (rc != -1 || !longline)
            __builtin_trap();
    }
    pb_lines_free(&l);
    free(a.buf);
    return 0;
}
