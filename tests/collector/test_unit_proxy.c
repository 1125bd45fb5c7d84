/* proxy: the recording proxy between libcurl (or a raw socket) and an
 * in-process ideal emulator. The specification:
 * - a client gets through the proxy what it gets direct (same seed: the
 *   same lines and events, the times in them aside) for NDJSON and SSE;
 * - each request is recorded: chunk count = tokens + the final message,
 *   eval_count / completion_tokens = num_predict, times in order, every
 *   chunk written back to the client no earlier than it arrived;
 * - keep-alive: one client connection, one upstream connection, two records;
 * - a chunked request body and a 1 MiB one pass and are read (model,
 *   options);
 * - upstream down: 502 with a JSON error, recorded;
 * - a client leaving mid-stream: recorded as failed, the proxy goes on;
 * - a client that reads late shows write-back lag;
 * - headers over the limit: 431; an idle connection is closed; other
 *   routes pass and are recorded without a dialect;
 * - pipelined requests are answered in order, and a request after the
 *   server closed the idle upstream connection goes through a new one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <uv.h>

#include "emu.h"
#include "proxy.h"

/* ---- the emulator (its own thread) and the proxy's loop (another) ---- */

static emu_t *g_emu;
static int g_emu_port;
static uv_loop_t g_loop;
static uv_async_t g_stop;
static pthread_t g_thread;
static pb_proxy *g_px;

static void on_stop(uv_async_t *a)
{
    uv_stop(a->loop);
}

static void *loop_main(void *ud)
{
    (void)ud;
    uv_run(&g_loop, UV_RUN_DEFAULT);
    return NULL;
}

static void loop_resume(void)
{
    pthread_create(&g_thread, NULL, loop_main, NULL);
}

/* The proxy is only touched with its loop stopped. */
static void loop_pause(void)
{
    uv_async_send(&g_stop);
    pthread_join(g_thread, NULL);
}

static pb_proxy *proxy_to(int port)
{
    char up[64], err[256];
    snprintf(up, sizeof up, "http://127.0.0.1:%d", port);
    pb_proxy_opts o = {.upstream = up, .label = "ep0", .origin_ns = uv_hrtime(),
                       .connect_timeout_s = 2, .idle_timeout_s = 5, .keep_request_body = 1};
    pb_proxy *p = pb_proxy_start(&g_loop, &o, err, sizeof err);
    if (!p)
        fprintf(stderr, "pb_proxy_start: %s\n", err);
    return p;
}

static void on_closed(void *ud)
{
    *(int *)ud = 1;
}

/* With the loop paused: closes p and runs the loop here until it is gone. */
static void proxy_stop(pb_proxy *p)
{
    int done = 0;
    pb_proxy_close(p, on_closed, &done);
    for (int i = 0; i < 1000 && !done; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT);
    assert_true(done);
}

/* One ideal emulated instance on a free port, answers num_predict tokens
 * long; idle_timeout_s 0 keeps the emulator's default. NULL on failure
 * (said on stderr). */
static emu_t *emu_one(double time_scale, int num_parallel, double idle_timeout_s)
{
    emu_options o;
    emu_options_ideal(&o);
    o.n_instances = 1;
    strcpy(o.host[0], "127.0.0.1");
    o.port[0] = 0;
    o.quiet = 1;
    o.time_scale = time_scale;
    if (num_parallel > 0)
        o.num_parallel = num_parallel;
    o.len_mean = 1000000; /* every answer is num_predict tokens long */
    if (idle_timeout_s > 0)
        o.idle_timeout_s = idle_timeout_s;
    char err[256];
    emu_t *e = emu_start(&o, err, sizeof err);
    if (!e)
        fprintf(stderr, "emu_start: %s\n", err);
    return e;
}

