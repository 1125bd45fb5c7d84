/* pb_report_exec: exec runtimes in the report (pb_report_exec.h). Every
 * number printed comes from pb_result's summaries (PB_METRICS), the same
 * the CSV and JSON carry. */
#include "pb_report_exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_derive.h"
#include "pb_exec.h"
#include "pb_md.h"
#include "pb_metrics.h"

/* "1.23 [1.01, 1.45]", n/a when absent; one run: no interval. */
static void mean_ci(FILE *o, const pb_summary *s, const char *fmt)
{
    if (!s->n || !isfinite(s->mean)) {
        fputs("n/a", o);
        return;
    }
    fprintf(o, fmt, s->mean);
    if (s->n >= 2 && isfinite(s->ci_lo) && isfinite(s->ci_hi)) {
        fputs(" [", o);
        fprintf(o, fmt, s->ci_lo);
        fputs(", ", o);
        fprintf(o, fmt, s->ci_hi);
        fputc(']', o);
    }
}

static const pb_summary *rsum(const pb_result *r, size_t t, const char *id)
{
    return pb_result_rsum(r, t, (size_t)pb_metrics_index(id));
}

/* A runtime measured by a driver: parbench's own, or the original study's
 * harness when its runs came from the study's files. */
static const char *driver_text(const pb_result *r, size_t t)
{
    const pb_rt *rt = &r->an.rts[t];
    for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
        if (r->an.groups[g].n)
            return r->ds->runs[r->an.groups[g].runs[0]].format == PB_FMT_PARBENCH
                       ? "parbench's driver" : "the study's harness";
    return "parbench's driver";
}

void pb_report_exec_how(FILE *o, const pb_result *r)
{
    if (pb_exec_n_rts(r) == 0)
        return;
    /* Grouped by method: "own driver: uv, threads; ...". */
    static const char *const WHAT[] = {NULL, "program via the recording proxy",
                                       "the same, solo baseline replayed"};
    fputs("- How: ", o);
    int first = 1;
    for (int b = 0; b < 3; b++) {
        int any = 0;
        for (size_t t = 0; t < r->an.n_rts; t++) {
            if ((int)pb_exec_rt_by(r, t, NULL) != b)
                continue;
            if (!any) {
                fprintf(o, "%s%s: ", first ? "" : "; ", b ? WHAT[b] : driver_text(r, t));
                first = 0;
            } else {
                fputs(", ", o);
            }
            any = 1;
            pb_md_escape(o, r->an.rts[t].runtime);
        }
    }
    fputs(". Speedups on the wire span (first request to last byte).\n", o);
}

/* Pooled over the runtime's valid runs: every lag's count and the worst. */
static void lag_pool(const pb_result *r, size_t t, size_t *n, double *worst)
{
    const pb_rt *rt = &r->an.rts[t];
    *n = 0;
    *worst = NAN;
    for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
        for (size_t i = 0; i < r->an.groups[g].n; i++) {
            double *v;
            size_t k = pb_derive_wb_lags(&r->ds->runs[r->an.groups[g].runs[i]], &v);
            for (size_t j = 0; j < k; j++)
                if (!(v[j] <= *worst))
                    *worst = v[j];
            *n += k;
            free(v);
        }
}

