/* Parser for parbench trace format v1 (data/FORMAT.md). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json.h"
#include "pb_servers.h"
#include "pb_load.h"

#define NS 1e9   /* FORMAT.md: *_ns fields; the model keeps seconds */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Optional timestamp: NAN when null/absent; wrong type is an error only
 * for the required ones (checked by the caller with pb_json_num). */
static double opt_ns(const cJSON *o, const char *key)
{
    double v = pb_json_opt_num(o, key);
    return isnan(v) ? NAN : v / NS;
}

static int load_request(const cJSON *rq, pb_request *out, const char *where,
                        char *err, size_t errlen)
{
    double t0, t1;
    pb_request_clear(out);
    if (pb_json_num(rq, "t_start_ns", where, &t0, err, errlen) ||
        pb_json_num(rq, "t_end_ns", where, &t1, err, errlen))
        return -1;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(rq, "ok");
    if (!cJSON_IsBool(ok)) {
        snprintf(err, errlen, "field %s.ok is %s, expected a boolean", where,
                 pb_json_type(ok));
        return -1;
    }
    out->ok = cJSON_IsTrue(ok);
    out->t_start = t0 / NS;
    out->t_end = t1 / NS;
    out->t_connected = opt_ns(rq, "t_connected_ns");
    out->t_first_byte = opt_ns(rq, "t_first_byte_ns");
    out->t_first_token = opt_ns(rq, "t_first_token_ns");
    out->duration_s = out->t_end - out->t_start;
    if (out->ok && !(out->duration_s > 0)) {
        snprintf(err, errlen, "%s: duration t_end_ns - t_start_ns is %.9g s; "
                 "a successful request must take > 0 s", where, out->duration_s);
        return -1;
    }
    if (!isnan(out->t_first_token))
        out->ttft_ms = (out->t_first_token - out->t_start) * 1e3;
    out->not_streamed = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(rq, "streamed"));
    const char *e = pb_json_str(rq, "error");
    out->error = dup_or_null(e);
    double hs = pb_json_opt_num(rq, "http_status");
    out->http_status = hs >= 0 && hs <= 999 ? (int)hs : -1;

    const cJSON *fin = pb_json_obj(rq, "final");
    double ec = pb_json_opt_num(fin, "eval_count");
    /* OpenAI dialects: the server's count is usage.completion_tokens,
     * recorded as completion_tokens (FORMAT.md). */
    if (isnan(ec))
        ec = pb_json_opt_num(rq, "completion_tokens");
    double ed = pb_json_opt_num(fin, "eval_duration");
    out->tokens = !isnan(ec) ? ec : pb_json_opt_num(rq, "tokens");
    if (ec >= 0 && ed > 0)
        out->server_rate = ec / (ed / NS);
    out->load_ms = pb_json_opt_num(fin, "load_duration") / 1e6;
    /* Ollama's durations are omitempty: a final line with a total but no
     * load_duration had no load (an emulator warm model; Ollama itself
     * always spends a little). */
    if (isnan(out->load_ms) && fin &&
        !isnan(pb_json_opt_num(fin, "total_duration")))
        out->load_ms = 0;
    out->prompt_eval_ms = pb_json_opt_num(fin, "prompt_eval_duration") / 1e6;
    out->eval_ms = ed / 1e6;
    out->server_total_ms = pb_json_opt_num(fin, "total_duration") / 1e6;
    /* Ollama reports no queue time: what the total does not explain is
     * time spent waiting for a slot (plus small template overhead). */
    out->queue_ms = out->server_total_ms - out->load_ms - out->prompt_eval_ms -
                    out->eval_ms;

    const cJSON *ch = pb_json_arr(rq, "chunks");
    int n = ch ? cJSON_GetArraySize(ch) : 0;
    if (n > 0) {
        out->chunks = calloc((size_t)n, sizeof *out->chunks);
        if (!out->chunks) {
            snprintf(err, errlen, "%s: out of memory for %d chunks", where, n);
            return -1;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, ch) {
            const cJSON *t = cJSON_GetArrayItem(c, 0), *b = cJSON_GetArrayItem(c, 1);
            /* bytes is cast to int: a value outside int is undefined
             * behaviour, so it is refused like any other bad pair. */
            if (!cJSON_IsArray(c) || !cJSON_IsNumber(t) || !cJSON_IsNumber(b) ||
                !isfinite(t->valuedouble) || !(b->valuedouble >= 0) ||
                !(b->valuedouble <= INT_MAX)) {
                snprintf(err, errlen, "%s.chunks[%zu] is not [t_ns, bytes] "
                         "with 0 <= bytes <= %d", where, out->n_chunks, INT_MAX);
                return -1;
            }
            out->chunks[out->n_chunks].t_s = t->valuedouble / NS;
            out->chunks[out->n_chunks].bytes = (int)b->valuedouble;
            out->n_chunks++;
        }
    }
    /* The recording proxy's write-back instants (exec runtimes): one per
     * chunk, null when the program never took it. Another length is a
     * malformed trace: the lags would pair the wrong chunks. */
    const cJSON *wr = pb_json_arr(rq, "chunks_written_ns");
    if (wr && out->n_chunks) {
        if ((size_t)cJSON_GetArraySize(wr) != out->n_chunks) {
            snprintf(err, errlen, "%s.chunks_written_ns has %d entries for %zu chunks",
                     where, cJSON_GetArraySize(wr), out->n_chunks);
            return -1;
        }
        if (!(out->written_s = malloc(out->n_chunks * sizeof *out->written_s))) {
            snprintf(err, errlen, "%s: out of memory", where);
            return -1;
        }
        size_t k = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, wr)
            out->written_s[k++] = cJSON_IsNumber(w) && isfinite(w->valuedouble)
                                      ? w->valuedouble / NS : NAN;
    }
    return 0;
}

