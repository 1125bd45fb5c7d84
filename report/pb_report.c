/* pb_report: Markdown report. Order (issue 9): the answer first (what was
 * measured, the measured speedup per runtime), then the measured metrics,
 * per-config details, the original TR115 study's tables (regenerated from
 * raw runs, labelled as the original metric), charts, data quality and
 * the definitions once at the end. */
#include "pb_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_md.h"
#include "pb_report_exec.h"
#include "pb_report_scaling.h"
#include "pb_report_servers.h"
#include "pb_report_stats.h"
#include "pb_report_true.h"

/* Numbers: fixed decimals, "n/a" for a quantity that could not be
 * computed (NAN), never "nan". */
static void num(FILE *o, const char *fmt, double v)
{
    if (isnan(v) || isinf(v))
        fputs("n/a", o);
    else
        fprintf(o, fmt, v);
}

/* " | " then a number: the shape of almost every table cell here. */
static void cell(FILE *o, const char *fmt, double v)
{
    fputs(" | ", o);
    num(o, fmt, v);
}

static void ci(FILE *o, double lo, double hi)
{
    if (isnan(lo) || isnan(hi)) {
        fputs("n/a", o);
        return;
    }
    fprintf(o, "[%.2f, %.2f]", lo, hi);
}

static const char *fmt_name(pb_source_format f)
{
    switch (f) {
    case PB_FMT_PARBENCH: return "parbench trace v1";
    case PB_FMT_TR115_RUST: return "TR115 Rust metrics.json";
    case PB_FMT_TR115_PYTHON: return "TR115 Python metrics.json";
    }
    return "?";
}

/* Up to MAXV distinct strings, in order of first appearance, and how many
 * more there were: "What was measured" lists labels, not thousands. */
enum { MAXV = 6 };
typedef struct distinct {
    const char *v[MAXV];
    size_t n, more;
} distinct;

static void distinct_add(distinct *d, const char *s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i], s) == 0)
            return;
    if (d->n < MAXV)
        d->v[d->n++] = s;
    else
        d->more++;   /* counts repeats past MAXV too: "more" is "at least" */
}

static void distinct_print(FILE *o, const distinct *d, const char *none)
{
    if (d->n == 0) {
        fputs(none, o);
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (i)
            fputs(", ", o);
        pb_md_escape(o, d->v[i]);
    }
    if (d->more)
        fputs(", and more", o);
}

/* Answers that came whole (a program that asked for no stream): they have
 * no first token, so the TTFT and decode-rate figures leave them out; said
 * here, with the runtimes whose requests they were. */
static void summary_not_streamed(FILE *o, const pb_dataset *ds)
{
    size_t whole = 0, all = 0;
    distinct rts = {0};
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        if (!r->valid)
            continue;
        for (size_t k = 0; k < r->n_agents; k++) {
            const pb_request *q[2] = {&r->agents[k].conc, &r->agents[k].solo};
            for (int s = 0; s < 2; s++) {
                if (!q[s]->ok)
                    continue;
                all++;
                if (q[s]->not_streamed) {
                    whole++;
                    distinct_add(&rts, r->runtime);
                }
            }
        }
    }
    if (!whole)
        return;
    fprintf(o, "- Not streamed: %zu of %zu requests (", whole, all);
    distinct_print(o, &rts, "");
    fputs("): the program asked for whole answers, so they have no time to first token "
          "or decode rate and those figures leave them out; their durations, and the "
          "speedup, are measured as for streamed ones.\n", o);
}

/* The measuring process's own cost, from the traces' collector_cpu: how
 * much of a CPU collect took during the concurrent phases (it shares the
 * machine with a local server) and its CPU per streamed token. Medians
 * with the range, over the valid runs that recorded it. */
static void summary_collector_cost(FILE *o, const pb_dataset *ds)
{
    size_t n = 0, nt = 0;
    double *share = malloc(sizeof *share * (ds->n_runs + 1));
    double *per_tok = malloc(sizeof *per_tok * (ds->n_runs + 1));
    distinct cpus = {0};
    if (!share || !per_tok)
        goto out;
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        if (!r->valid || !isfinite(r->collector_cpu_s) || !(r->wall_s > 0))
            continue;
        share[n++] = r->collector_cpu_s / r->wall_s * 100;
        double tok = 0;
        for (size_t k = 0; k < r->n_agents; k++)
            if (isfinite(r->agents[k].conc.tokens))
                tok += r->agents[k].conc.tokens;
        if (tok > 0)
            per_tok[nt++] = r->collector_cpu_s * 1e6 / tok;
        distinct_add(&cpus, r->collector_cpus);
    }
    if (!n)
        goto out;
    pb_summary a, b;
    pb_stats_summarize(share, n, 0, 0, &a);
    if (n == 1)
        fprintf(o, "- The measuring process: collect itself used %.1f%% of one CPU in the "
                   "concurrent phase (1 run)", a.median);
    else
        fprintf(o, "- The measuring process: collect itself used %.1f%% of one CPU in the "
                   "concurrent phases (median; %.1f%% to %.1f%%, %zu runs)",
                a.median, a.min, a.max, n);
    if (nt) {
        pb_stats_summarize(per_tok, nt, 0, 0, &b);
        if (nt == 1)
            fprintf(o, ", %.1f us of CPU per streamed token", b.median);
        else
            fprintf(o, ", %.1f us of CPU per streamed token (median; %.1f to %.1f)", b.median,
                    b.min, b.max);
    }
    if (cpus.n) {
        fputs(", on CPUs ", o);
        distinct_print(o, &cpus, "");
    }
    fputs(".\n", o);
out:
    free(share);
    free(per_tok);
}

/* What was measured: from the runs (traces and TR115 files) and the sweep
 * manifests. Dates are RFC 3339 strings, so the earliest and latest are
 * the smallest and largest by strcmp. */
