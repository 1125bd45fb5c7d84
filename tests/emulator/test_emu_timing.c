/* Issue 19 §5: the rest of the timing model, measured by a client.
 *  - prompt cache (emu_pcache.c, after llama-server's slots and
 *    --cache-ram): the same prompt again evaluates one token; a
 *    conversation's next turn only its new message; a prompt pushed out of
 *    the only slot comes back from host memory; an unload forgets it;
 *    --no-prompt-cache evaluates everything; prompt_eval_count is always
 *    the whole prompt (Ollama reports cache_n + prompt_n).
 *  - an unload takes --unload seconds before the next load starts (Ollama
 *    waits for the GPU memory to recover); the request that waits for it
 *    counts the wait in its load_duration.
 *  - the default num_ctx comes from the VRAM (or OLLAMA_CONTEXT_LENGTH),
 *    and a vision model (gemma3) gets at least 2048, as in Ollama.
 * Prompt evaluation is made the only slow part: 200 000 prompt tokens/s,
 * no first-token latency, fast decoding; a 40 000-byte prompt is ~10 000
 * tokens, 50 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "emu_test_util.h"

#define MS 1e6
#define BIG 40000

static void fast_opts(emu_options *o)
{
    test_opts(o, 1, 1);
    o->prompt_rate = 200000;
    o->first_token_s = 0;
    o->decode_rate = 2000;
    o->load_s = 0;
}

/* A text of n bytes, distinct per seed from its first byte on. */
static char *text(int seed, size_t n)
{
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (seed * 7 + i * 13 + i / 26) % 26);
    s[0] = (char)('A' + seed % 26);
    s[n] = 0;
    return s;
}

/* POSTs a non-streamed chat of the given messages ([{role, content}..]
 * as JSON text) and returns the parsed answer. */
static cJSON *chat(emu_t *e, const char *messages_json)
{
    size_t n = strlen(messages_json) + 200;
    char *body = malloc(n);
    snprintf(body, n,
             "{\"model\":\"gemma3\",\"stream\":false,\"messages\":%s,"
             "\"options\":{\"num_predict\":4}}",
             messages_json);
    xfer x = xfer_one(emu_port(e, 0), "/api/chat", body);
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    assert_non_null(j);
    xfer_free(&x, 1);
    free(body);
    return j;
}

static double num(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0; /* omitempty */
}

