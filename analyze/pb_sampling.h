/* pb_sampling: runs collected with `collect --target-ci` (Stein's two-stage
 * procedure, common/pb_stein.h): per (runtime, config) the final interval
 * of the measured speedup and whether the target was met, computed the way
 * collect planned it, so the report and the JSON can say which groups
 * missed (capped by --max-runs, or runs that spread more than the pilot). */
#ifndef PB_SAMPLING_H
#define PB_SAMPLING_H

#include <stddef.h>

#include "pb_model.h"

typedef struct pb_sampling_group {
    const char *runtime, *config;   /* borrowed from the data set */
    double target_pct;              /* the runs' target_ci_pct */
    int planned, max_runs;          /* pilot size and cap, as recorded */
    size_t n_runs, n_added;         /* all runs of the group, added ones */
    size_t n_pilot, n_valid;        /* valid speedups: pilot, all */
    double mean, lo, hi;            /* final 95% interval of the speedup */
    double halfwidth_pct;           /* (hi - mean) / mean * 100 */
    int met;                        /* 1: half-width within the target */
} pb_sampling_group;

/* The groups with target_ci_pct > 0, in the order first seen. *out is
 * malloc'd (free it); *n = 0 and *out = NULL when there are none. -1 when
 * out of memory. */
int pb_sampling_build(const pb_dataset *ds, pb_sampling_group **out, size_t *n);

#endif
