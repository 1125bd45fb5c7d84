/* pb_metrics: the per-run derived metrics (pb_derived) by stable name, for
 * the exports (JSON, CSV) that iterate over them. The names are the JSON
 * "metric" values and the CSV column stems; never rename one (add a new
 * one instead): readers key on them. */
#ifndef PB_METRICS_H
#define PB_METRICS_H

#include <stddef.h>

#include "pb_derive.h"

typedef struct pb_metric_def {
    const char *id;      /* e.g. "meas_speedup" */
    const char *unit;    /* "percent", "x", "fraction", "ms", "tokens/s" */
    size_t off;          /* offset of the double in pb_derived */
} pb_metric_def;

extern const pb_metric_def PB_METRICS[];
extern const size_t PB_N_METRICS;

static inline double pb_metric_get(const pb_derived *d, const pb_metric_def *m)
{
    return *(const double *)((const char *)d + m->off);
}

#endif