/* [{"role":"user","content":T}] */
static char *one_user(const char *t)
{
    cJSON *a = cJSON_CreateArray();
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", t);
    cJSON_AddItemToArray(a, m);
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static void test_same_prompt_evaluates_one_token(void **state)
{
    (void)state;
    emu_options o;
    fast_opts(&o);
    emu_t *e = test_start(&o);
    char *t = text(1, BIG);
    char *msgs = one_user(t);
    cJSON *a = chat(e, msgs), *b = chat(e, msgs);
    /* ~10 000 tokens at 200 000/s: 50 ms; then one token: 5 us. */
    assert_true(num(a, "prompt_eval_duration") >= 45 * MS);
    assert_true(num(b, "prompt_eval_duration") < 3 * MS);
    /* Ollama counts the cached tokens too (cache_n + prompt_n). */
    assert_true(num(a, "prompt_eval_count") > 10000);
    assert_true(num(b, "prompt_eval_count") == num(a, "prompt_eval_count"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(msgs);
    free(t);
    assert_int_equal(emu_stop(e), 0);
}

static void test_next_turn_evaluates_new_message(void **state)
{
    (void)state;
    emu_options o;
    fast_opts(&o);
    emu_t *e = test_start(&o);
    char *t = text(2, BIG), *u = text(3, 4000);
    char *msgs = one_user(t);
    cJSON *a = chat(e, msgs);
    const char *answer = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "message"),
                                             "content")->valuestring;
    /* The conversation sent back: user, the answer, a new user message. */
    cJSON *arr = cJSON_Parse(msgs);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", answer);
    cJSON_AddItemToArray(arr, m);
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", u);
    cJSON_AddItemToArray(arr, m);
    char *msgs2 = cJSON_PrintUnformatted(arr);
    cJSON *b = chat(e, msgs2);
    /* ~1 000 new tokens: 5 ms (not the 55 ms of the whole). */
    double pe = num(b, "prompt_eval_duration");
    assert_true(pe >= 3 * MS);
    assert_true(pe < 15 * MS);
    assert_true(num(b, "prompt_eval_count") > num(a, "prompt_eval_count"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(arr);
    free(msgs);
    free(msgs2);
    free(t);
    free(u);
    assert_int_equal(emu_stop(e), 0);
}

static void test_host_memory_brings_prompt_back(void **state)
{
    (void)state;
    emu_options o;
    fast_opts(&o);
    o.num_parallel = 1;
    emu_t *e = test_start(&o);
    char *t1 = text(4, BIG), *t2 = text(5, BIG);
    char *m1 = one_user(t1), *m2 = one_user(t2);
    cJSON *a = chat(e, m1), *b = chat(e, m2), *c = chat(e, m1);
    /* One slot: the second prompt replaced the first, which llama-server
     * saved to its host-memory cache and restores for the third. */
    assert_true(num(a, "prompt_eval_duration") >= 45 * MS);
    assert_true(num(b, "prompt_eval_duration") >= 45 * MS);
    assert_true(num(c, "prompt_eval_duration") < 3 * MS);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    free(m1);
    free(m2);
    free(t1);
    free(t2);
    assert_int_equal(emu_stop(e), 0);
}

static void test_unload_and_flag_forget(void **state)
{
    (void)state;
    emu_options o;
    fast_opts(&o);
    o.keep_alive_s = 0; /* unload after every request */
    emu_t *e = test_start(&o);
    char *t = text(6, BIG);
    char *msgs = one_user(t);
    cJSON *a = chat(e, msgs), *b = chat(e, msgs);
    assert_true(num(b, "prompt_eval_duration") >= 45 * MS);
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_int_equal(emu_stop(e), 0);

    fast_opts(&o);
    o.prompt_cache = 0;
    e = test_start(&o);
    a = chat(e, msgs);
    b = chat(e, msgs);
    assert_true(num(b, "prompt_eval_duration") >= 45 * MS);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(msgs);
    free(t);
    assert_int_equal(emu_stop(e), 0);
}

static cJSON *generate(emu_t *e, int num_ctx)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"model\":\"gemma3\",\"prompt\":\"x\",\"stream\":false,"
             "\"options\":{\"num_predict\":2,\"num_ctx\":%d}}", num_ctx);
    /* (gemma3 runs at least 2048: callers ask for more) */
    xfer x = xfer_one(emu_port(e, 0), "/api/generate", body);
    assert_int_equal(x.status, 200);
    cJSON *j = cJSON_Parse(x.data);
    assert_non_null(j);
    xfer_free(&x, 1);
    return j;
}

/* A reload (num_ctx changes) = unload, then load: at time scale 20 a load
 * of 1 s is 50 ms, an unload of 2 s 100 ms. */
static double reload_ms(double unload_s)
{
    emu_options o;
    test_opts(&o, 1, 20);
    o.load_s = 1.0;
    o.unload_s = unload_s;
    emu_t *e = test_start(&o);
    cJSON *a = generate(e, 4096), *b = generate(e, 8192);
    assert_true(num(a, "load_duration") >= 45 * MS);
    double ms = num(b, "load_duration") / MS;
    cJSON_Delete(a);
    cJSON_Delete(b);
    assert_int_equal(emu_stop(e), 0);
    return ms;
}

static void test_unload_takes_time(void **state)
{
    (void)state;
    double with = reload_ms(2.0), without = reload_ms(0);
    assert_true(with >= 145);
    assert_true(with < 400);
    assert_true(without >= 45);
    assert_true(without < 100);
}

static void test_default_num_ctx_by_vram(void **state)
{
    (void)state;
    emu_options o;
    emu_options_init(&o);
    /* server/routes.go Serve: 4096 below 23 GiB (and without a GPU),
     * 32768 from 23, 262144 from 47. */
    assert_int_equal(emu_options_ctx_default(&o), 4096);
    o.vram_gib = 22.9;
    assert_int_equal(emu_options_ctx_default(&o), 4096);
    o.vram_gib = 23;
    assert_int_equal(emu_options_ctx_default(&o), 32768);
    o.vram_gib = 46.9;
    assert_int_equal(emu_options_ctx_default(&o), 32768);
    o.vram_gib = 48;
    assert_int_equal(emu_options_ctx_default(&o), 262144);
    /* OLLAMA_CONTEXT_LENGTH wins over the VRAM tiers. */
    setenv("OLLAMA_CONTEXT_LENGTH", "8192", 1);
    emu_options_env(&o);
    unsetenv("OLLAMA_CONTEXT_LENGTH");
    assert_int_equal(emu_options_ctx_default(&o), 8192);
    char *argv[] = {"ollama-emu", "--context-length", "16384"};
    char err[256];
    assert_int_equal(emu_options_parse(&o, 3, argv, err, sizeof err), 0);
    assert_int_equal(emu_options_ctx_default(&o), 16384);
}

/* /api/ps context_length of the only loaded model after one generate
 * (options_json: the request's options). */
static int ps_ctx(emu_t *e, const char *model, const char *options_json)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"model\":\"%s\",\"prompt\":\"x\",\"stream\":false,"
             "\"options\":%s}", model, options_json);
    xfer x = xfer_one(emu_port(e, 0), "/api/generate", body);
    assert_int_equal(x.status, 200);
    xfer_free(&x, 1);
    x = xfer_one(emu_port(e, 0), "/api/ps", NULL);
    cJSON *j = cJSON_Parse(x.data);
    xfer_free(&x, 1);
    int ctx = -1;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "models"))
    {
        if (strncmp(cJSON_GetObjectItem(m, "name")->valuestring, model,
                    strlen(model)) == 0)
            ctx = (int)num(m, "context_length");
    }
    cJSON_Delete(j);
    return ctx;
}

