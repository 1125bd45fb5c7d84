/* pb_report_stats: see pb_report_stats.h. Methods: analyze/README.md. */
#include "pb_report_stats.h"

#include <math.h>
#include <string.h>

#include "pb_md.h"
#include "pb_power.h"

static void num(FILE *o, const char *fmt, double v)
{
    if (!isfinite(v))
        fputs("n/a", o);
    else
        fprintf(o, fmt, v);
}

static void pval(FILE *o, double p)
{
    if (isnan(p))
        fputs("n/a", o);
    else if (p < 1e-4)
        fprintf(o, "%.2e", p);
    else
        fprintf(o, "%.4f", p);
}

static void interval(FILE *o, const char *fmt, double lo, double hi)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        fputs("n/a", o);
        return;
    }
    fputc('[', o);
    fprintf(o, fmt, lo);
    fputs(", ", o);
    fprintf(o, fmt, hi);
    fputc(']', o);
}

static void name(FILE *o, const char *s) { pb_md_escape(o, s); }

void pb_report_say_ratio(FILE *f, double lo, double hi, int unbounded)
{
    if (unbounded)
        fputs("unbounded: the reference's wall time is not distinguishable from "
              "0 at this n, so no interval can be given. ", f);
    else if (!isfinite(lo) || !isfinite(hi))
        fputs("a single run, too few to tell parallel from serial execution. ", f);
    else if (lo >= 0.98 && hi <= 1.02)
        fprintf(f, "the same as running the agents one after another (95%% CI "
                   "[%.3f, %.3f], within 2%% of 1x): no parallelism. ", lo, hi);
    else if (hi < 1.0)
        fprintf(f, "the concurrent run is *slower* than running the agents one after "
                   "another (95%% CI [%.2f, %.2f]). ", lo, hi);
    else if (lo > 1.0)
        fprintf(f, "a real speedup (95%% CI [%.2f, %.2f]). ", lo, hi);
    else
        fprintf(f, "not distinguishable from running the agents one after another "
                   "(95%% CI [%.2f, %.2f] includes 1x), so there is little or no real "
                   "parallelism. ", lo, hi);
}

/* The first two cells of a comparison row, "| A | B", B starred when the
 * pair is one of the comparisons with the named baseline; the three
 * comparison tables start their rows alike. */
static void pair_cells(FILE *o, const pb_analysis *a, const pb_comparison *c)
{
    fputs("| ", o);
    name(o, a->rts[c->a].runtime);
    fputs(" | ", o);
    name(o, a->rts[c->b].runtime);
    if (c->with_baseline)
        fputs(" ★", o);
}

static void ratio_cells(FILE *o, const pb_ratio *r, int self)
{
    if (self) {
        fputs(" | 1 (the reference itself) | exactly 1 | | |", o);
        return;
    }
    fputs(" | ", o);
    num(o, "%.4f", r->est);
    fputs(" | ", o);
    if (r->unbounded)
        fputs("unbounded", o);
    else
        interval(o, "%.4f", r->lo, r->hi);
    fputs(r->clipped ? " (clipped at 0)" : "", o);
    fputs(" | ", o);
    num(o, "%.1f", r->df);
    fputs(" | ", o);
    interval(o, "%.4f", r->boot_lo, r->boot_hi);
    fputs(" |", o);
}

