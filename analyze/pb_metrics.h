/* pb_metrics: the per-run derived metrics (pb_derived) by stable name, with
 * the one definition every output uses: unit, display scale and how runs
 * are summarised. The names are the JSON "metric" values and the CSV
 * column stems; readers key on them.
 *
 * Why here, with the summaries computed once (pb_result.msum): the report
 * printed the measured speedup's geometric mean while the CSV carried the
 * arithmetic mean under the same name, and overlap was a fraction in one
 * and a percent in the other. */
#ifndef PB_METRICS_H
#define PB_METRICS_H

#include <stddef.h>

#include "pb_derive.h"
#include "pb_stats.h"

typedef struct pb_metric_def {
    const char *id;      /* e.g. "meas_speedup" */
    const char *unit;    /* "percent", "x", "ms", "tokens/s" */
    size_t off;          /* offset of the double in pb_derived */
    double scale;        /* pb_derived value x scale = exported value
                          * (overlap: fraction x 100 = percent) */
    int geo;             /* a ratio: summarised as the geometric mean with
                          * the t interval of the mean ln value */
    int bounded;         /* a percentage of a whole: interval clipped to
                          * [0, 100] */
    int nonneg;          /* a duration or lag that cannot be negative:
                          * interval clipped at 0 */
} pb_metric_def;

extern const pb_metric_def PB_METRICS[];
extern const size_t PB_N_METRICS;

/* The exported value of metric m for one run (NAN when absent). */
static inline double pb_metric_get(const pb_derived *d, const pb_metric_def *m)
{
    return *(const double *)((const char *)d + m->off) * m->scale;
}

/* Index of id in PB_METRICS, or -1. */
long pb_metrics_index(const char *id);

/* The summary of v[0..n) (exported values) under m's definition: geometric
 * mean and log-scale t interval for ratios, else mean and t interval
 * (percentages of a whole clipped to [0, 100], marked). n, sd, min, max and
 * median are those of the values. v is reordered. */
void pb_metrics_summarize(const pb_metric_def *m, double *v, size_t n, pb_summary *out);
/* The summary of a ratio (every metric with geo set): pb_stats_summarize's
 * spread and quantiles, with the geometric mean and the 95% t interval of
 * the mean log ratio (pb_ratio_geomean) as mean and interval. */
void pb_metrics_summarize_ratio(const double *v, size_t n, pb_summary *out);

#endif
