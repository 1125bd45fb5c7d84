/* pb_json_out: --json FILE (see pb_json_out.h; schema in analyze/README.md).
 * Numbers are written by cJSON with 17 significant digits (full double
 * precision); a quantity that could not be computed (NAN) is null. */
#include "pb_json_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pb_analysis.h"
#include "pb_answer.h"
#include "pb_derive.h"
#include "pb_exec.h"
#include "pb_fs.h"
#include "pb_json.h"
#include "pb_sampling.h"
#include "pb_metrics.h"
#include "pb_scaling.h"
#include "pb_servers.h"
#include "pb_stats.h"

/* NAN and infinities are not JSON: null says "not available". */
static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static cJSON *json_summary(const pb_summary *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    add_num(o, "mean", s->mean);
    add_num(o, "sd", s->sd);
    add_num(o, "min", s->min);
    add_num(o, "max", s->max);
    add_num(o, "median", s->median);
    add_num(o, "ci_lo", s->ci_lo);
    add_num(o, "ci_hi", s->ci_hi);
    add_num(o, "boot_lo", s->boot_lo);
    add_num(o, "boot_hi", s->boot_hi);
    cJSON_AddBoolToObject(o, "clipped", s->clipped);
    return o;
}

/* ---- the statistics' structs (analyze/pb_ratio.h, pb_anova.h, pb_rank.h,
 *      pb_analysis.h), one function each ------------------------------- */

static cJSON *json_ratio(const pb_ratio *r)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "estimate", r->est);
    add_num(o, "ci_lo", r->lo);
    add_num(o, "ci_hi", r->hi);
    add_num(o, "df", r->df);
    cJSON_AddBoolToObject(o, "unbounded", r->unbounded);
    cJSON_AddBoolToObject(o, "clipped", r->clipped);
    add_num(o, "boot_lo", r->boot_lo);
    add_num(o, "boot_hi", r->boot_hi);
    cJSON_AddNumberToObject(o, "n_strata", (double)r->n_strata);
    cJSON_AddNumberToObject(o, "n_num", (double)r->n_num);
    cJSON_AddNumberToObject(o, "n_den", (double)r->n_den);
    return o;
}

static cJSON *json_geomean(const pb_geomean *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)g->n);
    add_num(o, "estimate", g->gm);
    add_num(o, "ci_lo", g->lo);
    add_num(o, "ci_hi", g->hi);
    add_num(o, "log_mean", g->log_mean);
    add_num(o, "log_sd", g->log_sd);
    return o;
}

static cJSON *json_tukey(const pb_tukey *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)t->n);
    add_num(o, "q1", t->q1);
    add_num(o, "q3", t->q3);
    add_num(o, "iqr", t->iqr);
    add_num(o, "lo_severe", t->lo_severe);
    add_num(o, "lo_mild", t->lo_mild);
    add_num(o, "hi_mild", t->hi_mild);
    add_num(o, "hi_severe", t->hi_severe);
    cJSON_AddNumberToObject(o, "n_mild", (double)t->n_mild);
    cJSON_AddNumberToObject(o, "n_severe", (double)t->n_severe);
    return o;
}

static const char *outlier_name(pb_outlier c)
{
    switch (c) {
    case PB_OUT_LOW_SEVERE: return "low severe";
    case PB_OUT_LOW_MILD: return "low mild";
    case PB_OUT_HIGH_MILD: return "high mild";
    case PB_OUT_HIGH_SEVERE: return "high severe";
    case PB_OUT_NONE: break;
    }
    return "none";
}