static int setup(void **state)
{
    (void)state;
    /* As collect does (signals.c): a client gone mid-write is EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    g_emu = emu_one(50, 8, 0);
    if (!g_emu)
        return -1;
    g_emu_port = emu_port(g_emu, 0);
    uv_loop_init(&g_loop);
    uv_async_init(&g_loop, &g_stop, on_stop);
    g_px = proxy_to(g_emu_port);
    if (!g_px)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop_resume();
    return 0;
}

static void close_left(uv_handle_t *h, void *ud)
{
    (void)ud;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int teardown(void **state)
{
    (void)state;
    loop_pause();
    proxy_stop(g_px);
    uv_close((uv_handle_t *)&g_stop, NULL);
    /* A failed test may leave its own proxy open: close whatever is left
     * (leaking it) so the teardown ends. */
    uv_walk(&g_loop, close_left, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    uv_loop_close(&g_loop);
    emu_stop(g_emu);
    curl_global_cleanup();
    return 0;
}

/* Waits (bounded) until the proxy has finished every request, then takes
 * the records. */
static cJSON *take(void)
{
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; i < 200; i++) {
        loop_pause();
        size_t n = pb_proxy_in_flight(g_px);
        cJSON *a = pb_proxy_take_requests(g_px);
        loop_resume();
        /* As a reader sees it: chunk lists are raw JSON text until then. */
        char *text = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        a = cJSON_Parse(text);
        cJSON_free(text);
        cJSON *r;
        while ((r = cJSON_DetachItemFromArray(a, 0)))
            cJSON_AddItemToArray(all, r);
        cJSON_Delete(a);
        if (n == 0)
            break;
        usleep(10000);
    }
    return all;
}

/* ---- client side ---- */

typedef struct resp {
    char *data;
    size_t len;
    long status;
    long connects;
    int abort_after;   /* > 0: fail the write callback after this many calls */
    int calls;
} resp;

static size_t on_data(char *d, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    if (r->abort_after && ++r->calls > r->abort_after)
        return 0;
    r->data = realloc(r->data, r->len + size * n + 1);
    memcpy(r->data + r->len, d, size * n);
    r->len += size * n;
    r->data[r->len] = '\0';
    return size * n;
}

static CURLcode post_on(CURL *e, int port, const char *path, const char *body, resp *r,
                        struct curl_slist *hdr)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *h = hdr ? hdr : curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &r->connects);
    if (!hdr)
        curl_slist_free_all(h);
    return rc;
}

static CURLcode post(int port, const char *path, const char *body, resp *r)
{
    CURL *e = curl_easy_init();
    CURLcode rc = post_on(e, port, path, body, r, NULL);
    curl_easy_cleanup(e);
    return rc;
}

/* The body with what legitimately differs between two answers removed:
 * wall-clock stamps, server durations, ids. Each NDJSON line or SSE data
 * line is parsed and printed again without them. */
static char *normalize(const char *body)
{
    static const char *drop[] = {"created_at", "created", "id", "total_duration",
                                 "load_duration", "prompt_eval_duration", "eval_duration",
                                 "system_fingerprint"};
    size_t cap = strlen(body) * 2 + 16, len = 0;
    char *out = malloc(cap);
    const char *p = body;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *j = p;
        size_t jn = n;
        if (n >= 6 && !strncmp(p, "data: ", 6)) {
            j += 6;
            jn -= 6;
        }
        cJSON *o = cJSON_ParseWithLength(j, jn);
        if (cJSON_IsObject(o)) {
            for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
                cJSON_DeleteItemFromObjectCaseSensitive(o, drop[i]);
            char *s = cJSON_PrintUnformatted(o);
            len += (size_t)snprintf(out + len, cap - len, "%.*s%s\n", (int)(j - p), p, s);
            cJSON_free(s);
        } else {
            len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)n, p);
        }
        cJSON_Delete(o);
        p += n + (nl ? 1 : 0);
    }
    return out;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Times in order, chunks monotonic, each written back after it arrived. */
