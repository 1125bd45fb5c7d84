/* pb_md: Markdown helpers of the report sections (pb_md.c). */
#ifndef PB_MD_H
#define PB_MD_H

#include <stdio.h>

#include "pb_report.h"

/* Text (outside code spans): appends s to out with Markdown metacharacters
 * backslash-escaped (|, *, _, `, [, ], <, >, #, ~, \) and newlines/tabs
 * turned into spaces; safe in table cells. */
void pb_md_escape(FILE *out, const char *s);

/* A whole code span holding s verbatim: no backslash escapes (they would
 * print), a backtick fence longer than any backtick run in s, padding
 * when s starts or ends with a backtick; newlines/tabs become spaces.
 * in_table: also write "|" as "\|", which GFM tables require even inside
 * code spans. */
void pb_md_code(FILE *out, const char *s, int in_table);

/* A config name in a table cell: "cN" (its legend number) when
 * opts->cfg_abbrev, else the escaped name. */
void pb_md_config(FILE *out, const pb_report_opts *opts, const char *config);

/* The legend "c1 = name; ..." when configs are abbreviated (else nothing). */
void pb_md_config_legend(FILE *out, const pb_report_opts *opts);

/* A link destination dir/name.ext (in <...> when it has spaces or
 * parentheses); dir "." is left out, ext NULL adds none. */
void pb_md_link(FILE *out, const char *dir, const char *name, const char *ext);

/* The analysis' distinct configs, sorted (malloc'd array of borrowed
 * names, NULL when out of memory); *abbrev = 1 when one is longer than 16
 * characters: tables and charts then print "c1", "c2", ... and a legend. */
const char **pb_md_config_names(const struct pb_analysis *a, size_t *n, int *abbrev);

#endif
