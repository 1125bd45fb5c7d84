#include "emulate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpus.h"
#include "emu.h" /* emu_options only: the server itself is not linked */

enum { START_TIMEOUT_MS = 10000, STOP_TIMEOUT_MS = 5000 };

static int executable(const char *path)
{
    return access(path, X_OK) == 0;
}

int pb_emulate_find(const char *explicit_path, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    if (explicit_path) {
        if (!executable(explicit_path)) {
            snprintf(err, errlen, "--emulator %s: not an executable file (%s)", explicit_path,
                     strerror(errno));
            return -1;
        }
        snprintf(out, outlen, "%s", explicit_path);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(err, errlen, "--emulate: cannot locate the collect binary (/proc/self/exe: %s); "
                 "pass --emulator PATH", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    char beside[PATH_MAX + 32], tree[PATH_MAX + 32];
    snprintf(beside, sizeof beside, "%s/ollama-emu", self);
    snprintf(tree, sizeof tree, "%s/../emulator/ollama-emu", self);
    if (executable(beside) || executable(tree)) {
        snprintf(out, outlen, "%s", executable(beside) ? beside : tree);
        return 0;
    }
    snprintf(err, errlen, "--emulate: ollama-emu not found (tried %s and %s); install it beside "
             "collect or pass --emulator PATH", beside, tree);
    return -1;
}

/* argv of the child, NULL-terminated; every element malloc'd. */
typedef struct argv_buf {
    char **v;
    int n, cap;
} argv_buf;

static int arg_add(argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int arg_add(argv_buf *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char buf[1200];
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof buf || !(a->v[a->n] = strdup(buf)))
        return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void arg_free(argv_buf *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* The child's command line: everything the plan says about emulation. */
static int build_argv(const pb_plan *p, const char *binary, argv_buf *a)
{
#define ADD(...)                         \
    do {                                 \
        if (arg_add(a, __VA_ARGS__) != 0) \
            return -1;                   \
    } while (0)
    ADD("%s", binary);
    /* The emulator reads Ollama's OLLAMA_* variables; an emulated run must
     * depend on its plan only, not on the user's shell. */
    ADD("--no-env");
    ADD("--quiet");
    ADD("--seed");
    ADD("%llu", (unsigned long long)p->seed);
    ADD("--time-scale");
    ADD("%.17g", p->emulate.time_scale);
    if (p->emulate.ideal)
        ADD("--ideal");
    /* Default: one shared GPU, as in the study (both Ollama instances on one
     * card); --emulate-ideal keeps the preset's independent instances. */
    if (p->emulate.shared_gpu >= 0 ? p->emulate.shared_gpu : !p->emulate.ideal)
        ADD("--shared-gpu");
    if (p->emulate.num_parallel > 0) {
        ADD("--num-parallel");
        ADD("%d", p->emulate.num_parallel);
    }
    for (int i = 0; i < p->emulate.n_models; i++) {
        ADD("--model");
        ADD("%s", p->emulate.models[i]);
    }
    for (int i = 0; i < p->n_endpoints; i++) {
        ADD("--listen");
        ADD("127.0.0.1:0");
        const cJSON *f = p->emulate.faults
                             ? cJSON_GetObjectItemCaseSensitive(p->emulate.faults, p->endpoints[i]) : NULL;
        if (cJSON_IsString(f)) {
            ADD("--fault");
            ADD("%d=%s", i, f->valuestring);
        }
    }
    if (p->emulate.trace) {
        ADD("--trace");
        ADD("%s", p->emulate.trace);
    }
#undef ADD
    return 0;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reaps the child, waiting at most `ms` before SIGKILL. Returns its wait
 * status. */
static int reap(pid_t pid, int ms)
{
    int st = 0;
    long long deadline = now_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return st;
        if (now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            return st;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static pid_t spawn(char **argv, int out_w, int out_r, int err_w)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child. Its own process group: a terminal Ctrl-C goes to collect,
     * which abandons the run and then stops the emulator itself. */
    setpgid(0, 0);
    /* The kernel sends SIGTERM when collect dies, even by SIGKILL; the
     * getppid() check closes the race of a parent that died before. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(127);
    /* --cpus: the server's work stays off collect's CPUs. */
    if (pb_cpus_move_to_others() != 0)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(out_r);
    if (out_w != STDOUT_FILENO) {
        if (dup2(out_w, STDOUT_FILENO) < 0)
            _exit(127);
        close(out_w);
    }
    /* Its messages go through collect, which prints them above the bar. */
    if (err_w >= 0 && err_w != STDERR_FILENO && dup2(err_w, STDERR_FILENO) < 0)
        _exit(127);
    execv(argv[0], argv);
    static const char msg[] = "collect: cannot execute the emulator binary\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

/* Reads "listening http://HOST:PORT" lines until there is one per endpoint. */
static int read_ports(pb_emu *m, int n, int *ports, char *err, size_t errlen)
{
    char buf[8192];
    size_t len = 0;
    int got = 0;
    long long deadline = now_ms() + START_TIMEOUT_MS;
    while (got < n) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(err, errlen, "did not print its %d listening lines within %d s", n,
                     START_TIMEOUT_MS / 1000);
            return -1;
        }
        struct pollfd pfd = {m->out_fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t k = read(m->out_fd, buf + len, sizeof buf - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "exited before listening (its messages are above)");
            return -1;
        }
        len += (size_t)k;
        buf[len] = '\0';
        char *nl;
        while (got < n && (nl = strchr(buf, '\n'))) {
            *nl = '\0';
            const char *colon = strrchr(buf, ':');
            char *end = NULL;
            long port = colon ? strtol(colon + 1, &end, 10) : 0;
            if (strncmp(buf, "listening http://", 17) != 0 || !end || *end || port <= 0 ||
                port > 65535) {
                snprintf(err, errlen, "printed an unexpected line '%.200s'", buf);
                return -1;
            }
            ports[got++] = (int)port;
            size_t used = (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len - used + 1);
            len -= used;
        }
        if (len == sizeof buf - 1) {
            snprintf(err, errlen, "printed an over-long line");
            return -1;
        }
    }
    return 0;
}

static cJSON *info_json(const pb_plan *p, const emu_options *o, const char *binary)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "preset", p->emulate.ideal ? "ideal" : "default");
    cJSON_AddBoolToObject(j, "shared_gpu", o->shared_gpu);
    cJSON_AddNumberToObject(j, "time_scale", o->time_scale);
    cJSON_AddNumberToObject(j, "num_parallel", o->num_parallel);
    cJSON_AddNumberToObject(j, "decode_rate", o->decode_rate);
    cJSON_AddNumberToObject(j, "contention", o->contention);
    cJSON_AddStringToObject(j, "process", binary);
    char cpus[256];
    pb_cpus_others(cpus, sizeof cpus);
    cJSON_AddStringToObject(j, "cpus", cpus);
    cJSON *ms = cJSON_AddArrayToObject(j, "models");
    for (int i = 0; i < o->n_models; i++)
        cJSON_AddItemToArray(ms, cJSON_CreateString(o->models[i]));
    cJSON_AddObjectToObject(j, "endpoints");
    return j;
}

int pb_emulate_start(const pb_plan *p, const char *binary, int err_fd, pb_emu *m, char *err,
                     size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->out_fd = -1;
    if (p->n_endpoints > EMU_MAX_INSTANCES) {
        snprintf(err, errlen, "--emulate: the plan has %d endpoints, the emulator serves at most %d",
                 p->n_endpoints, EMU_MAX_INSTANCES);
        return -1;
    }
    argv_buf a = {0};
    emu_options *o = calloc(1, sizeof *o);
    int *ports = calloc((size_t)p->n_endpoints, sizeof *ports);
    int fds[2] = {-1, -1}, rc = -1;
    char e[512];
    if (!o || !ports || build_argv(p, binary, &a) != 0) {
        snprintf(err, errlen, "--emulate: out of memory (or an over-long trace path or model name)");
        goto out;
    }
    /* The same parser as the child's: the options recorded in the traces
     * are exactly the ones it runs with, and a bad value fails here. */
    emu_options_init(o);
    if (emu_options_parse(o, a.n, a.v, e, sizeof e) != 0) {
        snprintf(err, errlen, "--emulate: the emulator's options: %s", e);
        goto out;
    }
    /* Close-on-exec: the child gets the write end as its stdout only. */
    if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, errlen, "--emulate: pipe: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    m->pid = spawn(a.v, fds[1], fds[0], err_fd);
    if (m->pid < 0) {
        snprintf(err, errlen, "--emulate: fork: %s", strerror(errno));
        m->pid = 0;
        goto out;
    }
    close(fds[1]);
    fds[1] = -1;
    m->out_fd = fds[0];
    fds[0] = -1;
    if (read_ports(m, p->n_endpoints, ports, e, sizeof e) != 0) {
        snprintf(err, errlen, "--emulate: %s %s", binary, e);
        goto out;
    }
    m->n = p->n_endpoints;
    m->urls = calloc((size_t)m->n, sizeof *m->urls);
    m->info = info_json(p, o, binary);
    if (!m->urls || !m->info) {
        snprintf(err, errlen, "--emulate: out of memory");
        goto out;
    }
    cJSON *map = cJSON_GetObjectItemCaseSensitive(m->info, "endpoints");
    for (int i = 0; i < m->n; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://127.0.0.1:%d", ports[i]);
        if (!(m->urls[i] = strdup(u))) {
            snprintf(err, errlen, "--emulate: out of memory");
            goto out;
        }
        cJSON_AddStringToObject(map, p->endpoints[i], u);
    }
    rc = 0;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc != 0)
        pb_emulate_stop(m);
    arg_free(&a);
    free(ports);
    free(o);
    return rc;
}

int pb_emulate_stop(pb_emu *m)
{
    int rc = 0;
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        int st = reap(m->pid, STOP_TIMEOUT_MS);
        /* ollama-emu exits 0 when stopped by a signal, 1 when its trace
         * could not be written completely (it said so on stderr). */
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "collect: the emulator (pid %d) %s %d on exit\n", (int)m->pid,
                    WIFEXITED(st) ? "failed with status" : "was killed by signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            rc = -1;
        }
    }
    /* > 0: a zeroed pb_emu (never started) must not close stdin. */
    if (m->out_fd > 0)
        close(m->out_fd);
    for (int i = 0; m->urls && i < m->n; i++)
        free(m->urls[i]);
    free(m->urls);
    cJSON_Delete(m->info);
    memset(m, 0, sizeof *m);
    m->out_fd = -1;
    return rc;
}
