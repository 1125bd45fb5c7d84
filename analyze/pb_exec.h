/* pb_exec: how each runtime was measured (parbench's own driver, a program
 * through the recording proxy, its solo baseline replayed), read from its
 * runs (pb_run.measured_by, data/EXEC.md), for the report, the warnings
 * and the exports.
 *
 * Why a module: the report's "What was measured" line, the full report's
 * exec section, the warnings and the JSON must name a runtime's method
 * the same way. */
#ifndef PB_EXEC_H
#define PB_EXEC_H

#include <stddef.h>

#include "pb_model.h"

struct pb_result;

/* How runtime rt of r's analysis was measured: the method of its valid
 * runs; *mixed (may be NULL) set when they differ (the largest then). */
pb_measured_by pb_exec_rt_by(const struct pb_result *r, size_t rt, int *mixed);

/* Stable id ("driver", "proxy", "proxy_replay") and a short phrase
 * ("parbench's own driver", "the program through the recording proxy",
 * "the program through the recording proxy, solo baseline by replay"). */
const char *pb_exec_by_id(pb_measured_by b);
const char *pb_exec_by_text(pb_measured_by b);

/* Number of runtimes that are exec runtimes (any run not by the driver). */
size_t pb_exec_n_rts(const struct pb_result *r);

/* Threshold of the start-up warning: mean process span over mean wire
 * span of the concurrent phase above this. */
#define PB_EXEC_STARTUP_RATIO 2.0

#endif
