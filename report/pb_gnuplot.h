/* pb_gnuplot: write gnuplot scripts/data and run gnuplot as a program.
 *
 * Why an external program and not a plotting library: the .gp and .dat files
 * stay beside the images, so a reader can restyle a chart and re-render it
 * with `gnuplot name.gp` without parbench. Why capture stderr: gnuplot
 * reports most problems (bad ranges, empty data, unknown options) as
 * warnings and still exits 0; treating any stderr text as a failure keeps
 * broken charts from passing unnoticed. */
#ifndef PB_GNUPLOT_H
#define PB_GNUPLOT_H

#include <stdio.h>

/* Full path of the first executable "gnuplot" on $PATH, malloc'd; NULL when
 * there is none. */
char *pb_gnuplot_find(void);

/* Writes s as a gnuplot single-quoted string ('' for a quote; control
 * characters become spaces). Use with `noenhanced` so _ ^ { } @ & ~ in
 * labels print as themselves. */
void pb_gnuplot_quote(FILE *f, const char *s);

/* Runs `gnuplot script` with dir as working directory (so the script's
 * relative file names resolve). *errtext gets everything gnuplot wrote on
 * stderr (malloc'd, NUL-terminated, possibly empty; caller frees). Returns
 * gnuplot's exit status, or -1 when it could not be started (errtext then
 * says why). */
int pb_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                   char **errtext);

#endif
