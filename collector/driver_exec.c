/* driver_exec: a program is the runtime (issue 18 section 1). It is started
 * once per phase (each warm-up, each solo phase, the concurrent phase) with
 * a job file naming the phase's agents (data/EXEC.md), timed from spawn to
 * exit with uv_spawn on a loop of its own, and killed past --timeout or on
 * Ctrl-C. Its stdout and stderr are kept beside the run (the first
 * PB_EXEC_KEEP bytes of each).
 *
 * What the program's requests did on the wire is the recording proxy's
 * (collector/proxy.c, issue 18 section 2): endpoints_open() starts one per
 * plan endpoint on this loop (the job and the environment name them),
 * endpoints_close() takes their records, and exec_map.c says whose each
 * is (an agent's, or none: set aside with why). */
#include "driver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_cmd.h"
#include "exec_listen.h"
#include "exec_map.h"
#include "proxy.h"
#include "pb_fs.h"
#include "signals.h"
#include "pb_mem.h"
#include "progress.h"

#define PB_EXEC_KEEP (1024 * 1024) /* bytes of stdout / stderr kept, each */
#define KILL_GRACE_MS 2000          /* SIGTERM, then SIGKILL this much later */
#define DRAIN_MS 1000               /* after exit: the pipes' last bytes */
#define CHECK_MS 20                 /* Ctrl-C poll without the signal pipe */


extern char **environ;

struct xrun;

typedef struct out_buf {
    uv_pipe_t pipe;
    struct xrun *x;
    char *data;
    size_t kept, total;
    int open;
} out_buf;

typedef struct xrun {
    uv_loop_t loop;
    uv_process_t proc;
    uv_timer_t deadline;      /* --timeout, then the kill grace */
    uv_timer_t check;         /* Ctrl-C */
    out_buf out[2];           /* stdout, stderr */
    int spawned, exited, killed_for, sig;
    int64_t status;
    uint64_t t_exit;
    int interrupted, timed_out;
} xrun;

/* ---- Endpoints: where the program is sent. The proxy's plug-in point. */

typedef struct endpoints {
    const char *const *urls;  /* per plan endpoint: what the job names */
    int recording;            /* 1 once the proxy records requests */
    int n, closed;
    pb_proxy **px;
    char **own;               /* the proxies' URLs */
    char *const *labels;      /* the plan's endpoints, as the records name them */
    uv_loop_t *loop;
} endpoints;

/* "solo": "replay": the concurrent phase keeps what the program sent, for
 * the solo phases to send again (replay_write). */
static int keeps_bodies(const pb_wf_phase *ph)
{
    return ph->rt->solo_replay && strcmp(ph->kind, "concurrent") == 0;
}

static int endpoints_open(endpoints *e, const pb_wf_phase *ph, uv_loop_t *loop, char *err,
                          size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->loop = loop;
    e->n = ph->ctx->plan->n_endpoints;
    e->labels = ph->ctx->plan->endpoints;
    e->px = calloc((size_t)e->n, sizeof *e->px);
    e->own = calloc((size_t)e->n, sizeof *e->own);
    if (!e->px || !e->own)
        PB_MEM_OOM();
    for (int i = 0; i < e->n; i++) {
        pb_proxy_opts o = {.upstream = ph->ctx->urls[i], .label = ph->ctx->plan->endpoints[i],
                           .origin_ns = ph->origin, .keep_request_body = keeps_bodies(ph)};
        /* An address the program hard-codes (exec_listen.h); checked
         * before the sweep, so a failure here is a port taken since. */
        char host[64];
        const char *want = ph->ctx->plan->exec_listen ? ph->ctx->plan->exec_listen[i] : NULL;
        if (want && pb_exec_listen_parse(want, host, sizeof host, &o.listen_port, err, errlen) != 0)
            return -1;
        if (want)
            o.listen_host = host;
        if (!(e->px[i] = pb_proxy_start(loop, &o, err, errlen)))
            return -1;
        e->own[i] = pb_mem_alloc(96);
        snprintf(e->own[i], 96, "http://%s:%d", want ? host : "127.0.0.1", pb_proxy_port(e->px[i]));
    }
    e->urls = (const char *const *)e->own;
    e->recording = 1;
    return 0;
}