static void summary_measured(FILE *o, const pb_result *res)
{
    const pb_dataset *ds = res->ds;
    const pb_analysis *a = &res->an;
    char *desc[MAXV];
    size_t n_desc = 0;
    distinct models = {0}, endpoints = {0}, hosts = {0}, versions = {0},
             presets = {0}, servers = {0}, inputs = {0};
    size_t amin = (size_t)-1, amax = 0;
    const char *d0 = NULL, *d1 = NULL;
    double ts_lo = 0, ts_hi = 0;
    size_t n_emu = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        for (size_t k = 0; k < r->n_agents; k++) {
            distinct_add(&models, r->agents[k].model);
            distinct_add(&endpoints, r->agents[k].endpoint);
        }
        if (r->n_agents < amin)
            amin = r->n_agents;
        if (r->n_agents > amax)
            amax = r->n_agents;
        distinct_add(&hosts, r->host);
        distinct_add(&versions, r->tool_version);
        distinct_add(&presets, r->emu_preset);
        distinct_add(&inputs, r->input);
        /* "ollama-emu 0.1.0, dialect generate": what answered, as the
         * collector's preflight recorded it (descriptions kept until the
         * section is written: distinct stores pointers). */
        for (size_t k = 0; k < r->n_servers && n_desc < MAXV; k++) {
            const pb_server *sv = &r->servers[k];
            char buf[256];
            snprintf(buf, sizeof buf, "%s%s%s%s%s", sv->server_header ? sv->server_header :
                     sv->version ? "version" : "", sv->version ? " " : "",
                     sv->version ? sv->version : "", sv->dialect ? ", dialect " : "",
                     sv->dialect ? sv->dialect : "");
            int seen = 0;
            for (size_t q = 0; q < n_desc && !seen; q++)
                seen = strcmp(desc[q], buf) == 0;
            if (!seen && (desc[n_desc] = strdup(buf)) != NULL)
                distinct_add(&servers, desc[n_desc++]);
        }
        if (r->wall_origin) {
            if (!d0 || strcmp(r->wall_origin, d0) < 0)
                d0 = r->wall_origin;
            if (!d1 || strcmp(r->wall_origin, d1) > 0)
                d1 = r->wall_origin;
        }
        if (r->emu_time_scale > 0) {
            ts_lo = n_emu == 0 || r->emu_time_scale < ts_lo ? r->emu_time_scale : ts_lo;
            ts_hi = n_emu == 0 || r->emu_time_scale > ts_hi ? r->emu_time_scale : ts_hi;
            n_emu++;
        }
    }
    /* The manifest's host line ("vm (Linux ... x86_64, 2 CPUs)") says more
     * than a run's host name: it replaces the name it starts with. */
    distinct mhosts = {0};
    for (size_t i = 0; i < ds->n_manifests; i++) {
        distinct_add(&mhosts, ds->manifests[i].host);
        distinct_add(&versions, ds->manifests[i].version);
    }
    for (size_t i = 0; i < hosts.n; i++) {
        size_t l = strlen(hosts.v[i]);
        int covered = 0;
        for (size_t k = 0; k < mhosts.n && !covered; k++)
            covered = strncmp(mhosts.v[k], hosts.v[i], l) == 0 && mhosts.v[k][l] == ' ';
        if (!covered)
            distinct_add(&mhosts, hosts.v[i]);
    }
    hosts = mhosts;
    fputs("## What was measured\n\n", o);
    fputs("- Model: ", o);
    distinct_print(o, &models, "not recorded in these files");
    if (amin == amax)
        fprintf(o, "; %zu agents per run", amax);
    else if (ds->n_runs)
        fprintf(o, "; %zu to %zu agents per run", amin, amax);
    fputs("; endpoints: ", o);
    distinct_print(o, &endpoints, "not recorded");
    if (servers.n) {
        fputs(" (server: ", o);
        distinct_print(o, &servers, "");
        fputc(')', o);
    }
    for (size_t q = 0; q < n_desc; q++)
        free(desc[q]);
    fputs(".\n", o);
    /* Groups are few (runtimes x configs): a quadratic count is fine. */
    size_t ncfg = 0;
    for (size_t g = 0; g < a->n_groups; g++) {
        size_t h = 0;
        while (h < g && strcmp(a->groups[h].config, a->groups[g].config) != 0)
            h++;
        ncfg += h == g;
    }
    fprintf(o, "- Runs loaded: %zu (%zu valid); %zu configs; %zu runtimes: ", ds->n_runs,
            pb_dataset_n_valid(ds), ncfg, a->n_rts);
    for (size_t i = 0; i < a->n_rts; i++) {
        if (i)
            fputs(", ", o);
        pb_md_escape(o, a->rts[i].runtime);
    }
    if (inputs.n > 1) {
        fputs("; inputs: ", o);
        distinct_print(o, &inputs, "");
    }
    fputs(".\n", o);
    if (hosts.n || d0 || versions.n) {
        fputs("- Collected on ", o);
        distinct_print(o, &hosts, "an unrecorded host");
        if (d0) {
            fputs(", ", o);
            pb_md_escape(o, d0);
            if (strcmp(d0, d1) != 0) {
                fputs(" to ", o);
                pb_md_escape(o, d1);
            }
        }
        if (versions.n) {
            fputs(", by collect ", o);
            distinct_print(o, &versions, "");
        }
        fputs(".\n", o);
    }
    summary_collector_cost(o, ds);
    summary_not_streamed(o, ds);
    pb_report_exec_how(o, res);
    if (n_emu) {
        fprintf(o, "- Emulated: %zu runs against ollama-emu", n_emu);
        if (presets.n) {
            fputs(" (preset ", o);
            distinct_print(o, &presets, "");
            fputc(')', o);
        }
        if (ts_lo == ts_hi && ts_lo == 1)
            fputs(", in real time.\n", o);
        else if (ts_lo == ts_hi)
            fprintf(o, ", time scale %gx: durations are %g times shorter and rates %g times "
                       "higher than the emulated GPU's; speedups and efficiencies are "
                       "ratios and unaffected.\n", ts_lo, ts_lo, ts_lo);
        else
            fprintf(o, ", time scales %gx to %gx: durations and rates of different runs "
                       "are not comparable; ratios (speedup, efficiency, overlap) are.\n",
                    ts_lo, ts_hi);
    }
    size_t by_fmt[3] = {0};
    for (size_t i = 0; i < ds->n_runs; i++)
        by_fmt[ds->runs[i].format]++;
    fprintf(o, "- Files: %zu examined (runs:", ds->files_seen);
    for (int f = 0, first = 1; f < 3; f++)
        if (by_fmt[f]) {
            fprintf(o, "%s %zu %s", first ? "" : ",", by_fmt[f],
                    fmt_name((pb_source_format)f));
            first = 0;
        }
    fprintf(o, "), %zu skipped", ds->n_skips);
    if (ds->files_duplicate)
        fprintf(o, ", %zu summary.json repeating a run", ds->files_duplicate);
    size_t ninv = ds->n_runs - pb_dataset_n_valid(ds);
    if (ninv)
        fprintf(o, ", %zu runs marked invalid and excluded", ninv);
    fputs(" (see the full report's Data quality).\n\n", o);
}

