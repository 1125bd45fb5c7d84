/* pb_design: the statistics of issue 8 that need the runtime x config
 * design (metric values per run, paired and ratio speedups, comparisons on
 * every metric, two-way ANOVA, van Elteren, order effects, outliers, power,
 * the best config's Bonferroni interval). Called by pb_analysis_build_opts
 * once the groups and runtimes exist; fills the pb_analysis fields
 * documented in pb_analysis.h. Internal to analyze/. */
#ifndef PB_DESIGN_H
#define PB_DESIGN_H

#include "pb_analysis.h"

/* Returns 0, -1 when out of memory. */
int pb_design_build(const pb_dataset *ds, const pb_analysis_opts *o,
                    pb_analysis *a);

/* Concurrent wall times (s) of runtime r's analysed runs into w and their
 * config ids (strata) into st, in group order; returns the count. w and st
 * hold at least the runtime's run count. */
size_t pb_design_walls(const pb_dataset *ds, const pb_analysis *a, size_t r,
                       double *w, size_t *st);

#endif