static void on_proxy_closed(void *ud) { ((endpoints *)ud)->closed++; }

static void on_wait_tick(uv_timer_t *h) { uv_stop(h->loop); }

static cJSON *endpoints_close(endpoints *e)
{
    /* Responses the client left mid-way finish as the proxy notices:
     * wait for them, bounded. */
    uv_timer_t tick;
    uv_timer_init(e->loop, &tick);
    for (int k = 0; k < 100; k++) {
        size_t fl = 0;
        for (int i = 0; i < e->n; i++)
            fl += e->px[i] ? pb_proxy_in_flight(e->px[i]) : 0;
        if (fl == 0)
            break;
        uv_timer_start(&tick, on_wait_tick, 20, 0);
        uv_run(e->loop, UV_RUN_DEFAULT);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    cJSON *all = e->recording ? cJSON_CreateArray() : NULL;
    int started = 0;
    for (int i = 0; i < e->n; i++) {
        if (!e->px[i])
            continue;
        started++;
        if (all) {
            cJSON *r = pb_proxy_take_requests(e->px[i]), *q;
            while ((q = cJSON_DetachItemFromArray(r, 0)))
                cJSON_AddItemToArray(all, q);
            cJSON_Delete(r);
        }
        pb_proxy_close(e->px[i], on_proxy_closed, e);
    }
    while (e->closed < started)
        uv_run(e->loop, UV_RUN_ONCE);
    for (int i = 0; i < e->n; i++)
        free(e->own[i]);
    free(e->own);
    free(e->px);
    return all;
}

/* The records as the agents' requests (exec_map.c); the others into
 * *other, with the reason they make the run invalid, if any. */
static cJSON *map_records(cJSON *all, const pb_wf_phase *ph, pb_wf_agent **ws, int n, cJSON **other,
                          char **invalid)
{
    pb_exec_agent_ref *refs = calloc((size_t)n + 1, sizeof *refs);
    int *steps = calloc((size_t)n * PB_STEPS_MAX + 1, sizeof *steps);
    if (!refs || !steps)
        PB_MEM_OOM();
    for (int i = 0; i < n; i++) {
        const pb_agent_spec *a = pb_wf_agent_spec(ws[i]);
        const pb_transfer *t = pb_wf_agent_request(ws[i]);
        refs[i] = (pb_exec_agent_ref){.id = a->id, .request_id = t ? t->request_id : NULL,
                                      .model = a->model, .endpoint = a->endpoint_index,
                                      .llm_step = steps + i * PB_STEPS_MAX};
        /* A workflow agent in this phase (warm-ups are plain): one request
         * per llm step. */
        cJSON *sj = pb_wf_agent_steps_json(ws[i]), *st;
        int k = 0;
        cJSON_ArrayForEach(st, sj) {
            if (cJSON_HasObjectItem(st, "llm") && refs[i].n_llm < PB_STEPS_MAX)
                steps[i * PB_STEPS_MAX + refs[i].n_llm++] = k;
            k++;
        }
        cJSON_Delete(sj);
    }
    cJSON *mine;
    pb_exec_map(all, refs, n, (const char *const *)ph->ctx->plan->endpoints,
                ph->ctx->plan->n_endpoints, &mine, other, invalid);
    cJSON_Delete(all);
    free(refs);
    free(steps);
    return mine;
}

/* The bodies the proxy kept leave the records (a trace holds no request
 * bodies); with "solo": "replay" each agent's first one is written to
 * <dir>/concurrent.replay, {"ID": {"api", "path", "body",
 * "request_id"}}, which the replayed solo phases send (run.c). Written
 * even when empty, so no file of an earlier attempt is replayed. JSON, but
 * not named .json: analyze reads every .json of a run folder. */
static void replay_write(const pb_wf_phase *ph, cJSON *mine, cJSON *other)
{
    cJSON *out = cJSON_CreateObject(), *q;
    cJSON_ArrayForEach(q, mine) {
        cJSON *b = cJSON_DetachItemFromObjectCaseSensitive(q, "request_body");
        const char *ag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "agent"));
        const char *api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "api"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "url_path"));
        const char *rid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "request_id"));
        if (cJSON_IsObject(b) && ag && api && path && rid && !cJSON_HasObjectItem(out, ag) &&
            pb_dialect_find(api)) {
            cJSON *a = cJSON_AddObjectToObject(out, ag);
            cJSON_AddStringToObject(a, "api", api);
            cJSON_AddStringToObject(a, "path", path);
            cJSON_AddItemToObject(a, "body", b);
            cJSON_AddStringToObject(a, "request_id", rid);
        } else {
            cJSON_Delete(b);
        }
    }
    cJSON_ArrayForEach(q, other) cJSON_DeleteItemFromObjectCaseSensitive(q, "request_body");
    if (!keeps_bodies(ph)) {
        cJSON_Delete(out);
        return;
    }
    char *text = cJSON_Print(out), e[600], path[4300];
    snprintf(path, sizeof path, "%s/concurrent.replay", ph->exec_dir);
    if (pb_fs_write_atomic(path, text, strlen(text), e, sizeof e) != 0)
        pb_progress_say("collect: exec runtime %s: the requests to replay are not kept: %s\n",
                ph->rt->label, e);
    cJSON_free(text);
    cJSON_Delete(out);
}

