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
