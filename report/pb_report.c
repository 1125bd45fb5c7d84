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

#include "pb_analysis.h"
#include "pb_answer.h"
#include "pb_charts.h"
#include "pb_report_stats.h"
#include "pb_derive.h"
#include "pb_report_true.h"
#include "pb_report_scaling.h"
#include "pb_report_servers.h"

void pb_report_md_escape(FILE *out, const char *s)
{
    /* Labels come from directory names and file metadata: a "|" would
     * split a table cell, "*" or "_" would turn into emphasis. */
    for (; s && *s; s++) {
        if (strchr("\\|*_`[]<>#~", *s))
            fputc('\\', out), fputc(*s, out);
        else if (*s == '\n' || *s == '\r' || *s == '\t')
            fputc(' ', out);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fputs("\xef\xbf\xbd", out); /* ESC & co. would reach a terminal */
        else
            fputc(*s, out);
    }
}

void pb_report_md_code(FILE *out, const char *s, int in_table)
{
    /* Backslash escapes are literal inside a code span, so nothing is
     * escaped: the fence is one backtick longer than the longest backtick
     * run in s, and a space pads a span that starts or ends with a
     * backtick (CommonMark strips one such space on each side). Only "|"
     * needs "\|" in a table cell: GFM splits cells before it parses spans
     * and drops the backslash. */
    if (!s)
        s = "";
    size_t run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t len = strlen(s);
    int pad = len > 0 && (s[0] == '`' || s[len - 1] == '`');
    for (size_t i = 0; i <= longest; i++)
        fputc('`', out);
    if (pad)
        fputc(' ', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            fputc(' ', out);
        else if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fputs("\xef\xbf\xbd", out); /* U+FFFD: no raw control bytes */
        else if (*p == '|' && in_table)
            fputs("\\|", out);
        else
            fputc(*p, out);
    }
    if (pad)
        fputc(' ', out);
    for (size_t i = 0; i <= longest; i++)
        fputc('`', out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pb_report_config(FILE *out, const pb_report_opts *op, const char *config)
{
    const char *const *hit = NULL;
    if (op && op->cfg_abbrev && config)
        hit = bsearch(&config, op->cfg_names, op->n_cfg, sizeof *op->cfg_names, cmp_str);
    if (hit)
        fprintf(out, "c%zu", (size_t)(hit - op->cfg_names) + 1);
    else
        pb_report_md_escape(out, config);
}

void pb_report_config_legend(FILE *out, const pb_report_opts *op)
{
    if (!op || !op->cfg_abbrev)
        return;
    fputs("Configs in the tables below:", out);
    for (size_t i = 0; i < op->n_cfg; i++) {
        fprintf(out, "%s c%zu = ", i ? ";" : "", i + 1);
        pb_report_md_code(out, op->cfg_names[i], 0);
    }
    fputs(".\n\n", out);
}

/* Distinct configs of the analysis, sorted; abbreviated in tables when one
 * is longer than 16 characters (TR115's reach 36, and two of them in a
 * row pushed tables past a laptop screen). */
static const char **config_names(const pb_analysis *a, size_t *n, int *abbrev)
{
    const char **v = malloc((a->n_groups ? a->n_groups : 1) * sizeof *v);
    *n = 0;
    *abbrev = 0;
    if (!v)
        return NULL;
    for (size_t g = 0; g < a->n_groups; g++)
        v[(*n)++] = a->groups[g].config;
    qsort(v, *n, sizeof *v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
            v[k++] = v[i];
    *n = k;
    for (size_t i = 0; i < k; i++)
        if (strlen(v[i]) > 16)
            *abbrev = 1;
    return v;
}

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
        pb_report_md_escape(o, d->v[i]);
    }
    if (d->more)
        fputs(", and more", o);
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
static void summary_measured(FILE *o, const pb_dataset *ds, const pb_analysis *a)
{
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
    fputs("### What was measured\n\n", o);
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
        pb_report_md_escape(o, a->rts[i].runtime);
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
            pb_report_md_escape(o, d0);
            if (strcmp(d0, d1) != 0) {
                fputs(" to ", o);
                pb_report_md_escape(o, d1);
            }
        }
        if (versions.n) {
            fputs(", by collect ", o);
            distinct_print(o, &versions, "");
        }
        fputs(".\n", o);
    }
    summary_collector_cost(o, ds);
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
    fputs(" (see Data quality).\n\n", o);
}

/* One runtime's answer as a sentence: the measured speedup, the same as a
 * ratio of times ("took 1.09x as long"), and the verdict its interval
 * supports. */