/* Order effects of one group; the outliers as a list of runs. */
static cJSON *json_order(const pb_dataset *ds, const pb_group *g)
{
    const pb_order *r = &g->order;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)r->n);
    add_num(o, "spearman_rho", r->rho);
    add_num(o, "spearman_p", r->rho_p);
    add_num(o, "first_run_diff_s", r->first_diff);
    add_num(o, "first_run_t", r->first_t);
    add_num(o, "first_run_p", r->first_p);
    cJSON_AddItemToObject(o, "wall_tukey", json_tukey(&r->tukey));
    cJSON *out = cJSON_AddArrayToObject(o, "outliers");
    for (size_t k = 0; r->cls && k < g->n; k++) {
        if (r->cls[k] == PB_OUT_NONE)
            continue;
        const pb_run *run = &ds->runs[g->runs[k]];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "run_index", run->run_index);
        add_str(j, "path", run->path);
        add_num(j, "wall_s", run->wall_s);
        cJSON_AddStringToObject(j, "class", outlier_name(r->cls[k]));
        cJSON_AddItemToArray(out, j);
    }
    return o;
}

static cJSON *json_anova_row(const pb_anova_row *r)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "ss", r->ss);
    add_num(o, "df", r->df);
    add_num(o, "ms", r->ms);
    add_num(o, "F", r->F);
    add_num(o, "p", r->p);
    return o;
}

static cJSON *json_anova(const pb_analysis *a, int m)
{
    const pb_anova *v = &a->anova[m];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metric", pb_metrics[m].key);
    cJSON_AddBoolToObject(o, "log_scale", pb_metrics[m].log_scale);
    cJSON_AddNumberToObject(o, "n", (double)v->n);
    add_str(o, "ss_type", v->ss_type);
    cJSON_AddBoolToObject(o, "balanced", v->balanced);
    cJSON_AddNumberToObject(o, "cells_used", (double)v->cells_used);
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    const struct { const char *name; const pb_anova_row *r; } R[] = {
        {"runtime", &v->a}, {"config", &v->b}, {"runtime x config", &v->ab},
        {"error", &v->err}};
    for (size_t i = 0; i < 4; i++) {
        cJSON *r = json_anova_row(R[i].r);
        cJSON_AddStringToObject(r, "term", R[i].name);
        cJSON_AddItemToArray(rows, r);
    }
    /* Estimated marginal means per runtime (factor A = the analysis'
     * runtimes, in its order). */
    cJSON *emm = cJSON_AddArrayToObject(o, "emm");
    for (size_t i = 0; v->emm && i < v->na && i < a->n_rts; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "runtime", a->rts[i].runtime);
        add_num(e, "mean", v->emm[i]);
        add_num(e, "ci_lo", v->emm_lo[i]);
        add_num(e, "ci_hi", v->emm_hi[i]);
        cJSON_AddItemToArray(emm, e);
    }
    return o;
}

/* One comparison of the statistics (every metric, Holm per family). */
static cJSON *json_comparison(const pb_analysis *a, const pb_comparison *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "family", c->family);
    cJSON_AddStringToObject(o, "metric", pb_metrics[c->metric].key);
    cJSON_AddStringToObject(o, "a", a->rts[c->a].runtime);
    cJSON_AddStringToObject(o, "b", a->rts[c->b].runtime);
    cJSON_AddBoolToObject(o, "with_baseline", c->with_baseline);
    cJSON_AddBoolToObject(o, "log_scale", c->log_scale);
    cJSON_AddNumberToObject(o, "n_a", (double)c->c.n1);
    cJSON_AddNumberToObject(o, "n_b", (double)c->c.n2);
    add_num(o, "estimate", c->estimate);
    add_num(o, "ci_lo", c->lo);
    add_num(o, "ci_hi", c->hi);
    add_str(o, "test", c->test);
    add_num(o, "statistic", c->statistic);
    add_num(o, "df", c->df);
    add_num(o, "p", c->p);
    add_num(o, "p_holm", c->p_holm);
    add_num(o, "mw_u", c->c.mw_u);
    add_num(o, "mw_p", c->c.mw_p);
    add_num(o, "mw_p_holm", c->c.mw_p_holm);
    cJSON_AddStringToObject(o, "mw_method", c->c.mw_exact ? "exact" : "normal");
    add_num(o, "hl_shift", c->c.hl_shift);
    add_num(o, "hl_ci_lo", c->c.hl_lo);
    add_num(o, "hl_ci_hi", c->c.hl_hi);
    add_num(o, "van_elteren_z", c->ve.z);
    add_num(o, "van_elteren_p", c->ve.p);
    add_num(o, "van_elteren_p_holm", c->ve_p_holm);
    add_num(o, "adjusted_for_config", c->adj);
    add_num(o, "adjusted_ci_lo", c->adj_lo);
    add_num(o, "adjusted_ci_hi", c->adj_hi);
    add_num(o, "cohen_d", c->c.cohen_d);
    add_num(o, "hedges_g", c->c.hedges_g);
    add_num(o, "hedges_g_ci_lo", c->c.g_lo);
    add_num(o, "hedges_g_ci_hi", c->c.g_hi);
    add_num(o, "glass_delta", c->c.glass_delta);
    add_num(o, "min_detectable_difference", c->mdd);
    add_num(o, "target_difference", c->target);
    add_num(o, "runs_needed", c->n_needed);
    return o;
}

