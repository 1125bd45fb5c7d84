/* transfer: the write-callback path without a network: chunk recording,
 * TTFT, --chunk-bytes batching, final statistics and every parse failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_fs.h"
#include "pb_text.h"
#include "run.h"
#include "transfer.h"

static const char stream[] =
    "{\"model\":\"m\",\"created_at\":\"x\",\"response\":\"\",\"done\":false}\n"
    "{\"model\":\"m\",\"created_at\":\"x\",\"response\":\"Hel\",\"done\":false}\n"
    "{\"model\":\"m\",\"created_at\":\"x\",\"response\":\"lo\",\"done\":false}\n"
    "{\"model\":\"m\",\"created_at\":\"x\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
    "\"context\":[1,2,3,4],\"total_duration\":10706818083,\"eval_count\":2}\n";

static pb_agent_spec g_agent;

static pb_transfer *mk(long chunk)
{
    g_agent.id = "a";
    g_agent.model = "m";
    g_agent.api = "generate";
    g_agent.prompt = "p";
    g_agent.options = cJSON_CreateObject();
    g_agent.headers = cJSON_CreateObject();
    pb_transfer_opts o = {.url = "http://127.0.0.1:9", .request_id = "r1",
                          .chunk_bytes = chunk, .timeout_s = 1};
    char err[256];
    pb_transfer *t = pb_transfer_new(&g_agent, &o, 1000, err, sizeof err);
    assert_non_null(t);
    cJSON_Delete(g_agent.options);
    cJSON_Delete(g_agent.headers);
    g_agent.options = g_agent.headers = NULL;
    return t;
}

/* Feeds s in pieces of `piece` bytes at times 1000+10*i. */
static void feed(pb_transfer *t, const char *s, size_t piece)
{
    size_t n = strlen(s);
    uint64_t now = 1000;
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        now += 10;
        if (pb_transfer_deliver(t, s + off, k, now) != k)
            return;
    }
}

static void test_pieces(void **st)
{
    (void)st;
    size_t pieces[] = {1, 7, 64, 4096};
    for (size_t i = 0; i < 4; i++) {
        pb_transfer *t = mk(0);
        pb_transfer_started(t, 1005);
        feed(t, stream, pieces[i]);
        pb_transfer_finish(t, CURLE_OK, 99999);
        pb_transfer_settle(t);
        assert_true(t->ok);
        assert_int_equal(t->tokens, 2);
        assert_int_equal(t->n_lines, 4);
        assert_int_equal(t->t_first_byte, 10);
        /* First token: the chunk that completed line 2. */
        const char *l2 = strstr(stream, "Hel");
        size_t end2 = (size_t)(strchr(l2, '\n') - stream);
        assert_int_equal(t->t_first_token, (int64_t)(10 * (end2 / pieces[i] + 1)));
        size_t n = strlen(stream);
        assert_int_equal(t->n_chunks, (n + pieces[i] - 1) / pieces[i]);
        cJSON *j = pb_transfer_to_json(t);
        const cJSON *f = cJSON_GetObjectItem(j, "final");
        assert_null(cJSON_GetObjectItem(f, "context"));
        assert_int_equal(cJSON_GetObjectItem(f, "context_len")->valueint, 4);
        assert_true(cJSON_GetObjectItem(f, "total_duration")->valuedouble == 10706818083.0);
        assert_string_equal(cJSON_GetObjectItem(j, "request_id")->valuestring, "r1");
        /* The chunk list is raw JSON text in the tree: check it as the
         * trace file has it. */
        char *txt = cJSON_PrintUnformatted(j);
        cJSON *back = cJSON_Parse(txt);
        const cJSON *ch = cJSON_GetObjectItem(back, "chunks");
        assert_int_equal(cJSON_GetArraySize(ch), (int)t->n_chunks);
        for (size_t c = 0; c < t->n_chunks; c++) {
            const cJSON *pair = cJSON_GetArrayItem(ch, (int)c);
            assert_true(cJSON_GetArrayItem(pair, 0)->valuedouble == (double)(10 * (c + 1)));
            assert_true(cJSON_GetArrayItem(pair, 1)->valuedouble ==
                        (double)(c + 1 < t->n_chunks ? pieces[i] : n - c * pieces[i]));
        }
        /* A completed stream ends at the arrival of its last bytes, not at
         * libcurl's completion (99999 - 1000). */
        assert_int_equal(t->t_end, (int64_t)(10 * t->n_chunks));
        assert_int_equal(t->t_done, 98999);
        cJSON_Delete(back);
        cJSON_free(txt);
        cJSON_Delete(j);
        pb_transfer_free(t);
    }
}

