/* pb_report_servers: what the report says about servers collect ran
 * (issue 21) and the host (issue 20 section 3):
 *   - on the front page, the answer per server setting (pb_settings): a
 *     speedup pooled over OLLAMA_NUM_PARALLEL=1 and =4 answers nothing,
 *     so the settings replace the per-runtime lines, with their chart;
 *   - in the full report, the "Server settings" section: the same numbers
 *     with their intervals and the run order, GPU utilisation, GPU memory,
 *     VRAM and loaded models per kind of phase, the host's load, and a note
 *     for every run during which /api/ps saw a model loaded, reloaded or
 *     evicted in a measured phase.
 * Each prints nothing when the data have nothing for it. */
#ifndef PB_REPORT_SERVERS_H
#define PB_REPORT_SERVERS_H

#include <stdio.h>

#include "pb_report.h"

/* The front page's answer per setting. Returns 1 when printed (the data
 * hold two settings or more), else 0. */
int pb_report_settings_answer(FILE *out, const pb_result *res);

/* The front page's chart section: the settings chart when there are
 * settings and charts were rendered. Returns 1 when printed. */
int pb_report_settings_chart(FILE *out, const pb_report_opts *op);

/* The full report's "Server settings" section. */
void pb_report_servers(FILE *out, const pb_report_opts *op);

#endif
