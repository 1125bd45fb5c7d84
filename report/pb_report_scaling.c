/* pb_report_scaling: see pb_report_scaling.h; definitions are printed with
 * each section. */
#include "pb_report_scaling.h"
#include "pb_sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_md.h"
#include "pb_stats.h"

/* "| a | b" with Markdown escaping (b may be NULL): labels come from data. */
static void cells2(FILE *o, const char *a, const char *b)
{
    fputs("| ", o);
    pb_md_escape(o, a);
    if (b) {
        fputs(" | ", o);
        pb_md_escape(o, b);
    }
}

/* "mean [lo, hi]" with the given decimals; the interval only when known. */
static void mean_ci(FILE *o, const pb_summary *s, int digits)
{
    fputs(" | ", o);
    if (s->n == 0) {
        fputs("n/a", o);
        return;
    }
    fprintf(o, "%.*f", digits, s->mean);
    if (isfinite(s->ci_lo) && isfinite(s->ci_hi))
        fprintf(o, " [%.*f, %.*f]", digits, s->ci_lo, digits, s->ci_hi);
}

static void knee_line(FILE *o, const pb_scaling *sc, const pb_scaling_series *s)
{
    if (s->knee_n > 0)
        fprintf(o, "Knee at %.4g%%: **N = %zu** (mean)", sc->knee_pct, s->knee_n);
    else
        fprintf(o, "Knee at %.4g%%: **none** (already N = %zu is below it)", sc->knee_pct,
                s->n_points ? s->pts[0].n_agents : (size_t)0);
    if (s->knee_n_ci > 0)
        fprintf(o, ", N = %zu by the lower 95%% bound", s->knee_n_ci);
    else
        fputs(", none by the lower 95% bound", o);
}

void pb_report_scaling_section(FILE *o, const pb_scaling *sc, int brief)
{
    if (sc->n_series == 0)
        return;
    fputs("## Scaling with the number of agents\n\n", o);
    fprintf(o, "Runs of one runtime and config at several agent counts N (`collect --agents`). "
               "Per N: geometric mean and 95%% CI over runs (Student t on the log scale, so "
               "never below 0); ideal: speedup N, efficiency 100%%. The knee is the largest N "
               "whose mean efficiency, and that of every smaller N, is at least %.4g%% "
               "(`--knee`; N = 1 is 100%% by definition and never decides it); the same rule "
               "applied to the lower 95%% bound is given too.\n\n", sc->knee_pct);
    if (brief) {
        /* The front page: one table (the speedups are in the answer). */
        fputs("| runtime, config | N | runs | efficiency % | aggregate tokens/s |\n"
              "|---|---:|---:|---:|---:|\n", o);
        for (size_t i = 0; i < sc->n_series; i++) {
            const pb_scaling_series *s = &sc->series[i];
            for (size_t k = 0; k < s->n_points; k++) {
                const pb_scaling_point *p = &s->pts[k];
                fputs("| ", o);
                pb_md_escape(o, s->runtime);
                fputs(", ", o);
                pb_md_escape(o, s->config);
                fprintf(o, "%s | %zu | %zu", s->eff_measured ? "" : " (estimated)", p->n_agents,
                        p->runs);
                mean_ci(o, &p->eff, 1);
                mean_ci(o, &p->throughput, 1);
                fputs(" |\n", o);
            }
        }
        fputc('\n', o);
        for (size_t i = 0; i < sc->n_series; i++) {
            fputs("- ", o);
            pb_md_escape(o, sc->series[i].runtime);
            fputs(", ", o);
            pb_md_escape(o, sc->series[i].config);
            fputs(": ", o);
            knee_line(o, sc, &sc->series[i]);
            fputs(".\n", o);
        }
        fputc('\n', o);
        return;
    }
    for (size_t i = 0; i < sc->n_series; i++) {
        const pb_scaling_series *s = &sc->series[i];
        fputs("### ", o);
        pb_md_escape(o, s->runtime);
        fputs(", ", o);
        pb_md_escape(o, s->config);
        fputs("\n\n", o);
        fprintf(o, "| N | runs | %s efficiency %% | %s speedup | aggregate tokens/s |\n",
                s->eff_measured ? "measured" : "estimated", s->eff_measured ? "measured" : "estimated");
        fputs("|---:|---:|---:|---:|---:|\n", o);
        for (size_t k = 0; k < s->n_points; k++) {
            const pb_scaling_point *p = &s->pts[k];
            fprintf(o, "| %zu | %zu", p->n_agents, p->runs);
            mean_ci(o, &p->eff, 1);
            mean_ci(o, &p->speedup, 2);
            mean_ci(o, &p->throughput, 1);
            fputs(" |\n", o);
        }
        fputs("\n", o);
        knee_line(o, sc, s);
        fputs(".\n\n", o);
    }
    fputs("Definitions: *efficiency* is the measured one (sum of the agents' solo durations / "
          "(N x concurrent wall) x 100) when every run has solo phases, else the original "
          "study's estimate; *aggregate tokens/s* = sum of the agents' tokens in the concurrent "
          "phase / concurrent wall. With staggered arrivals the wall runs from the first start "
          "to the last end.\n\n", o);
}