static void test_chunk_bytes(void **st)
{
    (void)st;
    pb_transfer *t = mk(100);
    feed(t, stream, 30);
    pb_transfer_finish(t, CURLE_OK, 5000);
    pb_transfer_settle(t);
    assert_true(t->ok);
    size_t total = 0;
    for (size_t i = 0; i < t->n_chunks; i++) {
        if (i + 1 < t->n_chunks)
            assert_true(t->chunks[i][1] >= 100);
        total += (size_t)t->chunks[i][1];
    }
    assert_int_equal(total, strlen(stream));
    /* The remainder reached the parser when the transfer finished. */
    assert_int_equal(t->chunks[t->n_chunks - 1][0], 4000);
    pb_transfer_free(t);
}

static void expect_error(const char *s, const char *what)
{
    pb_transfer *t = mk(0);
    feed(t, s, 5);
    pb_transfer_finish(t, CURLE_OK, 5000);
    pb_transfer_settle(t);
    assert_false(t->ok);
    assert_non_null(t->error);
    if (!strstr(t->error, what))
        fail_msg("error '%s' lacks '%s'", t->error, what);
    pb_transfer_free(t);
}

static void test_failures(void **st)
{
    (void)st;
    expect_error("{\"response\":\"a\",\"done\":false}\nnot json\n", "malformed NDJSON line 2");
    expect_error("{\"response\":\"a\",\"done\":false}\n{\"error\":\"boom\"}\n", "stream error from http://127.0.0.1:9/api/generate: boom");
    expect_error("{\"response\":\"a\",\"done\":false}\n", "ended without a final line");
    expect_error("{\"response\":\"a\",\"done\":false}\n{\"response\":\"\",\"do", "truncated last line");
    pb_transfer *t = mk(0);
    pb_transfer_finish(t, CURLE_COULDNT_CONNECT, 5000);
    pb_transfer_settle(t);
    assert_false(t->ok);
    assert_non_null(strstr(t->error, "curl error 7"));
    pb_transfer_free(t);
}

/* After the first token, a token's short message is interpreted as it
 * arrives (no copy kept); a message longer than 1024 bytes, and every one
 * after it, is kept and interpreted after the phase, in arrival order. */
static void test_inline_then_deferred(void **st)
{
    (void)st;
    static const char tok[] = "{\"model\":\"m\",\"response\":\"a\",\"done\":false}\n";
    char longtok[1400];
    int k = snprintf(longtok, sizeof longtok, "{\"model\":\"m\",\"response\":\"");
    memset(longtok + k, 'b', 1200);
    k += 1200;
    snprintf(longtok + k, sizeof longtok - (size_t)k, "\",\"done\":false}\n");
    static const char fin[] = "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"eval_count\":5}\n";

    pb_transfer *t = mk(0);
    pb_transfer_started(t, 1000);
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1010), strlen(tok));
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1020), strlen(tok));
    /* Both interpreted already, before settling. */
    assert_int_equal(t->tokens, 2);
    assert_int_equal(t->t_first_token, 10);
    assert_int_equal(pb_transfer_deliver(t, longtok, strlen(longtok), 1030), strlen(longtok));
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1040), strlen(tok));
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1050), strlen(tok));
    assert_int_equal(pb_transfer_deliver(t, fin, strlen(fin), 1060), strlen(fin));
    /* The long one and the three after it wait: 2 tokens so far. */
    assert_int_equal(t->tokens, 2);
    assert_int_equal(t->n_deferred, 4);
    pb_transfer_finish(t, CURLE_OK, 2000);
    pb_transfer_settle(t);
    assert_true(t->ok);
    assert_int_equal(t->tokens, 5);
    assert_int_equal(t->n_lines, 6);
    assert_int_equal(t->reply.server_tokens, 5);
    assert_int_equal(t->t_end, 60);
    pb_transfer_free(t);

    /* A failure after the first token does not stop reading (every chunk
     * is recorded), and what follows it is not interpreted. */
    static const char err_line[] = "{\"error\":\"boom\"}\n";
    t = mk(0);
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1010), strlen(tok));
    assert_int_equal(pb_transfer_deliver(t, err_line, strlen(err_line), 1020), strlen(err_line));
    assert_int_equal(pb_transfer_deliver(t, tok, strlen(tok), 1030), strlen(tok));
    assert_int_equal(pb_transfer_deliver(t, fin, strlen(fin), 1040), strlen(fin));
    assert_int_equal(t->n_chunks, 4);
    pb_transfer_finish(t, CURLE_OK, 2000);
    pb_transfer_settle(t);
    assert_false(t->ok);
    assert_non_null(strstr(t->error, "boom"));
    assert_int_equal(t->tokens, 1);
    pb_transfer_free(t);
}