static void check_times(const cJSON *r)
{
    double ts = num(r, "t_start_ns"), tc = num(r, "t_connected_ns"),
           ti = num(r, "t_request_in_ns"), tse = num(r, "t_sent_upstream_ns"),
           tf = num(r, "t_first_byte_ns"), te = num(r, "t_end_ns"), td = num(r, "t_done_ns");
    assert_true(ts >= 0);
    assert_true(ts <= tc && tc <= ti && ti <= tse && tse <= tf && tf <= te && te <= td);
    const cJSON *ch = cJSON_GetObjectItem(r, "chunks"), *w = cJSON_GetObjectItem(r, "chunks_written_ns");
    assert_int_equal(cJSON_GetArraySize(ch), cJSON_GetArraySize(w));
    double prev = tf, bytes = 0;
    /* Walked as lists: indexing 30000 chunks one by one is quadratic. */
    const cJSON *wi = w->child;
    for (const cJSON *c = ch->child; c; c = c->next, wi = wi->next) {
        double t = c->child->valuedouble;
        bytes += c->child->next->valuedouble;
        assert_true(t >= prev);
        assert_true(t <= te);
        double tw = wi->valuedouble;
        assert_true(tw >= t);
        assert_true(tw <= td);
        prev = t;
    }
    assert_true(bytes == num(r, "bytes"));
}

static const char gen_body[] =
    "{\"model\":\"gemma3:latest\",\"prompt\":\"Why is the sky blue?\",\"stream\":true,"
    "\"options\":{\"num_predict\":40,\"seed\":7}}";

static void test_ndjson_same_as_direct(void **state)
{
    (void)state;
    resp d = {0}, p = {0};
    assert_int_equal(post(g_emu_port, "/api/generate", gen_body, &d), CURLE_OK);
    assert_int_equal(post(pb_proxy_port(g_px), "/api/generate", gen_body, &p), CURLE_OK);
    assert_int_equal(p.status, 200);
    char *nd = normalize(d.data), *np = normalize(p.data);
    assert_string_equal(nd, np);
    /* 40 token lines and the final line; the responses carry text. */
    int lines = 0;
    for (const char *s = p.data; (s = strchr(s, '\n')); s++)
        lines++;
    assert_int_equal(lines, 41);
    free(nd);
    free(np);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *r = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(r, "source")->valuestring, "proxy");
    assert_string_equal(cJSON_GetObjectItem(r, "api")->valuestring, "generate");
    assert_string_equal(cJSON_GetObjectItem(r, "dialect")->valuestring, "generate");
    assert_string_equal(cJSON_GetObjectItem(r, "model")->valuestring, "gemma3:latest");
    assert_true(num(cJSON_GetObjectItem(r, "options"), "seed") == 7);
    /* The body as sent, for a replay. */
    cJSON *sent = cJSON_Parse(gen_body);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(r, "request_body"), sent, 1));
    cJSON_Delete(sent);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    assert_true(num(r, "tokens") == 40);
    assert_true(num(cJSON_GetObjectItem(r, "final"), "eval_count") == 40);
    assert_true(num(cJSON_GetObjectItem(r, "final"), "eval_duration") > 0);
    assert_true(num(r, "bytes") == (double)p.len);
    /* One chunk per line the server wrote: tokens + the final line. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "chunks")), 41);
    assert_true(num(r, "t_first_token_ns") >= num(r, "t_first_byte_ns"));
    check_times(r);
    cJSON_Delete(a);
    free(d.data);
    free(p.data);
}

static const char chat_body[] =
    "{\"model\":\"gemma3:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
    "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":30,\"seed\":3}";

static void test_sse_same_as_direct(void **state)
{
    (void)state;
    resp d = {0}, p = {0};
    assert_int_equal(post(g_emu_port, "/v1/chat/completions", chat_body, &d), CURLE_OK);
    assert_int_equal(post(pb_proxy_port(g_px), "/v1/chat/completions", chat_body, &p), CURLE_OK);
    assert_int_equal(p.status, 200);
    char *nd = normalize(d.data), *np = normalize(p.data);
    assert_string_equal(nd, np);
    assert_non_null(strstr(p.data, "data: [DONE]"));
    free(nd);
    free(np);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *r = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(r, "api")->valuestring, "openai-chat");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    assert_true(num(r, "tokens") == 30);
    assert_true(num(r, "completion_tokens") == 30);
    assert_true(num(cJSON_GetObjectItem(r, "options"), "max_tokens") == 30);
    assert_true(num(r, "bytes") == (double)p.len);
    check_times(r);
    cJSON_Delete(a);
    free(d.data);
    free(p.data);
}

/* Requests that ask for no stream (the openai SDK's create(), Ollama's
 * "stream": false) and a streamed Responses API request: forwarded as they
 * are, and recorded with the server's count; the non-streamed ones whole
 * (no first token), the streamed one with its first token. */
