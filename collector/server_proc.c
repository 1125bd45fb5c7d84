/* server_proc: see server_proc.h. */
#include "server_proc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cpus.h"
#include "http.h"
#include "pb_fs.h"
#include "pb_mem.h"
#include "pb_time.h"
#include "signals.h"
#include "progress.h"

extern char **environ;

typedef struct srv {
    const pb_server_spec *spec;
    int check_exit;
    pid_t pid;                 /* 0: not running */
    int ports[PB_SERVER_MAX_PORTS];
    char urls[PB_SERVER_MAX_PORTS][64];
    char *settings;            /* server_env it runs with, as JSON text */
    int starts;
    uint64_t start_ns, ready_ns;
    char start_wall[64];
    char *version;
    char log_rel[300], log_path[4600];
    int log_fd, pipe_r;
    pthread_t drain;
    int drain_on;
    atomic_int drain_stop;
    long log_bytes, log_dropped;
    cJSON *record;             /* this start, as recorded in each run */
    int died;                  /* seen dead after a run */
    char death[600];
    char **models;             /* warmed after a start */
    int n_models;
} srv;

struct pb_srvset {
    const pb_plan *p;
    char out[4200];
    int quiet;
    int n;
    srv *s;
    char **urls;               /* per plan endpoint */
    char **first_urls;         /* per plan endpoint, at the first start (preflight's) */
    int *srv_of, *port_of;     /* per plan endpoint: server (-1: a URL) and port */
    pb_telemetry *tel;
    int deaths_in_row;
    int *group_of;             /* per config: its settings group */
    int n_groups;
    cJSON *order;              /* as recorded */
    int first_started;
};

static uint64_t now_ns(void) { return uv_hrtime(); }

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* --- configs grouped by settings --- */

/* The settings as JSON text, to compare (never printed: unmasked). */
static char *settings_text(const pb_config *c)
{
    if (!c->server_env)
        return pb_mem_strdup("{}");
    char *s = cJSON_PrintUnformatted(c->server_env);
    char *d = pb_mem_strdup(s);
    cJSON_free(s);
    return d;
}

int pb_srvset_config_at(void *ud, int k, int i)
{
    pb_srvset *s = ud;
    const pb_plan *p = s->p;
    if (s->n_groups <= 1)
        return i;
    /* Round k visits the groups forward when k is odd, backward when even
     * (serpentine): a round ends with the settings the next one starts
     * with, so each round adds groups - 1 restarts, not groups, and every
     * setting still gets one run per round (drift spreads evenly). */
    int forward = k % 2 == 1, seen = 0;
    for (int gi = 0; gi < s->n_groups; gi++) {
        int g = forward ? gi : s->n_groups - 1 - gi;
        for (int c = 0; c < p->n_configs; c++)
            if (s->group_of[c] == g && seen++ == i)
                return c;
    }
    return i;
}

void pb_srvset_describe(const pb_srvset *s, char *buf, size_t len)
{
    char *o = s->order ? cJSON_PrintUnformatted(s->order) : NULL;
    snprintf(buf, len, "%s", o ? o : "{}");
    cJSON_free(o);
}

/* --- the set --- */

static int uses_ollama_api(const char *api)
{
    return strcmp(api, "generate") == 0 || strcmp(api, "chat") == 0;
}

static void add_model(srv *v, const char *m)
{
    for (int i = 0; i < v->n_models; i++)
        if (strcmp(v->models[i], m) == 0)
            return;
    if (v->n_models >= 16)
        return;
    char **n = pb_mem_realloc(v->models, (size_t)(v->n_models + 1) * sizeof *n);
    v->models = n;
    v->models[v->n_models++] = pb_mem_strdup(m);
}

