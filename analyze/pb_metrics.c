#include "pb_metrics.h"

#include <math.h>
#include <string.h>

#include "pb_ratio.h"

/* Ratios (speedups and the efficiencies derived from them against a
 * baseline) are geometric (1); the original study's estimate is its own
 * arithmetic definition and stays so; percentages of a whole are bounded
 * (2); spans and lags of exec runtimes cannot be negative (4). */
#define M(id, unit, field, scale, geo) {id, unit, offsetof(pb_derived, field), scale, geo & 1, (geo >> 1) & 1, geo >> 2}
const pb_metric_def PB_METRICS[] = {
    M("est_speedup", "x", est_speedup, 1, 0),
    M("est_efficiency", "percent", est_efficiency, 1, 2),
    M("meas_speedup", "x", meas_speedup, 1, 1),
    M("meas_efficiency", "percent", meas_efficiency, 1, 1),
    M("tok_speedup", "x", tok_speedup, 1, 1),
    M("ref_speedup", "x", ref_speedup, 1, 1),
    M("ref_efficiency", "percent", ref_efficiency, 1, 1),
    M("overlap_pct", "percent", overlap, 100, 2),
    M("start_skew_ms", "ms", start_skew_ms, 1, 0),
    M("connect_ms", "ms", req.connect_ms, 1, 0),
    M("wait_ms", "ms", req.wait_ms, 1, 0),
    M("server_queue_ms", "ms", req.server_queue_ms, 1, 0),
    M("load_ms", "ms", req.load_ms, 1, 0),
    M("prompt_eval_ms", "ms", req.prompt_eval_ms, 1, 0),
    M("first_token_gap_ms", "ms", req.first_token_gap_ms, 1, 0),
    M("client_rate", "tokens/s", req.client_rate, 1, 0),
    M("server_rate", "tokens/s", req.server_rate, 1, 0),
    M("chunk_gap_p50_ms", "ms", gap_p50_ms, 1, 0),
    M("chunk_gap_p90_ms", "ms", gap_p90_ms, 1, 0),
    M("chunk_gap_p99_ms", "ms", gap_p99_ms, 1, 0),
    M("process_span_s", "s", process_s, 1, 4),
    M("wire_span_s", "s", wire_s, 1, 4),
    M("process_overhead_s", "s", process_overhead_s, 1, 4),
    M("solo_process_span_s", "s", solo_process_s, 1, 4),
    M("solo_wire_span_s", "s", solo_wire_s, 1, 4),
    M("writeback_lag_p50_ms", "ms", wb_lag_p50_ms, 1, 4),
    M("writeback_lag_p99_ms", "ms", wb_lag_p99_ms, 1, 4),
};
#undef M
const size_t PB_N_METRICS = sizeof PB_METRICS / sizeof PB_METRICS[0];

long pb_metrics_index(const char *id)
{
    for (size_t i = 0; i < PB_N_METRICS; i++)
        if (strcmp(PB_METRICS[i].id, id) == 0)
            return (long)i;
    return -1;
}

void pb_metrics_summarize_ratio(const double *v, size_t n, pb_summary *out)
{
    pb_stats_summarize(v, n, 0, 0, out);
    pb_geomean g;
    pb_ratio_geomean(v, n, &g);
    out->n = g.n;
    out->mean = g.n ? g.gm : NAN;
    out->ci_lo = g.lo;
    out->ci_hi = g.hi;
}

void pb_metrics_summarize(const pb_metric_def *m, double *v, size_t n, pb_summary *out)
{
    if (m->geo) {
        pb_metrics_summarize_ratio(v, n, out);
        return;
    }
    pb_stats_summarize(v, n, 0, 0, out);
    if (m->bounded) {
        /* A percentage of a whole (the original efficiency, overlap)
         * cannot leave [0, 100] (issue 8, section 5). */
        pb_stats_clip(out, 0, 100);
    } else if (m->nonneg) {
        pb_stats_clip(out, 0, INFINITY);
    }
}
