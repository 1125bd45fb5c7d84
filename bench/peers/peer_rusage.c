/* peer_rusage: runs a command and writes its CPU time and peak RSS, for
 * bench_peers.py.
 *
 * Why a C launcher: Linux carries a process's peak RSS across fork and exec
 * (the child starts with its parent's resident pages counted, and exec keeps
 * the old high-water mark), so a client started straight from Python would
 * report Python's RSS whenever its own is smaller. Forked from this small
 * program, the floor is this program's ~1 MiB.
 *
 * Usage: peer_rusage OUT_FILE CMD [ARGS...]; OUT_FILE gets one line
 * "exit_code user_s system_s maxrss_kib"; the exit code is the command's. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: peer_rusage OUT_FILE CMD [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peer_rusage: fork");
        return 1;
    }
    if (pid == 0) {
        execv(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) {
        perror("peer_rusage: wait4");
        return 1;
    }
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fprintf(f, "%d %.6f %.6f %ld\n", rc, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
    return fclose(f) == 0 ? rc : 1;
}