/* ---- The job file (data/EXEC.md), "<stem>.job": JSON, named so that
 * tools that read every .json of a run folder (analyze) pass it by. */

static cJSON *job_json(const pb_wf_phase *ph, pb_wf_agent **ws, int n, const endpoints *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "parbench_job", 1);
    cJSON_AddStringToObject(j, "phase", ph->kind);
    cJSON_AddStringToObject(j, "runtime", ph->rt->label);
    cJSON_AddStringToObject(j, "config", ph->cfg->name);
    cJSON_AddNumberToObject(j, "run", ph->run_index);
    cJSON *arr = cJSON_AddArrayToObject(j, "agents");
    for (int i = 0; i < n; i++) {
        const pb_agent_spec *a = pb_wf_agent_spec(ws[i]);
        const pb_transfer *t = pb_wf_agent_request(ws[i]);
        cJSON *aj = cJSON_CreateObject();
        cJSON_AddStringToObject(aj, "id", a->id);
        cJSON_AddStringToObject(aj, "api", a->api);
        cJSON_AddStringToObject(aj, "endpoint", e->urls[a->endpoint_index]);
        cJSON_AddStringToObject(aj, "model", a->model);
        cJSON_AddStringToObject(aj, "prompt", a->prompt);
        /* Its arrival offset (--stagger, --arrival-rate): when to start it,
         * counted from the program's start. */
        cJSON_AddNumberToObject(aj, "offset_s", (double)pb_wf_agent_offset(ws[i]) * 1e-9);
        /* Ollama options with what parbench adds: the paired seed (unless
         * the agent sets one) and a warm-up's num_predict. */
        cJSON *opt = cJSON_Duplicate(a->options, 1);
        long seed = pb_wf_agent_seed(ws[i]);
        if (seed >= 0 && !cJSON_GetObjectItemCaseSensitive(opt, "seed"))
            cJSON_AddNumberToObject(opt, "seed", (double)seed);
        if (ph->num_predict > 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(opt, "num_predict");
            cJSON_AddNumberToObject(opt, "num_predict", ph->num_predict);
        }
        cJSON_AddItemToObject(aj, "options", opt);
        cJSON *steps = pb_wf_agent_steps_json(ws[i]);
        if (steps)
            cJSON_AddItemToObject(aj, "steps", steps);
        if (!t) { /* a workflow that starts with work: no first request */
            cJSON_AddItemToArray(arr, aj);
            continue;
        }
        cJSON *rq = cJSON_AddObjectToObject(aj, "request");
        cJSON_AddStringToObject(rq, "method", "POST");
        cJSON_AddStringToObject(rq, "path", t->dialect->path);
        cJSON *hd = cJSON_AddObjectToObject(rq, "headers");
        cJSON_AddStringToObject(hd, "X-Parbench-Request", t->request_id);
        cJSON *body = cJSON_Parse(t->body);
        cJSON_AddItemToObject(rq, "body", body ? body : cJSON_CreateNull());
        cJSON_AddItemToArray(arr, aj);
    }
    return j;
}

