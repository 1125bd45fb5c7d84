/* Ollama's OpenAI layer (/v1) of the emulator, checked the way
 * test_emu_api.c checks the native API: routes, the byte-level stream
 * format (SSE events, one HTTP chunk per native line), the usage event and
 * [DONE], stream=false objects, OpenAI error objects, faults and the trace.
 * Expected values are worked by hand from Ollama's source (openai/openai.go,
 * middleware/openai.go) and the timing model in emulator/README.md, or
 * cross-checked against the native API of the same emulator. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "emu_test_util.h"

#define SCALE 20.0
#define MS 1e6
#define MAX_EVENTS 16

static emu_t *E, *E32;
static int PORT, PORT_BUSY, PORT32;

static int setup(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 2, SCALE);
    o.load_s = 0; /* first-byte times below need no load term */
    /* The first-byte times below evaluate every prompt whole; the same
     * prompt is sent many times (the prompt cache: test_emu_timing). */
    o.prompt_cache = 0;
    strcpy(o.fault[1], "busy503");
    o.openai_format = EMU_OPENAI_0_6; /* E: Ollama 0.6.5's layer, E32: the default */
    E = test_start(&o);
    if (!E)
        return -1;
    PORT = emu_port(E, 0);
    PORT_BUSY = emu_port(E, 1);
    /* The chat stream shape of Ollama >= 0.32.6 (the default). */
    test_opts(&o, 1, SCALE);
    o.load_s = 0;
    o.openai_format = EMU_OPENAI_0_32;
    E32 = test_start(&o);
    if (!E32)
        return -1;
    PORT32 = emu_port(E32, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A failed stop fails the group (cmocka reports the teardown). */
    int rc = emu_stop(E);
    rc |= emu_stop(E32);
    return rc;
}

static xfer get(const char *path) { return xfer_one(PORT, path, NULL); }
static xfer post(const char *path, const char *body) { return xfer_one(PORT, path, body); }

/* 1 when the n bytes of needle occur in hay[0..len) (memmem is a GNU
 * extension). */
static int has_bytes_at(const char *hay, size_t len, const char *needle,
                        size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(hay + i, needle, n))
            return 1;
    return 0;
}
#define has_bytes(h, l, nd, n) (has_bytes_at((h), (l), (nd), (n)) ? (h) : NULL)

/* Splits one HTTP chunk into its SSE events. Each must be exactly
 * "data: <payload>\n\n" with no other newline; the payloads are returned
 * NUL-terminated (free with free()). Returns the count, -1 on bad framing. */
static int sse_split(const char *data, size_t len, char **ev, int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        if (len - i < 8 || memcmp(data + i, "data: ", 6) || n >= max)
            return -1;
        const char *p = data + i + 6;
        const char *nl = memchr(p, '\n', len - i - 6);
        if (!nl || (size_t)(nl - data) + 1 >= len || nl[1] != '\n')
            return -1;
        ev[n] = strndup(p, (size_t)(nl - p));
        n++;
        i = (size_t)(nl - data) + 2;
    }
    return n;
}

static void free_events(char **ev, int n)
{
    for (int i = 0; i < n; i++)
        free(ev[i]);
}

/* The only event of one HTTP chunk, parsed. */
static cJSON *one_event(const raw_chunk *k)
{
    char *ev[MAX_EVENTS];
    int n = sse_split(k->data, k->len, ev, MAX_EVENTS);
    assert_int_equal(n, 1);
    cJSON *j = cJSON_Parse(ev[0]);
    assert_non_null(j);
    free_events(ev, n);
    return j;
}

static const char *str_at(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double num_at(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const cJSON *choice0(const cJSON *j)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "choices");
    assert_true(cJSON_IsArray(c));
    assert_int_equal(cJSON_GetArraySize(c), 1);
    return cJSON_GetArrayItem(c, 0);
}

static void check_usage(const cJSON *j, int prompt, int completion)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    assert_non_null(u);
    assert_int_equal((int)num_at(u, "prompt_tokens"), prompt);
    assert_int_equal((int)num_at(u, "completion_tokens"), completion);
    assert_int_equal((int)num_at(u, "total_tokens"), prompt + completion);
}

/* An OpenAI error object: {"error":{"message","type","param":null,
 * "code":null}} as Ollama's writeError encodes it (with a newline). */
static void check_error(const xfer *x, long status, const char *type,
                        const char *msg)
{
    assert_int_equal(x->status, status);
    assert_true(x->len > 0 && x->data[x->len - 1] == '\n');
    cJSON *j = cJSON_Parse(x->data);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    static const char *const keys[] = {"message", "type", "param", "code"};
    char *s = cJSON_PrintUnformatted(e);
    assert_true(keys_in_order(s, keys, 4));
    free(s);
    assert_string_equal(str_at(e, "type"), type);
    if (msg)
        assert_string_equal(str_at(e, "message"), msg);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "param")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "code")));
    cJSON_Delete(j);
}

/* The error type Ollama gives: openai.NewError maps 400 to
 * invalid_request_error, 404 to not_found_error, else api_error; but an
 * error of the native handler (handler = 1) went through writeError, which
 * in 0.6.5 always called NewError(500, ...): api_error. */
static const char *want_type(int port, int handler, long status)
{
    if (handler && port != PORT32)
        return "api_error";
    return status == 400 ? "invalid_request_error"
           : status == 404 ? "not_found_error"
                           : "api_error";
}

/* ---- routes ---- */