void pb_report_speedups(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                        const pb_report_opts *op)
{
    (void)ds;
    int paired = 0;
    for (size_t r = 0; r < a->n_rts; r++)
        paired |= a->rts[r].paired_speedup.n > 0;
    if (paired) {
        fputs("### Measured speedup, paired (geometric mean over runs)\n\n"
              "Each run's own ratio: sum of the agents' solo durations / concurrent "
              "wall. Summarised on the log scale: geometric mean with the 95% t "
              "interval of the mean log ratio, transformed back (always > 0; a ratio "
              "and its inverse get mirror-image intervals).\n\n"
              "| runtime | runs | speedup (geometric mean) | 95% CI |\n"
              "|---|---:|---:|---|\n", o);
        for (size_t r = 0; r < a->n_rts; r++) {
            const pb_geomean *g = &a->rts[r].paired_speedup;
            if (g->n == 0)
                continue;
            fputs("| ", o);
            name(o, a->rts[r].runtime);
            fprintf(o, " | %zu | %.4f | ", g->n, g->gm);
            interval(o, "%.4f", g->lo, g->hi);
            fputs(" |\n", o);
        }
        fputc('\n', o);
    }
    if (a->seqref < 0) {
        if (op && op->res->opts.sequential_ref)
            fputs("_`--sequential-ref`: that runtime has no valid runs; no ratio._\n\n", o);
        return;
    }
    const char *ref = a->rts[a->seqref].runtime;
    fputs("### Speedup against the sequential reference **", o);
    name(o, ref);
    fprintf(o, "** (ratio of means)\n\n"
          "Per config: mean wall of the reference / mean wall of the runtime. Over "
          "configs: sum of the reference's config means / sum of the runtime's "
          "(every config weighs the same). 95%% Fieller interval (Student t, "
          "Welch-Satterthwaite df; \"unbounded\" when the denominator is not "
          "significantly different from 0). The bootstrap column stays n/a: a "
          "percentile bootstrap of the ratio covered < 94%% at every size simulated "
          "(tests/analyze/test_coverage.c). Efficiency = speedup / N.\n\n"
          "| runtime | speedup (ratio of means) | 95%% Fieller CI | df | 95%% bootstrap CI |\n"
          "|---|---:|---|---:|---|\n");
    for (size_t r = 0; r < a->n_rts; r++) {
        fputs("| ", o);
        name(o, a->rts[r].runtime);
        ratio_cells(o, &a->rts[r].seqref, a->rts[r].seqref_is_self);
        fputc('\n', o);
    }
    fputs("\nPer config:\n\n"
          "| runtime | config | speedup (ratio of means) | 95% Fieller CI | df | 95% bootstrap CI |\n"
          "|---|---|---:|---|---:|---|\n", o);
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        fputs("| ", o);
        name(o, g->runtime);
        fputs(" | ", o);
        name(o, g->config);
        ratio_cells(o, &g->seqref, strcmp(g->runtime, ref) == 0);
        fputc('\n', o);
    }
    fputc('\n', o);
}

static void unit_fmt(const pb_metric_info *mi, char *fmt, size_t n, int sign)
{
    /* Ratios with 4 decimals, efficiencies 2, times and rates 3 significant
     * decimals: enough to show what a 95% interval can resolve. */
    const char *d = mi->log_scale ? ".4f" : strcmp(mi->unit, "%") == 0 ? ".2f" : ".3f";
    snprintf(fmt, n, "%%%s%s", sign ? "+" : "", d);
}