pb_srvset *pb_srvset_new(const pb_plan *p, const pb_srv_extra *extra, const char *out,
                         pb_telemetry *tel, int quiet)
{
    pb_srvset *s = pb_mem_calloc(1, sizeof *s);
    s->p = p;
    s->quiet = quiet;
    s->tel = tel;
    snprintf(s->out, sizeof s->out, "%s", out);
    s->n = extra && extra->spec ? 1 : p->n_servers;
    s->s = calloc((size_t)(s->n ? s->n : 1), sizeof *s->s);
    s->urls = calloc((size_t)p->n_endpoints + 1, sizeof *s->urls);
    s->srv_of = calloc((size_t)p->n_endpoints + 1, sizeof *s->srv_of);
    s->port_of = calloc((size_t)p->n_endpoints + 1, sizeof *s->port_of);
    s->group_of = calloc((size_t)p->n_configs + 1, sizeof *s->group_of);
    s->first_urls = calloc((size_t)p->n_endpoints + 1, sizeof *s->first_urls);
    if (!s->s || !s->urls || !s->srv_of || !s->port_of || !s->group_of || !s->first_urls)
        PB_MEM_OOM();
    for (int i = 0; i < s->n; i++) {
        s->s[i].spec = extra && extra->spec ? extra->spec : &p->servers[i];
        s->s[i].check_exit = extra && extra->spec ? extra->check_exit : 0;
        s->s[i].log_fd = s->s[i].pipe_r = -1;
    }
    for (int e = 0; e < p->n_endpoints; e++) {
        s->urls[e] = pb_mem_calloc(1, 64 + strlen(p->endpoints[e]));
        s->srv_of[e] = -1;
        const char *ref = pb_server_ref(p->endpoints[e]);
        if (extra && extra->spec) {
            s->srv_of[e] = 0;
            s->port_of[e] = extra->port_of[e];
        } else if (ref) {
            for (int k = 0; k < s->n; k++)
                if (strcmp(s->s[k].spec->name, ref) == 0)
                    s->srv_of[e] = k;
        }
        strcpy(s->urls[e], p->endpoints[e]);
    }
    /* The models each server is warmed with: those its Ollama agents ask. */
    for (int c = 0; c < p->n_configs; c++)
        for (int a = 0; a < p->configs[c].n_agents; a++) {
            const pb_agent_spec *ag = &p->configs[c].agents[a];
            int k = s->srv_of[ag->endpoint_index];
            if (k >= 0 && uses_ollama_api(ag->api))
                add_model(&s->s[k], ag->model);
        }
    /* Settings groups, in the order the plan first names them. */
    char **keys = pb_mem_calloc((size_t)p->n_configs + 1, sizeof *keys);
    for (int c = 0; c < p->n_configs; c++) {
        char *t = settings_text(&p->configs[c]);
        int g = 0;
        while (g < s->n_groups && strcmp(keys[g], t) != 0)
            g++;
        if (g == s->n_groups)
            keys[s->n_groups++] = t;
        else
            free(t);
        s->group_of[c] = g;
    }
    if (s->n > 0) {
        s->order = cJSON_CreateObject();
        cJSON_AddStringToObject(s->order, "rule", s->n_groups > 1 ?
            "serpentine: within each round k the configs are grouped by server settings, "
            "groups in plan order for odd k and reversed for even k" : "plan order");
        cJSON *gs = cJSON_AddArrayToObject(s->order, "settings");
        for (int g = 0; g < s->n_groups; g++)
            for (int c = 0; c < p->n_configs; c++)
                if (s->group_of[c] == g) {
                    cJSON_AddItemToArray(gs, p->configs[c].server_env
                                                 ? pb_server_env_masked(p->configs[c].server_env)
                                                 : cJSON_CreateObject());
                    break;
                }
        cJSON_AddNumberToObject(s->order, "restarts_per_round",
                                s->n_groups > 1 ? s->n_groups - 1 : 0);
    }
    for (int g = 0; g < s->n_groups; g++)
        free(keys[g]);
    free(keys);
    return s;
}

const char *const *pb_srvset_urls(const pb_srvset *s)
{
    return (const char *const *)s->urls;
}

int pb_srvset_active(const pb_srvset *s) { return s->n > 0; }

/* --- one process --- */

/* A port nobody listens on now: bind port 0, read it, close. Another
 * program could take it before the server does; the server then exits
 * (address in use) and the start fails with its own message. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* s with {host}/{port}/{hostK}/{portK} replaced, malloc'd. */
