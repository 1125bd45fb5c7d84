/* pb_answer: the analysis' answer, per runtime and agent count N: how long
 * the agents took together compared with one after the other (a speedup,
 * its 95% interval, n, the estimator), and hyperfine's "X ran R ± e times
 * faster than Y" between the runtimes of one N.
 *
 * Why one module, in analyze/: the front page, the charts and the JSON all
 * print this answer; it is computed once (pb_result) and only rendered.
 * The estimators are the analysis' (pb_analysis.h, pb_ratio.h): the
 * geometric mean of the paired per-run speedups against the solo phases,
 * else the ratio of means against --sequential-ref with Fieller's
 * interval. An agent-count sweep gets one row per N: a speedup pooled over
 * N would mix quantities whose ideal values differ (1 at N = 1, 8 at N = 8). */
#ifndef PB_ANSWER_H
#define PB_ANSWER_H

#include <stddef.h>

#include "pb_model.h"
#include "pb_ratio.h"

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
    size_t rt;                /* index into the analysis' rts */
    const char *estimator;    /* stable id: "solo_geomean_t", "seqref_ratio_fieller";
                               * NULL = no sequential baseline */
    size_t n;                 /* runs of this runtime behind the estimate */
    double n_agents;          /* N of the row's runs (the largest when the
                               * runtime has one row) */
    int per_n;                /* 1: the runtime has several N, this row is one */
    double estimate, lo, hi;  /* speedup (x) and 95% interval; NAN when absent */
    double rel_se;            /* relative standard error of the estimate;
                               * NAN when unknown */
    int unbounded;            /* Fieller: no finite interval at this n */
    int is_reference;         /* the --sequential-ref runtime itself */
    int is_control;           /* a control (the reference, or a runtime named
                               * "serial"): never "the fastest" */
    pb_verdict verdict;
    pb_ratio ratio;           /* seqref_ratio_fieller rows: the ratio with its
                               * sums (other levels via pb_ratio_fieller) */
} pb_answer_rt;

/* hyperfine's comparison line: row fast against row slow (same N), with a
 * ratio computed directly between the two runtimes: against a shared
 * --sequential-ref the ratio of their mean walls (sums of config means,
 * Fieller interval; ± = delta-method SE), else the ratio of their
 * geometric-mean paired speedups (Welch interval on ln; ± = SE). */
typedef struct pb_answer_vs {
    size_t fast, slow;        /* rows of pb_answer.rts */
    double ratio;             /* slow's time / fast's time (> 1 = fast is faster) */
    double pm;                /* ± one standard error of ratio */
    double lo, hi;            /* its 95% interval (NAN when none) */
    int significant;          /* the interval excludes 1 */
} pb_answer_vs;

typedef struct pb_answer {
    pb_answer_rt *rts;        /* rows: analysis runtime order, then N ascending (owned) */
    size_t n_rts;
    const char *seq_ref;      /* --sequential-ref, or NULL */
    size_t n_answered;        /* rows with an estimate (reference excluded) */
    int several_n;            /* the analysed runs have several agent counts */
    pb_answer_vs *vs;         /* per N: its fastest row against each other (owned) */
    size_t n_vs;
} pb_answer;

/* Builds the answer from the analysis (its paired speedups, walls and
 * sequential reference). Returns 0, -1 when out of memory. */
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
