/* emu_options: defaults, the --ideal preset and ollama-emu's flags. */
#include "emu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_cli.h"

void emu_options_init(emu_options *o)
{
    memset(o, 0, sizeof *o);
    o->n_instances = 1;
    strcpy(o->host[0], "127.0.0.1");
    o->port[0] = 11434;
    /* gemma3 (completion, vision) as in TR115, and a tool- and
     * thinking-capable model for agents (emu_caps.c). */
    o->n_models = 2;
    strcpy(o->models[0], "gemma3:latest");
    strcpy(o->models[1], "qwen3:latest");
    o->num_parallel = 1;
    o->max_queue = 512;
    /* Calibration (TR115, gemma3 on one consumer GPU): a lone stream
     * decodes at ~122 tok/s; two instances on one GPU get 41-57 tok/s each
     * (contention 1.3 -> 122 * 2^-1.3 = 49.5); TTFT ~ load + prompt eval +
     * 300 ms; loads took 0.4-5 s, we default to the fast end. */
    o->load_s = 0.4;
    o->prompt_rate = 1500;
    o->decode_rate = 122;
    o->contention = 1.3;
    o->first_token_s = 0.3;
    o->jitter = 0.05;
    o->len_mean = 300;
    o->len_sd = 80;
    o->shared_gpu = 0;
    o->time_scale = 1;
    o->seed = 1;
    /* Batching inside one runner (num_parallel > 1): n streams each at
     * n^-0.5, aggregate sqrt(n) x R1; sources in README.md. */
    o->batching = 0.5;
    o->keep_alive_s = 300; /* Ollama's default keep_alive, 5 min */
    o->max_loaded = 0;     /* Ollama's automatic: 3 per GPU */
    o->vram_gib = 0;
    snprintf(o->version_string, sizeof o->version_string, "%s",
             EMU_DEFAULT_VERSION_STRING);
    o->embed_dim = 2560;   /* gemma3 4B's embedding_length */
    /* /v1 speaks as the Ollama /api/version claims to be (0.32.x): a
     * client that reads the version and the stream sees one server. */
    o->openai_format = EMU_OPENAI_0_32;
    strcpy(o->preset, "default");
    o->header_timeout_s = 10;
    o->idle_timeout_s = 300;
    o->max_connections = 1024;
    o->prompt_cache = 1; /* on in Ollama (cache_prompt: true) */
    /* waitForVRAMRecovery polls every 250 ms until 75% of the runner's
     * VRAM is free ("typical convergence is 0.5-1.5s", 5 s at most). */
    o->unload_s = 0.5;
    o->context_length = 0; /* by VRAM, as Ollama without the variable */
}

int emu_options_ctx_default(const emu_options *o)
{
    if (o->context_length > 0)
        return o->context_length;
    /* Slightly under 48/24 GiB, as Ollama allows for what the driver
     * reports. */
    if (o->vram_gib >= 47)
        return 262144;
    if (o->vram_gib >= 23)
        return 32768;
    return 4096;
}

static void apply_ideal(emu_options *o)
{
    o->shared_gpu = 0;
    o->contention = 0;
    o->batching = 0;
    o->jitter = 0;
    o->len_sd = 0;
    strcpy(o->preset, "ideal");
}

void emu_options_ideal(emu_options *o)
{
    emu_options_init(o);
    apply_ideal(o);
}

