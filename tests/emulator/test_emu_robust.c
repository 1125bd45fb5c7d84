/* Robustness under hostile or sloppy clients: malformed requests,
 * oversized headers and bodies, slow senders, disconnects mid-stream and in
 * the queue, pipelining, keep-alive, hundreds of connections, and stopping
 * with streams in flight. Meant to run under ASan (no crash, no leak). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "emu_test_util.h"

#define SCALE 20.0
#define MS 1e6

static emu_t *E;
static int PORT;

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 2, SCALE);
    E = test_start(&o);
    if (!E)
        return -1;
    PORT = emu_port(E, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A failed stop fails the group (cmocka reports the teardown). */
    return emu_stop(E);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_malformed_request_line(void **state)
{
    (void)state;
    raw_result r;
    const char req[] = "GARBAGE / NOPE\r\n\r\n";
    raw_exchange(PORT, req, sizeof req - 1, &r, 2000);
    assert_int_equal(r.status, 400);
    raw_free(&r);
    const char bin[] = "\x01\x02\x03\xff\r\n\r\n";
    raw_exchange(PORT, bin, sizeof bin - 1, &r, 2000);
    assert_int_equal(r.status, 400);
    raw_free(&r);
}

static void test_oversized_headers(void **state)
{
    (void)state;
    size_t n = 20000;
    char *req = malloc(n + 100);
    int len = sprintf(req, "GET / HTTP/1.1\r\nX-Big: ");
    memset(req + len, 'a', n);
    len += (int)n;
    len += sprintf(req + len, "\r\n\r\n");
    raw_result r;
    raw_exchange(PORT, req, (size_t)len, &r, 2000);
    assert_int_equal(r.status, 431);
    raw_free(&r);
    free(req);
}

static void test_oversized_body(void **state)
{
    (void)state;
    /* Announced too large: refused before the body is sent. */
    const char req[] = "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 2000000\r\n\r\n";
    raw_result r;
    raw_exchange(PORT, req, sizeof req - 1, &r, 2000);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"error\""));
    raw_free(&r);
    /* Chunked, growing past the limit. */
    size_t chunk = 300000;
    size_t cap = 4 * (chunk + 32) + 256;
    char *big = malloc(cap);
    int len = sprintf(big, "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 4; i++) {
        len += sprintf(big + len, "%zx\r\n", chunk);
        memset(big + len, 'x', chunk);
        len += (int)chunk;
        len += sprintf(big + len, "\r\n");
    }
    len += sprintf(big + len, "0\r\n\r\n");
    raw_exchange(PORT, big, (size_t)len, &r, 3000);
    assert_int_equal(r.status, 413);
    raw_free(&r);
    free(big);
}

static void test_slow_sender(void **state)
{
    (void)state;
    int fd = raw_connect(PORT);
    assert_true(fd >= 0);
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":3}}";
    char req[512];
    int len = snprintf(req, sizeof req,
                       "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    for (int i = 0; i < len; i += 7) {
        int n = len - i < 7 ? len - i : 7;
        assert_int_equal(send(fd, req + i, (size_t)n, MSG_NOSIGNAL), n);
        sleep_ms(1);
    }
    char buf[8192];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK"));
    assert_non_null(strstr(buf, "\"done\":true"));
    assert_non_null(strstr(buf, "\r\n0\r\n\r\n"));
}

static double final_num(const char *text, const char *key)
{
    char *copy = strdup(text);
    char *lines[128];
    int n = split_lines(copy, strlen(copy), lines, 128);
    double v = n ? json_num(lines[n - 1], key) : -1;
    free(copy);
    return v;
}

