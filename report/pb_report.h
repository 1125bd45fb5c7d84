/* pb_report: the Markdown renderers (front page and full report) and the
 * options every renderer reads (pb_charts.h, pb_csv.h, pb_json_out.h).
 *
 * Renderers only format: everything they print is in the pb_result that
 * analyze/main.c computes once (analyze/pb_result.h). */
#ifndef PB_REPORT_H
#define PB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "pb_result.h"

#define PB_REPORT_MAX_REFS 16

typedef struct pb_report_ref {
    const char *name;          /* e.g. "TR114" (points into argv) */
    double value;              /* percent, e.g. 95.7 */
} pb_report_ref;

typedef struct pb_report_opts {
    const pb_result *res;      /* the analysis, computed once (required) */
    /* Reference points (--ref NAME=VALUE): "vs NAME (pp)" columns. */
    pb_report_ref refs[PB_REPORT_MAX_REFS];
    size_t n_refs;
    const char *charts_dir;    /* --charts DIR, or NULL (no charts) */
    const char *charts_link;   /* the same directory as the report's links
                                * name it (relative to -o FILE's folder);
                                * NULL = charts_dir as given */
    const char *charts_md;     /* the chart links pb_charts_write wrote (the
                                * full report's "Charts" section), or NULL */
    int speedup_chart;         /* 1: the speedup chart was drawn (front page) */
    const char *full_name;     /* how the front page links report-full.md,
                                * or NULL when it is not written */
    /* For the report header: the command's inputs. */
    int n_inputs;
    char *const *inputs;
    /* Set by the renderers themselves (pb_report_front / _full): config
     * names as table cells, "c1", "c2", ... and a legend when the longest
     * is long. */
    const char *const *cfg_names;  /* distinct configs, sorted by strcmp */
    size_t n_cfg;
    int cfg_abbrev;
    /* Set by pb_report_front: rows of the front page's comparisons table
     * + 1 (0 = the default, 24), fewer when the page would pass 100 lines. */
    size_t front_rows;
} pb_report_opts;

/* The front page (report.md): what was measured, the answer per runtime
 * and N, warnings, the comparisons table, the speedup chart; 60-100
 * lines. Returns 0, or -1 on a write error (errno set by stdio). */
int pb_report_front(FILE *out, const pb_report_opts *opts);

/* Everything else (report-full.md): all-pairs tests, ANOVA, per-config
 * details, order effects, scaling, the original study's tables, charts,
 * data quality, definitions. Returns 0, or -1 on a write error. */
int pb_report_full(FILE *out, const pb_report_opts *opts);

/* The path of directory dir as seen from the folder holding file
 * (`-o FILE` with `--charts DIR`: links that work when FILE is opened from
 * its folder). Both are taken relative to the current directory when not
 * absolute, and normalised lexically ("." and ".." resolved, symlinks are
 * not). Returns a malloc'd string ("." for the same folder), NULL when out
 * of memory or the current directory is unknown. */
char *pb_report_rel_dir(const char *file, const char *dir);

#endif
