/* collect: drives N agents against Ollama endpoints and writes raw traces.
 * See README.md for flags, plan files and exit codes. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli_plan.h"
#include "cpus.h"
#include "dialect.h"
#include "emulate.h"
#include "manifest.h"
#include "exec_listen.h"
#include "plan.h"
#include "pb_cli.h"
#include "pb_fs.h"
#include "pb_mem.h"
#include "pb_text.h"
#include "preflight.h"
#include "server_proc.h"
#include "signals.h"
#include "sweep.h"
#include "telemetry.h"

static const char usage[] =
"Usage: collect [OPTIONS]\n"
"Drive agents against Ollama or OpenAI-compatible endpoints and write one trace\n"
"file per run.\n"
"\n"
"Plan\n"
"  --plan NAME|FILE       built-in plan `tr115` (default), `tr115-workflow`\n"
"                         (the study's agents as ingest -> analysis -> report\n"
"                         workflows; the later prompts are parbench's own, not\n"
"                         the study's), `tr115-runtimes` (the study's five Rust\n"
"                         runtimes, its async-std harness, Python httpx and uv\n"
"                         as exec runtimes: agents/plans/tr115-runtimes.json; build\n"
"                         the agents first: scripts/agents-build.sh) or a JSON\n"
"                         plan file\n"
"  --api API              every agent's API: generate, chat (Ollama's own),\n"
"                         openai-chat (/v1/chat/completions), openai-completions\n"
"                         (/v1/completions), openai-responses (/v1/responses);\n"
"                         openai = openai-chat, ollama = generate. Default:\n"
"                         the plan's, else generate\n"
"  --config LIST          only these configs (comma-separated names)\n"
"  --runtime LIST         runtimes: uv, threads, serial, with an optional chunk\n"
"                         suffix (uv-1kb = uv with --chunk-bytes 1024);\n"
"                         default: the plan's, else uv,threads,serial\n"
"  --exec NAME=COMMAND    a program as runtime NAME (repeatable): started once\n"
"                         per phase with PARBENCH_JOB naming its job file\n"
"                         (data/EXEC.md); COMMAND is split into words as sh\n"
"                         quotes ('..', \"..\", \\), with no shell run and no\n"
"                         $VAR expansion; {endpoint:ID}, {model}, {agents} in\n"
"                         it are filled per phase. Added to the runtimes\n"
"                         (the plan's or --runtime's)\n"
"  --skip-missing-exec     leave out, with a warning, exec runtimes whose program\n"
"                         is missing (default: exit 2 naming it, and how to\n"
"                         build the reference agents: scripts/agents-build.sh)\n"
"  --exec-listen ENDPOINT=HOST:PORT\n"
"                         the recording proxy that stands for ENDPOINT (a plan\n"
"                         endpoint URL or an agent id) listens on HOST:PORT\n"
"                         instead of a free port, for programs that hard-code\n"
"                         their server's address (the ollama npm client:\n"
"                         127.0.0.1:11434); the real server must be elsewhere\n"
"                         (--emulate, or another port as the endpoint). Taken:\n"
"                         exit 3 before any run (repeatable)\n"
"  --runs N               runs per (runtime, config) (tr115: 5)\n"
"  --agents N|LIST        agent count, or counts such as 1,2,4,8: one sweep runs\n"
"                         the plan's counted agent (the one with \"count\", else\n"
"                         its only agent) at every count; configs become\n"
"                         <name>-n<N>. With --endpoint: the agents it makes\n"
"                         (default one per endpoint)\n"
"  --target-ci PCT        Stein's two-stage procedure: the planned runs (>= 5)\n"
"                         are a pilot that sets each (runtime, config)'s total\n"
"                         runs for a 95% CI of +-PCT% of the measured speedup\n"
"  --max-runs N           with --target-ci: at most N runs per (runtime,\n"
"                         config) (default max(20, --runs))\n"
"  --stagger SECONDS      concurrent phase: agent i starts i x SECONDS late\n"
"  --arrival-rate R       concurrent phase: agents start as a Poisson process of\n"
"                         R per second, seeded by the run (default: together)\n"
"  --no-solo              no solo phases (the original study's protocol)\n"
"  --no-paired-seed       do not send an agent's solo and concurrent request the\n"
"                         same options.seed (default: paired, fresh per run)\n"
"  --no-warmup            no warm-up request per endpoint\n"
"  --seed N               seed of the phase order (default: plan's, else 115)\n"
"  --timeout SECONDS      per-request timeout, fractions allowed (default 600)\n"
"  --chunk-bytes N        hand bytes to the line parser in batches of >= N\n"
"                         (0 = every network chunk at once; default 0)\n"
"  --reuse-connections    keep connections between requests (default: a fresh\n"
"                         connection per request, so all pay the same connect)\n"
"  --max-connect-failures K  stop the sweep after K runs in a row in which a\n"
"                         request could not connect to its server (default 3;\n"
"                         0 = never stop)\n"
"  --dry-run              print the expanded plan as JSON on stdout and exit\n"
"                         (with --endpoint: the plan file these flags make)\n"
"\n"
"Plan from the command line (instead of --plan)\n"
"  --endpoint URL         a server's base URL, e.g. http://127.0.0.1:11434\n"
"                         (repeatable; agents are spread round-robin)\n"
"  --model NAME           model of every agent (default gemma3:latest)\n"
"  --agents N|LIST        as above\n"
"  --prompt TEXT|@FILE    every agent's prompt, or read from FILE (required)\n"
"  --num-predict K        tokens per answer (OpenAI: max_tokens; default: the\n"
"                         server's)\n"
"\n"
"Servers collect runs (instead of --endpoint)\n"
"  --server CMD           start this server command (split as a shell would;\n"
"                         repeatable, one endpoint each, agents round-robin).\n"
"                         {host} / {port} in CMD: 127.0.0.1:PORT / PORT of a\n"
"                         free port collect picks; without either, collect\n"
"                         sets OLLAMA_HOST={host}. Ready when /api/version (or\n"
"                         /v1/models) answers (60 s at most), warmed, stopped\n"
"                         with SIGTERM (SIGKILL after 5 s) when the settings\n"
"                         change and at the end; its output goes to\n"
"                         OUT/server-logs/. A server that dies during a run\n"
"                         makes the run invalid and is restarted; 3 such runs\n"
"                         in a row stop the sweep\n"
"  --server-env KEY=V1,V2 every config once per value (repeatable: every\n"
"                         combination), named KEY=V1 (a plan's config c:\n"
"                         c+KEY=V1+KEY2=W1); the servers collect runs (and\n"
"                         --emulate) are started with it in their environment.\n"
"                         Configs are grouped by setting in each round,\n"
"                         alternate rounds reversed, to restart little\n"
"  --telemetry-interval MS  sample /api/ps of every Ollama endpoint and\n"
"                         /proc of every server collect started every MS ms\n"
"                         during runs (default 250; 0 = off)\n"
"  --no-nvidia-smi        do not run nvidia-smi (default: GPU samples every\n"
"                         100 ms when it is on PATH)\n"
"\n"
"Output\n"
"  --out DIR              where runs go: DIR/<runtime>/<config>/run_<k>.json\n"
"                         and DIR/manifest.json (default runs/); refused before\n"
"                         anything is measured when it cannot hold them\n"
"  --retry-failed         measure again runs recorded as invalid (the old file\n"
"                         is kept as a hidden .run_<k>.json.failed-<n>)\n"
"  --progress MODE        auto (default), tty (live bar), lines, none\n"
"  --quiet                no progress; errors only\n"
"  --skip-preflight       do not check endpoints and models before the sweep\n"
"  --api-key-env VAR      send `Authorization: Bearer $VAR` with every request;\n"
"                         the key is never written anywhere\n"
"  --proxy URL            send requests to real endpoints through this HTTP\n"
"                         proxy; without it http_proxy, HTTPS_PROXY, ALL_PROXY\n"
"                         and the like are ignored (the emulator: never)\n"
"  --cpus LIST            run collect on these CPUs only (e.g. 0, 0-1, 0,2);\n"
"                         an --emulate child runs on the other CPUs. Recorded\n"
"                         in every run (run.collector_cpus)\n"
"\n"
"Emulation (no GPU needed)\n"
"  --emulate              run the Ollama emulator (the ollama-emu binary, as a\n"
"                         child process), one instance per plan endpoint on a\n"
"                         free loopback port, serving the plan's models; by\n"
"                         default the instances share one simulated GPU, as in\n"
"                         the study\n"
"  --emulator PATH        the ollama-emu binary for --emulate (default: beside\n"
"                         collect, else ../emulator/ollama-emu)\n"
"  --emulate-ideal        the emulator's ideal preset (independent instances,\n"
"                         no contention or jitter, fixed lengths); implies\n"
"                         --emulate\n"
"  --emulate-shared-gpu   instances share one simulated GPU\n"
"  --emulate-independent  instances have a GPU each\n"
"  --emulate-parallel N   requests each instance decodes at once (default 1)\n"
"  --emulate-trace FILE   the emulator logs every chunk it writes to FILE\n"
"  --time-scale F         emulated time runs F times faster (default 1)\n"
"\n"
"  -h, --help             this text\n"
"  --version              version and library versions\n"
"\n"
"Exit status: 0 every run valid, 1 some runs invalid or not written, 2 usage or\n"
"plan error (an --out that cannot hold the runs included), 3 preflight failed\n"
"(an --exec-listen address taken included), 130 interrupted (Ctrl-C).\n";

enum {
    OPT_PLAN = 256, OPT_OUT, OPT_RUNTIME, OPT_CONFIG, OPT_RUNS, OPT_NO_SOLO, OPT_NO_PAIRED,
    OPT_NO_WARMUP, OPT_SEED, OPT_TIMEOUT, OPT_CHUNK, OPT_REUSE, OPT_RETRY,
    OPT_EMULATE, OPT_EMULATOR, OPT_IDEAL, OPT_SHARED, OPT_INDEP, OPT_PARALLEL, OPT_ETRACE,
    OPT_SCALE, OPT_DRY, OPT_PROGRESS, OPT_QUIET, OPT_SKIP_PRE, OPT_PROXY, OPT_CPUS, OPT_HELP, OPT_VERSION,
    OPT_API, OPT_ENDPOINT, OPT_MODEL, OPT_AGENTS, OPT_PROMPT, OPT_NUM_PREDICT, OPT_KEY_ENV,
    OPT_TARGET_CI, OPT_MAX_RUNS, OPT_STAGGER, OPT_RATE, OPT_MAX_CONNECT_FAIL,
    OPT_SERVER, OPT_SERVER_ENV, OPT_TELEMETRY, OPT_NO_SMI, OPT_EXEC, OPT_EXEC_LISTEN, OPT_SKIP_MISSING_EXEC,
};

static const struct option longopts[] = {
    {"plan", required_argument, 0, OPT_PLAN},
    {"out", required_argument, 0, OPT_OUT},
    {"max-connect-failures", required_argument, 0, OPT_MAX_CONNECT_FAIL},
    {"runtime", required_argument, 0, OPT_RUNTIME},
    {"config", required_argument, 0, OPT_CONFIG},
    {"runs", required_argument, 0, OPT_RUNS},
    {"target-ci", required_argument, 0, OPT_TARGET_CI},
    {"max-runs", required_argument, 0, OPT_MAX_RUNS},
    {"stagger", required_argument, 0, OPT_STAGGER},
    {"arrival-rate", required_argument, 0, OPT_RATE},
    {"no-solo", no_argument, 0, OPT_NO_SOLO},
    {"no-paired-seed", no_argument, 0, OPT_NO_PAIRED},
    {"no-warmup", no_argument, 0, OPT_NO_WARMUP},
    {"seed", required_argument, 0, OPT_SEED},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"chunk-bytes", required_argument, 0, OPT_CHUNK},
    {"reuse-connections", no_argument, 0, OPT_REUSE},
    {"retry-failed", no_argument, 0, OPT_RETRY},
    {"emulate", no_argument, 0, OPT_EMULATE},
    {"emulator", required_argument, 0, OPT_EMULATOR},
    {"emulate-ideal", no_argument, 0, OPT_IDEAL},
    {"emulate-shared-gpu", no_argument, 0, OPT_SHARED},
    {"emulate-independent", no_argument, 0, OPT_INDEP},
    {"emulate-parallel", required_argument, 0, OPT_PARALLEL},
    {"emulate-trace", required_argument, 0, OPT_ETRACE},
    {"time-scale", required_argument, 0, OPT_SCALE},
    {"dry-run", no_argument, 0, OPT_DRY},
    {"progress", required_argument, 0, OPT_PROGRESS},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"skip-preflight", no_argument, 0, OPT_SKIP_PRE},
    {"api", required_argument, 0, OPT_API},
    {"endpoint", required_argument, 0, OPT_ENDPOINT},
    {"model", required_argument, 0, OPT_MODEL},
    {"agents", required_argument, 0, OPT_AGENTS},
    {"prompt", required_argument, 0, OPT_PROMPT},
    {"num-predict", required_argument, 0, OPT_NUM_PREDICT},
    {"api-key-env", required_argument, 0, OPT_KEY_ENV},
    {"proxy", required_argument, 0, OPT_PROXY},
    {"exec", required_argument, 0, OPT_EXEC},
    {"exec-listen", required_argument, 0, OPT_EXEC_LISTEN},
    {"skip-missing-exec", no_argument, 0, OPT_SKIP_MISSING_EXEC},
    {"cpus", required_argument, 0, OPT_CPUS},
    {"server", required_argument, 0, OPT_SERVER},
    {"server-env", required_argument, 0, OPT_SERVER_ENV},
    {"telemetry-interval", required_argument, 0, OPT_TELEMETRY},
    {"no-nvidia-smi", no_argument, 0, OPT_NO_SMI},
    {"help", no_argument, 0, OPT_HELP},
    {"version", no_argument, 0, OPT_VERSION},
    {0, 0, 0, 0},
};

/* An unknown option: name it and suggest the nearest known one. */
static int unknown_option(const char *arg)
{
    const char *names[sizeof longopts / sizeof longopts[0]];
    size_t n = 0;
    for (const struct option *o = longopts; o->name; o++)
        names[n++] = o->name;
    char msg[256];
    return pb_cli_usage_error("%s", pb_cli_unknown_option(arg, names, n, msg, sizeof msg));
}

