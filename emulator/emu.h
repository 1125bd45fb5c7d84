/* emu: an Ollama API emulator (libuv), usable as a library or as the
 * `ollama-emu` binary.
 *
 * This header is the contract between the emulator and its users (the
 * ollama-emu binary, tests and benchmarks; `collect --emulate` runs the
 * binary as a child process and links none of this). Keep it stable; add
 * fields at the end of emu_options.
 *
 * Ownership: emu_start() copies what it needs from the options; the returned
 * handle owns a thread running its own uv loop (so the emulator never steals
 * time from the caller's loop) and is released by emu_stop(). */
#ifndef EMU_H
#define EMU_H

#include <stddef.h>
#include <stdint.h>

#define EMU_MAX_INSTANCES 64
#define EMU_MAX_MODELS 16
/* Default /api/version: the newest Ollama release among the tags of the
 * Ollama source this emulator follows (--version-string changes it). */
#define EMU_DEFAULT_VERSION_STRING "0.32.15"

typedef struct emu_options {
    /* Listeners: one emulated Ollama instance each. host "127.0.0.1",
     * port 0 = pick a free port (read it back with emu_port()). */
    int n_instances;
    char host[EMU_MAX_INSTANCES][64];
    int port[EMU_MAX_INSTANCES];

    /* Models served (/api/tags); a request for another model is a 404. */
    int n_models;
    char models[EMU_MAX_MODELS][128];

    /* Ollama's scheduling: decode slots per loaded model, and how many
     * requests may wait for a model load or reload before 503 (waiting for
     * a slot is not bounded, as in Ollama; see emu_model.c). */
    int num_parallel;        /* default 1 */
    int max_queue;           /* default 512 */

    /* GPU timing model (seconds and tokens/s before time scaling). */
    double load_s;           /* first request on an instance loads the model */
    double prompt_rate;      /* prompt tokens/s during prompt evaluation */
    double decode_rate;      /* R1: tokens/s of a lone stream */
    double contention;       /* time-slicing exponent: see emu_gpu_rate() */
    double first_token_s;    /* extra latency before the first token */
    double jitter;           /* relative per-token jitter (0 = none) */
    int len_mean;            /* response length (tokens) when no num_predict */
    int len_sd;
    int shared_gpu;          /* 1: all instances share one simulated GPU */
    double time_scale;       /* >1 runs everything that many times faster */
    uint64_t seed;

    /* Fault injected on every request of an instance ("" = none); same
     * syntax as the per-request option `parbench_fault` (see README). */
    char fault[EMU_MAX_INSTANCES][128];

    /* If non-empty, every chunk written is logged here (see README). */
    char trace_path[1024];
    int quiet;               /* no per-request logging on stderr */

    /* Which Ollama's OpenAI layer /v1 imitates (chat chunk shape, error
     * types): EMU_OPENAI_0_32 as Ollama >= 0.32.6 (the default, matching
     * the default --version-string) or EMU_OPENAI_0_6 as Ollama 0.6.5 (see
     * README, OpenAI compatibility). */
    int openai_format;
    /* ---- issue 11: Ollama's model lifecycle, scheduler and GPU model ---- */
    /* Per-stream slowdown of n streams batched in one runner (one loaded
     * model of one instance): R1 * n^-batching (see emu_gpu_rate()). */
    double batching;
    /* Default keep_alive in seconds (OLLAMA_KEEP_ALIVE, Ollama's 5 min);
     * < 0 = forever, 0 = unload as soon as idle. Scaled by time_scale. */
    double keep_alive_s;
    /* Loaded runners per instance before the least useful idle one is
     * evicted (OLLAMA_MAX_LOADED_MODELS; 0 = Ollama's automatic 3). */
    int max_loaded;
    /* VRAM budget per instance in GiB (0 = unlimited): model weights plus
     * KV cache num_ctx * num_parallel * EMU_KV_BYTES_PER_TOKEN. */
    double vram_gib;
    /* /api/version answer. */
    char version_string[32];
    /* Length of the vectors of /api/embed and /api/embeddings. */
    int embed_dim;
    /* The preset the options started from, for the X-Parbench-Emulator
     * response header: "default" or "ideal". */
    char preset[16];

    /* Connection limits (real seconds, not time-scaled). */
    double header_timeout_s; /* a request must arrive within this (10) */
    double idle_timeout_s;   /* keep-alive wait for the next request (300) */
    int max_connections;     /* open connections per emulator (1024) */

    /* ---- issue 19 §5: the rest of the timing model ---- */
    /* 1: each runner keeps llama-server's per-slot prompt cache, so a
     * prompt that extends a slot's previous one only evaluates the new
     * tokens (Ollama's behaviour; emu_pcache.c). 0: every prompt is
     * evaluated whole (--no-prompt-cache). */
    int prompt_cache;
    /* Seconds an unload takes before the next load may start (Ollama
     * waits for the GPU's free memory to recover: server/sched.go
     * waitForVRAMRecovery). Scaled by time_scale. */
    double unload_s;
    /* num_ctx of a request that gives none (OLLAMA_CONTEXT_LENGTH,
     * --context-length); 0 = chosen from vram_gib as Ollama chooses it
     * from the GPUs' memory (emu_options_ctx_default()). */
    int context_length;
    /* Chance that a tool-calling answer holds one more call (each further
     * one drawn again, at most 4 calls): parallel tool calls. 0 = one
     * call per answer (the default: how often a model calls several
     * tools at once depends on the model and the prompt). */
    double parallel_tools;
} emu_options;

