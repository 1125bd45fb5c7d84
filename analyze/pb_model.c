#include "pb_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pb_agent_add_stage(pb_agent *a, const char *name, double seconds)
{
    pb_stage *s = realloc(a->stages, (a->n_stages + 1) * sizeof *s);
    if (!s)
        return -1;
    a->stages = s;
    s = &a->stages[a->n_stages];
    s->name = strdup(name ? name : "?");
    if (!s->name)
        return -1;
    a->n_stages++;
    s->seconds = seconds;
    s->ttft_ms = s->tokens_per_s = s->tokens = NAN;
    return 0;
}

void pb_request_clear(pb_request *rq)
{
    memset(rq, 0, sizeof *rq);
    rq->t_start = rq->t_connected = rq->t_first_byte = NAN;
    rq->t_first_token = rq->t_end = rq->duration_s = rq->ttft_ms = NAN;
    rq->tokens = rq->server_rate = rq->load_ms = rq->prompt_eval_ms = NAN;
    rq->eval_ms = rq->server_total_ms = rq->queue_ms = NAN;
    rq->http_status = -1;
    rq->llm_s = rq->work_s = rq->wait_s = NAN;
}

static void request_free(pb_request *rq)
{
    free(rq->chunks);
    free(rq->step_chunks);
    free(rq->written_s);
    free(rq->error);
}

static void server_free(pb_server *sv)
{
    free(sv->endpoint);
    free(sv->dialect);
    free(sv->server_header);
    free(sv->version);
    free(sv->emu_preset);
}

void pb_run_free(pb_run *r)
{
    for (size_t i = 0; i < r->n_agents; i++) {
        free(r->agents[i].id);
        free(r->agents[i].endpoint);
        free(r->agents[i].model);
        for (size_t k = 0; k < r->agents[i].n_stages; k++)
            free(r->agents[i].stages[k].name);
        free(r->agents[i].stages);
        request_free(&r->agents[i].conc);
        request_free(&r->agents[i].solo);
    }
    free(r->agents);
    free(r->path);
    free(r->runtime);
    free(r->config);
    free(r->base_config);
    free(r->arrival);
    free(r->invalid_reason);
    free(r->input);
    free(r->host);
    free(r->wall_origin);
    free(r->tool_version);
    free(r->collector_cpus);
    free(r->emu_preset);
    free(r->server_setting);
    free(r->server_order);
    free(r->model_events);
    if (r->tel) {
        free(r->tel->models);
        free(r->tel->gpu_t);
        free(r->tel->gpu_util);
        free(r->tel);
    }
    for (size_t i = 0; i < r->n_servers; i++)
        server_free(&r->servers[i]);
    free(r->servers);
}

void pb_dataset_free(pb_dataset *ds)
{
    for (size_t i = 0; i < ds->n_runs; i++)
        pb_run_free(&ds->runs[i]);
    free(ds->runs);
    for (size_t i = 0; i < ds->n_skips; i++) {
        free(ds->skips[i].path);
        free(ds->skips[i].reason);
    }
    free(ds->skips);
    for (size_t i = 0; i < ds->n_manifests; i++) {
        pb_manifest *m = &ds->manifests[i];
        free(m->path), free(m->created), free(m->version), free(m->host);
        free(m->command);
    }
    free(ds->manifests);
    for (size_t i = 0; i < ds->n_notes; i++)
        free(ds->notes[i]);
    free(ds->notes);
    memset(ds, 0, sizeof *ds);
}

void pb_run_init(pb_run *r)
{
    memset(r, 0, sizeof *r);
    r->valid = 1;
    r->conc_start = r->conc_end = r->wall_s = NAN;
    r->est_speedup = r->est_efficiency = NAN;
    r->meas_speedup = r->meas_efficiency = NAN;
    r->llm_efficiency = NAN;
    r->max_offset_s = NAN;
    r->collector_cpu_s = NAN;
    r->conc_process_s = r->solo_process_s = NAN;
    r->conc_proc_t0 = r->conc_proc_t1 = NAN;
}

pb_run *pb_dataset_add_run(pb_dataset *ds)
{
    if (ds->n_runs == ds->cap_runs) {
        /* Doubling keeps 100k appends linear overall. */
        size_t cap = ds->cap_runs ? ds->cap_runs * 2 : 64;
        pb_run *n = realloc(ds->runs, cap * sizeof *n);
        if (!n)
            return NULL;
        ds->runs = n;
        ds->cap_runs = cap;
    }
    pb_run *r = &ds->runs[ds->n_runs++];
    pb_run_init(r);
    return r;
}

void pb_dataset_pop_run(pb_dataset *ds)
{
    if (ds->n_runs == 0)
        return;
    pb_run_free(&ds->runs[--ds->n_runs]);
}

void pb_dataset_add_skip(pb_dataset *ds, const char *path, const char *reason)
{
    if (ds->n_skips == ds->cap_skips) {
        size_t cap = ds->cap_skips ? ds->cap_skips * 2 : 16;
        pb_skip *n = realloc(ds->skips, cap * sizeof *n);
        if (!n)
            return;
        ds->skips = n;
        ds->cap_skips = cap;
    }
    pb_skip *s = &ds->skips[ds->n_skips++];
    s->path = strdup(path ? path : "");
    s->reason = strdup(reason ? reason : "");
}

void pb_dataset_add_note(pb_dataset *ds, const char *text)
{
    char **n = realloc(ds->notes, (ds->n_notes + 1) * sizeof *n);
    if (!n)
        return;
    ds->notes = n;
    if ((n[ds->n_notes] = strdup(text)))
        ds->n_notes++;
}

size_t pb_dataset_n_valid(const pb_dataset *ds)
{
    size_t n = 0;
    for (size_t i = 0; i < ds->n_runs; i++)
        n += ds->runs[i].valid != 0;
    return n;
}
