#include "pb_csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_derive.h"
#include "pb_fs.h"
#include "pb_text.h"
#include "pb_metric.h"
#include "pb_metrics.h"

static void str(FILE *f, const char *raw)
{
    if (!raw)
        return;
    /* Untrusted names: control bytes (ESC would reach a terminal through
     * `cat`) and invalid UTF-8 become \xNN (pb_text_put_escaped); printable
     * ASCII, the usual case, is written as it is. */
    const char *s = raw, *q = raw;
    while (*q >= 0x20 && *q < 0x7f)
        q++;
    char *esc = NULL;
    if (*q) {
        size_t n = 0;
        FILE *m = open_memstream(&esc, &n);
        if (!m)
            return;
        pb_text_put_escaped(m, raw);
        if (fclose(m) != 0 || !esc) {
            free(esc);
            return;
        }
        s = esc;
    }
    /* RFC 4180: quote when the field holds a comma or a quote (line
     * breaks are escaped above). */
    if (!strpbrk(s, ",\"")) {
        fputs(s, f);
    } else {
        fputc('"', f);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    }
    free(esc);
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
}

static const char *fmt_id(pb_source_format f)
{
    return f == PB_FMT_PARBENCH ? "parbench" :
           f == PB_FMT_TR115_RUST ? "tr115-rust" : "tr115-python";
}

static const char *boolean(int b)
{
    return b ? "true" : "false";
}

/* One row per run: every per-run quantity under the one name it has in
 * the groups, the JSON and the report (PB_METRICS, then the comparison
 * metrics pb_metric.h adds: duration, TTFT, decode rate, throughput). */
static void write_runs(FILE *f, const pb_dataset *ds, const pb_derived *dv)
{
    fputs("path,format,runtime,config,run_index,valid,n_agents,wall_s", f);
    for (size_t m = 0; m < PB_N_METRICS; m++)
        fprintf(f, ",%s", PB_METRICS[m].id);
    static const pb_metric_id EXTRA[] = {PB_M_DURATION, PB_M_TTFT, PB_M_DECODE, PB_M_THROUGHPUT};
    for (size_t k = 0; k < sizeof EXTRA / sizeof EXTRA[0]; k++)
        fprintf(f, ",%s", pb_metrics[EXTRA[k]].key);
    fputs(",invalid_reason\n", f);
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        str(f, r->path);
        fprintf(f, ",%s,", fmt_id(r->format));
        str(f, r->runtime);
        fputc(',', f);
        str(f, r->config);
        fprintf(f, ",%d,%s,%zu,", r->run_index, boolean(r->valid), r->n_agents);
        num(f, r->wall_s);
        for (size_t m = 0; m < PB_N_METRICS; m++) {
            fputc(',', f);
            num(f, pb_metric_get(&dv[i], &PB_METRICS[m]));
        }
        for (size_t k = 0; k < sizeof EXTRA / sizeof EXTRA[0]; k++) {
            fputc(',', f);
            num(f, pb_metric_run(r, EXTRA[k]));
        }
        fputc(',', f);
        str(f, r->invalid_reason);
        fputc('\n', f);
    }
}

/* The measured metrics (pb_metrics.h) as column stems: ID_n, ID_mean,
 * ID_ci_lo, ID_ci_hi (Student t over the runs that have it). */
static void metrics_hdr(FILE *f)
{
    for (size_t m = 0; m < PB_N_METRICS; m++)
        fprintf(f, ",%s_n,%s_mean,%s_ci_lo,%s_ci_hi", PB_METRICS[m].id, PB_METRICS[m].id,
                PB_METRICS[m].id, PB_METRICS[m].id);
}

/* The metrics' summaries (pb_result: computed once, one definition). */
static void metrics_cols(FILE *f, const pb_summary *s)
{
    for (size_t m = 0; m < PB_N_METRICS; m++) {
        fprintf(f, ",%zu,", s[m].n);
        num(f, s[m].mean);
        fputc(',', f);
        num(f, s[m].ci_lo);
        fputc(',', f);
        num(f, s[m].ci_hi);
    }
}

