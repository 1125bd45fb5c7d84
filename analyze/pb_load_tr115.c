/* Parsers for the original TR115 study's per-run metrics.json files:
 * the Rust harness (collector/insight with execution_time_s and
 * result.aggregate_metrics, summary.efficiency_percent) and the Python
 * harness (collector/insight aggregate_metrics, *_execution_time, summary
 * without efficiency). Neither carries runtime/config labels: pb_load
 * derives them from the directory layout. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json.h"
#include "pb_load.h"

static const char *const AGENTS[2] = {"collector", "insight"};

/* Fills a request from an aggregate_metrics object (both harnesses use
 * the same names; the Rust one also has the *_duration_ms split). */
static void from_aggregate(const cJSON *am, pb_request *rq)
{
    rq->ok = 1;
    rq->ttft_ms = pb_json_opt_num(am, "average_ttft_ms");
    rq->tokens = pb_json_opt_num(am, "total_tokens_generated");
    rq->server_rate = pb_json_opt_num(am, "average_tokens_per_second");
    rq->load_ms = pb_json_opt_num(am, "load_duration_ms");
    rq->prompt_eval_ms = pb_json_opt_num(am, "prompt_eval_duration_ms");
    rq->eval_ms = pb_json_opt_num(am, "eval_duration_ms");
    rq->server_total_ms = pb_json_opt_num(am, "total_duration_ms");
    rq->queue_ms = rq->server_total_ms - rq->load_ms - rq->prompt_eval_ms -
                   rq->eval_ms;
}

/* The study team's workflow schema: result.workflow holds the seconds of
 * the ingest, analysis and report stages and their total; result.llm_calls[]
 * one entry per model call, {stage, metrics} with the metric names of the
 * Rust harness's individual_runs (ttft_ms, throughput_tokens_per_sec,
 * tokens_generated). Stages are the workflow's keys in the order ingest,
 * analysis, report, then llm figures are attached by stage name. */