static void test_runner_num_ctx(void **state)
{
    (void)state;
    emu_options o;
    test_opts(&o, 1, 100);
    o.vram_gib = 24;
    emu_t *e = test_start(&o);
    /* No num_ctx: the VRAM tier's. */
    assert_int_equal(ps_ctx(e, "qwen3", "{\"num_predict\":1}"), 32768);
    /* A vision model never runs below 2048 (sched.go getRunner). */
    assert_int_equal(ps_ctx(e, "gemma3", "{\"num_predict\":1,\"num_ctx\":512}"),
                     2048);
    assert_int_equal(ps_ctx(e, "qwen3", "{\"num_predict\":1,\"num_ctx\":512}"),
                     512);
    assert_int_equal(emu_stop(e), 0);
}

static void test_flag_parses(void **state)
{
    (void)state;
    emu_options o;
    emu_options_init(&o);
    assert_int_equal(o.prompt_cache, 1);
    char *argv[] = {"ollama-emu", "--no-prompt-cache"};
    char err[256];
    assert_int_equal(emu_options_parse(&o, 2, argv, err, sizeof err), 0);
    assert_int_equal(o.prompt_cache, 0);
    assert_true(o.unload_s == 0.5);
    char *argv2[] = {"ollama-emu", "--unload", "1.5"};
    assert_int_equal(emu_options_parse(&o, 3, argv2, err, sizeof err), 0);
    assert_true(o.unload_s == 1.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_prompt_evaluates_one_token),
        cmocka_unit_test(test_next_turn_evaluates_new_message),
        cmocka_unit_test(test_host_memory_brings_prompt_back),
        cmocka_unit_test(test_unload_and_flag_forget),
        cmocka_unit_test(test_unload_takes_time),
        cmocka_unit_test(test_default_num_ctx_by_vram),
        cmocka_unit_test(test_runner_num_ctx),
        cmocka_unit_test(test_flag_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
