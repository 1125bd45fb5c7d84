/* TEMPORARY no-op stand-ins for pb_report_true() and pb_charts_write()
 * until report/pb_report_true.c and report/pb_charts.c exist. CMake compiles
 * this file only while one of them is missing and defines PB_STUB_* for
 * the missing ones (report/CMakeLists.txt). Delete once both exist. */
#include <stdio.h>

#include "pb_charts.h"
#include "pb_report_true.h"

#ifdef PB_STUB_REPORT_TRUE
void pb_report_true(FILE *out, const pb_dataset *ds, const pb_report_opts *opts)
{
    (void)ds;
    (void)opts;
    fputs("## True parallel efficiency\n\n_Not available in this build "
          "(report/pb_report_true.c missing)._\n\n", out);
}
#endif

#ifdef PB_STUB_CHARTS
int pb_charts_write(const pb_dataset *ds, const pb_report_opts *opts,
                    FILE *report_links)
{
    (void)ds;
    (void)report_links;
    if (opts && opts->charts_dir)
        fprintf(stderr, "analyze: --charts %s ignored: this build has no "
                "chart support (report/pb_charts.c missing)\n", opts->charts_dir);
    return 0;
}
#endif
