/* pb_json_arena: a tree parsed into the arena equals the tree cJSON builds
 * with malloc (cJSON_Compare), for small files, a file too large for the
 * first chunk, one after the other on the same arena, on several threads
 * at once, and malformed input (NULL, with cJSON's own error position in
 * end); any other cJSON allocation stays on the heap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json_arena.h"

static void same_as_malloc(pb_json_arena *a, const char *text)
{
    size_t len = strlen(text);
    const char *end_a = NULL, *end_m = NULL;
    cJSON *m = cJSON_ParseWithLengthOpts(text, len, &end_m, 0);
    cJSON *t = pb_json_arena_parse(a, text, len, &end_a);
    assert_non_null(m);
    assert_non_null(t);
    assert_true(end_a == end_m);
    assert_true(cJSON_Compare(t, m, 1));
    /* Strings and keys too (cJSON_Compare reads them; check one by hand). */
    char *pm = cJSON_PrintUnformatted(m), *pt = cJSON_PrintUnformatted(t);
    assert_string_equal(pt, pm);
    cJSON_free(pm);
    cJSON_free(pt);
    cJSON_Delete(m);
}

static char *big_doc(size_t n)
{
    /* n objects with a number, a string and an escaped string each. */
    size_t cap = 64 + n * 96;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t off = (size_t)snprintf(s, cap, "{\"runs\": [");
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(s + off, cap - off,
                                "%s{\"i\": %zu, \"x\": %.17g, \"name\": \"run_%zu\\u00e9\"}",
                                i ? ", " : "", i, (double)i / 7.0, i);
    snprintf(s + off, cap - off, "]}");
    return s;
}

static void test_trees_equal(void **st)
{
    (void)st;
    pb_json_arena *a = pb_json_arena_new();
    same_as_malloc(a, "{\"a\": 1, \"b\": [true, false, null, \"x\"], \"c\": {\"d\": -1.5e300}}");
    size_t small = pb_json_arena_used(a);
    assert_true(small > 0);
    /* About 20 k nodes: several times the first chunk. */
    char *big = big_doc(5000);
    same_as_malloc(a, big);
    assert_true(pb_json_arena_used(a) > 64 * 1024);
    /* Reused after the large one: the chunks were merged into one. */
    same_as_malloc(a, "[1, 2, 3]");
    same_as_malloc(a, big);
    same_as_malloc(a, "\"only a string\"");
    free(big);
    pb_json_arena_free(a);
}

static void test_malformed(void **st)
{
    (void)st;
    pb_json_arena *a = pb_json_arena_new();
    const char *bad = "{\"a\": [1, 2, {\"b\": tru}]}";
    const char *end = NULL;
    assert_null(cJSON_ParseWithLengthOpts(bad, strlen(bad), &end, 0));
    const char *at = cJSON_GetErrorPtr();
    /* cJSON stops at "tru", offset 19 counted by hand. */
    assert_true(at == bad + 19);
    const char *end_a = NULL;
    assert_null(pb_json_arena_parse(a, bad, strlen(bad), &end_a));
    assert_true(end_a == at);
    assert_true(end == at);
    /* The next parse on the same arena is whole. */
    same_as_malloc(a, "{\"ok\": [1, 2]}");
    pb_json_arena_free(a);
}

static void test_hooks_restored(void **st)
{
    (void)st;
    pb_json_arena *a = pb_json_arena_new();
    cJSON *t = pb_json_arena_parse(a, "{\"k\": 1}", 8, NULL);
    assert_non_null(t);
    /* A node made now is heap memory: cJSON_Delete frees it (a leak or a
     * bad free would fail the sanitizer build). */
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "s", "heap");
    size_t used = pb_json_arena_used(a);
    cJSON *d = cJSON_Duplicate(t, 1);
    assert_int_equal(pb_json_arena_used(a), used);
    char *printed = cJSON_PrintUnformatted(n);
    assert_string_equal(printed, "{\"s\":\"heap\"}");
    cJSON_free(printed);
    cJSON_Delete(d);
    cJSON_Delete(n);
    pb_json_arena_free(a);
    pb_json_arena_free(NULL);
    /* No arena left: the default hooks again. */
    cJSON *m = cJSON_Parse("[1]");
    assert_non_null(m);
    cJSON_Delete(m);
}

/* Each thread parses documents of its own into its own arena, many times,
 * and checks every tree against the heap tree parsed beforehand. */
typedef struct worker {
    char *docs[8];
    cJSON *want[8];
    pb_json_arena *arena;
    int bad;
} worker;

static void *parse_many(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < 8; i++) {
            cJSON *t = pb_json_arena_parse(w->arena, w->docs[i], strlen(w->docs[i]), NULL);
            w->bad += !t || !cJSON_Compare(t, w->want[i], 1);
        }
    return NULL;
}

static void test_threads(void **st)
{
    (void)st;
    worker w[3];
    for (int k = 0; k < 3; k++) {
        w[k].arena = pb_json_arena_new();   /* on this thread, as the header asks */
        w[k].bad = 0;
        for (int i = 0; i < 8; i++) {
            w[k].docs[i] = big_doc((size_t)(1 + 40 * i + 300 * k));
            w[k].want[i] = cJSON_Parse(w[k].docs[i]);
            assert_non_null(w[k].want[i]);
        }
    }
    pthread_t th[3];
    for (int k = 0; k < 3; k++)
        assert_int_equal(pthread_create(&th[k], NULL, parse_many, &w[k]), 0);
    for (int k = 0; k < 3; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(w[k].bad, 0);
        for (int i = 0; i < 8; i++) {
            cJSON_Delete(w[k].want[i]);
            free(w[k].docs[i]);
        }
        pb_json_arena_free(w[k].arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trees_equal),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_hooks_restored),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