/* The manifest is written lazily, just before the first run file (see
 * pb_sweep_opts.before_first_write). */
typedef struct manifest_ctx {
    const pb_plan *plan;
    const char *hash, *host;
    const cJSON *endpoints, *emulator;
    int argc;
    char **argv;
    char path[4200];
    int written;
} manifest_ctx;

static int manifest_write(void *ud, char *err, size_t errlen)
{
    manifest_ctx *m = ud;
    char e[1200];
    if (pb_manifest_write(m->plan, m->hash, m->host, m->endpoints, m->emulator, m->argc,
                          m->argv, m->path, sizeof m->path, e, sizeof e) != 0) {
        snprintf(err, errlen, "cannot write the manifest: %s (check --out %s)", e, m->plan->out);
        return -1;
    }
    m->written = 1;
    return 0;
}

/* The analyze command to run next: the analyze binary of this build tree
 * or installation when there is one (beside collect, or ../analyze/ in the
 * build tree), else plain `analyze`; the folder quoted for a shell. */
static void analyze_hint(const char *out)
{
    char self[PATH_MAX], cand[PATH_MAX + 32], real[PATH_MAX];
    const char *tool = "analyze";
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        static const char *const rel[] = {"analyze", "../analyze/analyze"};
        for (int i = 0; i < 2 && tool[0] == 'a'; i++) {
            snprintf(cand, sizeof cand, "%s/%s", self, rel[i]);
            if (access(cand, X_OK) == 0 && realpath(cand, real))
                tool = real;
        }
    }
    int plain = out[strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789/._-+:,")] == '\0';
    fprintf(stderr, "collect: the full report: %s %s%s%s > report.md\n", tool, plain ? "" : "'",
            out, plain ? "" : "'");
}

