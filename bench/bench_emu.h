/* bench_emu: what the collector benchmarks (bench/collector, bench/proxy)
 * share: pinning to one CPU, and an ideal ollama-emu child whose every
 * answer runs to num_predict, with its own per-chunk trace as ground truth. */
#ifndef PB_BENCH_EMU_H
#define PB_BENCH_EMU_H

#include <sys/types.h>

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

#endif