static void write_groups(FILE *f, const pb_result *res)
{
    const pb_analysis *a = &res->an;
    /* The original efficiency's fuller summary (sd, median, range, the
     * bootstrap) under its own name; its mean and t interval are the
     * est_efficiency columns' (one definition). */
    fputs("runtime,config,est_efficiency_sd,est_efficiency_min,est_efficiency_max,"
          "est_efficiency_median,est_efficiency_boot_lo,est_efficiency_boot_hi,est_speedup_sd",
          f);
    metrics_hdr(f);
    fputc('\n', f);
    for (size_t i = 0; i < a->n_groups; i++) {
        const pb_group *g = &a->groups[i];
        str(f, g->runtime);
        fputc(',', f);
        str(f, g->config);
        fputc(',', f);
        double v[] = {g->eff.sd, g->eff.min, g->eff.max, g->eff.median, g->eff.boot_lo,
                      g->eff.boot_hi, g->speedup.sd};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (k)
                fputc(',', f);
            num(f, v[k]);
        }
        metrics_cols(f, pb_result_gsum(res, i, 0));
        fputc('\n', f);
    }
}

static void write_runtimes(FILE *f, const pb_result *res)
{
    const pb_dataset *ds = res->ds;
    const pb_analysis *a = &res->an;
    fputs("runtime,n_configs,cfgmeans_peak,cfgmeans_peak_config,cfgmeans_mean,"
          "cfgmeans_sd,cfgmeans_peak_speedup,cfg_sd_mean,most_stable_config,"
          "least_stable_config,est_efficiency_sd,est_efficiency_min,est_efficiency_max,"
          "est_efficiency_median,est_efficiency_boot_lo,est_efficiency_boot_hi,"
          "peak_run_config,peak_run_index", f);
    metrics_hdr(f);
    fputc('\n', f);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        str(f, r->runtime);
        fprintf(f, ",%zu,", r->n_groups);
        num(f, r->cfg_peak);
        fputc(',', f);
        str(f, r->cfg_peak_config);
        fputc(',', f);
        double v[] = {r->cfg_mean, r->cfg_sd, r->cfg_peak_speedup, r->cfg_mean_sd};
        for (size_t k = 0; k < 4; k++) {
            num(f, v[k]);
            fputc(',', f);
        }
        str(f, r->most_stable);
        fputc(',', f);
        str(f, r->least_stable);
        fputc(',', f);
        /* Over runs: the original efficiency's fuller summary; its n, mean
         * and interval are the est_efficiency metric columns. */
        double v2[] = {r->eff.sd, r->eff.min, r->eff.max, r->eff.median, r->eff.boot_lo,
                       r->eff.boot_hi};
        for (size_t k = 0; k < sizeof v2 / sizeof v2[0]; k++) {
            num(f, v2[k]);
            fputc(',', f);
        }
        if (!isnan(r->run_peak)) {
            str(f, ds->runs[r->run_peak_idx].config);
            fprintf(f, ",%d", ds->runs[r->run_peak_idx].run_index);
        } else {
            fputs(",", f);
        }
        metrics_cols(f, pb_result_rsum(res, i, 0));
        fputc('\n', f);
    }
}

/* A workflow stage that was an LLM call: parbench names its steps
 * "stepN llm" / "stepN work"; the study team's files give llm stages their
 * call's TTFT or tokens and work stages (ingest) neither. */
static int stage_is_llm(const pb_stage *sg)
{
    size_t l = strlen(sg->name);
    if (l >= 5 && strcmp(sg->name + l - 5, " work") == 0)
        return 0;
    if (l >= 4 && strcmp(sg->name + l - 4, " llm") == 0)
        return 1;
    return isfinite(sg->ttft_ms) || isfinite(sg->tokens);
}

/* One row per LLM call, invalid runs included: the raw material for any
 * per-call question (TTFT distributions, rates). An agent with one request
 * per phase is one call (step 0); a workflow agent's concurrent phase is
 * one row per llm step, with its index among the agent's steps and its
 * stage name; its solo phase, whose calls the traces do not break down
 * here, one row of kind "workflow" (all its steps). */