static void test_whole_and_responses(void **state)
{
    (void)state;
    static const struct { const char *path, *body, *api; int streamed; } rq[] = {
        {"/v1/chat/completions", "{\"model\":\"gemma3:latest\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"Hi\"}],\"max_tokens\":30,\"seed\":3}", "openai-chat", 0},
        {"/api/chat", "{\"model\":\"gemma3:latest\",\"messages\":[{\"role\":\"user\","
         "\"content\":\"Hi\"}],\"stream\":false,\"options\":{\"num_predict\":30,\"seed\":3}}",
         "chat", 0},
        {"/v1/responses", "{\"model\":\"gemma3:latest\",\"input\":\"Hi\",\"max_output_tokens\":30}",
         "openai-responses", 0},
        {"/v1/responses", "{\"model\":\"gemma3:latest\",\"input\":\"Hi\",\"max_output_tokens\":30,"
         "\"stream\":true}", "openai-responses", 1},
    };
    for (size_t i = 0; i < sizeof rq / sizeof rq[0]; i++) {
        resp d = {0}, p = {0};
        assert_int_equal(post(g_emu_port, rq[i].path, rq[i].body, &d), CURLE_OK);
        assert_int_equal(post(pb_proxy_port(g_px), rq[i].path, rq[i].body, &p), CURLE_OK);
        assert_int_equal(p.status, 200);
        if (!rq[i].streamed) {
            /* One JSON document, as direct. */
            cJSON *jd = cJSON_Parse(d.data), *jp = cJSON_Parse(p.data);
            assert_non_null(jd);
            assert_non_null(jp);
            cJSON_Delete(jd);
            cJSON_Delete(jp);
        }
        cJSON *a = take();
        assert_int_equal(cJSON_GetArraySize(a), 1);
        const cJSON *r = cJSON_GetArrayItem(a, 0);
        assert_string_equal(cJSON_GetObjectItem(r, "api")->valuestring, rq[i].api);
        if (!cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")))
            fail_msg("%s: %s", rq[i].path, cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "error")));
        assert_true(num(r, "completion_tokens") == 30);
        assert_true(num(r, "tokens") == 30);
        assert_true(num(r, "bytes") == (double)p.len);
        const cJSON *s = cJSON_GetObjectItem(r, "streamed");
        if (rq[i].streamed) {
            assert_null(s);
            assert_true(num(r, "t_first_token_ns") > 0);
        } else {
            assert_true(cJSON_IsFalse(s));
            assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "t_first_token_ns")));
        }
        cJSON_Delete(a);
        free(d.data);
        free(p.data);
    }
}