void pb_report_exec_section(FILE *o, const pb_result *r)
{
    if (pb_exec_n_rts(r) == 0)
        return;
    fputs("## Exec runtimes: process span, wire span, write-back lag\n\n"
          "A runtime that is a program (`collect --exec`, data/EXEC.md) is started once per "
          "phase; the recording proxy between it and the servers records its requests. Two "
          "clocks time such a phase. The **process span** runs from the program's spawn to "
          "its exit: what a user waits for, start-up (interpreter, imports, runtime "
          "threads) and shutdown included. The **wire span** runs from the phase's first "
          "request's start (the proxy accepting the connection) to the last response byte "
          "from the server: the streaming alone, timed as parbench's own drivers time "
          "theirs. **The speedup uses the wire span**, in the concurrent phase and in the "
          "solo baseline alike: a solo phase's process span pays the start-up once per "
          "agent and the concurrent phase once, so a ratio of process spans rewards a "
          "slow start-up (a measured example is in analyze/README.md), and a replayed "
          "baseline has no process at all. Process - wire (*overhead*) is what the "
          "speedup leaves out. "
          "Means over valid runs with their 95% Student-t interval (clipped at 0); the "
          "solo columns sum the agents' solo phases of a run.\n\n", o);
    /* Every runtime, in full: the front page's How line, one per line. */
    fputs("How each runtime was measured:\n\n", o);
    for (size_t t = 0; t < r->an.n_rts; t++) {
        int mixed;
        pb_measured_by by = pb_exec_rt_by(r, t, &mixed);
        fputs("- ", o);
        pb_md_escape(o, r->an.rts[t].runtime);
        if (by == PB_BY_DRIVER)
            fprintf(o, ": %s; its phases are timed from the first request to the last byte "
                       "(the wire span).", driver_text(r, t));
        else
            fprintf(o, ": %s (started once per phase, its requests recorded by the proxy)%s.",
                    pb_exec_by_text(by), by == PB_BY_PROXY_REPLAY
                        ? "; each solo phase is parbench's serial driver sending the agent's "
                          "request (same body and seed) instead of the program"
                        : "");
        if (mixed)
            fputs(" Its runs were not all measured the same way.", o);
        fputc('\n', o);
    }
    fputc('\n', o);
    fputs("| runtime | measured by | runs | process span s | wire span s | overhead s | "
          "solo process spans s | solo wire spans s |\n|---|---|---:|---|---|---|---|---|\n", o);
    for (size_t t = 0; t < r->an.n_rts; t++) {
        int mixed;
        pb_measured_by by = pb_exec_rt_by(r, t, &mixed);
        if (by == PB_BY_DRIVER)
            continue;
        fputs("| ", o);
        pb_md_escape(o, r->an.rts[t].runtime);
        fprintf(o, " | %s%s | %zu | ", by == PB_BY_PROXY ? "proxy" : "proxy, replayed solo",
                mixed ? " (mixed)" : "", rsum(r, t, "process_span_s")->n);
        static const char *const ID[] = {"process_span_s", "wire_span_s", "process_overhead_s",
                                         "solo_process_span_s", "solo_wire_span_s"};
        for (int k = 0; k < 5; k++) {
            if (k)
                fputs(" | ", o);
            if (k == 3 && by == PB_BY_PROXY_REPLAY)
                fputs("replayed", o);
            else
                mean_ci(o, rsum(r, t, ID[k]), "%.3f");
        }
        fputs(" |\n", o);
    }
    fputs("\n**Write-back lag.** For every response chunk the proxy records when it "
          "arrived from the server and when the program's socket accepted it; the "
          "difference is how late the program read its stream (a starved task, a "
          "runtime that polls one stream at a time, a full socket buffer). Per run the "
          "median (p50) and 99th percentile (R type 7) of the concurrent phase's chunks, "
          "pooled over its agents; per runtime their mean over runs [95% t interval, "
          "clipped at 0]; *worst* is the largest single lag of all its runs. The chart "
          "`writeback_lag_ecdf` draws every chunk's lag.\n\n"
          "| runtime | runs | chunks | lag p50 ms | lag p99 ms | worst ms |\n"
          "|---|---:|---:|---|---|---:|\n", o);
    for (size_t t = 0; t < r->an.n_rts; t++) {
        if (pb_exec_rt_by(r, t, NULL) == PB_BY_DRIVER)
            continue;
        size_t n;
        double worst;
        lag_pool(r, t, &n, &worst);
        fputs("| ", o);
        pb_md_escape(o, r->an.rts[t].runtime);
        fprintf(o, " | %zu | %zu | ", rsum(r, t, "writeback_lag_p50_ms")->n, n);
        mean_ci(o, rsum(r, t, "writeback_lag_p50_ms"), "%.3f");
        fputs(" | ", o);
        mean_ci(o, rsum(r, t, "writeback_lag_p99_ms"), "%.3f");
        if (isfinite(worst))
            fprintf(o, " | %.3f |\n", worst);
        else
            fputs(" | n/a |\n", o);
    }
    fputc('\n', o);
}
