/* Issue 11: the routes beyond generate/chat (show, pull, embed,
 * embeddings, a settable version), the X-Parbench-Emulator header (issue
 * 9), created_at as Go's RFC3339Nano, capped num_predict, and Ollama's
 * environment variables. Expected values are Ollama's (api/types.go,
 * server/routes.go, envconfig/config.go), not the emulator's output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "emu_test_util.h"

static emu_t *g_emu;

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 50);
    o.embed_dim = 8;
    strcpy(o.version_string, "9.9.9-test");
    g_emu = test_start(&o);
    return g_emu ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    /* A failed stop fails the group (cmocka reports the teardown). */
    return emu_stop(g_emu);
}

static xfer post(const char *path, const char *body)
{
    return xfer_one(emu_port(g_emu, 0), path, body);
}

static void test_version_and_header(void **state)
{
    (void)state;
    raw_result r;
    const char req[] = "GET /api/version HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n";
    raw_exchange(emu_port(g_emu, 0), req, sizeof req - 1, &r, 5000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"version\":\"9.9.9-test\"}");
    raw_free(&r);
}

static void test_header_bytes(void **state)
{
    (void)state;
    /* The identification header of issue 9, on a plain answer and on a
     * stream, read with the curl CLI (the test already needs it). */
    int port = emu_port(g_emu, 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "curl -s -D - -o /dev/null http://127.0.0.1:%d/api/tags", port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, p))
        if (!strncmp(line, "X-Parbench-Emulator: time-scale=50; preset=default",
                     50))
            found = 1;
    pclose(p);
    assert_true(found);
    snprintf(cmd, sizeof cmd,
             "curl -s -D - -o /dev/null http://127.0.0.1:%d/api/generate -d "
             "'{\"model\":\"gemma3\",\"prompt\":\"x\",\"options\":"
             "{\"num_predict\":2}}'", port);
    p = popen(cmd, "r");
    assert_non_null(p);
    found = 0;
    while (fgets(line, sizeof line, p))
        if (!strncmp(line, "X-Parbench-Emulator: time-scale=50; preset=default",
                     50))
            found = 1;
    pclose(p);
    assert_true(found);
}

static void test_show(void **state)
{
    (void)state;
    xfer x = post("/api/show", "{\"model\":\"gemma3\"}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    assert_non_null(j);
    const char *keys[] = {"modelfile", "parameters", "template", "details",
                          "model_info", "capabilities", "modified_at"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_non_null(cJSON_GetObjectItem(j, keys[i]));
    assert_true(keys_in_order(x.data, keys, 7));
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "details"), "format")->valuestring,
        "gguf");
    cJSON_Delete(j);
    xfer_free(&x, 1);
    x = post("/api/show", "{\"model\":\"nope\"}");
    assert_int_equal(x.status, 404);
    /* ShowHandler: DisplayShortest of the name, tag included. */
    assert_string_equal(x.data, "{\"error\":\"model 'nope:latest' not found\"}");
    xfer_free(&x, 1);
    x = post("/api/show", "{}");
    assert_int_equal(x.status, 400);
    assert_string_equal(x.data, "{\"error\":\"model is required\"}");
    xfer_free(&x, 1);
}

static void test_pull(void **state)
{
    (void)state;
    xfer x = post("/api/pull", "{\"model\":\"gemma3\"}");
    assert_int_equal(x.status, 200);
    char *lines[16];
    int n = split_lines(x.data, x.len, lines, 16);
    assert_true(n >= 2);
    assert_string_equal(lines[0], "{\"status\":\"pulling manifest\"}");
    assert_string_equal(lines[n - 1], "{\"status\":\"success\"}");
    xfer_free(&x, 1);
    x = post("/api/pull", "{\"model\":\"gemma3\",\"stream\":false}");
    assert_int_equal(x.status, 200);
    assert_string_equal(x.data, "{\"status\":\"success\"}");
    xfer_free(&x, 1);
    x = post("/api/pull", "{\"model\":\"nope\",\"stream\":false}");
    assert_int_equal(x.status, 500);
    xfer_free(&x, 1);
}

static void test_embed(void **state)
{
    (void)state;
    xfer x = post("/api/embed", "{\"model\":\"gemma3\",\"input\":[\"a\",\"bb\"]}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    const cJSON *em = cJSON_GetObjectItem(j, "embeddings");
    assert_int_equal(cJSON_GetArraySize(em), 2);
    const cJSON *v = cJSON_GetArrayItem(em, 0);
    assert_int_equal(cJSON_GetArraySize(v), 8);
    double norm = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, v) norm += f->valuedouble * f->valuedouble;
    assert_true(fabs(norm - 1) < 1e-5); /* Ollama normalises */
    /* prompt cost: "a" (1 token + 2) + "bb" (1 + 2) */
    assert_int_equal((int)cJSON_GetObjectItem(j, "prompt_eval_count")->valuedouble, 6);
    assert_true(cJSON_GetObjectItem(j, "total_duration")->valuedouble > 0);
    char *first = cJSON_PrintUnformatted(v);
    cJSON_Delete(j);
    xfer_free(&x, 1);
    /* Deterministic: the same request, the same vectors. */
    x = post("/api/embed", "{\"model\":\"gemma3\",\"input\":[\"a\",\"bb\"]}");
    j = cJSON_Parse(x.data);
    char *again = cJSON_PrintUnformatted(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "embeddings"), 0));
    assert_string_equal(first, again);
    cJSON_free(first);
    cJSON_free(again);
    cJSON_Delete(j);
    xfer_free(&x, 1);
    x = post("/api/embed", "{\"model\":\"gemma3\",\"input\":[1]}");
    assert_int_equal(x.status, 400);
    assert_string_equal(x.data, "{\"error\":\"invalid input type\"}");
    xfer_free(&x, 1);
    x = post("/api/embeddings", "{\"model\":\"gemma3\",\"prompt\":\"hello\"}");
    assert_int_equal(x.status, 200);
    j = cJSON_Parse(x.data);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "embedding")), 8);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