/* One row of the answer: the speedup once, with n, N, its interval and
 * the verdict the interval supports. */
static void answer_line(FILE *o, const pb_answer_rt *r)
{
    fputs("- **", o);
    pb_md_escape(o, r->runtime);
    fprintf(o, "** (N = %.0f, n = %zu): ", r->n_agents, r->n);
    if (r->verdict == PB_VERDICT_SINGLE) {
        fprintf(o, "speedup %.2fx from a single run: too few runs for an interval or a "
                   "verdict.\n", r->estimate);
        return;
    }
    if (r->unbounded) {
        fprintf(o, "speedup %.2fx, no interval (the reference's wall time is not "
                   "distinguishable from 0 at this n, Fieller): **%s**.\n", r->estimate,
                pb_answer_verdict_word(r->verdict));
        return;
    }
    /* A bound within 0.005 of 1x would print as 1.00 beside "slower":
     * one more digit shows which side it is on. */
    int d = fabs(r->lo - 1) < 0.005 || fabs(r->hi - 1) < 0.005 ? 3 : 2;
    fprintf(o, "speedup **%.*fx** [%.*f, %.*f]: **%s**", d, r->estimate, d, r->lo, d, r->hi,
            pb_answer_verdict_word(r->verdict));
    switch (r->verdict) {
    case PB_VERDICT_SAME: fputs(" as one after the other (within 2%)", o); break;
    case PB_VERDICT_SLOWER: fputs(" than one after the other", o); break;
    case PB_VERDICT_FASTER: fprintf(o, " than one after the other (ideal: %.0fx)", r->n_agents);
        break;
    case PB_VERDICT_INCONCLUSIVE: fputs(" (the interval includes 1x)", o); break;
    default: break;
    }
    fputs(".\n", o);
}

/* hyperfine's lines (pb_answer_vs): per N, the fastest runtime that is no
 * control against the others, the ratio computed directly between the
 * two. */
static void answer_compare(FILE *o, const pb_answer *ans)
{
    long fast = -1;
    for (size_t i = 0; i < ans->n_vs; i++) {
        const pb_answer_vs *v = &ans->vs[i];
        if (!isfinite(v->ratio))
            continue;
        const pb_answer_rt *f = &ans->rts[v->fast], *sl = &ans->rts[v->slow];
        if ((long)v->fast != fast) {
            fast = (long)v->fast;
            fputc('\n', o);
            pb_md_code(o, f->runtime, 0);
            if (ans->several_n)
                fprintf(o, " (N = %.0f)", f->n_agents);
            fputs(" ran\n", o);
        }
        if (isfinite(v->pm))
            fprintf(o, "- %.3f ± %.3f times faster than ", v->ratio, v->pm);
        else
            fprintf(o, "- %.3f times faster than ", v->ratio);
        pb_md_code(o, sl->runtime, 0);
        if (!v->significant)
            fputs(isfinite(v->lo) ? " (~ not significant: 95% CI includes 1)"
                                  : " (~ no interval)", o);
        fputc('\n', o);
    }
    if (fast >= 0)
        fputs("\n± is one standard error of the ratio (delta method); ~ marks a ratio whose "
              "95% interval includes 1.\n", o);
}

/* The "cannot tell" paragraph: no solo phases and no reference. */
static void answer_none(FILE *o, const pb_dataset *ds, const pb_analysis *a)
{
    fputs("**These data cannot tell true parallel efficiency.** They have no solo "
          "phases (each agent alone) and no `--sequential-ref`, so nothing says how "
          "long the same work takes one after the other. The original metric "
          "(efficiency, in the full report) only measures how balanced the agents' "
          "durations were inside the concurrent run: it reads near 100% even when "
          "the server serves the agents one at a time. To get the answer, collect "
          "with solo phases (`collect` without `--no-solo`) or name a runtime known "
          "to serialise the agents with `--sequential-ref RUNTIME`.\n\n", o);
    /* A runtime whose original efficiency sits at 100/N with almost no
     * spread ran its agents one after the other: name it (TR115's
     * async-std reads 50.0%). */
    int named = 0;
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        const pb_group *g = &a->groups[r->first_group];
        double n = g->n ? (double)ds->runs[g->runs[0]].n_agents : 0;
        if (r->eff.n < 2 || n < 2 || !(fabs(r->eff.mean - 100 / n) < 1) || !(r->eff.sd < 1))
            continue;
        fputs(named++ ? ", " : "A candidate reference, whose runs read 100/N efficiency "
              "(its agents ran one after the other): ", o);
        pb_md_code(o, r->runtime, 0);
    }
    if (named)
        fputs(".\n\n", o);
}

/* The smallest agent count of the answer above prev (INFINITY: none). */
static double answer_next_n(const pb_answer *ans, double prev)
{
    double nx = INFINITY;
    for (size_t i = 0; i < ans->n_rts; i++)
        if (ans->rts[i].n_agents > prev && ans->rts[i].n_agents < nx)
            nx = ans->rts[i].n_agents;
    return nx;
}

