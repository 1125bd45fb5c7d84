/* dialect: the five dialects side by side, through the shared transport
 * (pb_transfer_deliver), each with the same cases: a good stream (reasoning
 * first, two tokens, the server's count), a stream without the server's
 * count, an error message in the stream, a malformed message, a stream
 * without its end marker, one cut inside its last message, a non-200 JSON
 * error body; a non-streamed answer (one JSON document: its text, reasoning
 * and the server's count, no first token) and its failures; and the request
 * each builds, the options each refuses, which bodies ask for a stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "transfer.h"

#define OC(x) "data: {\"choices\":[{\"index\":0,\"delta\":" x ",\"finish_reason\":null}]}\n\n"
#define OT(x) "data: {\"choices\":[{\"index\":0,\"text\":\"" x "\",\"finish_reason\":null}]}\n\n"
/* The Responses API: typed events, text in "delta", the count in the
 * usage of response.completed (as Ollama's openai/responses.go sends them). */
#define RD(x) "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"delta\":\"" x "\"}\n\n"
#define RDONE(usage) "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"model\":\"m\"" usage "}}\n\n"
#define USAGE "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5},\"timings\":{\"predicted_n\":2}}\n\n"

typedef struct dcase {
    const char *api, *path;
    const char *good;          /* reasoning (chat dialects), "Hel", "lo", end with a count of 2 */
    int has_reasoning;
    const char *no_count;      /* "Hel", "lo", end without the server's count */
    const char *error_msg;     /* "Hel", then an error message */
    const char *malformed;     /* "Hel", then message 2 is not JSON */
    const char *malformed_says;
    const char *unfinished;    /* "Hel", no end marker */
    const char *unfinished_says;
    const char *truncated;     /* "Hel", the last message cut */
    const char *truncated_says;
    const char *error_body;    /* a 500 answer's body, text "boom" */
    const char *count_key;     /* where final keeps the server's count */
} dcase;

