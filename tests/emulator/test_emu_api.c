/* Routes, the byte-level stream format, errors, the trace file and
 * determinism, against an in-process emulator (time scale 20). Expected
 * timings are computed by hand from the model in emulator/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    test_opts(&o, 1, SCALE);
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

static xfer get(const char *path) { return xfer_one(PORT, path, NULL); }
static xfer post(const char *path, const char *body) { return xfer_one(PORT, path, body); }

static void test_root(void **state)
{
    (void)state;
    raw_result r;
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_exchange(PORT, req, sizeof req - 1, &r, 2000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "Ollama is running");
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    raw_free(&r);

    xfer h = {.port = PORT, .path = "/", .head = 1};
    xfer_run(&h, 1);
    assert_int_equal(h.curl_rc, 0);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.len, 0);
    xfer_free(&h, 1);
}

static void test_version_tags(void **state)
{
    (void)state;
    xfer x = get("/api/version");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "version")));
    cJSON_Delete(j);
    xfer_free(&x, 1);

    x = get("/api/tags");
    assert_int_equal(x.status, 200);
    j = cJSON_Parse(x.data);
    cJSON *models = cJSON_GetObjectItem(j, "models");
    /* The default catalogue: gemma3 and a tool/thinking model (issue 19). */
    assert_int_equal(cJSON_GetArraySize(models), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(models, 1),
                                            "name")->valuestring,
                        "qwen3:latest");
    cJSON *m = cJSON_GetArrayItem(models, 0);
    char *line = cJSON_PrintUnformatted(m);
    /* ListModelResponse's order, capabilities last. */
    static const char *const keys[] = {"name", "model", "modified_at",
                                       "size", "digest", "details",
                                       "capabilities"};
    assert_true(keys_in_order(line, keys, 7));
    cJSON_free(line);
    assert_string_equal(cJSON_GetObjectItem(m, "name")->valuestring,
                        "gemma3:latest");
    assert_int_equal(strlen(cJSON_GetObjectItem(m, "digest")->valuestring),
                     64);
    cJSON *d = cJSON_GetObjectItem(m, "details");
    assert_string_equal(cJSON_GetObjectItem(d, "family")->valuestring,
                        "gemma3");
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

static void test_404_405(void **state)
{
    (void)state;
    xfer x = get("/api/nothing");
    assert_int_equal(x.status, 404);
    xfer_free(&x, 1);
    x = get("/api/generate");
    assert_int_equal(x.status, 405);
    xfer_free(&x, 1);
    x = post("/", "{}");
    assert_int_equal(x.status, 405);
    xfer_free(&x, 1);
    x = post("/api/tags", "{}");
    assert_int_equal(x.status, 405);
    xfer_free(&x, 1);
}

static void check_created_at(const char *line)
{
    cJSON *j = cJSON_Parse(line);
    const char *c = cJSON_GetObjectItem(j, "created_at")->valuestring;
    /* Go's RFC3339Nano: 2026-11-26T16:54:54.123456789Z with the trailing
     * zeros of the fraction trimmed (and no '.' when it is 0). */
    size_t len = strlen(c);
    assert_true(len >= 20 && len <= 30);
    assert_int_equal(c[10], 'T');
    assert_int_equal(c[len - 1], 'Z');
    if (len > 20) {
        assert_int_equal(c[19], '.');
        assert_true(c[len - 2] != '0');
    }
    cJSON_Delete(j);
}

/* First request on a fresh emulator: pays the load. Runs before /api/ps
 * and the other generate tests (cmocka runs tests in order). */