static void answer_sentence(FILE *o, const pb_answer_rt *r)
{
    fputs("- **", o);
    pb_report_md_escape(o, r->runtime);
    fprintf(o, "** (n = %zu): ", r->n);
    if (r->verdict == PB_VERDICT_SINGLE) {
        fprintf(o, "speedup %.2fx from a single run: too few runs for an interval or a "
                   "verdict.\n", r->estimate);
        return;
    }
    if (r->unbounded) {
        fprintf(o, "speedup %.2fx, but no interval: the reference's wall time is not "
                   "distinguishable from 0 at this n (Fieller): **%s**", r->estimate,
                pb_answer_verdict_word(r->verdict));
    } else {
        /* The same interval as a ratio of times; Fieller's lower bound may
         * be clipped to 0, which makes the time ratio unbounded above. */
        /* A bound within 0.005 of 1x would print as 1.00 beside "slower":
         * one more digit shows which side it is on. */
        int d = fabs(r->lo - 1) < 0.005 || fabs(r->hi - 1) < 0.005 ? 3 : 2;
        fprintf(o, "the %.0f agents together took %.*fx [%.*f, ", r->n_agents, d,
                1 / r->estimate, d, 1 / r->hi);
        if (r->lo > 0)
            fprintf(o, "%.*f]", d, 1 / r->lo);
        else
            fputs("unbounded)", o);
        fprintf(o, " as long as one after the other (speedup %.*fx [%.*f, %.*f]): **%s**",
                d, r->estimate, d, r->lo, d, r->hi, pb_answer_verdict_word(r->verdict));
    }
    switch (r->verdict) {
    case PB_VERDICT_SAME: fputs(" as one after the other (within 2%)", o); break;
    case PB_VERDICT_SLOWER: fputs(" than one after the other", o); break;
    case PB_VERDICT_FASTER: fprintf(o, " than one after the other (perfect overlap: %.0fx)",
                                    r->n_agents); break;
    case PB_VERDICT_INCONCLUSIVE:
        if (!r->unbounded)
            fputs(" (the interval includes 1x)", o);
        break;
    default: break;
    }
    fputs(".\n", o);
}

/* hyperfine's comparison line: the best runtime against each other one.
 * Both speedups are against the same sequential work, so their ratio is
 * the ratio of wall times; ± propagates the two estimates' relative
 * standard errors (first order, as hyperfine does with its SDs; against a
 * shared --sequential-ref the two are correlated, so it is approximate). */
static void answer_compare(FILE *o, const pb_answer *ans)
{
    long best = -1;
    size_t usable = 0;
    for (size_t i = 0; i < ans->n_rts; i++) {
        const pb_answer_rt *r = &ans->rts[i];
        if (!r->estimator || r->n < 2 || pb_answer_self_ref(r))
            continue;
        usable++;
        if (best < 0 || r->estimate > ans->rts[best].estimate)
            best = (long)i;
    }
    if (usable < 2)
        return;
    const pb_answer_rt *b = &ans->rts[best];
    fputs("\n", o);
    pb_report_md_code(o, b->runtime, 0);
    fputs(" ran\n", o);
    for (size_t i = 0; i < ans->n_rts; i++) {
        const pb_answer_rt *r = &ans->rts[i];
        if ((long)i == best || !r->estimator || r->n < 2 ||
            pb_answer_self_ref(r))
            continue;
        double ratio = b->estimate / r->estimate;
        double eb = b->rel_se, er = r->rel_se;
        if (isfinite(eb) && isfinite(er))
            fprintf(o, "- %.2f ± %.2f times faster than ", ratio, ratio * sqrt(eb * eb + er * er));
        else
            fprintf(o, "- %.2f times faster than ", ratio);
        pb_report_md_code(o, r->runtime, 0);
        fputc('\n', o);
    }
}

