/* telemetry: see telemetry.h. */
#include "telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "http.h"
#include "pb_fs.h"
#include "pb_mem.h"
#include "progress.h"

/* The GPU query of the issue (#21): one CSV line per GPU and tick. */
#define GPU_QUERY "utilization.gpu,memory.used,power.draw,clocks.sm"
/* Samples kept per window at most (a run of hours at 100 ms: the rest is
 * counted, not kept). */
#define MAX_SAMPLES 200000

struct pb_telemetry {
    int interval_ms, quiet;
    uint64_t epoch;             /* uv_hrtime at creation: samples are relative */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, kick;
    unsigned gen;               /* bumped by begin and targets: older samples are stale */
    pthread_t thread;
    int thread_on;
    /* targets (under mu) */
    int n_urls, n_pids;
    char *urls[PB_TELEMETRY_MAX_TARGETS], *names[PB_TELEMETRY_MAX_TARGETS];
    pid_t pids[PB_TELEMETRY_MAX_TARGETS];
    char *pid_names[PB_TELEMETRY_MAX_TARGETS];
    /* the window (under mu) */
    cJSON *ps, *proc, *gpu;
    long n_samples, dropped;
    /* nvidia-smi */
    const char *gpu_state;      /* "nvidia-smi", "absent", "off", "failed" */
    pid_t smi_pid;
    int smi_fd;
    pthread_t smi_thread;
    int smi_on;
    long clk_tck;
};

static void add_sample(pb_telemetry *t, cJSON *arr, cJSON *s)
{
    if (t->n_samples >= MAX_SAMPLES) {
        t->dropped++;
        cJSON_Delete(s);
        return;
    }
    t->n_samples++;
    cJSON_AddItemToArray(arr, s);
}

static double rel_ns(const pb_telemetry *t, uint64_t at)
{
    return (double)(at - t->epoch);
}

/* /proc/PID/stat: utime and stime (fields 14, 15, clock ticks) and rss
 * (field 24, pages), after the ')' that ends the command name. */
static int proc_sample(pid_t pid, long tck, double *cpu_s, double *rss)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* p + 2 is field 3 (state). */
    unsigned long long ut = 0, st = 0;
    long long rs = 0;
    char *save, *tok = strtok_r(p + 2, " ", &save);
    for (int f = 3; tok; f++, tok = strtok_r(NULL, " ", &save)) {
        if (f == 14)
            ut = strtoull(tok, NULL, 10);
        else if (f == 15)
            st = strtoull(tok, NULL, 10);
        else if (f == 24) {
            rs = strtoll(tok, NULL, 10);
            break;
        }
    }
    *cpu_s = (double)(ut + st) / (double)tck;
    *rss = (double)rs * (double)sysconf(_SC_PAGESIZE);
    return 0;
}

