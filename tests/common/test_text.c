/* pb_text: label and token validators, UTF-8 cut and repair, nearest word.
 * Expected values are worked by hand from RFC 3629 / RFC 9110. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pb_text.h"

static void test_label(void **st)
{
    (void)st;
    char why[128];
    assert_int_equal(pb_text_label_check("uv-1kb", why, sizeof why), 0);
    assert_int_equal(pb_text_label_check("chimera_homo_gpu80_ctx512", why, sizeof why), 0);
    assert_int_equal(pb_text_label_check("caf\xc3\xa9", why, sizeof why), 0);
    const char *bad[] = {"", ".", "..", ".hidden", "a/b", "a\\b", "a b", "a\"b",
                         "esc\x1b[31m", "tab\t", "del\x7f", "bad\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(pb_text_label_check(bad[i], why, sizeof why), -1);
        assert_true(why[0] != '\0');
    }
    char longl[200];
    memset(longl, 'a', sizeof longl);
    longl[128] = '\0';
    assert_int_equal(pb_text_label_check(longl, why, sizeof why), 0);
    longl[128] = 'a';
    longl[129] = '\0';
    assert_int_equal(pb_text_label_check(longl, why, sizeof why), -1);
    assert_non_null(strstr(why, "128"));
}

static void test_token(void **st)
{
    (void)st;
    assert_true(pb_text_http_token_ok("X-Parbench-Fault"));
    assert_true(pb_text_http_token_ok("a!#$%&'*+-.^_`|~9"));
    assert_false(pb_text_http_token_ok(""));
    assert_false(pb_text_http_token_ok("X-Dummy: 1\r\nX-Parbench-Fault"));
    assert_false(pb_text_http_token_ok("X Dummy"));
    assert_false(pb_text_http_token_ok("X:"));
    assert_false(pb_text_http_token_ok("caf\xc3\xa9"));
}

static void test_cut(void **st)
{
    (void)st;
    /* "a" + e-acute (2) + euro sign (3) + G clef (4) = 10 bytes */
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
    size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
    for (size_t n = 0; n <= 10; n++)
        assert_int_equal(pb_text_utf8_cut(s, n), want[n]);
    assert_int_equal(pb_text_utf8_cut("abc", 3), 3);
}

static void test_valid_repair(void **st)
{
    (void)st;
    assert_true(pb_text_utf8_valid("a\xc3\xa9", 3));
    assert_false(pb_text_utf8_valid("a\xc3", 2));          /* truncated */
    assert_false(pb_text_utf8_valid("\xc0\xaf", 2));        /* overlong '/' */
    assert_false(pb_text_utf8_valid("\xed\xa0\x80", 3));    /* surrogate */
    assert_false(pb_text_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(pb_text_utf8_valid("a\0b", 3));
    size_t rep = 99;
    char *r = pb_text_utf8_repair("ok", 2, &rep);
    assert_string_equal(r, "ok");
    assert_int_equal(rep, 0);
    free(r);
    r = pb_text_utf8_repair("a\xff" "b\xc3", 4, &rep);
    assert_string_equal(r, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    assert_int_equal(rep, 2);
    free(r);
    r = pb_text_utf8_repair("x\0y", 3, &rep);
    assert_string_equal(r, "x\xef\xbf\xbdy");
    assert_int_equal(rep, 1);
    free(r);
}

static void test_quote(void **st)
{
    (void)st;
    char q[128];
    assert_string_equal(pb_text_quote("X-Dummy: 1\r\nX", q, sizeof q), "X-Dummy: 1\\x0d\\x0aX");
    assert_string_equal(pb_text_quote("a\x1b[31m", q, sizeof q), "a\\x1b[31m");
    char longs[200];
    memset(longs, 'z', 199);
    longs[199] = '\0';
    pb_text_quote(longs, q, sizeof q);
    assert_int_equal(strlen(q), 63);
    assert_string_equal(q + 60, "...");
    pb_text_quote("abc", q, 4); /* too small a buffer: empty, never overrun */
    assert_true(strlen(q) < 4);
}

static void test_nearest(void **st)
{
    (void)st;
    assert_int_equal(pb_text_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(pb_text_edit_distance("", "abc"), 3);
    assert_int_equal(pb_text_edit_distance("run", "runs"), 1);
    const char *keys[] = {"name", "runs", "seed", "runtimes", "configs"};
    assert_string_equal(pb_text_nearest("run", keys, 5), "runs");
    assert_string_equal(pb_text_nearest("config", keys, 5), "configs");
    assert_string_equal(pb_text_nearest("runtime", keys, 5), "runtimes");
    assert_null(pb_text_nearest("zzzzzz", keys, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label), cmocka_unit_test(test_token),
        cmocka_unit_test(test_cut), cmocka_unit_test(test_valid_repair),
        cmocka_unit_test(test_nearest), cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
