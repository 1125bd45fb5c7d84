/* Issue 13: the emulator's connection limits and a careful server's
 * answers. Slow or silent clients are closed after --header-timeout, idle
 * keep-alive connections after --idle-timeout, connections over
 * --max-connections are refused with a 503 (and a log line), the soft fd
 * limit is raised to the hard one, every numeric flag is bounded, and odd
 * model names and transfer codings get the answers Ollama's Go server
 * gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "emu_test_util.h"
#include "pb_text.h"

static emu_t *E;
static int PORT;

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 20);
    o.header_timeout_s = 0.3;
    o.idle_timeout_s = 0.6;
    o.max_connections = 4;
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

/* Reads from fd until the server closes it (1) or ms pass (0); what was
 * read goes to buf (NUL-terminated). */
static int wait_closed(int fd, int ms, char *buf, size_t cap)
{
    size_t k = 0;
    uint64_t end = t_now() + (uint64_t)ms * 1000000ull;
    buf[0] = '\0';
    while (t_now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)((end - t_now()) / 1000000ull) + 1;
        if (poll(&p, 1, left) <= 0)
            continue;
        char tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            return 1;
        size_t c = (size_t)n < cap - 1 - k ? (size_t)n : cap - 1 - k;
        memcpy(buf + k, tmp, c);
        k += c;
        buf[k] = '\0';
    }
    return 0;
}

static void test_header_timeout(void **state)
{
    (void)state;
    char buf[8192];
    /* Half a request line, then nothing. */
    int fd = raw_connect(PORT);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, "GET /api/ver", 12, 0), 12);
    uint64_t t0 = t_now();
    assert_true(wait_closed(fd, 4000, buf, sizeof buf));
    assert_true(t_now() - t0 >= 250000000ull);
    assert_non_null(strstr(buf, "408"));
    close(fd);
    /* A connection that sends nothing at all. */
    fd = raw_connect(PORT);
    assert_true(wait_closed(fd, 4000, buf, sizeof buf));
    close(fd);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    char buf[8192];
    int fd = raw_connect(PORT);
    const char req[] = "GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    /* The answer comes, the connection stays open past the header
     * timeout (it is idle, not slow), then closes after the idle one. */
    assert_false(wait_closed(fd, 450, buf, sizeof buf));
    assert_non_null(strstr(buf, "200 OK"));
    assert_true(wait_closed(fd, 4000, buf, sizeof buf));
    close(fd);
}

static void test_connection_limit(void **state)
{
    (void)state;
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = raw_connect(PORT);
        assert_true(fds[i] >= 0);
    }
    /* Let the server accept those four, then a fifth is refused. */
    usleep(100000);
    int fd = raw_connect(PORT);
    assert_true(fd >= 0);
    char buf[8192];
    assert_true(wait_closed(fd, 3000, buf, sizeof buf));
    assert_non_null(strstr(buf, "503"));
    close(fd);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    usleep(100000);
    raw_result r;
    const char req[] = "GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_exchange(PORT, req, sizeof req - 1, &r, 2000);
    assert_int_equal(r.status, 200);
    raw_free(&r);
}

static void test_fd_limit_raised(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 64) {
        printf("skipped: hard fd limit %llu\n", (unsigned long long)rl.rlim_max);
        return;
    }
    /* Lower the soft limit, start another emulator: it raises it again. */
    struct rlimit low = {64, rl.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    emu_options o;
    test_opts(&o, 1, 20);
    emu_t *e2 = test_start(&o);
    assert_non_null(e2);
    assert_int_equal(emu_stop(e2), 0);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(rl.rlim_cur == rl.rlim_max);
}

static void test_transfer_coding(void **state)
{
    (void)state;
    raw_result r;
    const char req[] = "POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                       "Transfer-Encoding: gzip, chunked\r\n\r\n"
                       "5\r\nhello\r\n0\r\n\r\n";
    raw_exchange(PORT, req, sizeof req - 1, &r, 2000);
    assert_int_equal(r.status, 501);
    raw_free(&r);
}

