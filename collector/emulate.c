#include "emulate.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"
#include "pb_mem.h"

/* The most --listen instances one ollama-emu serves (its EMU_MAX_INSTANCES);
 * more is refused here, before anything starts, with the count. */
enum { EMU_LISTEN_MAX = PB_SERVER_MAX_PORTS };

static int executable(const char *path)
{
    return access(path, X_OK) == 0;
}

int pb_emulate_find(const char *explicit_path, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    if (explicit_path) {
        if (!executable(explicit_path)) {
            snprintf(err, errlen, "--emulator %s: not an executable file (%s)", explicit_path,
                     strerror(errno));
            return -1;
        }
        snprintf(out, outlen, "%s", explicit_path);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(err, errlen, "--emulate: cannot locate the collect binary (/proc/self/exe: %s); "
                 "pass --emulator PATH", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    char beside[PATH_MAX + 32], tree[PATH_MAX + 32];
    snprintf(beside, sizeof beside, "%s/ollama-emu", self);
    snprintf(tree, sizeof tree, "%s/../emulator/ollama-emu", self);
    if (executable(beside) || executable(tree)) {
        snprintf(out, outlen, "%s", executable(beside) ? beside : tree);
        return 0;
    }
    snprintf(err, errlen, "--emulate: ollama-emu not found (tried %s and %s); install it beside "
             "collect or pass --emulator PATH", beside, tree);
    return -1;
}

/* argv of the child, NULL-terminated; every element malloc'd. */
typedef struct argv_buf {
    char **v;
    int n, cap;
} argv_buf;

static int arg_add(argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int arg_add(argv_buf *a, const char *fmt, ...)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char buf[1200];
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof buf || !(a->v[a->n] = strdup(buf)))
        return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void arg_free(argv_buf *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
}

/* The child's command line: everything the plan says about emulation. */
static int build_argv(const pb_plan *p, const char *binary, argv_buf *a)
{
#define ADD(...)                         \
    do {                                 \
        if (arg_add(a, __VA_ARGS__) != 0) \
            return -1;                   \
    } while (0)
    ADD("%s", binary);
    /* The emulator reads Ollama's OLLAMA_* variables as Ollama does: the
     * child gets none of the user's shell (pb_server_spec.strip_ollama_env),
     * only a config's "server_env", so an emulated run depends on its plan. */
    ADD("--quiet");
    ADD("--seed");
    ADD("%llu", (unsigned long long)p->seed);
    ADD("--time-scale");
    ADD("%.17g", p->emulate.time_scale);
    if (p->emulate.ideal)
        ADD("--ideal");
    /* Default: one shared GPU, as in the study (both Ollama instances on one
     * card); --emulate-ideal keeps the preset's independent instances. */
    if (p->emulate.shared_gpu >= 0 ? p->emulate.shared_gpu : !p->emulate.ideal)
        ADD("--shared-gpu");
    if (p->emulate.num_parallel > 0) {
        ADD("--num-parallel");
        ADD("%d", p->emulate.num_parallel);
    }
    for (int i = 0; i < p->emulate.n_models; i++) {
        ADD("--model");
        ADD("%s", p->emulate.models[i]);
    }
    for (int i = 0; i < p->n_endpoints; i++) {
        /* collect picks the ports: {hostI} is the I-th. */
        ADD("--listen");
        ADD("{host%d}", i);
        const cJSON *f = p->emulate.faults
                             ? cJSON_GetObjectItemCaseSensitive(p->emulate.faults, p->endpoints[i]) : NULL;
        if (cJSON_IsString(f)) {
            ADD("--fault");
            ADD("%d=%s", i, f->valuestring);
        }
    }
    if (p->emulate.trace) {
        ADD("--trace");
        ADD("%s", p->emulate.trace);
    }
#undef ADD
    return 0;
}

int pb_emulate_spec(const pb_plan *p, const char *binary, pb_server_spec *spec, int *port_of,
                    char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    if (p->n_endpoints > EMU_LISTEN_MAX) {
        snprintf(err, errlen, "--emulate: the plan has %d endpoints, the emulator serves at most %d",
                 p->n_endpoints, EMU_LISTEN_MAX);
        return -1;
    }
    argv_buf a = {0};
    if (build_argv(p, binary, &a) != 0) {
        arg_free(&a);
        snprintf(err, errlen, "--emulate: out of memory (or an over-long trace path or model name)");
        return -1;
    }
    spec->name = pb_mem_strdup("emulator");
    spec->argv = a.v;
    spec->argc = a.n;
    spec->env = cJSON_CreateObject();
    spec->ready_timeout_s = 10;
    spec->stop_grace_s = 5;
    spec->strip_ollama_env = 1;
    if (!spec->name || pb_server_spec_finish(spec, err, errlen) != 0) {
        pb_server_spec_free(spec);
        return -1;
    }
    for (int i = 0; i < p->n_endpoints; i++)
        port_of[i] = i;
    return 0;
}

cJSON *pb_emulate_info(const pb_plan *p, const pb_server_spec *spec,
                       const char *const *urls)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "preset", p->emulate.ideal ? "ideal" : "default");
    cJSON_AddBoolToObject(j, "shared_gpu", p->emulate.shared_gpu >= 0 ? p->emulate.shared_gpu
                                                                      : !p->emulate.ideal);
    cJSON_AddNumberToObject(j, "time_scale", p->emulate.time_scale);
    /* 0 in the plan: the emulator's (and Ollama's) default, 1. */
    cJSON_AddNumberToObject(j, "num_parallel", p->emulate.num_parallel > 0 ? p->emulate.num_parallel : 1);
    cJSON_AddStringToObject(j, "process", spec->argv[0]);
    /* Every other timing option is the emulator's default for the preset
     * (emulator/README.md); the exact command line it ran is here. */
    cJSON *args = cJSON_AddArrayToObject(j, "args");
    for (int i = 1; i < spec->argc; i++)
        cJSON_AddItemToArray(args, cJSON_CreateString(spec->argv[i]));
    char cpus[256];
    pb_cpus_others(cpus, sizeof cpus);
    cJSON_AddStringToObject(j, "cpus", cpus);
    cJSON *ms = cJSON_AddArrayToObject(j, "models");
    for (int i = 0; i < p->emulate.n_models; i++)
        cJSON_AddItemToArray(ms, cJSON_CreateString(p->emulate.models[i]));
    cJSON *map = cJSON_AddObjectToObject(j, "endpoints");
    for (int i = 0; i < p->n_endpoints; i++)
        cJSON_AddStringToObject(map, p->endpoints[i], urls[i]);
    return j;
}
