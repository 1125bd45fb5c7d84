/* Unit tests of the pure parts: g(k), fault specs, flags, the vocabulary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <regex.h>

#include <cmocka.h>

#include "emu_internal.h"

static void test_gpu_factor(void **state)
{
    (void)state;
    assert_true(emu_gpu_factor(0, 1.3) == 1.0);
    assert_true(emu_gpu_factor(1, 1.3) == 1.0);
    /* 2^-1.3 = 0.40613 (hand: e^(-1.3 * 0.693147)) */
    assert_true(fabs(emu_gpu_factor(2, 1.3) - 0.40613) < 1e-4);
    assert_true(emu_gpu_factor(4, 1.0) == 0.25);
    assert_true(emu_gpu_factor(8, 0.0) == 1.0);
    /* The calibration: two instances sharing a GPU get 41-57 tok/s. */
    emu_options o;
    emu_options_init(&o);
    double each = o.decode_rate * emu_gpu_factor(2, o.contention);
    assert_true(each >= 41 && each <= 57);
    assert_true(o.decode_rate == 122);
}

static void test_token_interval(void **state)
{
    (void)state;
    emu_options o;
    emu_options_init(&o);
    o.jitter = 0;
    o.time_scale = 2;
    emu_gpu g = {.k = 1, .runners = 1};
    /* 1 / (122 * 2) s = 4098361 ns */
    assert_int_equal(emu_gpu_token_ns(&o, &g, 1, NULL), 4098361);
    /* Two runners time-slicing at C = 1: half the rate each. */
    g.k = 2;
    g.runners = 2;
    o.contention = 1;
    assert_int_equal(emu_gpu_token_ns(&o, &g, 1, NULL), 8196721);
    /* Two streams batched in one runner at B = 0.5: 1e9 / (244 / sqrt 2)
     * = 5795957 ns (hand: 244 * 0.70710678 = 172.53405). */
    g.runners = 1;
    o.batching = 0.5;
    assert_int_equal(emu_gpu_token_ns(&o, &g, 2, NULL), 5795957);
}

static void test_gpu_rate_formulas(void **state)
{
    (void)state;
    /* Issue 11: at the same stream count (2), batching in one runner
     * beats time-slicing across two: aggregate 2 * 2^-B vs 2 * 2^-C. With
     * the defaults B = 0.5, C = 1.3: 1.414 x R1 vs 0.812 x R1. */
    emu_options o;
    emu_options_init(&o);
    double batched = 2 * emu_gpu_rate(2, 1, o.batching, o.contention);
    double sliced = 2 * emu_gpu_rate(1, 2, o.batching, o.contention);
    assert_true(fabs(batched - 1.41421356) < 1e-6);
    assert_true(fabs(sliced - 0.81225) < 1e-4); /* 2^-0.3 = 0.812252 */
    assert_true(batched > sliced);
    /* One stream per runner: the old k^-C exactly. */
    assert_true(emu_gpu_rate(1, 3, 0.5, 1.3) == emu_gpu_factor(3, 1.3));
    /* Both at once: 2 runners with 4 streams each at B = 0.5, C = 1:
     * 4^-0.5 * 2^-1 = 0.25. */
    assert_true(fabs(emu_gpu_rate(4, 2, 0.5, 1.0) - 0.25) < 1e-12);
}

static void test_duration_parse(void **state)
{
    (void)state;
    double d;
    char err[128];
    /* Go's time.ParseDuration, by hand. */
    assert_int_equal(emu_duration_parse("5m", &d, err, sizeof err), 0);
    assert_true(d == 300);
    assert_int_equal(emu_duration_parse("1h2m3.5s", &d, err, sizeof err), 0);
    assert_true(fabs(d - 3723.5) < 1e-9);
    assert_int_equal(emu_duration_parse("-1.5h", &d, err, sizeof err), 0);
    assert_true(d == -5400);
    assert_int_equal(emu_duration_parse("300ms", &d, err, sizeof err), 0);
    assert_true(fabs(d - 0.3) < 1e-12);
    assert_int_equal(emu_duration_parse("0", &d, err, sizeof err), 0);
    assert_true(d == 0);
    assert_int_equal(emu_duration_parse(".5us", &d, err, sizeof err), 0);
    assert_true(fabs(d - 5e-7) < 1e-15);
    assert_int_equal(emu_duration_parse("abc", &d, err, sizeof err), -1);
    assert_string_equal(err, "time: invalid duration \"abc\"");
    assert_int_equal(emu_duration_parse("5", &d, err, sizeof err), -1);
    assert_string_equal(err, "time: missing unit in duration \"5\"");
    assert_int_equal(emu_duration_parse("5x", &d, err, sizeof err), -1);
    assert_string_equal(err, "time: unknown unit \"x\" in duration \"5x\"");
    assert_int_equal(emu_duration_parse("", &d, err, sizeof err), -1);
    assert_int_equal(emu_duration_parse("1.s", &d, err, sizeof err), 0);
    assert_true(d == 1);
}

