#include "pb_test_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_request(pb_request *rq, double start, double connected, double first_byte,
                double first_token, double end, double tokens) {
    memset(rq, 0, sizeof *rq);
    rq->ok = 1;
    rq->t_start = start;
    rq->t_connected = connected;
    rq->t_first_byte = first_byte;
    rq->t_first_token = first_token;
    rq->t_end = end;
    rq->duration_s = end - start;
    rq->ttft_ms = (first_token - start) * 1000.0;
    rq->tokens = tokens;
    rq->server_rate = rq->load_ms = rq->prompt_eval_ms = rq->eval_ms = NAN;
    rq->server_total_ms = rq->queue_ms = NAN;
}

void tr_chunks(pb_request *rq, const double *times, size_t n) {
    free(rq->chunks);
    rq->chunks = calloc(n, sizeof *rq->chunks);
    rq->n_chunks = n;
    for (size_t i = 0; i < n; i++) {
        rq->chunks[i].t_s = times ? times[i]
                                  : rq->t_first_token +
                                        (rq->t_end - 0.05 - rq->t_first_token) * (double)i /
                                            (double)(n - 1);
        rq->chunks[i].bytes = 60;
    }
}

static char *dup(const char *s) {
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

pb_run *tr_add_run(pb_dataset *ds, const char *runtime, const char *config,
                   int index, size_t n_agents) {
    if (ds->n_runs == ds->cap_runs) {
        ds->cap_runs = ds->cap_runs ? ds->cap_runs * 2 : 8;
        ds->runs = realloc(ds->runs, ds->cap_runs * sizeof *ds->runs);
    }
    pb_run *r = &ds->runs[ds->n_runs++];
    memset(r, 0, sizeof *r);
    char path[256];
    snprintf(path, sizeof path, "test/%s/%s/run_%d.json", runtime, config, index);
    r->path = dup(path);
    r->runtime = dup(runtime);
    r->config = dup(config);
    r->run_index = index;
    r->valid = 1;
    r->n_agents = n_agents;
    r->agents = calloc(n_agents, sizeof *r->agents);
    for (size_t i = 0; i < n_agents; i++) {
        char id[2] = {(char)('a' + i), 0};
        r->agents[i].id = dup(id);
        tr_request(&r->agents[i].conc, NAN, NAN, NAN, NAN, NAN, NAN);
        tr_request(&r->agents[i].solo, NAN, NAN, NAN, NAN, NAN, NAN);
    }
    r->conc_start = r->conc_end = r->wall_s = NAN;
    r->est_speedup = r->est_efficiency = r->meas_speedup = r->meas_efficiency = NAN;
    return r;
}

/* Worked out by hand in test_derive.c. */
void tr_hand_run(pb_run *r) {
    pb_agent *a = &r->agents[0], *b = &r->agents[1];
    a->has_solo = b->has_solo = 1;
    tr_request(&a->solo, 0.0, 0.1, 1.0, 1.0, 4.0, 40);   /* 4 s alone */
    tr_request(&b->solo, 5.0, 5.0, 6.0, 6.0, 11.0, 60);  /* 6 s alone */
    r->conc_start = 12.0;
    r->conc_end = 20.0;
    r->wall_s = 8.0;
    tr_request(&a->conc, 12.0, 12.1, 12.5, 12.75, 17.0, 41);
    static const double ca[] = {12.75, 13.75, 14.75, 15.75, 16.75};
    tr_chunks(&a->conc, ca, 5);
    a->conc.load_ms = 100;
    a->conc.prompt_eval_ms = 200;
    a->conc.eval_ms = 4000;
    a->conc.server_total_ms = 4500;
    a->conc.server_rate = 10.25;
    tr_request(&b->conc, 12.5, 12.5, 15.0, 15.0, 20.0, 81);
    static const double cb[] = {15.0, 16.5, 19.0};
    tr_chunks(&b->conc, cb, 3);
    b->conc.load_ms = 0;
    b->conc.prompt_eval_ms = 500;
    b->conc.eval_ms = 4000;
    b->conc.server_total_ms = 7000;
}

/* A run where the server serialises the agents (factor `serial` in [0,1]:
 * 1 = fully serialised) with per-run variation from `k`. */
static void chart_run(pb_dataset *ds, const char *rt, const char *cf, int idx,
                      size_t n, double serial, double k) {
    pb_run *r = tr_add_run(ds, rt, cf, idx, n);
    double t = 0.5, solo = 3.0 + 0.1 * k;
    for (size_t i = 0; i < n; i++) {
        pb_agent *a = &r->agents[i];
        a->has_solo = 1;
        double d = solo + 0.2 * (double)i;
        tr_request(&a->solo, t, t + 0.01, t + 0.4, t + 0.4, t + d, 100);
        tr_chunks(&a->solo, NULL, 12);
        a->solo.server_rate = 40 + k;
        t += d + 0.2;
    }
    r->conc_start = t;
    double end = t;
    for (size_t i = 0; i < n; i++) {
        pb_agent *a = &r->agents[i];
        double s = t + 0.01 * (double)i;
        double d = a->solo.duration_s * (1.0 + serial * (double)(n - 1) * 0.9);
        double ft = s + 0.4 + serial * 0.5 * (double)i * a->solo.duration_s;
        tr_request(&a->conc, s, s + 0.01, ft, ft, s + d, 100);
        tr_chunks(&a->conc, NULL, 15);
        a->conc.server_rate = (40 + k) / (1.0 + serial);
        a->conc.load_ms = 5;
        a->conc.prompt_eval_ms = 50 + 10 * k;
        a->conc.eval_ms = 2400;
        a->conc.server_total_ms = 2500 + 300 * serial * (double)i;
        if (s + d > end) end = s + d;
    }
    r->conc_end = end;
    r->wall_s = end - t;
}

void tr_chart_dataset(pb_dataset *ds) {
    tr_chart_dataset_n(ds, 0);
}

void tr_chart_dataset_n(pb_dataset *ds, int one_n) {
    static const char *rts[] = {"uv", "threads", "it's_a {odd}|label \"x\" @&~^"};
    static const double serial[] = {0.9, 0.5, 0.1};
    static const char *cfs[] = {"cfg_a", "cfg b (ctx=1024)"};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 4; i++)
                chart_run(ds, rts[r], cfs[c], i + 1, c == 0 || one_n ? 2 : 3,
                          serial[r], (double)((i * 7 + c * 3 + r) % 5));
}

void tr_dataset_free(pb_dataset *ds) {
    for (size_t i = 0; i < ds->n_runs; i++) {
        pb_run *r = &ds->runs[i];
        for (size_t a = 0; a < r->n_agents; a++) {
            free(r->agents[a].id);
            free(r->agents[a].conc.chunks);
            free(r->agents[a].solo.chunks);
        }
        free(r->agents);
        free(r->path);
        free(r->runtime);
        free(r->config);
    }
    free(ds->runs);
    memset(ds, 0, sizeof *ds);
}