static void test_models(void **state)
{
    (void)state;
    xfer x = get("/v1/models");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    static const char *const keys[] = {"object", "data"};
    assert_true(keys_in_order(x.data, keys, 2));
    assert_string_equal(str_at(j, "object"), "list");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
    assert_int_equal(cJSON_GetArraySize(data), 2); /* gemma3, qwen3 */
    const cJSON *m = cJSON_GetArrayItem(data, 0);
    assert_string_equal(str_at(m, "id"), "gemma3:latest");
    assert_string_equal(str_at(m, "object"), "model");
    /* model.ParseName("gemma3:latest").Namespace */
    assert_string_equal(str_at(m, "owned_by"), "library");
    /* created = /api/tags' modified_at in Unix seconds. */
    long long created = (long long)num_at(m, "created");
    cJSON_Delete(j);
    xfer_free(&x, 1);

    x = get("/api/tags");
    j = cJSON_Parse(x.data);
    const char *mod = str_at(cJSON_GetArrayItem(
                                 cJSON_GetObjectItem(j, "models"), 0),
                             "modified_at");
    struct tm tm = {0};
    assert_int_equal(sscanf(mod, "%d-%d-%dT%d:%d:%d", &tm.tm_year,
                            &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    assert_int_equal(created, (long long)timegm(&tm));
    cJSON_Delete(j);
    xfer_free(&x, 1);

    /* Retrieve: percent-decoded, the id echoed as asked. */
    char want[160];
    snprintf(want, sizeof want,
             "{\"id\":\"gemma3:latest\",\"object\":\"model\",\"created\":"
             "%lld,\"owned_by\":\"library\"}\n",
             created);
    x = get("/v1/models/gemma3%3Alatest");
    assert_int_equal(x.status, 200);
    assert_string_equal(x.data, want);
    xfer_free(&x, 1);
    x = get("/v1/models/gemma3");
    assert_int_equal(x.status, 200);
    j = cJSON_Parse(x.data);
    assert_string_equal(str_at(j, "id"), "gemma3");
    cJSON_Delete(j);
    xfer_free(&x, 1);
    x = get("/v1/models/llama3%3A8b");
    check_error(&x, 404, "api_error", "model 'llama3:8b' not found");
    xfer_free(&x, 1);
    x = (xfer){.port = PORT32, .path = "/v1/models/llama3%3A8b"};
    xfer_run(&x, 1);
    check_error(&x, 404, "not_found_error", "model 'llama3:8b' not found");
    xfer_free(&x, 1);
}

static void test_404_405(void **state)
{
    (void)state;
    xfer x = get("/v1/nothing");
    assert_int_equal(x.status, 404);
    assert_string_equal(x.data, "404 page not found");
    xfer_free(&x, 1);
    x = get("/v1/chat/completions");
    assert_int_equal(x.status, 405);
    xfer_free(&x, 1);
    x = post("/v1/models", "{}");
    assert_int_equal(x.status, 405);
    xfer_free(&x, 1);
    /* A model name cannot hold a '/' in this route (Gin's :model). */
    x = get("/v1/models/a%2Fb");
    assert_int_equal(x.status, 404);
    xfer_free(&x, 1);
}

/* ---- streams ---- */

static const char CHAT5[] =
    "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"12345678\"}],\"stream\":true,\"max_tokens\":5,"
    "\"seed\":7,\"stream_options\":{\"include_usage\":true}}";

/* What the native API answers to the same request (same seed, prompt and
 * length): the OpenAI layer must stream the same text. */
static char *native_text(int is_chat)
{
    xfer x = post(is_chat ? "/api/chat" : "/api/generate",
                  is_chat ? "{\"model\":\"gemma3\",\"messages\":[{\"role\":"
                            "\"user\",\"content\":\"12345678\"}],"
                            "\"stream\":false,\"options\":{\"seed\":7,"
                            "\"num_predict\":5}}"
                          : "{\"model\":\"gemma3\",\"prompt\":\"12345678\","
                            "\"stream\":false,\"options\":{\"seed\":7,"
                            "\"num_predict\":5}}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    const cJSON *v = is_chat ? cJSON_GetObjectItem(
                                   cJSON_GetObjectItem(j, "message"), "content")
                             : cJSON_GetObjectItem(j, "response");
    char *s = strdup(v->valuestring);
    cJSON_Delete(j);
    xfer_free(&x, 1);
    return s;
}

/* One streamed chat in either shape:
 *   0.6 (Ollama 0.6.5): every delta {"role":"assistant","content":tok},
 *     each chunk its own created, finish_reason on the chunk of the final
 *     line's empty content;
 *   0.32 (>= 0.32.6): role on the first delta only, one created, a finish
 *     chunk with an empty delta.
 * Both: usage-only chunk, then [DONE], all in the final write. */
static void check_chat_stream(int port, int v0_32)
{
    long long t0 = (long long)time(NULL);
    raw_result r;
    raw_post(port, "/v1/chat/completions", CHAT5, NULL, &r, 5000);
    long long t1 = (long long)time(NULL);
    assert_int_equal(r.status, 200);
    assert_true(r.parse_ok);
    assert_string_equal(r.content_type, "text/event-stream");
    assert_string_equal(r.transfer_encoding, "chunked");
    /* 5 token events + one final write, one HTTP chunk each. */
    assert_int_equal(r.n_chunks, 6);
    /* Same timing as /api/chat: prompt eval (10 tokens / 1500 + 0.3 s) +
     * one token (1/122 s), / 20 = 15.33 + 0.41 ms before the first byte. */
    double ttfb = (double)(r.t_first_byte - r.t_sent);
    assert_true(ttfb >= 15.7 * MS);
    assert_true(ttfb < 15.8 * MS + 30 * MS);
    assert_int_equal(r.headers_read_no, r.chunks[0].read_no);

    static const char *const keys[] = {"id", "object", "created", "model",
                                       "system_fingerprint", "choices"};
    char id[64] = "";
    double created = 0;
    char text[256] = "";
    for (int i = 0; i < 5; i++) {
        cJSON *j = one_event(&r.chunks[i]);
        char *s = cJSON_PrintUnformatted(j);
        assert_true(keys_in_order(s, keys, 6));
        free(s);
        if (!i) {
            snprintf(id, sizeof id, "%s", str_at(j, "id"));
            created = num_at(j, "created");
        }
        /* One id ("chatcmpl-<0..998>") per stream; one created in 0.32,
         * the chunk's own time in 0.6. */
        assert_string_equal(str_at(j, "id"), id);
        if (v0_32)
            assert_true(num_at(j, "created") == created);
        assert_true(num_at(j, "created") >= t0 && num_at(j, "created") <= t1);
        assert_string_equal(str_at(j, "object"), "chat.completion.chunk");
        assert_string_equal(str_at(j, "model"), "gemma3");
        assert_string_equal(str_at(j, "system_fingerprint"), "fp_ollama");
        const cJSON *c = choice0(j);
        assert_int_equal((int)num_at(c, "index"), 0);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "finish_reason")));
        const cJSON *d = cJSON_GetObjectItem(c, "delta");
        const cJSON *role = cJSON_GetObjectItem(d, "role");
        if (!i || !v0_32)
            assert_string_equal(role->valuestring, "assistant");
        else
            assert_null(role);
        /* Byte for byte, as Go's json.Marshal writes a ChatCompletionChunk
         * (no spaces, omitempty fields absent) inside "data: ...\n\n". */
        char want[512];
        snprintf(want, sizeof want,
                 "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\","
                 "\"created\":%.0f,\"model\":\"gemma3\",\"system_fingerprint\":"
                 "\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{%s"
                 "\"content\":\"%s\"},\"finish_reason\":null}]}\n\n",
                 id, num_at(j, "created"),
                 i && v0_32 ? "" : "\"role\":\"assistant\",",
                 str_at(d, "content"));
        assert_int_equal(r.chunks[i].len, strlen(want));
        assert_memory_equal(r.chunks[i].data, want, strlen(want));
        strcat(text, str_at(d, "content"));
        cJSON_Delete(j);
    }
    assert_int_equal(strncmp(id, "chatcmpl-", 9), 0);
    int idn = atoi(id + 9);
    assert_true(idn >= 0 && idn < 999);

    /* Final write: finish chunk, usage chunk, [DONE]. */
    char *ev[MAX_EVENTS];
    int n = sse_split(r.chunks[5].data, r.chunks[5].len, ev, MAX_EVENTS);
    assert_int_equal(n, 3);
    cJSON *fin = cJSON_Parse(ev[0]);
    assert_true(keys_in_order(ev[0], keys, 6));
    assert_string_equal(str_at(fin, "id"), id);
    const cJSON *c = choice0(fin);
    const cJSON *fd = cJSON_GetObjectItem(c, "delta");
    if (v0_32) {
        assert_int_equal(cJSON_GetArraySize(fd), 0);
    } else {
        assert_int_equal(cJSON_GetArraySize(fd), 2);
        assert_string_equal(str_at(fd, "role"), "assistant");
        assert_string_equal(str_at(fd, "content"), "");
    }
    assert_string_equal(str_at(c, "finish_reason"), "length");
    double fin_created = num_at(fin, "created");
    cJSON_Delete(fin);
    static const char *const ukeys[] = {"id", "object", "created", "model",
                                        "system_fingerprint", "choices",
                                        "usage"};
    assert_true(keys_in_order(ev[1], ukeys, 7));
    cJSON *u = cJSON_Parse(ev[1]);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(u, "choices")), 0);
    assert_true(num_at(u, "created") == fin_created);
    /* "12345678": (8 + 3) / 4 = 2 tokens + 8 template tokens. */
    check_usage(u, 10, 5);
    cJSON_Delete(u);
    assert_string_equal(ev[2], "[DONE]");
    free_events(ev, n);
    static const char done[] = "data: [DONE]\n\n";
    assert_memory_equal(r.chunks[5].data + r.chunks[5].len - strlen(done),
                        done, strlen(done));

    char *native = native_text(1);
    assert_string_equal(text, native);
    free(native);
    raw_free(&r);
}

