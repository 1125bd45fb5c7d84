/* pb_report_stats: the Markdown of parbench's own statistics (issue 8):
 * speedups as ratios, comparisons of runtimes on every metric, the runtime
 * x config design, order effects and outliers, and their definitions.
 * Everything printed here is read from pb_analysis (pb_analysis.h), which
 * the JSON/CSV exporters serialize; this file only formats. pb_report.c
 * and pb_report_true.c call these entry points and decide where they go. */
#ifndef PB_REPORT_STATS_H
#define PB_REPORT_STATS_H

#include <stdio.h>

#include "pb_analysis.h"
#include "pb_report.h"

/* "### Speedup as a ratio": paired measured speedup (geometric mean) per
 * runtime, and with --sequential-ref the ratio of means with its Fieller
 * interval, per runtime and per config (the bootstrap column says why it
 * stays n/a). */
void pb_report_speedups(FILE *out, const pb_dataset *ds, const pb_analysis *a,
                        const pb_report_opts *op);

/* "## Comparisons of runtimes": one table per metric (tests) and one
 * (effect sizes and power); pairs with --baseline marked. */
void pb_report_comparisons(FILE *out, const pb_dataset *ds, const pb_analysis *a,
                           const pb_report_opts *op);

/* "## Runtime x config design": two-way ANOVA per metric, the estimated
 * marginal means, the best-config warning and the best config's
 * Bonferroni interval. */
void pb_report_design(FILE *out, const pb_dataset *ds, const pb_analysis *a,
                      const pb_report_opts *op);

/* "## Order effects and outliers": per group Spearman trend, first-run
 * effect, Tukey fences, the outliers listed, --drop-first said. */
void pb_report_order_outliers(FILE *out, const pb_dataset *ds,
                              const pb_analysis *a, const pb_report_opts *op);

/* Bullet points for "Definitions and methods". */
void pb_report_stats_methods(FILE *out, const pb_analysis *a,
                             const pb_report_opts *op);

/* Verdict words on a speedup interval (used by the true-efficiency
 * section): writes e.g. "a real speedup (95% CI [1.20, 1.40])". */
void pb_report_say_ratio(FILE *out, double lo, double hi, int unbounded);

#endif