static const dcase cases[] = {
    {"generate", "/api/generate",
     "{\"response\":\"Hel\",\"done\":false}\n{\"response\":\"lo\",\"done\":false}\n"
     "{\"response\":\"\",\"done\":true,\"eval_count\":2,\"context\":[1,2]}\n", 0,
     "{\"response\":\"Hel\",\"done\":false}\n{\"response\":\"lo\",\"done\":false}\n"
     "{\"response\":\"\",\"done\":true}\n",
     "{\"response\":\"Hel\",\"done\":false}\n{\"error\":\"boom\"}\n",
     "{\"response\":\"Hel\",\"done\":false}\nnot json\n", "malformed NDJSON line 2",
     "{\"response\":\"Hel\",\"done\":false}\n", "ended without a final line",
     "{\"response\":\"Hel\",\"done\":false}\n{\"response\":\"\",\"do", "truncated last line",
     "{\"error\":\"boom\"}", "eval_count"},
    {"chat", "/api/chat",
     "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hmm\"},\"done\":false}\n"
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":{\"content\":\"lo\"},\"done\":false}\n"
     "{\"message\":{\"content\":\"\"},\"done\":true,\"eval_count\":2}\n", 1,
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":{\"content\":\"lo\"},\"done\":false}\n"
     "{\"message\":{\"content\":\"\"},\"done\":true}\n",
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"error\":\"boom\"}\n",
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\nnot json\n", "malformed NDJSON line 2",
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n", "ended without a final line",
     "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n{\"message\":{\"con", "truncated last line",
     "{\"error\":\"boom\"}", "eval_count"},
    {"openai-chat", "/v1/chat/completions",
     OC("{\"role\":\"assistant\",\"reasoning_content\":\"hmm\"}") OC("{\"content\":\"Hel\"}")
     OC("{\"content\":\"lo\"}") USAGE "data: [DONE]\n\n", 1,
     OC("{\"content\":\"Hel\"}") OC("{\"content\":\"lo\"}") "data: [DONE]\n\n",
     OC("{\"content\":\"Hel\"}") "data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\"}}\n\n",
     OC("{\"content\":\"Hel\"}") "data: not json\n\n", "malformed event 2",
     OC("{\"content\":\"Hel\"}"), "ended without data: [DONE]",
     OC("{\"content\":\"Hel\"}") "data: [DO", "ended inside an event",
     "{\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,\"code\":null}}", "usage"},
    {"openai-completions", "/v1/completions",
     OT("Hel") OT("lo") USAGE "data: [DONE]\n\n", 0,
     OT("Hel") OT("lo") "data: [DONE]\n\n",
     OT("Hel") "event: error\ndata: {\"error\":{\"message\":\"boom\"}}\n\n",
     OT("Hel") "data: [1,2\n\n", "malformed event 2",
     OT("Hel"), "ended without data: [DONE]",
     OT("Hel") "data: {\"choices\"", "ended inside an event",
     "{\"error\":{\"message\":\"boom\"}}", "usage"},
    {"openai-responses", "/v1/responses",
     "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"status\":\"in_progress\"}}\n\n"
     "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"hmm\"}\n\n"
     RD("Hel") RD("lo") RDONE(",\"usage\":{\"input_tokens\":3,\"output_tokens\":2,\"total_tokens\":5}"), 1,
     RD("Hel") RD("lo") RDONE(""),
     RD("Hel") "event: error\ndata: {\"type\":\"error\",\"code\":null,\"message\":\"boom\"}\n\n",
     RD("Hel") "event: response.output_text.delta\ndata: not json\n\n", "malformed event 2",
     RD("Hel"), "ended without response.completed",
     RD("Hel") "event: response.compl", "ended inside an event",
     "{\"error\":{\"message\":\"boom\"}}", "usage"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static pb_agent_spec g_agent;

static pb_transfer *mk(const char *api, const cJSON *options, int num_predict, long seed)
{
    g_agent.id = "a";
    g_agent.model = "m";
    g_agent.api = (char *)api;
    g_agent.prompt = "p";
    g_agent.options = options ? cJSON_Duplicate(options, 1) : cJSON_CreateObject();
    g_agent.headers = cJSON_CreateObject();
    pb_transfer_opts o = {.url = "http://127.0.0.1:9", .request_id = "r1", .timeout_s = 1,
                          .num_predict = num_predict, .sample_seed = seed};
    char err[256];
    pb_transfer *t = pb_transfer_new(&g_agent, &o, 1000, err, sizeof err);
    assert_non_null(t);
    cJSON_Delete(g_agent.options);
    cJSON_Delete(g_agent.headers);
    g_agent.options = g_agent.headers = NULL;
    return t;
}

/* Feeds s in pieces at times 1000+10*i, finishes and settles; whole: as
 * the answer to a request that asked for no stream. */
static pb_transfer *feed(const char *api, const char *s, size_t piece, int whole)
{
    pb_transfer *t = mk(api, NULL, 0, -1);
    t->whole = whole;
    pb_transfer_started(t, 1005);
    size_t n = strlen(s);
    uint64_t now = 1000;
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        now += 10;
        if (pb_transfer_deliver(t, s + off, k, now) != k)
            break;
    }
    pb_transfer_finish(t, CURLE_OK, 99999);
    pb_transfer_settle(t);
    return t;
}

static pb_transfer *run(const char *api, const char *s, size_t piece)
{
    return feed(api, s, piece, 0);
}

/* Byte offset just past the k-th message (1-based) of a stream. */
static size_t end_of_message(const dcase *c, const char *s, int k)
{
    const char *sep = strstr(c->api, "openai") ? "\n\n" : "\n";
    const char *p = s;
    for (int i = 0; i < k; i++)
        p = strstr(p, sep) + strlen(sep);
    return (size_t)(p - s);
}

static void test_good_stream(void **st)
{
    (void)st;
    size_t pieces[] = {1, 7, 64, 100000};
    for (size_t c = 0; c < N_CASES; c++)
        for (size_t i = 0; i < 4; i++) {
            const dcase *d = &cases[c];
            pb_transfer *t = run(d->api, d->good, pieces[i]);
            if (!t->ok)
                fail_msg("%s: %s", d->api, t->error);
            assert_int_equal(t->tokens, 2);
            assert_int_equal(t->reply.server_tokens, 2);
            assert_int_equal(t->reply.text_total, 5); /* "Hel" + "lo" */
            /* TTFT: the chunk that completed the first message with text. */
            /* The Responses stream opens with response.created. */
            int lead = strcmp(d->api, "openai-responses") == 0;
            size_t end = end_of_message(d, d->good, lead + (d->has_reasoning ? 2 : 1));
            assert_int_equal(t->t_first_token, (int64_t)(10 * ((end - 1) / pieces[i] + 1)));
            if (d->has_reasoning) {
                size_t r = end_of_message(d, d->good, lead + 1);
                assert_int_equal(t->t_first_reasoning, (int64_t)(10 * ((r - 1) / pieces[i] + 1)));
            } else {
                assert_int_equal(t->t_first_reasoning, -1);
            }
            cJSON *j = pb_transfer_to_json(t);
            assert_string_equal(cJSON_GetObjectItem(j, "dialect")->valuestring, d->api);
            assert_string_equal(cJSON_GetObjectItem(j, "url_path")->valuestring, d->path);
            assert_int_equal(cJSON_GetObjectItem(j, "completion_tokens")->valueint, 2);
            assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "tokens_estimated")));
            const cJSON *f = cJSON_GetObjectItem(j, "final");
            assert_non_null(cJSON_GetObjectItem(f, d->count_key));
            if (lead) {
                /* The response's usage and status, verbatim. */
                assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "usage"), "input_tokens")->valueint, 3);
                assert_string_equal(cJSON_GetObjectItem(f, "status")->valuestring, "completed");
            } else if (strstr(d->api, "openai")) {
                /* llama.cpp's timings and the usage, verbatim. */
                assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "timings"), "predicted_n")->valueint, 2);
                assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "usage"), "prompt_tokens")->valueint, 3);
            }
            cJSON_Delete(j);
            pb_transfer_free(t);
        }
}

