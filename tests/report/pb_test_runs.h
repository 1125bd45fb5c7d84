/* Test data built in C with round-number timestamps, so every derived value
 * can be worked out by hand (see the comments in test_derive.c). */
#ifndef PB_TEST_RUNS_H
#define PB_TEST_RUNS_H

#include "pb_model.h"

/* Every number NAN (the model's "absent"), then the given timestamps
 * (seconds since the run origin); duration = end - start. */
void tr_request(pb_request *rq, double start, double connected, double first_byte,
                double first_token, double end, double tokens);

/* Evenly spaced chunks: n arrivals from t0 to t1 inclusive (n >= 2), or
 * explicit times when `times` is not NULL. */
void tr_chunks(pb_request *rq, const double *times, size_t n);

/* A run with n agents named a, b, c... (malloc'd; free with tr_dataset_free). */
pb_run *tr_add_run(pb_dataset *ds, const char *runtime, const char *config,
                   int index, size_t n_agents);

/* The hand-checked two-agent run of test_derive.c. */
void tr_hand_run(pb_run *r);

/* A varied data set: 3 runtimes (one with a label full of gnuplot and
 * Markdown metacharacters), 2 configs, 2 and 3 agents, solo phases, chunks. */
void tr_chart_dataset(pb_dataset *ds);
/* The same with 2 agents in every run when one_n (no agent-count sweep:
 * the charts over a runtime's runs are drawn, scaling is not). */
void tr_chart_dataset_n(pb_dataset *ds, int one_n);

void tr_dataset_free(pb_dataset *ds);

#endif
