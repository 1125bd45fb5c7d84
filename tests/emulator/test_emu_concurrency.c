/* Concurrency semantics of the timing model, measured by a client:
 *  - num_parallel=1 serializes two requests on one instance;
 *  - two independent instances overlap fully;
 *  - with --shared-gpu both streams slow down by g(2) = 2^-C.
 * Time scale 10, 40 tokens: a lone stream's eval takes
 * 40 / (122 * 10) = 32.8 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "emu_test_util.h"

#define SCALE 10.0
#define MS 1e6
#define SOLO_EVAL_MS (40.0 / (122.0 * SCALE) * 1000.0)

static const char BODY[] = "{\"model\":\"gemma3\",\"prompt\":\"x\","
                           "\"options\":{\"num_predict\":40}}";

static double final_field(const xfer *x, const char *key)
{
    char *copy = strndup(x->data, x->len);
    char *lines[64];
    int n = split_lines(copy, strlen(copy), lines, 64);
    double v = n ? json_num(lines[n - 1], key) : -1;
    free(copy);
    return v;
}

static void two_requests(const emu_options *o, int same_instance, xfer x[2])
{
    emu_t *e = test_start(o);
    assert_non_null(e);
    memset(x, 0, 2 * sizeof *x);
    for (int i = 0; i < 2; i++) {
        x[i].port = emu_port(e, same_instance ? 0 : i);
        x[i].path = "/api/generate";
        x[i].body = BODY;
    }
    xfer_run(x, 2);
    assert_int_equal(emu_stop(e), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(x[i].curl_rc, 0);
        assert_int_equal(x[i].status, 200);
        assert_int_equal((int)final_field(&x[i], "eval_count"), 40);
    }
}

static void test_serialized(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, SCALE);
    xfer x[2];
    two_requests(&o, 1, x);
    xfer *a = x[0].t_first < x[1].t_first ? &x[0] : &x[1];
    xfer *b = a == &x[0] ? &x[1] : &x[0];
    /* The waiting request shows no byte before the first one finished. */
    assert_true(b->t_first > a->t_done);
    /* And reports its wait: total - load - prompt - eval ~ a's duration. */
    double queue = final_field(b, "total_duration") -
                   final_field(b, "load_duration") -
                   final_field(b, "prompt_eval_duration") -
                   final_field(b, "eval_duration");
    assert_true(queue >= final_field(a, "eval_duration"));
    xfer_free(x, 2);
}

static void test_num_parallel_2_overlaps(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, SCALE);
    o.num_parallel = 2;
    o.contention = 0;
    xfer x[2];
    two_requests(&o, 1, x);
    assert_true(x[0].t_first < x[1].t_done && x[1].t_first < x[0].t_done);
    xfer_free(x, 2);
}

static void test_independent_instances_overlap(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 2, SCALE);
    xfer x[2];
    two_requests(&o, 0, x);
    assert_true(x[0].t_first < x[1].t_done && x[1].t_first < x[0].t_done);
    for (int i = 0; i < 2; i++) {
        double eval_ms = final_field(&x[i], "eval_duration") / MS;
        assert_true(eval_ms >= SOLO_EVAL_MS * 0.99);
        assert_true(eval_ms < SOLO_EVAL_MS * 1.25 + 10);
    }
    xfer_free(x, 2);
}

static void shared(double contention, double factor)
{
    emu_options o;
    test_opts(&o, 2, SCALE);
    o.shared_gpu = 1;
    o.contention = contention;
    xfer x[2];
    two_requests(&o, 0, x);
    for (int i = 0; i < 2; i++) {
        double eval_ms = final_field(&x[i], "eval_duration") / MS;
        double want = SOLO_EVAL_MS / factor;
        /* Slack for the edges: k changes take effect from the next token,
         * and on a loaded machine the two requests may start a few ms
         * apart (the head start runs at full speed). 0.75 still tells
         * g(2) = 0.41 (80.7 ms) and 0.5 (65.6 ms) from solo (32.8 ms). */
        assert_true(eval_ms >= want * 0.75);
        assert_true(eval_ms < want * 1.2 + 10);
    }
    xfer_free(x, 2);
}

static void test_shared_gpu_default_contention(void **state)
{
    (void)state;
    /* g(2) = 2^-1.3 = 0.4061 (hand: e^(-1.3 ln 2) = e^-0.9011) */
    shared(1.3, 0.4061);
}

static void test_shared_gpu_time_slicing(void **state)
{
    (void)state;
    shared(1.0, 0.5);
}

static void test_shared_gpu_no_contention(void **state)
{
    (void)state;
    shared(0.0, 1.0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serialized),
        cmocka_unit_test(test_num_parallel_2_overlaps),
        cmocka_unit_test(test_independent_instances_overlap),
        cmocka_unit_test(test_shared_gpu_default_contention),
        cmocka_unit_test(test_shared_gpu_time_slicing),
        cmocka_unit_test(test_shared_gpu_no_contention),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