/* The derived metrics' summaries (pb_result, one definition per metric:
 * geometric for ratios), one object per metric (names as values). */
static cJSON *json_metrics(const pb_summary *s)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t m = 0; m < PB_N_METRICS; m++) {
        if (s[m].n == 0)
            continue;   /* absent metrics are left out, not listed as null */
        cJSON *o = json_summary(&s[m]);
        cJSON_AddStringToObject(o, "metric", PB_METRICS[m].id);
        cJSON_AddStringToObject(o, "unit", PB_METRICS[m].unit);
        cJSON_AddStringToObject(o, "mean_kind", PB_METRICS[m].geo ? "geometric" : "arithmetic");
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *json_runtime(const pb_result *res, const pb_rt *r)
{
    const pb_dataset *ds = res->ds;
    const pb_analysis *a = &res->an;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "runtime", r->runtime);
    cJSON_AddStringToObject(o, "measured_by",
                            pb_exec_by_id(pb_exec_rt_by(res, (size_t)(r - a->rts), NULL)));
    cJSON_AddNumberToObject(o, "n_configs", (double)r->n_groups);
    cJSON *cm = cJSON_AddObjectToObject(o, "over_config_means");
    add_num(cm, "peak", r->cfg_peak);
    add_str(cm, "peak_config", r->cfg_peak_config);
    add_num(cm, "mean", r->cfg_mean);
    add_num(cm, "sd", r->cfg_sd);
    add_num(cm, "peak_speedup", r->cfg_peak_speedup);
    add_num(cm, "mean_of_config_sds", r->cfg_mean_sd);
    add_str(cm, "most_stable_config", r->most_stable);
    add_num(cm, "most_stable_sd", r->most_stable ? r->most_stable_sd : NAN);
    add_str(cm, "least_stable_config", r->least_stable);
    add_num(cm, "least_stable_sd", r->least_stable ? r->least_stable_sd : NAN);
    cJSON *ov = cJSON_AddObjectToObject(o, "over_runs");
    cJSON_AddItemToObject(ov, "efficiency", json_summary(&r->eff));
    cJSON_AddItemToObject(ov, "speedup", json_summary(&r->speedup));
    add_num(ov, "peak_run_efficiency", r->run_peak);
    if (!isnan(r->run_peak)) {
        add_str(ov, "peak_run_path", ds->runs[r->run_peak_idx].path);
        add_str(ov, "peak_run_config", ds->runs[r->run_peak_idx].config);
        cJSON_AddNumberToObject(ov, "peak_run_index", ds->runs[r->run_peak_idx].run_index);
    }
    cJSON_AddItemToObject(o, "metrics",
                          json_metrics(pb_result_rsum(res, (size_t)(r - a->rts), 0)));
    cJSON_AddItemToObject(o, "paired_speedup", json_geomean(&r->paired_speedup));
    if (a->seqref >= 0 && !r->seqref_is_self)
        cJSON_AddItemToObject(o, "seqref_speedup", json_ratio(&r->seqref));
    else
        cJSON_AddNullToObject(o, "seqref_speedup");
    cJSON_AddBoolToObject(o, "is_sequential_reference", r->seqref_is_self);
    add_num(o, "best_config_boot_lo", r->best_boot_lo);
    add_num(o, "best_config_boot_hi", r->best_boot_hi);
    return o;
}