void pb_report_comparisons(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                           const pb_report_opts *op)
{
    (void)ds;
    fputs("## Comparisons of runtimes\n\n", o);
    if (op && op->res->opts.baseline) {
        /* Not a second table: the baseline's pairs are rows of the all-pairs
         * tables, so their p values and Holm adjustments appear once. */
        fputs("Against the baseline **", o);
        name(o, op->res->opts.baseline);
        if (a->baseline >= 0)
            fputs("**: its pairs are the rows marked ★ below, read \"runtime vs "
                  "baseline\"; they belong to the all-pairs Holm family of their "
                  "metric, not to a second one.\n\n", o);
        else
            fputs("**: that runtime has no valid runs in this data.\n\n", o);
    }
    if (a->n_cmps == 0) {
        fputs("_Fewer than two runtimes with at least two runs each: nothing to "
              "compare._\n\n", o);
        return;
    }
    fputs("Every pair of runtimes on every metric the data has. One Holm family per "
          "metric and test over all pairs, so each p value appears once. Welch and "
          "Mann-Whitney pool runs over configs; van Elteren compares within each "
          "config, and \"adjusted for config\" is the difference of the ANOVA's "
          "estimated marginal means. Ratio metrics are compared on the log scale: "
          "the estimate is the ratio of geometric means A / B.\n\n", o);
    for (int m = 0; m < PB_M_COUNT; m++) {
        const pb_metric_info *mi = &pb_metrics[m];
        size_t first = a->n_cmps, count = 0;
        for (size_t i = 0; i < a->n_cmps; i++)
            if (a->cmps[i].metric == (pb_metric_id)m) {
                if (first == a->n_cmps) first = i;
                count++;
            }
        if (!count)
            continue;
        char f[16], fs[16];
        unit_fmt(mi, f, sizeof f, 0);
        unit_fmt(mi, fs, sizeof fs, !mi->log_scale);
        fprintf(o, "### %s (%s)\n\nFamily `%s`: %zu pair%s. ", mi->name, mi->unit,
                a->cmps[first].family, count, count == 1 ? "" : "s");
        fputs(mi->log_scale ? "Estimate: ratio of geometric means A / B.\n\n"
                            : "Estimate: mean(A) − mean(B).\n\n", o);
        /* Two tables (pooled over configs; within configs) so that no line
         * is wider than a laptop screen (issue 9). */
        fputs("Pooled over configs:\n\n"
              "| A | B | n A | n B | estimate | 95% Welch CI | Welch p | Holm "
              "| MW p (pooled) | Holm |\n"
              "|---|---|---:|---:|---:|---|---:|---:|---:|---:|\n", o);
        for (size_t i = first; i < first + count; i++) {
            const pb_comparison *c = &a->cmps[i];
            pair_cells(o, a, c);
            fprintf(o, " | %zu | %zu | ", c->c.n1, c->c.n2);
            num(o, fs, c->estimate);
            fputs(" | ", o);
            interval(o, f, c->lo, c->hi);
            fputs(" | ", o);
            pval(o, c->p);
            fputs(" | ", o);
            pval(o, c->p_holm);
            fputs(" | ", o);
            pval(o, c->c.mw_p);
            fputs(isnan(c->c.mw_p) ? "" : c->c.mw_exact ? " (exact)" : " (normal)", o);
            fputs(" | ", o);
            pval(o, c->c.mw_p_holm);
            fputs(" |\n", o);
        }
        fputs("\nShift and within-config tests:\n\n"
              "| A | B | HL shift [95% CI] | van Elteren p | Holm "
              "| adjusted for config [95% CI] |\n"
              "|---|---|---|---:|---:|---|\n", o);
        for (size_t i = first; i < first + count; i++) {
            const pb_comparison *c = &a->cmps[i];
            pair_cells(o, a, c);
            fputs(" | ", o);
            /* HL: a ratio for log metrics (pb_design exponentiates it). */
            if (mi->log_scale) {
                num(o, f, c->c.hl_shift);
                fputc(' ', o);
                interval(o, f, c->c.hl_lo, c->c.hl_hi);
            } else {
                num(o, fs, c->c.hl_shift);
                fputc(' ', o);
                interval(o, f, c->c.hl_lo, c->c.hl_hi);
            }
            fputs(" | ", o);
            pval(o, c->ve.p);
            fputs(" | ", o);
            pval(o, c->ve_p_holm);
            fputs(" | ", o);
            num(o, fs, c->adj);
            fputc(' ', o);
            interval(o, f, c->adj_lo, c->adj_hi);
            fputs(" |\n", o);
        }
        fputs("\nEffect sizes and power (on the compared scale; power 80%, α 0.05):\n\n"
              "| A | B | Cohen's d (pooled SD) | Hedges' g [95% CI] "
              "| Glass's Δ (SD of B) | min. detectable difference | target | runs per "
              "runtime for target |\n"
              "|---|---|---:|---|---:|---:|---:|---:|\n", o);
        for (size_t i = first; i < first + count; i++) {
            const pb_comparison *c = &a->cmps[i];
            pair_cells(o, a, c);
            fputs(" | ", o);
            num(o, "%.2f", c->c.cohen_d);
            fputs(" | ", o);
            num(o, "%.2f", c->c.hedges_g);
            fputc(' ', o);
            interval(o, "%.2f", c->c.g_lo, c->c.g_hi);
            fputs(" | ", o);
            num(o, "%.2f", c->c.glass_delta);
            fputs(" | ", o);
            if (mi->log_scale) {
                num(o, "×%.4f", c->mdd);
                fprintf(o, " | ×%.2f | ", c->target);
            } else {
                num(o, f, c->mdd);
                fputs(" | ", o);
                num(o, f, c->target);
                fputs(" | ", o);
            }
            if (isinf(c->n_needed)) fputs("> 10^6", o);
            else num(o, "%.0f", c->n_needed);
            fputs(" |\n", o);
        }
        fputc('\n', o);
    }
    /* Plain words on power, for the original metric where the study's text
     * discusses differences of about 1 pp. */
    double mlo = INFINITY, mhi = -INFINITY, nlo = INFINITY, nhi = -INFINITY;
    for (size_t i = 0; i < a->n_cmps; i++) {
        const pb_comparison *c = &a->cmps[i];
        if (c->metric != PB_M_EST_EFF || !isfinite(c->mdd))
            continue;
        mlo = fmin(mlo, c->mdd), mhi = fmax(mhi, c->mdd);
        nlo = fmin(nlo, c->n_needed), nhi = fmax(nhi, c->n_needed);
    }
    if (isfinite(mlo) && mhi > 1.0) {
        fprintf(o, "**Power:** with these runs, the smallest difference of the original "
                   "efficiency a pair could detect with 80%% power is %.1f to %.1f pp; "
                   "detecting 1 pp would need %.0f to %.0f runs per runtime. \"Not "
                   "significant\" here does not mean \"equal\".\n\n",
                mlo, mhi, nlo, nhi);
    }
}

