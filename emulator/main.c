/* ollama-emu: the emulator as a program. stdout carries only one
 * "listening http://HOST:PORT" line per instance (scripts read the ports
 * from it); everything else goes to stderr. */
#include "emu.h"
#include "pb_cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    pb_cli_init("ollama-emu");
    emu_options o;
    char err[512];
    emu_options_init(&o);
    /* Ollama's environment first, so that flags win; --no-env ignores it
     * (collect --emulate starts the binary with the user's OLLAMA_*
     * removed and a config's "server_env" set, so it needs neither). */
    int use_env = 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--no-env"))
            use_env = 0;
    if (use_env)
        emu_options_env(&o);
    int rc = emu_options_parse(&o, argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return pb_cli_usage_error("%s", err); /* exit status 2 */

    /* Block the stop signals before any thread exists, so that only the
     * sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    emu_t *e = emu_start(&o, err, sizeof err);
    if (!e) {
        pb_cli_error("%s", err);
        return 1;
    }
    for (int i = 0; i < o.n_instances; i++)
        printf("listening http://%s:%d\n", o.host[i], emu_port(e, i));
    fflush(stdout);

    int sig = 0;
    sigwait(&stop, &sig);
    if (!o.quiet)
        pb_cli_error("signal %d, stopping", sig);
    /* Exit status 1 (as --help says): could not start (above), or the
     * --trace file could not be written completely, so a trace that misses
     * lines never passes for a complete one. */
    return emu_stop(e) == 0 ? 0 : 1;
}