static void test_keep_alive(void **state)
{
    (void)state;
    CURL *e = curl_easy_init();
    resp r1 = {0}, r2 = {0};
    assert_int_equal(post_on(e, pb_proxy_port(g_px), "/api/generate", gen_body, &r1, NULL), CURLE_OK);
    assert_int_equal(post_on(e, pb_proxy_port(g_px), "/api/generate", gen_body, &r2, NULL), CURLE_OK);
    assert_int_equal(r2.connects, 0); /* curl reused its connection */
    assert_int_equal(r1.status, 200);
    assert_int_equal(r2.status, 200);
    curl_easy_cleanup(e);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 2);
    const cJSON *a1 = cJSON_GetArrayItem(a, 0), *a2 = cJSON_GetArrayItem(a, 1);
    assert_true(num(a1, "connection") == num(a2, "connection"));
    assert_true(num(a1, "connection_request") == 1);
    assert_true(num(a2, "connection_request") == 2);
    assert_true(num(a2, "t_start_ns") == num(a2, "t_connected_ns"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(a2, "ok")));
    check_times(a2);
    cJSON_Delete(a);
    free(r1.data);
    free(r2.data);
}

typedef struct src {
    const char *data;
    size_t len, off;
} src;

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    src *s = ud;
    size_t k = size * n < 7 ? size * n : 7; /* many small chunks */
    if (k > s->len - s->off)
        k = s->len - s->off;
    memcpy(buf, s->data + s->off, k);
    s->off += k;
    return k;
}

static void test_chunked_request_body(void **state)
{
    (void)state;
    CURL *e = curl_easy_init();
    src s = {gen_body, strlen(gen_body), 0};
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &s);
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "X-Parbench-Request: chunked-1");
    h = curl_slist_append(h, "Expect:");
    resp r = {0};
    assert_int_equal(post_on(e, pb_proxy_port(g_px), "/api/generate", NULL, &r, h), CURLE_OK);
    assert_int_equal(r.status, 200);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *q = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(q, "request_id")->valuestring, "chunked-1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "request_id_sent")));
    assert_true(num(q, "request_bytes") == (double)strlen(gen_body));
    assert_true(num(cJSON_GetObjectItem(q, "options"), "num_predict") == 40);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    assert_true(num(q, "tokens") == 40);
    cJSON_Delete(a);
    free(r.data);
}