static void test_fault_parse(void **state)
{
    (void)state;
    emu_fault f;
    char err[256];
    assert_int_equal(emu_fault_parse("", &f, err, sizeof err), 0);
    assert_int_equal(f.kind, EMU_FAULT_NONE);
    assert_int_equal(emu_fault_parse("reset_after:5", &f, err, sizeof err), 0);
    assert_int_equal(f.kind, EMU_FAULT_RESET_AFTER);
    assert_int_equal(f.k, 5);
    assert_int_equal(emu_fault_parse("stall:2.5", &f, err, sizeof err), 0);
    assert_int_equal(f.kind, EMU_FAULT_STALL);
    assert_true(f.seconds == 2.5 && !f.close && f.k == 1);
    assert_int_equal(emu_fault_parse("stall:1:close@3", &f, err, sizeof err),
                     0);
    assert_true(f.seconds == 1 && f.close && f.k == 3);
    assert_int_equal(emu_fault_parse("delay_headers:0.5", &f, err, sizeof err),
                     0);
    assert_true(f.kind == EMU_FAULT_DELAY_HEADERS && f.seconds == 0.5);
    const char *ok[] = {"down", "truncate_final", "http500", "busy503",
                        "malformed_line:1", "garbage:0", "error_after:2"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        assert_int_equal(emu_fault_parse(ok[i], &f, err, sizeof err), 0);
    const char *bad[] = {"boom", "reset_after", "reset_after:-1",
                         "reset_after:x", "stall:1:open", "malformed_line:0",
                         "down:3", "delay_headers:abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(emu_fault_parse(bad[i], &f, err, sizeof err), -1);
        assert_non_null(strstr(err, "invalid fault spec"));
    }
}

static int parse(emu_options *o, const char *const *args, int n, char *err)
{
    char *argv[32];
    argv[0] = "ollama-emu";
    for (int i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    return emu_options_parse(o, n + 1, argv, err, 256);
}

static void test_options(void **state)
{
    (void)state;
    emu_options o;
    char err[256];
    emu_options_init(&o);
    assert_int_equal(o.n_instances, 1);
    assert_int_equal(o.port[0], 11434);
    assert_int_equal(o.num_parallel, 1);
    assert_int_equal(o.max_queue, 512);
    assert_int_equal(o.shared_gpu, 0);

    const char *a[] = {"--listen", "127.0.0.1:0", "--listen=127.0.0.1:11435",
                       "--shared-gpu", "--time-scale", "5", "--fault",
                       "1=stall:2", "--model", "x:1b", "--seed", "9",
                       "--contention=0.5", "--ideal"};
    assert_int_equal(parse(&o, a, 14, err), 0);
    assert_int_equal(o.n_instances, 2);
    assert_int_equal(o.port[1], 11435);
    assert_string_equal(o.host[1], "127.0.0.1");
    /* --ideal is applied first: explicit flags win wherever they stand. */
    assert_int_equal(o.shared_gpu, 1);
    assert_true(o.contention == 0.5);
    assert_true(o.jitter == 0 && o.len_sd == 0);
    assert_true(o.time_scale == 5);
    assert_string_equal(o.fault[1], "stall:2");
    assert_int_equal(o.n_models, 1);
    assert_string_equal(o.models[0], "x:1b");
    assert_int_equal(o.seed, 9);

    const char *bad[][2] = {{"--time-scale", "0"}, {"--listen", "nohost"},
                            {"--fault", "7=down"}, {"--num-parallel", "x"},
                            {"--what", "1"},       {"--instances", "65"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        emu_options_init(&o);
        err[0] = '\0';
        assert_int_equal(parse(&o, bad[i], 2, err), -1);
        assert_true(strlen(err) > 10);
    }
    emu_options_init(&o);
    const char *missing[] = {"--seed"};
    assert_int_equal(parse(&o, missing, 1, err), -1);
    assert_non_null(strstr(err, "needs a value"));

    emu_options_ideal(&o);
    assert_true(o.contention == 0 && o.jitter == 0 && o.len_sd == 0 &&
                !o.shared_gpu && o.decode_rate == 122);
}

static void test_vocab_needs_no_escaping(void **state)
{
    (void)state;
    for (size_t i = 0; i < emu_vocab_len; i++)
        for (const char *p = emu_vocab[i]; *p; p++)
            assert_true(*p >= 0x20 && *p != '"' && *p != '\\');
}

static void test_start_errors(void **state)
{
    (void)state;
    emu_options o;
    char err[256];
    emu_options_init(&o);
    o.port[0] = 0;
    strcpy(o.host[0], "not-an-ip");
    assert_null(emu_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen on not-an-ip:0"));
    emu_options_init(&o);
    o.port[0] = 0;
    strcpy(o.fault[0], "explode");
    assert_null(emu_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "invalid fault spec"));
    emu_options_init(&o);
    o.port[0] = 0;
    strcpy(o.trace_path, "/nonexistent-dir/trace.tsv");
    assert_null(emu_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "cannot open trace file"));
    /* Same port twice: the second listener fails, everything is undone. */
    emu_options_init(&o);
    o.port[0] = 0;
    emu_t *e = emu_start(&o, err, sizeof err);
    assert_non_null(e);
    o.n_instances = 2;
    o.port[0] = 0;
    strcpy(o.host[1], "127.0.0.1");
    o.port[1] = emu_port(e, 0);
    assert_null(emu_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "address already in use"));
    assert_int_equal(emu_stop(e), 0);
}

/* The final line's context array holds prompt + response token ids. With
 * more than INT_MAX / 7919 (~271 000) of them the id formula overflowed a
 * signed int (undefined behaviour; in practice ids below 100). A 1 MB
 * prompt is ~262 000 tokens and num_predict may be up to 1 000 000. */
static void test_final_line_many_context_ids(void **state)
{
    (void)state;
    emu_req r;
    memset(&r, 0, sizeof r);
    char model[] = "\"gemma3:latest\"";
    r.model_json = model;
    r.prompt_tokens = 262152;
    r.n_sent = 20000;
    emu_buf b = {0};
    emu_stream_final_line(&b, &r, "", 0, 0);
    const char *ctx = strstr(b.data, "\"context\":[");
    assert_non_null(ctx);
    const char *p = ctx + strlen("\"context\":[");
    long count = 0, bad = 0;
    while (*p && *p != ']') {
        char *end;
        long v = strtol(p, &end, 10);
        assert_true(end > p);
        if (v < 100 || v >= 100 + 262000)
            bad++;
        count++;
        p = *end == ',' ? end + 1 : end;
    }
    assert_int_equal(count, r.prompt_tokens + r.n_sent);
    assert_int_equal(bad, 0);
    emu_buf_free(&b);
}

/* emu_regex: strings drawn for a JSON-schema pattern match it, checked by
 * the C library's POSIX regex engine on an equivalent ERE (the
 * independent judge), whole-string. */
static void test_regex_sample(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"^[A-Z]{3}-\\d{4}$", "^[A-Z]{3}-[0-9]{4}$"},
        {"^(foo|bar)+baz?$", "^(foo|bar)+baz?$"},
        {"^[a-z0-9._%+-]+@[a-z]+\\.com$", "^[a-z0-9._%+-]+@[a-z]+[.]com$"},
        {"^[^@]+@[^@]+$", "^[^@]+@[^@]+$"},
        {"^(?:v\\d+)(?<minor>\\.\\d{1,2})*?$", "^(v[0-9]+)([.][0-9]{1,2})*$"},
        {"\\w{2,5}_\\S", "^[A-Za-z0-9_]{2,5}_[^ \t\n]$"},
        {"^[\"\\\\]{3}$", "^[\"\\]{3}$"},
        {"a.c|x[0-9a-f]{8}", "^(a[a-z0-9]c|x[0-9a-f]{8})$"},
    };
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        regex_t re;
        assert_int_equal(regcomp(&re, cases[i][1], REG_EXTENDED | REG_NOSUB), 0);
        for (unsigned long k = 0; k < 50; k++) {
            gsl_rng_set(rng, k + 1);
            emu_buf b = {0};
            assert_int_equal(emu_regex_sample(cases[i][0], rng, &b), 0);
            emu_buf_append(&b, "", 1);
            if (regexec(&re, b.data, 0, NULL, 0) != 0)
                fail_msg("pattern %s drew \"%s\"", cases[i][0], b.data);
            emu_buf_free(&b);
        }
        regfree(&re);
    }
    /* Outside the subset: refused, nothing written. */
    static const char *const bad[] = {"(?=a)b", "\\bfoo", "(a)\\1", "a{2",
                                      "*a", "[z-a]", "\\p{L}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        emu_buf b = {0};
        assert_int_equal(emu_regex_sample(bad[i], rng, &b), -1);
        assert_int_equal(b.len, 0);
        emu_buf_free(&b);
    }
    /* Through the schema: a JSON string (quotes and backslashes escaped)
     * that matches. */
    cJSON *schema = cJSON_Parse("{\"type\":\"string\","
                                "\"pattern\":\"^[\\\"\\\\\\\\]{3}x$\"}");
    assert_non_null(schema);
    emu_buf out = {0};
    emu_schema_value(&out, schema, rng);
    emu_buf_append(&out, "", 1);
    cJSON *v = cJSON_Parse(out.data);
    assert_true(cJSON_IsString(v));
    assert_int_equal(strlen(v->valuestring), 4);
    assert_int_equal(strspn(v->valuestring, "\"\\"), 3);
    cJSON_Delete(v);
    cJSON_Delete(schema);
    emu_buf_free(&out);
    gsl_rng_free(rng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_factor),
        cmocka_unit_test(test_token_interval),
        cmocka_unit_test(test_gpu_rate_formulas),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_fault_parse),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_vocab_needs_no_escaping),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_final_line_many_context_ids),
        cmocka_unit_test(test_regex_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