static void test_chat_stream_format(void **state)
{
    (void)state;
    check_chat_stream(PORT, 0);
}

static void test_chat_stream_format_0_32(void **state)
{
    (void)state;
    check_chat_stream(PORT32, 1);
}

static void test_chat_stream_no_usage(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT32, "/v1/chat/completions",
             "{\"model\":\"gemma3:latest\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"x\"}],\"stream\":true,\"max_tokens\":2}",
             NULL, &r, 5000);
    assert_int_equal(r.n_chunks, 3);
    assert_null(has_bytes(r.body, r.body_len, "usage", 5));
    char *ev[MAX_EVENTS];
    int n = sse_split(r.chunks[2].data, r.chunks[2].len, ev, MAX_EVENTS);
    assert_int_equal(n, 2);
    assert_non_null(strstr(ev[0], "\"delta\":{},\"finish_reason\":\"length\""));
    assert_string_equal(ev[1], "[DONE]");
    free_events(ev, n);
    raw_free(&r);
}

static void test_completion_stream_format(void **state)
{
    (void)state;
    raw_result r;
    raw_post(PORT, "/v1/completions",
             "{\"model\":\"gemma3\",\"prompt\":\"12345678\",\"stream\":true,"
             "\"max_tokens\":5,\"seed\":7,"
             "\"stream_options\":{\"include_usage\":true}}",
             NULL, &r, 5000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/event-stream");
    assert_int_equal(r.n_chunks, 6);
    /* CompletionChunk's order: choices before model. */
    static const char *const keys[] = {"id", "object", "created", "choices",
                                       "model", "system_fingerprint",
                                       "usage"};
    char text[256] = "";
    for (int i = 0; i < 5; i++) {
        cJSON *j = one_event(&r.chunks[i]);
        char *s = cJSON_PrintUnformatted(j);
        assert_true(keys_in_order(s, keys, 7));
        free(s);
        assert_string_equal(str_at(j, "object"), "text_completion");
        assert_int_equal(strncmp(str_at(j, "id"), "cmpl-", 5), 0);
        const cJSON *c = choice0(j);
        static const char *const ckeys[] = {"text", "index", "finish_reason"};
        s = cJSON_PrintUnformatted(c);
        assert_true(keys_in_order(s, ckeys, 3));
        free(s);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "finish_reason")));
        strcat(text, str_at(c, "text"));
        /* include_usage puts an empty usage on every chunk. */
        check_usage(j, 0, 0);
        cJSON_Delete(j);
    }
    char *ev[MAX_EVENTS];
    int n = sse_split(r.chunks[5].data, r.chunks[5].len, ev, MAX_EVENTS);
    assert_int_equal(n, 3);
    cJSON *fin = cJSON_Parse(ev[0]);
    const cJSON *c = choice0(fin);
    assert_string_equal(str_at(c, "text"), "");
    assert_string_equal(str_at(c, "finish_reason"), "length");
    check_usage(fin, 0, 0);
    cJSON_Delete(fin);
    cJSON *u = cJSON_Parse(ev[1]);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(u, "choices")), 0);
    check_usage(u, 10, 5);
    cJSON_Delete(u);
    assert_string_equal(ev[2], "[DONE]");
    free_events(ev, n);
    char *native = native_text(0);
    assert_string_equal(text, native);
    free(native);
    raw_free(&r);
}