static const char usage[] =
    "Usage: ollama-emu [OPTIONS]\n"
    "Emulates the Ollama HTTP API (one instance per --listen; native /api\n"
    "and OpenAI-compatible /v1 routes) with a GPU timing model and fault\n"
    "injection. Prints one line per instance on\n"
    "stdout, 'listening http://HOST:PORT', then serves until SIGINT/SIGTERM.\n"
    "\n"
    "Listeners and models:\n"
    "  --listen HOST:PORT   add an instance (repeatable; port 0 = any free\n"
    "                       port). Default: 127.0.0.1:11434\n"
    "  --instances N        N instances on 127.0.0.1, free ports\n"
    "  --model NAME         serve this model (repeatable; default\n"
    "                       gemma3:latest and qwen3:latest); others\n"
    "                       answer 404. Capabilities follow the name\n"
    "                       (README, Capabilities)\n"
    "Scheduling (per instance, like Ollama):\n"
    "  --num-parallel N     slots per loaded model (default 1;\n"
    "                       env OLLAMA_NUM_PARALLEL)\n"
    "  --max-queue N        requests waiting for a model load before 503\n"
    "                       (default 512; env OLLAMA_MAX_QUEUE)\n"
    "  --keep-alive D       default keep_alive, Go duration or seconds;\n"
    "                       negative = forever (default 5m; env\n"
    "                       OLLAMA_KEEP_ALIVE)\n"
    "  --max-loaded-models N  models loaded per instance before the\n"
    "                       idle one is evicted (default 0 = 3; env\n"
    "                       OLLAMA_MAX_LOADED_MODELS)\n"
    "  --vram GiB           VRAM per instance: weights + num_ctx KV cache\n"
    "                       must fit, else evict (default 0 = unlimited)\n"
    "  --parallel-tool-calls P  chance of each further tool call in an\n"
    "                       answer (0-1, at most 4 calls; default 0)\n"
    "  --context-length N   num_ctx of a request without one (default 0 =\n"
    "                       by --vram as Ollama: 262144 from 47 GiB, 32768\n"
    "                       from 23 GiB, else 4096; env\n"
    "                       OLLAMA_CONTEXT_LENGTH)\n"
    "Timing model (seconds, tokens/s; see README.md):\n"
    "  --load S             model load on first use (default 0.4)\n"
    "  --unload S           an unload holds the next load back this long\n"
    "                       (GPU memory recovering; default 0.5)\n"
    "  --prompt-rate R      prompt evaluation tokens/s (default 1500)\n"
    "  --first-token S      extra latency before decoding (default 0.3)\n"
    "  --decode-rate R      R1, tokens/s of a lone stream (default 122)\n"
    "  --contention C       m runners (instances, models) time-slicing one\n"
    "                       GPU each run at R1*m^-C (default 1.3;\n"
    "                       1 = pure time-slicing)\n"
    "  --batching B         n streams batched in one runner each run at\n"
    "                       R1*n^-B (default 0.5; 0 = free, 1 = no gain)\n"
    "  --shared-gpu         all instances share one simulated GPU\n"
    "  --jitter J           relative per-token jitter, sd (default 0.05)\n"
    "  --len-mean N         response tokens without num_predict (300)\n"
    "  --len-sd N           spread of that length (default 80)\n"
    "  --no-prompt-cache    evaluate every prompt whole (default: a\n"
    "                       slot's cached prefix is reused, as Ollama's\n"
    "                       llama-server does)\n"
    "  --time-scale F       run F times faster (all durations / F)\n"
    "  --seed N             RNG seed (default 1); same seed, same output\n"
    "  --embed-dim N        /api/embed vector length (default 2560)\n"
    "  --version-string V   /api/version answer (default 0.32.15)\n"
    "  --ideal              no contention or batching slowdown, no\n"
    "                       jitter, fixed lengths, independent GPUs\n"
    "                       (other flags still apply)\n"
    "Faults and tracing:\n"
    "  --fault I=SPEC       fault on every request of instance I (0-based):\n"
    "                       down, reset_after:K, stall:S[:close][@K],\n"
    "                       malformed_line:K, truncate_final, http500,\n"
    "                       busy503, delay_headers:S, garbage:K,\n"
    "                       error_after:K. Per request: options\n"
    "                       {\"parbench_fault\":SPEC} or header\n"
    "                       X-Parbench-Fault: SPEC (on /v1 the header)\n"
    "  --trace FILE         log every chunk written: instance, request id\n"
    "                       (header X-Parbench-Request), token index,\n"
    "                       uv_hrtime ns (tab-separated)\n"
    "  --quiet              no per-request log lines on stderr\n"
    "  --openai-format V    which Ollama's /v1 layer: 0.32 (default, as\n"
    "                       the version reported: >= 0.32.6, a separate\n"
    "                       finish chunk with an empty delta, error types\n"
    "                       by status) or 0.6 (Ollama 0.6.5: finish_reason\n"
    "                       on the last chat chunk, errors api_error)\n"
    "Connections (real seconds, not scaled):\n"
    "  --header-timeout S   a request (line, headers, body) must arrive\n"
    "                       within S, else 408 and close (default 10)\n"
    "  --idle-timeout S     close a keep-alive connection idle for S\n"
    "                       (default 300)\n"
    "  --max-connections N  open connections at most; more get 503 and a\n"
    "                       log line (default 1024)\n"
    "  --no-env             ignore the OLLAMA_* variables below\n"
    "  --help, --version\n"
    "\n"
    "OLLAMA_NUM_PARALLEL, OLLAMA_MAX_QUEUE, OLLAMA_KEEP_ALIVE,\n"
    "OLLAMA_MAX_LOADED_MODELS, OLLAMA_CONTEXT_LENGTH and OLLAMA_HOST (the\n"
    "first listener) are read\n"
    "as Ollama reads them; flags win. Every response\n"
    "carries 'X-Parbench-Emulator: time-scale=F; preset=default|ideal'.\n"
    "\n"
    "Exit status: 0 stopped by a signal with every --trace line written;\n"
    "1 could not start (port in use, bad address, --trace file not\n"
    "writable, bad --fault spec) or, after the signal, the --trace file\n"
    "could not be written completely (e.g. disk full; stderr names it);\n"
    "2 bad command line.\n";

