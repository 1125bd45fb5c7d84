#include "sse.h"

#include <stdlib.h>
#include <string.h>

void pb_sse_init(pb_sse *s, size_t max)
{
    memset(s, 0, sizeof *s);
    s->max = max ? max : (8u << 20);
}

void pb_sse_free(pb_sse *s)
{
    free(s->line);
    free(s->data);
    memset(s, 0, sizeof *s);
}

/* Appends n bytes to a growable buffer; -1 past max or out of memory. */
static int grow_append(char **buf, size_t *len, size_t *cap, size_t max,
                       const char *d, size_t n)
{
    if (*len + n > max)
        return -1;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    if (n)
        memcpy(*buf + *len, d, n);
    *len += n;
    return 0;
}

static int dispatch(pb_sse *s, pb_sse_fn fn, void *ud)
{
    int rc = 0;
    if (s->has_data) {
        pb_sse_event ev = {
            .type = s->type[0] ? s->type : "message",
            .data = s->data ? s->data : "",
            /* Every data line appended a '\n'; the last one is not data. */
            .len = s->data_len - 1,
        };
        rc = fn(ud, &ev);
    }
    s->data_len = 0;
    s->has_data = 0;
    s->type[0] = '\0';
    return rc;
}

static int field_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(name, want, n) == 0;
}

static int process_line(pb_sse *s, const char *line, size_t len, pb_sse_fn fn, void *ud)
{
    if (len == 0)
        return dispatch(s, fn, ud);
    if (line[0] == ':') {
        s->comments++;
        return 0;
    }
    const char *colon = memchr(line, ':', len);
    size_t nl = colon ? (size_t)(colon - line) : len;
    const char *val = colon ? colon + 1 : line + len;
    size_t vl = (size_t)(line + len - val);
    if (vl && val[0] == ' ') {
        val++;
        vl--;
    }
    if (field_is(line, nl, "data")) {
        if (grow_append(&s->data, &s->data_len, &s->data_cap, s->max, val, vl) != 0 ||
            grow_append(&s->data, &s->data_len, &s->data_cap, s->max + 1, "\n", 1) != 0)
            return -1;
        s->has_data = 1;
        return 0;
    }
    if (field_is(line, nl, "event")) {
        size_t k = vl < sizeof s->type - 1 ? vl : sizeof s->type - 1;
        memcpy(s->type, val, k);
        s->type[k] = '\0';
        return 0;
    }
    if (field_is(line, nl, "id") || field_is(line, nl, "retry"))
        return 0;
    pb_sse_event ev = {.type = "", .data = line, .len = len, .stray = 1};
    return fn(ud, &ev);
}

int pb_sse_feed(pb_sse *s, const char *data, size_t n, pb_sse_fn fn, void *ud)
{
    const char *end = data + n;
    while (data < end) {
        if (s->after_cr) {
            /* CRLF split across two chunks: the LF ends no second line. */
            s->after_cr = 0;
            if (*data == '\n') {
                data++;
                continue;
            }
        }
        const char *p = data;
        while (p < end && *p != '\n' && *p != '\r')
            p++;
        if (p == end)
            return grow_append(&s->line, &s->line_len, &s->line_cap, s->max, data,
                               (size_t)(end - data));
        int rc;
        if (s->line_len) {
            /* The line began in an earlier chunk: complete it in the buffer. */
            if (grow_append(&s->line, &s->line_len, &s->line_cap, s->max, data,
                            (size_t)(p - data)) != 0)
                return -1;
            size_t len = s->line_len;
            s->line_len = 0;
            rc = process_line(s, s->line, len, fn, ud);
        } else {
            rc = process_line(s, data, (size_t)(p - data), fn, ud);
        }
        if (*p == '\r') {
            if (p + 1 < end && p[1] == '\n')
                p++;
            else if (p + 1 == end)
                s->after_cr = 1;
        }
        data = p + 1;
        if (rc)
            return rc;
    }
    return 0;
}

int pb_sse_finish(pb_sse *s)
{
    int partial = s->line_len > 0 || s->has_data;
    s->line_len = 0;
    s->data_len = 0;
    s->has_data = 0;
    s->type[0] = '\0';
    s->after_cr = 0;
    return partial;
}