static char *expand(const char *s, const srv *v)
{
    size_t cap = strlen(s) + 1 + 64 * 8;
    char *o = malloc(cap);
    size_t n = 0;
    if (!o)
        PB_MEM_OOM();
    while (*s) {
        if (*s == '{' && (!strncmp(s + 1, "host", 4) || !strncmp(s + 1, "port", 4))) {
            const char *e = s + 5;
            int k = 0;
            while (*e >= '0' && *e <= '9')
                k = k * 10 + (*e++ - '0');
            if (*e == '}' && k < PB_SERVER_MAX_PORTS) {
                char rep[64];
                if (s[1] == 'h')
                    snprintf(rep, sizeof rep, "127.0.0.1:%d", v->ports[k]);
                else
                    snprintf(rep, sizeof rep, "%d", v->ports[k]);
                size_t rl = strlen(rep);
                if (n + rl + strlen(e) + 2 > cap) {
                    cap = (n + rl + strlen(e) + 2) * 2;
                    o = pb_mem_realloc(o, cap);
                }
                memcpy(o + n, rep, rl);
                n += rl;
                s = e + 1;
                continue;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            o = pb_mem_realloc(o, cap);
        }
        o[n++] = *s++;
    }
    o[n] = '\0';
    return o;
}

static void *drain_main(void *ud)
{
    srv *v = ud;
    char buf[8192];
    for (;;) {
        struct pollfd pfd = {v->pipe_r, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            if (atomic_load(&v->drain_stop))
                break;
            continue;
        }
        ssize_t k = read(v->pipe_r, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        /* Bounded: a chatty server must not fill the disk beside the runs. */
        long room = PB_SRV_LOG_MAX - v->log_bytes;
        long w = k < room ? (long)k : room > 0 ? room : 0;
        if (w > 0 && v->log_fd >= 0 && write(v->log_fd, buf, (size_t)w) == w)
            v->log_bytes += w;
        v->log_dropped += (long)k - w;
    }
    return NULL;
}

/* The last line(s) of the log, for an error message. */
static void log_tail(const srv *v, char *out, size_t len)
{
    out[0] = '\0';
    int fd = open(v->log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[400];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t at = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t k = pread(fd, buf, sizeof buf - 1, at);
    close(fd);
    if (k <= 0)
        return;
    buf[k] = '\0';
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
        buf[--k] = '\0';
    char *nl = strrchr(buf, '\n');
    const char *last = nl ? nl + 1 : buf;
    if (nl && strlen(last) < 40) { /* a short last line: show two */
        *nl = '\0';
        char *nl2 = strrchr(buf, '\n');
        *nl = '\n';
        last = nl2 ? nl2 + 1 : buf;
    }
    snprintf(out, len, "%s", last);
    for (char *c = out; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
}

static void describe_status(int st, char *out, size_t len)
{
    if (WIFEXITED(st))
        snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, len, "stopped (status %d)", st);
}

static void drain_finish(srv *v)
{
    if (v->drain_on) {
        /* EOF ends it once every writer is gone; a grandchild keeping the
         * pipe open cannot hold the sweep for more than the poll period. */
        atomic_store(&v->drain_stop, 1);
        pthread_join(v->drain, NULL);
        v->drain_on = 0;
    }
    if (v->pipe_r >= 0)
        close(v->pipe_r);
    if (v->log_fd >= 0) {
        if (v->log_dropped > 0) {
            char note[160];
            int l = snprintf(note, sizeof note, "\n[collect: log cut at %ld bytes; %ld more "
                             "bytes were discarded]\n", PB_SRV_LOG_MAX, v->log_dropped);
            (void)!write(v->log_fd, note, (size_t)l);
        }
        close(v->log_fd);
    }
    v->pipe_r = v->log_fd = -1;
}

/* Waits for pid at most ms; SIGKILL to its group after that. The status. */
static int reap(pid_t pid, int ms)
{
    int st = 0;
    uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return st;
        if (now_ns() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            return st;
        }
        sleep_ms(5);
    }
}

/* Stops v (SIGTERM to its process group, SIGKILL after the grace period).
 * Returns the wait status, or -1 when it was not running. */
static int srv_stop(srv *v)
{
    int st = -1;
    if (v->pid > 0) {
        kill(-v->pid, SIGTERM);
        kill(v->pid, SIGTERM);
        st = reap(v->pid, (int)(v->spec->stop_grace_s * 1000));
        /* Whatever the server started is stopped with it. */
        kill(-v->pid, SIGKILL);
        v->pid = 0;
    }
    drain_finish(v);
    return st;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

/* Loads a model as Ollama does for an empty prompt; the error or NULL. */
static int warm(const char *base, const char *model, double timeout_s, char *why, size_t len)
{
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(why, len, "cannot set up a libcurl request");
        return -1;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", model);
    cJSON_AddStringToObject(b, "prompt", "");
    cJSON_AddBoolToObject(b, "stream", 0);
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    char url[512];
    snprintf(url, sizeof url, "%s/api/generate", base);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    cJSON_free(body);
    if (rc != CURLE_OK || status != 200) {
        snprintf(why, len, "POST %.200s: %s", url,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : status == 404 ? "HTTP 404" : "HTTP error");
        return -1;
    }
    return 0;
}

/* Builds the child's environment: ours (without OLLAMA_* for --emulate),
 * then the spec's env, then the config's server_env (later wins). */
static char **child_env(const srv *v, const cJSON *set)
{
    size_t n = 0;
    while (environ[n])
        n++;
    size_t extra = (size_t)cJSON_GetArraySize(set);
    char **env = pb_mem_calloc(n + extra + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        if (!eq)
            continue;
        if (v->spec->strip_ollama_env && strncmp(environ[i], "OLLAMA_", 7) == 0)
            continue;
        int overridden = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, set)
            overridden |= strlen(it->string) == (size_t)(eq - environ[i]) &&
                          strncmp(environ[i], it->string, (size_t)(eq - environ[i])) == 0;
        if (!overridden)
            env[k++] = pb_mem_strdup(environ[i]);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, set) {
        size_t l = strlen(it->string) + strlen(it->valuestring) + 2;
        env[k] = pb_mem_alloc(l);
        snprintf(env[k++], l, "%s=%s", it->string, it->valuestring);
    }
    env[k] = NULL;
    return env;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int srv_start(pb_srvset *set, srv *v, const pb_config *cfg, const char *why_start,
                     char *err, size_t errlen)
{
    const pb_server_spec *sp = v->spec;
    char path[4096];
    if (pb_fs_find_program(sp->argv[0], path, sizeof path) != 0) {
        snprintf(err, errlen, "server %s: command '%s' %s; give its full path or fix PATH",
                 sp->name, sp->argv[0], strchr(sp->argv[0], '/') ? "is not an executable file"
                                                                 : "is not found on PATH");
        return -1;
    }
    for (int i = 0; i < sp->n_ports; i++) {
        if ((v->ports[i] = free_port()) <= 0) {
            snprintf(err, errlen, "server %s: cannot find a free loopback port (%s)", sp->name,
                     strerror(errno));
            return -1;
        }
        snprintf(v->urls[i], sizeof v->urls[i], "http://127.0.0.1:%d", v->ports[i]);
    }
    /* The environment as given: the spec's templates, then the config's. */
    cJSON *given = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, sp->env) {
        char *x = expand(it->valuestring, v);
        cJSON_AddStringToObject(given, it->string, x);
        free(x);
    }
    const cJSON *senv = cfg ? cfg->server_env : NULL;
    cJSON_ArrayForEach(it, senv) {
        cJSON_DeleteItemFromObjectCaseSensitive(given, it->string);
        cJSON_AddStringToObject(given, it->string, it->valuestring);
    }
    char **argv = pb_mem_calloc((size_t)sp->argc + 1, sizeof *argv);
    for (int i = 0; i < sp->argc; i++)
        argv[i] = expand(sp->argv[i], v);
    cJSON_Delete(v->record);
    v->record = NULL;
    char **envp = child_env(v, given);

    v->starts++;
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/server-logs", set->out);
    snprintf(v->log_rel, sizeof v->log_rel, "server-logs/%s-%d.log", sp->name, v->starts);
    snprintf(v->log_path, sizeof v->log_path, "%s/%s", set->out, v->log_rel);
    char e[600];
    int fds[2] = {-1, -1}, rc = -1;
    if (pb_fs_mkdirs(dir, e, sizeof e) != 0 ||
        (v->log_fd = open(v->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        snprintf(err, errlen, "server %s: cannot write its log %s: %s", sp->name, v->log_path,
                 v->log_fd < 0 && !e[0] ? strerror(errno) : e);
        goto out;
    }
    if (pb_fs_pipe_cloexec(fds) != 0) {
        snprintf(err, errlen, "server %s: pipe: %s", sp->name, strerror(errno));
        goto out;
    }
    fflush(NULL);
    pb_time_rfc3339_now(v->start_wall, sizeof v->start_wall);
    v->start_ns = now_ns();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "server %s: fork: %s", sp->name, strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* Child. Its own process group: a terminal Ctrl-C reaches collect
         * only (which then stops it), and a stop reaches what it starts
         * (Ollama's runners). SIGTERM from the kernel if collect dies. */
        setpgid(0, 0);
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
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0)
            _exit(127);
        execve(path, argv, envp);
        static const char msg[] = "collect: cannot execute the server's command\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    setpgid(pid, pid); /* either this or the child's own call wins the race */
    v->pid = pid;
    close(fds[1]);
    fds[1] = -1;
    v->pipe_r = fds[0];
    fds[0] = -1;
    atomic_store(&v->drain_stop, 0);
    v->log_bytes = v->log_dropped = 0;
    if (pthread_create(&v->drain, NULL, drain_main, v) == 0)
        v->drain_on = 1;

    /* Ready: /api/version (Ollama), else /v1/models (OpenAI-compatible),
     * polled until the deadline; the child must be alive and ours. */
    uint64_t deadline = v->start_ns + (uint64_t)(sp->ready_timeout_s * 1e9);
    free(v->version);
    v->version = NULL;
    int ready = 0, st = 0;
    while (!ready) {
        pid_t r = waitpid(v->pid, &st, WNOHANG);
        if (r == v->pid) {
            char how[160], tail[420];
            v->pid = 0;
            drain_finish(v);
            describe_status(st, how, sizeof how);
            log_tail(v, tail, sizeof tail);
            snprintf(err, errlen, "server %s: '%s' %s before it answered%s%s%s (log %s)",
                     sp->name, sp->argv[0], how, tail[0] ? ": \"" : "", tail, tail[0] ? "\"" : "",
                     v->log_path);
            goto out;
        }
        pb_http_answer a;
        if (pb_http_get(v->urls[0], "/api/version", NULL, NULL, 1.0, &a) == 0) {
            const cJSON *ver = cJSON_GetObjectItemCaseSensitive(a.json, "version");
            v->version = pb_mem_strdup(cJSON_IsString(ver) ? ver->valuestring : "?");
            ready = 1;
        } else if (a.status == 404 || a.status == 401) {
            pb_http_answer b;
            if (pb_http_get(v->urls[0], "/v1/models", NULL, NULL, 1.0, &b) == 0) {
                v->version = pb_mem_strdup("(openai-compatible; no /api/version)");
                ready = 1;
            }
            pb_http_answer_free(&b);
        }
        pb_http_answer_free(&a);
        if (ready)
            break;
        if (pb_signals_interrupted()) {
            srv_stop(v);
            snprintf(err, errlen, "server %s: interrupted while waiting for it to answer", sp->name);
            goto out;
        }
        if (now_ns() >= deadline) {
            srv_stop(v);
            snprintf(err, errlen, "server %s: no answer at %s/api/version or /v1/models within "
                     "%g s (does the command listen at {host}? use {host} or {port} in it; a "
                     "slow start: raise \"ready_timeout_s\"; log %s)", sp->name, v->urls[0],
                     sp->ready_timeout_s, v->log_path);
            goto out;
        }
        sleep_ms(20);
    }
    v->ready_ns = now_ns();
    free(v->settings);
    v->settings = cfg ? settings_text(cfg) : pb_mem_strdup("{}");

    /* The record each run carries. */
    v->record = cJSON_CreateObject();
    cJSON_AddStringToObject(v->record, "name", sp->name);
    cJSON *cmd = cJSON_AddArrayToObject(v->record, "command");
    for (int i = 0; i < sp->argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
    cJSON_AddItemToObject(v->record, "env", pb_server_env_masked(given));
    cJSON_AddItemToObject(v->record, "settings", cfg && cfg->server_env ?
                          pb_server_env_masked(cfg->server_env) : cJSON_CreateObject());
    cJSON *us = cJSON_AddArrayToObject(v->record, "urls");
    for (int i = 0; i < sp->n_ports; i++)
        cJSON_AddItemToArray(us, cJSON_CreateString(v->urls[i]));
    cJSON_AddNumberToObject(v->record, "pid", v->pid);
    cJSON_AddStringToObject(v->record, "version", v->version);
    cJSON_AddNumberToObject(v->record, "start", v->starts);
    cJSON_AddStringToObject(v->record, "started_because", why_start);
    cJSON_AddStringToObject(v->record, "start_wall", v->start_wall);
    cJSON_AddNumberToObject(v->record, "ready_s", (double)(v->ready_ns - v->start_ns) / 1e9);
    cJSON_AddStringToObject(v->record, "log", v->log_rel);
    cJSON *wm = cJSON_AddArrayToObject(v->record, "warmed");
    for (int i = 0; i < v->n_models; i++) {
        char why[300] = "";
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "model", v->models[i]);
        uint64_t t0 = now_ns();
        int ok = warm(v->urls[0], v->models[i], set->p->timeout_s, why, sizeof why) == 0;
        cJSON_AddBoolToObject(w, "ok", ok);
        cJSON_AddNumberToObject(w, "seconds", (double)(now_ns() - t0) / 1e9);
        if (!ok)
            cJSON_AddStringToObject(w, "error", why);
        cJSON_AddItemToArray(wm, w);
    }
    if (!set->quiet) {
        char *shown = cfg && cfg->server_env ? cJSON_PrintUnformatted(
                          cJSON_GetObjectItemCaseSensitive(v->record, "settings")) : NULL;
        pb_progress_say("collect: server %s started (pid %d, %s, %s) in %.2f s%s%s\n", sp->name,
                (int)v->pid, v->urls[0], v->version, (double)(v->ready_ns - v->start_ns) / 1e9,
                shown ? " with " : "", shown ? shown : "");
        cJSON_free(shown);
    }
    rc = 0;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc != 0 && v->pid > 0)
        srv_stop(v);
    if (rc != 0)
        drain_finish(v);
    cJSON_Delete(given);
    free_strv(argv);
    free_strv(envp);
    return rc;
}

/* Points the plan's endpoints at v's current ports, and the sampler at
 * every server. */
static void publish(pb_srvset *s)
{
    for (int e = 0; e < s->p->n_endpoints; e++) {
        int k = s->srv_of[e];
        if (k >= 0)
            snprintf(s->urls[e], 64, "%s", s->s[k].urls[s->port_of[e]]);
    }
    if (!s->tel)
        return;
    const char *urls[PB_TELEMETRY_MAX_TARGETS], *names[PB_TELEMETRY_MAX_TARGETS];
    const char *pnames[PB_TELEMETRY_MAX_TARGETS];
    pid_t pids[PB_TELEMETRY_MAX_TARGETS];
    int nu = 0, np = 0;
    for (int e = 0; e < s->p->n_endpoints && nu < PB_TELEMETRY_MAX_TARGETS; e++) {
        /* /api/ps exists on Ollama only: endpoints that an Ollama agent uses. */
        int ollama = 0;
        for (int c = 0; c < s->p->n_configs && !ollama; c++)
            for (int a = 0; a < s->p->configs[c].n_agents && !ollama; a++)
                ollama = s->p->configs[c].agents[a].endpoint_index == e &&
                         uses_ollama_api(s->p->configs[c].agents[a].api);
        if (ollama) {
            urls[nu] = s->urls[e];
            names[nu++] = s->p->endpoints[e];
        }
    }
    for (int k = 0; k < s->n && np < PB_TELEMETRY_MAX_TARGETS; k++)
        if (s->s[k].pid > 0) {
            pids[np] = s->s[k].pid;
            pnames[np++] = s->s[k].spec->name;
        }
    pb_telemetry_targets(s->tel, nu, urls, names, np, pids, pnames);
}

int pb_srvset_start(pb_srvset *s, char *err, size_t errlen)
{
    const pb_config *first = s->p->n_configs ? &s->p->configs[pb_srvset_config_at(s, 1, 0)] : NULL;
    for (int k = 0; k < s->n; k++)
        if (srv_start(s, &s->s[k], first, "first", err, errlen) != 0) {
            for (int j = 0; j < k; j++)
                srv_stop(&s->s[j]);
            return -1;
        }
    s->first_started = 1;
    publish(s);
    for (int e = 0; e < s->p->n_endpoints; e++)
        s->first_urls[e] = pb_mem_strdup(s->urls[e]);
    return 0;
}

int pb_srvset_stop(pb_srvset *s)
{
    int rc = 0;
    for (int k = 0; s && k < s->n; k++) {
        srv *v = &s->s[k];
        pid_t pid = v->pid;
        int st = srv_stop(v);
        if (pid > 0 && v->check_exit && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
            char how[160];
            describe_status(st, how, sizeof how);
            pb_progress_say("collect: server %s (pid %d) %s on exit (log %s)\n", v->spec->name,
                    (int)pid, how, v->log_path);
            rc = -1;
        }
    }
    return rc;
}

void pb_srvset_free(pb_srvset *s)
{
    if (!s)
        return;
    pb_srvset_stop(s);
    for (int k = 0; k < s->n; k++) {
        free(s->s[k].settings);
        free(s->s[k].version);
        cJSON_Delete(s->s[k].record);
        for (int i = 0; i < s->s[k].n_models; i++)
            free(s->s[k].models[i]);
        free(s->s[k].models);
    }
    for (int e = 0; e < s->p->n_endpoints; e++) {
        free(s->urls[e]);
        free(s->first_urls[e]);
    }
    free(s->urls);
    free(s->first_urls);
    free(s->srv_of);
    free(s->port_of);
    free(s->group_of);
    free(s->s);
    cJSON_Delete(s->order);
    free(s);
}

/* --- hooks --- */

int pb_srvset_before_run(void *ud, const pb_config *cfg, char *err, size_t errlen)
{
    pb_srvset *s = ud;
    char *want = settings_text(cfg);
    int changed = 0, rc = 0;
    for (int k = 0; k < s->n && rc == 0; k++) {
        srv *v = &s->s[k];
        int alive = v->pid > 0 && waitpid(v->pid, NULL, WNOHANG) == 0;
        int same = v->settings && strcmp(v->settings, want) == 0;
        if (alive && same)
            continue;
        const char *why = !alive ? (v->starts ? "died" : "first") : "settings";
        if (v->pid > 0)
            srv_stop(v);
        if (srv_start(s, v, cfg, why, err, errlen) != 0) {
            /* A start that fails mid-sweep counts like a death. */
            if (pb_signals_interrupted()) {
                rc = -2;
            } else if (++s->deaths_in_row >= PB_SRV_MAX_DEATHS) {
                size_t l = strlen(err);
                snprintf(err + l, errlen - l, "; %d failures in a row: the sweep stops (run "
                         "the same command again to resume)", s->deaths_in_row);
                rc = -2;
            } else {
                rc = -1;
            }
        }
        changed = 1;
    }
    free(want);
    if (changed)
        publish(s);
    if (rc == 0 && s->tel)
        pb_telemetry_begin(s->tel);
    return rc;
}

int pb_srvset_after_run(void *ud, const pb_config *cfg, cJSON *trace, char *err,
                        size_t errlen)
{
    (void)cfg;
    pb_srvset *s = ud;
    cJSON *run = cJSON_GetObjectItemCaseSensitive(trace, "run");
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(run, "mono_origin_ns");
    uint64_t origin = cJSON_IsString(mo) ? strtoull(mo->valuestring, NULL, 10) : now_ns();
    if (s->tel)
        cJSON_AddItemToObject(trace, "telemetry", pb_telemetry_take(s->tel, origin));
    if (s->n == 0)
        return 0;
    /* servers[] is the preflight's, taken at the first start: after a
     * restart on other ports its endpoints are the run's current ones. */
    cJSON *sv;
    cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(trace, "servers")) {
        cJSON *ep = cJSON_GetObjectItemCaseSensitive(sv, "endpoint");
        for (int e = 0; cJSON_IsString(ep) && e < s->p->n_endpoints; e++)
            if (s->first_urls[e] && strcmp(ep->valuestring, s->first_urls[e]) == 0) {
                cJSON_SetValuestring(ep, s->urls[e]);
                break;
            }
    }
    char death[800] = "";
    cJSON *sp = cJSON_AddObjectToObject(trace, "server_processes");
    cJSON_AddItemToObject(sp, "order", cJSON_Duplicate(s->order, 1));
    cJSON *procs = cJSON_AddArrayToObject(sp, "processes");
    for (int k = 0; k < s->n; k++) {
        srv *v = &s->s[k];
        cJSON *r = v->record ? cJSON_Duplicate(v->record, 1) : cJSON_CreateObject();
        if (v->pid > 0) {
            cJSON_AddNumberToObject(r, "start_ns", (double)((int64_t)v->start_ns - (int64_t)origin));
            cJSON_AddNumberToObject(r, "ready_ns", (double)((int64_t)v->ready_ns - (int64_t)origin));
        }
        int st = 0;
        pid_t w = v->pid > 0 ? waitpid(v->pid, &st, WNOHANG) : 0;
        /* A killed server closes its sockets before it becomes reapable:
         * the run can fail a few ms before its death is visible. */
        for (int i = 0; w == 0 && v->pid > 0 && !cJSON_IsTrue(
                 cJSON_GetObjectItemCaseSensitive(run, "valid")) && i < 50; i++) {
            sleep_ms(5);
            w = waitpid(v->pid, &st, WNOHANG);
        }
        if (w == v->pid && v->pid > 0) {
            /* It died during the run (or just after: the run cannot tell). */
            char how[160];
            describe_status(st, how, sizeof how);
            cJSON_AddStringToObject(r, "died", how);
            if (!death[0])
                snprintf(death, sizeof death, "server %s (pid %d) %s during the run (log %s)",
                         v->spec->name, (int)v->pid, how, v->log_rel);
            v->pid = 0;
            drain_finish(v);
        }
        cJSON_AddBoolToObject(r, "alive_after_run", v->pid > 0);
        cJSON_AddItemToArray(procs, r);
    }
    if (!death[0]) {
        s->deaths_in_row = 0;
        return 0;
    }
    /* The requests failed because the server was gone: say so first. */
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(run, "invalid_reason");
    char reason[2000];
    snprintf(reason, sizeof reason, "%s%s%s", death, cJSON_IsString(old) ? "; " : "",
             cJSON_IsString(old) ? old->valuestring : "");
    cJSON_ReplaceItemInObjectCaseSensitive(run, "valid", cJSON_CreateFalse());
    cJSON_ReplaceItemInObjectCaseSensitive(run, "invalid_reason", cJSON_CreateString(reason));
    if (++s->deaths_in_row >= PB_SRV_MAX_DEATHS) {
        snprintf(err, errlen, "%s; servers died in %d runs in a row: the sweep stops (fix the "
                 "server, then run the same command again to resume)", death, s->deaths_in_row);
        return -2;
    }
    return 0;
}
