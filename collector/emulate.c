#include "emulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PB_HAVE_EMU
#include "emu.h"

int pb_emulate_start(const pb_plan *p, pb_emu *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (p->n_endpoints > EMU_MAX_INSTANCES) {
        snprintf(err, errlen, "--emulate: the plan has %d endpoints, the emulator serves at most %d",
                 p->n_endpoints, EMU_MAX_INSTANCES);
        return -1;
    }
    emu_options *o = calloc(1, sizeof *o);
    if (p->emulate.ideal)
        emu_options_ideal(o);
    else
        emu_options_init(o);
    /* Default: one shared GPU, as in the study (both Ollama instances on one
     * card); --emulate-ideal keeps the preset's independent instances. */
    o->shared_gpu = p->emulate.shared_gpu >= 0 ? p->emulate.shared_gpu : !p->emulate.ideal;
    o->time_scale = p->emulate.time_scale;
    if (p->emulate.num_parallel > 0)
        o->num_parallel = p->emulate.num_parallel;
    o->seed = p->seed;
    o->quiet = 1;
    o->n_instances = p->n_endpoints;
    for (int i = 0; i < p->n_endpoints; i++) {
        snprintf(o->host[i], sizeof o->host[i], "127.0.0.1");
        o->port[i] = 0;
        const cJSON *f = p->emulate.faults
                             ? cJSON_GetObjectItemCaseSensitive(p->emulate.faults, p->endpoints[i]) : NULL;
        if (cJSON_IsString(f))
            snprintf(o->fault[i], sizeof o->fault[i], "%s", f->valuestring);
    }
    o->n_models = 0;
    for (int c = 0; c < p->n_configs; c++)
        for (int a = 0; a < p->configs[c].n_agents; a++) {
            const char *model = p->configs[c].agents[a].model;
            int seen = 0;
            for (int k = 0; k < o->n_models; k++)
                seen |= strcmp(o->models[k], model) == 0;
            if (!seen && o->n_models < EMU_MAX_MODELS)
                snprintf(o->models[o->n_models++], sizeof o->models[0], "%s", model);
        }
    if (p->emulate.trace)
        snprintf(o->trace_path, sizeof o->trace_path, "%s", p->emulate.trace);
    char e[512];
    emu_t *emu = emu_start(o, e, sizeof e);
    if (!emu) {
        snprintf(err, errlen, "--emulate: cannot start the emulator: %s", e);
        free(o);
        return -1;
    }
    m->emu = emu;
    m->n = p->n_endpoints;
    m->urls = calloc((size_t)p->n_endpoints, sizeof *m->urls);
    m->info = cJSON_CreateObject();
    cJSON_AddStringToObject(m->info, "preset", p->emulate.ideal ? "ideal" : "default");
    cJSON_AddBoolToObject(m->info, "shared_gpu", o->shared_gpu);
    cJSON_AddNumberToObject(m->info, "time_scale", o->time_scale);
    cJSON_AddNumberToObject(m->info, "num_parallel", o->num_parallel);
    cJSON_AddNumberToObject(m->info, "decode_rate", o->decode_rate);
    cJSON_AddNumberToObject(m->info, "contention", o->contention);
    cJSON *map = cJSON_AddObjectToObject(m->info, "endpoints");
    for (int i = 0; i < p->n_endpoints; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://127.0.0.1:%d", emu_port(emu, i));
        m->urls[i] = strdup(u);
        cJSON_AddStringToObject(map, p->endpoints[i], u);
    }
    free(o);
    return 0;
}

void pb_emulate_stop(pb_emu *m)
{
    if (m->emu)
        emu_stop(m->emu);
    m->emu = NULL;
    for (int i = 0; i < m->n; i++)
        free(m->urls[i]);
    free(m->urls);
    cJSON_Delete(m->info);
    memset(m, 0, sizeof *m);
}
#else
int pb_emulate_start(const pb_plan *p, pb_emu *m, char *err, size_t errlen)
{
    (void)p;
    memset(m, 0, sizeof *m);
    snprintf(err, errlen, "--emulate: this collect was built without the emulator (emulator/ not built)");
    return -1;
}

void pb_emulate_stop(pb_emu *m) { (void)m; }
#endif