static cJSON *ps_models(const cJSON *json)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(json, "models")) {
        cJSON *o = cJSON_CreateObject();
        static const char *const keys[] = {"name", "size", "size_vram", "context_length",
                                           "expires_at"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, keys[i]);
            if (v)
                cJSON_AddItemToObject(o, keys[i], cJSON_Duplicate(v, 1));
        }
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static void *sample_main(void *ud)
{
    pb_telemetry *t = ud;
    char *urls[PB_TELEMETRY_MAX_TARGETS], *names[PB_TELEMETRY_MAX_TARGETS];
    char *pnames[PB_TELEMETRY_MAX_TARGETS];
    pid_t pids[PB_TELEMETRY_MAX_TARGETS];
    uint64_t next = uv_hrtime();
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        /* A copy of the targets: the GETs run unlocked. */
        int nu = t->n_urls, np = t->n_pids;
        unsigned gen = t->gen;
        for (int i = 0; i < nu; i++) {
            urls[i] = pb_mem_strdup(t->urls[i]);
            names[i] = pb_mem_strdup(t->names[i]);
        }
        for (int i = 0; i < np; i++) {
            pids[i] = t->pids[i];
            pnames[i] = pb_mem_strdup(t->pid_names[i]);
        }
        pthread_mutex_unlock(&t->mu);
        cJSON *got_ps[PB_TELEMETRY_MAX_TARGETS] = {0}, *got_proc[PB_TELEMETRY_MAX_TARGETS] = {0};
        /* A slow /api/ps must not stretch the period much, nor a busy
         * server's answer be lost to a short interval: 0.5 to 2 s. */
        double timeout = t->interval_ms * 4 / 1000.0;
        timeout = timeout < 0.5 ? 0.5 : timeout > 2 ? 2 : timeout;
        for (int i = 0; i < nu; i++) {
            if (!urls[i] || !names[i])
                continue;
            uint64_t at = uv_hrtime();
            pb_http_answer a;
            int ok = pb_http_get(urls[i], "/api/ps", NULL, NULL, timeout, &a) == 0;
            cJSON *s = cJSON_CreateObject();
            cJSON_AddNumberToObject(s, "t_ns", rel_ns(t, at));
            cJSON_AddStringToObject(s, "endpoint", names[i]);
            if (ok)
                cJSON_AddItemToObject(s, "models", ps_models(a.json));
            else
                cJSON_AddStringToObject(s, "error", a.why);
            pb_http_answer_free(&a);
            got_ps[i] = s;
        }
        for (int i = 0; i < np; i++) {
            double cpu, rss;
            uint64_t at = uv_hrtime();
            if (!pnames[i] || proc_sample(pids[i], t->clk_tck, &cpu, &rss) != 0)
                continue;
            cJSON *s = cJSON_CreateObject();
            cJSON_AddNumberToObject(s, "t_ns", rel_ns(t, at));
            cJSON_AddStringToObject(s, "server", pnames[i]);
            cJSON_AddNumberToObject(s, "pid", pids[i]);
            cJSON_AddNumberToObject(s, "cpu_s", cpu);
            cJSON_AddNumberToObject(s, "rss_bytes", rss);
            got_proc[i] = s;
        }
        for (int i = 0; i < nu; i++)
            free(urls[i]), free(names[i]);
        for (int i = 0; i < np; i++)
            free(pnames[i]);
        pthread_mutex_lock(&t->mu);
        /* Taken for a server that was replaced, or before the window:
         * dropped, not recorded as the new window's. */
        int stale = gen != t->gen;
        for (int i = 0; i < nu; i++)
            if (got_ps[i] && !stale)
                add_sample(t, t->ps, got_ps[i]);
            else
                cJSON_Delete(got_ps[i]);
        for (int i = 0; i < np; i++)
            if (got_proc[i] && !stale)
                add_sample(t, t->proc, got_proc[i]);
            else
                cJSON_Delete(got_proc[i]);
        /* Fixed ticks: a slow sample does not shift the later ones. */
        next += (uint64_t)t->interval_ms * 1000000u;
        uint64_t now = uv_hrtime();
        if (next < now)
            next = now;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t wait = next - now;
        ts.tv_sec += (time_t)(wait / 1000000000u);
        ts.tv_nsec += (long)(wait % 1000000000u);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!t->stop && !t->kick && pthread_cond_timedwait(&t->cv, &t->mu, &ts) == 0) {
        }
        if (t->kick) {
            /* A run starts: sample now, then every interval from here. */
            t->kick = 0;
            next = uv_hrtime();
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* One CSV field as a number, or NaN ("[N/A]", "[Not Supported]"). */
static double csv_num(char **s)
{
    char *f = *s;
    char *c = strchr(f, ',');
    if (c) {
        *c = '\0';
        *s = c + 1;
    } else {
        *s = f + strlen(f);
    }
    while (*f == ' ')
        f++;
    char *end;
    double v = strtod(f, &end);
    return end == f ? NAN : v;
}

static void add_num(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static void *smi_main(void *ud)
{
    pb_telemetry *t = ud;
    char buf[8192];
    size_t len = 0;
    for (;;) {
        ssize_t k = read(t->smi_fd, buf + len, sizeof buf - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        uint64_t at = uv_hrtime();
        len += (size_t)k;
        buf[len] = '\0';
        char *nl;
        int gpu = 0;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            char *s = buf;
            /* One line per GPU: those read together belong to one tick. */
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "t_ns", rel_ns(t, at));
            cJSON_AddNumberToObject(o, "gpu", gpu++);
            add_num(o, "util_pct", csv_num(&s));
            add_num(o, "mem_used_mib", csv_num(&s));
            add_num(o, "power_w", csv_num(&s));
            add_num(o, "sm_clock_mhz", csv_num(&s));
            pthread_mutex_lock(&t->mu);
            add_sample(t, t->gpu, o);
            pthread_mutex_unlock(&t->mu);
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len - used + 1);
            len -= used;
        }
        if (len == sizeof buf - 1)
            len = 0; /* an over-long line: dropped */
    }
    return NULL;
}