static void test_large_request_body(void **state)
{
    (void)state;
    /* 1 MiB exactly: the emulator's (and Ollama's default proxy's) limit. */
    size_t total = 1u << 20;
    /* The bulk in a field servers ignore: a 1 MiB prompt would cost the
     * emulator seconds of simulated prompt evaluation. */
    const char *pre = "{\"model\":\"gemma3:latest\",\"options\":{\"num_predict\":5},"
                      "\"prompt\":\"Hi\",\"padding\":\"";
    const char *post_s = "\"}";
    char *b = malloc(total + 1);
    size_t pl = strlen(pre), sl = strlen(post_s);
    memcpy(b, pre, pl);
    memset(b + pl, 'a', total - pl - sl);
    memcpy(b + total - sl, post_s, sl + 1);
    resp r = {0};
    assert_int_equal(post(pb_proxy_port(g_px), "/api/generate", b, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *q = cJSON_GetArrayItem(a, 0);
    assert_true(num(q, "request_bytes") == (double)total);
    assert_true(num(cJSON_GetObjectItem(q, "options"), "num_predict") == 5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    assert_true(num(q, "tokens") == 5);
    cJSON_Delete(a);
    free(r.data);

    /* 2 MiB: the server answers 413 before the body's end (and closes);
     * the client gets that answer, the record says so. */
    size_t big = 2u << 20;
    b = realloc(b, big + 1);
    memcpy(b, pre, pl);
    memset(b + pl, 'a', big - pl - sl);
    memcpy(b + big - sl, post_s, sl + 1);
    resp r2 = {0};
    CURLcode rc = post(pb_proxy_port(g_px), "/api/generate", b, &r2);
    /* curl may also see the connection close while it still sends. */
    assert_true(rc == CURLE_OK || rc == CURLE_SEND_ERROR);
    if (rc == CURLE_OK)
        assert_int_equal(r2.status, 413);
    a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    q = cJSON_GetArrayItem(a, 0);
    assert_true(num(q, "http_status") == 413);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    cJSON_Delete(a);
    free(r2.data);
    free(b);
}

static void test_upstream_down(void **state)
{
    (void)state;
    /* A port nobody listens on: bound, then closed. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    int dead = ntohs(sa.sin_port);
    close(fd);
    loop_pause();
    pb_proxy *px = proxy_to(dead);
    loop_resume();
    assert_non_null(px);
    resp r = {0};
    assert_int_equal(post(pb_proxy_port(px), "/api/generate", gen_body, &r), CURLE_OK);
    assert_int_equal(r.status, 502);
    cJSON *err = cJSON_Parse(r.data);
    assert_non_null(strstr(cJSON_GetObjectItem(err, "error")->valuestring, "cannot connect"));
    cJSON_Delete(err);
    cJSON *a = NULL;
    for (int i = 0; i < 100; i++) {
        loop_pause();
        size_t n = pb_proxy_in_flight(px);
        if (n == 0)
            a = pb_proxy_take_requests(px);
        loop_resume();
        if (a)
            break;
        usleep(10000);
    }
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *q = cJSON_GetArrayItem(a, 0);
    assert_true(num(q, "http_status") == 502);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    assert_non_null(strstr(cJSON_GetObjectItem(q, "error")->valuestring, "cannot connect"));
    cJSON_Delete(a);
    loop_pause();
    proxy_stop(px);
    loop_resume();
    free(r.data);
}

static const char long_body[] =
    "{\"model\":\"gemma3:latest\",\"prompt\":\"Tell a story.\",\"stream\":true,"
    "\"options\":{\"num_predict\":2000,\"seed\":1}}";

static void test_client_leaves_mid_stream(void **state)
{
    (void)state;
    resp r = {.abort_after = 3};
    assert_int_equal(post(pb_proxy_port(g_px), "/api/generate", long_body, &r), CURLE_WRITE_ERROR);
    cJSON *a = take();
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *q = cJSON_GetArrayItem(a, 0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    assert_non_null(strstr(cJSON_GetObjectItem(q, "error")->valuestring, "client"));
    /* Far fewer than 2000 tokens went through before the proxy let go. */
    assert_true(num(q, "tokens") < 2000);
    cJSON_Delete(a);
    free(r.data);
    /* The proxy goes on serving. */
    resp ok = {0};
    assert_int_equal(post(pb_proxy_port(g_px), "/api/generate", gen_body, &ok), CURLE_OK);
    assert_int_equal(ok.status, 200);
    a = take();
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "ok")));
    cJSON_Delete(a);
    free(ok.data);
}

/* A client with a 4 KiB receive buffer that reads nothing for 500 ms:
 * the proxy's writes back wait for it. The answer (30000 tokens, ~3 MB,
 * from an emulator 1000 times faster than real time: ~250 ms) is larger
 * than what the sockets' buffers absorb. */
static void test_slow_reader_lag(void **state)
{
    (void)state;
    emu_t *fast = emu_one(1000, 0, 0);
    assert_non_null(fast);
    loop_pause();
    pb_proxy *px = proxy_to(emu_port(fast, 0));
    loop_resume();
    assert_non_null(px);
    const char *body = "{\"model\":\"gemma3:latest\",\"prompt\":\"Tell a long story.\","
                       "\"options\":{\"num_predict\":30000,\"seed\":1}}";
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rb = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)pb_proxy_port(px))};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     strlen(body), body);
    assert_int_equal(write(fd, req, (size_t)n), n);
    usleep(500000);
    char buf[65536];
    size_t got = 0;
    for (ssize_t k; (k = read(fd, buf, sizeof buf)) > 0;)
        got += (size_t)k;
    close(fd);
    cJSON *a = NULL;
    for (int i = 0; i < 300 && !a; i++) {
        loop_pause();
        if (pb_proxy_in_flight(px) == 0)
            a = pb_proxy_take_requests(px);
        loop_resume();
        if (!a)
            usleep(10000);
    }
    assert_non_null(a);
    char *text = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    a = cJSON_Parse(text);
    cJSON_free(text);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    const cJSON *q = cJSON_GetArrayItem(a, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(q, "ok")));
    assert_true(num(q, "tokens") == 30000);
    assert_true(got > num(q, "bytes"));
    fprintf(stderr, "slow reader: write-back lag max %.1f ms\n", num(q, "writeback_lag_max_ns") / 1e6);
    /* Early chunks waited for the end of the 300 ms pause. */
    assert_true(num(q, "writeback_lag_max_ns") > 100e6);
    assert_true(num(q, "t_done_ns") - num(q, "t_end_ns") > 0);
    check_times(q);
    cJSON_Delete(a);
    loop_pause();
    proxy_stop(px);
    loop_resume();
    emu_stop(fast);
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)port)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Reads until the peer closes (or the 3 s receive timeout). */
static size_t raw_read_all(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    for (ssize_t k; got < cap - 1 && (k = read(fd, buf + got, cap - 1 - got)) > 0;)
        got += (size_t)k;
    buf[got] = '\0';
    return got;
}