static void front_answer(FILE *o, const pb_result *res)
{
    const pb_analysis *a = &res->an;
    const pb_answer *ans = &res->ans;
    const char *seq = res->opts.sequential_ref;
    fputs("## The answer: together vs one after the other\n\n", o);
    if (a->n_rts == 0) {
        fputs("No valid run: nothing to answer.\n\n", o);
        return;
    }
    if (ans->n_answered == 0) {
        answer_none(o, res->ds, a);
        return;
    }
    /* Server settings (issue 21): per setting, not pooled over them. */
    if (pb_report_settings_answer(o, res))
        return;
    const char *est = NULL;
    if (ans->several_n) {
        /* A sweep: one row per runtime and N, as a table (rows grow with N). */
        fputs("| N | runtime | n | speedup [95% CI] | verdict |\n|---:|---|---:|---:|---|\n", o);
        /* Grouped by N: runtimes of one N are compared with each other. */
        for (double nx = answer_next_n(ans, 0); isfinite(nx); nx = answer_next_n(ans, nx))
            for (size_t i = 0; i < ans->n_rts; i++) {
                const pb_answer_rt *r = &ans->rts[i];
                if (!r->estimator || r->n_agents != nx)
                    continue;
                fprintf(o, "| %.0f | ", r->n_agents);
                pb_md_escape(o, r->runtime);
                fprintf(o, " | %zu | ", r->n);
                if (pb_answer_self_ref(r))
                    fputs("1 (the reference) | |\n", o);
                else if (isfinite(r->lo) && isfinite(r->hi))
                    fprintf(o, "%.2fx [%.2f, %.2f] | %s |\n", r->estimate, r->lo, r->hi,
                            pb_answer_verdict_word(r->verdict));
                else
                    fprintf(o, "%.2fx | %s |\n", r->estimate,
                            pb_answer_verdict_word(r->verdict));
                est = r->estimator;
            }
    }
    for (size_t i = 0; i < ans->n_rts && !ans->several_n; i++) {
        const pb_answer_rt *r = &ans->rts[i];
        if (!r->estimator)
            continue;
        if (pb_answer_self_ref(r)) {
            fputs("- **", o);
            pb_md_escape(o, r->runtime);
            fprintf(o, "** (N = %.0f): the sequential reference (1x by definition).\n",
                    r->n_agents);
            continue;
        }
        answer_line(o, r);
        est = r->estimator;
    }
    for (size_t i = 0; i < ans->n_rts; i++)
        if (!ans->rts[i].estimator) {
            fputs("- **", o);
            pb_md_escape(o, ans->rts[i].runtime);
            fputs("**: no sequential baseline (no solo phases", o);
            fputs(seq ? " and no reference run in its configs).\n" : ").\n", o);
        }
    answer_compare(o, ans);
    fprintf(o, "\nSpeedup = time one after the other / time together (N agents: ideal N). "
               "Estimator: %s", pb_answer_estimator_name(est));
    if (seq) {
        fputs("; reference: ", o);
        pb_md_code(o, seq, 0);
    }
    fputs(". Verdict: *slower*/*faster* only when the whole 95% interval is on one side "
          "of 1x, *the same* within 2% of 1x, else *inconclusive*.\n\n", o);
}

/* The warnings (pb_warn), one line each, or that there are none. */
static void front_warnings(FILE *o, const pb_result *res)
{
    const pb_warnings *w = &res->warn;
    fputs("## Warnings\n\n", o);
    if (res->an.n_dropped)
        fprintf(o, "- `--drop-first %zu`: the first %zu run(s) of every runtime x config group "
                   "were dropped before every statistic (%zu runs).\n", res->opts.drop_first,
                res->opts.drop_first, res->an.n_dropped);
    for (size_t i = 0; i < w->n; i++) {
        fputs("- ", o);
        pb_md_escape(o, w->v[i].text);
        fputc('\n', o);
    }
    if (w->n == 0 && !res->an.n_dropped)
        fputs("None: no speedup above N, no departing solo phase, no first-run effect, no "
              "disagreeing tests, no differing setting, no runtime collected in one block, no "
              "verdict a robustness check flips.\n", o);
    fputc('\n', o);
}

/* The runtime the front page's comparisons table compares with: --baseline,
 * else the control (--sequential-ref, a runtime named "serial"), else the
 * first by name. */
static long front_baseline(const pb_result *res)
{
    const pb_analysis *a = &res->an;
    if (a->baseline >= 0)
        return a->baseline;
    if (a->seqref >= 0)
        return a->seqref;
    long s = pb_analysis_find_rt(a, "serial");
    return s >= 0 ? s : (a->n_rts ? 0 : -1);
}

static void cmp_value(FILE *o, const pb_metric_info *mi, double v)
{
    if (!isfinite(v))
        fputs("n/a", o);
    else
        fprintf(o, fabs(v) >= 100 ? "%.1f" : fabs(v) >= 10 ? "%.2f" : "%.3g", v);
    if (isfinite(v) && mi->unit && mi->unit[0] && strcmp(mi->unit, "x") != 0)
        fprintf(o, " %s", mi->unit);
    else if (isfinite(v) && mi->unit && strcmp(mi->unit, "x") == 0)
        fputc('x', o);
}

/* benchstat's table: per metric and candidate runtime, the baseline's and
 * the candidate's centre, the change with its 95% interval and the
 * Holm-adjusted p; "~" when not significant (p >= 0.05). */
enum { FRONT_ROWS = 24, FRONT_LINES = 100 };

static void front_comparisons(FILE *o, const pb_result *res, size_t max_rows)
{
    const pb_analysis *a = &res->an;
    long b = front_baseline(res);
    if (b < 0 || a->n_rts < 2)
        return;
    fputs("## Comparisons against ", o);
    pb_md_code(o, a->rts[b].runtime, 0);
    fputs("\n\n", o);
    if (res->ans.several_n) {
        fputs("The runtimes' runs hold several agent counts: comparisons pooled over N "
              "would mix different quantities, so they are left to the per-N answer above "
              "and the scaling section of the full report.\n\n", o);
        return;
    }
    if (res->st.n_names >= 2)
        fputs("Over every server setting together (each runtime ran the same settings); the "
              "answer per setting is above.\n\n", o);
    fputs("| metric | runtime | baseline | candidate | delta [95% CI] | p (Holm) |\n"
          "|---|---|---:|---:|---:|---:|\n", o);
    /* The front page stays short: at most max_rows rows (metric-major,
     * so the first metrics are complete); the rest is in the full report. */
    size_t rows = 0, more = 0;
    for (size_t i = 0; i < a->n_cmps; i++) {
        const pb_comparison *c = &a->cmps[i];
        if (c->a != (size_t)b && c->b != (size_t)b)
            continue;
        if (!isfinite(c->estimate) || !isfinite(c->p_holm))
            continue;
        if (rows == max_rows) {
            more++;
            continue;
        }
        /* Oriented candidate vs baseline: swap a pair stored the other way. */
        int flip = c->a == (size_t)b;
        size_t cand = flip ? c->b : c->a;
        const pb_metric_info *mi = &pb_metrics[c->metric];
        double est = c->estimate, lo = c->lo, hi = c->hi;
        if (flip && c->log_scale) {
            est = 1 / c->estimate, lo = 1 / c->hi, hi = 1 / c->lo;
        } else if (flip) {
            est = -c->estimate, lo = -c->hi, hi = -c->lo;
        }
        fprintf(o, "| %s | ", mi->name);
        pb_md_escape(o, a->rts[cand].runtime);
        fputs(" | ", o);
        cmp_value(o, mi, a->rts[b].mcenter[c->metric]);
        fputs(" | ", o);
        cmp_value(o, mi, a->rts[cand].mcenter[c->metric]);
        fputs(" | ", o);
        if (c->p_holm >= 0.05)
            fputs("~ ", o);
        if (c->log_scale)
            fprintf(o, "%+.1f%% [%+.1f%%, %+.1f%%]", (est - 1) * 100, (lo - 1) * 100,
                    (hi - 1) * 100);
        else {
            /* Two significant digits of the interval's half-width. */
            double half = (hi - lo) / 2;
            int d = half > 0 ? 1 - (int)floor(log10(half)) : 2;
            d = d < 0 ? 0 : d > 6 ? 6 : d;
            if (fabs(est) < 0.5 * pow(10, -d))
                est = 0;   /* no "-0.000" */
            fprintf(o, "%+.*f [%+.*f, %+.*f]", d, est, d, lo, d, hi);
        }
        if (c->p_holm < 0.001)
            fputs(" | <0.001 |\n", o);
        else
            fprintf(o, " | %.3f |\n", c->p_holm);
        rows++;
    }
    if (!rows)
        fputs("| (no metric with values on both sides) | | | | | |\n", o);
    if (more)
        fprintf(o, "\n%zu more rows (further metrics) in the full report's comparisons of "
                   "runtimes.\n", more);
    fputs("\nbaseline / candidate: geometric mean over runs for ratio metrics (delta in %), "
          "else the mean (delta in units); Welch 95% interval; p Holm-adjusted over all "
          "pairs of runtimes per metric; `~` = not significant (p >= 0.05). All pairs, "
          "Mann-Whitney, effect sizes and power: full report.\n\n", o);
}