static void request_row(FILE *f, const pb_run *r, const pb_agent *ag, const pb_request *rq,
                        const char *phase, long step, const char *kind, const char *stage,
                        const pb_stage *sg)
{
    pb_derive_req d;
    pb_derive_request(rq, &d);
    str(f, r->input);
    fputc(',', f);
    str(f, r->runtime);
    fputc(',', f);
    str(f, r->config);
    fprintf(f, ",%d,%s,%s,", r->run_index, boolean(r->valid), phase);
    str(f, ag->id);
    if (step >= 0)
        fprintf(f, ",%ld,%s,", step, kind);
    else
        fprintf(f, ",,%s,", kind);
    str(f, stage);
    fputc(',', f);
    /* A step row has its stage's own figures (its start is not kept). */
    double v[] = {sg ? NAN : rq->t_start - r->conc_start, sg ? sg->ttft_ms : rq->ttft_ms,
                  sg ? sg->tokens : rq->tokens, sg ? sg->seconds : rq->duration_s,
                  sg ? NAN : d.client_rate, sg ? sg->tokens_per_s : rq->server_rate};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        num(f, v[k]);
        fputc(',', f);
    }
    if (rq->http_status >= 0)
        fprintf(f, "%d", rq->http_status);
    fprintf(f, ",%s,", boolean(rq->ok));
    str(f, rq->error);
    fputc(',', f);
    str(f, r->path);
    fputc('\n', f);
}

static void write_requests(FILE *f, const pb_dataset *ds)
{
    fputs("input,runtime,config,run_index,valid,phase,agent,step,kind,stage,start_offset_s,"
          "ttft_ms,tokens,duration_s,client_rate,server_rate,http_status,ok,error,path\n", f);
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        for (size_t k = 0; k < r->n_agents; k++) {
            const pb_agent *ag = &r->agents[k];
            int wf = ag->n_stages > 0;
            if (ag->has_solo)
                request_row(f, r, ag, &ag->solo, "solo", wf ? -1 : 0, wf ? "workflow" : "llm",
                            "", NULL);
            /* The original study's files have one (concurrent) request per
             * agent without the has_conc flag of a trace. */
            if (!ag->has_conc && r->format == PB_FMT_PARBENCH)
                continue;
            if (!wf) {
                request_row(f, r, ag, &ag->conc, "concurrent", 0, "llm", "", NULL);
                continue;
            }
            for (size_t q = 0; q < ag->n_stages; q++)
                if (stage_is_llm(&ag->stages[q]))
                    request_row(f, r, ag, &ag->conc, "concurrent", (long)q, "llm",
                                ag->stages[q].name, &ag->stages[q]);
        }
    }
}

/* One row per comparison and metric (the statistics' comparisons, as the
 * report prints them): the estimate with its Welch CI and test, Holm within
 * the metric's family, Mann-Whitney, Hodges-Lehmann, van Elteren, the
 * difference adjusted for config, effect sizes and power. Log-scale
 * metrics: estimate and intervals are ratios, d and g on ln values. */