static void test_no_stream(void **state)
{
    (void)state;
    /* OpenAI's stream defaults to false. */
    xfer x = post("/v1/chat/completions",
                  "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                  "\"content\":\"12345678\"}],\"max_tokens\":5,\"seed\":7}");
    assert_int_equal(x.status, 200);
    assert_int_equal(x.data[x.len - 1], '\n');
    static const char *const keys[] = {"id", "object", "created", "model",
                                       "system_fingerprint", "choices",
                                       "usage"};
    assert_true(keys_in_order(x.data, keys, 7));
    cJSON *j = cJSON_Parse(x.data);
    assert_string_equal(str_at(j, "object"), "chat.completion");
    const cJSON *c = choice0(j);
    static const char *const ckeys[] = {"index", "message", "finish_reason"};
    char *s = cJSON_PrintUnformatted(c);
    assert_true(keys_in_order(s, ckeys, 3));
    free(s);
    assert_string_equal(str_at(c, "finish_reason"), "length");
    const cJSON *m = cJSON_GetObjectItem(c, "message");
    assert_string_equal(str_at(m, "role"), "assistant");
    char *native = native_text(1);
    assert_string_equal(str_at(m, "content"), native);
    free(native);
    check_usage(j, 10, 5);
    cJSON_Delete(j);
    xfer_free(&x, 1);

    x = post("/v1/completions",
             "{\"model\":\"gemma3\",\"prompt\":\"12345678\",\"max_tokens\":5,"
             "\"seed\":7,\"stream\":false}");
    assert_int_equal(x.status, 200);
    assert_true(keys_in_order(x.data, keys, 7));
    j = cJSON_Parse(x.data);
    assert_string_equal(str_at(j, "object"), "text_completion");
    c = choice0(j);
    native = native_text(0);
    assert_string_equal(str_at(c, "text"), native);
    free(native);
    assert_string_equal(str_at(c, "finish_reason"), "length");
    check_usage(j, 10, 5);
    cJSON_Delete(j);
    xfer_free(&x, 1);

    /* Without max_tokens the length is the model's: finish_reason stop. */
    x = post("/v1/chat/completions",
             "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"hi\"}]}");
    j = cJSON_Parse(x.data);
    assert_string_equal(str_at(choice0(j), "finish_reason"), "stop");
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

/* An empty prompt only loads the model: finish_reason "load", no counts. */
static void test_load_only(void **state)
{
    (void)state;
    xfer x = post("/v1/completions", "{\"model\":\"gemma3\",\"prompt\":\"\"}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    assert_string_equal(str_at(choice0(j), "finish_reason"), "load");
    check_usage(j, 0, 0);
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *path, *body;
        long status;
        int handler; /* the native handler's error, not the middleware's */
        const char *msg;
    } cases[] = {
        {"/v1/chat/completions", "{bad", 400, 0,
         "invalid JSON in request body"},
        {"/v1/chat/completions", "", 400, 0, "missing request body"},
        {"/v1/chat/completions",
         "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"x\"}]}",
         404, 1, "model 'llama3' not found"},
        {"/v1/chat/completions",
         "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400,
         1, "model is required"},
        {"/v1/chat/completions", "{\"model\":\"gemma3\",\"messages\":[]}",
         400, 0, "[] is too short - 'messages'"},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\"}]}", 400,
         0, "invalid message content type: <nil>"},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"x\"}],\"max_tokens\":\"ten\"}",
         400, 0,
         "json: cannot unmarshal string into Go struct field "
         "ChatCompletionRequest.max_tokens of type int"},
        {"/v1/completions",
         "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stop\":[\"a\",1]}", 400,
         0, "invalid type for 'stop' field: float64"},
        {"/v1/completions", "{\"model\":\"gemma3\",\"prompt\":[\"x\"]}",
         400, 0,
         "json: cannot unmarshal array into Go struct field "
         "CompletionRequest.prompt of type string"},
        {"/v1/embeddings", "{\"model\":\"nope\",\"input\":\"x\"}", 404,
         1, "model 'nope' not found"},
        {"/v1/embeddings", "{\"model\":\"gemma3\"}", 400,
         0, "invalid input"},
        {"/v1/embeddings", "{\"model\":\"gemma3\",\"input\":[1]}", 400,
         1, "invalid input type"},
        {"/v1/embeddings",
         "{\"model\":\"gemma3\",\"input\":\"x\",\"encoding_format\":\"hex\"}",
         400, 0,
         "Invalid value for 'encoding_format' = hex. Supported values: "
         "['float', 'base64']."},
    };
    const int ports[] = {PORT, PORT32};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (int p = 0; p < 2; p++) {
            xfer x = {.port = ports[p], .path = cases[i].path,
                      .body = cases[i].body};
            xfer_run(&x, 1);
            check_error(&x, cases[i].status,
                        want_type(ports[p], cases[i].handler,
                                  cases[i].status),
                        cases[i].msg);
            xfer_free(&x, 1);
        }
    }
}

