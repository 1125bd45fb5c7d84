/* telemetry: what the servers and the GPU did during a run, sampled on a
 * thread of its own while the phases are measured:
 *   - Ollama's /api/ps on every Ollama endpoint (loaded models, size_vram,
 *     context length, expiry), every interval_ms;
 *   - the CPU time and RSS of each server process collect started, from
 *     /proc/PID/stat, at the same ticks;
 *   - the GPU through `nvidia-smi --query-gpu=... -lms 100`, run as an
 *     external program for the whole sweep when it is on PATH (absent: said
 *     once on stderr, not an error).
 * Every sample is stamped on collect's clock (CLOCK_MONOTONIC, uv_hrtime)
 * and written relative to the run's mono_origin_ns, like phase times
 * (data/FORMAT.md, "telemetry"). */
#ifndef PB_TELEMETRY_H
#define PB_TELEMETRY_H

#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#define PB_TELEMETRY_MAX_TARGETS 64

typedef struct pb_telemetry pb_telemetry;

/* interval_ms 0: no /api/ps or /proc samples. gpu 0: nvidia-smi is not run.
 * Starts the sampling thread. NULL only when nothing is to be sampled. */
pb_telemetry *pb_telemetry_new(int interval_ms, int gpu, int quiet);
/* What to sample from now on: /api/ps of urls[i] (labelled names[i]),
 * /proc of pids[j] (labelled pid_names[j]; 0 = none). Copied. */
void pb_telemetry_targets(pb_telemetry *t, int n_urls, const char *const *urls,
                          const char *const *names, int n_pids, const pid_t *pids,
                          const char *const *pid_names);
/* Starts a run's window: samples before it are dropped. */
void pb_telemetry_begin(pb_telemetry *t);
/* The window's samples as the trace's "telemetry" object, times relative
 * to origin_ns (uv_hrtime of the run's origin). */
cJSON *pb_telemetry_take(pb_telemetry *t, uint64_t origin_ns);
/* Stops the thread and nvidia-smi. Safe on NULL. */
void pb_telemetry_free(pb_telemetry *t);

/* The host's load while one phase runs (issue 20 section 3): a loaded or
 * oversubscribed machine (other jobs, a noisy VM neighbour) slows a phase
 * without any fault of the runtime measured, so each phase records the
 * 1-minute load average (/proc/loadavg) at its start and end and the CPU
 * steal time over it (/proc/stat; data/FORMAT.md, "phases[].host"). */
typedef struct pb_host_load {
    double load1;                 /* NAN when /proc/loadavg is unreadable */
    unsigned long long total, steal; /* /proc/stat "cpu" ticks; total 0: unknown */
} pb_host_load;
/* Reads the phase's starting point. */
void pb_telemetry_host_load_start(pb_host_load *h);
/* Adds "host" to the phase object pj, from start to now (nothing when
 * /proc has neither file). */
void pb_telemetry_host_load_add(cJSON *pj, const pb_host_load *start);

#endif