static int load_workflow_result(const cJSON *res, pb_agent *ag, const char *where,
                                char *err, size_t errlen)
{
    static const char *const STAGES[3] = {"ingest", "analysis", "report"};
    const cJSON *wf = pb_json_obj(res, "workflow");
    double sec[3], total = pb_json_opt_num(wf, "total_seconds");
    for (int k = 0; k < 3; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s_seconds", STAGES[k]);
        sec[k] = pb_json_opt_num(wf, key);
        if (!isnan(sec[k]) && !(sec[k] >= 0)) {
            snprintf(err, errlen, "%s.result.workflow.%s is %.9g; it must be >= 0", where, key, sec[k]);
            return -1;
        }
        if (!isnan(sec[k]) && pb_agent_add_stage(ag, STAGES[k], sec[k]) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    const cJSON *calls = pb_json_arr(res, "llm_calls");
    const cJSON *c;
    size_t ci = 0;
    cJSON_ArrayForEach(c, calls) {
        const char *stage = pb_json_str(c, "stage");
        const cJSON *m = pb_json_obj(c, "metrics");
        if (!stage || !m) {
            snprintf(err, errlen, "%s.result.llm_calls[%zu]: needs \"stage\" (string) and "
                     "\"metrics\" (object)", where, ci);
            return -1;
        }
        ci++;
        pb_stage *s = NULL;
        for (size_t k = 0; k < ag->n_stages && !s; k++)
            if (strcmp(ag->stages[k].name, stage) == 0)
                s = &ag->stages[k];
        if (!s) {
            /* A call of a stage the workflow object does not time. */
            if (pb_agent_add_stage(ag, stage, NAN) != 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            s = &ag->stages[ag->n_stages - 1];
        }
        s->ttft_ms = pb_json_opt_num(m, "ttft_ms");
        s->tokens_per_s = pb_json_opt_num(m, "throughput_tokens_per_sec");
        s->tokens = pb_json_opt_num(m, "tokens_generated");
    }
    /* The whole-workflow split (pb_model.h): llm = analysis + report,
     * work = ingest, waiting = the rest of the total. */
    pb_request *rq = &ag->conc;
    rq->n_llm = (int)ci;
    rq->llm_s = (isnan(sec[1]) ? 0 : sec[1]) + (isnan(sec[2]) ? 0 : sec[2]);
    rq->work_s = isnan(sec[0]) ? 0 : sec[0];
    if (isnan(total))
        total = rq->duration_s;
    rq->wait_s = total - rq->llm_s - rq->work_s;
    if (rq->wait_s < 0)
        rq->wait_s = 0;
    return 0;
}

static int alloc_agents(pb_run *run, char *err, size_t errlen)
{
    run->agents = calloc(2, sizeof *run->agents);
    if (!run->agents) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    run->n_agents = 2;
    for (int i = 0; i < 2; i++) {
        run->agents[i].id = strdup(AGENTS[i]);
        pb_request_clear(&run->agents[i].conc);
        pb_request_clear(&run->agents[i].solo);
    }
    return 0;
}

static int check_positive(double v, const char *what, char *err, size_t errlen)
{
    if (v > 0)
        return 0;
    snprintf(err, errlen, "%s is %.9g; it must be > 0", what, v);
    return -1;
}

int pb_load_tr115_rust(const cJSON *root, pb_run *run, char *err, size_t errlen)
{
    const cJSON *sum = pb_json_obj(root, "summary");
    if (!sum) {
        snprintf(err, errlen, "missing object \"summary\"");
        return -1;
    }
    run->format = PB_FMT_TR115_RUST;
    if (pb_json_num(sum, "efficiency_percent", "summary", &run->est_efficiency, err, errlen) ||
        pb_json_num(sum, "concurrency_speedup", "summary", &run->est_speedup, err, errlen) ||
        pb_json_num(sum, "concurrent_wall_time_s", "summary", &run->wall_s, err, errlen))
        return -1;
    if (check_positive(run->wall_s, "summary.concurrent_wall_time_s", err, errlen) ||
        check_positive(run->est_speedup, "summary.concurrency_speedup", err, errlen))
        return -1;
    if (alloc_agents(run, err, errlen))
        return -1;
    for (int i = 0; i < 2; i++) {
        char where[64];
        const cJSON *ag = pb_json_obj(root, AGENTS[i]);
        if (!ag) {
            snprintf(err, errlen, "missing object \"%s\"", AGENTS[i]);
            return -1;
        }
        pb_request *rq = &run->agents[i].conc;
        snprintf(where, sizeof where, "%s", AGENTS[i]);
        if (pb_json_num(ag, "execution_time_s", where, &rq->duration_s, err, errlen) ||
            check_positive(rq->duration_s, "execution_time_s", err, errlen))
            return -1;
        const cJSON *res = pb_json_obj(ag, "result");
        const cJSON *am = pb_json_obj(res, "aggregate_metrics");
        if (am) {
            from_aggregate(am, rq);
        } else {
            rq->ok = 1;
        }
        if (pb_json_obj(res, "workflow") &&
            load_workflow_result(res, &run->agents[i], where, err, errlen))
            return -1;
        if (pb_json_obj(res, "workflow"))
            run->workflow = 1;
        /* When the run was collected (the harness's result.timestamp): the
         * report checks whether runtimes were collected in blocks. */
        const char *ts = pb_json_str(res, "timestamp");
        if (ts && !run->wall_origin)
            run->wall_origin = strdup(ts);
        const cJSON *cfg = pb_json_obj(ag, "config");
        const char *url = pb_json_str(cfg, "base_url"), *model = pb_json_str(cfg, "model");
        run->agents[i].endpoint = url ? strdup(url) : NULL;
        run->agents[i].model = model ? strdup(model) : NULL;
    }
    double rn = pb_json_opt_num(root, "run_number");
    /* Optional and only a label: a value that does not fit an int is
     * treated as absent (casting it would be undefined behaviour). */
    run->run_index = (rn >= 0 && rn <= INT_MAX) ? (int)rn : 0;
    return 0;
}

int pb_load_tr115_python(const cJSON *root, pb_run *run, char *err, size_t errlen)
{
    const cJSON *sum = pb_json_obj(root, "summary");
    if (!sum) {
        snprintf(err, errlen, "missing object \"summary\"");
        return -1;
    }
    run->format = PB_FMT_TR115_PYTHON;
    if (pb_json_num(sum, "concurrency_speedup", "summary", &run->est_speedup, err, errlen) ||
        pb_json_num(sum, "concurrent_wall_time", "summary", &run->wall_s, err, errlen))
        return -1;
    if (check_positive(run->wall_s, "summary.concurrent_wall_time", err, errlen) ||
        check_positive(run->est_speedup, "summary.concurrency_speedup", err, errlen))
        return -1;
    /* The Python harness stores no efficiency; the study defined it as
     * speedup / 2 agents * 100. */
    run->est_efficiency = run->est_speedup / 2.0 * 100.0;
    if (alloc_agents(run, err, errlen))
        return -1;
    static const char *const TIMES[2] = {"collector_execution_time",
                                         "insight_execution_time"};
    for (int i = 0; i < 2; i++) {
        pb_request *rq = &run->agents[i].conc;
        const cJSON *ag = pb_json_obj(root, AGENTS[i]);
        if (!ag) {
            snprintf(err, errlen, "missing object \"%s\"", AGENTS[i]);
            return -1;
        }
        const cJSON *am = pb_json_obj(ag, "aggregate_metrics");
        if (am)
            from_aggregate(am, rq);
        else
            rq->ok = 1;
        if (pb_json_num(root, TIMES[i], "", &rq->duration_s, err, errlen) ||
            check_positive(rq->duration_s, TIMES[i], err, errlen))
            return -1;
    }
    return 0;
}