/* Odd inputs: each gets an OpenAI error (never a crash or a hang). */
static void test_odd_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *path, *body;
        long status;
        int handler; /* see want_type */
    } cases[] = {
        {"/v1/chat/completions", "[]", 400, 0},
        {"/v1/chat/completions", "null", 400, 0},
        {"/v1/chat/completions", "{\"model\":\"gemma3\",\"messages\":{}}", 400, 0},
        {"/v1/chat/completions", "{\"model\":\"gemma3\",\"messages\":[1]}", 400, 0},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":[{\"type\":\"video\"}]}]}",
         400, 0},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":[7]}]}",
         400, 0},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"x\"}],\"stream_options\":{\"include_usage\":1}}",
         400, 0},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"x\"}],\"reasoning_effort\":\"extreme\"}",
         400, 0},
        {"/v1/chat/completions",
         "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"x\"}],\"seed\":1e300}",
         400, 0},
        {"/v1/chat/completions", "{\"model\":7,\"messages\":[]}", 400, 0},
        {"/v1/completions", "{\"model\":\"gemma3\",\"temperature\":\"hot\"}",
         400, 0},
        {"/v1/embeddings", "{\"model\":\"gemma3\",\"input\":[]}", 400, 0},
        {"/v1/embeddings", "{\"model\":\"gemma3\",\"input\":{}}", 400, 1},
        {"/v1/embeddings", "{\"model\":\"gemma3\",\"input\":\"x\","
                           "\"dimensions\":0.5}", 400, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xfer x = post(cases[i].path, cases[i].body);
        check_error(&x, cases[i].status,
                    want_type(PORT, cases[i].handler, cases[i].status), NULL);
        xfer_free(&x, 1);
    }
    /* Accepted oddities: a text part list, an image part (no text, an
     * image's prompt tokens),
     * tool-call messages without content, a negative seed, stop as a
     * string. */
    xfer x = post("/v1/chat/completions",
                  "{\"model\":\"gemma3\",\"max_tokens\":2,\"seed\":-5,"
                  "\"stop\":\"\\n\",\"messages\":[{\"role\":\"user\","
                  "\"content\":[{\"type\":\"text\",\"text\":\"abcd\"},"
                  "{\"type\":\"image_url\",\"image_url\":\"data:;base64,\"}]},"
                  "{\"role\":\"assistant\",\"tool_calls\":[]}]}");
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    /* "abcd" + "" + "": 1 token + 8, and 768 for the image (issue 19). */
    check_usage(j, 9 + 768, 2);
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

/* ---- embeddings ---- */

static int b64_val(char ch)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(tab, ch);
    return p && ch ? (int)(p - tab) : -1;
}

/* Decodes base64 of little-endian float32s (independent of the
 * emulator's encoder). Returns the count. */
static int b64_floats(const char *s, float *out, int max)
{
    size_t len = strlen(s);
    assert_int_equal(len % 4, 0);
    unsigned char bytes[8192];
    size_t nb = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++)
            v[k] = s[i + k] == '=' ? 0 : b64_val(s[i + k]);
        for (int k = 0; k < 4; k++)
            assert_true(v[k] >= 0);
        unsigned w = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        bytes[nb++] = (unsigned char)(w >> 16);
        if (s[i + 2] != '=')
            bytes[nb++] = (unsigned char)(w >> 8);
        if (s[i + 3] != '=')
            bytes[nb++] = (unsigned char)w;
    }
    assert_int_equal(nb % 4, 0);
    int n = (int)(nb / 4);
    assert_true(n <= max);
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
                     (uint32_t)bytes[4 * i + 2] << 16 |
                     (uint32_t)bytes[4 * i + 3] << 24;
        memcpy(&out[i], &u, 4);
    }
    return n;
}

