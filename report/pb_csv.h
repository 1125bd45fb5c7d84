/* pb_csv: tidy CSV files for --csv DIR (documented in analyze/README.md):
 * runs.csv (one row per run), groups.csv (one per runtime x config),
 * runtimes.csv (one per runtime, both aggregations), requests.csv (one per
 * agent x phase x run), comparisons.csv (one per comparison and metric);
 * groups and runtimes carry the measured metrics. Header row first,
 * RFC 4180 quoting, numbers with 17 significant digits, empty = n/a. */
#ifndef PB_CSV_H
#define PB_CSV_H

#include <stddef.h>

#include "pb_result.h"

/* Writes the five files atomically into dir (created if missing) from the
 * result (the report's numbers). Returns 0, or -1 with a message ("what
 * failed, path, why") in err. */
int pb_csv_write(const char *dir, const pb_result *res, char *err, size_t errlen);

#endif