static cJSON *json_group(const pb_result *res, const pb_group *g)
{
    const pb_dataset *ds = res->ds;
    const pb_analysis *a = &res->an;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "runtime", g->runtime);
    cJSON_AddStringToObject(o, "config", g->config);
    cJSON_AddNumberToObject(o, "n", (double)g->n);
    cJSON_AddItemToObject(o, "efficiency", json_summary(&g->eff));
    cJSON_AddItemToObject(o, "speedup", json_summary(&g->speedup));
    cJSON_AddItemToObject(o, "metrics",
                          json_metrics(pb_result_gsum(res, (size_t)(g - a->groups), 0)));
    cJSON_AddNumberToObject(o, "n_dropped", (double)g->n_dropped);
    if (a->seqref >= 0 && isfinite(g->seqref.est))
        cJSON_AddItemToObject(o, "seqref_speedup", json_ratio(&g->seqref));
    else
        cJSON_AddNullToObject(o, "seqref_speedup");
    cJSON_AddItemToObject(o, "order", json_order(ds, g));
    return o;
}

static cJSON *json_answer(const pb_answer_rt *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "runtime", r->runtime);
    add_str(o, "estimator", r->estimator);
    cJSON_AddStringToObject(o, "estimator_name", pb_answer_estimator_name(r->estimator));
    cJSON_AddNumberToObject(o, "n", (double)r->n);
    add_num(o, "n_agents", r->estimator ? r->n_agents : NAN);
    add_num(o, "speedup", r->estimate);
    add_num(o, "ci_lo", r->lo);
    add_num(o, "ci_hi", r->hi);
    add_num(o, "rel_se", r->rel_se);
    cJSON_AddBoolToObject(o, "unbounded", r->unbounded);
    cJSON_AddStringToObject(o, "verdict", pb_answer_verdict_word(r->verdict));
    cJSON_AddBoolToObject(o, "is_sequential_reference", r->is_reference);
    cJSON_AddBoolToObject(o, "is_control", r->is_control);
    cJSON_AddBoolToObject(o, "per_n", r->per_n);
    return o;
}

/* hyperfine's line: fast ran ratio ± se times faster than slow. */
static cJSON *json_answer_vs(const pb_answer *a, const pb_answer_vs *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "fast", a->rts[v->fast].runtime);
    cJSON_AddStringToObject(o, "slow", a->rts[v->slow].runtime);
    add_num(o, "n_agents", a->rts[v->fast].n_agents);
    add_num(o, "ratio", v->ratio);
    add_num(o, "se", v->pm);
    add_num(o, "ci_lo", v->lo);
    add_num(o, "ci_hi", v->hi);
    cJSON_AddBoolToObject(o, "significant", v->significant);
    return o;
}

static const char *fmt_id(pb_source_format f)
{
    return f == PB_FMT_PARBENCH ? "parbench" :
           f == PB_FMT_TR115_RUST ? "tr115-rust" : "tr115-python";
}