static void smi_start(pb_telemetry *t)
{
    char path[4096];
    if (pb_fs_find_program("nvidia-smi", path, sizeof path) != 0) {
        t->gpu_state = "absent";
        if (!t->quiet)
            pb_progress_say("collect: nvidia-smi is not on PATH: no GPU samples in the traces "
                    "(not an error)\n");
        return;
    }
    int fds[2];
    if (pb_fs_pipe_cloexec(fds) != 0) {
        t->gpu_state = "failed";
        return;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setpgid(0, 0);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        char *argv[] = {"nvidia-smi", "--query-gpu=" GPU_QUERY, "--format=csv,noheader,nounits",
                        "-lms", "100", NULL};
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        t->gpu_state = "failed";
        return;
    }
    t->smi_pid = pid;
    t->smi_fd = fds[0];
    t->smi_on = pthread_create(&t->smi_thread, NULL, smi_main, t) == 0;
    t->gpu_state = "nvidia-smi";
}

pb_telemetry *pb_telemetry_new(int interval_ms, int gpu, int quiet)
{
    if (interval_ms <= 0 && !gpu)
        return NULL;
    pb_telemetry *t = pb_mem_calloc(1, sizeof *t);
    t->interval_ms = interval_ms;
    t->quiet = quiet;
    t->epoch = uv_hrtime();
    t->smi_fd = -1;
    t->clk_tck = sysconf(_SC_CLK_TCK);
    if (t->clk_tck <= 0)
        t->clk_tck = 100;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->ps = cJSON_CreateArray();
    t->proc = cJSON_CreateArray();
    t->gpu = cJSON_CreateArray();
    t->gpu_state = "off";
    if (gpu)
        smi_start(t);
    if (interval_ms > 0)
        t->thread_on = pthread_create(&t->thread, NULL, sample_main, t) == 0;
    return t;
}

void pb_telemetry_targets(pb_telemetry *t, int n_urls, const char *const *urls,
                          const char *const *names, int n_pids, const pid_t *pids,
                          const char *const *pid_names)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->n_urls; i++)
        free(t->urls[i]), free(t->names[i]);
    for (int i = 0; i < t->n_pids; i++)
        free(t->pid_names[i]);
    t->n_urls = n_urls < PB_TELEMETRY_MAX_TARGETS ? n_urls : PB_TELEMETRY_MAX_TARGETS;
    t->n_pids = n_pids < PB_TELEMETRY_MAX_TARGETS ? n_pids : PB_TELEMETRY_MAX_TARGETS;
    for (int i = 0; i < t->n_urls; i++) {
        t->urls[i] = pb_mem_strdup(urls[i]);
        t->names[i] = pb_mem_strdup(names[i]);
    }
    for (int i = 0; i < t->n_pids; i++) {
        t->pids[i] = pids[i];
        t->pid_names[i] = pb_mem_strdup(pid_names[i]);
    }
    t->gen++;
    pthread_mutex_unlock(&t->mu);
}