/* ---- The process. */

static void on_closed(uv_handle_t *h) { (void)h; }

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    static char buf[65536]; /* one loop, one read at a time */
    *b = uv_buf_init(buf, sizeof buf);
}

static void maybe_stop(xrun *x);

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    out_buf *o = s->data;
    if (nread < 0) {
        o->open = 0;
        uv_close((uv_handle_t *)s, on_closed);
        maybe_stop(o->x);
        return;
    }
    o->total += (size_t)nread;
    size_t take = o->kept + (size_t)nread <= PB_EXEC_KEEP ? (size_t)nread : PB_EXEC_KEEP - o->kept;
    if (take > 0) {
        memcpy(o->data + o->kept, b->base, take);
        o->kept += take;
    }
}

static void maybe_stop(xrun *x)
{
    if (x->exited && !x->out[0].open && !x->out[1].open)
        uv_stop(&x->loop);
}

static void on_drained(uv_timer_t *h)
{
    xrun *x = h->data;
    uv_stop(&x->loop);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    xrun *x = p->data;
    x->t_exit = uv_hrtime();
    x->exited = 1;
    x->status = status;
    x->sig = sig;
    uv_close((uv_handle_t *)p, on_closed);
    /* A grandchild may hold the pipes open: their last bytes get a bound. */
    uv_timer_stop(&x->deadline);
    uv_timer_start(&x->deadline, on_drained, DRAIN_MS, 0);
    maybe_stop(x);
}

static void on_kill_timer(uv_timer_t *h)
{
    xrun *x = h->data;
    if (x->exited)
        return;
    if (!x->killed_for) {
        x->killed_for = SIGTERM;
        uv_process_kill(&x->proc, SIGTERM);
        uv_timer_start(&x->deadline, on_kill_timer, KILL_GRACE_MS, 0);
    } else {
        x->killed_for = SIGKILL;
        uv_process_kill(&x->proc, SIGKILL);
    }
}

static void on_deadline(uv_timer_t *h)
{
    xrun *x = h->data;
    x->timed_out = 1;
    on_kill_timer(h);
}

static void on_check(uv_timer_t *h)
{
    xrun *x = h->data;
    if (pb_signals_interrupted() && !x->interrupted) {
        x->interrupted = 1;
        if (!x->exited) {
            uv_timer_stop(&x->deadline);
            on_kill_timer(&x->deadline);
        }
    }
}

typedef struct fill_ud {
    const pb_wf_phase *ph;
    const endpoints *e;
} fill_ud;

static const char *endpoint_of(void *ud, const char *id)
{
    fill_ud *f = ud;
    for (int i = 0; i < f->ph->cfg->n_agents; i++)
        if (strcmp(f->ph->cfg->agents[i].id, id) == 0)
            return f->e->urls[f->ph->cfg->agents[i].endpoint_index];
    return NULL;
}