static cJSON *json_request(const pb_agent *ag, const pb_request *rq, const char *phase)
{
    pb_derive_req d;
    pb_derive_request(rq, &d);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agent", ag->id);
    cJSON_AddStringToObject(o, "phase", phase);
    cJSON_AddBoolToObject(o, "ok", rq->ok);
    add_num(o, "http_status", rq->http_status >= 0 ? rq->http_status : NAN);
    add_num(o, "t_start_s", rq->t_start);
    add_num(o, "ttft_ms", rq->ttft_ms);
    add_num(o, "tokens", rq->tokens);
    add_num(o, "duration_s", rq->duration_s);
    add_num(o, "client_rate", d.client_rate);
    add_num(o, "server_rate", rq->server_rate);
    cJSON_AddNumberToObject(o, "n_chunks", (double)rq->n_chunks);
    add_str(o, "error", rq->error);
    return o;
}

/* pb_settings (issue 21): the answer per server setting at full precision. */
static cJSON *json_settings(const pb_settings *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *names = cJSON_AddArrayToObject(o, "settings");
    for (size_t i = 0; i < st->n_names; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(st->names[i]));
    cJSON *ss = cJSON_AddArrayToObject(o, "series");
    for (size_t i = 0; i < st->n_series; i++) {
        const pb_setting_series *s = &st->series[i];
        cJSON *j = cJSON_CreateObject();
        add_str(j, "runtime", s->runtime);
        add_str(j, "config_rest", s->rest);
        add_num(j, "n_agents", s->n_agents);
        cJSON *pts = cJSON_AddArrayToObject(j, "points");
        for (size_t k = 0; k < s->n_points; k++) {
            const pb_setting_point *p = &s->pts[k];
            cJSON *q = cJSON_CreateObject();
            add_str(q, "setting", p->setting);
            cJSON_AddNumberToObject(q, "runs", (double)p->runs);
            add_str(q, "speedup_kind", p->eff_measured ? "measured" : "estimated");
            cJSON_AddItemToObject(q, "speedup", json_summary(&p->speedup));
            cJSON_AddItemToObject(q, "efficiency", json_summary(&p->eff));
            cJSON_AddItemToObject(q, "throughput", json_summary(&p->throughput));
            add_str(q, "verdict", pb_answer_verdict_word(p->verdict));
            add_num(q, "gpu_util_mean_pct", p->gpu_util_mean);
            add_num(q, "gpu_util_max_pct", p->gpu_util_max);
            cJSON_AddItemToArray(pts, q);
        }
        cJSON_AddItemToArray(ss, j);
    }
    return o;
}

/* A run's server setting, telemetry per kind of phase and host load. */
static void json_run_servers(cJSON *o, const pb_run *r)
{
    add_str(o, "server_setting", r->server_setting);
    add_str(o, "model_events", r->model_events);
    const pb_run_telemetry *t = r->tel;
    if (!t) {
        cJSON_AddNullToObject(o, "telemetry");
        return;
    }
    cJSON *j = cJSON_AddObjectToObject(o, "telemetry");
    static const char *const PH[2] = {"solo", "concurrent"};
    for (int k = 0; k < 2; k++) {
        cJSON *p = cJSON_AddObjectToObject(j, PH[k]);
        add_num(p, "gpu_util_mean_pct", t->gpu_util_mean[k]);
        add_num(p, "gpu_util_max_pct", t->gpu_util_max[k]);
        add_num(p, "gpu_mem_mib", t->gpu_mem_mib[k]);
        add_num(p, "ps_vram_mib", t->ps_vram_mib[k]);
    }
    add_str(j, "models", t->models);
    add_num(j, "host_loadavg_1m_max", t->host_load);
    add_num(j, "host_cpus", t->host_cpus);
    add_num(j, "host_steal_pct", t->host_steal_pct);
}