/* "servers" (added compatibly in v1): what answered at each endpoint, the
 * emulator's announced time scale and preset included. Optional: a trace
 * without it, or an entry of the wrong shape, only loses this description. */
static void load_servers(const cJSON *root, pb_run *run)
{
    const cJSON *arr = pb_json_arr(root, "servers");
    int n = arr ? cJSON_GetArraySize(arr) : 0;
    if (n <= 0 || !(run->servers = calloc((size_t)n, sizeof *run->servers)))
        return;
    const cJSON *sv;
    cJSON_ArrayForEach(sv, arr) {
        if (!cJSON_IsObject(sv))
            continue;
        pb_server *o = &run->servers[run->n_servers++];
        o->endpoint = dup_or_null(pb_json_str(sv, "endpoint"));
        o->dialect = dup_or_null(pb_json_str(sv, "dialect"));
        o->server_header = dup_or_null(pb_json_str(sv, "server_header"));
        o->version = dup_or_null(pb_json_str(sv, "version"));
        const cJSON *emu = pb_json_obj(sv, "emulator");
        double ts = pb_json_opt_num(emu, "time_scale");
        o->emu_time_scale = isfinite(ts) && ts > 0 ? ts : 0;
        o->emu_preset = dup_or_null(pb_json_str(emu, "preset"));
        /* A standalone `ollama-emu --time-scale` leaves run.emulator null:
         * the header is then the only record that durations are scaled. */
        if (run->emu_time_scale == 0 && o->emu_time_scale > 0)
            run->emu_time_scale = o->emu_time_scale;
        if (!run->emu_preset && o->emu_preset)
            run->emu_preset = strdup(o->emu_preset);
    }
}

static pb_agent *find_agent(pb_run *run, const char *id)
{
    for (size_t i = 0; id && i < run->n_agents; i++)
        if (strcmp(run->agents[i].id, id) == 0)
            return &run->agents[i];
    return NULL;
}

/* A workflow step's request after the first in the same phase: the
 * agent's request becomes the whole workflow (pb_model.h); its chunks are
 * kept apart for the timeline. Returns 0, -1 when out of memory. */
static int merge_step(pb_request *dst, pb_request *add)
{
    if (add->n_chunks) {
        pb_chunk *c = realloc(dst->step_chunks,
                              (dst->n_step_chunks + add->n_chunks) * sizeof *c);
        if (!c) {
            free(add->chunks);
            free(add->written_s);
            free(add->error);
            return -1;
        }
        memcpy(c + dst->n_step_chunks, add->chunks, add->n_chunks * sizeof *c);
        dst->step_chunks = c;
        dst->n_step_chunks += add->n_chunks;
    }
    dst->ok = dst->ok && add->ok;
    if (!dst->error && add->error) {
        dst->error = add->error;
        add->error = NULL;
    }
    if (add->t_start < dst->t_start)
        dst->t_start = add->t_start;
    if (add->t_end > dst->t_end)
        dst->t_end = add->t_end;
    dst->duration_s = dst->t_end - dst->t_start;
    dst->tokens += add->tokens;
    dst->n_llm++;
    dst->llm_s += add->t_end - add->t_start;
    free(add->chunks);
    free(add->written_s);
    free(add->error);
    return 0;
}

