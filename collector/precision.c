/* precision: see precision.h. */
#include "precision.h"

#include <math.h>
#include <string.h>

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
        double span = (e->valuedouble - s->valuedouble) / 1e9;
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
