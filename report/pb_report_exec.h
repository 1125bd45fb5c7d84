/* pb_report_exec: exec runtimes in the report (issue 18 section 4). The
 * front page's line saying how each runtime was measured, and the full
 * report's section: the definition of the speedup's clock, the process
 * span beside the wire span, and the recording proxy's write-back lag per
 * runtime. Both print nothing when no runtime is a program. */
#ifndef PB_REPORT_EXEC_H
#define PB_REPORT_EXEC_H

#include <stdio.h>

#include "pb_result.h"

/* One bullet line for "What was measured". */
void pb_report_exec_how(FILE *out, const pb_result *r);

/* The full report's "Exec runtimes" section. */
void pb_report_exec_section(FILE *out, const pb_result *r);

#endif
