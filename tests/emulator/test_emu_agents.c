/* What agents send (issue 19): model capabilities, tool calls, structured
 * output and thinking, on /api/chat, /api/generate and /v1/chat/completions.
 * Expected shapes and texts are worked from Ollama's source (api/types.go,
 * server/routes.go, server/images.go CheckCapabilities, openai/openai.go,
 * middleware/openai.go). Generated JSON is checked by a small JSON-schema
 * validator written here, independently of emu_schema.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "emu_test_util.h"

static emu_t *E;
static int PORT;
/* Calls in an answer with --parallel-tool-calls 1 (emu_internal.h's
 * EMU_MAX_CALLS, the documented maximum). */
#define EMU_MAX_CALLS_TEST 4

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 50.0);
    o.load_s = 0;
    E = test_start(&o);
    if (!E)
        return -1;
    PORT = emu_port(E, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return emu_stop(E);
}

/* ---- an independent validator for the schema subset used below ---- */

static int validate(const cJSON *v, const cJSON *s, const cJSON *root)
{
    const cJSON *ref = cJSON_GetObjectItem(s, "$ref");
    if (cJSON_IsString(ref)) {
        const char *name = strrchr(ref->valuestring, '/') + 1;
        return validate(v, cJSON_GetObjectItem(cJSON_GetObjectItem(root, "$defs"), name), root);
    }
    const cJSON *en = cJSON_GetObjectItem(s, "enum");
    if (en) {
        const cJSON *e;
        cJSON_ArrayForEach(e, en) if (cJSON_Compare(e, v, 1)) return 1;
        return 0;
    }
    const cJSON *any = cJSON_GetObjectItem(s, "anyOf");
    if (any) {
        const cJSON *e;
        cJSON_ArrayForEach(e, any) if (validate(v, e, root)) return 1;
        return 0;
    }
    const cJSON *t = cJSON_GetObjectItem(s, "type");
    const char *ty = cJSON_IsString(t) ? t->valuestring : NULL;
    if (!ty)
        return 1;
    if (!strcmp(ty, "object")) {
        if (!cJSON_IsObject(v))
            return 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItem(s, "required"))
        {
            if (!cJSON_GetObjectItem(v, r->valuestring))
                return 0;
        }
        const cJSON *props = cJSON_GetObjectItem(s, "properties"), *m;
        cJSON_ArrayForEach(m, v)
        {
            const cJSON *ps = cJSON_GetObjectItem(props, m->string);
            if (!ps) {
                if (cJSON_IsFalse(cJSON_GetObjectItem(s, "additionalProperties")))
                    return 0;
                continue;
            }
            if (!validate(m, ps, root))
                return 0;
        }
        return 1;
    }
    if (!strcmp(ty, "array")) {
        if (!cJSON_IsArray(v))
            return 0;
        int n = cJSON_GetArraySize(v);
        const cJSON *mn = cJSON_GetObjectItem(s, "minItems"),
                    *mx = cJSON_GetObjectItem(s, "maxItems");
        if ((mn && n < mn->valueint) || (mx && n > mx->valueint))
            return 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) if (!validate(e, cJSON_GetObjectItem(s, "items"), root)) return 0;
        return 1;
    }
    if (!strcmp(ty, "string")) {
        if (!cJSON_IsString(v))
            return 0;
        size_t n = strlen(v->valuestring);
        const cJSON *mn = cJSON_GetObjectItem(s, "minLength"),
                    *mx = cJSON_GetObjectItem(s, "maxLength");
        return !((mn && n < (size_t)mn->valueint) || (mx && n > (size_t)mx->valueint));
    }
    if (!strcmp(ty, "integer") || !strcmp(ty, "number")) {
        if (!cJSON_IsNumber(v))
            return 0;
        double d = v->valuedouble;
        if (!strcmp(ty, "integer") && d != floor(d))
            return 0;
        const cJSON *mn = cJSON_GetObjectItem(s, "minimum"),
                    *mx = cJSON_GetObjectItem(s, "maximum");
        return !((mn && d < mn->valuedouble) || (mx && d > mx->valuedouble));
    }
    if (!strcmp(ty, "boolean"))
        return cJSON_IsBool(v);
    return 0;
}

static const char WEATHER_TOOL[] =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
    "\"description\":\"weather\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"city\":{\"type\":\"string\",\"minLength\":3,"
    "\"maxLength\":12},\"unit\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"]},"
    "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},"
    "\"required\":[\"city\",\"unit\",\"days\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"search\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"query\":"
    "{\"type\":\"string\"},\"filters\":{\"type\":\"object\",\"properties\":"
    "{\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"minItems\":1,\"maxItems\":3},\"exact\":{\"type\":\"boolean\"}},"
    "\"required\":[\"tags\",\"exact\"]}},\"required\":[\"query\","
    "\"filters\"]}}}]";

/* The parameters schema of the tool called name. */
static cJSON *tool_schema(const char *name)
{
    cJSON *tools = cJSON_Parse(WEATHER_TOOL), *t;
    cJSON_ArrayForEach(t, tools)
    {
        cJSON *f = cJSON_GetObjectItem(t, "function");
        if (!strcmp(cJSON_GetObjectItem(f, "name")->valuestring, name)) {
            cJSON *p = cJSON_DetachItemFromObject(f, "parameters");
            cJSON_Delete(tools);
            return p;
        }
    }
    cJSON_Delete(tools);
    return NULL;
}

