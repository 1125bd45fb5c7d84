/* bench_emu: what the collector benchmarks (bench/collector, bench/proxy)
 * share: pinning to one CPU, and an ideal ollama-emu child whose every
 * answer runs to num_predict, with its own per-chunk trace as ground truth. */
#ifndef PB_BENCH_EMU_H
#define PB_BENCH_EMU_H

#include <sys/types.h>

#include <cjson/cJSON.h>

/* Pins the calling process (or, in a forked child before exec, the
 * program it becomes: the affinity survives exec) to `cpu`; prog names the
 * benchmark in the warning printed when that fails. */
void bench_pin(const char *prog, int cpu);

/* Starts `emu` --ideal on a free loopback port, tracing to `trace`, and
 * waits for its "listening" line. pin_cpu >= 0 pins it there. Exits the
 * benchmark (status 1, message naming prog) when it does not start. */
pid_t bench_emu_start(const char *prog, const char *emu, const char *trace, int pin_cpu,
                      int *port);

/* SIGTERM, then reaps it. */
void bench_emu_stop(pid_t pid);

/* A JSON file (a run's trace), or NULL after saying why, naming prog. */
cJSON *bench_load_json(const char *prog, const char *path);

/* The first phase of a trace whose kind is `kind`, or NULL. */
const cJSON *bench_phase(const cJSON *trace, const char *kind);

/* The emulator's --trace file: per request id, the time of each chunk
 * (ns[i] for index i = 1..n; ns[0] unused). */
typedef struct bench_ereq {
    char id[64];
    int n, cap;
    long long *ns;
} bench_ereq;

typedef struct bench_trace {
    bench_ereq *r;
    int n;
} bench_trace;

/* Reads path into t, replacing what t held (empty when it cannot be read). */
void bench_trace_load(bench_trace *t, const char *path);
bench_ereq *bench_trace_find(const bench_trace *t, const char *id);

#endif