/* environ with the job and the endpoint variables set (replacing any). */
static char **make_env(const char *job, const char *first_url, char **owned, int n_owned)
{
    static const char *const names[] = {"PARBENCH_JOB=", "OLLAMA_HOST=", "OLLAMA_BASE_URL=",
                                        "OPENAI_BASE_URL="};
    int n = 0;
    while (environ[n])
        n++;
    char **env = pb_mem_calloc((size_t)n + 5, sizeof *env);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int ours = 0;
        for (int j = 0; j < 4; j++)
            ours |= strncmp(environ[i], names[j], strlen(names[j])) == 0;
        if (!ours)
            env[k++] = environ[i];
    }
    const char *vals[4] = {job, first_url, first_url, NULL};
    for (int j = 0; j < 4 && j < n_owned; j++) {
        size_t l = strlen(names[j]) + strlen(first_url) + strlen(job) + 8;
        owned[j] = pb_mem_alloc(l);
        if (j == 3)
            snprintf(owned[j], l, "%s%s/v1", names[j], first_url);
        else
            snprintf(owned[j], l, "%s%s", names[j], vals[j]);
        env[k++] = owned[j];
    }
    return env;
}

static int write_file(const char *dir, const char *stem, const char *ext, const char *data,
                      size_t len, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.%s", dir, stem, ext);
    return pb_fs_write_atomic(path, data, len, err, errlen);
}

static cJSON *stream_json(const char *stem, const char *ext, const out_buf *o)
{
    cJSON *j = cJSON_CreateObject();
    char name[600];
    snprintf(name, sizeof name, "%s.%s", stem, ext);
    cJSON_AddStringToObject(j, "file", name);
    cJSON_AddNumberToObject(j, "bytes", (double)o->total);
    cJSON_AddNumberToObject(j, "kept", (double)o->kept);
    return j;
}

/* The last line of the program's stderr (its one-line message), for the
 * invalid reason; "" when none. */
static void last_line(const out_buf *o, char *buf, size_t len)
{
    size_t e = o->kept;
    while (e > 0 && (o->data[e - 1] == '\n' || o->data[e - 1] == '\r'))
        e--;
    size_t s = e;
    while (s > 0 && o->data[s - 1] != '\n')
        s--;
    size_t n = e - s < len - 1 ? e - s : len - 1;
    memcpy(buf, o->data + s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20)
            buf[i] = ' ';
}