static cJSON *json_run(const pb_run *r, const pb_derived *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", r->path ? r->path : "");
    cJSON_AddStringToObject(o, "format", fmt_id(r->format));
    add_str(o, "input", r->input);
    add_str(o, "runtime", r->runtime);
    add_str(o, "config", r->config);
    cJSON_AddNumberToObject(o, "run_index", r->run_index);
    cJSON_AddBoolToObject(o, "valid", r->valid);
    add_str(o, "invalid_reason", r->invalid_reason);
    cJSON_AddNumberToObject(o, "n_agents", (double)r->n_agents);
    add_num(o, "wall_s", r->wall_s);
    cJSON_AddStringToObject(o, "measured_by", pb_exec_by_id(r->measured_by));
    add_str(o, "host", r->host);
    add_str(o, "wall_origin", r->wall_origin);
    add_str(o, "collect_version", r->tool_version);
    add_num(o, "collector_cpu_s", r->collector_cpu_s);
    add_str(o, "collector_cpus", r->collector_cpus);
    if (r->emu_time_scale > 0) {
        cJSON *e = cJSON_AddObjectToObject(o, "emulator");
        cJSON_AddNumberToObject(e, "time_scale", r->emu_time_scale);
        add_str(e, "preset", r->emu_preset);
    } else {
        cJSON_AddNullToObject(o, "emulator");
    }
    /* Per-run metrics are record fields (fixed names, one per column), so
     * a reader can build a table of runs without pivoting. */
    cJSON *m = cJSON_AddObjectToObject(o, "metrics");
    for (size_t k = 0; k < PB_N_METRICS; k++)
        add_num(m, PB_METRICS[k].id, pb_metric_get(d, &PB_METRICS[k]));
    json_run_servers(o, r);
    cJSON *rq = cJSON_AddArrayToObject(o, "requests");
    for (size_t k = 0; k < r->n_agents; k++) {
        const pb_agent *ag = &r->agents[k];
        if (ag->has_solo)
            cJSON_AddItemToArray(rq, json_request(ag, &ag->solo, "solo"));
        if (ag->has_conc || r->format != PB_FMT_PARBENCH)
            cJSON_AddItemToArray(rq, json_request(ag, &ag->conc, "concurrent"));
    }
    return o;
}

/* pb_scaling (issue 12): the report's scaling section at full precision. */
static cJSON *json_scaling(const pb_scaling *sc)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "knee_pct", sc->knee_pct);
    cJSON *ss = cJSON_AddArrayToObject(o, "series");
    for (size_t i = 0; i < sc->n_series; i++) {
        const pb_scaling_series *s = &sc->series[i];
        cJSON *j = cJSON_CreateObject();
        add_str(j, "runtime", s->runtime);
        add_str(j, "config", s->config);
        add_str(j, "efficiency", s->eff_measured ? "measured" : "estimated");
        cJSON_AddNumberToObject(j, "knee_n", (double)s->knee_n);
        cJSON_AddNumberToObject(j, "knee_n_ci", (double)s->knee_n_ci);
        cJSON *pts = cJSON_AddArrayToObject(j, "points");
        for (size_t k = 0; k < s->n_points; k++) {
            const pb_scaling_point *p = &s->pts[k];
            cJSON *q = cJSON_CreateObject();
            cJSON_AddNumberToObject(q, "n_agents", (double)p->n_agents);
            cJSON_AddNumberToObject(q, "runs", (double)p->runs);
            cJSON_AddItemToObject(q, "efficiency", json_summary(&p->eff));
            cJSON_AddItemToObject(q, "speedup", json_summary(&p->speedup));
            cJSON_AddItemToObject(q, "throughput", json_summary(&p->throughput));
            cJSON_AddItemToArray(pts, q);
        }
        cJSON_AddItemToArray(ss, j);
    }
    return o;
}

static cJSON *json_options(const pb_report_opts *op)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *in = cJSON_AddArrayToObject(o, "inputs");
    for (int i = 0; i < op->n_inputs; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(op->inputs[i]));
    const pb_result_opts *ro = &op->res->opts;
    cJSON_AddNumberToObject(o, "seed", (double)ro->seed);
    cJSON_AddNumberToObject(o, "bootstrap", ro->boot_reps);
    cJSON_AddNumberToObject(o, "drop_first", (double)ro->drop_first);
    add_str(o, "baseline", ro->baseline);
    add_str(o, "sequential_ref", ro->sequential_ref);
    cJSON *refs = cJSON_AddArrayToObject(o, "refs");
    for (size_t i = 0; i < op->n_refs; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "name", op->refs[i].name);
        cJSON_AddNumberToObject(r, "value", op->refs[i].value);
        cJSON_AddItemToArray(refs, r);
    }
    return o;
}

