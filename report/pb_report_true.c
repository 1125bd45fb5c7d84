/* pb_report_true: the "True parallel efficiency" section. It sets the
 * original study's metric beside measures that compare the concurrent run
 * with the cost of the same work done alone, and says in words when the two
 * disagree, because a table alone lets a reader keep the flattering number.
 * Definitions are repeated in report/README.md ("Metrics"). */
#include "pb_report_true.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_md.h"
#include "pb_derive.h"
#include "pb_ratio.h"
#include "pb_report_stats.h"
#include "pb_stats.h"

/* The per-run quantities this section aggregates, as pb_derived columns. */
/* A column: its heading and digits; the number is metric id's summary
 * (pb_result, PB_METRICS: one definition for the report and the exports). */
typedef struct metric {
    const char *name;
    const char *id;
    int digits;
} metric;

static const metric HEAD[] = {
    {"estimated eff. %", "est_efficiency", 1},
    {"measured eff. %", "meas_efficiency", 1},
    {"measured speedup", "meas_speedup", 2},
    {"token-norm. speedup", "tok_speedup", 2},
    {"overlap %", "overlap_pct", 1},
    {"start skew ms", "start_skew_ms", 1},
};
static const metric SPLIT[] = {
    {"connect ms", "connect_ms", 1},
    {"wait ms", "wait_ms", 1},
    {"server queue ms", "server_queue_ms", 1},
    {"load ms", "load_ms", 1},
    {"prompt eval ms", "prompt_eval_ms", 1},
    {"first-token gap ms", "first_token_gap_ms", 2},
};
static const metric STREAM[] = {
    {"client decode tok/s", "client_rate", 1},
    {"server eval tok/s", "server_rate", 1},
    {"chunk gap p50 ms", "chunk_gap_p50_ms", 2},
    {"chunk gap p90 ms", "chunk_gap_p90_ms", 2},
    {"chunk gap p99 ms", "chunk_gap_p99_ms", 2},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct sect {
    FILE *out;
    const pb_dataset *ds;
    const pb_result *res;
    const pb_analysis *an;    /* groups (runtime x config), sorted by name */
    const pb_report_opts *op; /* config abbreviations */
} sect;

/* Summary of metric m over runtime r's valid runs, or over one group when
 * g is not NULL: read from the result (computed once). */
static void summarize(const sect *s, const metric *m, size_t r, const pb_group *g,
                      pb_summary *out) {
    long k = pb_metrics_index(m->id);
    if (k < 0) {
        memset(out, 0, sizeof *out);
        out->mean = out->ci_lo = out->ci_hi = NAN;
        return;
    }
    *out = g ? *pb_result_gsum(s->res, (size_t)(g - s->an->groups), (size_t)k)
             : *pb_result_rsum(s->res, r, (size_t)k);
}

static size_t rt_runs(const sect *s, size_t r) {
    const pb_rt *rt = &s->an->rts[r];
    size_t n = 0;
    for (size_t j = 0; j < rt->n_groups; j++) n += s->an->groups[rt->first_group + j].n;
    return n;
}

/* A value that rounds to zero prints as 0, not -0.0 (server queue times
 * are differences of nearly equal durations). */
static double nz(double v, int digits) {
    return fabs(v) < 0.5 * pow(10, -digits) ? 0.0 : v;
}

static void cell_mean_ci(FILE *f, const pb_summary *x, int digits) {
    if (x->n == 0) { fputs(" n/a |", f); return; }
    fprintf(f, " %.*f", digits, nz(x->mean, digits));
    if (x->n >= 2 && isfinite(x->ci_lo))
        fprintf(f, " [%.*f, %.*f]%s", digits, nz(x->ci_lo, digits), digits,
                nz(x->ci_hi, digits), x->clipped ? " (clipped)" : "");
    fputs(" |", f);
}

/* One table: a row per runtime, a column per metric, "mean [95% CI]". */
static void table_by_runtime(const sect *s, const metric *ms, size_t nm,
                             int skip_empty) {
    FILE *f = s->out;
    /* Drop columns no runtime has (e.g. measured metrics without solo
     * phases) so the table stays readable; they are named below it. */
    int keep[16] = {0};
    size_t kept = 0;
    for (size_t j = 0; j < nm; j++) {
        for (size_t r = 0; r < s->an->n_rts && !keep[j]; r++) {
            pb_summary x;
            summarize(s, &ms[j], r, NULL, &x);
            keep[j] = x.n > 0;
        }
        if (!skip_empty) keep[j] = 1;
        kept += keep[j];
    }
    if (kept == 0) {
        fputs("_No run has these quantities (they need per-request timestamps "
              "or server statistics)._\n\n", f);
        return;
    }
    fputs("| runtime | runs |", f);
    for (size_t j = 0; j < nm; j++)
        if (keep[j]) fprintf(f, " %s |", ms[j].name);
    fputs("\n|---|---:|", f);
    for (size_t j = 0; j < nm; j++)
        if (keep[j]) fputs("---:|", f);
    fputc('\n', f);
    for (size_t r = 0; r < s->an->n_rts; r++) {
        fputs("| ", f);
        pb_md_escape(f, s->an->rts[r].runtime);
        fprintf(f, " | %zu |", rt_runs(s, r));
        for (size_t j = 0; j < nm; j++) {
            if (!keep[j]) continue;
            pb_summary x;
            summarize(s, &ms[j], r, NULL, &x);
            cell_mean_ci(f, &x, ms[j].digits);
        }
        fputc('\n', f);
    }
    int dropped = 0;
    for (size_t j = 0; j < nm; j++) {
        if (keep[j]) continue;
        fprintf(f, "%s%s", dropped++ ? ", " : "\nNot available in this data: ", ms[j].name);
    }
    fputs(dropped ? ".\n\n" : "\n", f);
}

/* Per (runtime, config): the efficiencies side by side and their gap.
 * Columns no run has are dropped, as in table_by_runtime. */
static void table_by_config(const sect *s, int has_ref) {
    FILE *f = s->out;
    /* est, meas, gap (derived from the first two), token, overlap; the
     * sequential reference per config is a ratio of means, printed by
     * pb_report_speedups. */
    (void)has_ref;
    const metric *cols[] = {&HEAD[0], &HEAD[1], NULL, &HEAD[3], &HEAD[4]};
    const char *names[] = {"orig. eff. % (mean)", "measured eff. %", "gap (pp)",
                           "token-norm. speedup", "overlap %"};
    enum { NC = sizeof cols / sizeof cols[0] };
    int keep[NC] = {1, 0, 0, 0, 0};
    for (size_t r = 0; r < s->an->n_rts; r++)
        for (int j = 1; j < NC; j++) {
            if (!cols[j] || keep[j]) continue;
            pb_summary x;
            summarize(s, cols[j], r, NULL, &x);
            keep[j] = x.n > 0;
        }
    keep[2] = keep[1];
    fputs("| runtime | config | runs |", f);
    for (int j = 0; j < NC; j++)
        if (keep[j]) fprintf(f, " %s |", names[j]);
    fputs("\n|---|---|---:|", f);
    for (int j = 0; j < NC; j++)
        if (keep[j]) fputs("---:|", f);
    fputc('\n', f);
    /* Groups come sorted by runtime, then config. */
    for (size_t gi = 0; gi < s->an->n_groups; gi++) {
        {
            const pb_group *g = &s->an->groups[gi];
            pb_summary x[NC];
            for (int j = 0; j < NC; j++) {
                if (cols[j]) summarize(s, cols[j], 0, g, &x[j]);
                else x[j].n = 0;
            }
            fputs("| ", f);
            pb_md_escape(f, g->runtime);
            fputs(" | ", f);
            pb_md_config(f, s->op, g->config);
            fprintf(f, " | %zu |", g->n);
            for (int j = 0; j < NC; j++) {
                if (!keep[j]) continue;
                if (j == 2) {
                    if (x[0].n && x[1].n) fprintf(f, " %.1f |", x[0].mean - x[1].mean);
                    else fputs(" n/a |", f);
                } else if (j == 0) {
                    /* Its interval is in the original study's per-config
                     * table: the mean here is only the gap's reference. */
                    if (x[0].n) fprintf(f, " %.1f |", x[0].mean);
                    else fputs(" n/a |", f);
                } else {
                    cell_mean_ci(f, &x[j], cols[j]->digits);
                }
            }
            fputc('\n', f);
        }
    }
    fputc('\n', f);
}

/* Plain words per runtime: what the measured figures say about the
 * estimated one. Thresholds are for wording only, not statistics. */
static void verdicts(const sect *s, const char *ref) {
    FILE *f = s->out;
    int said = 0;
    for (size_t r = 0; r < s->an->n_rts; r++) {
        pb_summary e, ms, me, ts;
        const pb_rt *rt = &s->an->rts[r];
        const char *name = rt->runtime;
        summarize(s, &HEAD[0], r, NULL, &e);
        summarize(s, &HEAD[2], r, NULL, &ms);
        summarize(s, &HEAD[3], r, NULL, &ts);
        summarize(s, &HEAD[1], r, NULL, &me);
        int has_ref = ref && !rt->seqref_is_self && isfinite(rt->seqref.est);
        if (ms.n == 0 && !has_ref) continue;
        fputs("- **", f);
        pb_md_escape(f, name);
        fputs("**: ", f);
        if (e.n) fprintf(f, "the original metric says %.1f%% efficiency. ", e.mean);
        if (ms.n) {
            /* ms and me are geometric means (HEAD marks them as ratios). */
            fprintf(f, "Against the agents' own solo durations the measured speedup is "
                       "%.2fx (geometric mean; measured efficiency %.1f%%): ", ms.mean, me.mean);
            pb_report_say_ratio(f, ms.ci_lo, ms.ci_hi, 0);
            /* Solo and concurrent requests may produce responses of different
             * lengths; tokens/s is the comparison that does not care. */
            if (ts.n)
                fprintf(f, "Per token, which does not depend on response lengths, "
                           "the agents together produce %.2fx the tokens/s of one "
                           "agent alone (token-normalised speedup). ", ts.mean);
            if (e.n && e.mean - me.mean > 15)
                fprintf(f, "The original metric overstates efficiency by %.1f "
                           "percentage points, because it counts an agent as busy "
                           "while it only waits for the server. ", e.mean - me.mean);
        }
        if (has_ref) {
            /* Efficiency = speedup / N, N the agents of this runtime's runs
             * (the first run's; TR115 and parbench plans keep N fixed). */
            const pb_group *g0 = &s->an->groups[rt->first_group];
            double n_ag = (double)s->ds->runs[g0->runs[0]].n_agents;
            fputs("With **", f);
            pb_md_escape(f, ref);
            fprintf(f, "**'s mean wall time per config as the sequential time, the "
                       "speedup (ratio of means) is %.4fx (efficiency %.1f%%",
                    rt->seqref.est, n_ag > 0 ? rt->seqref.est / n_ag * 100 : NAN);
            if (e.n) fprintf(f, " against an estimated %.1f%%", e.mean);
            fputs("): ", f);
            pb_report_say_ratio(f, rt->seqref.lo, rt->seqref.hi, rt->seqref.unbounded);
        }
        fputc('\n', f);
        said = 1;
    }
    if (!said)
        fputs("- No run has a sequential baseline (no solo phases, no "
              "`--sequential-ref`): only the estimated efficiency is available, and "
              "it cannot tell parallel execution from serialised execution.\n", f);
    fputc('\n', f);
}

static void definitions(FILE *f) {
    fputs(
        "### Definitions (true parallel efficiency)\n\n"
        "Per run, N agents, concurrent wall W (first request issued to last one "
        "finished in the concurrent phase). Each metric is computed per run and then "
        "aggregated per runtime and per (runtime, config): mean and 95% CI of the mean "
        "(Student t, n-1 degrees of freedom) over the valid runs; runs that lack a "
        "quantity are left out of that quantity only (n/a when none has it).\n\n"
        "- **Estimated efficiency** (the original study's): sum of the agents' "
        "durations inside the concurrent phase / (N x W) x 100; estimated speedup = "
        "that sum / W. It is 100% whenever every agent is busy for the whole wall, "
        "even if the server serves them one at a time.\n"
        "- **Measured speedup**: sum of the agents' durations in their solo phases "
        "(each alone) / W; **measured efficiency** = measured speedup / N x 100. "
        "Needs every agent's solo phase.\n"
        "- **Token-normalised speedup**: (sum of concurrent tokens / W) / (sum of solo "
        "tokens / sum of solo durations); aggregate tokens/s together over tokens/s "
        "alone, robust to responses of different lengths.\n"
        "- **Overlap**: fraction of W during which at least two agents were "
        "streaming; an agent streams from its first token (first byte when the token "
        "time is missing) to the end of its request. Printed in percent.\n"
        "- **Start skew**: latest minus earliest request start in the concurrent "
        "phase (ms).\n"
        "- **TTFT split** (concurrent phase, mean over the run's agents): *connect* = "
        "connected - start; *wait* = first byte - connected (queueing, load and prompt "
        "evaluation as the client sees it); *server queue* = Ollama's total - load - "
        "prompt_eval - eval; *load* and *prompt eval* = Ollama's durations; "
        "*first-token gap* = first non-empty token - first byte.\n"
        "- **Client decode rate**: (tokens - 1) / (last chunk - first token), "
        "tokens/s; beside the **server eval rate** eval_count / eval_duration. A "
        "client rate well below the server's means delivery, not generation, is slow.\n"
        "- **Chunk gap p50/p90/p99**: percentiles (R type 7) of the intervals between "
        "consecutive chunk arrivals, pooled over the run's concurrent requests; "
        "per runtime the table shows the mean of the per-run percentiles.\n"
        "- **Sequential reference** (`--sequential-ref RUNTIME`, for data without solo "
        "phases): the speedup is a ratio of means, per config the mean wall time of "
        "RUNTIME / the runtime's mean wall, over configs the sum of RUNTIME's config "
        "means / the sum of the runtime's (every config weighs the same), with a "
        "Fieller 95% interval; efficiency = speedup / N x "
        "100. RUNTIME against itself is exactly 1. Meaningful when RUNTIME is known "
        "to serialise the agents (async-std in TR115).\n"
        "- **Ratios** (measured and token-normalised speedup, measured efficiency) are "
        "aggregated as geometric means with the Student t interval of the mean log "
        "ratio, transformed back.\n\n",
        f);
}

void pb_report_true_part(FILE *out, const pb_report_opts *opts, int parts) {
    const pb_result *res = opts->res;
    const pb_dataset *ds = res->ds;
    const char *ref = res->opts.sequential_ref;
    if (parts == PB_TRUE_DEFS) {
        definitions(out);
        return;
    }
    sect s = {.out = out, .ds = ds, .an = &res->an, .op = opts, .res = res};
    size_t ref_configs = res->ref_configs;
    if (s.an->n_rts == 0) {
        if (parts & PB_TRUE_COMPARE)
            fputs("_No valid runs._\n\n", out);
        if (parts & PB_TRUE_DEFS)
            definitions(out);
        return;
    }
    if (parts & PB_TRUE_COMPARE) {
        if (ref && ref_configs == 0)
            fprintf(stderr, "analyze: --sequential-ref %s: no valid runs of that runtime; "
                    "the reference columns stay n/a (check the runtime label in the "
                    "report's tables)\n", ref);
        fputs("The original study's efficiency compares the agents' durations with "
              "the concurrent wall time *of the same run*, so an agent that waits for the "
              "server still counts as working. The measures below compare the concurrent "
              "run with the cost of the same work done alone: the agents' solo phases "
              "(parbench traces) or a serialised reference runtime (`--sequential-ref`).\n\n",
              out);
        fputs("### In plain words\n\n", out);
        verdicts(&s, ref);
        fputs("### Per runtime (mean [95% CI] over runs; geometric for ratios)\n\n", out);
        table_by_runtime(&s, HEAD, COUNT(HEAD), 1);
        pb_report_speedups(out, ds, s.an, opts);
        fputs("### Where the time to first token goes (ms, concurrent phase)\n\n", out);
        table_by_runtime(&s, SPLIT, COUNT(SPLIT), 1);
        fputs("### Streaming: client decode rate, server eval rate, chunk gaps\n\n", out);
        table_by_runtime(&s, STREAM, COUNT(STREAM), 1);
    }
    if (parts & PB_TRUE_CONFIGS)
        table_by_config(&s, ref != NULL);
    if (parts & PB_TRUE_DEFS)
        definitions(out);
}

void pb_report_true(FILE *out, const pb_report_opts *opts) {
    fputs("## True parallel efficiency\n\n", out);
    pb_report_true_part(out, opts, PB_TRUE_COMPARE);
    fputs("### Per runtime and config\n\n", out);
    pb_report_true_part(out, opts, PB_TRUE_CONFIGS | PB_TRUE_DEFS);
}