static char *body_printf(const char *fmt, ...)
{
    static char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

static cJSON *post_json(const char *path, const char *body, long *status)
{
    xfer x = xfer_one(PORT, path, body);
    *status = x.status;
    cJSON *j = cJSON_ParseWithLength(x.data, x.len);
    xfer_free(&x, 1);
    return j;
}

/* A 400 answer with Ollama's error text (native error object). */
static void expect_400(const char *path, const char *body, const char *msg)
{
    long st;
    cJSON *e = post_json(path, body, &st);
    assert_int_equal(st, 400);
    assert_string_equal(cJSON_GetObjectItem(e, "error")->valuestring, msg);
    cJSON_Delete(e);
}

/* ---- 1. capabilities ---- */

/* ---- 7. divergences ---- */

/* One request on its own connection (Connection: close); the whole
 * response, headers included, into out. */
static size_t raw_http_to(int port, const char *req, char *out, size_t cap)
{
    int fd = raw_connect(port);
    assert_true(fd >= 0);
    size_t n = strlen(req), off = 0;
    assert_int_equal(write(fd, req, n), (ssize_t)n);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t k;
    while (off + 1 < cap && (k = read(fd, out + off, cap - 1 - off)) > 0)
        off += (size_t)k;
    out[off] = '\0';
    close(fd);
    return off;
}
#define raw_http(req, out, cap) raw_http_to(PORT, (req), (out), (cap))

/* The management routes: copy, delete, create (from a model), push. */
static void test_manage(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 50.0);
    o.load_s = 0;
    emu_t *e = test_start(&o);
    assert_non_null(e);
    int port = emu_port(e, 0);
    xfer x = xfer_one(port, "/api/copy",
                      "{\"source\":\"qwen3\",\"destination\":\"my-agent\"}");
    assert_int_equal(x.status, 200);
    assert_int_equal(x.len, 0); /* gin writes nothing */
    xfer_free(&x, 1);
    /* Listed with its source's capabilities, and usable with tools. */
    x = xfer_one(port, "/api/tags", NULL);
    assert_non_null(strstr(x.data, "\"name\":\"my-agent\""));
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/show", "{\"model\":\"my-agent\"}");
    assert_non_null(strstr(x.data, "\"capabilities\":[\"completion\",\"tools\",\"thinking\"]"));
    xfer_free(&x, 1);
    static char body[4096];
    snprintf(body, sizeof body,
             "{\"model\":\"my-agent\",\"stream\":false,\"think\":false,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":%s}",
             WEATHER_TOOL);
    x = xfer_one(port, "/api/chat", body);
    assert_int_equal(x.status, 200);
    assert_non_null(strstr(x.data, "\"tool_calls\""));
    xfer_free(&x, 1);
    static const struct {
        const char *path, *body;
        long status;
        const char *error;
    } bad[] = {
        {"/api/copy", "{\"source\":\"nope\",\"destination\":\"b\"}", 404,
         "model \"nope\" not found"},
        {"/api/copy", "{\"source\":\"qwen3\",\"destination\":\"\"}", 400,
         "destination \"\" is invalid"},
        {"/api/copy", "{\"source\":\"\",\"destination\":\"x\"}", 400,
         "source \"\" is invalid"},
        {"/api/create", "{\"model\":\"x\"}", 400,
         "neither 'from' or 'files' was specified"},
        {"/api/create", "{\"from\":\"qwen3\"}", 400, "invalid model name"},
        {"/api/push", "{}", 400, "model is required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        x = xfer_one(port, bad[i].path, bad[i].body);
        assert_int_equal(x.status, bad[i].status);
        cJSON *j = cJSON_ParseWithLength(x.data, x.len);
        assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, bad[i].error);
        cJSON_Delete(j);
        xfer_free(&x, 1);
    }
    /* Delete: gone from the list and from every route; twice is 404. */
    xfer d = {.port = port, .path = "/api/delete", .body = "{\"model\":\"my-agent\"}"};
    /* xfer sends POST; DELETE is the only method the route has. */
    xfer_run(&d, 1);
    assert_int_equal(d.status, 405);
    xfer_free(&d, 1);
    static char resp[8192];
    raw_http_to(port, "DELETE /api/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n"
             "Connection: close\r\n\r\n{\"model\":\"my-agent\"}", resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 200 ", 13);
    raw_http_to(port, "DELETE /api/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n"
             "Connection: close\r\n\r\n{\"model\":\"my-agent\"}", resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 404 ", 13);
    assert_non_null(strstr(resp, "{\"error\":\"model 'my-agent' not found\"}"));
    x = xfer_one(port, "/api/chat", body);
    assert_int_equal(x.status, 404);
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/tags", NULL);
    assert_null(strstr(x.data, "my-agent"));
    xfer_free(&x, 1);
    /* Still loaded (from the tool call above): /api/ps keeps its name. */
    x = xfer_one(port, "/api/ps", NULL);
    assert_non_null(strstr(x.data, "\"name\":\"my-agent\""));
    xfer_free(&x, 1);

    /* Create from an existing model: the layers, the manifest, success. */
    x = xfer_one(port, "/api/create", "{\"model\":\"terse\",\"from\":\"gemma3\","
                 "\"system\":\"Be terse.\",\"parameters\":{\"temperature\":0}}");
    assert_int_equal(x.status, 200);
    char *lines[16];
    int n = split_lines(x.data, x.len, lines, 16);
    assert_int_equal(n, 5);
#define PREFIX(l, p) assert_int_equal(strncmp((l), (p), strlen(p)), 0)
    PREFIX(lines[0], "{\"status\":\"using existing layer sha256:");
    PREFIX(lines[1], "{\"status\":\"creating new layer sha256:");
    PREFIX(lines[2], "{\"status\":\"creating new layer sha256:");
    assert_string_equal(lines[3], "{\"status\":\"writing manifest\"}");
    assert_string_equal(lines[4], "{\"status\":\"success\"}");
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/show", "{\"model\":\"terse\"}");
    assert_int_equal(x.status, 200);
    assert_non_null(strstr(x.data, "[\"completion\",\"vision\"]"));
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/create", "{\"model\":\"t2\",\"from\":\"nope\","
                 "\"stream\":false}");
    assert_int_equal(x.status, 500);
    assert_non_null(strstr(x.data, "pull model manifest: file does not exist"));
    xfer_free(&x, 1);

    /* Push: progress lines to success; stream:false, the last one. */
    x = xfer_one(port, "/api/push", "{\"model\":\"terse\"}");
    n = split_lines(x.data, x.len, lines, 16);
    assert_int_equal(n, 4);
    assert_string_equal(lines[0], "{\"status\":\"retrieving manifest\"}");
    PREFIX(lines[1], "{\"status\":\"pushing ");
    assert_string_equal(lines[2], "{\"status\":\"pushing manifest\"}");
    assert_string_equal(lines[3], "{\"status\":\"success\"}");
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/push", "{\"model\":\"terse\",\"stream\":false}");
    assert_string_equal(x.data, "{\"status\":\"success\"}");
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/push", "{\"model\":\"nope\"}");
    assert_non_null(strstr(x.data, "{\"status\":\"couldn't retrieve manifest\"}\n{\"error\":"));
    xfer_free(&x, 1);
    emu_stop(e);
}

/* needsReload compares all of api.Runner: main_gpu, use_mmap and
 * num_thread changes reload the model too. */
static void test_reload_options(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 20.0);
    o.load_s = 1.0; /* 50 ms scaled */
    emu_t *e = test_start(&o);
    assert_non_null(e);
    int port = emu_port(e, 0);
    static const struct {
        const char *opts;
        int reload;
    } seq[] = {
        {"", 1},                        /* first load */
        {"", 0},                        /* warm */
        {",\"num_thread\":4", 1},
        {",\"num_thread\":4", 0},
        {",\"num_thread\":4,\"main_gpu\":0", 1}, /* nil -> 0 differs */
        {",\"num_thread\":4,\"main_gpu\":0,\"use_mmap\":false", 1},
        {",\"num_thread\":4,\"main_gpu\":0,\"use_mmap\":false", 0},
        {"", 1},
    };
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":false,"
                 "\"options\":{\"num_predict\":1%s}}", seq[i].opts);
        xfer x = xfer_one(port, "/api/generate", body);
        assert_int_equal(x.status, 200);
        double load = json_num(x.data, "load_duration");
        if (seq[i].reload)
            assert_true(load >= 45e6);
        else
            assert_true(load < 10e6);
        xfer_free(&x, 1);
    }
    emu_stop(e);
}

/* /v1/embeddings is /api/embed's handler: scheduled (the model shows in
 * /api/ps), the same vectors, the same token count. */
static void test_embeddings_one_handler(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 50.0);
    o.load_s = 0;
    emu_t *e = test_start(&o);
    assert_non_null(e);
    int port = emu_port(e, 0);
    xfer x = xfer_one(port, "/api/ps", NULL);
    assert_non_null(strstr(x.data, "\"models\":[]"));
    xfer_free(&x, 1);
    x = xfer_one(port, "/v1/embeddings",
                 "{\"model\":\"gemma3\",\"input\":[\"abcd\",\"hello world\"]}");
    assert_int_equal(x.status, 200);
    cJSON *v1 = cJSON_Parse(x.data);
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/ps", NULL);
    assert_non_null(strstr(x.data, "\"name\":\"gemma3:latest\""));
    xfer_free(&x, 1);
    x = xfer_one(port, "/api/embed",
                 "{\"model\":\"gemma3\",\"input\":[\"hello world\",\"abcd\"]}");
    cJSON *nat = cJSON_Parse(x.data);
    xfer_free(&x, 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(v1, "usage"), "prompt_tokens")->valueint,
                     cJSON_GetObjectItem(nat, "prompt_eval_count")->valueint);
    /* "abcd" is input 0 of one and input 1 of the other. */
    const cJSON *a = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(v1, "data"), 0),
                                         "embedding");
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(nat, "embeddings"), 1);
    assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
    for (int i = 0; i < cJSON_GetArraySize(a); i++)
        assert_true(fabs(cJSON_GetArrayItem(a, i)->valuedouble -
                         cJSON_GetArrayItem(b, i)->valuedouble) < 1e-6);
    cJSON_Delete(v1);
    cJSON_Delete(nat);
    emu_stop(e);
}

