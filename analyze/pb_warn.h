/* pb_warn: what a reader must know before trusting the answer (issue 20
 * section 3), found in the data once and printed by every renderer.
 *
 * Each warning has a stable kind (JSON "kind"), the runtime, setting or
 * metric it concerns, and one line of plain text (no Markdown: renderers
 * escape it). The checks and their thresholds are in pb_warn.c. */
#ifndef PB_WARN_H
#define PB_WARN_H

#include <stddef.h>

struct pb_result;

typedef enum pb_warn_kind {
    PB_W_SPEEDUP_ABOVE_N = 0, /* speedup above N / efficiency above 100% */
    PB_W_SOLO_DEPARTS,        /* solo phases whose TTFT or server rate departs */
    PB_W_FIRST_RUN,           /* significant first-run effect (+ its cause) */
    PB_W_TESTS_DISAGREE,      /* Welch and Mann-Whitney disagree */
    PB_W_SETTING_DIFFERS,     /* runs differ in a setting (model, preset, ...) */
    PB_W_CONFOUNDED_TIME,     /* each runtime collected in one contiguous block */
    PB_W_ROBUSTNESS,          /* a robustness check flips a verdict */
    PB_W_TARGET_MISSED,       /* collect --target-ci: a group missed its target */
    PB_W_HOST_LOAD,           /* the host was loaded during measured phases */
    PB_W_MODEL_EVENT,         /* a model loaded, reloaded or evicted in a measured phase */
    PB_W_STARTUP_DOMINATES,   /* exec runtime: process span >> wire span */
    PB_W_REPLAY_BASELINE,     /* exec runtime: its solo baseline is a replay */
    PB_W_COUNT
} pb_warn_kind;

typedef struct pb_warning {
    pb_warn_kind kind;
    char *subject;            /* runtime, setting key or metric (owned) */
    char *text;               /* one plain-text line (owned) */
} pb_warning;

typedef struct pb_warnings {
    pb_warning *v;            /* owned */
    size_t n, cap;
} pb_warnings;

/* Stable id of a kind: "speedup_above_n", "solo_departs", "first_run",
 * "tests_disagree", "setting_differs", "confounded_with_time",
 * "robustness", "target_missed", "host_load", "model_event",
 * "startup_dominates", "replay_baseline". */
const char *pb_warn_kind_id(pb_warn_kind k);

/* Runs every check on r (its analysis, derived metrics and answer must be
 * built). Returns 0, -1 when out of memory. */
int pb_warn_build(const struct pb_result *r, pb_warnings *out);
void pb_warn_free(pb_warnings *w);

#endif
