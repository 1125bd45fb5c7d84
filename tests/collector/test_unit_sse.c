/* sse: event-stream framing with the chunk boundary at every byte of a
 * recorded stream (written by hand from the OpenAI streaming format: a
 * comment, CRLF and LF line ends, an event: line, a two-line data field,
 * an id: and a retry: line, the final [DONE]), lone-CR line ends, a stray
 * JSON line, the size limit and a stream cut inside an event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sse.h"

#define CHUNK(c) "{\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" c "\"},\"finish_reason\":null}]}"

static const char recorded[] =
    ": ping\r\n"
    "\r\n"
    "data: " CHUNK("Hel") "\r\n"
    "\r\n"
    "data: " CHUNK("lo") "\n"
    "\n"
    "id: 7\n"
    "retry: 1000\n"
    "event: error\n"
    "data: {\"error\":\n"
    "data:{\"message\":\"boom\"}}\n"
    "\n"
    "data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\r\n"
    "\r\n"
    "data: [DONE]\n"
    "\n";

/* What the recorded stream holds, worked out by hand. */
static const struct { const char *type, *data; } expected[] = {
    {"message", CHUNK("Hel")},
    {"message", CHUNK("lo")},
    {"error", "{\"error\":\n{\"message\":\"boom\"}}"},
    {"message", "{\"choices\":[],\"usage\":{\"completion_tokens\":2}}"},
    {"message", "[DONE]"},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

typedef struct sink {
    char type[8][64];
    char data[8][512];
    int stray[8];
    int n;
} sink;

static int collect(void *ud, const pb_sse_event *ev)
{
    sink *s = ud;
    if (s->n == 8)
        return 9;
    snprintf(s->type[s->n], 64, "%s", ev->type);
    snprintf(s->data[s->n], 512, "%.*s", (int)ev->len, ev->data);
    s->stray[s->n] = ev->stray;
    s->n++;
    return 0;
}

static void check_recorded(const sink *s)
{
    assert_int_equal(s->n, N_EXPECTED);
    for (size_t i = 0; i < N_EXPECTED; i++) {
        assert_string_equal(s->type[i], expected[i].type);
        assert_string_equal(s->data[i], expected[i].data);
        assert_false(s->stray[i]);
    }
}

static void test_every_boundary(void **st)
{
    (void)st;
    size_t n = strlen(recorded);
    for (size_t cut = 0; cut <= n; cut++) {
        pb_sse p;
        pb_sse_init(&p, 0);
        sink s = {0};
        assert_int_equal(pb_sse_feed(&p, recorded, cut, collect, &s), 0);
        assert_int_equal(pb_sse_feed(&p, recorded + cut, n - cut, collect, &s), 0);
        assert_int_equal(pb_sse_finish(&p), 0);
        check_recorded(&s);
        assert_int_equal(p.comments, 1);
        pb_sse_free(&p);
    }
}

static void test_byte_by_byte_and_pairs(void **st)
{
    (void)st;
    size_t n = strlen(recorded);
    /* Two boundaries at once: every pair (a, b) with a < b. */
    for (size_t a = 1; a < n; a += 7)
        for (size_t b = a + 1; b < n; b += 5) {
            pb_sse p;
            pb_sse_init(&p, 0);
            sink s = {0};
            pb_sse_feed(&p, recorded, a, collect, &s);
            pb_sse_feed(&p, recorded + a, b - a, collect, &s);
            pb_sse_feed(&p, recorded + b, n - b, collect, &s);
            check_recorded(&s);
            pb_sse_free(&p);
        }
    pb_sse p;
    pb_sse_init(&p, 0);
    sink s = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(pb_sse_feed(&p, recorded + i, 1, collect, &s), 0);
    check_recorded(&s);
    pb_sse_free(&p);
}

static void test_lone_cr_and_stray(void **st)
{
    (void)st;
    /* CR alone ends lines; "data" without a colon is an empty data line;
     * a bare JSON line is no field and comes out as a stray line. */
    static const char str[] = "data: a\rdata\r\r{\"error\":\"x\"}\ndata:b\r\n\r\n";
    size_t n = strlen(str);
    for (size_t cut = 0; cut <= n; cut++) {
        pb_sse p;
        pb_sse_init(&p, 0);
        sink s = {0};
        pb_sse_feed(&p, str, cut, collect, &s);
        pb_sse_feed(&p, str + cut, n - cut, collect, &s);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.data[0], "a\n");
        assert_false(s.stray[0]);
        assert_string_equal(s.data[1], "{\"error\":\"x\"}");
        assert_true(s.stray[1]);
        assert_string_equal(s.data[2], "b");
        pb_sse_free(&p);
    }
}

static void test_limits_and_partial(void **st)
{
    (void)st;
    pb_sse p;
    pb_sse_init(&p, 16);
    sink s = {0};
    assert_int_equal(pb_sse_feed(&p, "data: 0123456789abcdefXYZ", 25, collect, &s), -1);
    pb_sse_free(&p);

    pb_sse_init(&p, 0);
    assert_int_equal(pb_sse_feed(&p, "data: x\n", 8, collect, &s), 0);
    assert_int_equal(s.n, 0);          /* no blank line yet: not dispatched */
    assert_int_equal(pb_sse_finish(&p), 1);
    assert_int_equal(s.n, 0);
    assert_int_equal(pb_sse_feed(&p, "data: y", 7, collect, &s), 0);
    assert_int_equal(pb_sse_finish(&p), 1);
    assert_int_equal(pb_sse_finish(&p), 0);
    /* A callback's nonzero result stops feeding and is returned. */
    sink full = {.n = 8};
    assert_int_equal(pb_sse_feed(&p, "data: z\n\ndata: w\n\n", 18, collect, &full), 9);
    pb_sse_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_boundary),
        cmocka_unit_test(test_byte_by_byte_and_pairs),
        cmocka_unit_test(test_lone_cr_and_stray),
        cmocka_unit_test(test_limits_and_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