/* A workflow phase ("steps", "agents"): each agent's span covers its work
 * steps too, and the time is split into llm, work and waiting. */
static int load_workflow_phase(const cJSON *ph, pb_run *run, int is_conc,
                               const char *where, char *err, size_t errlen)
{
    const cJSON *steps = pb_json_arr(ph, "steps");
    const cJSON *st;
    cJSON_ArrayForEach(st, steps) {
        pb_agent *ag = find_agent(run, pb_json_str(st, "agent"));
        const char *kind = pb_json_str(st, "kind");
        if (!ag || !kind) {
            snprintf(err, errlen, "%s.steps: an entry lacks a known agent or kind", where);
            return -1;
        }
        pb_request *rq = is_conc ? &ag->conc : &ag->solo;
        double s = pb_json_opt_num(st, "start_ns") / NS, e = pb_json_opt_num(st, "end_ns") / NS;
        if (!isfinite(s) || !isfinite(e))
            continue;
        if (!(s >= rq->t_start))
            rq->t_start = s;
        if (!(e <= rq->t_end))
            rq->t_end = e;
        if (strcmp(kind, "work") == 0)
            rq->work_s = (isfinite(rq->work_s) ? rq->work_s : 0) + (e - s);
        if (is_conc) {
            char name[64];
            /* A missing (NaN) or huge step number must not reach an int
             * cast (undefined behaviour; found by fuzz_load). */
            double stepv = pb_json_opt_num(st, "step");
            int step = isfinite(stepv) && fabs(stepv) < 1e9 ? (int)stepv : -1;
            snprintf(name, sizeof name, "step%d %s", step, kind);
            if (pb_agent_add_stage(ag, name, e - s) != 0) {
                snprintf(err, errlen, "%s: out of memory", where);
                return -1;
            }
            /* An llm step's call: client TTFT and the server's eval rate. */
            const char *rid = pb_json_str(st, "request_id");
            const cJSON *rq2;
            cJSON_ArrayForEach(rq2, pb_json_arr(ph, "requests")) {
                const char *id2 = pb_json_str(rq2, "request_id");
                if (!rid || !id2 || strcmp(rid, id2) != 0)
                    continue;
                pb_stage *sg = &ag->stages[ag->n_stages - 1];
                double t0 = pb_json_opt_num(rq2, "t_start_ns"), tf = pb_json_opt_num(rq2, "t_first_token_ns");
                if (isfinite(t0) && isfinite(tf))
                    sg->ttft_ms = (tf - t0) / 1e6;
                const cJSON *fin = pb_json_obj(rq2, "final");
                double ec = pb_json_opt_num(fin, "eval_count"), ed = pb_json_opt_num(fin, "eval_duration");
                if (ec >= 0 && ed > 0)
                    sg->tokens_per_s = ec / (ed / NS);
                sg->tokens = !isnan(ec) ? ec : pb_json_opt_num(rq2, "tokens");
                break;
            }
        }
    }
    for (size_t i = 0; i < run->n_agents; i++) {
        pb_request *rq = is_conc ? &run->agents[i].conc : &run->agents[i].solo;
        if (!isfinite(rq->t_start))
            continue;
        rq->duration_s = rq->t_end - rq->t_start;
        if (!isfinite(rq->work_s))
            rq->work_s = 0;
        rq->wait_s = rq->duration_s - rq->llm_s - rq->work_s;
        if (rq->wait_s < 0)
            rq->wait_s = 0; /* rounding of ns stamps */
    }
    const cJSON *ags = pb_json_arr(ph, "agents");
    const cJSON *a;
    cJSON_ArrayForEach(a, ags) {
        double off = pb_json_opt_num(a, "offset_ns");
        if (isfinite(off) && off > 0)
            run->staggered = 1;
        if (is_conc && isfinite(off) && !(off / NS <= run->max_offset_s))
            run->max_offset_s = off / NS;
    }
    return 0;
}


