/* pb_answer: the report's answer, per runtime: how long the agents took
 * together compared with one after the other (a speedup, its 95% interval,
 * n, and the name of the estimator that produced it).
 *
 * Why one module: the summary at the top of report.md, the headline chart
 * and the JSON export all print this answer; the estimators are the
 * analysis' (pb_analysis.h, pb_ratio.h): the geometric mean of the paired
 * per-run speedups against the solo phases, else the ratio of means against
 * --sequential-ref with Fieller's interval. Changing the estimator here
 * changes it everywhere. */
#ifndef PB_ANSWER_H
#define PB_ANSWER_H

#include <stddef.h>

#include "pb_model.h"

struct pb_analysis;

typedef enum pb_verdict {
    PB_VERDICT_NONE = 0,      /* no sequential baseline: no answer */
    PB_VERDICT_SINGLE,        /* one run: no interval, no verdict */
    PB_VERDICT_SAME,          /* whole interval within 2% of 1x */
    PB_VERDICT_SLOWER,        /* whole interval below 1x */
    PB_VERDICT_FASTER,        /* whole interval above 1x */
    PB_VERDICT_INCONCLUSIVE,  /* interval includes 1x */
} pb_verdict;

typedef struct pb_answer_rt {
    const char *runtime;      /* borrowed from the analysis */
    const char *estimator;    /* stable id: "solo_geomean_t", "seqref_ratio_fieller";
                               * NULL = no sequential baseline */
    size_t n;                 /* runs behind the estimate */
    double n_agents;          /* agents per run (the largest, for "perfect = N") */
    double estimate, lo, hi;  /* speedup (x) and 95% interval; NAN when absent */
    double rel_se;            /* relative standard error of the estimate
                               * (hyperfine's ± line); NAN when unknown */
    int unbounded;            /* Fieller: no finite interval at this n */
    int is_reference;         /* the --sequential-ref runtime itself */
    pb_verdict verdict;
} pb_answer_rt;

typedef struct pb_answer {
    pb_answer_rt *rts;        /* one per analysis runtime, same order (owned) */
    size_t n_rts;
    const char *seq_ref;      /* --sequential-ref, or NULL */
    size_t n_answered;        /* runtimes with an estimate (reference excluded) */
} pb_answer;

/* Builds the answer from the analysis (its paired_speedup and seqref per
 * runtime). Returns 0, -1 when out of memory. */
int pb_answer_build(const pb_dataset *ds, const struct pb_analysis *an,
                    const char *seq_ref, pb_answer *out);
void pb_answer_free(pb_answer *a);

/* 1 when r's estimate is the reference against itself (--sequential-ref
 * runtime without solo phases): exactly 1x, not an answer. */
int pb_answer_self_ref(const pb_answer_rt *r);

/* The verdict of an interval (the rule above; unbounded: inconclusive). */
pb_verdict pb_answer_verdict(size_t n, double lo, double hi, int unbounded);

/* "slower", "faster", "the same", "inconclusive", "one run", "n/a". */
const char *pb_answer_verdict_word(pb_verdict v);

/* Human name of an estimator id, e.g. "mean of per-run speedups against
 * the solo phases, Student-t 95% CI". */
const char *pb_answer_estimator_name(const char *id);

#endif
