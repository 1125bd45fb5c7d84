/* pb_answer: one speedup estimate per runtime (see pb_answer.h). Today's
 * estimator: the mean of the per-run speedups with a Student-t interval,
 * against the agents' solo phases when every run has them, else against
 * --sequential-ref. */
#include "pb_answer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_stats.h"

pb_verdict pb_answer_verdict(size_t n, double lo, double hi)
{
    if (n == 0)
        return PB_VERDICT_NONE;
    if (n < 2 || isnan(lo) || isnan(hi))
        return PB_VERDICT_SINGLE;
    /* Within 2% of 1x: "slower" in the fourth digit is no finding (the
     * serial control reads 0.995 [0.99, 1.00]). */
    if (lo >= 0.98 && hi <= 1.02)
        return PB_VERDICT_SAME;
    if (hi < 1.0)
        return PB_VERDICT_SLOWER;
    if (lo > 1.0)
        return PB_VERDICT_FASTER;
    return PB_VERDICT_INCONCLUSIVE;
}

int pb_answer_self_ref(const pb_answer_rt *r)
{
    return r->is_reference && r->estimator && strcmp(r->estimator, "seqref_mean_t") == 0;
}

const char *pb_answer_verdict_word(pb_verdict v)
{
    switch (v) {
    case PB_VERDICT_SINGLE: return "one run, no interval";
    case PB_VERDICT_SAME: return "the same";
    case PB_VERDICT_SLOWER: return "slower";
    case PB_VERDICT_FASTER: return "faster";
    case PB_VERDICT_INCONCLUSIVE: return "inconclusive";
    case PB_VERDICT_NONE: break;
    }
    return "n/a";
}

const char *pb_answer_estimator_name(const char *id)
{
    if (!id)
        return "none (no sequential baseline)";
    if (strcmp(id, "solo_mean_t") == 0)
        return "mean of the per-run measured speedups (sum of the agents' solo "
               "durations / concurrent wall), Student-t 95% CI";
    if (strcmp(id, "seqref_mean_t") == 0)
        return "mean of the per-run speedups against the sequential reference "
               "(its mean wall per config / the run's wall), Student-t 95% CI";
    return id;
}

/* Per-run speedup of one estimator over runtime r's valid runs. */
static size_t gather(const pb_analysis *an, size_t r, const pb_derived *dv,
                     size_t off, double *buf, double *max_agents,
                     const pb_dataset *ds)
{
    const pb_rt *rt = &an->rts[r];
    size_t k = 0;
    for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
        for (size_t i = 0; i < an->groups[g].n; i++) {
            size_t ri = an->groups[g].runs[i];
            buf[k++] = *(const double *)((const char *)&dv[ri] + off);
            if ((double)ds->runs[ri].n_agents > *max_agents)
                *max_agents = (double)ds->runs[ri].n_agents;
        }
    return k;
}

int pb_answer_build(const pb_dataset *ds, const pb_analysis *an,
                    const pb_derived *dv, const char *seq_ref, pb_answer *out)
{
    memset(out, 0, sizeof *out);
    out->seq_ref = seq_ref;
    out->rts = calloc(an->n_rts ? an->n_rts : 1, sizeof *out->rts);
    double *buf = malloc((ds->n_runs ? ds->n_runs : 1) * sizeof *buf);
    if (!out->rts || !buf) {
        free(buf);
        pb_answer_free(out);
        return -1;
    }
    out->n_rts = an->n_rts;
    for (size_t r = 0; r < an->n_rts; r++) {
        pb_answer_rt *a = &out->rts[r];
        a->runtime = an->rts[r].runtime;
        a->estimate = a->lo = a->hi = a->sd = NAN;
        a->is_reference = seq_ref && strcmp(seq_ref, a->runtime) == 0;
        /* Solo phases measure each run against its own sequential cost: the
         * better baseline whenever present; the reference is for data
         * without them (the original study's). */
        static const struct { const char *id; size_t off; } EST[] = {
            {"solo_mean_t", offsetof(pb_derived, meas_speedup)},
            {"seqref_mean_t", offsetof(pb_derived, ref_speedup)},
        };
        for (size_t e = 0; e < 2 && !a->estimator; e++) {
            double maxn = 0;
            size_t k = gather(an, r, dv, EST[e].off, buf, &maxn, ds);
            pb_summary s;
            pb_stats_summarize(buf, k, 0, 0, &s);
            if (s.n == 0)
                continue;
            a->estimator = EST[e].id;
            a->n = s.n;
            a->n_agents = maxn;
            a->estimate = s.mean;
            a->sd = s.sd;
            a->lo = s.ci_lo;
            a->hi = s.ci_hi;
            a->verdict = pb_answer_verdict(s.n, s.ci_lo, s.ci_hi);
        }
        if (a->estimator && !pb_answer_self_ref(a))
            out->n_answered++;
    }
    free(buf);
    return 0;
}

void pb_answer_free(pb_answer *a)
{
    free(a->rts);
    memset(a, 0, sizeof *a);
}
