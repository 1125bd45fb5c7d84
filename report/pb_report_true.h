/* pb_report_true: the Markdown section "True parallel efficiency"
 * (measured against the solo phases): parts of the full report
 * (pb_report_full), read from the result (pb_result). */
#ifndef PB_REPORT_TRUE_H
#define PB_REPORT_TRUE_H

#include <stdio.h>

#include "pb_model.h"
#include "pb_report.h"

/* The whole section (heading included). */
void pb_report_true(FILE *out, const pb_report_opts *opts);

/* Parts of it, without the section heading, for a report that places them
 * in its own sections: the measured metrics per runtime (with the plain
 * words), the per-(runtime, config) table, the definitions. */
enum { PB_TRUE_COMPARE = 1, PB_TRUE_CONFIGS = 2, PB_TRUE_DEFS = 4 };
void pb_report_true_part(FILE *out, const pb_report_opts *opts, int parts);

#endif
