/* pb_metric: the per-run quantities on which runtimes are compared
 * (issue 8 section 2), each with its name, unit, scale and range.
 *
 * Why a table: the comparisons, the ANOVA, the power figures and the report
 * walk the same list, so a metric is added in one place. Per run, averages
 * are over the agents' concurrent-phase requests (runs where an agent lacks
 * the quantity give NAN; statistics skip NANs). */
#ifndef PB_METRIC_H
#define PB_METRIC_H

#include "pb_model.h"

typedef enum pb_metric_id {
    PB_M_MEAS_SPEEDUP = 0, /* sum of solo durations / concurrent wall (paired) */
    PB_M_DURATION,         /* end-to-end duration per agent, s (mean over agents) */
    PB_M_TTFT,             /* client TTFT, ms (mean over agents) */
    PB_M_DECODE,           /* client decode rate, tokens/s per stream (mean) */
    PB_M_THROUGHPUT,       /* tokens of all agents / concurrent wall, tokens/s */
    PB_M_EST_EFF,          /* the original study's efficiency, % */
    PB_M_COUNT
} pb_metric_id;

typedef struct pb_metric_info {
    const char *key;       /* stable identifier for JSON/CSV: "meas_speedup" */
    const char *name;      /* for the report */
    const char *unit;
    int log_scale;         /* 1: compared as ln values (ratios); estimate is a
                            * ratio of geometric means */
    double min, max;       /* possible range (intervals are clipped to it) */
    /* Difference the power figures ask about: absolute on the linear scale
     * (1 pp of efficiency), relative otherwise (0.02 = 2%). */
    double target;
    int target_relative;
    int higher_is_better;
} pb_metric_info;

extern const pb_metric_info pb_metrics[PB_M_COUNT];

/* The value of metric m for one run (NAN when the run cannot provide it). */
double pb_metric_run(const pb_run *run, pb_metric_id m);

#endif