/* Every numeric flag has a range: a huge or non-finite value (inf, nan,
 * 1e30) would overflow a float-to-integer cast in the timing model. */
static int num(const char *flag, const char *v, double lo, double hi,
               double *out, char *err, size_t errlen)
{
    if (pb_cli_number(v, lo, hi, out)) {
        snprintf(err, errlen, "%s: expected a number in [%g, %g], got '%s'",
                 flag, lo, hi, v);
        return -1;
    }
    return 0;
}

static int inum(const char *flag, const char *v, long lo, long hi, int *out,
                char *err, size_t errlen)
{
    long long n;
    if (pb_cli_integer(v, lo, hi, &n)) {
        snprintf(err, errlen, "%s: expected an integer in [%ld, %ld], got '%s'",
                 flag, lo, hi, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

int emu_options_parse(emu_options *o, int argc, char **argv, char *err,
                      size_t errlen)
{
    /* --ideal is a preset: apply it first so that flags override it
     * wherever they stand on the command line. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--ideal"))
            apply_ideal(o);

    int listens = 0, models = 0;
    for (int i = 1; i < argc; i++) {
        char flag[64];
        const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof flag) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = '\0';
            v = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
        }
#define FLAG(name) (!strcmp(flag, name))
#define VALUE()                                                          \
    do {                                                                 \
        if (!v) {                                                        \
            if (i + 1 >= argc) {                                         \
                snprintf(err, errlen, "%s needs a value",              \
                         flag);                                          \
                return -1;                                               \
            }                                                            \
            v = argv[++i];                                               \
        }                                                                \
    } while (0)
        double d;
        if (FLAG("--help") || FLAG("-h")) {
            fputs(usage, stdout);
            return 1;
        } else if (FLAG("--version")) {
            printf("ollama-emu %s\n", PARBENCH_VERSION);
            return 1;
        } else if (FLAG("--ideal")) {
            /* applied above */
        } else if (FLAG("--no-env")) {
            /* read by main() before the environment is applied */
        } else if (FLAG("--shared-gpu")) {
            o->shared_gpu = 1;
        } else if (FLAG("--quiet")) {
            o->quiet = 1;
        } else if (FLAG("--no-prompt-cache")) {
            o->prompt_cache = 0;
        } else if (FLAG("--listen")) {
            VALUE();
            const char *colon = strrchr(v, ':');
            int port;
            if (!colon || colon == v || (size_t)(colon - v) >= sizeof o->host[0] ||
                inum("--listen port", colon + 1, 0, 65535, &port, err,
                     errlen)) {
                if (!colon || colon == v)
                    snprintf(err, errlen,
                             "--listen: expected HOST:PORT, got '%s'", v);
                return -1;
            }
            if (listens >= EMU_MAX_INSTANCES) {
                snprintf(err, errlen, "--listen: at most %d instances",
                         EMU_MAX_INSTANCES);
                return -1;
            }
            memcpy(o->host[listens], v, (size_t)(colon - v));
            o->host[listens][colon - v] = '\0';
            o->port[listens] = port;
            o->n_instances = ++listens;
        } else if (FLAG("--instances")) {
            VALUE();
            int n;
            if (inum(flag, v, 1, EMU_MAX_INSTANCES, &n, err, errlen))
                return -1;
            for (int k = 0; k < n; k++) {
                strcpy(o->host[k], "127.0.0.1");
                o->port[k] = 0;
            }
            o->n_instances = n;
            listens = n;
        } else if (FLAG("--model")) {
            VALUE();
            if (models >= EMU_MAX_MODELS || strlen(v) >= sizeof o->models[0]) {
                snprintf(err, errlen,
                         "--model: at most %d models of < %zu bytes",
                         EMU_MAX_MODELS, sizeof o->models[0]);
                return -1;
            }
            strcpy(o->models[models], v);
            o->n_models = ++models;
        } else if (FLAG("--num-parallel")) {
            VALUE();
            if (inum(flag, v, 1, 1024, &o->num_parallel, err, errlen))
                return -1;
        } else if (FLAG("--max-queue")) {
            VALUE();
            if (inum(flag, v, 0, 1000000, &o->max_queue, err, errlen))
                return -1;
        } else if (FLAG("--len-mean")) {
            VALUE();
            if (inum(flag, v, 1, 1000000, &o->len_mean, err, errlen))
                return -1;
        } else if (FLAG("--len-sd")) {
            VALUE();
            if (inum(flag, v, 0, 1000000, &o->len_sd, err, errlen))
                return -1;
        } else if (FLAG("--load")) {
            VALUE();
            if (num(flag, v, 0, 3600, &o->load_s, err, errlen))
                return -1;
        } else if (FLAG("--parallel-tool-calls")) {
            VALUE();
            if (num(flag, v, 0, 1, &o->parallel_tools, err, errlen))
                return -1;
        } else if (FLAG("--context-length")) {
            VALUE();
            if (inum(flag, v, 0, 16777216, &o->context_length, err, errlen))
                return -1;
        } else if (FLAG("--unload")) {
            VALUE();
            if (num(flag, v, 0, 3600, &o->unload_s, err, errlen))
                return -1;
        } else if (FLAG("--prompt-rate")) {
            VALUE();
            if (num(flag, v, 1e-3, 1e9, &o->prompt_rate, err, errlen))
                return -1;
        } else if (FLAG("--decode-rate")) {
            VALUE();
            if (num(flag, v, 1e-3, 1e9, &o->decode_rate, err, errlen))
                return -1;
        } else if (FLAG("--first-token")) {
            VALUE();
            if (num(flag, v, 0, 3600, &o->first_token_s, err, errlen))
                return -1;
        } else if (FLAG("--batching")) {
            VALUE();
            if (num(flag, v, 0, 10, &o->batching, err, errlen))
                return -1;
        } else if (FLAG("--vram")) {
            VALUE();
            if (num(flag, v, 0, 1e6, &o->vram_gib, err, errlen))
                return -1;
        } else if (FLAG("--max-loaded-models")) {
            VALUE();
            if (inum(flag, v, 0, EMU_MAX_MODELS, &o->max_loaded, err, errlen))
                return -1;
        } else if (FLAG("--embed-dim")) {
            VALUE();
            if (inum(flag, v, 1, 65536, &o->embed_dim, err, errlen))
                return -1;
        } else if (FLAG("--keep-alive")) {
            VALUE();
            char *end;
            double secs = strtod(v, &end);
            char derr[128];
            if (end != v && !*end) {
                /* a bare number: seconds, as in a request's keep_alive */
            } else if (emu_duration_parse(v, &secs, derr, sizeof derr)) {
                snprintf(err, errlen, "--keep-alive: %s", derr);
                return -1;
            }
            if (!(secs <= 1e9)) { /* also NaN; negative = forever */
                snprintf(err, errlen, "--keep-alive: expected seconds or a "
                         "duration in [-inf, 1e9] s (negative: forever), got '%s'", v);
                return -1;
            }
            o->keep_alive_s = secs < 0 ? -1 : secs;
        } else if (FLAG("--version-string")) {
            VALUE();
            if (!*v || strlen(v) >= sizeof o->version_string) {
                snprintf(err, errlen, "--version-string: 1..%zu bytes",
                         sizeof o->version_string - 1);
                return -1;
            }
            strcpy(o->version_string, v);
        } else if (FLAG("--contention")) {
            VALUE();
            if (num(flag, v, 0, 10, &o->contention, err, errlen))
                return -1;
        } else if (FLAG("--jitter")) {
            VALUE();
            if (num(flag, v, 0, 10, &o->jitter, err, errlen))
                return -1;
        } else if (FLAG("--time-scale")) {
            VALUE();
            if (num(flag, v, 1e-3, 1e6, &o->time_scale, err, errlen))
                return -1;
        } else if (FLAG("--seed")) {
            VALUE();
            /* Exact integers only: a double above 2^53 rounds. */
            if (num(flag, v, 0, 9007199254740992.0, &d, err, errlen))
                return -1;
            o->seed = (uint64_t)d;
        } else if (FLAG("--openai-format")) {
            VALUE();
            if (!strcmp(v, "0.6")) {
                o->openai_format = EMU_OPENAI_0_6;
            } else if (!strcmp(v, "0.32")) {
                o->openai_format = EMU_OPENAI_0_32;
            } else {
                snprintf(err, errlen,
                         "--openai-format: expected 0.6 or 0.32, got '%s'", v);
                return -1;
            }
        } else if (FLAG("--header-timeout")) {
            VALUE();
            if (num(flag, v, 1e-3, 3600, &o->header_timeout_s, err, errlen))
                return -1;
        } else if (FLAG("--idle-timeout")) {
            VALUE();
            if (num(flag, v, 1e-3, 86400, &o->idle_timeout_s, err, errlen))
                return -1;
        } else if (FLAG("--max-connections")) {
            VALUE();
            if (inum(flag, v, 1, 1000000, &o->max_connections, err, errlen))
                return -1;
        } else if (FLAG("--trace")) {
            VALUE();
            if (strlen(v) >= sizeof o->trace_path) {
                snprintf(err, errlen, "--trace: path too long");
                return -1;
            }
            strcpy(o->trace_path, v);
        } else if (FLAG("--fault")) {
            VALUE();
            int idx;
            char ibuf[16];
            const char *sep = strchr(v, '=');
            size_t il = sep ? (size_t)(sep - v) : 0;
            if (!sep || !il || il >= sizeof ibuf) {
                snprintf(err, errlen, "--fault: expected INDEX=SPEC, got '%s'",
                         v);
                return -1;
            }
            memcpy(ibuf, v, il);
            ibuf[il] = '\0';
            if (inum("--fault index", ibuf, 0, EMU_MAX_INSTANCES - 1, &idx,
                     err, errlen))
                return -1;
            if (strlen(sep + 1) >= sizeof o->fault[0]) {
                snprintf(err, errlen, "--fault: spec too long");
                return -1;
            }
            strcpy(o->fault[idx], sep + 1);
        } else {
            /* Suggest the nearest flag; the list is read from the usage
             * text, so a new flag is suggested once it is documented. */
            const char *names[64];
            char words[64][32];
            size_t n = 0;
            for (const char *u = strstr(usage, "  --"); u && n < 64; u = strstr(u + 1, "  --")) {
                size_t l = strspn(u + 4, "abcdefghijklmnopqrstuvwxyz-");
                if (l && l < sizeof words[0]) {
                    memcpy(words[n], u + 4, l);
                    words[n][l] = '\0';
                    names[n] = words[n];
                    n++;
                }
            }
            pb_cli_unknown_option(a, names, n, err, errlen);
            return -1;
        }
#undef FLAG
#undef VALUE
    }
    for (int i = 0; i < EMU_MAX_INSTANCES; i++) {
        if (o->fault[i][0] && i >= o->n_instances) {
            snprintf(err, errlen,
                     "--fault %d=...: there are only %d instances", i,
                     o->n_instances);
            return -1;
        }
    }
    return 0;
}
