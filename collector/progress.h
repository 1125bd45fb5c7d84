/* progress: what a person watching stderr sees. On a TTY a live bar (run k
 * of N, config, runtime, ETA); otherwise one line per run. */
#ifndef PB_PROGRESS_H
#define PB_PROGRESS_H

#include <stdint.h>

typedef enum pb_progress_mode {
    PB_PROGRESS_AUTO = 0, PB_PROGRESS_TTY, PB_PROGRESS_LINES, PB_PROGRESS_NONE
} pb_progress_mode;

typedef struct pb_progress {
    pb_progress_mode mode;
    int total, index;
    int to_run, executed;
    uint64_t exec_ns;        /* time spent in executed runs (for the ETA) */
    uint64_t run_t0;
    int bar_drawn;
} pb_progress;

int pb_progress_parse(const char *s, pb_progress_mode *m);
void pb_progress_init(pb_progress *p, pb_progress_mode m, int total, int to_run);
void pb_progress_begin(pb_progress *p, const char *runtime, const char *config, int k);
/* status: "ok", "INVALID: reason", "skipped (...)" ..., or NULL: nothing to
 * show for this run (it is counted in the sweep's summary). */
void pb_progress_end(pb_progress *p, const char *runtime, const char *config, int k,
                     int executed, const char *status);
/* Prints a warning without breaking the bar. */
void pb_progress_clear(pb_progress *p);

#endif
