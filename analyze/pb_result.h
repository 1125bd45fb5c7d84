/* pb_result: everything analyze computes from a data set, computed once.
 *
 * Why: the renderers (Markdown front page and full report, JSON, CSV,
 * charts; report/pb_report.h) used to recompute the derived metrics, the
 * answer and the scaling series once per output format, casting away
 * const to do it. Now analyze/main.c builds one pb_result and hands it,
 * const, to renderers that only format what is in it. */
#ifndef PB_RESULT_H
#define PB_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "pb_analysis.h"
#include "pb_answer.h"
#include "pb_derive.h"
#include "pb_metrics.h"
#include "pb_model.h"
#include "pb_scaling.h"
#include "pb_servers.h"
#include "pb_warn.h"

typedef struct pb_result_opts {
    unsigned boot_reps;             /* 0: analyze bootstraps nothing (its
                                     * --bootstrap and --seed were removed) */
    uint64_t seed;
    const char *baseline;           /* --baseline, or NULL */
    const char *sequential_ref;     /* --sequential-ref, or NULL */
    size_t drop_first;              /* --drop-first N */
    double knee_pct;                /* --knee; <= 0: PB_KNEE_DEFAULT */
} pb_result_opts;

typedef struct pb_result {
    const pb_dataset *ds;           /* borrowed: outlives the result */
    pb_result_opts opts;
    pb_analysis an;                 /* groups, runtimes, comparisons, ANOVA */
    pb_derived *dv;                 /* per run of ds (ds->n_runs), owned */
    size_t ref_configs;             /* configs with a --sequential-ref mean */
    pb_answer ans;                  /* the answer, per runtime and N */
    pb_scaling sc;                  /* agent-count series (empty without a sweep) */
    pb_settings st;                 /* the answer per server setting (empty
                                     * with fewer than two settings) */
    pb_warnings warn;               /* the front page's warnings (pb_warn.h) */
    /* Every derived metric (PB_METRICS) summarised once, by its definition:
     * gsum[g * PB_N_METRICS + m] over group g's runs, rsum[r * ... + m]
     * over runtime r's. */
    pb_summary *gsum, *rsum;
} pb_result;

/* Builds every part. Returns 0, -1 when out of memory (*out is then empty
 * and safe to free). */
/* The summary of metric m over group g / runtime r. */
static inline const pb_summary *pb_result_gsum(const pb_result *r, size_t g, size_t m)
{
    return &r->gsum[g * PB_N_METRICS + m];
}
static inline const pb_summary *pb_result_rsum(const pb_result *r, size_t rt, size_t m)
{
    return &r->rsum[rt * PB_N_METRICS + m];
}

int pb_result_build(const pb_dataset *ds, const pb_result_opts *o, pb_result *out);
void pb_result_free(pb_result *r);

#endif
