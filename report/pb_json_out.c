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
#include "pb_fs.h"
#include "pb_metrics.h"
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
    return o;
}

/* The derived metrics of a set of runs, one object per metric (names as
 * values), mean and Student-t CI over the runs that have it. */
static cJSON *json_metrics(const pb_derived *dv, const size_t *runs, size_t n, double *buf)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t m = 0; m < PB_N_METRICS; m++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = pb_metric_get(&dv[runs[i]], &PB_METRICS[m]);
        pb_summary s;
        pb_stats_summarize(buf, n, 0, 0, &s);
        if (s.n == 0)
            continue;   /* absent metrics are left out, not listed as null */
        cJSON *o = json_summary(&s);
        cJSON_AddStringToObject(o, "metric", PB_METRICS[m].id);
        cJSON_AddStringToObject(o, "unit", PB_METRICS[m].unit);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *json_compare(const pb_analysis *a, const pb_pair *p, const char *family)
{
    const pb_compare *c = &p->c;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "family", family);
    cJSON_AddStringToObject(o, "metric", "est_efficiency");
    cJSON_AddStringToObject(o, "a", a->rts[p->a].runtime);
    cJSON_AddStringToObject(o, "b", a->rts[p->b].runtime);
    cJSON_AddNumberToObject(o, "n_a", (double)c->n1);
    cJSON_AddNumberToObject(o, "n_b", (double)c->n2);
    add_num(o, "mean_a", c->mean1);
    add_num(o, "mean_b", c->mean2);
    add_num(o, "sd_a", c->sd1);
    add_num(o, "sd_b", c->sd2);
    add_num(o, "diff", c->diff);
    add_num(o, "diff_ci_lo", c->diff_lo);
    add_num(o, "diff_ci_hi", c->diff_hi);
    add_num(o, "welch_t", c->welch_t);
    add_num(o, "welch_df", c->welch_df);
    add_num(o, "welch_p", c->welch_p);
    add_num(o, "welch_p_holm", c->welch_p_holm);
    add_num(o, "mw_u", c->mw_u);
    add_num(o, "mw_p", c->mw_p);
    add_num(o, "mw_p_holm", c->mw_p_holm);
    cJSON_AddStringToObject(o, "mw_method", c->mw_exact ? "exact" : "normal");
    add_num(o, "cohen_d", c->cohen_d);
    add_num(o, "hedges_g", c->hedges_g);
    add_num(o, "hedges_g_ci_lo", c->g_lo);
    add_num(o, "hedges_g_ci_hi", c->g_hi);
    return o;
}

static cJSON *json_runtime(const pb_dataset *ds, const pb_analysis *a, const pb_rt *r,
                           const pb_derived *dv, size_t *idx, double *buf)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "runtime", r->runtime);
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
    size_t n = 0;
    for (size_t g = r->first_group; g < r->first_group + r->n_groups; g++)
        for (size_t k = 0; k < a->groups[g].n; k++)
            idx[n++] = a->groups[g].runs[k];
    cJSON_AddItemToObject(o, "metrics", json_metrics(dv, idx, n, buf));
    return o;
}

static cJSON *json_group(const pb_group *g, const pb_derived *dv, double *buf)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "runtime", g->runtime);
    cJSON_AddStringToObject(o, "config", g->config);
    cJSON_AddNumberToObject(o, "n", (double)g->n);
    cJSON_AddItemToObject(o, "efficiency", json_summary(&g->eff));
    cJSON_AddItemToObject(o, "speedup", json_summary(&g->speedup));
    cJSON_AddItemToObject(o, "metrics", json_metrics(dv, g->runs, g->n, buf));
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
    add_num(o, "sd", r->sd);
    cJSON_AddStringToObject(o, "verdict", pb_answer_verdict_word(r->verdict));
    cJSON_AddBoolToObject(o, "is_sequential_reference", r->is_reference);
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
    add_str(o, "host", r->host);
    add_str(o, "wall_origin", r->wall_origin);
    add_str(o, "collect_version", r->tool_version);
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

static cJSON *json_options(const pb_report_opts *op)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *in = cJSON_AddArrayToObject(o, "inputs");
    for (int i = 0; i < op->n_inputs; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(op->inputs[i]));
    cJSON_AddNumberToObject(o, "seed", (double)op->seed);
    cJSON_AddNumberToObject(o, "bootstrap", op->boot_reps);
    add_str(o, "baseline", op->baseline);
    add_str(o, "sequential_ref", op->sequential_ref);
    cJSON *refs = cJSON_AddArrayToObject(o, "refs");
    for (size_t i = 0; i < op->n_refs; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "name", op->refs[i].name);
        cJSON_AddNumberToObject(r, "value", op->refs[i].value);
        cJSON_AddItemToArray(refs, r);
    }
    return o;
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

int pb_json_out_write(const char *path, const pb_dataset *ds,
                      const pb_report_opts *op, char *err, size_t errlen)
{
    const pb_analysis *a = op->analysis;
    size_t nr = ds->n_runs ? ds->n_runs : 1;
    pb_derived *dv = calloc(nr, sizeof *dv);
    double *buf = malloc(nr * sizeof *buf);
    size_t *idx = malloc(nr * sizeof *idx);
    pb_answer ans = {0};
    cJSON *root = NULL;
    char *text = NULL;
    int rc = -1;
    if (!a || !dv || !buf || !idx) {
        snprintf(err, errlen, "out of memory for %zu runs", ds->n_runs);
        goto done;
    }
    pb_derive_dataset(ds, op->sequential_ref, dv);
    if (pb_answer_build(ds, a, dv, op->sequential_ref, &ans) != 0) {
        snprintf(err, errlen, "out of memory building the answer");
        goto done;
    }
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
    cJSON *rts = cJSON_AddArrayToObject(root, "runtimes");
    for (size_t i = 0; i < a->n_rts; i++)
        cJSON_AddItemToArray(rts, json_runtime(ds, a, &a->rts[i], dv, idx, buf));
    cJSON *gs = cJSON_AddArrayToObject(root, "groups");
    for (size_t i = 0; i < a->n_groups; i++)
        cJSON_AddItemToArray(gs, json_group(&a->groups[i], dv, buf));
    cJSON *cs = cJSON_AddArrayToObject(root, "comparisons");
    for (size_t i = 0; i < a->n_pairs; i++)
        cJSON_AddItemToArray(cs, json_compare(a, &a->pairs[i], "all_pairs"));
    for (size_t i = 0; i < a->n_vs_base; i++)
        cJSON_AddItemToArray(cs, json_compare(a, &a->vs_base[i], "vs_baseline"));
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (size_t i = 0; i < ds->n_runs; i++)
        cJSON_AddItemToArray(runs, json_run(&ds->runs[i], &dv[i]));
    cJSON_AddItemToObject(root, "data_quality", json_quality(ds));
    cJSON_AddStringToObject(root, "left_out", "per-chunk arrival times (in the traces); "
                            "per-request timestamps other than t_start_s (in the traces)");
    text = cJSON_PrintBuffered(root, 1 << 16, 1);
    if (!text) {
        snprintf(err, errlen, "out of memory serialising the JSON");
        goto done;
    }
    /* The terminator's byte becomes the file's final newline. */
    size_t len = strlen(text);
    text[len] = '\n';
    rc = pb_fs_write_atomic(path, text, len + 1, err, errlen);
done:
    free(text);
    cJSON_Delete(root);
    pb_answer_free(&ans);
    free(dv);
    free(buf);
    free(idx);
    return rc;
}