int pb_driver_exec_run(const pb_wf_phase *ph, pb_wf_agent **ws, int n, uint64_t *release,
                       cJSON **process, cJSON **requests, char **invalid, char *err, size_t errlen)
{
    *process = NULL;
    *requests = NULL;
    *invalid = NULL;
    char e2[600];
    if (pb_fs_mkdirs(ph->exec_dir, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "exec runtime %s: %s", ph->rt->label, e2);
        return -1;
    }
    xrun x;
    memset(&x, 0, sizeof x);
    if (uv_loop_init(&x.loop) != 0) {
        snprintf(err, errlen, "exec runtime %s: cannot create an event loop", ph->rt->label);
        return -1;
    }
    endpoints eps;
    if (endpoints_open(&eps, ph, &x.loop, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "exec runtime %s: %s", ph->rt->label, e2);
        cJSON_Delete(endpoints_close(&eps)); /* what did start */
        uv_run(&x.loop, UV_RUN_DEFAULT);
        uv_loop_close(&x.loop);
        return -1;
    }

    /* The job, then the command line with its templates filled. */
    cJSON *job = job_json(ph, ws, n, &eps);
    char *jtext = cJSON_Print(job);
    cJSON_Delete(job);
    char job_path[4200];
    snprintf(job_path, sizeof job_path, "%s/%s.job", ph->exec_dir, ph->exec_stem);
    int rc = pb_fs_write_atomic(job_path, jtext, strlen(jtext), e2, sizeof e2);
    cJSON_free(jtext);
    if (rc != 0) {
        snprintf(err, errlen, "exec runtime %s: %s", ph->rt->label, e2);
        cJSON_Delete(endpoints_close(&eps));
        uv_run(&x.loop, UV_RUN_DEFAULT);
        uv_loop_close(&x.loop);
        return -1;
    }
    int argc = pb_exec_argc(ph->rt->exec_argv);
    char **argv = pb_mem_calloc((size_t)argc + 1, sizeof *argv);
    fill_ud fu = {ph, &eps};
    const char *model = n > 0 ? pb_wf_agent_spec(ws[0])->model : "";
    for (int i = 0; i < argc && rc == 0; i++)
        if (!(argv[i] = pb_exec_fill(ph->rt->exec_argv[i], model, n, endpoint_of, &fu, e2, sizeof e2))) {
            snprintf(err, errlen, "exec runtime %s: %s", ph->rt->label, e2);
            rc = -1;
        }
    const char *first = n > 0 ? eps.urls[pb_wf_agent_spec(ws[0])->endpoint_index] : "";
    char *owned[4] = {0};
    char **env = make_env(job_path, first, owned, 4);

    for (int i = 0; i < 2; i++) {
        uv_pipe_init(&x.loop, &x.out[i].pipe, 0);
        x.out[i].pipe.data = &x.out[i];
        x.out[i].x = &x;
        x.out[i].data = pb_mem_alloc(PB_EXEC_KEEP);
    }
    uv_timer_init(&x.loop, &x.deadline);
    uv_timer_init(&x.loop, &x.check);
    x.deadline.data = x.check.data = &x;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x.out[0].pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x.out[1].pipe},
    };
    uv_process_options_t po = {
        .exit_cb = on_exit_cb, .file = argv[0], .args = argv, .env = env,
        .stdio_count = 3, .stdio = stdio,
    };
    x.proc.data = &x;
    int spawn_rc = UV_EINVAL, attempted = 0;
    *release = uv_hrtime();
    if (rc == 0 && !pb_signals_interrupted()) {
        attempted = 1;
        spawn_rc = uv_spawn(&x.loop, &x.proc, &po);
    }
    uint64_t t_spawn = uv_hrtime();
    if (rc == 0 && spawn_rc == 0) {
        x.spawned = 1;
        for (int i = 0; i < 2; i++) {
            x.out[i].open = 1;
            uv_read_start((uv_stream_t *)&x.out[i].pipe, on_alloc, on_read);
        }
        double to = ph->ctx->plan->timeout_s;
        uv_timer_start(&x.deadline, on_deadline, (uint64_t)(to * 1000.0 + 0.5), 0);
        uv_timer_start(&x.check, on_check, CHECK_MS, CHECK_MS);
        uv_run(&x.loop, UV_RUN_DEFAULT);
        /* Still running only when the drain bound stopped the loop. */
    }
    cJSON *recorded = endpoints_close(&eps), *other = NULL;
    char *stray = NULL;
    if (recorded) {
        recorded = map_records(recorded, ph, ws, n, &other, &stray);
        replay_write(ph, recorded, other);
    }
    for (int i = 0; i < 2; i++)
        if (!uv_is_closing((uv_handle_t *)&x.out[i].pipe))
            uv_close((uv_handle_t *)&x.out[i].pipe, on_closed);
    uv_close((uv_handle_t *)&x.deadline, on_closed);
    uv_close((uv_handle_t *)&x.check, on_closed);
    if (attempted && spawn_rc != 0)
        uv_close((uv_handle_t *)&x.proc, on_closed); /* libuv wants it closed */
    uv_run(&x.loop, UV_RUN_DEFAULT);
    uv_loop_close(&x.loop);

    /* The record. */
    cJSON *pj = cJSON_CreateObject();
    cJSON *aj = cJSON_AddArrayToObject(pj, "argv");
    for (int i = 0; i < argc && argv[i]; i++)
        cJSON_AddItemToArray(aj, cJSON_CreateString(argv[i]));
    char stem_job[600];
    snprintf(stem_job, sizeof stem_job, "%s.job", ph->exec_stem);
    cJSON_AddStringToObject(pj, "job", stem_job);
    cJSON_AddNumberToObject(pj, "start_ns", x.spawned ? (double)(int64_t)(t_spawn - ph->origin) : -1);
    cJSON_AddNumberToObject(pj, "end_ns", x.exited ? (double)(int64_t)(x.t_exit - ph->origin) : -1);
    cJSON_AddItemToObject(pj, "exit_status", x.exited && !x.sig ? cJSON_CreateNumber((double)x.status)
                                                                  : cJSON_CreateNull());
    cJSON_AddItemToObject(pj, "signal", x.exited && x.sig ? cJSON_CreateString(strsignal(x.sig))
                                                            : cJSON_CreateNull());
    cJSON_AddBoolToObject(pj, "timed_out", x.timed_out);
    cJSON_AddItemToObject(pj, "stdout", stream_json(ph->exec_stem, "stdout", &x.out[0]));
    cJSON_AddItemToObject(pj, "stderr", stream_json(ph->exec_stem, "stderr", &x.out[1]));
    cJSON_AddBoolToObject(pj, "requests_recorded", recorded != NULL);
    if (other)
        cJSON_AddItemToObject(pj, "other_requests", other);
    *requests = recorded;
    *process = pj;
    if (x.spawned) {
        if (write_file(ph->exec_dir, ph->exec_stem, "stdout", x.out[0].data, x.out[0].kept, e2, sizeof e2) != 0 ||
            write_file(ph->exec_dir, ph->exec_stem, "stderr", x.out[1].data, x.out[1].kept, e2, sizeof e2) != 0)
            pb_progress_say("collect: exec runtime %s: output not kept: %s\n", ph->rt->label, e2);
    }

    /* Why the phase failed, if it did. */
    char why[1024], msg[300];
    why[0] = '\0';
    last_line(&x.out[1], msg, sizeof msg);
    if (rc == 0 && attempted && spawn_rc != 0)
        snprintf(why, sizeof why, "cannot start %s: %s", argv[0], uv_strerror(spawn_rc));
    else if (x.timed_out)
        snprintf(why, sizeof why, "%s still running after --timeout %.3g s: killed (%s)", argv[0],
                 ph->ctx->plan->timeout_s, x.killed_for == SIGKILL ? "SIGKILL" : "SIGTERM");
    else if (x.exited && x.sig && !x.interrupted)
        snprintf(why, sizeof why, "%s crashed: signal %d (%s)%s%s", argv[0], x.sig, strsignal(x.sig),
                 msg[0] ? "; stderr: " : "", msg);
    else if (x.exited && x.status != 0)
        snprintf(why, sizeof why, "%s exited with status %lld%s%s", argv[0], (long long)x.status,
                 msg[0] ? ": " : "", msg);
    else if (x.spawned && !x.exited && !x.interrupted)
        snprintf(why, sizeof why, "%s did not exit", argv[0]);
    else if (stray && x.exited && !x.interrupted)
        snprintf(why, sizeof why, "%s", stray);
    free(stray);
    if (why[0] && rc == 0) {
        size_t l = strlen(why) + strlen(ph->rt->label) + 32;
        *invalid = malloc(l);
        if (!*invalid)
            PB_MEM_OOM();
        snprintf(*invalid, l, "exec runtime %s: %s", ph->rt->label, why);
    }
    for (int i = 0; i < 2; i++)
        free(x.out[i].data);
    for (int i = 0; i < 4; i++)
        free(owned[i]);
    free(env);
    pb_exec_argv_free(argv);
    if (rc != 0)
        return -1;
    return x.interrupted || pb_signals_interrupted() ? 1 : 0;
}