static void test_model_names(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/api/generate",
             "{\"model\":\"gemma3:latest\\u0000evil\",\"prompt\":\"hi\",\"stream\":false}",
             NULL, &r, 2000);
    assert_int_equal(r.status, 404);
    raw_free(&r);
    raw_post(PORT, "/api/generate", "{\"model\":\"gem\xff\xfe\",\"prompt\":\"hi\"}", NULL, &r, 2000);
    assert_int_equal(r.status, 404);
    assert_non_null(r.body);
    assert_true(pb_text_utf8_valid(r.body, r.body_len));
    cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
    assert_non_null(cJSON_GetObjectItem(j, "error"));
    cJSON_Delete(j);
    raw_free(&r);
    /* The same on every route that names the model back: /api/show, and
     * the OpenAI layer's chat, embeddings and models/{model}. */
    static const char *const paths[][2] = {
        {"/api/show", "{\"model\":\"gem\xff\xfe\"}"},
        {"/v1/chat/completions", "{\"model\":\"gem\xff\xfe\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
        {"/v1/embeddings", "{\"model\":\"gem\xff\xfe\",\"input\":\"hi\"}"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        raw_post(PORT, paths[i][0], paths[i][1], NULL, &r, 2000);
        assert_int_equal(r.status, 404);
        assert_non_null(r.body);
        assert_true(pb_text_utf8_valid(r.body, r.body_len));
        raw_free(&r);
    }
    /* A plain name still works. */
    raw_post(PORT, "/api/generate",
             "{\"model\":\"gemma3:latest\",\"prompt\":\"hi\",\"stream\":false,"
             "\"options\":{\"num_predict\":2}}", NULL, &r, 4000);
    assert_int_equal(r.status, 200);
    raw_free(&r);
}

/* Every numeric flag: non-finite or out-of-range values are refused with
 * the allowed range in the message. */
static void test_flag_bounds(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"--load", "inf"}, {"--load", "1e30"}, {"--load", "nan"},
        {"--time-scale", "inf"}, {"--time-scale", "1e30"}, {"--time-scale", "0"},
        {"--prompt-rate", "1e300"}, {"--decode-rate", "-inf"},
        {"--first-token", "1e30"}, {"--contention", "1e9"}, {"--jitter", "inf"},
        {"--seed", "1e300"}, {"--seed", "-1"},
        {"--header-timeout", "0"}, {"--header-timeout", "inf"},
        {"--idle-timeout", "nan"}, {"--max-connections", "0"},
        {"--num-parallel", "0"}, {"--len-mean", "0"},
        {"--batching", "inf"}, {"--vram", "1e300"}, {"--keep-alive", "nan"},
        {"--keep-alive", "inf"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        emu_options o;
        emu_options_init(&o);
        char *argv[] = {"ollama-emu", (char *)bad[i][0], (char *)bad[i][1], NULL};
        char err[256] = "";
        int rc = emu_options_parse(&o, 3, argv, err, sizeof err);
        if (rc != -1 || !strchr(err, '['))
            fail_msg("%s %s: rc %d, '%s'", bad[i][0], bad[i][1], rc, err);
    }
    emu_options o;
    emu_options_init(&o);
    char *ok[] = {"ollama-emu", "--load", "2.5", "--header-timeout", "0.5",
                  "--idle-timeout", "60", "--max-connections", "100", NULL};
    char err[256] = "";
    assert_int_equal(emu_options_parse(&o, 9, ok, err, sizeof err), 0);
    assert_true(o.header_timeout_s == 0.5 && o.idle_timeout_s == 60 && o.max_connections == 100);
    char *typo[] = {"ollama-emu", "--max-conections", "5", NULL};
    assert_int_equal(emu_options_parse(&o, 3, typo, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean --max-connections?"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_fd_limit_raised),
        cmocka_unit_test(test_transfer_coding),
        cmocka_unit_test(test_model_names),
        cmocka_unit_test(test_flag_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