static void section_aggregate(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                              const pb_report_opts *op)
{
    fputs("### Aggregate efficiency per runtime\n\n"
          "Two aggregations, labelled: **over config means** (as the original "
          "study's script: each config's mean efficiency first) and **over "
          "runs** (every valid run counts once).\n\n", o);
    fputs("Over config means:\n\n"
          "| Runtime | Configs | Peak: best config mean % | Best config "
          "| Mean of config means % | SD of config means pp "
          "| Peak speedup (best config) |", o);
    for (size_t k = 0; k < op->n_refs; k++) {
        fputs(" vs ", o);
        pb_md_escape(o, op->refs[k].name);
        fputs(" (pp) |", o);
    }
    fputs("\n|---|---:|---:|---|---:|---:|---:|", o);
    for (size_t k = 0; k < op->n_refs; k++)
        fputs("---:|", o);
    fputc('\n', o);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        fputs("| ", o);
        pb_md_escape(o, r->runtime);
        fprintf(o, " | %zu", r->n_groups);
        cell(o, "%.2f", r->cfg_peak);
        fputs(" | ", o);
        pb_md_config(o, op, r->cfg_peak_config);
        cell(o, "%.2f", r->cfg_mean);
        cell(o, "%.2f", r->cfg_sd);
        cell(o, "%.3fx", r->cfg_peak_speedup);
        fputs(" |", o);
        for (size_t k = 0; k < op->n_refs; k++) {
            fputc(' ', o);
            num(o, "%+.2f", r->cfg_peak - op->refs[k].value);
            fputs(" |", o);
        }
        fputc('\n', o);
    }
    if (op->n_refs)
        fputs("\n\"vs NAME\" = peak (best config mean) − NAME's value, in "
              "percentage points: negative means below the reference.\n", o);
    /* The former "confidence intervals" table repeated this one: its
     * columns are merged here. */
    fputs("\nOver runs:\n\n"
          "| Runtime | Runs | Mean % | SD pp | Median % | Min % | Max % "
          "| 95% CI (t) | 95% CI (bootstrap) | Peak run % | Peak run "
          "| Mean speedup [95% CI t] |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n", o);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        const pb_summary *e = &r->eff, *sp = &r->speedup;
        fputs("| ", o);
        pb_md_escape(o, r->runtime);
        fprintf(o, " | %zu", e->n);
        cell(o, "%.2f", e->mean);
        cell(o, "%.2f", e->sd);
        cell(o, "%.2f", e->median);
        cell(o, "%.2f", e->min);
        cell(o, "%.2f", e->max);
        fputs(" | ", o);
        ci(o, e->ci_lo, e->ci_hi);
        fputs(" | ", o);
        ci(o, e->boot_lo, e->boot_hi);
        cell(o, "%.2f", r->run_peak);
        fputs(" | ", o);
        if (!isnan(r->run_peak)) {
            const pb_run *pr = &ds->runs[r->run_peak_idx];
            pb_md_config(o, op, pr->config);
            fprintf(o, " run %d", pr->run_index);
        }
        cell(o, "%.3fx", sp->mean);
        if (!isnan(sp->ci_lo))
            fprintf(o, " [%.3f, %.3f]", sp->ci_lo, sp->ci_hi);
        fputs(" |\n", o);
    }
    fputc('\n', o);
}

static void section_configs(FILE *o, const pb_analysis *a, const pb_report_opts *op)
{
    fputs("### Per-config efficiency\n\n"
          "| Runtime | Config | n | Mean ± SD (%) | Median (%) | Min (%) | Max (%) "
          "| 95% CI (t) | 95% CI (bootstrap) | Mean speedup |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", o);
    for (size_t i = 0; i < a->n_groups; i++) {
        const pb_group *g = &a->groups[i];
        fputs("| ", o);
        pb_md_escape(o, g->runtime);
        fputs(" | ", o);
        pb_md_config(o, op, g->config);
        fprintf(o, " | %zu | ", g->eff.n);
        num(o, "%.2f", g->eff.mean);
        fputs(" ± ", o);
        num(o, "%.2f", g->eff.sd);
        cell(o, "%.2f", g->eff.median);
        cell(o, "%.2f", g->eff.min);
        cell(o, "%.2f", g->eff.max);
        fputs(" | ", o);
        ci(o, g->eff.ci_lo, g->eff.ci_hi);
        fputs(g->eff.clipped ? " (clipped)" : "", o);
        fputs(" | ", o);
        ci(o, g->eff.boot_lo, g->eff.boot_hi);
        cell(o, "%.3fx", g->speedup.mean);
        fputs(" |\n", o);
    }
    fputc('\n', o);
}

/* Runtime r's configs by mean efficiency, best first (the few configs of
 * one runtime: insertion sort). */
static void rank_configs(const pb_analysis *a, const pb_rt *r, size_t *idx)
{
    for (size_t k = 0; k < r->n_groups; k++) {
        size_t gi = r->first_group + k, j = k;
        while (j > 0 && a->groups[gi].eff.mean > a->groups[idx[j - 1]].eff.mean) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = gi;
    }
}

