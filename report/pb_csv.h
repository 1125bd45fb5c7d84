/* pb_csv: tidy CSV files for --csv DIR (documented in analyze/README.md):
 * runs.csv (one row per run), groups.csv (one per runtime x config),
 * runtimes.csv (one per runtime, both aggregations), requests.csv (one per
 * agent x phase x run), comparisons.csv (one per comparison and metric);
 * groups and runtimes carry the measured metrics. Header row first,
 * RFC 4180 quoting, numbers with 17 significant digits, empty = n/a. */
#ifndef PB_CSV_H
#define PB_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "pb_model.h"

/* Writes the five files atomically into dir (created if missing).
 * Returns 0, or -1 with a message ("what failed, path, why") in err. */
int pb_csv_write(const char *dir, const pb_dataset *ds, unsigned boot_reps,
                 uint64_t seed, char *err, size_t errlen);

/* The same from an analysis already built (pb_analysis_build on ds), so
 * the report and the CSV share one computation and one bootstrap; seq_ref
 * (--sequential-ref, may be NULL) fills the ref_* metric columns. */
struct pb_analysis;
int pb_csv_write_analysis(const char *dir, const pb_dataset *ds,
                          const struct pb_analysis *a, const char *seq_ref,
                          char *err, size_t errlen);

#endif
