/* emu_bench: how well ollama-emu keeps its own schedule under load.
 *
 * Starts the emulator in-process, streams N concurrent /api/generate
 * requests through libcurl (one connection each) and prints, one
 * "key: value" per line on stdout:
 *   aggregate_tokens_per_s  tokens received by the client / wall time
 *   lag_median_us, lag_p99_us, lag_max_us
 *                           emulator's scheduling lag: how late each token
 *                           was written vs. the instant the model set for it
 *                           (goal: p99 < 1000 us at 256 streams)
 *   emu_cpu_us_per_token    emulator thread CPU time / tokens written
 * Exit status: 0 ok, 1 failure (emulator did not start, a stream failed),
 * 2 bad command line. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "emu.h"

typedef struct stream {
    size_t lines;
    int done;
} stream;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    stream *s = ud;
    for (size_t i = 0; i < sz * n; i++)
        s->lines += p[i] == '\n';
    return sz * n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int arg_int(const char *v, int lo, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end || n < lo || n > 100000)
        return -1;
    *out = (int)n;
    return 0;
}

int main(int argc, char **argv)
{
    int streams = 256, tokens = 200, instances = 8;
    double scale = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--streams") && v)
            bad = arg_int(v, 1, &streams), i++;
        else if (!strcmp(a, "--tokens") && v)
            bad = arg_int(v, 1, &tokens), i++;
        else if (!strcmp(a, "--instances") && v)
            bad = arg_int(v, 1, &instances) || instances > EMU_MAX_INSTANCES,
            i++;
        else if (!strcmp(a, "--time-scale") && v)
            bad = !((scale = atof(v)) > 0), i++;
        else {
            fprintf(stderr,
                    "usage: emu_bench [--streams N (256)] [--tokens N (200)]"
                    " [--instances N (8)] [--time-scale F (1)]\n");
            return 2;
        }
        if (bad) {
            fprintf(stderr, "emu_bench: bad value for %s: '%s'\n", a, v);
            return 2;
        }
    }

    /* Independent instances without contention: every stream should run
     * at R1, so any shortfall is the emulator's own overhead. */
    emu_options o;
    emu_options_ideal(&o);
    o.n_instances = instances;
    for (int i = 0; i < instances; i++) {
        strcpy(o.host[i], "127.0.0.1");
        o.port[i] = 0;
    }
    o.num_parallel = (streams + instances - 1) / instances;
    o.load_s = 0;
    o.time_scale = scale;
    o.quiet = 1;
    char err[256];
    emu_t *e = emu_start(&o, err, sizeof err);
    if (!e) {
        fprintf(stderr, "emu_bench: cannot start the emulator: %s\n", err);
        return 1;
    }

    signal(SIGPIPE, SIG_IGN); /* CURLOPT_NOSIGNAL leaves it to us */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)streams, sizeof *h);
    stream *st = calloc((size_t)streams, sizeof *st);
    char body[160];
    snprintf(body, sizeof body,
             "{\"model\":\"gemma3\",\"prompt\":\"bench\","
             "\"options\":{\"num_predict\":%d}}",
             tokens);
    for (int i = 0; i < streams; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/api/generate",
                 emu_port(e, i % instances));
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_COPYPOSTFIELDS, body);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &st[i]);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, &st[i]);
        /* No per-call sigaction for SIGPIPE: it cost the client CPU. */
        curl_easy_setopt(h[i], CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(m, h[i]);
    }
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)streams);

    double t0 = now_s();
    int running = 1, failed = 0;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            if (msg->data.result != CURLE_OK) {
                failed++;
                fprintf(stderr, "emu_bench: a stream failed: %s\n",
                        curl_easy_strerror(msg->data.result));
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double wall = now_s() - t0;

    emu_stats s;
    emu_get_stats(e, &s);
    size_t lines = 0;
    for (int i = 0; i < streams; i++) {
        lines += st[i].lines;
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    size_t toks = lines > (size_t)streams ? lines - (size_t)streams : 0;
    curl_multi_cleanup(m);
    curl_global_cleanup();
    free(h);
    free(st);
    emu_stop(e);

    /* The ideal aggregate: every stream decodes at R1 from the moment
     * prompt evaluation ends (at least; prompt/first-token time lowers it). */
    printf("streams: %d\n", streams);
    printf("tokens_per_stream: %d\n", tokens);
    printf("time_scale: %g\n", scale);
    printf("tokens_received: %zu\n", toks);
    printf("wall_s: %.3f\n", wall);
    printf("aggregate_tokens_per_s: %.0f\n", (double)toks / wall);
    printf("ideal_decode_tokens_per_s: %.0f\n",
           streams * o.decode_rate * scale);
    printf("lag_median_us: %.0f\n", s.lag_median_us);
    printf("lag_p99_us: %.0f\n", s.lag_p99_us);
    printf("lag_max_us: %.0f\n", s.lag_max_us);
    printf("emu_cpu_s: %.3f\n", s.cpu_s);
    printf("emu_cpu_us_per_token: %.2f\n",
           s.chunks ? s.cpu_s * 1e6 / (double)s.chunks : 0.0);
    if (failed || toks != (size_t)streams * (size_t)tokens) {
        fprintf(stderr, "emu_bench: %d streams failed, %zu of %zu tokens "
                "arrived\n", failed, toks, (size_t)streams * (size_t)tokens);
        return 1;
    }
    return 0;
}