static void section_top3(FILE *o, const pb_analysis *a)
{
    fputs("### Top 3 configs per runtime (by mean efficiency)\n\n", o);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        size_t *idx = malloc((r->n_groups ? r->n_groups : 1) * sizeof *idx);
        if (!idx)
            continue;
        rank_configs(a, r, idx);
        fputs("- **", o);
        pb_md_escape(o, r->runtime);
        fputs("**: ", o);
        /* Configs whose means print the same (0.1 pp) are one entry: three
         * "ties" listed as a top 3 (the serial control) tell nothing. */
        size_t shown = 0, k = 0;
        while (k < r->n_groups && shown < 3) {
            const pb_group *g = &a->groups[idx[k]];
            size_t tie = 1;
            while (k + tie < r->n_groups &&
                   fabs(a->groups[idx[k + tie]].eff.mean - g->eff.mean) < 0.05)
                tie++;
            char *span = NULL;
            size_t spanlen = 0;
            FILE *m = open_memstream(&span, &spanlen);
            if (!m)
                break;
            if (tie > 1 && tie == r->n_groups)
                fprintf(m, "all %zu configs", tie);
            else if (tie > 1)
                fprintf(m, "%s and %zu more", g->config, tie - 1);
            else
                fputs(g->config, m);
            fputs(": ", m);
            num(m, "%.1f%%", g->eff.mean);
            if (tie == 1) {
                fputs(" ± ", m);
                num(m, "%.1fpp", g->eff.sd);
            }
            fputs(" (", m);
            num(m, "%.2fx", g->speedup.mean);
            fputs(tie > 1 ? " speedup, tied)" : " speedup)", m);
            fclose(m);
            if (shown)
                fputs("; ", o);
            pb_md_code(o, span, 0);
            free(span);
            shown++;
            k += tie;
        }
        free(idx);
        fputc('\n', o);
    }
    fputc('\n', o);
}

static void section_stability(FILE *o, const pb_analysis *a, const pb_report_opts *op)
{
    fputs("### Variance and stability\n\n"
          "| Runtime | SD of config means (pp) | Mean of per-config SDs (pp) "
          "| Most stable config (SD pp) | Least stable config (SD pp) |\n"
          "|---|---:|---:|---|---|\n", o);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        fputs("| ", o);
        pb_md_escape(o, r->runtime);
        cell(o, "%.3f", r->cfg_sd);
        cell(o, "%.3f", r->cfg_mean_sd);
        fputs(" | ", o);
        if (r->most_stable) {
            pb_md_config(o, op, r->most_stable);
            fprintf(o, " (%.3f)", r->most_stable_sd);
        } else {
            fputs("n/a", o);
        }
        fputs(" | ", o);
        if (r->least_stable) {
            pb_md_config(o, op, r->least_stable);
            fprintf(o, " (%.3f)", r->least_stable_sd);
        } else {
            fputs("n/a", o);
        }
        fputs(" |\n", o);
    }
    fputc('\n', o);
}

static void section_quality(FILE *o, const pb_dataset *ds)
{
    fputs("## Data quality\n\n", o);
    size_t ninv = ds->n_runs - pb_dataset_n_valid(ds);
    for (size_t i = 0; i < ds->n_notes; i++) {   /* loader notes (pb_model.h) */
        fputs("- Note: ", o);
        pb_md_escape(o, ds->notes[i]);
        fputs(i + 1 == ds->n_notes ? "\n\n" : "\n", o);
    }
    if (ninv == 0 && ds->n_skips == 0) {
        fputs("No invalid runs and no skipped files.\n\n", o);
        return;
    }
    /* Lists, not tables: a path and a reason each run to 200 characters,
     * and a list item wraps where a table row cannot. */
    if (ninv) {
        fprintf(o, "### Invalid runs (loaded, excluded from statistics): %zu\n\n", ninv);
        for (size_t i = 0; i < ds->n_runs; i++) {
            const pb_run *r = &ds->runs[i];
            if (r->valid)
                continue;
            fputs("- ", o);
            pb_md_escape(o, r->runtime);
            fputs(" / ", o);
            pb_md_escape(o, r->config);
            fprintf(o, " run %d (", r->run_index);
            pb_md_escape(o, r->path);
            fputs("): ", o);
            pb_md_escape(o, r->invalid_reason ? r->invalid_reason : "(no reason given)");
            fputc('\n', o);
        }
        fputc('\n', o);
    }
    if (ds->n_skips) {
        fprintf(o, "### Skipped files: %zu\n\n", ds->n_skips);
        for (size_t i = 0; i < ds->n_skips; i++) {
            fputs("- ", o);
            pb_md_escape(o, ds->skips[i].path);
            fputs(": ", o);
            pb_md_escape(o, ds->skips[i].reason);
            fputc('\n', o);
        }
        fputc('\n', o);
    }
}

static void section_methods(FILE *o, const pb_report_opts *op)
{
    (void)op;   /* no bootstrap is printed (pb_stats.h): nothing of op shown */
    fprintf(o,
"## Definitions and methods\n\n"
"- **Efficiency** (the original study's metric): concurrency speedup / N agents × 100, "
"where speedup = sum of the agents' durations inside the concurrent run / concurrent wall time. "
"TR115 Rust files: `summary.efficiency_percent` and `summary.concurrency_speedup` as stated; "
"TR115 Python files: speedup / 2 × 100; parbench traces: computed from the `concurrent` phase.\n"
"- Runs marked `valid: false` are listed under Data quality and excluded from every statistic.\n"
"- **n**: runs used; **SD**: sample standard deviation (divisor n − 1); **median**: "
"quantile type 7 (linear interpolation, as R's default).\n"
"- **95%% CI (t)**: mean ± t(0.975, n − 1) × SD / √n (`gsl_cdf_tdist_Pinv`).\n"
"- **95%% CI (bootstrap)**: n/a: no bootstrap interval reached 94%% coverage in the committed "
"simulation (see below); read the t interval.\n"
"- **Over config means** (the original script): each config's mean first; peak = the largest "
"config mean; mean and SD (n − 1) of the config means; peak speedup = largest config-mean speedup. "
"**Over runs**: every valid run counts once; single-run peak = the largest run.\n"
"- **Δ mean** = mean(A) − mean(B); **Welch CI/test**: SE = √(s²A/nA + s²B/nB), "
"Welch–Satterthwaite degrees of freedom, two-sided p.\n"
"- **Mann-Whitney U**: U of sample A (mid-ranks for ties). Two-sided p from the exact null distribution when "
"both samples have ≤ %d values and no ties; otherwise the normal approximation with tie-corrected variance "
"and continuity correction 0.5.\n"
"- **Cohen's d** = Δ mean / pooled SD, pooled SD = √(((nA−1)s²A + (nB−1)s²B)/(nA+nB−2)). "
"**Hedges' g** = J·d, J = 1 − 3/(4(nA+nB) − 9); 95%% CI g ± 1.96·√((nA+nB)/(nA·nB) + g²/(2(nA+nB))) "
"(Hedges & Olkin large-sample variance).\n"
"- **Holm**: step-down Holm adjustment within each metric's family of all pairs "
"(Welch, Mann-Whitney and van Elteren adjusted separately).\n"
"- Variance of the mean and SD use GSL's running-mean and two-pass algorithms, which pass the NIST StRD "
"NumAcc1–4 accuracy benchmarks (tested).\n\n",
            PB_MW_EXACT_MAX);
}