static void test_cors(void **state)
{
    (void)state;
    static char resp[8192];
    /* An allowed preflight: 204 and gin-contrib/cors's headers. */
    raw_http("OPTIONS /api/chat HTTP/1.1\r\nHost: 127.0.0.1:11434\r\n"
             "Origin: http://localhost:3000\r\nAccess-Control-Request-Method: POST\r\n"
             "Connection: close\r\n\r\n", resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 204 ", 13);
    assert_non_null(strstr(resp, "\r\nAccess-Control-Allow-Origin: http://localhost:3000\r\n"));
    assert_non_null(strstr(resp, "\r\nAccess-Control-Allow-Methods: GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS\r\n"));
    assert_non_null(strstr(resp, "\r\nAccess-Control-Allow-Headers: Authorization,Content-Type,User-Agent,Accept,X-Requested-With,Openai-Beta,"));
    assert_non_null(strstr(resp, "\r\nAccess-Control-Max-Age: 43200\r\n"));
    assert_non_null(strstr(resp, "\r\nVary: Access-Control-Request-Headers\r\n"));
    /* An allowed origin on a route: the answer names it. */
    raw_http("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Origin: vscode-webview://abc\r\nConnection: close\r\n\r\n",
             resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 200 ", 13);
    assert_non_null(strstr(resp, "\r\nAccess-Control-Allow-Origin: vscode-webview://abc\r\nVary: Origin\r\n"));
    /* Any other origin: 403, empty. */
    raw_http("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Origin: https://example.com\r\nConnection: close\r\n\r\n",
             resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 403 ", 13);
    assert_non_null(strstr(resp, "Content-Length: 0\r\n"));
    /* The server's own origin is not CORS; OPTIONS without Origin is a
     * method no route has. */
    raw_http("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
             "Origin: http://127.0.0.1:9\r\nConnection: close\r\n\r\n",
             resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 200 ", 13);
    assert_null(strstr(resp, "Access-Control"));
    raw_http("OPTIONS /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Connection: close\r\n\r\n", resp, sizeof resp);
    assert_memory_equal(resp, "HTTP/1.1 405 ", 13);
}

static void test_divergences(void **state)
{
    (void)state;
    long st;
    /* model.ParseName: case-insensitive, default host and namespace. */
    const char *names[] = {"GEMMA3", "library/gemma3",
                           "registry.ollama.ai/library/gemma3:latest",
                           "Gemma3:Latest"};
    for (int i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"model\":\"%s\"}", names[i]);
        cJSON *j = post_json("/api/show", body, &st);
        assert_int_equal(st, 200);
        cJSON_Delete(j);
        snprintf(body, sizeof body,
                 "{\"model\":\"%s\",\"stream\":false,\"prompt\":\"x\","
                 "\"options\":{\"num_predict\":1}}", names[i]);
        j = post_json("/api/generate", body, &st);
        assert_int_equal(st, 200);
        /* the name is echoed as asked */
        assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, names[i]);
        cJSON_Delete(j);
    }
    cJSON *j = post_json("/api/show", "{\"model\":\"other/gemma3\"}", &st);
    assert_int_equal(st, 404);
    cJSON_Delete(j);
    /* The unknown-model texts of show (DisplayShortest) and embeddings
     * (handleScheduleError); embed and chat keep the name as sent. */
    j = post_json("/api/show", "{\"model\":\"library/nope\"}", &st);
    assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
                        "model 'nope:latest' not found");
    cJSON_Delete(j);
    j = post_json("/api/embeddings", "{\"model\":\"nope\",\"prompt\":\"x\"}", &st);
    assert_int_equal(st, 404);
    assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
                        "model \"nope\" not found, try pulling it first");
    cJSON_Delete(j);
    j = post_json("/api/embed", "{\"model\":\"nope\",\"input\":\"x\"}", &st);
    assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
                        "model 'nope' not found");
    cJSON_Delete(j);

    /* Images and a generate's context are prompt tokens too. */
    j = post_json("/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"abcd\","
                  "\"stream\":false,\"options\":{\"num_predict\":1}}", &st);
    int base = cJSON_GetObjectItem(j, "prompt_eval_count")->valueint;
    cJSON_Delete(j);
    assert_int_equal(base, 1 + 8);
    j = post_json("/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"abcd\","
                  "\"stream\":false,\"context\":[1,2,3,4,5],\"images\":[\"aGk=\"],"
                  "\"options\":{\"num_predict\":1}}", &st);
    assert_int_equal(cJSON_GetObjectItem(j, "prompt_eval_count")->valueint,
                     base + 5 + 768);
    cJSON_Delete(j);
    j = post_json("/api/chat", "{\"model\":\"gemma3\",\"stream\":false,"
                  "\"messages\":[{\"role\":\"user\",\"content\":\"abcd\","
                  "\"images\":[\"aGk=\",\"aGk=\"]}],\"options\":{\"num_predict\":1}}", &st);
    assert_int_equal(cJSON_GetObjectItem(j, "prompt_eval_count")->valueint,
                     base + 2 * 768);
    cJSON_Delete(j);
    j = post_json("/v1/chat/completions",
                  "{\"model\":\"gemma3\",\"max_tokens\":1,\"messages\":[{\"role\":"
                  "\"user\",\"content\":[{\"type\":\"text\",\"text\":\"abcd\"},"
                  "{\"type\":\"image_url\",\"image_url\":{\"url\":"
                  "\"data:image/png;base64,aGk=\"}}]}]}", &st);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"),
                                         "prompt_tokens")->valueint,
                     base + 768);
    cJSON_Delete(j);

    /* The 400s of ChatHandler/GenerateHandler before any model work. */
    static const struct {
        const char *path, *body, *msg;
    } bad[] = {
        {"/api/chat", "{\"model\":\"gemma3\",\"messages\":[],\"top_logprobs\":21}",
         "top_logprobs must be between 0 and 20"},
        {"/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"x\",\"top_logprobs\":-1}",
         "top_logprobs must be between 0 and 20"},
        {"/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"x\",\"raw\":true,\"system\":\"s\"}",
         "raw mode does not support template, system, or context"},
        {"/api/generate", "{\"model\":\"gemma3\",\"prompt\":5}",
         "json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type string"},
        {"/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":\"no\"}",
         "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool"},
        {"/api/chat", "{\"model\":\"gemma3\",\"messages\":{}}",
         "json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message"},
        {"/api/chat", "{\"model\":\"gemma3\",\"messages\":[],\"stream\":1}",
         "json: cannot unmarshal number into Go struct field ChatRequest.stream of type bool"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_400(bad[i].path, bad[i].body, bad[i].msg);
}

static void test_capabilities(void **state)
{
    (void)state;
    long st;
    cJSON *tags = post_json("/api/tags", NULL, &st);
    assert_int_equal(st, 200);
    const cJSON *m;
    int seen = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(tags, "models"))
    {
        char *caps = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "capabilities"));
        const char *name = cJSON_GetObjectItem(m, "name")->valuestring;
        if (!strcmp(name, "gemma3:latest")) {
            assert_string_equal(caps, "[\"completion\",\"vision\"]");
            seen |= 1;
        } else if (!strcmp(name, "qwen3:latest")) {
            assert_string_equal(caps, "[\"completion\",\"tools\",\"thinking\"]");
            seen |= 2;
        }
        free(caps);
    }
    assert_int_equal(seen, 3);
    cJSON_Delete(tags);
    cJSON *show = post_json("/api/show", "{\"model\":\"qwen3\"}", &st);
    char *caps = cJSON_PrintUnformatted(cJSON_GetObjectItem(show, "capabilities"));
    assert_string_equal(caps, "[\"completion\",\"tools\",\"thinking\"]");
    free(caps);
    cJSON_Delete(show);

    /* The 400s of a model without the capability, Ollama's texts. */
    expect_400("/api/chat", body_printf(
        "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"x\"}],\"tools\":%s}", WEATHER_TOOL),
        "registry.ollama.ai/library/gemma3:latest does not support tools");
    expect_400("/api/chat", "{\"model\":\"gemma3\",\"messages\":[{\"role\":"
               "\"user\",\"content\":\"x\"}],\"think\":\"high\"}",
               "\"gemma3\" does not support thinking");
    expect_400("/api/generate", "{\"model\":\"gemma3:latest\",\"prompt\":"
               "\"x\",\"think\":true}", "\"gemma3:latest\" does not support thinking");
    expect_400("/api/chat", "{\"model\":\"qwen3\",\"messages\":[],\"think\":\"hot\"}",
               "invalid think value: \"hot\" (must be \"high\", "
               "\"medium\", \"low\", \"max\", true, or false)");
    /* think:false on a model without thinking is fine. */
    cJSON *e = post_json("/api/chat", "{\"model\":\"gemma3\",\"stream\":false,"
                  "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                  "\"think\":false,\"options\":{\"num_predict\":3}}", &st);
    assert_int_equal(st, 200);
    cJSON_Delete(e);
    /* OpenAI layer: the native 400 in OpenAI's error object. */
    e = post_json("/v1/chat/completions", body_printf(
        "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"x\"}],\"tools\":%s}", WEATHER_TOOL), &st);
    assert_int_equal(st, 400);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "error"),
                                            "message")->valuestring,
                        "registry.ollama.ai/library/gemma3:latest does not support tools");
    cJSON_Delete(e);
}