static const char *anova_row_name[] = {"runtime", "config", "runtime × config", "error"};

void pb_report_design(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                      const pb_report_opts *op)
{
    (void)ds;
    (void)op;
    fputs("## Runtime × config design\n\n"
          "Two-way ANOVA per metric (runtime, config and their interaction; ratio "
          "metrics on the log scale), computed with GSL. Balanced data use the "
          "classical sums of squares, unbalanced data type II sums of squares from "
          "nested least-squares fits.\n\n", o);
    int any = 0;
    for (int m = 0; m < PB_M_COUNT; m++) {
        const pb_anova *v = &a->anova[m];
        if (v->n == 0)
            continue;
        any = 1;
        fprintf(o, "### ANOVA: %s (%s%s)\n\n%zu runs, %zu runtimes × %zu configs, "
                   "%s sums of squares.\n\n"
                   "| source | SS | df | MS | F | p |\n|---|---:|---:|---:|---:|---:|\n",
                pb_metrics[m].name, pb_metrics[m].log_scale ? "ln " : "",
                pb_metrics[m].unit, v->n, v->na_used, v->nb_used, v->ss_type);
        const pb_anova_row *rows[] = {&v->a, &v->b, &v->ab, &v->err};
        for (int k = 0; k < 4; k++) {
            fprintf(o, "| %s | ", anova_row_name[k]);
            num(o, "%.6g", rows[k]->ss);
            fputs(" | ", o);
            num(o, "%.0f", rows[k]->df);
            fputs(" | ", o);
            num(o, "%.6g", rows[k]->ms);
            fputs(" | ", o);
            num(o, "%.4f", rows[k]->F);
            fputs(" | ", o);
            pval(o, rows[k]->p);
            fputs(" |\n", o);
        }
        fputs("\nEstimated marginal means (mean of a runtime's config means, 95% CI "
              "with the error df):", o);
        for (size_t r = 0; r < a->n_rts; r++) {
            fputs(r ? "; " : " ", o);
            name(o, a->rts[r].runtime);
            fputc(' ', o);
            double e = v->emm[r], lo = v->emm_lo[r], hi = v->emm_hi[r];
            if (pb_metrics[m].log_scale) { e = exp(e); lo = exp(lo); hi = exp(hi); }
            num(o, "%.4g", e);
            fputc(' ', o);
            interval(o, "%.4g", lo, hi);
        }
        fputs(".\n\n", o);
    }
    if (!any)
        fputs("_No metric with data._\n\n", o);
    fputs("### Best config\n\n"
          "The study's \"peak\" is the largest of several noisy config means, so it "
          "is biased upwards: the best config of a rerun would most likely score "
          "lower. The original column is kept as computed; beside it, a 95% interval "
          "for the true mean of the config the data picked, valid whichever config "
          "that is: its t interval at level 1 - 0.05/k over the runtime's k configs "
          "(Bonferroni; covered >= 97.5% in simulation, where a bootstrap of the "
          "maximum covered 16% with six equal configs):\n\n"
          "| runtime | best config (original efficiency) | its mean (%) "
          "| 95% CI (Bonferroni over configs) |\n|---|---|---:|---|\n", o);
    for (size_t r = 0; r < a->n_rts; r++) {
        const pb_rt *rt = &a->rts[r];
        fputs("| ", o);
        name(o, rt->runtime);
        fputs(" | ", o);
        name(o, rt->cfg_peak_config ? rt->cfg_peak_config : "n/a");
        fputs(" | ", o);
        num(o, "%.2f", rt->cfg_peak);
        fputs(" | ", o);
        interval(o, "%.2f", rt->best_boot_lo, rt->best_boot_hi);
        fputs(" |\n", o);
    }
    fputc('\n', o);
}

