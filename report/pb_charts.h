/* pb_charts: gnuplot charts into opts->charts_dir (--charts DIR),
 * implemented in pb_charts.c by the charts work. Called by
 * pb_report_markdown() only when opts->charts_dir is set; it writes links
 * to the charts (Markdown) into report_links. Returns 0 on success,
 * -1 on failure (already reported on stderr). */
#ifndef PB_CHARTS_H
#define PB_CHARTS_H

#include <stdio.h>

#include "pb_model.h"
#include "pb_report.h"

int pb_charts_write(const pb_dataset *ds, const pb_report_opts *opts,
                    FILE *report_links);

#endif