/* Prose lines longer than WRAP are broken at spaces so the Markdown source
 * reads on a laptop screen (a single newline inside a paragraph renders as
 * a space). Tables, headings, code blocks and lines with links are left
 * alone: a break there would change what they render. A list item's
 * continuation is indented by two spaces so it stays in the item. */
enum { WRAP = 100 };
static int has2(const char *p, size_t n, const char *two)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == two[0] && p[i + 1] == two[1])
            return 1;
    return 0;
}

static void reflow(FILE *out, const char *md, size_t len)
{
    int fence = 0;
    const char *p = md, *end = md + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll >= 3 && strncmp(p, "```", 3) == 0)
            fence = !fence;
        int keep = fence || ll <= WRAP || p[0] == '|' || p[0] == '#' || p[0] == ' ' ||
                   has2(p, ll, "](") || has2(p, ll, "``");
        if (keep) {
            fwrite(p, 1, ll, out);
        } else {
            const char *indent = ll > 2 && p[0] == '-' && p[1] == ' ' ? "  " : "";
            const char *q = p, *stop = p + ll;
            size_t col = 0;
            while (q < stop) {
                const char *sp = memchr(q, ' ', (size_t)(stop - q));
                const char *w_end = sp ? sp : stop;
                size_t wl = (size_t)(w_end - q);
                if (col > 0 && col + 1 + wl > WRAP) {
                    fputc('\n', out);
                    fputs(indent, out);
                    col = strlen(indent);
                } else if (col > 0) {
                    fputc(' ', out);
                    col++;
                }
                fwrite(q, 1, wl, out);
                col += wl;
                q = sp ? sp + 1 : stop;
            }
        }
        if (nl)
            fputc('\n', out);
        p = nl ? nl + 1 : end;
    }
}

static int render(FILE *out, const pb_report_opts *op,
                  int (*body)(FILE *, const pb_report_opts *))
{
    char *md = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&md, &len);
    if (!m)
        return -1;
    /* Config names as table cells: the renderer's own presentation. */
    pb_report_opts o2 = *op;
    const char **cfgs = pb_md_config_names(&op->res->an, &o2.n_cfg, &o2.cfg_abbrev);
    o2.cfg_names = cfgs;
    int rc = cfgs ? body(m, &o2) : -1;
    if (!cfgs)
        fprintf(stderr, "analyze: out of memory listing the configs\n");
    if (fclose(m) != 0)
        rc = -1;
    if (rc == 0)
        reflow(out, md, len);
    free(md);
    free(cfgs);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

static void header(FILE *o, const pb_report_opts *op, const char *title)
{
    fprintf(o, "# %s\n\n", title);
    fprintf(o, "Generated by `analyze` %s from", PARBENCH_VERSION);
    for (int i = 0; i < op->n_inputs; i++) {
        fputc(' ', o);
        pb_md_code(o, op->inputs[i], 0);
    }
    fputc('.', o);
}

/* The front page: the answer first; what a reader acts on, nothing else. */
static int front_body(FILE *out, const pb_report_opts *op)
{
    const pb_result *res = op->res;
    const pb_dataset *ds = res->ds;
    const pb_analysis *an = &res->an;
    header(out, op, "parbench analysis");
    if (op->full_name) {
        /* The link on a line of its own: prose lines are wrapped, lines
         * holding links are not. */
        fputs(" Everything else (all-pairs tests, ANOVA, effect sizes, power, order "
              "effects, per-config tables, the original study's tables, data quality, "
              "definitions) is in the full report:\n", out);
        fputs("[", out);
        pb_md_escape(out, op->full_name);
        fputs("](", out);
        pb_md_link(out, ".", op->full_name, NULL);
        fputs(").\n\n", out);
    } else {
        fputs(" For the full report (all-pairs tests, ANOVA, per-config tables, the original "
              "study's tables, data quality, definitions): run with `-o FILE` (writes "
              "FILE-full.md beside it) or `--full FILE`.\n\n", out);
    }
    front_answer(out, res);
    if (ds->n_runs == 0)
        fputs("**No run could be loaded.** Check the paths given and the Data quality "
              "section of the full report.\n\n", out);
    else if (an->n_rts == 0)
        fputs("**No valid run**: every loaded run is marked invalid.\n\n", out);
    if (an->n_rts > 0)
        front_warnings(out, res);
    summary_measured(out, res);
    /* An agent-count sweep: how the answer changes with N is the answer. */
    pb_report_scaling_section(out, &res->sc, 1);
    if (an->n_rts > 0)
        front_comparisons(out, res, op->front_rows ? op->front_rows - 1 : FRONT_ROWS);
    if (pb_report_settings_chart(out, op)) {
        /* the settings chart stands in for the pooled speedup chart */
    } else if (op->speedup_chart) {
        const char *dir = op->charts_link ? op->charts_link : op->charts_dir;
        fputs("## Speedup\n\n![Measured speedup per runtime](", out);
        pb_md_link(out, dir, "speedup", "png");
        fputs(")\n\n", out);
    }
    return ferror(out) ? -1 : 0;
}