static void test_embeddings(void **state)
{
    (void)state;
    xfer x = post("/v1/embeddings",
                  "{\"model\":\"gemma3\",\"input\":[\"abcd\",\"hello world\"]}");
    assert_int_equal(x.status, 200);
    static const char *const keys[] = {"object", "data", "model", "usage"};
    assert_true(keys_in_order(x.data, keys, 4));
    cJSON *j = cJSON_Parse(x.data);
    assert_string_equal(str_at(j, "object"), "list");
    assert_string_equal(str_at(j, "model"), "gemma3");
    const cJSON *data = cJSON_GetObjectItem(j, "data");
    assert_int_equal(cJSON_GetArraySize(data), 2);
    for (int i = 0; i < 2; i++) {
        const cJSON *d = cJSON_GetArrayItem(data, i);
        static const char *const dkeys[] = {"object", "embedding", "index"};
        char *s = cJSON_PrintUnformatted(d);
        assert_true(keys_in_order(s, dkeys, 3));
        free(s);
        assert_string_equal(str_at(d, "object"), "embedding");
        assert_int_equal((int)num_at(d, "index"), i);
        const cJSON *v = cJSON_GetObjectItem(d, "embedding");
        /* Ollama's EmbedHandler: the model's width (--embed-dim). */
        assert_int_equal(cJSON_GetArraySize(v), 2560);
        double norm = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, v) norm += f->valuedouble * f->valuedouble;
        assert_true(fabs(norm - 1) < 1e-5); /* normalized, as Ollama does */
    }
    /* /api/embed's count: "abcd" 1 + 2, "hello world" 3 + 2. */
    const cJSON *u = cJSON_GetObjectItem(j, "usage");
    assert_int_equal((int)num_at(u, "prompt_tokens"), 8);
    assert_int_equal((int)num_at(u, "total_tokens"), 8);
    double first = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(data, 0), "embedding"), 0)
                       ->valuedouble;
    cJSON_Delete(j);
    xfer_free(&x, 1);

    /* The same text gives the same vector; dimensions cut and renormalize;
     * base64 carries the same float32s. */
    x = post("/v1/embeddings",
             "{\"model\":\"gemma3\",\"input\":\"abcd\",\"dimensions\":4}");
    j = cJSON_Parse(x.data);
    const cJSON *v = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0), "embedding");
    assert_int_equal(cJSON_GetArraySize(v), 4);
    double f4[4], norm = 0;
    /* A width beyond the model's is no cut (and no overflow). */
    xfer big = post("/v1/embeddings", "{\"model\":\"gemma3\",\"input\":\"abcd\","
                                      "\"dimensions\":1e15}");
    assert_int_equal(big.status, 200);
    cJSON *bj = cJSON_Parse(big.data);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(bj, "data"), 0),
                         "embedding")),
                     2560);
    cJSON_Delete(bj);
    xfer_free(&big, 1);
    for (int i = 0; i < 4; i++) {
        f4[i] = cJSON_GetArrayItem(v, i)->valuedouble;
        norm += f4[i] * f4[i];
    }
    assert_true(fabs(norm - 1) < 1e-5);
    /* Same direction as the first 4 components of the full vector. */
    assert_true(first * f4[0] > 0);
    cJSON_Delete(j);
    xfer_free(&x, 1);

    x = post("/v1/embeddings",
             "{\"model\":\"gemma3\",\"input\":\"abcd\",\"dimensions\":4,"
             "\"encoding_format\":\"base64\"}");
    j = cJSON_Parse(x.data);
    const char *b64 = str_at(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0), "embedding");
    float g[16];
    assert_int_equal(b64_floats(b64, g, 16), 4);
    for (int i = 0; i < 4; i++)
        assert_true(fabs(g[i] - f4[i]) < 1e-7);
    cJSON_Delete(j);
    xfer_free(&x, 1);
}

/* ---- faults: the shared ones, as seen on an SSE stream ---- */

static const char CHAT6[] =
    "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"x\"}],\"stream\":true,\"max_tokens\":6}";

static void faulty(const char *spec, raw_result *r)
{
    char hdr[160];
    snprintf(hdr, sizeof hdr, "X-Parbench-Fault: %s\r\n", spec);
    raw_post(PORT, "/v1/chat/completions", CHAT6, hdr, r, 3000);
}

static int event_parses(const raw_chunk *k)
{
    char *ev[MAX_EVENTS];
    int n = sse_split(k->data, k->len, ev, MAX_EVENTS);
    if (n != 1) {
        free_events(ev, n > 0 ? n : 0);
        return 0;
    }
    cJSON *j = cJSON_Parse(ev[0]);
    free_events(ev, n);
    cJSON_Delete(j);
    return j != NULL;
}

static void test_fault_replies(void **state)
{
    (void)state;
    xfer x = {.port = PORT, .path = "/v1/chat/completions", .body = CHAT6,
              .header = "X-Parbench-Fault: http500"};
    xfer_run(&x, 1);
    check_error(&x, 500, "api_error",
                "llama runner process has terminated: exit status 2 "
                "(parbench fault http500)");
    xfer_free(&x, 1);
    /* Per instance: instance 1 answers every request with 503, /v1 too. */
    xfer y = {.port = PORT_BUSY, .path = "/v1/chat/completions", .body = CHAT6};
    xfer_run(&y, 1);
    check_error(&y, 503, "api_error",
                "server busy, please try again.  maximum pending requests "
                "exceeded");
    xfer_free(&y, 1);
    xfer z = {.port = PORT_BUSY, .path = "/v1/embeddings",
              .body = "{\"model\":\"gemma3\",\"input\":\"x\"}"};
    xfer_run(&z, 1);
    check_error(&z, 503, "api_error", NULL);
    xfer_free(&z, 1);
    xfer b = {.port = PORT, .path = "/v1/completions",
              .body = "{\"model\":\"gemma3\",\"prompt\":\"x\"}",
              .header = "X-Parbench-Fault: nonsense"};
    xfer_run(&b, 1);
    check_error(&b, 400, "api_error", NULL); /* the handler's, in 0.6.5 */
    xfer_free(&b, 1);

    raw_result r;
    faulty("down", &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.raw_len, 0);
    raw_free(&r);
}