/* collect --target-ci groups (pb_sampling): the final interval and
 * whether the target was met; an empty array without such runs. */
static cJSON *json_sampling(const pb_dataset *ds)
{
    cJSON *arr = cJSON_CreateArray();
    pb_sampling_group *sg;
    size_t n;
    if (pb_sampling_build(ds, &sg, &n) != 0)
        return arr;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "runtime", sg[i].runtime);
        cJSON_AddStringToObject(o, "config", sg[i].config);
        add_num(o, "target_ci_pct", sg[i].target_pct);
        add_num(o, "pilot_runs", sg[i].planned);
        add_num(o, "max_runs", sg[i].max_runs);
        add_num(o, "runs", (double)sg[i].n_runs);
        add_num(o, "added", (double)sg[i].n_added);
        add_num(o, "speedup", sg[i].mean);
        add_num(o, "ci_lo", sg[i].lo);
        add_num(o, "ci_hi", sg[i].hi);
        add_num(o, "halfwidth_pct", sg[i].halfwidth_pct);
        cJSON_AddBoolToObject(o, "target_met", sg[i].met);
        cJSON_AddItemToArray(arr, o);
    }
    free(sg);
    return arr;
}

static cJSON *json_quality(const pb_dataset *ds)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "files_seen", (double)ds->files_seen);
    cJSON_AddNumberToObject(o, "runs_loaded", (double)ds->n_runs);
    cJSON_AddNumberToObject(o, "runs_valid", (double)pb_dataset_n_valid(ds));
    cJSON_AddNumberToObject(o, "files_duplicate", (double)ds->files_duplicate);
    cJSON_AddNumberToObject(o, "files_aggregate", (double)ds->files_aggregate);
    cJSON_AddNumberToObject(o, "files_manifest", (double)ds->files_manifest);
    cJSON_AddNumberToObject(o, "files_revisited", (double)ds->files_revisited);
    cJSON_AddNumberToObject(o, "files_copies", (double)ds->files_copies);
    cJSON *nt = cJSON_AddArrayToObject(o, "notes");
    for (size_t i = 0; i < ds->n_notes; i++)
        cJSON_AddItemToArray(nt, cJSON_CreateString(ds->notes[i]));
    cJSON *sk = cJSON_AddArrayToObject(o, "skipped");
    for (size_t i = 0; i < ds->n_skips; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "path", ds->skips[i].path ? ds->skips[i].path : "");
        cJSON_AddStringToObject(s, "reason", ds->skips[i].reason ? ds->skips[i].reason : "");
        cJSON_AddItemToArray(sk, s);
    }
    cJSON *mf = cJSON_AddArrayToObject(o, "manifests");
    for (size_t i = 0; i < ds->n_manifests; i++) {
        const pb_manifest *m = &ds->manifests[i];
        cJSON *j = cJSON_CreateObject();
        add_str(j, "path", m->path);
        add_str(j, "created", m->created);
        add_str(j, "collect_version", m->version);
        add_str(j, "host", m->host);
        add_str(j, "command", m->command);
        cJSON_AddItemToArray(mf, j);
    }
    return o;
}