/* The full report: every table and section the front page leaves out. */
static int full_body(FILE *out, const pb_report_opts *op)
{
    const pb_result *res = op->res;
    const pb_dataset *ds = res->ds;
    const pb_analysis *an = &res->an;
    header(out, op, "parbench analysis: full report");
    fputs(" The answer, warnings and the main comparisons are on the front page "
          "(report.md).\n\n", out);
    /* An agent-count sweep: a table over a runtime's runs would pool
     * different N (N = 1 then reads as the best config, trivially 100%);
     * only the per-(runtime, config) tables, each one N, are printed. */
    int pooled = res->ans.several_n;
    if (an->n_rts > 0 && pooled)
        fputs("## Agent-count sweep: tables per runtime left out\n\n"
              "The runs hold several agent counts. Every table over a runtime's runs (the "
              "measured metrics per runtime, the comparisons of runtimes, the ANOVA, the "
              "original study's aggregates, top configs and stability) would pool different "
              "N, so they are left out; the answer per N and the scaling section are on the "
              "front page, and the per-config tables below hold one N each (configs named "
              "`<config>-n<N>`). Compare configs of one N with each other only.\n\n", out);
    if (an->n_rts > 0) {
        if (!pooled) {
            fputs("## Comparisons (measured metrics)\n\n", out);
            pb_report_true_part(out, op, PB_TRUE_COMPARE);
            /* The design-aware tests (statistics issue): runtimes compared
             * on every metric, then the runtime x config design. */
            pb_report_comparisons(out, ds, an, op);
            pb_report_design(out, ds, an, op);
        }
        fputs("## Per-config details\n\n", out);
        pb_md_config_legend(out, op);
        pb_report_true_part(out, op, PB_TRUE_CONFIGS);
        pb_report_order_outliers(out, ds, an, op);
        /* Issue 12 (report/pb_report_scaling.c): each prints nothing when
         * the data has nothing for it. */
        pb_report_scaling_section(out, &res->sc, 0);
        pb_report_workflow(out, ds);
        pb_report_arrival(out, ds);
        pb_report_sampling(out, ds);
        pb_report_servers(out, op); /* issue 21: report/pb_report_servers.c */
        pb_report_exec_section(out, res); /* issue 18: report/pb_report_exec.c */
        fputs("## The original study's metric (TR115 tables)\n\n"
              "The tables of the original study, regenerated exactly from the raw runs. "
              "Their *efficiency* is the original metric: the agents' summed durations "
              "over N x the concurrent wall, i.e. how balanced the agents' durations "
              "were, not how much faster they finished than one after the other (see "
              "the front page for that).\n\n", out);
        if (op->cfg_abbrev)
            fputs("Configs are abbreviated as in the legend of the per-config details.\n\n", out);
        if (!pooled)
            section_aggregate(out, ds, an, op);
        section_configs(out, an, op);
        if (!pooled) {
            section_top3(out, an);
            section_stability(out, an, op);
        }
        if (op->charts_md) {
            fputs("## Charts\n\n", out);
            fputs(op->charts_md, out);
            fputc('\n', out);
        }
    }
    section_quality(out, ds);
    section_methods(out, op);
    pb_report_stats_methods(out, an, op);
    fputc('\n', out);
    pb_report_true_part(out, op, PB_TRUE_DEFS);
    return ferror(out) ? -1 : 0;
}

/* At most FRONT_LINES lines: the comparisons table (FRONT_ROWS rows at
 * most) gives up rows until the page fits, since the answer, the warnings
 * and what was measured grow with the runtimes (seven of them, six exec
 * runtimes with their How line and warnings, made 103 lines). */
int pb_report_front(FILE *out, const pb_report_opts *op)
{
    pb_report_opts o2 = *op;
    size_t rows = FRONT_ROWS;
    for (int pass = 0;; pass++) {
        char *md = NULL;
        size_t len = 0, lines = 0;
        FILE *m = open_memstream(&md, &len);
        if (!m)
            return -1;
        o2.front_rows = rows + 1;   /* + 1: 0 means the default */
        int rc = render(m, &o2, front_body);
        if (fclose(m) != 0)
            rc = -1;
        for (size_t i = 0; rc == 0 && i < len; i++)
            lines += md[i] == '\n';
        if (rc == 0 && lines > FRONT_LINES && rows > 0 && pass < 4) {
            rows = rows > lines - FRONT_LINES ? rows - (lines - FRONT_LINES) : 0;
            free(md);
            continue;
        }
        if (rc == 0 && fwrite(md, 1, len, out) != len)
            rc = -1;
        free(md);
        return rc == 0 && !ferror(out) ? 0 : -1;
    }
}

int pb_report_full(FILE *out, const pb_report_opts *op)
{
    return render(out, op, full_body);
}

/* Splits an absolute version of path into normalised components in comp
 * (pointers into *buf, which the caller frees). Returns the count, -1 on
 * failure. */
static int path_components(const char *path, char **buf, char **comp, int max)
{
    char cwd[4096];
    size_t len;
    if (path[0] == '/') {
        *buf = strdup(path);
    } else {
        if (!getcwd(cwd, sizeof cwd))
            return -1;
        len = strlen(cwd) + strlen(path) + 2;
        if ((*buf = malloc(len)))
            snprintf(*buf, len, "%s/%s", cwd, path);
    }
    if (!*buf)
        return -1;
    int n = 0;
    for (char *save = NULL, *t = strtok_r(*buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            n -= n > 0;
            continue;
        }
        if (n == max)
            return -1;
        comp[n++] = t;
    }
    return n;
}

char *pb_report_rel_dir(const char *file, const char *dir)
{
    enum { MAXC = 256 };
    char *fb = NULL, *db = NULL, *fc[MAXC], *dc[MAXC], *out = NULL;
    int nf = path_components(file, &fb, fc, MAXC);
    int nd = nf < 0 ? -1 : path_components(dir, &db, dc, MAXC);
    if (nf > 0 && nd >= 0) {
        nf--;   /* the file's folder */
        int common = 0;
        while (common < nf && common < nd && strcmp(fc[common], dc[common]) == 0)
            common++;
        size_t len = 2;
        for (int i = common; i < nf; i++)
            len += 3;
        for (int i = common; i < nd; i++)
            len += strlen(dc[i]) + 1;
        if ((out = malloc(len))) {
            out[0] = '\0';
            for (int i = common; i < nf; i++)
                strcat(out, "../");
            for (int i = common; i < nd; i++) {
                strcat(out, dc[i]);
                strcat(out, "/");
            }
            size_t l = strlen(out);
            if (l == 0)
                strcpy(out, ".");
            else
                out[l - 1] = '\0';   /* no trailing slash */
        }
    }
    free(fb);
    free(db);
    return out;
}