/* The answer text, kept up to a cap (workflows feed it to a next step). */
static void test_keep_text(void **st)
{
    (void)st;
    pb_reply r = {.url = "u", .server_tokens = -1, .keep_text = 4};
    const char *msgs[] = {"Hel", "lo", "!"};
    for (int i = 0; i < 3; i++)
        pb_reply_content(&r, msgs[i]);
    assert_string_equal(r.text, "Hell");
    assert_int_equal(r.text_total, 6);
    assert_int_equal(r.content_events, 3);
    pb_reply_free(&r);
}

static void test_no_server_count(void **st)
{
    (void)st;
    for (size_t c = 0; c < N_CASES; c++) {
        pb_transfer *t = run(cases[c].api, cases[c].no_count, 5);
        assert_true(t->ok);
        assert_int_equal(t->tokens, 2);
        cJSON *j = pb_transfer_to_json(t);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "completion_tokens")));
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "tokens_estimated")));
        cJSON_Delete(j);
        pb_transfer_free(t);
    }
}

static void expect(const char *api, const char *s, const char *what)
{
    for (size_t piece = 1; piece < 40; piece += 13) {
        pb_transfer *t = run(api, s, piece);
        assert_false(t->ok);
        assert_non_null(t->error);
        if (!strstr(t->error, what))
            fail_msg("%s: error '%s' lacks '%s'", api, t->error, what);
        pb_transfer_free(t);
    }
}

static void test_failures(void **st)
{
    (void)st;
    for (size_t c = 0; c < N_CASES; c++) {
        const dcase *d = &cases[c];
        char want[128];
        snprintf(want, sizeof want, "stream error from http://127.0.0.1:9%s: boom", d->path);
        expect(d->api, d->error_msg, want);
        expect(d->api, d->malformed, d->malformed_says);
        expect(d->api, d->unfinished, d->unfinished_says);
        expect(d->api, d->truncated, d->truncated_says);
    }
}

static void test_error_body(void **st)
{
    (void)st;
    for (size_t c = 0; c < N_CASES; c++) {
        const dcase *d = &cases[c];
        pb_transfer *t = mk(d->api, NULL, 0, -1);
        t->status = 500;
        size_t n = strlen(d->error_body);
        assert_int_equal(pb_transfer_deliver(t, d->error_body, n, 2000), n);
        pb_transfer_finish(t, CURLE_OK, 3000);
        t->status = 500; /* finish re-reads it from a handle that never ran */
        pb_transfer_settle(t);
        char want[128];
        snprintf(want, sizeof want, "HTTP 500 from http://127.0.0.1:9%s: boom", d->path);
        assert_false(t->ok);
        assert_string_equal(t->error, want);
        pb_transfer_free(t);
    }
}

static const cJSON *at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    return b ? cJSON_GetObjectItem(x, b) : x;
}

