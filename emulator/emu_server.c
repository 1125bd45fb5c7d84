/* emu_server: the emulator's lifetime (start, thread, stop), listeners,
 * the trace file and self-measurement. */
#include "emu_internal.h"
#include "pb_mem.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <pb_time.h>

uint64_t emu_scale_ns(const emu *e, double seconds)
{
    double ns = seconds * 1e9 / e->o.time_scale;
    /* The options are bounded (check_options); this clamp keeps any
     * future path from a float-to-integer overflow (UB): 1e18 ns = 31 y. */
    if (!(ns > 0))
        return 0;
    return ns >= 1e18 ? (uint64_t)1e18 : (uint64_t)ns;
}

void emu_log(const emu *e, const char *fmt, ...)
{
    (void)e;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines of concurrent emulators do not mix. */
    fprintf(stderr, "ollama-emu: %s\n", buf);
}

void emu_trace_chunk(emu *e, int inst, const char *id, int index, uint64_t ns)
{
    if (!e->trace)
        return;
    /* stdio with a 1 MiB buffer: a memcpy per chunk; the disk write happens
     * when the buffer fills, on the 1 s housekeeping tick, and at stop. */
    /* Formatted by hand: fprintf was the largest user-space cost left on
     * the per-token path of a traced run. */
    char b[64];
    size_t k = sizeof b;
    b[--k] = '\n';
    do {
        b[--k] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns);
    b[--k] = '\t';
    unsigned u = index < 0 ? 0u : (unsigned)index;
    do {
        b[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    b[--k] = '\t';
    char pre[16];
    size_t np = (size_t)snprintf(pre, sizeof pre, "%d\t", inst);
    fwrite(pre, 1, np, e->trace);
    fputs(id, e->trace);
    fwrite(b + k, 1, sizeof b - k, e->trace);
}

void emu_record_lag(emu *e, uint64_t due, uint64_t now)
{
    uint64_t us = now > due ? (now - due) / 1000 : 0;
    if (us >= EMU_LAG_BUCKETS)
        us = EMU_LAG_BUCKETS - 1;
    pthread_mutex_lock(&e->mu);
    e->lag_hist[us]++;
    e->stats.lag_n++;
    e->stats.chunks++;
    if ((double)us > e->stats.lag_max_us)
        e->stats.lag_max_us = (double)us;
    pthread_mutex_unlock(&e->mu);
}

static double hist_quantile(const uint32_t *h, uint64_t n, double q)
{
    if (!n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)(n - 1)), seen = 0;
    for (size_t i = 0; i < EMU_LAG_BUCKETS; i++) {
        seen += h[i];
        if (seen > rank)
            return (double)i;
    }
    return EMU_LAG_BUCKETS - 1;
}

void emu_get_stats(emu_t *e, emu_stats *s)
{
    pthread_mutex_lock(&e->mu);
    *s = e->stats;
    s->lag_median_us = hist_quantile(e->lag_hist, s->lag_n, 0.5);
    s->lag_p99_us = hist_quantile(e->lag_hist, s->lag_n, 0.99);
    pthread_mutex_unlock(&e->mu);
    clockid_t cid;
    struct timespec ts;
    if (e->thread_started && !pthread_getcpuclockid(e->thread, &cid) &&
        !clock_gettime(cid, &ts))
        s->cpu_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int emu_port(const emu_t *e, int i)
{
    if (!e || i < 0 || i >= e->o.n_instances)
        return -1;
    return e->inst[i].port;
}

/* ---- loop thread ---- */

static void on_housekeeping(uv_timer_t *t)
{
    emu *e = t->data;
    if (e->trace && fflush(e->trace) != 0 && !e->trace_errno)
        e->trace_errno = errno ? errno : EIO;
    emu_http_sweep(e);
}

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Runs on the loop thread: close everything; uv_run then returns. */
static void on_stop(uv_async_t *a)
{
    emu *e = a->data;
    for (int i = 0; i < e->o.n_instances; i++)
        close_if_open((uv_handle_t *)&e->inst[i].listener);
    while (e->conns)
        emu_conn_close(e->conns);
    emu_sched_close(&e->sched);
    close_if_open((uv_handle_t *)&e->flush_timer);
    close_if_open((uv_handle_t *)&e->stop_async);
}

static void *emu_thread(void *arg)
{
    emu *e = arg;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Closes whatever emu_start had opened before failing. Returns -1 when the
 * trace file could not be written completely: a disk-full trace must not
 * pass for the ground truth of a timestamp measurement. */
static int emu_free(emu *e)
{
    int rc = 0;
    if (e->trace) {
        int err = e->trace_errno;
        if (ferror(e->trace) && !err)
            err = EIO;
        if (fclose(e->trace) != 0 && !err)
            err = errno ? errno : EIO;
        if (err) {
            fprintf(stderr, "ollama-emu: cannot write the trace file %s: %s; "
                    "it is incomplete (free some space or choose another "
                    "--trace path)\n", e->o.trace_path, strerror(err));
            rc = -1;
        }
    }
    for (int i = 0; i < EMU_MAX_INSTANCES; i++)
        for (int m = 0; m < EMU_MAX_MODELS; m++)
            emu_pcache_clear(&e->inst[i].runner[m].pc);
    free(e->lag_hist);
    emu_buf_free(&e->tok_out);
    emu_buf_free(&e->tok_line);
    emu_buf_free(&e->tok_json);
    emu_buf_free(&e->tok_raw);
    pthread_mutex_destroy(&e->mu);
    free(e);
    return rc;
}

static int check_options(const emu_options *o, char *err, size_t errlen)
{
    if (o->n_instances < 1 || o->n_instances > EMU_MAX_INSTANCES) {
        snprintf(err, errlen, "need 1..%d instances, got %d",
                 EMU_MAX_INSTANCES, o->n_instances);
        return -1;
    }
    if (o->n_models < 1 || o->n_models > EMU_MAX_MODELS) {
        snprintf(err, errlen, "need 1..%d models, got %d", EMU_MAX_MODELS,
                 o->n_models);
        return -1;
    }
    /* The same ranges as the flags (emu_options.c): callers that fill the
     * options in code get the same protection. NaN fails every test. */
    if (!(o->time_scale >= 1e-3 && o->time_scale <= 1e6) ||
        !(o->decode_rate >= 1e-3 && o->decode_rate <= 1e9) ||
        !(o->prompt_rate >= 1e-3 && o->prompt_rate <= 1e9) ||
        !(o->load_s >= 0 && o->load_s <= 3600) ||
        !(o->first_token_s >= 0 && o->first_token_s <= 3600) ||
        !(o->jitter >= 0 && o->jitter <= 10) ||
        !(o->contention >= 0 && o->contention <= 10)) {
        snprintf(err, errlen,
                 "invalid timing options: --time-scale in [1e-3, 1e6], rates in "
                 "[1e-3, 1e9], --load and --first-token in [0, 3600], --jitter and "
                 "--contention in [0, 10]");
        return -1;
    }
    if (!(o->header_timeout_s >= 1e-3 && o->header_timeout_s <= 3600) ||
        !(o->idle_timeout_s >= 1e-3 && o->idle_timeout_s <= 86400) ||
        o->max_connections < 1 || o->max_connections > 1000000) {
        snprintf(err, errlen,
                 "invalid connection options: --header-timeout in [1e-3, 3600], "
                 "--idle-timeout in [1e-3, 86400], --max-connections in [1, 1000000]");
        return -1;
    }
    if (!(o->time_scale > 0) || !(o->decode_rate > 0) ||
        !(o->prompt_rate > 0) || o->num_parallel < 1 || o->max_queue < 0 ||
        o->load_s < 0 || o->first_token_s < 0 || o->jitter < 0 ||
        o->contention < 0 || o->len_mean < 1 || o->len_sd < 0 ||
        !(o->batching >= 0) || !(o->vram_gib >= 0) || o->max_loaded < 0 ||
        o->embed_dim < 1 || o->embed_dim > 65536 || isnan(o->keep_alive_s)) {
        snprintf(err, errlen,
                 "invalid timing options: rates and --time-scale must be "
                 "> 0, --num-parallel >= 1, --len-mean >= 1, --embed-dim "
                 "1..65536, the others >= 0");
        return -1;
    }
    if (!o->version_string[0]) {
        snprintf(err, errlen, "--version-string must not be empty");
        return -1;
    }
    return 0;
}

static int instance_listen(emu *e, emu_instance *inst, char *err,
                           size_t errlen)
{
    const char *host = e->o.host[inst->index][0] ? e->o.host[inst->index]
                                                 : "127.0.0.1";
    int port = e->o.port[inst->index];
    struct sockaddr_storage ss;
    int rc = strchr(host, ':')
                 ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                 : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc) {
        snprintf(err, errlen,
                 "cannot listen on %s:%d: '%s' is not a numeric IP address "
                 "(use e.g. 127.0.0.1)",
                 host, port, host);
        return -1;
    }
    uv_tcp_init(&e->loop, &inst->listener);
    inst->listener.data = inst;
    e->n_listeners_open++;
    rc = uv_tcp_bind(&inst->listener, (struct sockaddr *)&ss, 0);
    /* Fault "down": bound (the port is reserved and reported) but never
     * listening, so every connect is refused. */
    if (!rc && inst->fault.kind != EMU_FAULT_DOWN)
        rc = uv_listen((uv_stream_t *)&inst->listener, 1024,
                       emu_http_on_connection);
    if (rc) {
        snprintf(err, errlen,
                 "cannot listen on %s:%d: %s (pick another port, or port 0 "
                 "for a free one)",
                 host, port, uv_strerror(rc));
        return -1;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&inst->listener, (struct sockaddr *)&bound, &len);
    inst->port = bound.ss_family == AF_INET6
                     ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                     : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

/* Up to the hard limit: each connection is a descriptor, and the soft
 * default (often 1024) is below what --max-connections allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

emu_t *emu_start(const emu_options *o, char *err, size_t errlen)
{
    if (check_options(o, err, errlen))
        return NULL;
    raise_fd_limit();
    emu *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory starting the emulator");
        return NULL;
    }
    e->o = *o;
    for (int i = 0; i < e->o.n_models; i++)
        e->model_caps[i] = emu_caps_of(e->o.models[i]);
    pthread_mutex_init(&e->mu, NULL);
    e->lag_hist = pb_mem_calloc(EMU_LAG_BUCKETS, sizeof *e->lag_hist);
    pb_time_rfc3339_now(e->started_at, sizeof e->started_at);
    /* Issue 9: a client (collect) learns the time scale and preset of an
     * emulator it did not start from every response. */
    snprintf(e->ident_header, sizeof e->ident_header,
             "X-Parbench-Emulator: time-scale=%g; preset=%s\r\n",
             o->time_scale, o->preset[0] ? o->preset : "default");
    for (int i = 0; i < o->n_instances; i++) {
        emu_instance *inst = &e->inst[i];
        inst->emu = e;
        inst->index = i;
        inst->gpu = o->shared_gpu ? &e->gpu[0] : &e->gpu[i];
        emu_model_init(inst);
        char ferr[256];
        if (emu_fault_parse(o->fault[i], &inst->fault, ferr, sizeof ferr)) {
            snprintf(err, errlen, "instance %d: %s", i, ferr);
            emu_free(e);
            return NULL;
        }
    }
    if (o->trace_path[0]) {
        e->trace = fopen(o->trace_path, "w");
        if (!e->trace) {
            snprintf(err, errlen,
                     "cannot open trace file %s: %s (check the directory "
                     "exists and is writable)",
                     o->trace_path, strerror(errno));
            emu_free(e);
            return NULL;
        }
        setvbuf(e->trace, NULL, _IOFBF, 1 << 20);
        fprintf(e->trace, "#instance\trequest_id\ttoken_index\t"
                          "monotonic_ns\n");
    }

    int rc = uv_loop_init(&e->loop);
    if (rc) {
        snprintf(err, errlen, "cannot create the event loop: %s",
                 uv_strerror(rc));
        emu_free(e);
        return NULL;
    }
    /* Handles are set up here, before the loop thread exists, so start can
     * report listen errors synchronously; afterwards only that thread
     * touches them. */
    uv_async_init(&e->loop, &e->stop_async, on_stop);
    e->stop_async.data = e;
    uv_timer_init(&e->loop, &e->flush_timer);
    e->flush_timer.data = e;
    /* The tick also enforces the connection timeouts: a quarter of the
     * shortest one, so none is overrun by more than 25% (1 s at most). */
    double tick_s = e->o.header_timeout_s < e->o.idle_timeout_s ? e->o.header_timeout_s
                                                                 : e->o.idle_timeout_s;
    uint64_t tick_ms = (uint64_t)(tick_s * 250);
    tick_ms = tick_ms < 10 ? 10 : tick_ms > 1000 ? 1000 : tick_ms;
    uv_timer_start(&e->flush_timer, on_housekeeping, tick_ms, tick_ms);
    rc = emu_sched_init(&e->sched, &e->loop);
    if (rc) {
        snprintf(err, errlen, "cannot create a timerfd: %s", uv_strerror(rc));
        goto fail_loop;
    }
    for (int i = 0; i < o->n_instances; i++)
        if (instance_listen(e, &e->inst[i], err, errlen))
            goto fail_sched;

    /* The loop thread must not take process signals (SIGINT belongs to the
     * host program) and must get EPIPE rather than a fatal SIGPIPE when a
     * client vanishes: block them there; the mask is inherited. */
    sigset_t all, old;
    sigemptyset(&all);
    sigaddset(&all, SIGPIPE);
    sigaddset(&all, SIGINT);
    sigaddset(&all, SIGTERM);
    sigaddset(&all, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&e->thread, NULL, emu_thread, e);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf(err, errlen, "cannot start the emulator thread: %s",
                 strerror(rc));
        goto fail_sched;
    }
    e->thread_started = 1;
    return e;

fail_sched:
    emu_sched_close(&e->sched);
fail_loop:
    for (int i = 0; i < e->n_listeners_open; i++)
        close_if_open((uv_handle_t *)&e->inst[i].listener);
    close_if_open((uv_handle_t *)&e->flush_timer);
    close_if_open((uv_handle_t *)&e->stop_async);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    emu_free(e);
    return NULL;
}

int emu_stop(emu_t *e)
{
    if (!e)
        return 0;
    uv_async_send(&e->stop_async);
    pthread_join(e->thread, NULL);
    int rc = uv_loop_close(&e->loop);
    if (rc)
        fprintf(stderr, "ollama-emu: stop: loop still busy (%s); this is a "
                "bug, please report it\n", uv_strerror(rc));
    return emu_free(e);
}