/* px's records once none is in flight (1 s bound), NULL before that. */
static cJSON *take_idle(pb_proxy *px)
{
    cJSON *a = NULL;
    for (int i = 0; i < 100 && !a; i++) {
        loop_pause();
        if (pb_proxy_in_flight(px) == 0)
            a = pb_proxy_take_requests(px);
        loop_resume();
        if (!a)
            usleep(10000);
    }
    return a;
}

/* The bounds: headers over the limit get 431 (recorded), a connection
 * that sends nothing is closed after the idle timeout, and a route no
 * dialect reads (GET /api/version) passes and is recorded with api null. */
static void test_limits_and_other_routes(void **state)
{
    (void)state;
    char up[64], err[256];
    snprintf(up, sizeof up, "http://127.0.0.1:%d", g_emu_port);
    pb_proxy_opts o = {.upstream = up, .label = "ep1", .origin_ns = uv_hrtime(),
                       .max_header_bytes = 1024, .idle_timeout_s = 0.2};
    loop_pause();
    pb_proxy *px = pb_proxy_start(&g_loop, &o, err, sizeof err);
    loop_resume();
    assert_non_null(px);
    int port = pb_proxy_port(px);

    char big[2048], buf[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int fd = raw_connect(port);
    dprintf(fd, "GET /api/version HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big);
    raw_read_all(fd, buf, sizeof buf);
    close(fd);
    assert_int_equal(strncmp(buf, "HTTP/1.1 431 ", 13), 0);

    uint64_t t0 = uv_hrtime();
    fd = raw_connect(port);
    assert_int_equal(raw_read_all(fd, buf, sizeof buf), 0);
    double waited = (double)(uv_hrtime() - t0) / 1e9;
    close(fd);
    assert_true(waited >= 0.2 && waited < 2.5);

    fd = raw_connect(port);
    dprintf(fd, "GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw_read_all(fd, buf, sizeof buf);
    close(fd);
    assert_int_equal(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
    assert_non_null(strstr(buf, "\"version\""));

    cJSON *a = take_idle(px);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 2);
    const cJSON *r1 = cJSON_GetArrayItem(a, 0), *r2 = cJSON_GetArrayItem(a, 1);
    assert_true(num(r1, "http_status") == 431);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r1, "ok")));
    assert_true(num(r2, "http_status") == 200);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r2, "ok")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r2, "api")));
    assert_string_equal(cJSON_GetObjectItem(r2, "method")->valuestring, "GET");
    assert_string_equal(cJSON_GetObjectItem(r2, "url_path")->valuestring, "/api/version");
    cJSON_Delete(a);
    loop_pause();
    proxy_stop(px);
    loop_resume();
}