static void test_embed_limit(void **state)
{
    (void)state;
    /* Too many vectors for one answer: refused, not gigabytes of output.
     * At 65536 dimensions the limit (4 Mi floats) is 64 inputs. */
    emu_options o;
    test_opts(&o, 1, 50);
    o.embed_dim = 65536;
    emu_t *e = test_start(&o);
    char body[1024];
    size_t k = (size_t)sprintf(body, "{\"model\":\"gemma3\",\"input\":[");
    for (int i = 0; i < 65; i++)
        k += (size_t)sprintf(body + k, i ? ",\"a\"" : "\"a\"");
    strcpy(body + k, "]}");
    xfer x = {.port = emu_port(e, 0), .path = "/api/embed", .body = body};
    xfer_run(&x, 1);
    assert_int_equal(x.status, 400);
    assert_non_null(strstr(x.data, "at most 64 inputs"));
    xfer_free(&x, 1);
    assert_int_equal(emu_stop(e), 0);
}

static void test_created_at_and_cap(void **state)
{
    (void)state;
    /* A seeded request with a cap above its natural length (300 +- 80 at
     * the defaults) stops early with "stop"; a cap below it says "length". */
    xfer x = post("/api/generate",
                  "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":false,"
                  "\"options\":{\"seed\":7,\"num_predict\":100000}}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    int n = (int)cJSON_GetObjectItem(j, "eval_count")->valuedouble;
    assert_true(n >= 1 && n < 1000);
    assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring,
                        "stop");
    /* Go's RFC3339Nano: "2006-01-02T15:04:05.999999999Z", zeros trimmed. */
    const char *ts = cJSON_GetObjectItem(j, "created_at")->valuestring;
    size_t len = strlen(ts);
    assert_true(len >= 20 && len <= 30 && ts[len - 1] == 'Z');
    if (len > 20) {
        assert_true(ts[19] == '.' && ts[len - 2] != '0');
    }
    cJSON_Delete(j);
    xfer_free(&x, 1);
    x = post("/api/generate",
             "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":false,"
             "\"options\":{\"seed\":7,\"num_predict\":5}}");
    j = cJSON_Parse(x.data);
    assert_int_equal((int)cJSON_GetObjectItem(j, "eval_count")->valuedouble, 5);
    assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring,
                        "length");
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

static void test_env(void **state)
{
    (void)state;
    emu_options o;
    emu_options_init(&o);
    setenv("OLLAMA_NUM_PARALLEL", " \"4\" ", 1);
    setenv("OLLAMA_MAX_QUEUE", "junk", 1);
    setenv("OLLAMA_KEEP_ALIVE", "90", 1);
    setenv("OLLAMA_HOST", "0.0.0.0:12345", 1);
    setenv("OLLAMA_MAX_LOADED_MODELS", "2", 1);
    emu_options_env(&o);
    assert_int_equal(o.num_parallel, 4);
    assert_int_equal(o.max_queue, 512); /* invalid: default kept */
    assert_true(o.keep_alive_s == 90);  /* bare integer: seconds */
    assert_string_equal(o.host[0], "0.0.0.0");
    assert_int_equal(o.port[0], 12345);
    assert_int_equal(o.max_loaded, 2);
    setenv("OLLAMA_KEEP_ALIVE", "-1m", 1);
    setenv("OLLAMA_HOST", "http://[::1]", 1);
    emu_options_env(&o);
    assert_true(o.keep_alive_s < 0); /* negative: forever */
    assert_string_equal(o.host[0], "::1");
    assert_int_equal(o.port[0], 80); /* http:// without a port */
    /* Flags win. */
    char a0[] = "ollama-emu", a1[] = "--num-parallel", a2[] = "2";
    char *argv[] = {a0, a1, a2};
    char err[128];
    assert_int_equal(emu_options_parse(&o, 3, argv, err, sizeof err), 0);
    assert_int_equal(o.num_parallel, 2);
    unsetenv("OLLAMA_NUM_PARALLEL");
    unsetenv("OLLAMA_MAX_QUEUE");
    unsetenv("OLLAMA_KEEP_ALIVE");
    unsetenv("OLLAMA_HOST");
    unsetenv("OLLAMA_MAX_LOADED_MODELS");
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_header),
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_pull),
        cmocka_unit_test(test_embed),
        cmocka_unit_test(test_embed_limit),
        cmocka_unit_test(test_created_at_and_cap),
        cmocka_unit_test(test_env),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
