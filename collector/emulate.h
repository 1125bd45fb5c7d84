/* emulate: `collect --emulate` starts the ollama-emu library in-process (its
 * own thread and loop) with one instance per distinct plan endpoint, on
 * loopback port 0, and maps the plan's endpoints to them. */
#ifndef PB_EMULATE_H
#define PB_EMULATE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

typedef struct pb_emu {
    void *emu;          /* emu_t */
    char **urls;        /* per plan endpoint */
    cJSON *info;        /* recorded in the manifest and in every run */
    int n;
} pb_emu;

int pb_emulate_start(const pb_plan *p, pb_emu *m, char *err, size_t errlen);
void pb_emulate_stop(pb_emu *m);

#endif