/* ---- 2. tool calls ---- */

static void check_native_call(const cJSON *calls, char *name_out)
{
    assert_int_equal(cJSON_GetArraySize(calls), 1);
    const cJSON *c = cJSON_GetArrayItem(calls, 0);
    const cJSON *id = cJSON_GetObjectItem(c, "id");
    assert_true(cJSON_IsString(id));
    assert_int_equal(strlen(id->valuestring), 13);
    assert_memory_equal(id->valuestring, "call_", 5);
    const cJSON *f = cJSON_GetObjectItem(c, "function");
    assert_int_equal(cJSON_GetObjectItem(f, "index")->valueint, 0);
    const char *name = cJSON_GetObjectItem(f, "name")->valuestring;
    cJSON *schema = tool_schema(name);
    assert_non_null(schema);
    const cJSON *args = cJSON_GetObjectItem(f, "arguments");
    assert_true(cJSON_IsObject(args));
    assert_true(validate(args, schema, schema));
    cJSON_Delete(schema);
    strcpy(name_out, name);
}

static void test_tools_native(void **state)
{
    (void)state;
    char body[8192], name[64], again[64];
    long st;
    for (int seed = 1; seed <= 6; seed++) {
        snprintf(body, sizeof body,
                 "{\"model\":\"qwen3\",\"stream\":false,\"think\":false,"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],"
                 "\"tools\":%s,\"options\":{\"seed\":%d}}", WEATHER_TOOL, seed);
        cJSON *j = post_json("/api/chat", body, &st);
        assert_int_equal(st, 200);
        const cJSON *msg = cJSON_GetObjectItem(j, "message");
        assert_string_equal(cJSON_GetObjectItem(msg, "content")->valuestring, "");
        check_native_call(cJSON_GetObjectItem(msg, "tool_calls"), name);
        assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring, "stop");
        /* The call's tokens are decoded and counted. */
        assert_true(cJSON_GetObjectItem(j, "eval_count")->valuedouble > 5);
        char *a1 = cJSON_PrintUnformatted(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(msg, "tool_calls"), 0), "function"));
        cJSON_Delete(j);
        /* Same seed, same call (arguments and all). */
        j = post_json("/api/chat", body, &st);
        msg = cJSON_GetObjectItem(j, "message");
        check_native_call(cJSON_GetObjectItem(msg, "tool_calls"), again);
        char *a2 = cJSON_PrintUnformatted(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(msg, "tool_calls"), 0), "function"));
        assert_string_equal(a1, a2);
        free(a1);
        free(a2);
        cJSON_Delete(j);
    }

    /* Streamed: no line until the call is complete, then one line with
     * message.tool_calls and an empty content, then the final line. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"think\":false,\"messages\":[{\"role\":"
             "\"user\",\"content\":\"weather?\"}],\"tools\":%s,"
             "\"options\":{\"seed\":3}}", WEATHER_TOOL);
    xfer x = xfer_one(PORT, "/api/chat", body);
    assert_int_equal(x.status, 200);
    char *lines[64];
    int n = split_lines(x.data, x.len, lines, 64);
    assert_int_equal(n, 2);
    cJSON *l0 = cJSON_Parse(lines[0]);
    static const char *const k0[] = {"model", "created_at", "message", "done"};
    assert_true(keys_in_order(lines[0], k0, 4));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(l0, "done")));
    check_native_call(cJSON_GetObjectItem(cJSON_GetObjectItem(l0, "message"),
                                          "tool_calls"), name);
    cJSON_Delete(l0);
    cJSON *l1 = cJSON_Parse(lines[1]);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(l1, "done")));
    assert_true(cJSON_GetObjectItem(l1, "eval_count")->valuedouble > 5);
    cJSON_Delete(l1);
    xfer_free(&x, 1);

    /* After the tool's result the model answers in text. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"stream\":false,\"think\":false,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
             "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{"
             "\"function\":{\"name\":\"get_weather\",\"arguments\":{"
             "\"city\":\"Paris\"}}}]},{\"role\":\"tool\",\"content\":\"20C\","
             "\"tool_name\":\"get_weather\"}],\"tools\":%s,"
             "\"options\":{\"seed\":3,\"num_predict\":5}}", WEATHER_TOOL);
    cJSON *j = post_json("/api/chat", body, &st);
    const cJSON *msg = cJSON_GetObjectItem(j, "message");
    assert_null(cJSON_GetObjectItem(msg, "tool_calls"));
    assert_true(strlen(cJSON_GetObjectItem(msg, "content")->valuestring) > 0);
    cJSON_Delete(j);
}

/* SSE events of a body into cJSON objects (data lines, [DONE] skipped). */
static int sse_events(char *data, size_t len, cJSON **ev, int max, int *done)
{
    int n = 0;
    *done = 0;
    static char *lines[8192];
    int nl = split_lines(data, len, lines, 8192);
    for (int i = 0; i < nl; i++) {
        if (strncmp(lines[i], "data: ", 6))
            continue;
        if (!strcmp(lines[i] + 6, "[DONE]")) {
            *done = 1;
            continue;
        }
        if (n < max)
            ev[n++] = cJSON_Parse(lines[i] + 6);
    }
    return n;
}

