/* pb_json_out: `analyze --json FILE`, every statistic of the report at full
 * precision in a versioned JSON document (schema in analyze/README.md).
 *
 * Stable keys: runtime, config and metric names are values, never keys, so
 * a reader iterates arrays of objects. One function per model or analysis
 * struct (run, group, runtime, comparison, answer): a new member of
 * pb_analysis is one more function and one more key at the top level. */
#ifndef PB_JSON_OUT_H
#define PB_JSON_OUT_H

#include <stddef.h>

#include "pb_report.h"

#define PB_JSON_SCHEMA "parbench-analysis"
/* 2: overlap is overlap_pct (percent); ratio metrics' means are geometric
 * (mean_kind); warnings[] and answer_vs[] added; the answer is per N. */
#define PB_JSON_SCHEMA_VERSION 2

/* Writes the document atomically to path ("-" = stdout is not accepted:
 * stdout carries the report). opts->res must be set. Returns 0, or -1
 * with "what failed, path, why" in err. */
int pb_json_out_write(const char *path, const pb_report_opts *opts, char *err,
                      size_t errlen);

#endif
