/* Every fault spec, selected per request (header or option) and per
 * instance, as a client sees it. Time scale 20: stall:0.6 = 30 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "emu_test_util.h"

#define SCALE 20.0
#define MS 1e6

static emu_t *E;
static int PORT, PORT_DOWN, PORT_RESET;

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 3, SCALE);
    o.load_s = 0; /* keep first-byte times comparable across tests */
    /* The first-byte bounds below charge each prompt whole; the same
     * prompt is sent many times (the prompt cache: test_emu_timing). */
    o.prompt_cache = 0;
    strcpy(o.fault[1], "down");
    strcpy(o.fault[2], "reset_after:2");
    E = test_start(&o);
    if (!E)
        return -1;
    PORT = emu_port(E, 0);
    PORT_DOWN = emu_port(E, 1);
    PORT_RESET = emu_port(E, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A failed stop fails the group (cmocka reports the teardown). */
    return emu_stop(E);
}

static const char BODY[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                           "\"options\":{\"num_predict\":6}}";

static void faulty(const char *spec, raw_result *r)
{
    char hdr[160];
    snprintf(hdr, sizeof hdr, "X-Parbench-Fault: %s\r\n", spec);
    raw_post(PORT, "/api/generate", BODY, hdr, r, 3000);
}

static int parses(const raw_chunk *k)
{
    cJSON *j = cJSON_ParseWithLength(k->data, k->len);
    cJSON_Delete(j);
    return j != NULL;
}

static void test_no_fault_baseline(void **state)
{
    (void)state;
    raw_result r;
    faulty("none", &r);
    assert_true(r.parse_ok);
    assert_int_equal(r.n_chunks, 7);
    raw_free(&r);
}

static void test_down(void **state)
{
    (void)state;
    raw_result r;
    raw_exchange(PORT_DOWN, "GET / HTTP/1.1\r\n\r\n", 18, &r, 1000);
    assert_true(r.connect_failed);
    raw_free(&r);
    /* Per request: the connection is dropped without a response. */
    faulty("down", &r);
    assert_int_equal(r.status, 0);
    assert_true(r.eof || r.reset);
    assert_int_equal(r.raw_len, 0);
    raw_free(&r);
}

static void test_reset_after(void **state)
{
    (void)state;
    xfer x = {.port = PORT, .path = "/api/generate", .body = BODY,
              .header = "X-Parbench-Fault: reset_after:3"};
    xfer_run(&x, 1);
    assert_int_equal(x.curl_rc, CURLE_RECV_ERROR);
    char *lines[16];
    int n = split_lines(x.data, x.len, lines, 16);
    assert_int_equal(n, 3);
    xfer_free(&x, 1);
    /* Per instance (instance 2 resets after 2 tokens). */
    xfer y = {.port = PORT_RESET, .path = "/api/generate", .body = BODY};
    xfer_run(&y, 1);
    assert_int_equal(y.curl_rc, CURLE_RECV_ERROR);
    n = split_lines(y.data, y.len, lines, 16);
    assert_int_equal(n, 2);
    xfer_free(&y, 1);
}

static void test_stall_continue(void **state)
{
    (void)state;
    raw_result r;
    faulty("stall:0.6@2", &r);
    assert_true(r.parse_ok);
    assert_int_equal(r.n_chunks, 7);
    /* Token 3 is due at prompt (9/1500 + 0.3 s) + 2 tokens + 0.6 s stall
     * + 1 token, / 20 = 15.3 + 0.82 + 30 + 0.41 = 46.5 ms: never earlier. */
    assert_true((double)(r.chunks[2].t - r.t_sent) >= 46.5 * MS);
    /* The client sees a gap of ~30 ms, shortened only by token 2's own
     * lateness: on a loaded machine (ASan, parallel ctest) that can be tens
     * of ms, so only the absolute bound above is asserted from below. */
    double gap = (double)(r.chunks[2].t - r.chunks[1].t);
    assert_true(gap > 0 && gap < 30 * MS + 40 * MS);
    /* The other gaps are one token (0.41 ms), far below. */
    assert_true((double)(r.chunks[4].t - r.chunks[3].t) < 10 * MS);
    raw_free(&r);
}

static void test_stall_close(void **state)
{
    (void)state;
    raw_result r;
    uint64_t t0 = t_now();
    faulty("stall:0.6:close", &r);
    assert_false(r.complete);
    assert_true(r.eof);
    assert_int_equal(r.n_chunks, 1);
    assert_true((double)(t_now() - t0) >= 30 * MS);
    raw_free(&r);
}

static void test_malformed_line(void **state)
{
    (void)state;
    raw_result r;
    faulty("malformed_line:2", &r);
    assert_true(r.parse_ok); /* HTTP is fine, the JSON is not */
    assert_int_equal(r.n_chunks, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(parses(&r.chunks[i]), i != 1);
    assert_int_equal(r.chunks[1].data[r.chunks[1].len - 1], '\n');
    raw_free(&r);
}

static void test_truncate_final(void **state)
{
    (void)state;
    raw_result r;
    faulty("truncate_final", &r);
    assert_true(r.parse_ok);
    assert_true(r.complete);
    assert_int_equal(r.n_chunks, 7);
    raw_chunk *k = &r.chunks[6];
    assert_false(parses(k));
    assert_true(k->data[k->len - 1] != '\n');
    assert_non_null(strstr(k->data, "{\"model\":\"gemma3\""));
    raw_free(&r);
}

static void test_http500_busy503(void **state)
{
    (void)state;
    raw_result r;
    faulty("http500", &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.body, "{\"error\":\""));
    raw_free(&r);
    faulty("busy503", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "{\"error\":\"server busy, please try "
                                "again.  maximum pending requests "
                                "exceeded\"}");
    raw_free(&r);
    /* Same through options.parbench_fault. */
    raw_post(PORT, "/api/chat",
             "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"x\"}],\"options\":{\"parbench_fault\":"
             "\"http500\"}}",
             NULL, &r, 3000);
    assert_int_equal(r.status, 500);
    raw_free(&r);
}

static void test_delay_headers(void **state)
{
    (void)state;
    raw_result r;
    faulty("delay_headers:1", &r);
    /* prompt (9/1500 + 0.3) + 1 s delay + 1 token, / 20: 65.7 ms */
    double ttfb = (double)(r.t_first_byte - r.t_sent);
    assert_true(ttfb >= 65.6 * MS);
    assert_true(r.parse_ok);
    assert_int_equal(r.headers_read_no, r.chunks[0].read_no);
    raw_free(&r);
}

static void test_garbage(void **state)
{
    (void)state;
    raw_result r;
    faulty("garbage:2", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_chunks, 2);
    assert_false(r.parse_ok);
    raw_free(&r);
}

static void test_error_after(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/api/generate",
             "{\"model\":\"gemma3\",\"prompt\":\"x\",\"options\":{"
             "\"num_predict\":6,\"parbench_fault\":\"error_after:2\"}}",
             NULL, &r, 3000);
    assert_true(r.parse_ok);
    assert_int_equal(r.n_chunks, 3);
    cJSON *j = cJSON_ParseWithLength(r.chunks[2].data, r.chunks[2].len);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "error")));
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    raw_free(&r);
}

static void test_instance_survives(void **state)
{
    (void)state;
    /* After all these faults the instance still serves normally. */
    raw_result r;
    raw_post(PORT, "/api/generate", BODY, NULL, &r, 3000);
    assert_true(r.parse_ok);
    assert_int_equal(r.n_chunks, 7);
    raw_free(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_fault_baseline),
        cmocka_unit_test(test_down),
        cmocka_unit_test(test_reset_after),
        cmocka_unit_test(test_stall_continue),
        cmocka_unit_test(test_stall_close),
        cmocka_unit_test(test_malformed_line),
        cmocka_unit_test(test_truncate_final),
        cmocka_unit_test(test_http500_busy503),
        cmocka_unit_test(test_delay_headers),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_error_after),
        cmocka_unit_test(test_instance_survives),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