static const char *out_name(pb_outlier c)
{
    switch (c) {
    case PB_OUT_LOW_SEVERE: return "low severe";
    case PB_OUT_LOW_MILD: return "low mild";
    case PB_OUT_HIGH_MILD: return "high mild";
    case PB_OUT_HIGH_SEVERE: return "high severe";
    default: return "";
    }
}

void pb_report_order_outliers(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                              const pb_report_opts *op)
{
    (void)op;
    fputs("## Order effects and outliers (concurrent wall time)\n\n", o);
    if (a->drop_first)
        fprintf(o, "**`--drop-first %zu`**: the first %zu run%s of every runtime × "
                   "config group %s dropped before every statistic in this report "
                   "(%zu runs in all).\n\n",
                a->drop_first, a->drop_first, a->drop_first == 1 ? "" : "s",
                a->drop_first == 1 ? "was" : "were", a->n_dropped);
    size_t slow_first = 0, tested = 0, flagged = 0;
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_order *r = &a->groups[gi].order;
        if (isfinite(r->first_diff)) {
            tested++;
            slow_first += r->first_diff > 0;
            flagged += isfinite(r->first_p) && r->first_p < 0.05;
        }
    }
    if (tested)
        fprintf(o, "Run 1 is slower than the mean of the later runs in %zu of %zu "
                   "groups (first-run test p < 0.05 in %zu). A warm-up run inflates "
                   "every mean and every reference built on it; `--drop-first 1` "
                   "drops it.\n\n", slow_first, tested, flagged);
    fputs("| runtime | config | runs | Spearman ρ (wall vs run index) | p "
          "| run 1 − mean of rest (s) | p (run 1) | Q1 (s) | Q3 (s) | mild | severe |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", o);
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        const pb_order *r = &g->order;
        fputs("| ", o);
        name(o, g->runtime);
        fputs(" | ", o);
        name(o, g->config);
        fprintf(o, " | %zu | ", g->n);
        num(o, "%+.2f", r->rho);
        fputs(" | ", o);
        pval(o, r->rho_p);
        fputs(" | ", o);
        num(o, "%+.3f", r->first_diff);
        fputs(" | ", o);
        pval(o, r->first_p);
        fputs(" | ", o);
        num(o, "%.3f", r->tukey.q1);
        fputs(" | ", o);
        num(o, "%.3f", r->tukey.q3);
        fprintf(o, " | %zu | %zu |\n", r->tukey.n_mild, r->tukey.n_severe);
    }
    fputs("\nOutliers by Tukey's fences (mild beyond 1.5 IQR, severe beyond 3 IQR "
          "from the quartiles), kept in every statistic:\n\n", o);
    int any = 0;
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        for (size_t i = 0; g->order.cls && i < g->n; i++) {
            if (g->order.cls[i] == PB_OUT_NONE)
                continue;
            const pb_run *run = &ds->runs[g->runs[i]];
            fputs("- ", o);
            name(o, g->runtime);
            fputs(" / ", o);
            name(o, g->config);
            fprintf(o, " run %d: wall %.3f s, %s (", run->run_index, run->wall_s,
                    out_name(g->order.cls[i]));
            name(o, run->path);
            fputs(")\n", o);
            any = 1;
        }
    }
    if (!any)
        fputs("- none\n", o);
    fputc('\n', o);
}

