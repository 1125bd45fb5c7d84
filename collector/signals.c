#include "signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_count;

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
}

void pb_signals_install(void)
{
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
