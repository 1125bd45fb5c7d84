/* precision: see precision.h. */
#include "precision.h"

#include <math.h>
#include <string.h>

/* A phase's duration in seconds: its span, or for an exec runtime's phase
 * (it has "process", spanning spawn to exit) the wire span of its
 * requests, first start to last end, as analyze times it (analyze/README.md,
 * "Exec runtimes"): a process span counts the program's start-up once per
 * solo phase and once in the concurrent one, which inflates the ratio. */
static double phase_span(const cJSON *ph, const cJSON *s, const cJSON *e)
{
    double t0 = INFINITY, t1 = -INFINITY;
    const cJSON *rq;
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ph, "process")))
        cJSON_ArrayForEach(rq, cJSON_GetObjectItemCaseSensitive(ph, "requests")) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(rq, "t_start_ns");
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(rq, "t_end_ns");
            /* A route no dialect reads (/api/tags) is no agent's call. */
            if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) ||
                cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rq, "dialect")))
                continue;
            t0 = fmin(t0, a->valuedouble);
            t1 = fmax(t1, b->valuedouble);
        }
    if (t1 > t0)
        return (t1 - t0) / 1e9;
    return (e->valuedouble - s->valuedouble) / 1e9;
}

double pb_precision_speedup(const cJSON *trace)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(trace, "run");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "valid")))
        return NAN;
    double solo = 0, conc = NAN;
    int n_solo = 0;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(trace, "phases")) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(ph, "kind");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(ph, "start_ns");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(ph, "end_ns");
        if (!cJSON_IsString(k) || !cJSON_IsNumber(s) || !cJSON_IsNumber(e))
            continue;
        double span = phase_span(ph, s, e);
        if (strcmp(k->valuestring, "solo") == 0)
            solo += span, n_solo++;
        else if (strcmp(k->valuestring, "concurrent") == 0)
            conc = span;
    }
    int n_agents = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(trace, "agents"));
    if (n_solo != n_agents || !(conc > 0))
        return NAN;
    return solo / conc;
}

double pb_precision_halfwidth_pct(const double *x, int m0, int n, double target_pct,
                                  int *met)
{
    double mean, lo, hi;
    int ok = 0;
    if (m0 >= 2 && n >= m0)
        ok = pb_stein_interval(x, (size_t)m0, x, (size_t)n, target_pct, &mean, &lo, &hi);
    if (met)
        *met = ok;
    if (m0 < 2 || n < m0 || !(fabs(mean) > 0) || !isfinite(hi))
        return INFINITY;
    return (hi - mean) / fabs(mean) * 100.0;
}