static void write_comparisons(FILE *f, const pb_analysis *a)
{
    fputs("family,metric,scale,a,b,with_baseline,n_a,n_b,estimate,ci_lo,ci_hi,test,statistic,"
          "df,p,p_holm,mw_u,mw_p,mw_p_holm,mw_method,hl_shift,hl_ci_lo,hl_ci_hi,"
          "van_elteren_p,van_elteren_p_holm,adjusted_for_config,adjusted_ci_lo,adjusted_ci_hi,"
          "cohen_d,hedges_g,hedges_g_ci_lo,hedges_g_ci_hi,glass_delta,"
          "min_detectable_difference,target_difference,runs_needed\n", f);
    for (size_t i = 0; i < a->n_cmps; i++) {
        const pb_comparison *c = &a->cmps[i];
        str(f, c->family);
        fputc(',', f);
        str(f, pb_metrics[c->metric].key);
        fprintf(f, ",%s,", c->log_scale ? "log" : "linear");
        str(f, a->rts[c->a].runtime);
        fputc(',', f);
        str(f, a->rts[c->b].runtime);
        fprintf(f, ",%s,%zu,%zu,", boolean(c->with_baseline), c->c.n1, c->c.n2);
        double v1[] = {c->estimate, c->lo, c->hi};
        for (size_t k = 0; k < 3; k++) {
            num(f, v1[k]);
            fputc(',', f);
        }
        str(f, c->test);
        fputc(',', f);
        double v2[] = {c->statistic, c->df, c->p, c->p_holm};
        for (size_t k = 0; k < 4; k++) {
            num(f, v2[k]);
            fputc(',', f);
        }
        double v3[] = {c->c.mw_u, c->c.mw_p, c->c.mw_p_holm};
        for (size_t k = 0; k < 3; k++) {
            num(f, v3[k]);
            fputc(',', f);
        }
        fputs(isnan(c->c.mw_p) ? "" : c->c.mw_exact ? "exact" : "normal", f);
        double v4[] = {c->c.hl_shift, c->c.hl_lo, c->c.hl_hi, c->ve.p, c->ve_p_holm, c->adj,
                       c->adj_lo, c->adj_hi, c->c.cohen_d, c->c.hedges_g, c->c.g_lo,
                       c->c.g_hi, c->c.glass_delta, c->mdd, c->target, c->n_needed};
        for (size_t k = 0; k < sizeof v4 / sizeof v4[0]; k++) {
            fputc(',', f);
            num(f, v4[k]);
        }
        fputc('\n', f);
    }
}

/* groups_long.csv: the same numbers in long form, one value per row
 * (runtime, config, metric, statistic, value); config is empty on a
 * runtime's rows (all its configs). Tidy tools pivot it as they like. */
static void long_rows(FILE *f, const char *runtime, const char *config, const pb_summary *s)
{
    for (size_t m = 0; m < PB_N_METRICS; m++) {
        if (s[m].n == 0)
            continue;
        const char *stat[] = {"n", "mean", "ci_lo", "ci_hi", "sd", "median", "min", "max"};
        double v[] = {(double)s[m].n, s[m].mean, s[m].ci_lo, s[m].ci_hi, s[m].sd,
                      s[m].median, s[m].min, s[m].max};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            if (!isfinite(v[k]))
                continue;
            str(f, runtime);
            fputc(',', f);
            str(f, config);
            fprintf(f, ",%s,%s,", PB_METRICS[m].id, stat[k]);
            num(f, v[k]);
            fputc('\n', f);
        }
    }
}

static void write_long(FILE *f, const pb_result *res)
{
    const pb_analysis *a = &res->an;
    fputs("runtime,config,metric,statistic,value\n", f);
    for (size_t r = 0; r < a->n_rts; r++) {
        long_rows(f, a->rts[r].runtime, "", pb_result_rsum(res, r, 0));
        for (size_t g = a->rts[r].first_group; g < a->rts[r].first_group + a->rts[r].n_groups; g++)
            long_rows(f, a->groups[g].runtime, a->groups[g].config, pb_result_gsum(res, g, 0));
    }
}

static int emit(const char *dir, const char *name, int which, const pb_result *res,
                char *err, size_t errlen)
{
    char *buf = NULL, path[4096];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(err, errlen, "cannot build %s in memory", name);
        return -1;
    }
    switch (which) {
    case 0: write_runs(f, res->ds, res->dv); break;
    case 1: write_groups(f, res); break;
    case 2: write_runtimes(f, res); break;
    case 3: write_requests(f, res->ds); break;
    case 4: write_comparisons(f, &res->an); break;
    default: write_long(f, res); break;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = pb_fs_write_derived(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

int pb_csv_write(const char *dir, const pb_result *res, char *err, size_t errlen)
{
    static const char *const NAMES[] = {"runs.csv", "groups.csv", "runtimes.csv",
                                        "requests.csv", "comparisons.csv", "groups_long.csv"};
    int rc = 0;
    for (int i = 0; i < 6 && rc == 0; i++)
        rc = emit(dir, NAMES[i], i, res, err, errlen);
    return rc;
}