static void check_openai_call(const cJSON *calls)
{
    assert_int_equal(cJSON_GetArraySize(calls), 1);
    const cJSON *c = cJSON_GetArrayItem(calls, 0);
    assert_memory_equal(cJSON_GetObjectItem(c, "id")->valuestring, "call_", 5);
    assert_int_equal(cJSON_GetObjectItem(c, "index")->valueint, 0);
    assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "function");
    const cJSON *f = cJSON_GetObjectItem(c, "function");
    cJSON *schema = tool_schema(cJSON_GetObjectItem(f, "name")->valuestring);
    assert_non_null(schema);
    /* arguments: a JSON string holding the object. */
    cJSON *args = cJSON_Parse(cJSON_GetObjectItem(f, "arguments")->valuestring);
    assert_true(cJSON_IsObject(args));
    assert_true(validate(args, schema, schema));
    cJSON_Delete(args);
    cJSON_Delete(schema);
}

static void test_tools_openai(void **state)
{
    (void)state;
    char body[8192];
    long st;
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"reasoning_effort\":\"none\",\"seed\":4,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],"
             "\"tools\":%s}", WEATHER_TOOL);
    cJSON *j = post_json("/v1/chat/completions", body, &st);
    assert_int_equal(st, 200);
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    assert_string_equal(cJSON_GetObjectItem(ch, "finish_reason")->valuestring,
                        "tool_calls");
    check_openai_call(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "message"),
                                          "tool_calls"));
    cJSON_Delete(j);

    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"reasoning_effort\":\"none\",\"seed\":4,"
             "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
             "\"weather?\"}],\"tools\":%s}", WEATHER_TOOL);
    xfer x = xfer_one(PORT, "/v1/chat/completions", body);
    cJSON *ev[16];
    int done, n = sse_events(x.data, x.len, ev, 16, &done);
    assert_true(done);
    assert_int_equal(n, 2); /* the call, the finish chunk */
    const cJSON *d0 = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(ev[0], "choices"), 0), "delta");
    assert_string_equal(cJSON_GetObjectItem(d0, "role")->valuestring, "assistant");
    check_openai_call(cJSON_GetObjectItem(d0, "tool_calls"));
    const cJSON *c1 = cJSON_GetArrayItem(cJSON_GetObjectItem(ev[1], "choices"), 0);
    assert_string_equal(cJSON_GetObjectItem(c1, "finish_reason")->valuestring,
                        "tool_calls");
    for (int i = 0; i < n; i++)
        cJSON_Delete(ev[i]);
    xfer_free(&x, 1);

    /* The tool result (role tool, tool_call_id): a text answer. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"reasoning_effort\":\"none\",\"seed\":4,"
             "\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":"
             "\"weather?\"},{\"role\":\"assistant\",\"content\":null,"
             "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
             "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
             "\"20C\"}],\"tools\":%s}", WEATHER_TOOL);
    j = post_json("/v1/chat/completions", body, &st);
    assert_int_equal(st, 200);
    ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    assert_string_equal(cJSON_GetObjectItem(ch, "finish_reason")->valuestring,
                        "length");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "message"), "tool_calls"));
    cJSON_Delete(j);
}

/* ---- 3. structured output ---- */

static const char NESTED_SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\","
    "\"minLength\":2,\"maxLength\":10},\"age\":{\"type\":\"integer\","
    "\"minimum\":0,\"maximum\":120},\"role\":{\"enum\":[\"dev\",\"ops\"]},"
    "\"address\":{\"$ref\":\"#/$defs/addr\"},\"tags\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"k\":{\"type\":"
    "\"string\"},\"v\":{\"type\":\"number\"}},\"required\":[\"k\",\"v\"],"
    "\"additionalProperties\":false},\"minItems\":2,\"maxItems\":4},"
    "\"note\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}},"
    "\"required\":[\"name\",\"age\",\"role\",\"address\",\"tags\",\"note\"],"
    "\"additionalProperties\":false,\"$defs\":{\"addr\":{\"type\":"
    "\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"zip\":"
    "{\"type\":\"integer\"},\"ok\":{\"type\":\"boolean\"}},\"required\":"
    "[\"city\",\"zip\",\"ok\"]}}}";

/* Concatenates message.content (or response) of every NDJSON line but the
 * last; *n_tokens: the lines that carried text. */
static char *ndjson_text(xfer *x, const char *field, int *n_tokens,
                         cJSON **final)
{
    char *lines[4096];
    int n = split_lines(x->data, x->len, lines, 4096);
    static char text[65536];
    size_t len = 0;
    *n_tokens = 0;
    for (int i = 0; i < n; i++) {
        cJSON *l = cJSON_Parse(lines[i]);
        assert_non_null(l);
        if (cJSON_IsTrue(cJSON_GetObjectItem(l, "done"))) {
            *final = l;
            break;
        }
        const cJSON *msg = cJSON_GetObjectItem(l, "message");
        const cJSON *t = cJSON_GetObjectItem(msg ? msg : l, field);
        if (cJSON_IsString(t) && t->valuestring[0]) {
            size_t k = strlen(t->valuestring);
            memcpy(text + len, t->valuestring, k);
            len += k;
            (*n_tokens)++;
        }
        cJSON_Delete(l);
    }
    text[len] = '\0';
    return text;
}

