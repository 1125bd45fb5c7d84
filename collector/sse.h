/* sse: server-sent events framing (the WHATWG EventSource rules) across
 * write-callback boundaries.
 *
 * Bytes go in as they arrive; an event comes out when its blank line has
 * arrived. Lines end in LF, CRLF or a lone CR (a CR at the end of one chunk
 * and an LF at the start of the next are one line end). `data:` lines of one
 * event are joined with '\n'; `event:` sets the type (default "message");
 * lines starting with ':' are comments; `id:` and `retry:` are read and
 * ignored. A line that is no field at all (no ':' and not a known name, or a
 * name that is not one of the four) is handed out as a stray line: some
 * servers write a bare JSON error object into an event stream. */
#ifndef PB_SSE_H
#define PB_SSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pb_sse_event {
    const char *type;   /* "message" unless an event: line said otherwise */
    const char *data;   /* the joined data lines, without the last '\n' */
    size_t len;
    int stray;          /* 1: data is one line that is not an SSE field */
} pb_sse_event;

/* Called once per event (and per stray line). Nonzero stops feeding and is
 * returned by pb_sse_feed / pb_sse_finish. */
typedef int (*pb_sse_fn)(void *ud, const pb_sse_event *ev);

typedef struct pb_sse {
    char *line;             /* unfinished line */
    size_t line_len, line_cap;
    char *data;             /* data of the event being assembled */
    size_t data_len, data_cap;
    int has_data;           /* at least one data: line (even empty) */
    char type[64];
    int after_cr;           /* the last byte was CR: skip one leading LF */
    size_t max;             /* longer line or event = error (-1); 0 = 8 MiB */
    uint64_t comments;      /* ':' lines seen (keep-alives) */
} pb_sse;

void pb_sse_init(pb_sse *s, size_t max);
void pb_sse_free(pb_sse *s);
/* Returns 0, the callback's nonzero value, or -1 when a line or an event
 * exceeds max. */
int pb_sse_feed(pb_sse *s, const char *data, size_t n, pb_sse_fn fn, void *ud);
/* End of stream. An event without its blank line is not dispatched (as the
 * spec says); returns 1 when such a partial event or line was pending, 0
 * when the stream ended cleanly between events. */
int pb_sse_finish(pb_sse *s);

#endif
