/* pb_metric: see pb_metric.h. Definitions repeated in analyze/README.md. */
#include "pb_metric.h"

#include <math.h>

#include "pb_derive.h"

const pb_metric_info pb_metrics[PB_M_COUNT] = {
    [PB_M_MEAS_SPEEDUP] = {"meas_speedup", "measured speedup (paired)", "x", 1,
                           0, INFINITY, 0.02, 1, 1},
    [PB_M_DURATION] = {"duration_s", "end-to-end duration per agent", "s", 0,
                       0, INFINITY, 0.02, 1, 0},
    [PB_M_TTFT] = {"ttft_ms", "TTFT", "ms", 0, 0, INFINITY, 0.02, 1, 0},
    [PB_M_DECODE] = {"decode_tok_s", "client decode rate per stream", "tok/s", 0,
                     0, INFINITY, 0.02, 1, 1},
    [PB_M_THROUGHPUT] = {"throughput_tok_s", "aggregate throughput (concurrent phase)",
                         "tok/s", 0, 0, INFINITY, 0.02, 1, 1},
    [PB_M_EST_EFF] = {"est_efficiency", "original efficiency (the study's metric)",
                      "%", 0, 0, 100, 1.0, 0, 1},
};

static double wall_of(const pb_run *r)
{
    if (isfinite(r->wall_s) && r->wall_s > 0)
        return r->wall_s;
    double w = r->conc_end - r->conc_start;
    return isfinite(w) && w > 0 ? w : NAN;
}

double pb_metric_run(const pb_run *r, pb_metric_id m)
{
    size_t n = r->n_agents;
    double s = 0;
    switch (m) {
    case PB_M_MEAS_SPEEDUP: {
        if (isfinite(r->meas_speedup))
            return r->meas_speedup;
        /* Same definition as pb_derive: every agent's solo phase needed. */
        double w = wall_of(r);
        for (size_t i = 0; i < n; i++) {
            const pb_agent *a = &r->agents[i];
            if (!a->has_solo || !(a->solo.duration_s > 0))
                return NAN;
            s += a->solo.duration_s;
        }
        return n ? s / w : NAN;
    }
    case PB_M_DURATION:
    case PB_M_TTFT:
    case PB_M_DECODE:
        for (size_t i = 0; i < n; i++) {
            const pb_request *rq = &r->agents[i].conc;
            double v;
            if (m == PB_M_DURATION) {
                v = rq->duration_s;
            } else if (m == PB_M_TTFT) {
                v = rq->ttft_ms;
            } else {
                pb_derive_req d;
                pb_derive_request(rq, &d);
                v = d.client_rate;
            }
            if (!isfinite(v))
                return NAN;
            s += v;
        }
        return n ? s / (double)n : NAN;
    case PB_M_THROUGHPUT:
        for (size_t i = 0; i < n; i++) {
            const pb_request *rq = &r->agents[i].conc;
            if (!isfinite(rq->tokens))
                return NAN;
            s += rq->tokens;
        }
        return n ? s / wall_of(r) : NAN;
    case PB_M_EST_EFF:
        return r->est_efficiency;
    default:
        return NAN;
    }
}
