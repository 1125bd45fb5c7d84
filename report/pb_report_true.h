/* pb_report_true: the Markdown section "True parallel efficiency"
 * (measured against the solo phases), implemented in pb_report_true.c by
 * the charts / true-efficiency work. pb_report_markdown() calls it after
 * the original study's tables. */
#ifndef PB_REPORT_TRUE_H
#define PB_REPORT_TRUE_H

#include <stdio.h>

#include "pb_model.h"
#include "pb_report.h"

void pb_report_true(FILE *out, const pb_dataset *ds, const pb_report_opts *opts);

#endif
