/* progress: what a person watching stderr sees. On a TTY a live bar (run k
 * of N, runtime, config, the current run's elapsed time and streamed
 * tokens, ETA), redrawn a few times a second so a 40 s run never looks
 * frozen; otherwise one line per run. Servers collect starts (the
 * emulator included) write to OUT/server-logs/, never into the bar. At the
 * end, one answer line per runtime (the measured speedup of the runs just
 * made).
 *
 * Threads: the bar is drawn by the sweep's thread and by a ticker thread;
 * one lock in progress.c orders every write to stderr they make. */
#ifndef PB_PROGRESS_H
#define PB_PROGRESS_H

#include <stddef.h>
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
    /* The run being measured (between begin and end), for the redraws. */
    int running, k;
    char runtime[64], config[192];
    uint64_t tokens0;        /* pb_progress_tokens() at begin */
    int ticker_on;           /* the ticker thread runs (TTY mode) */
} pb_progress;

int pb_progress_parse(const char *s, pb_progress_mode *m);
/* Starts the ticker in TTY mode; pair with pb_progress_finish. */
void pb_progress_init(pb_progress *p, pb_progress_mode m, int total, int to_run);
void pb_progress_begin(pb_progress *p, const char *runtime, const char *config, int k);
/* status: "ok", "INVALID: reason", "skipped (...)" ..., or NULL: nothing to
 * show for this run (it is counted in the sweep's summary). */
void pb_progress_end(pb_progress *p, const char *runtime, const char *config, int k,
                     int executed, const char *status);
/* Erases the bar so a message can be printed (the next begin redraws). */
void pb_progress_clear(pb_progress *p);
/* Stops the ticker and erases the bar. */
void pb_progress_finish(pb_progress *p);

/* printf to stderr from any module or thread while a sweep may show its
 * bar: the bar is erased first, under the lock that orders every write to
 * stderr, so a message never lands inside it (the ticker redraws it). */
void pb_progress_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One stream message (an NDJSON line or an event: about one token) has
 * arrived; called by the transfers, from any thread. Lock-free. */
void pb_progress_count_message(void);
uint64_t pb_progress_tokens(void);

/* What the bar shows; pb_progress_format lays it out in cols - 1 columns
 * (a line as wide as the terminal wraps, and "\r" returns only to the start
 * of its last row). Too narrow for all of it, it drops first the bar, then
 * cuts the config name, then drops runtime and config, then the live part:
 * "run k/N" and the ETA stay as long as they fit at all. */
typedef struct pb_progress_view {
    int index, total, k;
    const char *runtime, *config;
    double elapsed_s;        /* of the current run; < 0: not shown */
    uint64_t tokens;         /* streamed in the current run */
    double eta_s;            /* < 0: unknown */
} pb_progress_view;
void pb_progress_format(char *out, size_t outlen, int cols, const pb_progress_view *v);

/* The answer line of one runtime: the geometric mean of the measured
 * speedups (solo time / concurrent time) of the runs just made, as
 * hyperfine prints its summary. NAN speedups (invalid runs, or no solo
 * phases) are counted apart. */
typedef struct pb_progress_answer {
    int n, n_without;        /* runs with a speedup, runs without */
    double sum_log, min, max;
    int configs;             /* configs the runs come from (said when > 1) */
} pb_progress_answer;
void pb_progress_answer_add(pb_progress_answer *a, double speedup);
/* "uv      speedup 1.93x vs sequential (geometric mean of 6 runs ...)";
 * runtime padded to `width` characters. */
void pb_progress_answer_line(char *out, size_t outlen, const char *runtime, int width,
                             const pb_progress_answer *a);

#endif