static void test_format_schema(void **state)
{
    (void)state;
    cJSON *schema = cJSON_Parse(NESTED_SCHEMA);
    char body[8192];
    for (int seed = 1; seed <= 8; seed++) {
        snprintf(body, sizeof body,
                 "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"a person\"}],\"format\":%s,"
                 "\"options\":{\"seed\":%d}}", NESTED_SCHEMA, seed);
        xfer x = xfer_one(PORT, "/api/chat", body);
        assert_int_equal(x.status, 200);
        int n;
        cJSON *final = NULL;
        char *text = ndjson_text(&x, "content", &n, &final);
        cJSON *doc = cJSON_Parse(text);
        assert_non_null(doc);
        assert_true(validate(doc, schema, schema));
        /* Token by token: one line per ~4 bytes, all counted. */
        assert_int_equal(n, (int)((strlen(text) + 3) / 4));
        assert_int_equal((int)cJSON_GetObjectItem(final, "eval_count")->valuedouble, n);
        assert_string_equal(cJSON_GetObjectItem(final, "done_reason")->valuestring, "stop");
        cJSON_Delete(final);
        cJSON_Delete(doc);
        xfer_free(&x, 1);
    }
    /* zod's int bounds (+-(2^53-1)) are no hint: values stay small, and
     * strings are words (no leading punctuation). */
    long st0;
    cJSON *z = post_json("/api/chat",
                         "{\"model\":\"gemma3\",\"stream\":false,\"messages\":"
                         "[{\"role\":\"user\",\"content\":\"x\"}],\"format\":"
                         "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
                         "\"integer\",\"minimum\":-9007199254740991,\"maximum\":"
                         "9007199254740991},\"s\":{\"type\":\"string\"}},"
                         "\"required\":[\"n\",\"s\"]}}", &st0);
    cJSON *zd = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetObjectItem(z, "message"),
                                                "content")->valuestring);
    double zn = cJSON_GetObjectItem(zd, "n")->valuedouble;
    assert_true(zn >= 0 && zn <= 100);
    const char *zs = cJSON_GetObjectItem(zd, "s")->valuestring;
    assert_true(zs[0] >= 'a' && zs[0] <= 'z');
    cJSON_Delete(zd);
    cJSON_Delete(z);

    /* A negative maxLength (no valid string is longer than 0): "". */
    z = post_json("/api/chat",
                  "{\"model\":\"gemma3\",\"stream\":false,\"messages\":"
                  "[{\"role\":\"user\",\"content\":\"x\"}],\"format\":"
                  "{\"type\":\"string\",\"minLength\":1e300,\"maxLength\":-5}}",
                  &st0);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(z, "message"),
                                            "content")->valuestring, "\"\"");
    cJSON_Delete(z);

    /* Cut by num_predict mid-document: "length", not JSON. */
    snprintf(body, sizeof body,
             "{\"model\":\"gemma3\",\"stream\":false,\"messages\":[{\"role\":"
             "\"user\",\"content\":\"a person\"}],\"format\":%s,"
             "\"options\":{\"seed\":1,\"num_predict\":5}}", NESTED_SCHEMA);
    long st;
    cJSON *j = post_json("/api/chat", body, &st);
    assert_string_equal(cJSON_GetObjectItem(j, "done_reason")->valuestring, "length");
    assert_int_equal((int)cJSON_GetObjectItem(j, "eval_count")->valuedouble, 5);
    const char *c = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"), "content")->valuestring;
    assert_int_equal(strlen(c), 20);
    cJSON *bad = cJSON_Parse(c);
    assert_null(bad);
    cJSON_Delete(j);

    /* OpenAI response_format json_schema and json_object; generate "json". */
    snprintf(body, sizeof body,
             "{\"model\":\"gemma3\",\"seed\":2,\"messages\":[{\"role\":\"user\","
             "\"content\":\"a person\"}],\"response_format\":{\"type\":"
             "\"json_schema\",\"json_schema\":{\"name\":\"p\",\"strict\":true,"
             "\"schema\":%s}}}", NESTED_SCHEMA);
    j = post_json("/v1/chat/completions", body, &st);
    assert_int_equal(st, 200);
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    cJSON *doc = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "message"),
                                                 "content")->valuestring);
    assert_true(validate(doc, schema, schema));
    assert_string_equal(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "stop");
    cJSON_Delete(doc);
    cJSON_Delete(j);
    j = post_json("/v1/chat/completions",
                  "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                  "\"content\":\"x\"}],\"response_format\":{\"type\":"
                  "\"json_object\"}}", &st);
    ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    doc = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "message"),
                                          "content")->valuestring);
    assert_true(cJSON_IsObject(doc));
    cJSON_Delete(doc);
    cJSON_Delete(j);
    j = post_json("/api/generate", "{\"model\":\"gemma3\",\"prompt\":\"x\","
                  "\"stream\":false,\"format\":\"json\"}", &st);
    doc = cJSON_Parse(cJSON_GetObjectItem(j, "response")->valuestring);
    assert_true(cJSON_IsObject(doc));
    cJSON_Delete(doc);
    cJSON_Delete(j);
    cJSON_Delete(schema);
}

/* ---- 4. thinking ---- */

/* Streamed /api/chat on qwen3: thinking lines, then content lines. */
static void think_counts(const char *think_json, int *n_think, int *n_content)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"messages\":[{\"role\":\"user\",\"content\":"
             "\"why?\"}],%s%s\"options\":{\"seed\":9}}",
             think_json ? "\"think\":" : "", think_json ? think_json : "");
    xfer x = xfer_one(PORT, "/api/chat", body);
    assert_int_equal(x.status, 200);
    char *lines[4096];
    int n = split_lines(x.data, x.len, lines, 4096);
    *n_think = *n_content = 0;
    for (int i = 0; i < n - 1; i++) {
        cJSON *l = cJSON_Parse(lines[i]);
        const cJSON *m = cJSON_GetObjectItem(l, "message");
        const cJSON *t = cJSON_GetObjectItem(m, "thinking");
        const char *c = cJSON_GetObjectItem(m, "content")->valuestring;
        if (t) {
            assert_string_equal(c, ""); /* thinking lines carry no content */
            assert_int_equal(*n_content, 0); /* and come first */
            (*n_think)++;
        } else {
            assert_true(c[0] != '\0');
            (*n_content)++;
        }
        cJSON_Delete(l);
    }
    cJSON *fin = cJSON_Parse(lines[n - 1]);
    assert_int_equal((int)cJSON_GetObjectItem(fin, "eval_count")->valuedouble,
                     *n_think + *n_content);
    cJSON_Delete(fin);
    xfer_free(&x, 1);
}

static void test_thinking(void **state)
{
    (void)state;
    int t_def, c_def, t_off, c_off, t_low, c_low, t_high, c_high;
    think_counts(NULL, &t_def, &c_def);
    think_counts("true,", &t_off, &c_off);
    assert_int_equal(t_off, t_def); /* a thinking model thinks by default */
    assert_true(t_def > 0);
    think_counts("false,", &t_off, &c_off);
    assert_int_equal(t_off, 0);
    assert_int_equal(c_off, c_def); /* same seed, same answer length */
    think_counts("\"low\",", &t_low, &c_low);
    think_counts("\"high\",", &t_high, &c_high);
    assert_true(t_low < t_def && t_def < t_high);
    assert_true(abs(t_high - 4 * t_low) <= 2);

    /* stream=false: the whole thinking on the message; generate too. */
    long st;
    cJSON *j = post_json("/api/chat", "{\"model\":\"qwen3\",\"stream\":false,"
                         "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                         "\"options\":{\"seed\":9}}", &st);
    static const char *const mk[] = {"role", "content", "thinking"};
    char *msg = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "message"));
    assert_true(keys_in_order(msg, mk, 3));
    free(msg);
    cJSON_Delete(j);
    j = post_json("/api/generate", "{\"model\":\"qwen3\",\"stream\":false,"
                  "\"prompt\":\"x\",\"think\":\"medium\"}", &st);
    assert_true(strlen(cJSON_GetObjectItem(j, "thinking")->valuestring) > 0);
    cJSON_Delete(j);

    /* OpenAI: reasoning deltas before content; reasoning_effort none: no
     * reasoning at all. */
    xfer x = xfer_one(PORT, "/v1/chat/completions",
                      "{\"model\":\"qwen3\",\"stream\":true,\"seed\":9,"
                      "\"reasoning_effort\":\"low\",\"messages\":[{\"role\":"
                      "\"user\",\"content\":\"why?\"}]}");
    cJSON *ev[1024];
    int done, n = sse_events(x.data, x.len, ev, 1024, &done), nr = 0, nc = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *d = cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(ev[i], "choices"), 0), "delta");
        if (cJSON_GetObjectItem(d, "reasoning")) {
            assert_int_equal(nc, 0);
            nr++;
        } else if (cJSON_IsString(cJSON_GetObjectItem(d, "content"))) {
            nc++;
        }
        cJSON_Delete(ev[i]);
    }
    xfer_free(&x, 1);
    assert_int_equal(nr, t_low);
    assert_int_equal(nc, c_low);
    j = post_json("/v1/chat/completions",
                  "{\"model\":\"qwen3\",\"reasoning_effort\":\"none\","
                  "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &st);
    const cJSON *m = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "message");
    assert_null(cJSON_GetObjectItem(m, "reasoning"));
    cJSON_Delete(j);
    j = post_json("/v1/chat/completions",
                  "{\"model\":\"qwen3\",\"messages\":[{\"role\":\"user\","
                  "\"content\":\"x\"}]}", &st);
    m = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "message");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(m, "reasoning")));
    cJSON_Delete(j);
}

