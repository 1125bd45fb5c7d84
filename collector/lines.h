/* lines: NDJSON line reassembly across write-callback boundaries.
 *
 * A line may arrive split over any number of chunks. Complete lines inside a
 * chunk are handed to the callback straight from the caller's buffer (no
 * copy); only an unfinished tail is kept. */
#ifndef PB_LINES_H
#define PB_LINES_H

#include <stddef.h>

/* Called once per line, without its '\n'. Nonzero stops feeding and is
 * returned by pb_lines_feed/finish. */
typedef int (*pb_line_fn)(void *ud, const char *line, size_t len);

typedef struct pb_lines {
    char *buf;      /* unfinished tail */
    size_t len, cap;
    size_t max;     /* a longer line is an error (-1): 0 = 8 MiB */
} pb_lines;

void pb_lines_init(pb_lines *l, size_t max);
void pb_lines_free(pb_lines *l);
/* Returns 0, the callback's nonzero value, or -1 when a line exceeds max. */
int pb_lines_feed(pb_lines *l, const char *data, size_t n, pb_line_fn fn, void *ud);
/* End of stream: a tail without '\n' is delivered as a last line. */
int pb_lines_finish(pb_lines *l, pb_line_fn fn, void *ud);

#endif