void pb_telemetry_begin(pb_telemetry *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    cJSON_Delete(t->ps);
    cJSON_Delete(t->proc);
    cJSON_Delete(t->gpu);
    t->ps = cJSON_CreateArray();
    t->proc = cJSON_CreateArray();
    t->gpu = cJSON_CreateArray();
    t->n_samples = t->dropped = 0;
    t->gen++;
    t->kick = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Rebases every sample's "t_ns" from the epoch to origin. */
static cJSON *rebase(cJSON *arr, int64_t shift)
{
    cJSON *s;
    cJSON_ArrayForEach(s, arr) {
        cJSON *tt = cJSON_GetObjectItemCaseSensitive(s, "t_ns");
        if (cJSON_IsNumber(tt))
            cJSON_SetNumberValue(tt, tt->valuedouble + (double)shift);
    }
    return arr;
}

cJSON *pb_telemetry_take(pb_telemetry *t, uint64_t origin_ns)
{
    cJSON *o = cJSON_CreateObject();
    int64_t shift = (int64_t)t->epoch - (int64_t)origin_ns;
    pthread_mutex_lock(&t->mu);
    cJSON_AddNumberToObject(o, "interval_ms", t->interval_ms);
    cJSON_AddItemToObject(o, "ps", rebase(t->ps, shift));
    cJSON_AddItemToObject(o, "proc", rebase(t->proc, shift));
    cJSON *g = cJSON_AddObjectToObject(o, "gpu");
    cJSON_AddStringToObject(g, "source", t->gpu_state);
    if (strcmp(t->gpu_state, "nvidia-smi") == 0)
        cJSON_AddStringToObject(g, "query", GPU_QUERY);
    cJSON_AddItemToObject(g, "samples", rebase(t->gpu, shift));
    if (t->dropped)
        cJSON_AddNumberToObject(o, "dropped", (double)t->dropped);
    t->ps = cJSON_CreateArray();
    t->proc = cJSON_CreateArray();
    t->gpu = cJSON_CreateArray();
    t->n_samples = t->dropped = 0;
    pthread_mutex_unlock(&t->mu);
    return o;
}

void pb_telemetry_free(pb_telemetry *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (t->thread_on)
        pthread_join(t->thread, NULL);
    if (t->smi_pid > 0) {
        /* Its process group: a wrapper script's children hold the pipe too,
         * and the reader below joins only at end of file. */
        kill(-t->smi_pid, SIGTERM);
        kill(t->smi_pid, SIGTERM);
        /* Bounded: SIGKILL after 2 s. */
        int st;
        for (int i = 0; i < 400 && waitpid(t->smi_pid, &st, WNOHANG) == 0; i++) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        if (waitpid(t->smi_pid, &st, WNOHANG) == 0) {
            kill(t->smi_pid, SIGKILL);
            waitpid(t->smi_pid, &st, 0);
        }
        kill(-t->smi_pid, SIGKILL);
    }
    if (t->smi_on)
        pthread_join(t->smi_thread, NULL);
    if (t->smi_fd >= 0)
        close(t->smi_fd);
    for (int i = 0; i < t->n_urls; i++)
        free(t->urls[i]), free(t->names[i]);
    for (int i = 0; i < t->n_pids; i++)
        free(t->pid_names[i]);
    cJSON_Delete(t->ps);
    cJSON_Delete(t->proc);
    cJSON_Delete(t->gpu);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

/* ---- host load per phase (telemetry.h) -------------------------------- */

static double loadavg_1m(void)
{
    char buf[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NAN;
    buf[n] = '\0';
    char *end;
    double v = strtod(buf, &end);
    return end == buf ? NAN : v;
}

/* The aggregate "cpu" line of /proc/stat: user nice system idle iowait irq
 * softirq steal (guest and guest_nice are already inside user and nice, so
 * they are not added again). */
static void stat_ticks(unsigned long long *total, unsigned long long *steal)
{
    char buf[512];
    *total = *steal = 0;
    int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0 || strncmp(buf, "cpu ", 4) != 0)
        return;
    buf[n] = '\0';
    char *p = buf + 4, *end;
    unsigned long long v[8] = {0}, sum = 0;
    for (int i = 0; i < 8; i++, p = end) {
        v[i] = strtoull(p, &end, 10);
        if (end == p)
            return; /* an old kernel without steal: unknown, not 0 */
        sum += v[i];
    }
    *total = sum;
    *steal = v[7];
}

void pb_telemetry_host_load_start(pb_host_load *h)
{
    h->load1 = loadavg_1m();
    stat_ticks(&h->total, &h->steal);
}

void pb_telemetry_host_load_add(cJSON *pj, const pb_host_load *start)
{
    pb_host_load now;
    pb_telemetry_host_load_start(&now);
    int ticks = start->total > 0 && now.total > start->total;
    if (isnan(now.load1) && !ticks)
        return;
    cJSON *h = cJSON_AddObjectToObject(pj, "host");
    add_num(h, "loadavg_1m_start", start->load1);
    add_num(h, "loadavg_1m", now.load1);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus > 0)
        cJSON_AddNumberToObject(h, "cpus", (double)cpus);
    else
        cJSON_AddNullToObject(h, "cpus");
    /* Ticks are 10 ms per CPU: a phase shorter than a few ticks has no
     * meaningful share, and the tick count says how much it rests on. */
    if (ticks) {
        unsigned long long dt = now.total - start->total;
        unsigned long long ds = now.steal >= start->steal ? now.steal - start->steal : 0;
        cJSON_AddNumberToObject(h, "steal_pct", 100.0 * (double)ds / (double)dt);
        cJSON_AddNumberToObject(h, "stat_ticks", (double)dt);
    } else {
        cJSON_AddNullToObject(h, "steal_pct");
        cJSON_AddNumberToObject(h, "stat_ticks", 0);
    }
}