static void test_stream_format_generate(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/api/generate",
             "{\"model\":\"gemma3\",\"prompt\":\"hello\","
             "\"options\":{\"num_predict\":5}}",
             NULL, &r, 5000);
    assert_int_equal(r.status, 200);
    assert_true(r.parse_ok);
    assert_string_equal(r.content_type, "application/x-ndjson");
    assert_string_equal(r.transfer_encoding, "chunked");
    /* 5 token lines + the final line, one chunk each. */
    assert_int_equal(r.n_chunks, 6);
    for (int i = 0; i < r.n_chunks; i++) {
        raw_chunk *k = &r.chunks[i];
        assert_int_equal(k->data[k->len - 1], '\n');
        assert_ptr_equal(memchr(k->data, '\n', k->len), k->data + k->len - 1);
    }
    /* Status line and headers travel with the first token line. */
    assert_int_equal(r.headers_read_no, r.chunks[0].read_no);
    assert_int_equal(r.headers_read_no, 1);
    /* Nothing arrives before load (0.4 s) + prompt eval (10 tokens / 1500
     * + 0.3 s) + one token (1/122 s), all / 20: 20 + 15.33 + 0.41 ms. */
    double ttfb = (double)(r.t_first_byte - r.t_sent);
    assert_true(ttfb >= 35.5 * MS);
    assert_true(ttfb < 35.7 * MS + 30 * MS);

    static const char *const tok_keys[] = {"model", "created_at", "response",
                                           "done"};
    for (int i = 0; i < 5; i++) {
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)r.chunks[i].len,
                 r.chunks[i].data);
        assert_true(keys_in_order(line, tok_keys, 4));
        check_created_at(line);
        assert_non_null(strstr(line, "\"model\":\"gemma3\""));
        assert_non_null(strstr(line, "\"done\":false"));
    }
    static const char *const fin_keys[] = {
        "model", "created_at", "response", "done", "done_reason", "context",
        "total_duration", "load_duration", "prompt_eval_count",
        "prompt_eval_duration", "eval_count", "eval_duration"};
    const char *fin = r.chunks[5].data;
    assert_true(keys_in_order(fin, fin_keys, 12));
    cJSON *j = cJSON_Parse(fin);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "done")));
    assert_string_equal(cJSON_GetObjectItem(j, "response")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring,
                        "length");
    /* prompt "hello": (5 + 3) / 4 = 2 tokens + 8 template tokens. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "context")),
                     10 + 5);
    cJSON_Delete(j);
    double total = json_num(fin, "total_duration");
    double load = json_num(fin, "load_duration");
    double prompt = json_num(fin, "prompt_eval_duration");
    double eval = json_num(fin, "eval_duration");
    assert_int_equal((int)json_num(fin, "prompt_eval_count"), 10);
    assert_int_equal((int)json_num(fin, "eval_count"), 5);
    /* Integers, in ns, printed without fraction or exponent. */
    assert_null(strstr(fin, "e+"));
    assert_non_null(strstr(fin, "\"eval_count\":5,"));
    /* The queue wait (total - load - prompt - eval) is ~0 here. */
    double queue = total - load - prompt - eval;
    assert_true(queue >= 0 && queue < 1 * MS);
    assert_true(load >= 19.9 * MS && load < 21 * MS);
    /* (10/1500 + 0.3) / 20 = 15.333 ms */
    assert_true(prompt >= 15.3 * MS && prompt < 15.4 * MS);
    /* 5 tokens at 122*20 tok/s: 2.049 ms (+ lag of the last one). */
    if (!(eval >= 2.04 * MS && eval < 12 * MS))
        fprintf(stderr, "eval %.0f ns\n", eval);
    assert_true(eval >= 2.04 * MS && eval < 12 * MS);
    /* Consistent with what the client saw. */
    assert_true(total <= (double)(r.t_end - r.t_sent));
    raw_free(&r);
}

static void test_stream_format_chat(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/api/chat",
             "{\"model\":\"gemma3:latest\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"12345678\"}],\"options\":{\"num_predict\":3}}",
             NULL, &r, 5000);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_chunks, 4);
    static const char *const tok_keys[] = {"model", "created_at", "message",
                                           "done"};
    for (int i = 0; i < 3; i++) {
        assert_true(keys_in_order(r.chunks[i].data, tok_keys, 4));
        assert_non_null(strstr(r.chunks[i].data,
                               "\"message\":{\"role\":\"assistant\","
                               "\"content\":\""));
    }
    /* api.ChatResponse: Done before DoneReason (issue 19). */
    static const char *const fin_keys[] = {
        "model", "created_at", "message", "done", "done_reason",
        "total_duration", "load_duration", "prompt_eval_count",
        "prompt_eval_duration", "eval_count", "eval_duration"};
    assert_true(keys_in_order(r.chunks[3].data, fin_keys, 11));
    /* Loaded by the previous test: no load this time, yet Ollama reports
     * the (small) time to get the runner, checkpointLoaded -
     * checkpointStart, always. */
    assert_non_null(strstr(r.chunks[3].data, "\"load_duration\":"));
    assert_true(json_num(r.chunks[3].data, "load_duration") < 5e6);
    /* "12345678": 8 bytes -> (8+3)/4 = 2, + 8 */
    assert_int_equal((int)json_num(r.chunks[3].data, "prompt_eval_count"),
                     10);
    raw_free(&r);
}

