#include "lines.h"

#include <stdlib.h>
#include <string.h>

void pb_lines_init(pb_lines *l, size_t max)
{
    memset(l, 0, sizeof *l);
    l->max = max ? max : (8u << 20);
}

void pb_lines_free(pb_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}

static int append(pb_lines *l, const char *d, size_t n)
{
    if (l->len + n > l->max)
        return -1;
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (!b)
            return -1;
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, d, n);
    l->len += n;
    return 0;
}

int pb_lines_feed(pb_lines *l, const char *data, size_t n, pb_line_fn fn, void *ud)
{
    const char *end = data + n;
    while (data < end) {
        const char *nl = memchr(data, '\n', (size_t)(end - data));
        if (!nl)
            return append(l, data, (size_t)(end - data));
        int rc;
        if (l->len) {
            /* The line began in an earlier chunk: complete it in the tail. */
            if (append(l, data, (size_t)(nl - data)) != 0)
                return -1;
            size_t len = l->len;
            l->len = 0;
            rc = fn(ud, l->buf, len);
        } else {
            rc = fn(ud, data, (size_t)(nl - data));
        }
        if (rc)
            return rc;
        data = nl + 1;
    }
    return 0;
}

int pb_lines_finish(pb_lines *l, pb_line_fn fn, void *ud)
{
    if (!l->len)
        return 0;
    size_t len = l->len;
    l->len = 0;
    return fn(ud, l->buf, len);
}
