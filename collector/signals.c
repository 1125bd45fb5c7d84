#include "signals.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_count;
/* Self-pipe: write() is async-signal-safe, and the pipe is never closed, so
 * a handler can never write into a descriptor a loop is tearing down. */
static int g_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    if (++g_count >= 2) {
        static const char msg[] = "\ncollect: second interrupt, exiting now (the current run is not written)\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(130);
    }
    static const char msg[] = "\ncollect: interrupted: abandoning the current run (Ctrl-C again to exit at once)\n";
    (void)!write(2, msg, sizeof msg - 1);
    if (g_pipe[1] >= 0)
        (void)!write(g_pipe[1], "x", 1);
}

void pb_signals_install(void)
{
    if (g_pipe[0] < 0) {
        int p[2];
        if (pipe(p) == 0) {
            for (int i = 0; i < 2; i++) {
                fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
                fcntl(p[i], F_SETFD, FD_CLOEXEC);
            }
            g_pipe[0] = p[0];
            g_pipe[1] = p[1];
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A peer that resets mid-write must be an error, not a death. */
    signal(SIGPIPE, SIG_IGN);
}

int pb_signals_interrupted(void) { return g_count > 0; }

void pb_signals_set(int v) { g_count = v; }

int pb_signals_fd(void) { return g_pipe[0]; }