int pb_json_out_write(const char *path, const pb_report_opts *op, char *err, size_t errlen)
{
    const pb_result *res = op->res;
    const pb_dataset *ds = res->ds;
    const pb_analysis *a = &res->an;
    const pb_derived *dv = res->dv;
    const pb_answer ans = res->ans;
    cJSON *root = NULL;
    char *text = NULL;
    int rc = -1;
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", PB_JSON_SCHEMA);
    cJSON_AddNumberToObject(root, "schema_version", PB_JSON_SCHEMA_VERSION);
    cJSON *gen = cJSON_AddObjectToObject(root, "generator");
    cJSON_AddStringToObject(gen, "name", "analyze");
    cJSON_AddStringToObject(gen, "version", PARBENCH_VERSION);
    cJSON_AddItemToObject(root, "options", json_options(op));
    cJSON *an = cJSON_AddArrayToObject(root, "answer");
    for (size_t i = 0; i < ans.n_rts; i++)
        cJSON_AddItemToArray(an, json_answer(&ans.rts[i]));
    cJSON *vs = cJSON_AddArrayToObject(root, "answer_vs");
    for (size_t i = 0; i < ans.n_vs; i++)
        cJSON_AddItemToArray(vs, json_answer_vs(&ans, &ans.vs[i]));
    cJSON *wa = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < res->warn.n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "kind", pb_warn_kind_id(res->warn.v[i].kind));
        cJSON_AddStringToObject(x, "subject", res->warn.v[i].subject);
        cJSON_AddStringToObject(x, "text", res->warn.v[i].text);
        cJSON_AddItemToArray(wa, x);
    }
    cJSON *rts = cJSON_AddArrayToObject(root, "runtimes");
    for (size_t i = 0; i < a->n_rts; i++)
        cJSON_AddItemToArray(rts, json_runtime(res, &a->rts[i]));
    cJSON *gs = cJSON_AddArrayToObject(root, "groups");
    for (size_t i = 0; i < a->n_groups; i++)
        cJSON_AddItemToArray(gs, json_group(res, &a->groups[i]));
    /* The comparisons the report prints: every metric, one Holm family per
     * metric and test, pairs with --baseline marked (not repeated). */
    /* A sweep (a runtime with several agent counts): comparisons and
     * ANOVA over a runtime's runs would pool N; left out as in the report. */
    int pooled = ans.several_n;
    cJSON_AddBoolToObject(root, "several_agent_counts", pooled);
    cJSON *cs = cJSON_AddArrayToObject(root, "comparisons");
    for (size_t i = 0; i < a->n_cmps && !pooled; i++)
        cJSON_AddItemToArray(cs, json_comparison(a, &a->cmps[i]));
    cJSON *av = cJSON_AddArrayToObject(root, "anova");
    for (int m = 0; m < PB_M_COUNT && !pooled; m++)
        if (a->anova[m].n > 0)
            cJSON_AddItemToArray(av, json_anova(a, m));
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (size_t i = 0; i < ds->n_runs; i++)
        cJSON_AddItemToArray(runs, json_run(&ds->runs[i], &dv[i]));
    cJSON_AddItemToObject(root, "scaling", json_scaling(&res->sc));
    cJSON_AddItemToObject(root, "server_settings", json_settings(&res->st));
    cJSON_AddItemToObject(root, "sampling", json_sampling(ds));
    cJSON_AddItemToObject(root, "data_quality", json_quality(ds));
    cJSON_AddStringToObject(root, "left_out", pooled ?
                            "per-chunk arrival times (in the traces); per-request timestamps "
                            "other than t_start_s (in the traces); with several agent counts "
                            "the comparisons and the ANOVA (they would pool N; runtimes[] "
                            "summaries pool N, use groups[] or answer[])" :
                            "per-chunk arrival times (in the traces); "
                            "per-request timestamps other than t_start_s (in the traces)");
    pb_json_utf8_repair(root);   /* untrusted names: always valid UTF-8 */
    text = cJSON_PrintBuffered(root, 1 << 16, 1);
    if (!text) {
        snprintf(err, errlen, "out of memory serialising the JSON");
        goto done;
    }
    /* The terminator's byte becomes the file's final newline. */
    size_t len = strlen(text);
    text[len] = '\n';
    rc = pb_fs_write_derived(path, text, len + 1, err, errlen);
done:
    free(text);
    cJSON_Delete(root);
    return rc;
}