static void test_fault_error_after(void **state)
{
    (void)state;
    raw_result r;
    faulty("error_after:2", &r);
    /* Two token events, then an error event; the chunked body ends
     * properly, without [DONE]. */
    assert_true(r.parse_ok);
    assert_true(r.complete);
    assert_int_equal(r.n_chunks, 3);
    cJSON *j = one_event(&r.chunks[2]);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    assert_string_equal(str_at(e, "type"), "api_error");
    assert_non_null(strstr(str_at(e, "message"), "error_after"));
    cJSON_Delete(j);
    assert_null(has_bytes(r.body, r.body_len, "[DONE]", 6));
    raw_free(&r);
}

static void test_fault_malformed_truncate(void **state)
{
    (void)state;
    raw_result r;
    faulty("malformed_line:2", &r);
    assert_int_equal(r.n_chunks, 7);
    /* Event 2 is no longer JSON but still framed as one SSE event. */
    assert_true(event_parses(&r.chunks[0]));
    assert_false(event_parses(&r.chunks[1]));
    char *ev[MAX_EVENTS];
    assert_int_equal(sse_split(r.chunks[1].data, r.chunks[1].len, ev,
                               MAX_EVENTS),
                     1);
    free(ev[0]);
    assert_true(event_parses(&r.chunks[2]));
    raw_free(&r);

    faulty("truncate_final", &r);
    assert_true(r.complete);
    assert_int_equal(r.n_chunks, 7);
    for (int i = 0; i < 6; i++)
        assert_true(event_parses(&r.chunks[i]));
    /* The final write is cut in half: no [DONE], framing broken. */
    const raw_chunk *k = &r.chunks[6];
    assert_null(has_bytes(k->data, k->len, "[DONE]", 6));
    assert_int_equal(sse_split(k->data, k->len, ev, MAX_EVENTS), -1);
    raw_free(&r);
}

static void test_fault_transport(void **state)
{
    (void)state;
    xfer x = {.port = PORT, .path = "/v1/chat/completions", .body = CHAT6,
              .header = "X-Parbench-Fault: reset_after:3"};
    xfer_run(&x, 1);
    assert_int_equal(x.curl_rc, CURLE_RECV_ERROR);
    /* Three whole events arrived before the RST. */
    char *ev[MAX_EVENTS];
    int n = sse_split(x.data, x.len, ev, MAX_EVENTS);
    assert_int_equal(n, 3);
    free_events(ev, n);
    xfer_free(&x, 1);

    raw_result r;
    faulty("stall:0.6@2", &r);
    assert_true(r.parse_ok);
    assert_int_equal(r.n_chunks, 7);
    /* Event 3 is due at prompt (9/1500 + 0.3 s) + 3 tokens + 0.6 s, / 20
     * = 15.3 + 1.23 + 30 ms. */
    assert_true((double)(r.chunks[2].t - r.t_sent) >= 46.5 * MS);
    raw_free(&r);

    faulty("stall:0.6:close", &r);
    assert_false(r.complete);
    assert_true(r.eof);
    assert_int_equal(r.n_chunks, 1);
    raw_free(&r);

    faulty("delay_headers:0.6", &r);
    /* 15.3 + 0.41 + 30 ms before the first byte. */
    assert_true((double)(r.t_first_byte - r.t_sent) >= 45.7 * MS);
    assert_int_equal(r.n_chunks, 7);
    raw_free(&r);

    faulty("garbage:2", &r);
    assert_false(r.parse_ok);
    assert_true(r.eof);
    assert_int_equal(r.n_chunks, 2);
    raw_free(&r);
}

/* A transfer on its own thread (for requests that must start in order). */
typedef struct bg_xfer {
    pthread_t t;
    xfer x;
} bg_xfer;

static void *bg_xfer_run(void *arg)
{
    bg_xfer *b = arg;
    xfer_run(&b->x, 1);
    return NULL;
}

/* Ollama's 503 comes from the scheduler's pending queue (requests waiting
 * for a model load), not from requests waiting for a slot (issue 11): with
 * one model loadable at a time, A streams gemma3; B asks for llama3, which
 * must wait for A to finish before gemma3 can be evicted; C (the same as B)
 * then finds the pending queue (max_queue 0) full. */
