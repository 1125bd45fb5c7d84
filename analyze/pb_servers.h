/* pb_servers: what a parbench trace says about the servers collect ran and
 * what they and the host did (issue 21; issue 20 section 3; data/FORMAT.md
 * "server_processes", "telemetry", "phases[].host"): the server settings
 * of the run, the models /api/ps saw loaded, reloaded or evicted while a
 * measured phase ran, the GPU per kind of phase, the host's load; and,
 * over a data set, the answer per server setting (pb_settings).
 *
 * Why the answer per setting lives here and not in pb_answer: settings are
 * configs (collect names them `KEY=V`), and a speedup pooled over
 * OLLAMA_NUM_PARALLEL=1 and =4 mixes quantities whose values differ by
 * design, as pooling agent counts did. */
#ifndef PB_SERVERS_H
#define PB_SERVERS_H

#include <cjson/cJSON.h>

#include "pb_answer.h"
#include "pb_model.h"
#include "pb_stats.h"

struct pb_analysis;
struct pb_derived;

/* Fills run->server_setting, model_events and tel from the trace root
 * (fields absent: NULL / NAN). Never fails: telemetry is context, not a
 * measurement the run depends on. */
void pb_servers_load(pb_run *run, const cJSON *root);

/* Host-load thresholds of the warning: a load average above the CPU count,
 * or steal above this share of all CPU time, during measured phases. */
#define PB_HOST_STEAL_WARN_PCT 5.0

/* One (runtime, config) group of the analysis whose runs name a setting. */
typedef struct pb_setting_point {
    const char *setting;      /* borrowed: "KEY=V+KEY2=W" */
    size_t group;             /* index into the analysis' groups */
    size_t runs;              /* valid runs behind it */
    int eff_measured;         /* 1: measured speedup (solo phases), 0: estimated */
    /* Geometric mean and 95% Student t interval on the log scale (never
     * below 0; pb_metrics' definition for speedups and efficiencies). */
    pb_summary speedup, eff, throughput;  /* throughput: aggregate tokens/s */
    pb_verdict verdict;       /* of the speedup's interval (pb_answer_verdict) */
    double gpu_util_mean, gpu_util_max;   /* concurrent phases: mean of the runs'
                                           * means, largest sample; NAN none */
} pb_setting_point;

/* The points of one runtime and agent count whose configs differ only in
 * their settings, in the order of pb_settings.names. */
typedef struct pb_setting_series {
    const char *runtime;      /* borrowed */
    char *rest;               /* owned: the config without its settings ("" none) */
    double n_agents;
    size_t n_points;
    pb_setting_point *pts;    /* owned */
} pb_setting_series;

typedef struct pb_settings {
    size_t n_names;
    const char **names;       /* owned array of borrowed strings: the distinct
                               * settings, numeric order of their values when
                               * every one is KEY=<number>, else by name */
    int numeric;              /* 1: names are one KEY with numeric values */
    size_t n_series;
    pb_setting_series *series;/* owned: runtime order of the analysis */
} pb_settings;

/* Builds the per-setting answer from the analysis' groups and the derived
 * metrics (dv: one per run of ds). Empty (n_names < 2) when the data hold
 * fewer than two settings. Returns 0, -1 when out of memory. */
int pb_servers_settings_build(const pb_dataset *ds, const struct pb_analysis *an,
                              const struct pb_derived *dv, pb_settings *out);
void pb_servers_settings_free(pb_settings *s);

/* Position of name in s->names (0-based), or -1. */
long pb_servers_settings_index(const pb_settings *s, const char *name);

#endif