static void test_requests(void **st)
{
    (void)st;
    cJSON *opts = cJSON_Parse("{\"num_predict\":5,\"temperature\":0.5}");
    for (size_t c = 0; c < N_CASES; c++) {
        const dcase *d = &cases[c];
        for (int warm = 0; warm < 2; warm++) {
            pb_transfer *t = mk(d->api, opts, warm ? 8 : 0, warm ? -1 : 42);
            char url[128];
            snprintf(url, sizeof url, "http://127.0.0.1:9%s", d->path);
            assert_string_equal(t->url, url);
            cJSON *b = cJSON_Parse(t->body);
            assert_true(cJSON_IsTrue(at(b, "stream", NULL)));
            assert_string_equal(at(b, "model", NULL)->valuestring, "m");
            int chat = strcmp(d->api, "chat") == 0 || strcmp(d->api, "openai-chat") == 0;
            int responses = strcmp(d->api, "openai-responses") == 0;
            if (responses)
                assert_string_equal(at(b, "input", NULL)->valuestring, "p");
            else if (chat)
                assert_string_equal(cJSON_GetArrayItem(at(b, "messages", NULL), 0)
                                         ->child->next->valuestring, "p");
            else
                assert_string_equal(at(b, "prompt", NULL)->valuestring, "p");
            const cJSON *len, *temp, *seed;
            if (responses) {
                /* No stream_options, no seed (the API has none). */
                assert_null(at(b, "stream_options", NULL));
                len = at(b, "max_output_tokens", NULL);
                temp = at(b, "temperature", NULL);
                assert_null(at(b, "seed", NULL));
                seed = NULL;
            } else if (strstr(d->api, "openai")) {
                assert_true(cJSON_IsTrue(at(b, "stream_options", "include_usage")));
                len = at(b, "max_tokens", NULL);
                temp = at(b, "temperature", NULL);
                seed = at(b, "seed", NULL);
                assert_null(at(b, "options", NULL));
            } else {
                len = at(b, "options", "num_predict");
                temp = at(b, "options", "temperature");
                seed = at(b, "options", "seed");
            }
            assert_int_equal(len->valueint, warm ? 8 : 5);
            assert_true(temp->valuedouble == 0.5);
            if (warm || responses)
                assert_null(seed);
            else
                assert_int_equal(seed->valueint, 42);
            cJSON_Delete(b);
            pb_transfer_free(t);
        }
    }
    cJSON_Delete(opts);
}

/* Answers to requests that asked for no stream, one per dialect: "Hello"
 * (in two parts for the Responses API), reasoning where the API has it,
 * the server's count of 2. */
static const struct { const char *api, *body; int reasoning; } wholes[] = {
    {"generate", "{\"model\":\"m\",\"response\":\"Hello\",\"done\":true,\"eval_count\":2}", 0},
    {"chat", "{\"message\":{\"role\":\"assistant\",\"content\":\"Hello\",\"thinking\":\"hmm\"},"
             "\"done\":true,\"eval_count\":2}", 1},
    {"openai-chat", "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                    "\"Hello\",\"reasoning\":\"hmm\"},\"finish_reason\":\"stop\"}],"
                    "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}", 1},
    {"openai-completions", "{\"choices\":[{\"text\":\"Hello\",\"finish_reason\":\"length\"}],"
                           "\"usage\":{\"completion_tokens\":2}}", 0},
    {"openai-responses", "{\"status\":\"completed\",\"output\":[{\"type\":\"reasoning\",\"summary\":"
                         "[{\"type\":\"summary_text\",\"text\":\"hmm\"}]},{\"type\":\"message\","
                         "\"content\":[{\"type\":\"output_text\",\"text\":\"Hel\"},{\"type\":"
                         "\"output_text\",\"text\":\"lo\"}]}],\"usage\":{\"input_tokens\":3,"
                         "\"output_tokens\":2}}", 1},
};

static pb_transfer *run_whole(const char *api, const char *s, size_t piece)
{
    return feed(api, s, piece, 1);
}

static void test_whole_answers(void **st)
{
    (void)st;
    assert_int_equal(sizeof wholes / sizeof wholes[0], N_CASES);
    for (size_t c = 0; c < N_CASES; c++) {
        const char *api = wholes[c].api;
        pb_transfer *t = run_whole(api, wholes[c].body, 16);
        if (!t->ok)
            fail_msg("%s: %s", api, t->error);
        assert_int_equal(t->tokens, 2);
        assert_int_equal(t->reply.server_tokens, 2);
        assert_int_equal(t->reply.text_total, 5);
        assert_int_equal(t->t_first_token, -1);     /* nothing was streamed */
        assert_int_equal(t->reply.reasoning_events > 0, wholes[c].reasoning);
        assert_true(t->n_chunks > 1);                /* its pieces still timed */
        cJSON *j = pb_transfer_to_json(t);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "streamed")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "t_first_token_ns")));
        assert_int_equal(cJSON_GetObjectItem(j, "completion_tokens")->valueint, 2);
        cJSON_Delete(j);
        pb_transfer_free(t);
        /* Not JSON, and an error object: failures that say so. */
        t = run_whole(api, "<html>busy</html>", 5);
        assert_false(t->ok);
        if (!strstr(t->error, "is not a JSON object"))
            fail_msg("%s: %s", api, t->error);
        pb_transfer_free(t);
        const char *err = strstr(api, "openai") ? "{\"error\":{\"message\":\"boom\"}}"
                                                : "{\"error\":\"boom\"}";
        t = run_whole(api, err, 7);
        assert_false(t->ok);
        if (!strstr(t->error, "boom"))
            fail_msg("%s: %s", api, t->error);
        pb_transfer_free(t);
    }
    /* A streamed request is recorded without the field. */
    pb_transfer *t = run("generate", cases[0].good, 64);
    cJSON *j = pb_transfer_to_json(t);
    assert_null(cJSON_GetObjectItem(j, "streamed"));
    cJSON_Delete(j);
    pb_transfer_free(t);
}