static void test_ps_after_load(void **state)
{
    (void)state;
    xfer x = get("/api/ps");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    cJSON *models = cJSON_GetObjectItem(j, "models");
    assert_int_equal(cJSON_GetArraySize(models), 1);
    cJSON *m = cJSON_GetArrayItem(models, 0);
    assert_string_equal(cJSON_GetObjectItem(m, "name")->valuestring,
                        "gemma3:latest");
    assert_non_null(cJSON_GetObjectItem(m, "expires_at"));
    assert_non_null(cJSON_GetObjectItem(m, "size_vram"));
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

static void test_no_stream(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/api/generate",
             "{\"model\":\"gemma3\",\"prompt\":\"hi\",\"stream\":false,"
             "\"options\":{\"num_predict\":4}}",
             NULL, &r, 5000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    assert_int_equal(r.content_length_hdr, (long long)r.body_len);
    assert_int_equal(r.n_chunks, 0);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "done")));
    assert_int_equal(cJSON_GetObjectItem(j, "eval_count")->valuedouble, 4);
    /* Four words of the vocabulary, each starting with a space or '.'/','. */
    assert_true(strlen(cJSON_GetObjectItem(j, "response")->valuestring) >= 4);
    cJSON_Delete(j);
    raw_free(&r);
}

static void test_load_only(void **state)
{
    (void)state;
    xfer x = post("/api/generate", "{\"model\":\"gemma3\"}");
    assert_int_equal(x.status, 200);
    static const char *const keys[] = {"model", "created_at", "response",
                                       "done", "done_reason"};
    assert_true(keys_in_order(x.data, keys, 5));
    assert_non_null(strstr(x.data, "\"done_reason\":\"load\""));
    xfer_free(&x, 1);
}

static void expect_error(const char *path, const char *body, long status,
                         const char *msg)
{
    xfer x = post(path, body);
    assert_int_equal(x.status, status);
    cJSON *j = cJSON_Parse(x.data);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    assert_true(cJSON_IsString(e));
    if (msg)
        assert_string_equal(e->valuestring, msg);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("/api/generate", "", 400, "missing request body");
    expect_error("/api/chat", "", 400, "missing request body");
    /* Go encoding/json's messages, as Ollama returns them. */
    expect_error("/api/generate", "{\"model\":", 400, "unexpected EOF");
    expect_error("/api/generate", "xyz", 400,
                 "invalid character 'x' looking for beginning of value");
    expect_error("/api/generate", "{\"model\":x}", 400,
                 "invalid character 'x' looking for beginning of value");
    expect_error("/api/generate", "{\"model\":1}", 400,
                 "json: cannot unmarshal number into Go struct field "
                 "GenerateRequest.model of type string");
    /* routes.go: generate without a model is a 404, chat a 400. */
    expect_error("/api/generate", "{\"prompt\":\"x\"}", 404,
                 "model '' not found");
    expect_error("/api/chat", "{\"messages\":[]}", 400,
                 "model is required");
    expect_error("/api/generate",
                 "{\"model\":\"gemma3\",\"prompt\":\"x\",\"keep_alive\":\"5x\"}",
                 400, "time: unknown unit \"x\" in duration \"5x\"");
    expect_error("/api/generate",
                 "{\"model\":\"gemma3\",\"prompt\":\"x\",\"keep_alive\":true}",
                 400, "Unsupported type: 'bool'");
    expect_error("/api/generate", "{\"model\":\"llama3\",\"prompt\":\"x\"}",
                 404, "model 'llama3' not found");
    expect_error("/api/chat", "{\"model\":\"gemma3:27b\",\"messages\":[]}",
                 404, "model 'gemma3:27b' not found");
    expect_error("/api/generate",
                 "{\"model\":\"gemma3\",\"prompt\":\"x\",\"options\":"
                 "{\"num_ctx\":\"2048\"}}",
                 500, "option \"num_ctx\" must be of type integer");
    expect_error("/api/chat",
                 "{\"model\":\"gemma3\",\"messages\":[],\"options\":"
                 "{\"temperature\":\"hot\"}}",
                 500, "option \"temperature\" must be of type float32");
    expect_error("/api/generate",
                 "{\"model\":\"gemma3\",\"prompt\":\"x\",\"options\":"
                 "{\"parbench_fault\":\"explode\"}}",
                 400, NULL);
}