int pb_load_parbench(const cJSON *root, pb_run *run, char *err, size_t errlen)
{
    double ver;
    if (pb_json_num(root, "format_version", "", &ver, err, errlen))
        return -1;
    if (ver != 1) {
        snprintf(err, errlen, "parbench-trace format_version %g is not "
                 "supported (this analyze reads version 1)", ver);
        return -1;
    }
    const cJSON *meta = pb_json_obj(root, "run");
    const cJSON *agents = pb_json_arr(root, "agents");
    const cJSON *phases = pb_json_arr(root, "phases");
    if (!meta || !agents || !phases) {
        snprintf(err, errlen, "missing or mistyped top-level %s",
                 !meta ? "object \"run\"" : !agents ? "array \"agents\"" : "array \"phases\"");
        return -1;
    }
    const char *rt = pb_json_str(meta, "runtime"), *cf = pb_json_str(meta, "config");
    if (!rt || !cf) {
        snprintf(err, errlen, "field run.%s is missing or not a string",
                 !rt ? "runtime" : "config");
        return -1;
    }
    double idx;
    if (pb_json_num(meta, "run_index", "run", &idx, err, errlen))
        return -1;
    /* Cast to int below: out of range would be undefined behaviour. */
    if (!(idx >= 0 && idx <= INT_MAX) || idx != floor(idx)) {
        snprintf(err, errlen, "field run.run_index is %.17g, expected an "
                 "integer in [0, %d]", idx, INT_MAX);
        return -1;
    }
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(meta, "valid");
    if (!cJSON_IsBool(valid)) {
        snprintf(err, errlen, "field run.valid is %s, expected a boolean",
                 pb_json_type(valid));
        return -1;
    }
    run->format = PB_FMT_PARBENCH;
    run->runtime = strdup(rt);
    run->config = strdup(cf);
    run->run_index = (int)idx;
    run->valid = cJSON_IsTrue(valid);
    run->invalid_reason = dup_or_null(pb_json_str(meta, "invalid_reason"));
    run->base_config = dup_or_null(pb_json_str(meta, "base_config"));
    run->workflow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "workflow"));
    run->arrival = dup_or_null(pb_json_str(pb_json_obj(meta, "arrival"), "kind"));
    const cJSON *sm = pb_json_obj(meta, "sampling");
    double tci = pb_json_opt_num(sm, "target_ci_pct");
    if (isfinite(tci) && tci > 0) {
        double pr = pb_json_opt_num(sm, "planned_runs"), mr = pb_json_opt_num(sm, "max_runs");
        run->target_ci_pct = tci;
        run->planned_runs = pr >= 0 && pr <= INT_MAX ? (int)pr : 0;
        run->max_runs = mr >= 0 && mr <= INT_MAX ? (int)mr : 0;
        run->sampling_added = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sm, "added"));
    }
    /* Emulated runs may be time-scaled; the report must say so, since
     * durations and rates are then not the emulated GPU's. */
    double ts = pb_json_opt_num(pb_json_obj(meta, "emulator"), "time_scale");
    run->emu_time_scale = isfinite(ts) && ts > 0 ? ts : 0;
    run->emu_preset = dup_or_null(pb_json_str(pb_json_obj(meta, "emulator"), "preset"));
    run->host = dup_or_null(pb_json_str(meta, "host"));
    run->wall_origin = dup_or_null(pb_json_str(meta, "wall_origin"));
    run->tool_version = dup_or_null(pb_json_str(pb_json_obj(root, "tool"), "version"));
    run->collector_cpus = dup_or_null(pb_json_str(meta, "collector_cpus"));
    load_servers(root, run);
    pb_servers_load(run, root);

    int na = cJSON_GetArraySize(agents);
    if (na < 1) {
        snprintf(err, errlen, "array agents is empty: a run has >= 1 agent");
        return -1;
    }
    run->agents = calloc((size_t)na, sizeof *run->agents);
    if (!run->agents) {
        snprintf(err, errlen, "out of memory for %d agents", na);
        return -1;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, agents) {
        const char *id = pb_json_str(a, "id");
        if (!id) {
            snprintf(err, errlen, "agents[%zu].id is missing or not a string",
                     run->n_agents);
            return -1;
        }
        if (find_agent(run, id)) {
            snprintf(err, errlen, "agent id \"%s\" appears twice in agents", id);
            return -1;
        }
        pb_agent *ag = &run->agents[run->n_agents++];
        ag->id = strdup(id);
        ag->endpoint = dup_or_null(pb_json_str(a, "endpoint"));
        ag->model = dup_or_null(pb_json_str(a, "model"));
        pb_request_clear(&ag->conc);
        pb_request_clear(&ag->solo);
        ag->solo_proc_t0 = ag->solo_proc_t1 = NAN;
    }

    int have_conc = 0, exec = 0, replay = 0;
    size_t pi = 0, n_solo_proc = 0;
    double solo_proc = 0;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, phases) {
        char where[96];
        const char *kind = pb_json_str(ph, "kind");
        const cJSON *reqs = pb_json_arr(ph, "requests");
        if (!kind || !reqs) {
            snprintf(err, errlen, "phases[%zu]: %s missing or mistyped", pi,
                     !kind ? "kind" : "requests");
            return -1;
        }
        int is_conc = strcmp(kind, "concurrent") == 0;
        int is_solo = strcmp(kind, "solo") == 0;
        if (is_conc) {
            double s, e;
            snprintf(where, sizeof where, "phases[%zu]", pi);
            if (have_conc) {
                snprintf(err, errlen, "%s: a second concurrent phase", where);
                return -1;
            }
            if (pb_json_num(ph, "start_ns", where, &s, err, errlen) ||
                pb_json_num(ph, "end_ns", where, &e, err, errlen))
                return -1;
            have_conc = 1;
            run->conc_start = s / NS;
            run->conc_end = e / NS;
            run->wall_s = run->conc_end - run->conc_start;
            /* Optional (collect since format v1's collector_cpu): a value
             * that is not a finite number >= 0 is not used. */
            double cpu = pb_json_opt_num(pb_json_obj(ph, "collector_cpu"), "cpu_us");
            if (isfinite(cpu) && cpu >= 0)
                run->collector_cpu_s = cpu / 1e6;
        }
        /* Exec runtimes (data/EXEC.md): the program's spawn to exit, and
         * whether a solo baseline was replayed by parbench instead. */
        const cJSON *proc = pb_json_obj(ph, "process");
        const char *bl = pb_json_str(ph, "baseline");
        if (proc || (bl && strcmp(bl, "replay") == 0)) {
            double ps = pb_json_opt_num(proc, "start_ns"), pe = pb_json_opt_num(proc, "end_ns");
            double span = ps >= 0 && pe >= ps ? (pe - ps) / NS : NAN;
            exec = 1;
            if (bl && strcmp(bl, "replay") == 0)
                replay = 1;
            /* A trace from before the proxy was wired in: process spans but
             * no request to time (data/EXEC.md). */
            const cJSON *rr = cJSON_GetObjectItemCaseSensitive(proc, "requests_recorded");
            if ((is_conc || is_solo) && cJSON_IsFalse(rr)) {
                snprintf(err, errlen, "phases[%zu]: the exec runtime's requests were not "
                         "recorded (process.requests_recorded false, a collect without the "
                         "recording proxy): nothing to measure; collect it again", pi);
                return -1;
            }
            if (is_conc) {
                run->conc_process_s = span;
                run->conc_proc_t0 = isfinite(span) ? ps / NS : NAN;
                run->conc_proc_t1 = isfinite(span) ? pe / NS : NAN;
            } else if (is_solo) {
                solo_proc += span;
                n_solo_proc++;
                /* "solo:<agent id>" (data/FORMAT.md). */
                const char *nm = pb_json_str(ph, "name");
                pb_agent *sa = nm && strncmp(nm, "solo:", 5) == 0 ? find_agent(run, nm + 5) : NULL;
                if (sa && isfinite(span)) {
                    sa->solo_proc_t0 = ps / NS;
                    sa->solo_proc_t1 = pe / NS;
                }
            }
        }
        if (is_conc || is_solo) {
            size_t ri = 0;
            const cJSON *rq;
            cJSON_ArrayForEach(rq, reqs) {
                snprintf(where, sizeof where, "phases[%zu].requests[%zu]", pi, ri++);
                /* The proxy records every request a program sends; one
                 * that no dialect reads (/api/tags, ...) is no agent's
                 * LLM call and measures nothing here. */
                const char *src = pb_json_str(rq, "source");
                if (src && strcmp(src, "proxy") == 0 && !pb_json_str(rq, "dialect"))
                    continue;
                pb_agent *ag = find_agent(run, pb_json_str(rq, "agent"));
                if (!ag) {
                    snprintf(err, errlen, "%s.agent is missing or not one of "
                             "the run's agents", where);
                    return -1;
                }
                pb_request *dst = is_conc ? &ag->conc : &ag->solo;
                int has = is_conc ? ag->has_conc : ag->has_solo;
                if (has && dst->n_llm > 0 && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rq, "step"))) {
                    pb_request add;
                    if (load_request(rq, &add, where, err, errlen)) {
                        free(add.chunks);
                        free(add.written_s);
                        free(add.error);
                        return -1;
                    }
                    if (merge_step(dst, &add) != 0) {
                        snprintf(err, errlen, "%s: out of memory", where);
                        return -1;
                    }
                    continue;
                }
                /* One request per agent and phase (data/FORMAT.md): a
                 * second one would silently replace the first. */
                if (has) {
                    snprintf(err, errlen, "%s: agent \"%s\" has a second request in "
                             "this %s phase", where, ag->id, kind);
                    return -1;
                }
                free(dst->chunks);
                free(dst->written_s);
                free(dst->error);
                if (load_request(rq, dst, where, err, errlen))
                    return -1;
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rq, "step"))) {
                    dst->n_llm = 1;
                    dst->llm_s = dst->duration_s;
                }
                if (is_solo)
                    ag->has_solo = 1;
                else
                    ag->has_conc = 1;
            }
            snprintf(where, sizeof where, "phases[%zu]", pi);
            if (pb_json_arr(ph, "steps") &&
                load_workflow_phase(ph, run, is_conc, where, err, errlen))
                return -1;
        }
        pi++;
    }
    if (!have_conc) {
        snprintf(err, errlen, "no phase of kind \"concurrent\": nothing to "
                 "measure");
        return -1;
    }
    if (!(run->wall_s > 0)) {
        snprintf(err, errlen, "concurrent wall end_ns - start_ns is %.9g s; "
                 "it must be > 0", run->wall_s);
        return -1;
    }
    /* Without every agent's concurrent request the efficiency would be a
     * NaN that the statistics then drop without a word. */
    for (size_t i = 0; i < run->n_agents; i++)
        if (!run->agents[i].has_conc) {
            snprintf(err, errlen, "agent \"%s\" has no request in the concurrent "
                     "phase", run->agents[i].id);
            return -1;
        }
    /* An exec runtime's phase spans its process, start-up included, while
     * its solo requests are timed on the wire: the concurrent wall is
     * therefore the wire span too (first request's start to last byte), as
     * parbench's own drivers time it, so every runtime's speedup has one
     * definition (report/README.md, "Exec runtimes"). */
    if (exec) {
        double t0 = INFINITY, t1 = -INFINITY;
        for (size_t i = 0; i < run->n_agents; i++) {
            t0 = fmin(t0, run->agents[i].conc.t_start);
            t1 = fmax(t1, run->agents[i].conc.t_end);
        }
        run->measured_by = replay ? PB_BY_PROXY_REPLAY : PB_BY_PROXY;
        if (t1 > t0) {
            run->conc_start = t0;
            run->conc_end = t1;
            run->wall_s = t1 - t0;
        }
        if (!replay && n_solo_proc == run->n_agents)
            run->solo_process_s = solo_proc;
    }
    /* Original metric: sum of the agents' durations inside the concurrent
     * phase / wall; measured: sum of their solo durations / wall. */
    double sum_c = 0, sum_s = 0;
    int all_solo = 1;
    for (size_t i = 0; i < run->n_agents; i++) {
        sum_c += run->agents[i].conc.duration_s;
        if (!run->agents[i].has_solo || !(run->agents[i].solo.duration_s > 0))
            all_solo = 0;
        else
            sum_s += run->agents[i].solo.duration_s;
    }
    double n = (double)run->n_agents;
    run->est_speedup = sum_c / run->wall_s;
    run->est_efficiency = run->est_speedup / n * 100.0;
    if (all_solo) {
        run->meas_speedup = sum_s / run->wall_s;
        run->meas_efficiency = run->meas_speedup / n * 100.0;
    }
    if (run->workflow && all_solo) {
        double ls = 0, lc = 0;
        for (size_t i = 0; i < run->n_agents; i++) {
            ls += run->agents[i].solo.llm_s;
            lc += run->agents[i].conc.llm_s;
        }
        if (isfinite(ls) && lc > 0)
            run->llm_efficiency = ls / lc * 100.0;
    }
    return 0;
}