static void section_summary(FILE *o, const pb_dataset *ds, const pb_analysis *a,
                            const pb_answer *ans, const pb_report_opts *op)
{
    fputs("# parbench analysis\n\n", o);
    fprintf(o, "Generated by `analyze` %s from", PARBENCH_VERSION);
    for (int i = 0; i < op->n_inputs; i++) {
        fputc(' ', o);
        pb_report_md_code(o, op->inputs[i], 0);
    }
    fprintf(o, ".\nBootstrap: %u resamples, seed %llu.\n\n", op->boot_reps,
            (unsigned long long)op->seed);
    fputs("## Summary\n\n", o);
    summary_measured(o, ds, a);
    fputs("### The answer: together vs one after the other\n\n", o);
    if (a->n_rts == 0) {
        fputs("No valid run: nothing to answer.\n\n", o);
        return;
    }
    if (ans->n_answered == 0) {
        fputs("**These data cannot tell true parallel efficiency.** They have no solo "
              "phases (each agent alone) and no `--sequential-ref`, so nothing says how "
              "long the same work takes one after the other. The original metric "
              "(efficiency, in the tables below) only measures how balanced the agents' "
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
            pb_report_md_code(o, r->runtime, 0);
        }
        if (named)
            fputs(".\n\n", o);
        return;
    }
    const char *est = NULL;
    for (size_t i = 0; i < ans->n_rts; i++) {
        const pb_answer_rt *r = &ans->rts[i];
        if (!r->estimator)
            continue;
        if (pb_answer_self_ref(r)) {
            fputs("- **", o);
            pb_report_md_escape(o, r->runtime);
            fputs("**: the sequential reference (1x by definition).\n", o);
            continue;
        }
        answer_sentence(o, r);
        est = r->estimator;
    }
    for (size_t i = 0; i < ans->n_rts; i++)
        if (!ans->rts[i].estimator) {
            fputs("- **", o);
            pb_report_md_escape(o, ans->rts[i].runtime);
            fputs("**: no sequential baseline (no solo phases", o);
            fputs(op->sequential_ref ? " and no reference run in its configs).\n" : ").\n", o);
        }
    answer_compare(o, ans);
    fprintf(o, "\nEstimator: %s", pb_answer_estimator_name(est));
    if (op->sequential_ref) {
        fputs("; reference: ", o);
        pb_report_md_code(o, op->sequential_ref, 0);
    }
    fputs(". Verdict: *slower*/*faster* only when the whole interval is on one side of "
          "1x, *the same* when it lies within 2% of 1x, else *inconclusive*.\n\n", o);
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
        pb_report_md_escape(o, op->refs[k].name);
        fputs(" (pp) |", o);
    }
    fputs("\n|---|---:|---:|---|---:|---:|---:|", o);
    for (size_t k = 0; k < op->n_refs; k++)
        fputs("---:|", o);
    fputc('\n', o);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        fputs("| ", o);
        pb_report_md_escape(o, r->runtime);
        fprintf(o, " | %zu", r->n_groups);
        cell(o, "%.2f", r->cfg_peak);
        fputs(" | ", o);
        pb_report_config(o, op, r->cfg_peak_config);
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
        pb_report_md_escape(o, r->runtime);
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
            pb_report_config(o, op, pr->config);
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
        pb_report_md_escape(o, g->runtime);
        fputs(" | ", o);
        pb_report_config(o, op, g->config);
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
        pb_report_md_escape(o, r->runtime);
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
            pb_report_md_code(o, span, 0);
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
        pb_report_md_escape(o, r->runtime);
        cell(o, "%.3f", r->cfg_sd);
        cell(o, "%.3f", r->cfg_mean_sd);
        fputs(" | ", o);
        if (r->most_stable) {
            pb_report_config(o, op, r->most_stable);
            fprintf(o, " (%.3f)", r->most_stable_sd);
        } else {
            fputs("n/a", o);
        }
        fputs(" | ", o);
        if (r->least_stable) {
            pb_report_config(o, op, r->least_stable);
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
            pb_report_md_escape(o, r->runtime);
            fputs(" / ", o);
            pb_report_md_escape(o, r->config);
            fprintf(o, " run %d (", r->run_index);
            pb_report_md_escape(o, r->path);
            fputs("): ", o);
            pb_report_md_escape(o, r->invalid_reason ? r->invalid_reason : "(no reason given)");
            fputc('\n', o);
        }
        fputc('\n', o);
    }
    if (ds->n_skips) {
        fprintf(o, "### Skipped files: %zu\n\n", ds->n_skips);
        for (size_t i = 0; i < ds->n_skips; i++) {
            fputs("- ", o);
            pb_report_md_escape(o, ds->skips[i].path);
            fputs(": ", o);
            pb_report_md_escape(o, ds->skips[i].reason);
            fputc('\n', o);
        }
        fputc('\n', o);
    }
}

static void section_methods(FILE *o, const pb_report_opts *op)
{
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
"- **95%% CI (bootstrap)**: BCa bootstrap of the mean, %u resamples with replacement, "
"GSL mt19937, one stream per group derived from the seed %llu and the group's name (re-run with "
"`--seed` to check stability); n/a below %d runs (see below).\n"
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
            op->boot_reps, (unsigned long long)op->seed, PB_BOOT_MIN_N, PB_MW_EXACT_MAX);
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

