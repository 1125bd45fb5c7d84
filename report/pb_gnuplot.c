/* pb_gnuplot: see pb_gnuplot.h. */
#include "pb_gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

char *pb_gnuplot_find(void) {
    const char *path = getenv("PATH");
    if (!path || !*path) return NULL;
    size_t plen = strlen(path);
    char *buf = malloc(plen + sizeof "/gnuplot");
    if (!buf) return NULL;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty PATH element means the current directory (POSIX). */
        if (n == 0) memcpy(buf, ".", (n = 1));
        else memcpy(buf, p, n);
        memcpy(buf + n, "/gnuplot", sizeof "/gnuplot");
        struct stat st;
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
            return buf;
        if (!colon) break;
        p = colon + 1;
    }
    free(buf);
    return NULL;
}

void pb_gnuplot_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\'') fputs("''", f);
        else if (*p < 0x20 || *p == 0x7f) fputc(' ', f);
        else fputc(*p, f);
    }
    fputc('\'', f);
}

static char *dupf(const char *what, const char *arg) {
    size_t n = strlen(what) + strlen(arg) + strlen(strerror(errno)) + 8;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s %s: %s", what, arg, strerror(errno));
    return s;
}

int pb_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                   char **errtext) {
    *errtext = NULL;
    int fds[2];
    if (pipe(fds) != 0) {
        *errtext = dupf("cannot create a pipe for", gnuplot);
        return -1;
    }
    /* Flush our buffers so the child does not inherit and repeat them. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        *errtext = dupf("cannot fork to run", gnuplot);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* Child: stdout would corrupt the report if it went to ours (gnuplot
         * prints `print` output there), so send it to /dev/null; stderr to
         * the pipe. Only async-signal-safe calls from here on. */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        if (chdir(dir) != 0) {
            static const char m[] = "parbench: cannot enter the charts directory\n";
            (void)!write(STDERR_FILENO, m, sizeof m - 1);
            _exit(126);
        }
        execl(gnuplot, "gnuplot", script, (char *)NULL);
        static const char m[] = "parbench: cannot execute gnuplot\n";
        (void)!write(STDERR_FILENO, m, sizeof m - 1);
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len + 128 > cap) {
            char *g = realloc(buf, cap * 2);
            if (!g) { free(buf); buf = NULL; }
            else { buf = g; cap *= 2; }
        }
        char scratch[128];
        char *dst = buf ? buf + len : scratch;
        ssize_t r = read(fds[0], dst, buf ? cap - len - 1 : sizeof scratch);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (buf) len += (size_t)r; /* without memory we still drain the pipe */
    }
    close(fds[0]);
    if (buf) buf[len] = '\0';
    *errtext = buf;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
