#include "pb_metrics.h"

#define M(id, unit, field) {id, unit, offsetof(pb_derived, field)}
const pb_metric_def PB_METRICS[] = {
    M("est_speedup", "x", est_speedup),
    M("est_efficiency", "percent", est_efficiency),
    M("meas_speedup", "x", meas_speedup),
    M("meas_efficiency", "percent", meas_efficiency),
    M("tok_speedup", "x", tok_speedup),
    M("ref_speedup", "x", ref_speedup),
    M("ref_efficiency", "percent", ref_efficiency),
    M("overlap", "fraction", overlap),
    M("start_skew_ms", "ms", start_skew_ms),
    M("connect_ms", "ms", req.connect_ms),
    M("wait_ms", "ms", req.wait_ms),
    M("server_queue_ms", "ms", req.server_queue_ms),
    M("load_ms", "ms", req.load_ms),
    M("prompt_eval_ms", "ms", req.prompt_eval_ms),
    M("first_token_gap_ms", "ms", req.first_token_gap_ms),
    M("client_rate", "tokens/s", req.client_rate),
    M("server_rate", "tokens/s", req.server_rate),
    M("chunk_gap_p50_ms", "ms", gap_p50_ms),
    M("chunk_gap_p90_ms", "ms", gap_p90_ms),
    M("chunk_gap_p99_ms", "ms", gap_p99_ms),
};
#undef M
const size_t PB_N_METRICS = sizeof PB_METRICS / sizeof PB_METRICS[0];
