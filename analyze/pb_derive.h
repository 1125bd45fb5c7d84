/* pb_derive: per-run metrics beyond the original study's "efficiency".
 *
 * Why a module of its own: the original metric (sum of agent durations
 * inside the concurrent run / (N x wall)) is 100% whenever both agents are
 * busy for the whole wall, even if the server serialises them and each takes
 * twice as long. The quantities here compare the concurrent run with what the
 * same work costs alone (solo phases, or a serialized runtime given with
 * --sequential-ref), and show how the time inside a request is spent.
 *
 * Pure functions on pb_model structs: nothing here does I/O. A quantity the
 * run cannot provide is NAN (statistics skip it; the report prints "n/a").
 * Time units: seconds for runs and phases, milliseconds for latencies and
 * gaps, tokens/s for rates, percent for efficiencies, fraction [0,1] for
 * overlap. Definitions are in report/README.md ("Metrics"). */
#ifndef PB_DERIVE_H
#define PB_DERIVE_H

#include <stddef.h>
#include "pb_model.h"
#include "pb_ratio.h"
#include "pb_stats.h"

/* TTFT split and streaming figures of one request. */
typedef struct pb_derive_req {
    double connect_ms;        /* t_connected - t_start */
    double wait_ms;           /* t_first_byte - t_connected (client view of queue+prefill) */
    double server_queue_ms;   /* server total - load - prompt_eval - eval */
    double load_ms, prompt_eval_ms;
    double first_token_gap_ms;/* t_first_token - t_first_byte */
    double client_rate;       /* (tokens-1) / (last chunk - first token), tokens/s */
    double server_rate;       /* eval_count / eval_duration, tokens/s */
} pb_derive_req;

typedef struct pb_derived {
    size_t n_agents;
    double est_speedup, est_efficiency;    /* original definition */
    double meas_speedup, meas_efficiency;  /* against the solo phases */
    double tok_speedup;       /* (conc tokens / wall) / (solo tokens / solo time) */
    double overlap;           /* fraction of the concurrent wall with >= 2 streaming */
    double start_skew_ms;     /* max - min agent start in the concurrent phase */
    /* Means over the agents' concurrent-phase requests (NAN if none has it). */
    pb_derive_req req;
    /* Inter-chunk gaps pooled over the agents' concurrent requests, ms. */
    double gap_p50_ms, gap_p90_ms, gap_p99_ms;
    /* Against --sequential-ref: reference runtime's mean wall for this config
     * / this run's wall, and / N * 100. NAN without a reference. */
    double ref_seq_s, ref_speedup, ref_efficiency;
    /* Exec runtimes only (NAN otherwise; report/README.md "Exec runtimes"),
     * seconds: the concurrent phase's process span (spawn to exit), its
     * wire span (first request's start to last byte: the wall the speedup
     * uses), process - wire (start-up and shutdown outside the requests);
     * the sums over the solo phases of the process spans (NAN when
     * replayed) and of the wire spans (the requests' durations). */
    double process_s, wire_s, process_overhead_s, solo_process_s, solo_wire_s;
    /* Write-back lag (ms) of the concurrent phase's chunks the recording
     * proxy timed, pooled over the agents: the chunk's acceptance by the
     * program's socket - its arrival from the server; p50 and p99 (R type
     * 7). NAN without proxy records. */
    double wb_lag_p50_ms, wb_lag_p99_ms;
} pb_derived;

/* The write-back lags (ms) of a run's concurrent-phase chunks into
 * *out (malloc'd; NULL when none): their count, 0 when none. Chunks the
 * program never accepted are left out. */
size_t pb_derive_wb_lags(const pb_run *run, double **out);

/* Over a group or runtime, ref_speedup (efficiency 0) or ref_efficiency
 * (1): the per-run values treat the reference's mean as known, so their
 * t interval is too narrow. s keeps the per-run SD, min, max and median;
 * its mean and interval become the ratio of means r (the seqref of that
 * group or runtime) with Fieller's interval, which counts both samples'
 * variance; efficiency = that / n_agents x 100 (NAN when n_agents is NAN,
 * i.e. the runs differ in N). Nothing changes when r has no estimate. */
void pb_derive_ref_summary(pb_summary *s, const pb_ratio *r, int efficiency,
                           double n_agents);

/* Split of one request (NAN fields where timestamps/statistics are absent). */
void pb_derive_request(const pb_request *rq, pb_derive_req *out);

/* All per-run metrics except the ref_* fields (set to NAN). */
void pb_derive_run(const pb_run *run, pb_derived *out);

/* Fraction of [t0, t1] covered by at least two of the n intervals
 * [starts[i], ends[i]] (NAN intervals ignored). NAN when t1 <= t0. */
double pb_derive_overlap(const double *starts, const double *ends, size_t n,
                         double t0, double t1);

/* Derives every run of ds into out[0..n_runs) and, when ref_runtime is not
 * NULL, fills ref_* from that runtime's per-config mean wall time over its
 * runs that --drop-first keeps (the first drop_first of each group by run
 * index are left out, as in every statistic); runs of configs the
 * reference lacks stay NAN. Per run, ref_speedup treats that mean as
 * known: summaries over runs take their mean and interval from the ratio
 * of means with Fieller's interval instead (pb_derive_ref_summary).
 * Returns the number of configs that had a reference mean (0 when
 * ref_runtime is NULL or absent). */
size_t pb_derive_dataset(const pb_dataset *ds, const char *ref_runtime,
                         size_t drop_first, pb_derived *out);

#endif
