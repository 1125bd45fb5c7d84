/* pb_charts: gnuplot charts into opts->charts_dir (--charts DIR) from the
 * result in opts->res (pb_report.h): NAME.gp + NAME.dat, rendered to PNG
 * and SVG. Writes the Markdown links to the charts into report_links (may
 * be NULL) and sets *speedup_drawn (may be NULL) when the headline chart
 * was rendered. Returns 0 on success, -1 when a chart could not be
 * written or rendered (already reported on stderr). */
#ifndef PB_CHARTS_H
#define PB_CHARTS_H

#include <stdio.h>

#include "pb_report.h"

int pb_charts_write(const pb_report_opts *opts, FILE *report_links, int *speedup_drawn);

#endif