#define EMU_OPENAI_0_6 0
#define EMU_OPENAI_0_32 1

typedef struct emu emu_t;

/* The num_ctx a request without one gets: o->context_length when set,
 * else by VRAM as server/routes.go Serve sets defaultNumCtx: 262144 from
 * 47 GiB, 32768 from 23 GiB, else (and without --vram: no GPU known)
 * 4096. */
int emu_options_ctx_default(const emu_options *o);

/* Fills o with the defaults (calibrated to TR115: gemma3 on one consumer
 * GPU). */
void emu_options_init(emu_options *o);

/* The --ideal preset: emu_options_init() followed by independent
 * instances, no contention, no jitter, fixed response lengths. */
void emu_options_ideal(emu_options *o);

/* Parses ollama-emu's command-line flags into o (after emu_options_init).
 * Returns 0, 1 for --help or --version (text already printed), or -1
 * with err set (the caller adds "Try 'ollama-emu --help'." and exits 2,
 * pb_cli.h). */
int emu_options_parse(emu_options *o, int argc, char **argv, char *err,
                      size_t errlen);

/* Starts the emulator on its own thread; returns once every listener is
 * bound (or NULL with err set, e.g. "cannot listen on 127.0.0.1:11434:
 * address already in use"). */
emu_t *emu_start(const emu_options *o, char *err, size_t errlen);

/* The bound port of instance i (useful after asking for port 0). */
int emu_port(const emu_t *e, int i);

/* Stops accepting, closes every connection, joins the thread, frees e.
 * Returns 0, or -1 when the --trace file could not be written completely
 * (a message naming it went to stderr). */
int emu_stop(emu_t *e);

/* What the emulator measured about itself, for benchmarks and tests.
 * Scheduling lag = how late a timed chunk (token, final line) was written
 * compared with the instant the timing model scheduled it for. */
typedef struct emu_stats {
    uint64_t requests;       /* requests accepted on /api/generate|chat */
    uint64_t chunks;         /* timed chunks written (token + final lines) */
    uint64_t lag_n;          /* samples in the lag figures below */
    double lag_median_us;    /* 1 us resolution, saturates at 100 ms */
    double lag_p99_us;
    double lag_max_us;
    double cpu_s;            /* CPU time of the emulator thread so far */
} emu_stats;

/* Thread-safe snapshot of the statistics of a running emulator. */
void emu_get_stats(emu_t *e, emu_stats *s);

/* Per-stream decode slowdown when k streams decode at once on one GPU:
 * each stream runs at decode_rate * emu_gpu_factor(k, contention).
 * Exposed for tests and for documentation of the model. */
double emu_gpu_factor(int k, double contention);

/* Per-stream rate factor of a stream batched with n_batch - 1 others in one
 * runner while n_runners runners decode on the same GPU:
 *     n_batch^-batching * n_runners^-contention
 * (batching inside one llama.cpp context, time-slicing across processes).
 * With one stream per runner it equals emu_gpu_factor(n_runners, C). */
double emu_gpu_rate(int n_batch, int n_runners, double batching,
                    double contention);

/* Go's time.ParseDuration ("300ms", "1h2m", "-1.5h"; a bare "0" is 0).
 * Returns 0 and seconds in *out, or -1 with Go's message in err
 * (`time: invalid duration "x"`). */
int emu_duration_parse(const char *s, double *out, char *err, size_t errlen);

/* Reads OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE, OLLAMA_KEEP_ALIVE,
 * OLLAMA_HOST and OLLAMA_MAX_LOADED_MODELS with getenv as Ollama's
 * envconfig reads them (an invalid value warns on stderr and keeps the
 * default). The ollama-emu program calls it before emu_options_parse, so
 * flags win, unless --no-env is given (collect --emulate instead starts it
 * with the user's OLLAMA_* removed and a config's "server_env" set);
 * library users (tests, benchmarks) do not call it. */
void emu_options_env(emu_options *o);

#endif