void pb_report_stats_methods(FILE *o, const pb_analysis *a, const pb_report_opts *op)
{
    (void)a, (void)op;
    fprintf(o,
"- **No bootstrap interval**: in the committed simulation (tests/analyze/test_coverage.c) BCa "
"of a mean covered 84/79%% at n = 5, 89/88%% at 10 and 94/93%% at 30 (normal/skewed), and a "
"percentile bootstrap of a ratio 91%% at 10 runs per side: below the 94%% a 95%% interval "
"needs, so the t and Fieller intervals are the ones printed.\n"
"- **Spearman p**: exact permutation p over all n! pairings for n ≤ 10, else the t "
"approximation.\n"
"- **Per-stage intervals** (workflows): clustered by run (CR1, t on runs − 1 df): the agents "
"of one run share its host and server.\n"
"- **Intervals within the metric's range**: ratios are summarised on the log scale (never ≤ 0); "
"mean efficiency intervals are clipped to [0, 100] %% and marked \"(clipped)\" when that "
"happened.\n"
"- **Paired speedup**: per run, sum of solo durations / concurrent wall; geometric mean over "
"runs with the Student t interval of the mean ln ratio, exponentiated. Efficiency = speedup / N.\n"
"- **Ratio of means** (`--sequential-ref`): R = a / b, a and b sums of config means; Fieller "
"interval with q = t(0.975, ν), ν the Welch-Satterthwaite df of a − R b, g = q² v_b / b² "
"(g ≥ 1: unbounded), bounds (R ∓ h) / (1 − g), h = q/b √(v_a(1 − g) + R² v_b). The reference "
"against itself is exactly 1.\n"
"- **Comparisons**: Welch t (pooled over configs) is each comparison's test; Holm within the "
"metric's family of all pairs, separately for Welch, Mann-Whitney and van Elteren p values. "
"Mann-Whitney exact p sums the lower tail only (P(U ≥ u) = P(U ≤ mn − u)), so it stays exact "
"far in the tail.\n"
"- **Hodges-Lehmann shift**: median of all differences A − B; 95%% interval from the k-th "
"smallest to the k-th largest difference, k the largest integer with P(U ≤ k − 1) ≤ 0.025 "
"(exact distribution without ties, ≤ %d per side; else the normal approximation); n/a above "
"%d pairs (all differences are sorted).\n"
"- **Glass's Δ** = Δ mean / SD of B (the baseline's SD; no equal-variance assumption). "
"Cohen's d and Hedges' g assume equal variances.\n"
"- **van Elteren**: Mann-Whitney within each config, rank sums weighted 1 / (N_k + 1), "
"tie-corrected variance, normal approximation.\n"
"- **Two-way ANOVA**: runtime × config with interaction; F = MS / MS_error, p from the F "
"distribution; balanced: classical sums of squares, unbalanced: type II. **Adjusted for "
"config**: difference of estimated marginal means (mean of cell means), 95%% t interval "
"with the error df.\n"
"- **Order effects**: Spearman's ρ of wall time against run index (p from t with n − 2 df); "
"first-run effect: run 1 − mean of the rest, t = diff / (SD_rest √(1 + 1/m)), m − 1 df.\n"
"- **Outliers**: Tukey's fences on the quartiles (type 7): mild beyond 1.5 IQR, severe beyond "
"3 IQR (as criterion.rs); listed, never dropped.\n"
"- **Power**: minimum detectable difference (α 0.05 two-sided, power 80%%) = (t(0.975, df) + "
"t(0.8, df)) √(s²A/nA + s²B/nB), df = nA + nB − 2; runs per runtime for the target (1 pp of "
"efficiency, 2%% of the mean otherwise; on the log scale a 2%% ratio): smallest n with "
"(t(0.975, 2n−2) + t(0.8, 2n−2)) √((s²A + s²B)/n) ≤ target.\n",
            PB_MW_EXACT_MAX, PB_HL_MAX_PAIRS);
}