/* ---- 5. /v1/responses ---- */

/* "event: T\ndata: J\n\n" events: types and parsed data, in order. */
static int resp_events(char *data, size_t len, char **types, cJSON **ev,
                       int max)
{
    static char *lines[16384];
    int nl = split_lines(data, len, lines, 16384), n = 0;
    for (int i = 0; i + 1 < nl && n < max; i++) {
        if (strncmp(lines[i], "event: ", 7))
            continue;
        assert_memory_equal(lines[i + 1], "data: ", 6);
        types[n] = lines[i] + 7;
        ev[n] = cJSON_Parse(lines[i + 1] + 6);
        assert_non_null(ev[n]);
        /* the event names its own type and is numbered in order */
        assert_string_equal(cJSON_GetObjectItem(ev[n], "type")->valuestring,
                            types[n]);
        assert_int_equal(cJSON_GetObjectItem(ev[n], "sequence_number")->valueint, n);
        n++;
    }
    return n;
}

static void test_responses(void **state)
{
    (void)state;
    long st;
    /* stream=false: ResponsesResponse in field order, reasoning then the
     * message, usage from the native counts. */
    cJSON *j = post_json("/v1/responses",
                         "{\"model\":\"qwen3\",\"input\":\"hi\",\"instructions\":"
                         "\"be brief\",\"max_output_tokens\":40,\"reasoning\":"
                         "{\"effort\":\"low\"}}", &st);
    assert_int_equal(st, 200);
    static const char *const keys[] = {
        "id", "object", "created_at", "completed_at", "status",
        "incomplete_details", "model", "previous_response_id", "instructions",
        "output", "error", "tools", "tool_choice", "truncation",
        "parallel_tool_calls", "text", "top_p", "presence_penalty",
        "frequency_penalty", "top_logprobs", "temperature", "reasoning",
        "usage", "max_output_tokens", "max_tool_calls", "store", "background",
        "service_tier", "metadata", "safety_identifier", "prompt_cache_key"};
    char *txt = cJSON_PrintUnformatted(j);
    assert_true(keys_in_order(txt, keys, 31));
    free(txt);
    assert_string_equal(cJSON_GetObjectItem(j, "object")->valuestring, "response");
    assert_string_equal(cJSON_GetObjectItem(j, "instructions")->valuestring, "be brief");
    const cJSON *out = cJSON_GetObjectItem(j, "output");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "type")->valuestring,
                        "reasoning");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "type")->valuestring,
                        "message");
    const cJSON *u = cJSON_GetObjectItem(j, "usage");
    assert_int_equal(cJSON_GetObjectItem(u, "output_tokens")->valueint, 40);
    assert_int_equal(cJSON_GetObjectItem(u, "total_tokens")->valueint,
                     40 + cJSON_GetObjectItem(u, "input_tokens")->valueint);
    cJSON_Delete(j);

    /* Streamed text: every event type Ollama sends, in its order. */
    xfer x = xfer_one(PORT, "/v1/responses",
                      "{\"model\":\"qwen3\",\"stream\":true,\"input\":[{\"role\":"
                      "\"user\",\"content\":\"hi\"}],\"max_output_tokens\":2000,"
                      "\"reasoning\":{\"effort\":\"low\"},\"seed\":5}");
    static char *types[4096];
    static cJSON *ev[4096];
    int n = resp_events(x.data, x.len, types, ev, 4096);
    int i = 0;
    assert_string_equal(types[i++], "response.created");
    assert_string_equal(types[i++], "response.in_progress");
    assert_string_equal(types[i++], "response.output_item.added");
    int deltas = 0;
    while (!strcmp(types[i], "response.reasoning_summary_text.delta"))
        i++, deltas++;
    assert_true(deltas > 0);
    assert_string_equal(types[i++], "response.reasoning_summary_text.done");
    assert_string_equal(types[i++], "response.output_item.done");
    assert_string_equal(types[i++], "response.output_item.added");
    assert_string_equal(types[i++], "response.content_part.added");
    while (!strcmp(types[i], "response.output_text.delta"))
        i++, deltas++;

    assert_string_equal(types[i++], "response.output_text.done");
    assert_string_equal(types[i++], "response.content_part.done");
    assert_string_equal(types[i++], "response.output_item.done");
    assert_string_equal(types[i++], "response.completed");
    assert_int_equal(i, n);
    const cJSON *resp = cJSON_GetObjectItem(ev[n - 1], "response");
    assert_string_equal(cJSON_GetObjectItem(resp, "status")->valuestring, "completed");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(resp, "output")), 2);
    /* one delta event per decoded token */
    assert_int_equal(deltas, cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "usage"),
                                                 "output_tokens")->valueint);
    for (int k = 0; k < n; k++)
        cJSON_Delete(ev[k]);
    xfer_free(&x, 1);

    /* Tools (the flat Responses shape): a function_call item whose
     * arguments validate; streamed, its four events. */
    char body[8192];
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"stream\":true,\"input\":\"weather?\","
             "\"reasoning\":{\"effort\":\"none\"},\"tools\":[{\"type\":"
             "\"function\",\"name\":\"get_weather\",\"parameters\":%s}]}",
             "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
             "\"string\",\"minLength\":3,\"maxLength\":12},\"unit\":{\"type\":"
             "\"string\",\"enum\":[\"c\",\"f\"]},\"days\":{\"type\":\"integer\","
             "\"minimum\":1,\"maximum\":7}},\"required\":[\"city\",\"unit\","
             "\"days\"]}");
    x = xfer_one(PORT, "/v1/responses", body);
    n = resp_events(x.data, x.len, types, ev, 4096);
    assert_int_equal(n, 7);
    assert_string_equal(types[2], "response.output_item.added");
    assert_string_equal(types[3], "response.function_call_arguments.delta");
    assert_string_equal(types[4], "response.function_call_arguments.done");
    assert_string_equal(types[5], "response.output_item.done");
    assert_string_equal(types[6], "response.completed");
    const cJSON *item = cJSON_GetObjectItem(ev[5], "item");
    assert_string_equal(cJSON_GetObjectItem(item, "type")->valuestring, "function_call");
    cJSON *args = cJSON_Parse(cJSON_GetObjectItem(item, "arguments")->valuestring);
    cJSON *schema = tool_schema("get_weather");
    assert_true(validate(args, schema, schema));
    cJSON_Delete(args);
    cJSON_Delete(schema);
    for (int k = 0; k < n; k++)
        cJSON_Delete(ev[k]);
    xfer_free(&x, 1);

    /* The tool's output as an input item: a text answer. */
    j = post_json("/v1/responses",
                  "{\"model\":\"qwen3\",\"reasoning\":{\"effort\":\"none\"},"
                  "\"max_output_tokens\":3,\"input\":[{\"role\":\"user\","
                  "\"content\":\"weather?\"},{\"type\":\"function_call\","
                  "\"call_id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":"
                  "\"{\\\"city\\\":\\\"Oslo\\\"}\"},{\"type\":"
                  "\"function_call_output\",\"call_id\":\"call_1\",\"output\":"
                  "\"-3C\"}],\"tools\":[{\"type\":\"function\",\"name\":"
                  "\"get_weather\",\"parameters\":{\"type\":\"object\"}}]}", &st);
    assert_int_equal(st, 200);
    out = cJSON_GetObjectItem(j, "output");
    assert_int_equal(cJSON_GetArraySize(out), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "type")->valuestring,
                        "message");
    cJSON_Delete(j);

    /* text.format json_schema: the output text is a valid document. */
    snprintf(body, sizeof body,
             "{\"model\":\"gemma3\",\"input\":\"a person\",\"text\":{\"format\":"
             "{\"type\":\"json_schema\",\"name\":\"p\",\"schema\":%s}}}",
             NESTED_SCHEMA);
    j = post_json("/v1/responses", body, &st);
    const cJSON *msg = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "output"), 0);
    cJSON *doc = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(msg, "content"), 0), "text")->valuestring);
    schema = cJSON_Parse(NESTED_SCHEMA);
    assert_true(validate(doc, schema, schema));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "text"),
                                                                "format"), "type")->valuestring,
                        "json_schema");
    cJSON_Delete(schema);
    cJSON_Delete(doc);
    cJSON_Delete(j);

    /* Errors in OpenAI's object: unknown item type, no such model. */
    j = post_json("/v1/responses", "{\"model\":\"qwen3\",\"input\":[{\"type\":"
                  "\"bogus\"}]}", &st);
    assert_int_equal(st, 400);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
                                            "message")->valuestring,
                        "input[0]: unknown input item type: \"bogus\"");
    cJSON_Delete(j);
    j = post_json("/v1/responses", "{\"model\":\"nope\",\"input\":\"x\"}", &st);
    assert_int_equal(st, 404);
    cJSON_Delete(j);
}

