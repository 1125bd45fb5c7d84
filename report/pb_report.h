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
    const char *charts_link;   /* the same directory as the report's links
                                * name it (relative to -o FILE's folder);
                                * NULL = charts_dir as given */
    const char *sequential_ref;/* --sequential-ref RUNTIME, or NULL */
    size_t drop_first;         /* --drop-first N: first runs dropped per group */
    /* For the report header: the command's inputs. */
    int n_inputs;
    char *const *inputs;
    /* The statistics of the data set, built once by the caller
     * (pb_analysis_build with boot_reps / seed / baseline above) and shared
     * by every section and the CSV. NULL: each consumer builds its own. */
    const struct pb_analysis *analysis;
    /* Config names as table cells: when the longest is long, tables print
     * "c1", "c2", ... and a legend (set by pb_report_markdown). */
    const char *const *cfg_names;  /* distinct configs, sorted by strcmp */
    size_t n_cfg;
    int cfg_abbrev;
    /* --knee: efficiency threshold (percent) of the scaling section's knee;
     * <= 0: PB_KNEE_DEFAULT (90). */
    double knee_pct;
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

/* A config name in a table cell: "cN" (its legend number) when
 * opts->cfg_abbrev, else the escaped name. */
void pb_report_config(FILE *out, const pb_report_opts *opts, const char *config);

/* The legend "c1 = name; ..." when configs are abbreviated (else nothing). */
void pb_report_config_legend(FILE *out, const pb_report_opts *opts);

/* The path of directory dir as seen from the folder holding file
 * (`-o FILE` with `--charts DIR`: links that work when FILE is opened from
 * its folder). Both are taken relative to the current directory when not
 * absolute, and normalised lexically ("." and ".." resolved, symlinks are
 * not). Returns a malloc'd string ("." for the same folder), NULL when out
 * of memory or the current directory is unknown. */
char *pb_report_rel_dir(const char *file, const char *dir);

#endif