/* Which request bodies ask for a stream: "stream" when a boolean, else
 * Ollama's native API streams and the OpenAI ones do not; a replayed body
 * sets the transfer's mode. */
static void test_streams(void **st)
{
    (void)st;
    const char *bodies[] = {"{}", "{\"stream\":true}", "{\"stream\":false}", "{\"stream\":1}"};
    int ollama[] = {1, 1, 0, 1}, openai[] = {0, 1, 0, 0};
    for (size_t c = 0; c < N_CASES; c++) {
        const pb_dialect *d = pb_dialect_find(cases[c].api);
        for (int k = 0; k < 4; k++) {
            cJSON *b = cJSON_Parse(bodies[k]);
            int want = strcmp(d->family, "ollama") == 0 ? ollama[k] : openai[k];
            assert_int_equal(pb_dialect_streams(d, b), want);
            cJSON_Delete(b);
        }
        pb_transfer *t = mk(cases[c].api, NULL, 0, -1);
        assert_int_equal(t->whole, 0);              /* collect's own requests stream */
        cJSON *nb = cJSON_Parse("{\"model\":\"m\",\"stream\":false}");
        pb_transfer_set_body(t, nb);
        assert_int_equal(t->whole, 1);
        cJSON_ReplaceItemInObject(nb, "stream", cJSON_CreateTrue());
        pb_transfer_set_body(t, nb);
        assert_int_equal(t->whole, 0);
        cJSON_Delete(nb);
        pb_transfer_free(t);
    }
}

static void test_options_refused(void **st)
{
    (void)st;
    cJSON *ok = cJSON_Parse("{\"num_predict\":1,\"temperature\":0,\"top_p\":1,\"seed\":2,"
                            "\"stop\":[\"x\"],\"frequency_penalty\":0,\"presence_penalty\":0}");
    cJSON *bad = cJSON_Parse("{\"temperature\":0,\"num_ctx\":512}");
    char err[600];
    for (size_t c = 0; c < N_CASES; c++) {
        const pb_dialect *d = pb_dialect_find(cases[c].api);
        assert_non_null(d);
        if (strcmp(d->name, "openai-responses") == 0) {
            /* Only num_predict, temperature and top_p have a field there. */
            assert_int_equal(d->check_options(ok, err, sizeof err), -1);
            assert_non_null(strstr(err, "\"seed\" has no equivalent in the Responses API"));
            cJSON *few = cJSON_Parse("{\"num_predict\":1,\"temperature\":0,\"top_p\":1}");
            assert_int_equal(d->check_options(few, err, sizeof err), 0);
            cJSON_Delete(few);
            continue;
        }
        assert_int_equal(d->check_options(ok, err, sizeof err), 0);
        if (strstr(d->name, "openai")) {
            assert_int_equal(d->check_options(bad, err, sizeof err), -1);
            assert_non_null(strstr(err, "\"num_ctx\" has no OpenAI equivalent"));
        } else {
            assert_int_equal(d->check_options(bad, err, sizeof err), 0);
        }
    }
    assert_string_equal(pb_dialect_find("openai")->name, "openai-chat");
    assert_string_equal(pb_dialect_find("ollama")->name, "generate");
    assert_null(pb_dialect_find("tgi"));
    assert_string_equal(pb_dialect_names(),
                        "generate, chat, openai-chat, openai-completions, openai-responses");
    cJSON_Delete(ok);
    cJSON_Delete(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_stream),
        cmocka_unit_test(test_no_server_count),
        cmocka_unit_test(test_keep_text),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_options_refused),
        cmocka_unit_test(test_whole_answers),
        cmocka_unit_test(test_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