static void test_trace(void **state)
{
    (void)state;
    char path[] = "/tmp/emu-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    emu_options o;
    test_opts(&o, 1, SCALE);
    strcpy(o.trace_path, path);
    emu_t *e = test_start(&o);
    assert_non_null(e);
    raw_result r;
    raw_post(emu_port(e, 0), "/api/generate",
             "{\"model\":\"gemma3\",\"prompt\":\"x\",\"options\":"
             "{\"num_predict\":3}}",
             "X-Parbench-Request: req-42\r\n", &r, 5000);
    assert_int_equal(r.n_chunks, 4);
    assert_int_equal(emu_stop(e), 0);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(line[0], '#');
    unsigned long long prev = 0;
    for (int i = 1; i <= 4; i++) {
        int inst, idx;
        char id[64];
        unsigned long long ns;
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(sscanf(line, "%d\t%63s\t%d\t%llu", &inst, id, &idx,
                                &ns),
                         4);
        assert_int_equal(inst, 0);
        assert_string_equal(id, "req-42");
        assert_int_equal(idx, i);
        /* Written before the client received the chunk, same clock. */
        assert_true(ns >= r.t_sent && ns <= r.chunks[i - 1].t);
        assert_true(ns > prev);
        prev = ns;
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    raw_free(&r);
}

/* Lengths come from the seeded distribution: same seed, same text. */
static char *run_once(uint64_t seed)
{
    emu_options o;
    test_opts(&o, 1, 100);
    o.seed = seed;
    o.len_mean = 12;
    o.len_sd = 4;
    o.jitter = 0.1;
    emu_t *e = test_start(&o);
    xfer x = {.port = emu_port(e, 0), .path = "/api/generate",
              .body = "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":false}"};
    xfer_run(&x, 1);
    assert_int_equal(emu_stop(e), 0);
    cJSON *j = cJSON_Parse(x.data);
    char *s = strdup(cJSON_GetObjectItem(j, "response")->valuestring);
    assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring,
                        "stop");
    cJSON_Delete(j);
    xfer_free(&x, 1);
    return s;
}

static void test_determinism(void **state)
{
    (void)state;
    char *a = run_once(7), *b = run_once(7), *c = run_once(8);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

/* eval_count of one generate request on instance i with the given body. */
static int eval_count_on(emu_t *e, int i, const char *body)
{
    xfer x = {.port = emu_port(e, i), .path = "/api/generate", .body = body};
    xfer_run(&x, 1);
    char *lines[2048];
    int n = split_lines(x.data, x.len, lines, 2048);
    int count = n > 0 ? (int)json_num(lines[n - 1], "eval_count") : -1;
    xfer_free(&x, 1);
    return count;
}

/* options.seed makes the response a function of (--seed, options.seed,
 * prompt), as Ollama's seeded sampling: the same request gives the same
 * length on another instance and at another time, which is what lets
 * collect pair a solo request with a concurrent one. */
static void test_seeded_sampling(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 2, 200);
    o.len_mean = 60;
    o.len_sd = 20;
    emu_t *e = test_start(&o);
    const char *s1 = "{\"model\":\"gemma3\",\"prompt\":\"p\",\"options\":{\"seed\":41}}";
    int a0 = eval_count_on(e, 0, s1), a1 = eval_count_on(e, 1, s1);
    int a0again = eval_count_on(e, 0, s1);
    assert_true(a0 > 0);
    assert_int_equal(a0, a1);
    assert_int_equal(a0, a0again);
    /* Another seed: lengths are N(60, 20) draws, so of five other seeds at
     * least one differs (all equal has probability well below 1e-6). */
    int differs = 0;
    char body[128];
    for (int k = 0; k < 5; k++) {
        snprintf(body, sizeof body,
                 "{\"model\":\"gemma3\",\"prompt\":\"p\",\"options\":{\"seed\":%d}}", 100 + k);
        differs |= eval_count_on(e, 0, body) != a0;
    }
    assert_true(differs);
    assert_int_equal(emu_stop(e), 0);
}

static void test_fixed_length(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 100);
    o.len_mean = 7;
    o.len_sd = 0;
    emu_t *e = test_start(&o);
    xfer x = {.port = emu_port(e, 0), .path = "/api/chat",
              .body = "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                      "\"content\":\"x\"}]}"};
    xfer_run(&x, 1);
    char *lines[32];
    int n = split_lines(x.data, x.len, lines, 32);
    assert_int_equal(n, 8);
    assert_int_equal((int)json_num(lines[7], "eval_count"), 7);
    assert_non_null(strstr(lines[7], "\"done_reason\":\"stop\""));
    xfer_free(&x, 1);
    assert_int_equal(emu_stop(e), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_version_tags),
        cmocka_unit_test(test_404_405),
        cmocka_unit_test(test_stream_format_generate),
        cmocka_unit_test(test_stream_format_chat),
        cmocka_unit_test(test_ps_after_load),
        cmocka_unit_test(test_no_stream),
        cmocka_unit_test(test_load_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_fixed_length),
        cmocka_unit_test(test_seeded_sampling),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