static void test_disconnect_mid_stream_frees_slot(void **state)
{
    (void)state;
    int port = emu_port(E, 1);
    int fd = raw_connect(port);
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":5000}}";
    char req[512];
    int len = snprintf(req, sizeof req,
                       "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    send(fd, req, (size_t)len, MSG_NOSIGNAL);
    char buf[4096];
    assert_true(recv(fd, buf, sizeof buf, 0) > 0); /* first token */
    close(fd);
    sleep_ms(5);
    /* The slot is free again: no queue wait for the next request. */
    xfer x = {.port = port, .path = "/api/generate",
              .body = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                      "\"options\":{\"num_predict\":3}}"};
    xfer_run(&x, 1);
    assert_int_equal(x.status, 200);
    double queue = final_num(x.data, "total_duration") -
                   final_num(x.data, "load_duration") -
                   final_num(x.data, "prompt_eval_duration") -
                   final_num(x.data, "eval_duration");
    assert_true(queue < 5 * MS);
    xfer_free(&x, 1);
}

static void test_disconnect_while_queued(void **state)
{
    (void)state;
    /* A holds the slot, B waits behind it and leaves, C must still run
     * right after A. */
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":40}}";
    char req[512];
    int len = snprintf(req, sizeof req,
                       "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    int b = raw_connect(PORT);
    xfer x[2] = {{.port = PORT, .path = "/api/generate", .body = body},
                 {.port = PORT, .path = "/api/generate", .body = body}};
    send(b, req, (size_t)len, MSG_NOSIGNAL);
    sleep_ms(2);
    close(b);
    xfer_run(x, 2);
    assert_int_equal(x[0].status, 200);
    assert_int_equal(x[1].status, 200);
    assert_int_equal((int)final_num(x[0].data, "eval_count"), 40);
    assert_int_equal((int)final_num(x[1].data, "eval_count"), 40);
    xfer_free(x, 2);
}

static void test_pipelining(void **state)
{
    (void)state;
    int fd = raw_connect(PORT);
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":2}}";
    char req[1024];
    int len = snprintf(
        req, sizeof req,
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
        "\r\n%s"
        "GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        sizeof body - 1, body);
    /* All three requests in one segment. */
    assert_int_equal(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
    char buf[16384];
    size_t got = 0;
    ssize_t n;
    while ((n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    char *a = strstr(buf, "Ollama is running");
    char *b = strstr(buf, "\"done\":true");
    char *c = strstr(buf, "{\"version\":");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
}

/* Many requests pipelined behind a stream. They wait in `pending`; when the
 * stream ends each one must be served in turn without holding a copy of the
 * remaining bytes per request (that was O(n^2) memory and an n-deep
 * recursion: 8000 tiny requests held ~0.5 GB, a 1 MB backlog exhausted
 * memory or the stack). */
static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_pipelining_many(void **state)
{
    (void)state;
    enum { N = 8000 };
    static const char get[] = "GET / HTTP/1.1\n\n"; /* 16 bytes */
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":2}}";
    size_t cap = 1024 + N * (sizeof get - 1) + 64;
    char *req = malloc(cap);
    assert_non_null(req);
    int len = snprintf(req, cap,
                       "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    for (int i = 0; i < N; i++) {
        memcpy(req + len, get, sizeof get - 1);
        len += (int)(sizeof get - 1);
    }
    len += snprintf(req + len, cap - (size_t)len,
                    "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    long rss0 = max_rss_kb();
    int fd = raw_connect(PORT);
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
    free(req);
    /* Count the answers as they stream in (about 150 bytes each). */
    static const char needle[] = "Ollama is running";
    char buf[65536 + sizeof needle];
    size_t keep = 0;
    int answers = 0;
    ssize_t n;
    while ((n = recv(fd, buf + keep, sizeof buf - 1 - keep, 0)) > 0) {
        size_t tot = keep + (size_t)n;
        buf[tot] = '\0';
        for (char *q = buf; (q = strstr(q, needle)); q += sizeof needle - 1)
            answers++;
        /* Keep a tail shorter than the needle for a match split by recv. */
        keep = tot < sizeof needle - 1 ? tot : sizeof needle - 2;
        memmove(buf, buf + tot - keep, keep);
    }
    close(fd);
    assert_int_equal(answers, N + 1);
    long grew_mb = (max_rss_kb() - rss0) / 1024;
    if (grew_mb > 64)
        fail_msg("serving %d pipelined requests grew the peak RSS by %ld MB",
                 N, grew_mb);
}

static void test_keep_alive_no_nagle_stall(void **state)
{
    (void)state;
    CURL *h = curl_easy_init();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/generate", PORT);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                     "{\"model\":\"gemma3\",\"prompt\":\"x\","
                     "\"options\":{\"num_predict\":10}}");
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    for (int i = 0; i < 3; i++) {
        uint64_t t0 = t_now();
        assert_int_equal(curl_easy_perform(h), CURLE_OK);
        double ms = (double)(t_now() - t0) / MS;
        long conns = -1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &conns);
        if (i > 0) {
            assert_int_equal(conns, 0); /* reused */
            /* prompt 15.3 + 10 tokens 4.1 ms; a Nagle stall adds ~40. */
            assert_true(ms < 15.4 + 4.2 + 30);
        }
    }
    fclose(devnull);
    curl_easy_cleanup(h);
}

static void test_hundreds_of_connections(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 2, SCALE);
    o.num_parallel = 8;
    o.contention = 0;
    emu_t *e = test_start(&o);
    enum { N = 320 };
    xfer *x = calloc(N, sizeof *x);
    for (int i = 0; i < N; i++) {
        x[i].port = emu_port(e, i % 2);
        if (i % 3 == 0) {
            x[i].path = "/";
        } else {
            x[i].path = i % 3 == 1 ? "/api/generate" : "/api/chat";
            x[i].body = i % 3 == 1
                            ? "{\"model\":\"gemma3\",\"prompt\":\"x\","
                              "\"options\":{\"num_predict\":4}}"
                            : "{\"model\":\"gemma3\",\"messages\":[{\"role\":"
                              "\"user\",\"content\":\"x\"}],\"options\":"
                              "{\"num_predict\":4}}";
        }
    }
    xfer_run(x, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(x[i].curl_rc, 0);
        assert_int_equal(x[i].status, 200);
        if (x[i].body)
            assert_int_equal((int)final_num(x[i].data, "eval_count"), 4);
    }
    xfer_free(x, N);
    free(x);
    emu_stats s;
    emu_get_stats(e, &s);
    assert_true(s.requests >= 2 * N / 3);
    assert_int_equal(emu_stop(e), 0);
}

static void test_stop_with_streams_in_flight(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, SCALE);
    o.num_parallel = 4;
    emu_t *e = test_start(&o);
    int fds[12];
    const char body[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                        "\"options\":{\"num_predict\":100000}}";
    char req[512];
    int len = snprintf(req, sizeof req,
                       "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    for (int i = 0; i < 12; i++) {
        fds[i] = raw_connect(emu_port(e, 0));
        /* The last ones only send half a request. */
        send(fds[i], req, i < 10 ? (size_t)len : (size_t)len / 2,
             MSG_NOSIGNAL);
    }
    sleep_ms(60);
    /* Streaming, queued and half-parsed requests when it stops: the ten
     * whole requests were accepted, the stop is clean, and every connection
     * is closed by the server (EOF or reset within 2 s, never left open). */
    emu_stats st;
    emu_get_stats(e, &st);
    for (int t = 0; t < 200 && st.requests < 10; t++) { /* at most 2 s more */
        sleep_ms(10);
        emu_get_stats(e, &st);
    }
    assert_int_equal(st.requests, 10);
    assert_int_equal(emu_stop(e), 0);
    for (int i = 0; i < 12; i++) {
        assert_true(fds[i] >= 0);
        struct timeval tv = {2, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[4096];
        ssize_t r;
        int reads = 0;
        while ((r = recv(fds[i], buf, sizeof buf, 0)) > 0 && ++reads < 100000) {
        }
        if (r < 0 && errno != ECONNRESET)
            fail_msg("connection %d still open after emu_stop (%s)", i, strerror(errno));
        close(fds[i]);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_request_line),
        cmocka_unit_test(test_oversized_headers),
        cmocka_unit_test(test_oversized_body),
        cmocka_unit_test(test_slow_sender),
        cmocka_unit_test(test_disconnect_mid_stream_frees_slot),
        cmocka_unit_test(test_disconnect_while_queued),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_pipelining_many),
        cmocka_unit_test(test_keep_alive_no_nagle_stall),
        cmocka_unit_test(test_hundreds_of_connections),
        cmocka_unit_test(test_stop_with_streams_in_flight),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