/* Sums over a run's agents of one phase's workflow times. */
static void phase_split(const pb_run *r, int conc, double *llm, double *work, double *wait)
{
    *llm = *work = *wait = 0;
    for (size_t i = 0; i < r->n_agents; i++) {
        const pb_request *q = conc ? &r->agents[i].conc : &r->agents[i].solo;
        *llm += q->llm_s;
        *work += q->work_s;
        *wait += q->wait_s;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_workflow(const pb_run *r)
{
    return r->valid && r->workflow;
}

static int is_staggered(const pb_run *r)
{
    return r->valid && r->arrival && strcmp(r->arrival, "together") != 0;
}

/* The runtime of every run `keep` accepts (one entry per run), sorted so
 * that a runtime's runs are adjacent: the sections below walk it group by
 * group. NULL when no run qualifies (the section is left out) or memory
 * ran out; the caller frees the array, whose strings are borrowed. */
static const char **sorted_runtimes(const pb_dataset *ds, int (*keep)(const pb_run *),
                                    size_t *n)
{
    *n = 0;
    const char **rts = malloc((ds->n_runs + 1) * sizeof *rts);
    if (!rts)
        return NULL;
    for (size_t i = 0; i < ds->n_runs; i++)
        if (keep(&ds->runs[i]))
            rts[(*n)++] = ds->runs[i].runtime;
    if (*n == 0) {
        free(rts);
        return NULL;
    }
    qsort(rts, *n, sizeof *rts, cmp_str);
    return rts;
}

/* Per runtime and stage (name), pooled over the runs' agents: seconds,
 * and for llm stages TTFT and tokens/s where the source has them. */
static void stage_table(FILE *o, const pb_dataset *ds, const char **rts, size_t n)
{
    size_t cap = 0;
    for (size_t i = 0; i < ds->n_runs; i++)
        for (size_t a = 0; a < ds->runs[i].n_agents; a++)
            cap += ds->runs[i].agents[a].n_stages;
    if (cap == 0)
        return;
    double *v = malloc(3 * cap * sizeof *v);
    size_t *run_of = malloc(cap * sizeof *run_of);   /* cluster: the run */
    const char **names = malloc(cap * sizeof *names);
    if (!v || !names || !run_of) {
        free(v);
        free(run_of);
        free(names);
        return;
    }
    fputs("### Per stage\n\n"
          "Each workflow stage of the concurrent phase, pooled over the runs' agents "
          "(n = agent-runs): duration, and for model calls the time to first token "
          "(parbench: client-side, from the request's start) and the decode rate "
          "(parbench: the server's eval_count / eval_duration; the study team's files: "
          "their throughput_tokens_per_sec). Mean and 95% CI clustered by run (agents of one "
          "run are not independent).\n\n"
          "| runtime | stage | n | seconds | TTFT ms | tokens/s |\n"
          "|---|---|---:|---:|---:|---:|\n", o);
    for (size_t k = 0; k < n;) {
        const char *rt = rts[k];
        while (k < n && strcmp(rts[k], rt) == 0)
            k++;
        /* Stage names in order of first appearance. */
        size_t nn = 0;
        for (size_t i = 0; i < ds->n_runs; i++) {
            const pb_run *r = &ds->runs[i];
            if (!is_workflow(r) || strcmp(r->runtime, rt) != 0)
                continue;
            for (size_t a = 0; a < r->n_agents; a++)
                for (size_t s = 0; s < r->agents[a].n_stages; s++) {
                    const char *nm = r->agents[a].stages[s].name;
                    size_t q = 0;
                    while (q < nn && strcmp(names[q], nm) != 0)
                        q++;
                    if (q == nn)
                        names[nn++] = nm;
                }
        }
        for (size_t q = 0; q < nn; q++) {
            size_t m = 0;
            for (size_t i = 0; i < ds->n_runs; i++) {
                const pb_run *r = &ds->runs[i];
                if (!is_workflow(r) || strcmp(r->runtime, rt) != 0)
                    continue;
                for (size_t a = 0; a < r->n_agents; a++)
                    for (size_t s = 0; s < r->agents[a].n_stages; s++) {
                        const pb_stage *st = &r->agents[a].stages[s];
                        if (strcmp(st->name, names[q]) != 0)
                            continue;
                        v[m] = st->seconds;
                        v[cap + m] = st->ttft_ms;
                        v[2 * cap + m] = st->tokens_per_s;
                        run_of[m] = i;
                        m++;
                    }
            }
            cells2(o, rt, names[q]);
            fprintf(o, " | %zu", m);
            for (int c = 0; c < 3; c++) {
                pb_summary sm;
                pb_stats_summarize_clustered(v + (size_t)c * cap, run_of, m, &sm);
                mean_ci(o, &sm, c == 0 ? 3 : 1);
            }
            fputs(" |\n", o);
        }
    }
    fputc('\n', o);
    free(v);
    free(run_of);
    free(names);
}

void pb_report_workflow(FILE *o, const pb_dataset *ds)
{
    size_t n;
    const char **rts = sorted_runtimes(ds, is_workflow, &n);
    if (!rts)
        return;
    double *v = malloc(8 * n * sizeof *v);
    if (!v) {
        free(rts);
        return;
    }
    fputs("## Workflow steps\n\n", o);
    fputs("Runs whose agents ran multi-step workflows (plan `steps`). Per agent and phase the "
          "time from its first step's start to its last step's end splits into *llm* (its "
          "model calls), *work* (its local work steps) and *waiting* (the rest: arrival "
          "offsets, hand-over between steps). Seconds summed over the run's agents; mean "
          "and 95% CI over runs.\n\n", o);
    fputs("| runtime | runs | solo llm s | solo work s | solo waiting s | concurrent llm s | "
          "concurrent work s | concurrent waiting s | workflow efficiency % | llm-part efficiency % |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", o);
    for (size_t k = 0; k < n;) {
        const char *rt = rts[k];
        while (k < n && strcmp(rts[k], rt) == 0)
            k++;
        size_t m = 0;
        for (size_t i = 0; i < ds->n_runs; i++) {
            const pb_run *r = &ds->runs[i];
            if (!is_workflow(r) || strcmp(r->runtime, rt) != 0)
                continue;
            phase_split(r, 0, &v[0 * n + m], &v[1 * n + m], &v[2 * n + m]);
            phase_split(r, 1, &v[3 * n + m], &v[4 * n + m], &v[5 * n + m]);
            v[6 * n + m] = r->meas_efficiency;
            v[7 * n + m] = r->llm_efficiency;
            m++;
        }
        cells2(o, rt, NULL);
        fprintf(o, " | %zu", m);
        for (int c = 0; c < 8; c++) {
            pb_summary s;
            pb_stats_summarize(&v[(size_t)c * n], m, 0, 0, &s);
            mean_ci(o, &s, c < 6 ? 3 : 1);
        }
        fputs(" |\n", o);
    }
    fputs("\n*Workflow efficiency* is the measured efficiency of whole workflows (sum of the "
          "agents' solo workflow spans / (N x concurrent wall) x 100). *llm-part efficiency* = "
          "sum of the agents' solo llm time / their concurrent llm time x 100: 100% when the "
          "model calls ran as fast together as alone, whatever the local work did.\n\n", o);
    stage_table(o, ds, rts, n);
    free(v);
    free(rts);
}

void pb_report_arrival(FILE *o, const pb_dataset *ds)
{
    size_t n;
    const char **rts = sorted_runtimes(ds, is_staggered, &n);
    if (!rts)
        return;
    double *v = malloc(2 * n * sizeof *v);
    if (!v) {
        free(rts);
        return;
    }
    fputs("## Arrival patterns\n\n", o);
    fputs("In these runs the agents of the concurrent phase did not start together: "
          "*stagger* starts agent i at i x stagger_s, *poisson* at the arrival times of a "
          "Poisson process of rate_per_s drawn from the run's seed (the first agent at 0). "
          "The offsets are recorded per run (`phases[].agents[].offset_ns`). Definitions "
          "for staggered starts: the solo baseline is still each agent alone; the "
          "concurrent wall runs from the first agent's start to the last agent's end, so "
          "it includes the offsets, and an efficiency of 100% is out of reach once the "
          "offsets exceed what overlap can hide.\n\n", o);
    fputs("| runtime | pattern | runs | largest offset s | measured efficiency % |\n"
          "|---|---|---:|---:|---:|\n", o);
    for (size_t k = 0; k < n;) {
        const char *rt = rts[k];
        while (k < n && strcmp(rts[k], rt) == 0)
            k++;
        size_t m = 0;
        const char *pat = NULL;
        int mixed = 0;
        for (size_t i = 0; i < ds->n_runs; i++) {
            const pb_run *r = &ds->runs[i];
            if (!is_staggered(r) || strcmp(r->runtime, rt) != 0)
                continue;
            if (pat && strcmp(pat, r->arrival) != 0)
                mixed = 1;
            pat = r->arrival;
            v[m] = r->max_offset_s;
            v[n + m] = r->meas_efficiency;
            m++;
        }
        cells2(o, rt, mixed ? "mixed" : pat);
        fprintf(o, " | %zu", m);
        pb_summary s;
        pb_stats_summarize(v, m, 0, 0, &s);
        mean_ci(o, &s, 3);
        pb_stats_summarize(v + n, m, 0, 0, &s);
        mean_ci(o, &s, 1);
        fputs(" |\n", o);
    }
    fputc('\n', o);
    free(v);
    free(rts);
}

void pb_report_sampling(FILE *o, const pb_dataset *ds)
{
    pb_sampling_group *sg;
    size_t n;
    if (pb_sampling_build(ds, &sg, &n) != 0 || n == 0)
        return;
    fputs("## Sampling to a precision\n\n", o);
    fprintf(o, "These runs were collected with `collect --target-ci %g --max-runs %d` (Stein's "
               "two-stage procedure): the %d planned runs were the pilot; from its SD each "
               "(runtime, config) got the runs needed for a 95%% interval of +-%g%% of the "
               "measured speedup, at most %d, decided once from the pilot (so sampling did not "
               "stop on runs that happened to look precise). The interval is Stein's (the "
               "pilot's SD, t on its df), widened to the t interval of all runs when those "
               "spread more than the pilot; a group capped by --max-runs, or whose runs spread "
               "more, **missed** the target.\n\n",
            sg[0].target_pct, sg[0].max_runs, sg[0].planned, sg[0].target_pct, sg[0].max_runs);
    fputs("| runtime | config | runs | of which added | speedup [95% CI] | +-% | target |\n"
          "|---|---|---:|---:|---:|---:|---|\n", o);
    for (size_t i = 0; i < n; i++) {
        const pb_sampling_group *g = &sg[i];
        cells2(o, g->runtime, g->config);
        fprintf(o, " | %zu | %zu | ", g->n_runs, g->n_added);
        if (isfinite(g->lo))
            fprintf(o, "%.3f [%.3f, %.3f] | %.2f | %s |\n", g->mean, g->lo, g->hi,
                    g->halfwidth_pct, g->met ? "met" : "**missed**");
        else
            fputs("n/a | n/a | **missed** |\n", o);
    }
    fputc('\n', o);
    free(sg);
}