/* Parallel tool calls (--parallel-tool-calls 1: always the most, 4):
 * every call valid and indexed 0..3 in the answer; streamed, each call
 * goes out in its own line / chunk / output item as it completes. */
static cJSON *post_at(int port, const char *path, const char *body)
{
    xfer x = xfer_one(port, path, body);
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_ParseWithLength(x.data, x.len);
    xfer_free(&x, 1);
    assert_non_null(j);
    return j;
}

static void check_calls(const cJSON *calls, int first, int native)
{
    int i = first;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls)
    {
        const cJSON *f = cJSON_GetObjectItem(c, "function");
        const cJSON *idx = native ? cJSON_GetObjectItem(f, "index")
                                  : cJSON_GetObjectItem(c, "index");
        assert_int_equal(idx->valueint, i++);
        assert_memory_equal(cJSON_GetObjectItem(c, "id")->valuestring, "call_", 5);
        cJSON *schema = tool_schema(cJSON_GetObjectItem(f, "name")->valuestring);
        assert_non_null(schema);
        const cJSON *a = cJSON_GetObjectItem(f, "arguments");
        cJSON *args = native ? cJSON_Duplicate(a, 1) : cJSON_Parse(a->valuestring);
        assert_true(validate(args, schema, schema));
        cJSON_Delete(args);
        cJSON_Delete(schema);
    }
}

static void test_parallel_tool_calls(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 50.0);
    o.load_s = 0;
    o.parallel_tools = 1;
    emu_t *e = test_start(&o);
    int port = emu_port(e, 0);
    char body[8192];
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"stream\":false,\"think\":false,"
             "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],"
             "\"tools\":%s,\"options\":{\"seed\":5}}", WEATHER_TOOL);
    cJSON *j = post_at(port, "/api/chat", body);
    const cJSON *calls = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "message"),
                                             "tool_calls");
    assert_int_equal(cJSON_GetArraySize(calls), EMU_MAX_CALLS_TEST);
    check_calls(calls, 0, 1);
    cJSON_Delete(j);

    /* Streamed: one line per call, in order, then the final line. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"think\":false,\"messages\":[{\"role\":"
             "\"user\",\"content\":\"weather?\"}],\"tools\":%s,"
             "\"options\":{\"seed\":5}}", WEATHER_TOOL);
    xfer x = xfer_one(port, "/api/chat", body);
    char *lines[64];
    int n = split_lines(x.data, x.len, lines, 64);
    assert_int_equal(n, EMU_MAX_CALLS_TEST + 1);
    for (int i = 0; i < EMU_MAX_CALLS_TEST; i++) {
        cJSON *l = cJSON_Parse(lines[i]);
        const cJSON *lc = cJSON_GetObjectItem(cJSON_GetObjectItem(l, "message"),
                                              "tool_calls");
        assert_int_equal(cJSON_GetArraySize(lc), 1);
        check_calls(lc, i, 1);
        cJSON_Delete(l);
    }
    xfer_free(&x, 1);

    /* OpenAI, streamed: delta.tool_calls indexes 0..3, then tool_calls. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"stream\":true,\"seed\":5,"
             "\"reasoning_effort\":\"none\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"weather?\"}],\"tools\":%s}", WEATHER_TOOL);
    x = xfer_one(port, "/v1/chat/completions", body);
    assert_int_equal(x.status, 200);
    cJSON *ev[64];
    int done, ne = sse_events(x.data, x.len, ev, 64, &done), seen = 0;
    const char *finish = NULL;
    for (int i = 0; i < ne; i++) {
        const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(ev[i], "choices"), 0);
        const cJSON *tc = cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "delta"),
                                              "tool_calls");
        if (tc) {
            check_calls(tc, seen, 0);
            seen += cJSON_GetArraySize(tc);
        }
        const cJSON *fr = cJSON_GetObjectItem(ch, "finish_reason");
        if (cJSON_IsString(fr))
            finish = fr->valuestring;
    }
    assert_int_equal(seen, EMU_MAX_CALLS_TEST);
    assert_non_null(finish);
    assert_string_equal(finish, "tool_calls");
    for (int i = 0; i < ne; i++)
        cJSON_Delete(ev[i]);
    xfer_free(&x, 1);

    /* Responses: one function_call item per call, fc_<id>_<i>. */
    snprintf(body, sizeof body,
             "{\"model\":\"qwen3\",\"seed\":5,\"reasoning\":{\"effort\":"
             "\"none\"},\"input\":\"weather?\",\"tools\":[{\"type\":"
             "\"function\",\"name\":\"get_weather\",\"parameters\":"
             "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
             "\"string\"}},\"required\":[\"city\"]}}]}");
    j = post_at(port, "/v1/responses", body);
    const cJSON *out = cJSON_GetObjectItem(j, "output");
    assert_int_equal(cJSON_GetArraySize(out), EMU_MAX_CALLS_TEST);
    for (int i = 0; i < EMU_MAX_CALLS_TEST; i++) {
        const cJSON *it = cJSON_GetArrayItem(out, i);
        assert_string_equal(cJSON_GetObjectItem(it, "type")->valuestring,
                            "function_call");
        char suffix[8];
        snprintf(suffix, sizeof suffix, "_%d", i);
        const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
        assert_string_equal(id + strlen(id) - 2, suffix);
    }
    cJSON_Delete(j);
    assert_int_equal(emu_stop(e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_tools_native),
        cmocka_unit_test(test_tools_openai),
        cmocka_unit_test(test_format_schema),
        cmocka_unit_test(test_thinking),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_parallel_tool_calls),
        cmocka_unit_test(test_divergences),
        cmocka_unit_test(test_cors),
        cmocka_unit_test(test_embeddings_one_handler),
        cmocka_unit_test(test_reload_options),
        cmocka_unit_test(test_manage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
