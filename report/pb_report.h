/* pb_report: the Markdown report analyze writes on stdout.
 *
 * pb_report_opts is shared with the charts / true-efficiency sections
 * (pb_charts.h, pb_report_true.h): analyze's main.c parses every option
 * into it, the sections read what they need. */
#ifndef PB_REPORT_H
#define PB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "pb_model.h"

struct pb_analysis; /* pb_analysis.h */

#define PB_REPORT_MAX_REFS 16

typedef struct pb_report_ref {
    const char *name;          /* e.g. "TR114" (points into argv) */
    double value;              /* percent, e.g. 95.7 */
} pb_report_ref;

typedef struct pb_report_opts {
    /* Reference points (--ref NAME=VALUE): "vs NAME (pp)" columns. */
    pb_report_ref refs[PB_REPORT_MAX_REFS];
    size_t n_refs;
    const char *baseline;      /* --baseline RUNTIME, or NULL */
    uint64_t seed;             /* --seed: bootstrap seed (printed) */
    unsigned boot_reps;        /* --bootstrap: resamples, 0 = off */
    const char *csv_dir;       /* --csv DIR, or NULL */
    /* Hooks for the charts / true-efficiency work: */
    const char *charts_dir;    /* --charts DIR, or NULL (no charts) */
    const char *sequential_ref;/* --sequential-ref RUNTIME, or NULL */
    size_t drop_first;         /* --drop-first N: first runs dropped per group */
    /* For the report header: the command's inputs. */
    int n_inputs;
    char *const *inputs;
    /* The statistics of the data set, built once by the caller
     * (pb_analysis_build with boot_reps / seed / baseline above) and shared
     * by every section and the CSV. NULL: each consumer builds its own. */
    const struct pb_analysis *analysis;
} pb_report_opts;

/* Writes the whole Markdown report to out. Returns 0, or -1 on a write
 * error (errno set by stdio). */
int pb_report_markdown(FILE *out, const pb_dataset *ds,
                       const pb_report_opts *opts);

/* Text (outside code spans): appends s to out with Markdown metacharacters
 * backslash-escaped (|, *, _, `, [, ], <, >, #, ~, \) and newlines/tabs
 * turned into spaces; safe in table cells. */
void pb_report_md_escape(FILE *out, const char *s);

/* A whole code span holding s verbatim: no backslash escapes (they would
 * print), a backtick fence longer than any backtick run in s, padding
 * when s starts or ends with a backtick; newlines/tabs become spaces.
 * in_table: also write "|" as "\|", which GFM tables require even inside
 * code spans. */
void pb_report_md_code(FILE *out, const char *s, int in_table);

#endif
