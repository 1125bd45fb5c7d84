/* pb_hash: FNV-1a against its published test vectors; the word hash on
 * what a set of whole files needs of it (same bytes at any alignment give
 * the same value; a flipped bit or another length gives another). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pb_hash.h"

static void test_fnv_vectors(void **st)
{
    (void)st;
    /* The FNV authors' 64-bit FNV-1a values. */
    assert_true(pb_hash_fnv1a64("", 0) == 0xcbf29ce484222325ull);
    assert_true(pb_hash_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
    assert_true(pb_hash_fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
    char buf[32];
    assert_string_equal(pb_hash_digest("a", 1, buf, sizeof buf), "fnv1a64:af63dc4c8601ec8c");
}

static void test_words_alignment(void **st)
{
    (void)st;
    unsigned char src[300], shifted[310];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 37 + 11);
    for (size_t off = 0; off < 8; off++) {
        memcpy(shifted + off, src, sizeof src);
        for (size_t len = 0; len <= sizeof src; len += 13)
            assert_true(pb_hash_words64(shifted + off, len) == pb_hash_words64(src, len));
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_words_distinct(void **st)
{
    (void)st;
    /* Every single-bit change of a 1 KiB file, and every length 0..64 of a
     * file of zero bytes (a tail of zeros must still count): all distinct
     * from each other and from the original. */
    enum { LEN = 1024, N = LEN * 8 + 1 + 65 };
    unsigned char *b = calloc(LEN, 1);
    uint64_t *h = malloc(N * sizeof *h);
    assert_non_null(b);
    assert_non_null(h);
    for (size_t i = 0; i < LEN; i++)
        b[i] = (unsigned char)"{\"summary\": 1.5}\n"[i % 17];
    size_t n = 0;
    h[n++] = pb_hash_words64(b, LEN);
    for (size_t bit = 0; bit < LEN * 8; bit++) {
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        h[n++] = pb_hash_words64(b, LEN);
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    unsigned char zero[64] = {0};
    for (size_t len = 0; len <= 64; len++)
        h[n++] = pb_hash_words64(zero, len);
    assert_int_equal(n, N);
    qsort(h, n, sizeof *h, cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(h[i] != h[i - 1]);
    free(b);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv_vectors),
        cmocka_unit_test(test_words_alignment),
        cmocka_unit_test(test_words_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
