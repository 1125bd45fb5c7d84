/* emulate: `collect --emulate` is one way to start servers (server_proc.h):
 * the `ollama-emu` binary as the command, one --listen per distinct plan
 * endpoint on a port collect picks, the --emulate-* flags as its arguments
 * and a config's "server_env" as its OLLAMA_* environment.
 *
 * Why a separate process: the emulator must not share the measured process's
 * CPU accounting, allocator or address space, and `collect` carries no server
 * on a benchmark box (it links none of the emulator's code). */
#ifndef PB_EMULATE_H
#define PB_EMULATE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

/* Finds the emulator binary: `explicit_path` when given (--emulator), else
 * `ollama-emu` beside the running executable, else ../emulator/ollama-emu
 * (the build tree's layout). Returns 0 with out set, or -1 with err naming
 * every place tried. */
int pb_emulate_find(const char *explicit_path, char *out, size_t outlen, char *err,
                    size_t errlen);

/* The server spec that runs `binary` for the plan (free it with
 * pb_server_spec_free); port_of[i] (n_endpoints of them) is the port index
 * serving plan endpoint i. Returns 0, or -1 with err set. */
int pb_emulate_spec(const pb_plan *p, const char *binary, pb_server_spec *spec, int *port_of,
                    char *err, size_t errlen);

/* run.emulator and the manifest's "emulator": the plan's emulation settings,
 * the child's command line and the endpoint map at its first start. */
cJSON *pb_emulate_info(const pb_plan *p, const pb_server_spec *spec,
                       const char *const *urls);

#endif