/* The trace is written piece by piece; the file must be exactly what one
 * cJSON_PrintUnformatted of the tree gives (cJSON's printer is the oracle),
 * for every kind of member at every depth, with a final newline. */
static void test_trace_streamed_identical(void **st)
{
    (void)st;
    const char *src =
        "{\"format\":\"parbench-trace\",\"e\\\"sc\\u00e9\\n\":{},\"empty\":[],"
        "\"phases\":[{\"name\":\"concurrent\",\"requests\":[{\"a\":1,\"chunks\":[[1,2],[3,4]],"
        "\"final\":{\"x\":[1,{\"y\":null}],\"t\":true}},{}],\"n\":-0.5},[],{}],"
        "\"deep\":[[[[[[1]]]]]],\"s\":\"\\u0001\\t\",\"f\":1e300,\"b\":false}";
    cJSON *tree = cJSON_Parse(src);
    assert_non_null(tree);
    cJSON_AddItemToObject(tree, "raw", cJSON_CreateRaw("[[10,20],[30,40]]"));
    char *want = cJSON_PrintUnformatted(tree);
    char dir[] = "/tmp/pb_stream_XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run_1.json", dir);
    assert_int_equal(pb_run_trace_write(path, tree, err, sizeof err), 0);
    char *buf;
    size_t len;
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len, strlen(want) + 1);
    assert_memory_equal(buf, want, strlen(want));
    assert_int_equal(buf[len - 1], '\n');
    free(buf);
    cJSON_free(want);
    cJSON_Delete(tree);
    unlink(path);
    rmdir(dir);
}


/* Issue 13: an error text cut at its 1024-byte cap never ends inside a
 * UTF-8 character (both parities of the cut are tried). */
static void test_error_cut_utf8(void **st)
{
    (void)st;
    for (int pad = 0; pad < 2; pad++) {
        char url[1600];
        int k = snprintf(url, sizeof url, "http://h%s/", pad ? "h" : "");
        for (int i = 0; i < 600; i++)
            k += snprintf(url + k, sizeof url - (size_t)k, "\xc3\xa9");
        g_agent.id = "a";
        g_agent.model = "m";
        g_agent.api = "generate";
        g_agent.prompt = "p";
        g_agent.options = cJSON_CreateObject();
        g_agent.headers = cJSON_CreateObject();
        pb_transfer_opts o = {.url = url, .request_id = "r1", .timeout_s = 1};
        char err[256];
        pb_transfer *t = pb_transfer_new(&g_agent, &o, 1000, err, sizeof err);
        cJSON_Delete(g_agent.options);
        cJSON_Delete(g_agent.headers);
        assert_non_null(t);
        pb_transfer_started(t, 1005);
        pb_transfer_finish(t, CURLE_OK, 2000);
        pb_transfer_settle(t);
        assert_non_null(t->error);
        assert_true(strlen(t->error) > 1000);
        assert_true(pb_text_utf8_valid(t->error, strlen(t->error)));
        pb_transfer_free(t);
    }
}

/* Issue 13: invalid bytes from the server (here in the final line) are
 * replaced by U+FFFD in the written trace, which says it was repaired; the
 * file is valid UTF-8 JSON. */
static void test_trace_repaired(void **st)
{
    (void)st;
    pb_transfer *t = mk(0);
    pb_transfer_started(t, 1005);
    feed(t, "{\"model\":\"m\",\"response\":\"x\",\"done\":false}\n"
            "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"done_reason\":\"st\xff" "op\"}\n", 4096);
    pb_transfer_finish(t, CURLE_OK, 99999);
    pb_transfer_settle(t);
    cJSON *trace = cJSON_CreateObject();
    cJSON_AddObjectToObject(trace, "run");
    cJSON_AddItemToObject(trace, "request", pb_transfer_to_json(t));
    pb_transfer_free(t);
    char dir[] = "/tmp/pb_repair_XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run_1.json", dir);
    assert_int_equal(pb_run_trace_write(path, trace, err, sizeof err), 0);
    cJSON_Delete(trace);
    char *buf;
    size_t len;
    assert_int_equal(pb_fs_read_all(path, 1 << 20, &buf, &len, err, sizeof err), 0);
    assert_true(pb_text_utf8_valid(buf, len));
    assert_non_null(strstr(buf, "st\xef\xbf\xbdop"));
    cJSON *j = cJSON_Parse(buf);
    const cJSON *rep = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "run"), "text_repaired");
    assert_true(cJSON_IsNumber(rep) && rep->valuedouble == 1);
    cJSON_Delete(j);
    free(buf);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_chunk_bytes),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_inline_then_deferred),
        cmocka_unit_test(test_error_cut_utf8),
        cmocka_unit_test(test_trace_repaired),
        cmocka_unit_test(test_trace_streamed_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