static void test_queue_full_503(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, SCALE);
    o.num_parallel = 1;
    o.max_queue = 0;
    o.max_loaded = 1;
    o.n_models = 2;
    strcpy(o.models[1], "llama3:latest");
    emu_t *e = test_start(&o);
    assert_non_null(e);
    /* 400 tokens hold gemma3 ~160 ms at time scale 20. */
    static const char a[] =
        "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}],\"stream\":true,\"max_tokens\":400}";
    static const char b[] =
        "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\","
        "\"content\":\"x\"}],\"max_tokens\":2}";
    xfer w = {.port = emu_port(e, 0), .path = "/v1/chat/completions",
              .body = a};
    xfer_run(&w, 1); /* gemma3 loaded */
    xfer_free(&w, 1);
    bg_xfer ba = {.x = {.port = emu_port(e, 0), .path = "/v1/chat/completions",
                        .body = a}};
    pthread_create(&ba.t, NULL, bg_xfer_run, &ba);
    struct timespec ts = {0, 30 * 1000000L};
    nanosleep(&ts, NULL);
    bg_xfer bb = {.x = {.port = emu_port(e, 0), .path = "/v1/chat/completions",
                        .body = b}};
    pthread_create(&bb.t, NULL, bg_xfer_run, &bb);
    nanosleep(&ts, NULL);
    xfer c = {.port = emu_port(e, 0), .path = "/v1/chat/completions", .body = b};
    xfer_run(&c, 1);
    pthread_join(ba.t, NULL);
    pthread_join(bb.t, NULL);
    assert_int_equal(emu_stop(e), 0);
    assert_int_equal(ba.x.status, 200);
    /* B and C are the same request: whichever came second is refused. */
    assert_true((bb.x.status == 200) != (c.status == 200));
    check_error(bb.x.status == 200 ? &c : &bb.x, 503, "api_error",
                "server busy, please try again.  maximum pending requests "
                "exceeded");
    xfer_free(&ba.x, 1);
    xfer_free(&bb.x, 1);
    xfer_free(&c, 1);
}

/* Reads a --trace file: the write time of (request id, token index). */
static unsigned long long trace_ns(const char *path, const char *want_id,
                                   int want_idx)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    unsigned long long found = 0;
    while (fgets(line, sizeof line, f)) {
        int inst, idx;
        char id[64];
        unsigned long long ns;
        if (line[0] != '#' &&
            sscanf(line, "%d\t%63s\t%d\t%llu", &inst, id, &idx, &ns) == 4 &&
            !strcmp(id, want_id) && idx == want_idx)
            found = ns;
    }
    fclose(f);
    assert_true(found > 0);
    return found;
}

/* One slot shared by both dialects: a native and a /v1 request queue for
 * it like two native ones. Checked on the emulator's own clock (--trace),
 * which client scheduling cannot blur: the second's first token is written
 * at least its prompt evaluation ((9/1500 + 0.3) / 20 = 15.3 ms) plus a
 * token after the first's final line. */
static void test_dialects_share_slots(void **state)
{
    (void)state;
    char path[] = "/tmp/emu-oai-slots-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    emu_options o;
    test_opts(&o, 1, SCALE);
    o.load_s = 0;
    o.num_parallel = 1;
    o.prompt_cache = 0; /* the bound below has the whole prompt's cost */
    strcpy(o.trace_path, path);
    emu_t *e = test_start(&o);
    assert_non_null(e);
    xfer x[2] = {
        {.port = emu_port(e, 0), .path = "/api/chat",
         .header = "X-Parbench-Request: native",
         .body = "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}],\"options\":{\"num_predict\":20}}"},
        {.port = emu_port(e, 0), .path = "/v1/chat/completions",
         .header = "X-Parbench-Request: openai",
         .body = "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
                 "\"content\":\"x\"}],\"stream\":true,\"max_tokens\":20}"},
    };
    xfer_run(x, 2);
    assert_int_equal(emu_stop(e), 0);
    assert_int_equal(x[0].status, 200);
    assert_int_equal(x[1].status, 200);
    unsigned long long n1 = trace_ns(path, "native", 1);
    unsigned long long n_end = trace_ns(path, "native", 21);
    unsigned long long o1 = trace_ns(path, "openai", 1);
    unsigned long long o_end = trace_ns(path, "openai", 21);
    unlink(path);
    /* Whichever got the slot first, the other waited for its end. */
    if (n1 < o1)
        assert_true((double)(o1 - n_end) >= 15.7 * MS);
    else
        assert_true((double)(n1 - o_end) >= 15.7 * MS);
    xfer_free(x, 2);
}

/* ---- trace ---- */

static void test_trace(void **state)
{
    (void)state;
    char path[] = "/tmp/emu-oai-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    emu_options o;
    test_opts(&o, 1, SCALE);
    strcpy(o.trace_path, path);
    emu_t *e = test_start(&o);
    assert_non_null(e);
    raw_result r;
    raw_post(emu_port(e, 0), "/v1/chat/completions",
             "{\"model\":\"gemma3\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"x\"}],\"stream\":true,\"max_tokens\":3,"
             "\"stream_options\":{\"include_usage\":true}}",
             "X-Parbench-Request: req-7\r\n", &r, 5000);
    assert_int_equal(r.n_chunks, 4);
    assert_int_equal(emu_stop(e), 0);

    /* One line per write: token events 1..3, the final write as 4. */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(line[0], '#');
    for (int i = 1; i <= 4; i++) {
        int inst, idx;
        char id[64];
        unsigned long long ns;
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(sscanf(line, "%d\t%63s\t%d\t%llu", &inst, id, &idx,
                                &ns),
                         4);
        assert_string_equal(id, "req-7");
        assert_int_equal(idx, i);
        assert_true(ns >= r.t_sent && ns <= r.chunks[i - 1].t);
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    raw_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_stream_format),
        cmocka_unit_test(test_chat_stream_format_0_32),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_404_405),
        cmocka_unit_test(test_chat_stream_no_usage),
        cmocka_unit_test(test_completion_stream_format),
        cmocka_unit_test(test_no_stream),
        cmocka_unit_test(test_load_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_odd_inputs),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_fault_replies),
        cmocka_unit_test(test_fault_error_after),
        cmocka_unit_test(test_fault_malformed_truncate),
        cmocka_unit_test(test_fault_transport),
        cmocka_unit_test(test_queue_full_503),
        cmocka_unit_test(test_dialects_share_slots),
        cmocka_unit_test(test_trace),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
