/* emulate: `collect --emulate` runs the `ollama-emu` binary as a child
 * process (one instance per distinct plan endpoint, loopback, port 0), reads
 * its "listening" lines to map the plan's endpoints, and stops it at the end.
 *
 * Why a separate process: the emulator must not share the measured process's
 * CPU accounting, allocator or address space, and `collect` carries no server
 * on a benchmark box. The child is in its own process group (a terminal's
 * Ctrl-C reaches `collect` only, which then stops it after abandoning the
 * run), and it gets SIGTERM from the kernel if `collect` dies
 * (PR_SET_PDEATHSIG), so no emulator outlives its collector. */
#ifndef PB_EMULATE_H
#define PB_EMULATE_H

#include <stddef.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "plan.h"

typedef struct pb_emu {
    pid_t pid;          /* the ollama-emu child, 0 = none */
    int out_fd;         /* read end of its stdout, -1 = none */
    char **urls;        /* per plan endpoint */
    cJSON *info;        /* recorded in the manifest and in every run */
    int n;
} pb_emu;

/* Finds the emulator binary: `explicit_path` when given (--emulator), else
 * `ollama-emu` beside the running executable, else ../emulator/ollama-emu
 * (the build tree's layout). Returns 0 with out set, or -1 with err naming
 * every place tried. */
int pb_emulate_find(const char *explicit_path, char *out, size_t outlen, char *err,
                    size_t errlen);

/* Starts the emulator binary at `binary` for the plan and waits (at most
 * 10 s) for one "listening" line per endpoint. err_fd becomes the child's
 * stderr (-1: collect's own). Returns 0, or -1 with err set and no child
 * left. */
int pb_emulate_start(const pb_plan *p, const char *binary, int err_fd, pb_emu *m, char *err,
                     size_t errlen);

/* Stops the child (SIGTERM, then SIGKILL after 5 s), reaps it and frees m.
 * Returns 0, or -1 when the emulator reported a failure on exit (e.g. its
 * --trace file could not be written completely: its message went to
 * stderr). Safe on a zeroed or already stopped m. */
int pb_emulate_stop(pb_emu *m);

#endif
