/* bench_emu: see bench_emu.h. */
#define _GNU_SOURCE
#include "bench_emu.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_fs.h"

void bench_pin(const char *prog, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fprintf(stderr, "%s: sched_setaffinity: %s\n", prog, strerror(errno));
}

pid_t bench_emu_start(const char *prog, const char *emu, const char *trace, int pin_cpu,
                      int *port)
{
    int fd[2];
    if (pipe(fd) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        if (pin_cpu >= 0)
            bench_pin(prog, pin_cpu);
        /* --len-mean: a seeded answer stops at its natural length when
         * num_predict is longer; a huge natural length keeps every answer
         * at num_predict tokens. */
        execl(emu, emu, "--ideal", "--listen", "127.0.0.1:0", "--num-parallel", "1024",
              "--max-queue", "4096", "--len-mean", "1000000", "--trace", trace, "--quiet",
              (char *)NULL);
        perror(emu);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[256];
    *port = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "127.0.0.1:");
        if (p) {
            *port = atoi(p + 10);
            break;
        }
    }
    if (f)
        fclose(f);
    if (!*port) {
        fprintf(stderr, "%s: %s did not print its port\n", prog, emu);
        exit(1);
    }
    return pid;
}

void bench_emu_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

cJSON *bench_load_json(const char *prog, const char *path)
{
    char *b;
    size_t n;
    char err[512];
    if (pb_fs_read_all(path, 1u << 30, &b, &n, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(b, n);
    free(b);
    return j;
}

const cJSON *bench_phase(const cJSON *trace, const char *kind)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(trace, "phases"))
        if (!strcmp(cJSON_GetObjectItem(p, "kind")->valuestring, kind))
            return p;
    return NULL;
}

bench_ereq *bench_trace_find(const bench_trace *t, const char *id)
{
    for (int i = t->n - 1; i >= 0; i--)
        if (!strcmp(t->r[i].id, id))
            return &t->r[i];
    return NULL;
}

void bench_trace_load(bench_trace *t, const char *path)
{
    for (int i = 0; i < t->n; i++)
        free(t->r[i].ns);
    free(t->r);
    t->r = NULL;
    t->n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char id[64], line[256];
    int inst, idx;
    unsigned long long ns;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%d\t%63s\t%d\t%llu", &inst, id, &idx, &ns) != 4 || idx < 1)
            continue; /* the "#instance..." header */
        bench_ereq *r = bench_trace_find(t, id);
        if (!r) {
            t->r = realloc(t->r, sizeof *t->r * (t->n + 1));
            r = &t->r[t->n++];
            memset(r, 0, sizeof *r);
            snprintf(r->id, sizeof r->id, "%s", id);
        }
        if (idx >= r->cap) {
            int cap = idx * 2 + 8;
            r->ns = realloc(r->ns, sizeof *r->ns * cap);
            memset(r->ns + r->cap, 0, sizeof *r->ns * (cap - r->cap));
            r->cap = cap;
        }
        r->ns[idx] = (long long)ns;
        if (idx > r->n)
            r->n = idx;
    }
    fclose(f);
}