int main(int argc, char **argv)
{
    pb_cli_init("collect");
    pb_overrides ov;
    pb_overrides_init(&ov);
    const char *plan_name = "tr115", *emulator = NULL;
    int dry = 0, skip_pre = 0, have_plan = 0;
    const char *execs[64], *listens[64];
    int n_execs = 0, n_listens = 0;
    pb_cli_plan cli = {0};
    const char *key_env = NULL, *cli_flag = NULL, *cpus = NULL;
    pb_sweep_opts so = {.max_connect_failures = 3};
    int telemetry_ms = 250, smi = 1;
    const char *server_env[16];
    double v;
    int c;
    opterr = 0;
    /* ":h": a missing value returns ':' (not '?'), and -h is --help. */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PLAN: plan_name = optarg; have_plan = 1; break;
        case OPT_API:
            if (!pb_dialect_find(optarg))
                return pb_cli_usage_error("--api %s: use one of %s, or openai, ollama", optarg,
                                          pb_dialect_names());
            ov.api = optarg;
            break;
        case OPT_ENDPOINT:
            if (strncmp(optarg, "http://", 7) != 0 || !optarg[7])
                return pb_cli_usage_error("--endpoint %s: give an http:// base URL, e.g. "
                                          "http://127.0.0.1:11434", optarg);
            if (cli.n_endpoints == PB_CLI_MAX_ENDPOINTS)
                return pb_cli_usage_error("--endpoint %s: at most 64 endpoints", optarg);
            cli.endpoints[cli.n_endpoints++] = optarg;
            break;
        case OPT_MODEL: cli.model = optarg; cli_flag = "--model"; break;
        case OPT_PROMPT: cli.prompt = optarg; cli_flag = "--prompt"; break;
        case OPT_AGENTS: {
            /* One parser for both uses: a plan's counted agent (pb_plan_load
             * applies ov.agents) and --endpoint's plan, which gets the
             * largest count and is then swept like any plan. */
            int counts[PB_COUNTS_MAX], nc;
            char e[256];
            if (pb_counts_parse(optarg, counts, &nc, 4096, e, sizeof e) != 0)
                return pb_cli_usage_error("%s", e);
            ov.agents = optarg;
            cli.agents = counts[nc - 1];
            break;
        }
        case OPT_NUM_PREDICT:
            if (pb_cli_number(optarg, 1, 1e7, &v) || v != (int)v)
                return pb_cli_usage_error("--num-predict %s: give a whole number of tokens >= 1", optarg);
            cli.num_predict = (int)v;
            cli_flag = "--num-predict";
            break;
        case OPT_KEY_ENV: key_env = optarg; break;
        case OPT_OUT: ov.out = optarg; break;
        case OPT_RUNTIME: ov.runtimes = optarg; break;
        case OPT_CONFIG: ov.configs = optarg; break;
        case OPT_RUNS:
            if (pb_cli_number(optarg, 1, 1e6, &v)) return pb_cli_usage_error("--runs %s: give a whole number in [1, 1e6]", optarg);
            ov.runs = (int)v;
            break;
        case OPT_TARGET_CI:
            if (pb_cli_number(optarg, 0.001, 100, &v)) return pb_cli_usage_error("--target-ci %s: give a percentage in (0, 100], e.g. 2", optarg);
            ov.target_ci_pct = v;
            break;
        case OPT_STAGGER:
            if (pb_cli_number(optarg, 0, 3600, &v)) return pb_cli_usage_error("--stagger %s: give seconds in [0, 3600]", optarg);
            ov.stagger_s = v;
            break;
        case OPT_RATE:
            if (pb_cli_number(optarg, 1e-6, 1e6, &v)) return pb_cli_usage_error("--arrival-rate %s: give agents per second > 0", optarg);
            ov.rate_per_s = v;
            break;
        case OPT_MAX_RUNS:
            if (pb_cli_number(optarg, 1, 1e6, &v) || v != (int)v) return pb_cli_usage_error("--max-runs %s: give a whole number >= 1", optarg);
            ov.max_runs = (int)v;
            break;
        case OPT_NO_SOLO: ov.no_solo = 1; break;
        case OPT_NO_PAIRED: ov.no_paired_seed = 1; break;
        case OPT_NO_WARMUP: ov.no_warmup = 1; break;
        case OPT_SEED: {
            long long s;
            if (pb_cli_integer(optarg, 0, 1LL << 53, &s))
                return pb_cli_usage_error("--seed %s: give a whole number in [0, 2^53]", optarg);
            ov.have_seed = 1;
            ov.seed = (unsigned long long)s;
            break;
        }
        case OPT_TIMEOUT:
            if (pb_cli_number(optarg, 0.001, 1e7, &v)) return pb_cli_usage_error("--timeout %s: give seconds in [0.001, 1e7]", optarg);
            ov.timeout_s = v;
            break;
        case OPT_CHUNK:
            if (pb_cli_number(optarg, 0, 1 << 24, &v)) return pb_cli_usage_error("--chunk-bytes %s: give a whole number in [0, 16777216]", optarg);
            ov.chunk_bytes = (long)v;
            break;
        case OPT_REUSE: ov.reuse_connections = 1; break;
        case OPT_MAX_CONNECT_FAIL:
            if (pb_cli_number(optarg, 0, 1e6, &v) || v != (int)v)
                return pb_cli_usage_error("--max-connect-failures %s: give a whole number of runs >= 0 "
                                          "(0 = never stop)", optarg);
            so.max_connect_failures = (int)v;
            break;
        case OPT_RETRY: so.retry_failed = 1; break;
        case OPT_EMULATE: ov.emulate = 1; break;
        case OPT_EMULATOR: emulator = optarg; break;
        case OPT_IDEAL: ov.emulate_ideal = 1; break;
        case OPT_SHARED: ov.emulate_shared_gpu = 1; break;
        case OPT_INDEP: ov.emulate_shared_gpu = 0; break;
        case OPT_PARALLEL:
            if (pb_cli_number(optarg, 1, 1 << 20, &v)) return pb_cli_usage_error("--emulate-parallel %s: give a whole number in [1, 1048576]", optarg);
            ov.emulate_parallel = (int)v;
            break;
        case OPT_ETRACE: ov.emulate_trace = optarg; break;
        case OPT_SCALE:
            if (pb_cli_number(optarg, 1e-3, 1e6, &v)) return pb_cli_usage_error("--time-scale %s: give a factor in [1e-3, 1e6] (e.g. 20)", optarg);
            ov.time_scale = v;
            break;
        case OPT_DRY: dry = 1; break;
        case OPT_PROGRESS:
            if (pb_progress_parse(optarg, &so.progress))
                return pb_cli_usage_error("--progress %s: use auto, tty, lines or none", optarg);
            break;
        case OPT_QUIET: so.quiet = 1; break;
        case OPT_SKIP_PRE: skip_pre = 1; break;
        case OPT_PROXY:
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0 &&
                strncmp(optarg, "socks5://", 9) != 0 && strncmp(optarg, "socks5h://", 10) != 0)
                return pb_cli_usage_error("--proxy %s: give a proxy URL such as http://proxy:3128 "
                                          "(http://, https://, socks5:// or socks5h://)", optarg);
            ov.proxy = optarg;
            break;
        case OPT_EXEC:
            if (n_execs == (int)(sizeof execs / sizeof execs[0]))
                return pb_cli_usage_error("--exec %s: at most 64 exec runtimes", optarg);
            execs[n_execs++] = optarg;
            ov.execs = execs;
            ov.n_execs = n_execs;
            break;
        case OPT_SKIP_MISSING_EXEC:
            ov.skip_missing_exec = 1;
            break;
        case OPT_EXEC_LISTEN:
            if (n_listens == (int)(sizeof listens / sizeof listens[0]))
                return pb_cli_usage_error("--exec-listen %s: at most 64", optarg);
            listens[n_listens++] = optarg;
            ov.listens = listens;
            ov.n_listens = n_listens;
            break;
        case OPT_CPUS: {
            char norm[256], e[512];
            if (pb_cpus_normalize(optarg, norm, sizeof norm, e, sizeof e) != 0)
                return pb_cli_usage_error("%s", e);
            cpus = optarg;
            break;
        }
        case OPT_SERVER:
            if (cli.n_servers == PB_SERVER_MAX)
                return pb_cli_usage_error("--server %s: at most 16 servers", optarg);
            cli.servers[cli.n_servers++] = optarg;
            break;
        case OPT_SERVER_ENV:
            if (ov.n_server_env == (int)(sizeof server_env / sizeof server_env[0]))
                return pb_cli_usage_error("--server-env %s: at most 16 of them", optarg);
            server_env[ov.n_server_env++] = optarg;
            ov.server_env = server_env;
            break;
        case OPT_TELEMETRY:
            if (pb_cli_number(optarg, 0, 60000, &v) || v != (int)v || (v > 0 && v < 10))
                return pb_cli_usage_error("--telemetry-interval %s: give milliseconds in [10, 60000], "
                                          "or 0 for none", optarg);
            telemetry_ms = (int)v;
            break;
        case OPT_NO_SMI: smi = 0; break;
        case 'h':
        case OPT_HELP: fputs(usage, stdout); return 0;
        case OPT_VERSION:
            printf("collect (parbench) %s\nlibcurl %s\nlibuv %s\n", PARBENCH_VERSION,
                   curl_version_info(CURLVERSION_NOW)->version, uv_version_string());
            return 0;
        case ':':
            return pb_cli_usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return unknown_option(argv[optind - 1]);
        }
    }
    if (optind < argc)
        return pb_cli_usage_error("unexpected argument '%s'", argv[optind]);
    /* Before any thread or child exists: both inherit it. */
    if (cpus) {
        char e[600];
        if (pb_cpus_apply(cpus, e, sizeof e) != 0)
            return pb_cli_usage_error("%s", e);
    }
    /* --server builds the plan from the command line as --endpoint does. */
    int cli_plan = cli.n_endpoints || cli.n_servers;
    if (cli_plan && have_plan)
        return pb_cli_usage_error("%s and --plan %s: give one or the other (save the plan that "
                                  "--dry-run prints and edit it)", cli.n_servers ? "--server" : "--endpoint",
                                  plan_name);
    if (cli_flag && !cli_plan)
        return pb_cli_usage_error("%s builds a plan with --endpoint URL or --server CMD; with a plan "
                                  "file, set it in the file", cli_flag);

    /* The key is read once and kept out of the plan: nothing that is
     * written (trace, manifest, --dry-run) sees it. */
    char *auth = NULL;
    if (key_env) {
        const char *key = getenv(key_env);
        if (!key || !*key)
            return pb_cli_usage_error("--api-key-env %s: the environment variable %s is not set "
                                      "or empty", key_env, key_env);
        if (strpbrk(key, "\r\n"))
            return pb_cli_usage_error("--api-key-env %s: the key in %s contains a line break",
                                      key_env, key_env);
        size_t al = strlen(key) + 32;
        auth = pb_mem_alloc(al);
        snprintf(auth, al, "Authorization: Bearer %s", key);
    }

    char err[2048];
    pb_plan plan;
    int lrc;
    if (cli_plan) {
        char *json = NULL;
        lrc = pb_cli_plan_build(&cli, &json, err, sizeof err);
        if (lrc == 0)
            lrc = pb_plan_from_json(&plan, json, strlen(json), "command line", ".", &ov,
                                    err, sizeof err);
        free(json);
    } else {
        lrc = pb_plan_load(&plan, plan_name, &ov, err, sizeof err);
    }
    if (lrc != 0) {
        pb_cli_error("%s", err);
        free(auth);
        return PB_EXIT_USAGE;
    }
    char hash[32];
    pb_plan_hash(&plan, hash, sizeof hash);
    if (dry && cli_plan) {
        /* A plan file to save and edit: `collect --plan FILE` measures the
         * same plan (same hash, said on stderr). */
        cJSON *j = pb_cli_plan_file_json(&plan);
        char *s = cJSON_Print(j);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(j);
        fprintf(stderr, "collect: plan_hash %s\n", hash);
        pb_plan_free(&plan);
        free(auth);
        return 0;
    }
    if (dry) {
        cJSON *j = pb_plan_to_json(&plan);
        cJSON_AddStringToObject(j, "plan_hash", hash);
        char *s = cJSON_Print(j);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(j);
        pb_plan_free(&plan);
        free(auth);
        return 0;
    }

    /* An --out that cannot keep the runs is refused before the emulator,
     * preflight or any request: never measure what cannot be kept. */
    if (pb_sweep_check_out(&plan, err, sizeof err) != 0) {
        pb_cli_error("%s", err);
        pb_plan_free(&plan);
        free(auth);
        return PB_EXIT_USAGE;
    }
    /* A proxy address a program hard-codes must be free: said now, not
     * as a failed phase in the middle of the sweep. */
    if (pb_exec_listen_check(&plan, err, sizeof err) != 0) {
        pb_cli_error("%s", err);
        pb_plan_free(&plan);
        free(auth);
        return PB_EXIT_PREFLIGHT;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    pb_signals_install();
    int rc = PB_EXIT_OK;
    cJSON *endpoints = NULL, *servers = NULL, *emu_info = NULL;
    /* Servers (--server, "servers", --emulate) and telemetry: server_proc.h. */
    pb_server_spec emu_spec = {0};
    int *emu_ports = calloc((size_t)plan.n_endpoints + 1, sizeof *emu_ports);
    pb_srv_extra extra = {&emu_spec, emu_ports, 1};
    pb_telemetry *tel = pb_telemetry_new(telemetry_ms, smi, so.quiet);
    pb_srvset *srv = NULL;
    if (plan.emulate.enabled) {
        char bin[4096];
        /* The child's messages are printed above the progress bar. */
        if (pb_emulate_find(emulator, bin, sizeof bin, err, sizeof err) != 0 ||
            pb_emulate_spec(&plan, bin, &emu_spec, emu_ports, err, sizeof err) != 0) {
            pb_cli_error("%s", err);
            rc = PB_EXIT_PREFLIGHT;
            goto out;
        }
    }
    srv = pb_srvset_new(&plan, plan.emulate.enabled ? &extra : NULL, plan.out, tel, so.quiet);
    if (pb_srvset_start(srv, err, sizeof err) != 0) {
        pb_cli_error("%s", err);
        rc = pb_signals_interrupted() ? PB_EXIT_INTERRUPTED : PB_EXIT_PREFLIGHT;
        goto out;
    }
    const char *const *urls = pb_srvset_urls(srv);
    if (plan.emulate.enabled)
        emu_info = pb_emulate_info(&plan, &emu_spec, urls);
    so.before_run = pb_srvset_before_run;
    so.after_run = pb_srvset_after_run;
    so.config_at = pb_srvset_config_at;
    so.hud = srv;
    if (!skip_pre) {
        endpoints = pb_preflight(&plan, urls, 10, auth, &servers, err, sizeof err);
        if (!endpoints) {
            pb_cli_error("%s", err);
            rc = PB_EXIT_PREFLIGHT;
            goto out;
        }
    }
    if (!servers)
        servers = pb_preflight_unprobed(&plan, urls);
    so.auth_header = auth;
    so.servers = servers;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    manifest_ctx mc = {&plan, hash, host, endpoints, emu_info, argc, argv, "", 0};
    so.before_first_write = manifest_write;
    so.ud = &mc;
    if (!so.quiet) {
        char agents[160];
        if (plan.n_counts > 1) /* a count sweep: configs differ in N */
            snprintf(agents, sizeof agents, "%d to %d agents (count sweep)",
                     plan.configs[0].n_agents, plan.configs[plan.n_configs - 1].n_agents);
        else
            snprintf(agents, sizeof agents, "%d agents", plan.configs[0].n_agents);
        fprintf(stderr, "collect: plan %s (%s): %d runtimes x %d configs x %d runs, %s on %d endpoints%s\n",
                plan.name, hash, plan.n_runtimes, plan.n_configs, plan.runs, agents,
                plan.n_endpoints, plan.emulate.enabled ? " (emulated)" : "");
        if (pb_srvset_active(srv)) {
            char order[2048];
            pb_srvset_describe(srv, order, sizeof order);
            fprintf(stderr, "collect: server order: %s\n", order);
        }
    }
    pb_sweep_stats st;
    rc = pb_sweep_run(&plan, urls, hash, host, emu_info, &so, &st);
    fprintf(stderr,
            "collect: %s: %d of %d runs measured now, %d already valid (skipped), %d invalid now, "
            "%d kept invalid from before, %d conflicting files left untouched, %d not written\n",
            rc == PB_EXIT_INTERRUPTED ? "interrupted" : st.stopped ? "stopped" : "done",
            st.executed, st.total,
            st.skipped_valid, st.failed_new, st.kept_invalid, st.conflicts, st.write_errors);
    if (st.added)
        fprintf(stderr, "collect: --target-ci added %d runs beyond the planned %d per group\n",
                st.added, plan.runs);
    char mnote[4300];
    if (mc.written)
        snprintf(mnote, sizeof mnote, "manifest %s", mc.path);
    else
        snprintf(mnote, sizeof mnote, "no run written now, so no new manifest");
    fprintf(stderr, "collect: data in %s (%s)%s\n", plan.out, mnote,
            rc == PB_EXIT_INTERRUPTED ? "; run the same command again to resume" :
            st.kept_invalid || st.failed_new ? "; --retry-failed measures invalid runs again" : "");
    if (!so.quiet && rc != PB_EXIT_INTERRUPTED && st.executed + st.skipped_valid > 0)
        analyze_hint(plan.out);
out:
    /* A failing emulator (e.g. its --trace incomplete) fails the sweep. */
    if (srv && pb_srvset_stop(srv) != 0 && rc == PB_EXIT_OK)
        rc = PB_EXIT_FAILED;
    pb_srvset_free(srv);
    pb_telemetry_free(tel);
    pb_server_spec_free(&emu_spec);
    free(emu_ports);
    cJSON_Delete(emu_info);
    cJSON_Delete(endpoints);
    cJSON_Delete(servers);
    free(auth);
    pb_plan_free(&plan);
    curl_global_cleanup();
    return rc;
}