/* Reads until `want` final lines ("done":true) arrived (3 s bound each read). */
static size_t read_until_done(int fd, char *buf, size_t cap, int want)
{
    size_t got = 0;
    int seen = 0;
    while (seen < want && got < cap - 1) {
        ssize_t k = read(fd, buf + got, cap - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        buf[got] = '\0';
        seen = 0;
        for (const char *p = buf; (p = strstr(p, "\"done\":true")); p++)
            seen++;
    }
    buf[got] = '\0';
    return got;
}

/* Two requests pipelined in one write are answered in order; after the
 * server closed the idle upstream connection (its keep-alive timeout,
 * 0.1 s here) a third request on the same client connection goes through
 * a new upstream connection. */
static void test_pipelining_and_reconnect(void **state)
{
    (void)state;
    emu_t *emu = emu_one(50, 0, 0.1);
    assert_non_null(emu);
    loop_pause();
    pb_proxy *px = proxy_to(emu_port(emu, 0));
    loop_resume();
    assert_non_null(px);
    const char *b = "{\"model\":\"gemma3:latest\",\"prompt\":\"Hi\",\"options\":{\"num_predict\":3}}";
    char req[1024], buf[65536];
    int n = snprintf(req, sizeof req,
                     "POST /api/generate HTTP/1.1\r\nHost: x\r\nX-Parbench-Request: p1\r\n"
                     "Content-Length: %zu\r\n\r\n%s"
                     "POST /api/generate HTTP/1.1\r\nHost: x\r\nX-Parbench-Request: p2\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(b), b, strlen(b), b);
    int fd = raw_connect(pb_proxy_port(px));
    assert_int_equal(write(fd, req, (size_t)n), n);
    read_until_done(fd, buf, sizeof buf, 2);
    const char *first = strstr(buf, "HTTP/1.1 200"), *second = first ? strstr(first + 1, "HTTP/1.1 200") : NULL;
    assert_non_null(second);
    usleep(300000);
    n = snprintf(req, sizeof req,
                 "POST /api/generate HTTP/1.1\r\nHost: x\r\nX-Parbench-Request: p3\r\n"
                 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(b), b);
    assert_int_equal(write(fd, req, (size_t)n), n);
    raw_read_all(fd, buf, sizeof buf);
    close(fd);
    assert_int_equal(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
    assert_non_null(strstr(buf, "\"done\":true"));

    cJSON *a = take_idle(px);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 3);
    for (int i = 0; i < 3; i++) {
        const cJSON *r = cJSON_GetArrayItem(a, i);
        char id[8];
        snprintf(id, sizeof id, "p%d", i + 1);
        assert_string_equal(cJSON_GetObjectItem(r, "request_id")->valuestring, id);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
        assert_true(num(r, "tokens") == 3);
        assert_true(num(r, "connection_request") == i + 1);
        assert_true(num(r, "connection") == num(cJSON_GetArrayItem(a, 0), "connection"));
    }
    cJSON_Delete(a);
    loop_pause();
    proxy_stop(px);
    loop_resume();
    emu_stop(emu);
}

/* A proxy alone does not keep its loop running: collect runs the loop
 * until the program is gone. */
static void test_listener_keeps_no_loop_alive(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char up[64], err[256];
    snprintf(up, sizeof up, "http://127.0.0.1:%d", g_emu_port);
    pb_proxy_opts o = {.upstream = up, .label = "ep2"};
    pb_proxy *px = pb_proxy_start(&loop, &o, err, sizeof err);
    assert_non_null(px);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    int done = 0;
    pb_proxy_close(px, on_closed, &done);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(done);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_same_as_direct),
        cmocka_unit_test(test_sse_same_as_direct),
        cmocka_unit_test(test_whole_and_responses),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_chunked_request_body),
        cmocka_unit_test(test_large_request_body),
        cmocka_unit_test(test_upstream_down),
        cmocka_unit_test(test_client_leaves_mid_stream),
        cmocka_unit_test(test_slow_reader_lag),
        cmocka_unit_test(test_limits_and_other_routes),
        cmocka_unit_test(test_pipelining_and_reconnect),
        cmocka_unit_test(test_listener_keeps_no_loop_alive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
