/* pb_report_scaling: the Markdown sections of issue 12, each a
 * self-contained function the front page (scaling, brief) or the full report
 * (pb_report.c) calls:
 *   "Scaling with the number of agents" (pb_scaling: efficiency and
 *   aggregate throughput against N, the knee) and
 *   "Workflow steps" (time in llm calls, local work and waiting; efficiency
 *   of the whole workflow and of its llm part).
 * Each prints nothing when the data has nothing for it. */
#ifndef PB_REPORT_SCALING_H
#define PB_REPORT_SCALING_H

#include <stdio.h>

#include "pb_model.h"
#include "pb_report.h"
#include "pb_scaling.h"

/* Writes the section from an already built pb_scaling. */
void pb_report_scaling_section(FILE *out, const pb_scaling *sc, int brief);
/* Builds the scaling with op->knee_pct and writes the section. */
void pb_report_workflow(FILE *out, const pb_dataset *ds);
/* "Sampling to a precision": the stopping rule, when runs were collected
 * with collect --target-ci. */
void pb_report_sampling(FILE *out, const pb_dataset *ds);
/* "Arrival patterns": only when some run's agents did not start together. */
void pb_report_arrival(FILE *out, const pb_dataset *ds);

#endif
