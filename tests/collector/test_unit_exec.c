/* exec_cmd: an exec runtime's command line, split as sh quotes words (with
 * no expansion), its program found before any run, its templates filled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "exec_cmd.h"

static void expect_words(const char *cmd, const char *const *want, int n)
{
    char err[256];
    char **argv = pb_exec_split(cmd, err, sizeof err);
    assert_non_null(argv);
    assert_int_equal(pb_exec_argc(argv), n);
    for (int i = 0; i < n; i++)
        assert_string_equal(argv[i], want[i]);
    pb_exec_argv_free(argv);
}

static void test_split(void **state)
{
    (void)state;
    const char *w1[] = {"prog", "--runtime", "tokio-localset"};
    expect_words("  prog --runtime\ttokio-localset ", w1, 3);
    const char *w2[] = {"a b", "c'd", "e\"f", "g h", "$HOME", "x;y", "{model}", ""};
    expect_words("'a b' \"c'd\" 'e\"f' g\\ h '$HOME' x;y {model} ''", w2, 8);
    /* Inside double quotes a backslash escapes only " \ $ `. */
    const char *w3[] = {"q\"\\$`\\n", "ab"};
    expect_words("\"q\\\"\\\\\\$\\`\\n\" a\"b\"", w3, 2);
    char err[256];
    assert_null(pb_exec_split("prog 'open", err, sizeof err));
    assert_non_null(strstr(err, "unclosed ' quote"));
    assert_null(pb_exec_split("   ", err, sizeof err));
    assert_non_null(strstr(err, "empty"));
}

static void test_resolve(void **state)
{
    (void)state;
    char path[4096], err[512];
    assert_int_equal(pb_exec_resolve("sh", path, sizeof path, err, sizeof err), 0);
    assert_non_null(strstr(path, "/sh"));
    assert_int_equal(pb_exec_resolve("/bin/sh", path, sizeof path, err, sizeof err), 0);
    assert_int_equal(pb_exec_resolve("no-such-program-xyz", path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "not on PATH"));
    assert_int_equal(pb_exec_resolve("./no/such", path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing or not executable"));
}

static const char *lookup(void *ud, const char *id)
{
    (void)ud;
    return strcmp(id, "collector") == 0 ? "http://127.0.0.1:7" : NULL;
}

static void test_fill(void **state)
{
    (void)state;
    char err[256];
    char *s = pb_exec_fill("--url={endpoint:collector}/x {model} n={agents} {other} {", "m:1", 3,
                           lookup, NULL, err, sizeof err);
    assert_string_equal(s, "--url=http://127.0.0.1:7/x m:1 n=3 {other} {");
    free(s);
    assert_null(pb_exec_fill("{endpoint:insight}", "m", 1, lookup, NULL, err, sizeof err));
    assert_non_null(strstr(err, "no agent \"insight\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