static int report_body(FILE *out, const pb_dataset *ds, const pb_report_opts *op);

int pb_report_markdown(FILE *out, const pb_dataset *ds, const pb_report_opts *op)
{
    char *md = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&md, &len);
    if (!m)
        return -1;
    int rc = report_body(m, ds, op);
    if (fclose(m) != 0)
        rc = -1;
    if (rc == 0)
        reflow(out, md, len);
    free(md);
    return rc == 0 && !ferror(out) ? 0 : -1;
}

static int report_body(FILE *out, const pb_dataset *ds, const pb_report_opts *op)
{
    /* One analysis (with its bootstrap, the costly part) for every section:
     * the caller's when it built one, else ours. */
    pb_analysis own;
    const pb_analysis *an = op->analysis;
    if (!an) {
        pb_analysis_opts ao = {.boot_reps = op->boot_reps, .seed = op->seed,
                               .baseline = op->baseline,
                               .sequential_ref = op->sequential_ref,
                               .drop_first = op->drop_first};
        if (pb_analysis_build_opts(ds, &ao, &own) != 0) {
            fprintf(stderr, "analyze: out of memory while computing statistics\n");
            return -1;
        }
        an = &own;
    }
    pb_report_opts o2 = *op;
    o2.analysis = an;
    op = &o2;
    const char **cfgs = config_names(an, &o2.n_cfg, &o2.cfg_abbrev);
    o2.cfg_names = cfgs;
    pb_answer ans = {0};
    if (pb_answer_build(ds, an, op->sequential_ref, &ans) != 0) {
        fprintf(stderr, "analyze: out of memory while building the answer\n");
        free(cfgs);
        if (an == &own)
            pb_analysis_free(&own);
        return -1;
    }
    section_summary(out, ds, an, &ans, op);
    if (ds->n_runs == 0) {
        fputs("**No run could be loaded.** Check the paths given and the "
              "Data quality section below.\n\n", out);
    } else if (an->n_rts == 0) {
        fputs("**No valid run**: every loaded run is marked invalid.\n\n", out);
    }
    if (!cfgs) {
        fprintf(stderr, "analyze: out of memory listing the configs\n");
    } else if (an->n_rts > 0) {
        fputs("## Comparisons (measured metrics)\n\n", out);
        pb_report_true_part(out, ds, op, PB_TRUE_COMPARE);
        /* The design-aware tests (statistics issue): runtimes compared on
         * every metric, then the runtime x config design. */
        pb_report_comparisons(out, ds, an, op);
        pb_report_design(out, ds, an, op);
        fputs("## Per-config details\n\n", out);
        pb_report_config_legend(out, op);
        pb_report_true_part(out, ds, op, PB_TRUE_CONFIGS);
        pb_report_order_outliers(out, ds, an, op);
        /* Issue 12 (report/pb_report_scaling.c): each prints nothing when
         * the data has nothing for it. */
        pb_report_scaling(out, ds, op);
        pb_report_workflow(out, ds);
        pb_report_arrival(out, ds);
        pb_report_sampling(out, ds);
        pb_report_servers(out, ds, an); /* issue 21: report/pb_report_servers.c */
        fputs("## The original study's metric (TR115 tables)\n\n"
              "The tables of the original study, regenerated exactly from the raw runs. "
              "Their *efficiency* is the original metric: the agents' summed durations "
              "over N x the concurrent wall, i.e. how balanced the agents' durations "
              "were, not how much faster they finished than one after the other (see "
              "the summary for that).\n\n", out);
        if (op->cfg_abbrev)
            fputs("Configs are abbreviated as in the legend of the per-config details.\n\n", out);
        section_aggregate(out, ds, an, op);
        section_configs(out, an, op);
        section_top3(out, an);
        section_stability(out, an, op);
        /* The original study's comparisons on efficiency are among the
         * comparisons on every metric (pb_report_comparisons, above). */
        if (op->charts_dir) {
            fputs("## Charts\n\n", out);
            pb_charts_write(ds, op, out);
            fputc('\n', out);
        }
    }
    section_quality(out, ds);
    section_methods(out, op);
    pb_report_stats_methods(out, an, op);
    fputc('\n', out);
    pb_report_true_part(out, ds, op, PB_TRUE_DEFS);
    pb_answer_free(&ans);
    free(cfgs);
    if (an == &own)
        pb_analysis_free(&own);
    return ferror(out) ? -1 : 0;
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
