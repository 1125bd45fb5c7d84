/* pb_answer: one speedup estimate per runtime (see pb_answer.h), read from
 * the analysis: the paired measured speedup (geometric mean of the per-run
 * ratios, Student t interval on the log scale) when the runs have solo
 * phases, else the ratio of means against --sequential-ref (Fieller). */
#include "pb_answer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"

pb_verdict pb_answer_verdict(size_t n, double lo, double hi, int unbounded)
{
    if (n == 0)
        return PB_VERDICT_NONE;
    if (unbounded)
        return PB_VERDICT_INCONCLUSIVE;
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
    return r->is_reference && r->estimator && strcmp(r->estimator, "seqref_ratio_fieller") == 0;
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
    if (strcmp(id, "solo_geomean_t") == 0)
        return "geometric mean of the per-run measured speedups (sum of the agents' solo "
               "durations / concurrent wall), 95% Student-t interval of the mean log ratio";
    if (strcmp(id, "seqref_ratio_fieller") == 0)
        return "ratio of means against the sequential reference (sum over configs of its "
               "mean wall / the runtime's), 95% Fieller interval";
    return id;
}

int pb_answer_build(const pb_dataset *ds, const pb_analysis *an, const char *seq_ref,
                    pb_answer *out)
{
    memset(out, 0, sizeof *out);
    out->seq_ref = seq_ref;
    out->rts = calloc(an->n_rts ? an->n_rts : 1, sizeof *out->rts);
    if (!out->rts)
        return -1;
    out->n_rts = an->n_rts;
    for (size_t r = 0; r < an->n_rts; r++) {
        const pb_rt *rt = &an->rts[r];
        pb_answer_rt *a = &out->rts[r];
        a->runtime = rt->runtime;
        a->estimate = a->lo = a->hi = a->rel_se = NAN;
        a->is_reference = seq_ref && strcmp(seq_ref, a->runtime) == 0;
        /* Agents per run: the largest of the runtime's runs ("perfect = N"). */
        for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
            for (size_t k = 0; k < an->groups[g].n; k++) {
                double na = (double)ds->runs[an->groups[g].runs[k]].n_agents;
                if (na > a->n_agents)
                    a->n_agents = na;
            }
        /* Solo phases measure each run against its own sequential cost: the
         * better baseline whenever present; the reference is for data
         * without them (the original study's). */
        const pb_geomean *gm = &rt->paired_speedup;
        const pb_ratio *sr = &rt->seqref;
        if (gm->n > 0 && isfinite(gm->gm)) {
            a->estimator = "solo_geomean_t";
            a->n = gm->n;
            a->estimate = gm->gm;
            a->lo = gm->lo;
            a->hi = gm->hi;
            /* On the log scale SE(mean ln r) is the relative SE of gm. */
            if (gm->n >= 2)
                a->rel_se = gm->log_sd / sqrt((double)gm->n);
        } else if (an->seqref >= 0 && (rt->seqref_is_self || isfinite(sr->est))) {
            a->estimator = "seqref_ratio_fieller";
            a->n = sr->n_den;   /* this runtime's runs (num = the reference's) */
            a->estimate = rt->seqref_is_self ? 1.0 : sr->est;
            a->lo = rt->seqref_is_self ? 1.0 : sr->lo;
            a->hi = rt->seqref_is_self ? 1.0 : sr->hi;
            a->unbounded = sr->unbounded && !rt->seqref_is_self;
            /* Fieller's interval is not symmetric: its half-width on the
             * log scale over the 95% quantile approximates the relative SE
             * (used only for hyperfine's ± line). */
            if (isfinite(a->lo) && a->lo > 0 && isfinite(a->hi))
                a->rel_se = (log(a->hi) - log(a->lo)) / (2 * 1.96);
        }
        if (a->estimator)
            a->verdict = pb_answer_verdict(a->n, a->lo, a->hi, a->unbounded);
        if (a->estimator && !pb_answer_self_ref(a))
            out->n_answered++;
    }
    return 0;
}

void pb_answer_free(pb_answer *a)
{
    free(a->rts);
    memset(a, 0, sizeof *a);
}
