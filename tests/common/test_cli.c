/* pb_cli and pb_mem: the one way collect, analyze and ollama-emu report a
 * command-line mistake, an error line and an exhausted memory. Expected
 * texts are written by hand from pb_cli.h and pb_mem.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_cli.h"
#include "pb_mem.h"

static const char *const names[] = {"runs", "runtime", "emulate-ideal", "bootstrap"};

/* Runs fn in a child with stderr in a pipe; returns what it wrote and
 * its wait status in *status. */
static char *child_stderr(void (*fn)(void), int *status)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        fn();
        _exit(0);
    }
    close(p[1]);
    static char buf[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, status, 0), pid);
    return buf;
}

static void test_unknown_option_names_nearest(void **st)
{
    (void)st;
    char out[200];
    pb_cli_unknown_option("--run", names, 4, out, sizeof out);
    assert_string_equal(out, "unknown option '--run'; did you mean --runs?");
    pb_cli_unknown_option("--emulate-idael=1", names, 4, out, sizeof out);
    assert_string_equal(out, "unknown option '--emulate-idael=1'; did you mean --emulate-ideal?");
    pb_cli_unknown_option("--zzzzzzzz", names, 4, out, sizeof out);
    assert_string_equal(out, "unknown option '--zzzzzzzz'");
    /* An escape code in the argument never reaches the terminal raw. */
    pb_cli_unknown_option("--\x1b[31m", names, 4, out, sizeof out);
    assert_string_equal(out, "unknown option '--\\x1b[31m'");
}

static void usage_child(void)
{
    pb_cli_init("collect");
    _exit(pb_cli_usage_error("--runs %s: give a whole number", "x"));
}

static void test_usage_error_says_what_and_exits_2(void **st)
{
    (void)st;
    int status;
    char *err = child_stderr(usage_child, &status);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), PB_CLI_EXIT_USAGE);
    assert_int_equal(PB_CLI_EXIT_USAGE, 2);
    assert_string_equal(err, "collect: --runs x: give a whole number\nTry 'collect --help'.\n");
}

static void error_child(void)
{
    pb_cli_init("analyze");
    pb_cli_error("--csv %s: %s", "out", "Permission denied");
}

static void test_error_is_one_line_with_the_program(void **st)
{
    (void)st;
    int status;
    char *err = child_stderr(error_child, &status);
    assert_string_equal(err, "analyze: --csv out: Permission denied\n");
}

static void oom_child(void)
{
    pb_cli_init("ollama-emu");
    /* No core file from the expected abort. */
    struct rlimit no = {0, 0};
    setrlimit(RLIMIT_CORE, &no);
#ifdef __SANITIZE_ADDRESS__
    /* ASan reports a huge malloc itself instead of returning NULL. */
    pb_mem_oom(SIZE_MAX / 2, __FILE__, __LINE__);
#else
    void *p = pb_mem_alloc(SIZE_MAX / 2); /* more than any machine has */
    free(p);
#endif
}

static void test_oom_names_the_place_and_aborts(void **st)
{
    (void)st;
    int status;
    char *err = child_stderr(oom_child, &status);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "ollama-emu: out of memory at "));
    assert_non_null(strstr(err, "test_cli.c:"));
    assert_non_null(strstr(err, "run the same command again"));
}

static void test_numbers_are_whole_finite_and_in_range(void **st)
{
    (void)st;
    double d = -1;
    long long n = -1;
    assert_int_equal(pb_cli_number("0.25", 0, 1, &d), 0);
    assert_true(d == 0.25);
    assert_int_equal(pb_cli_number("1e-3", 1e-3, 1, &d), 0);
    const char *bad_d[] = {"", "x", "3x", "nan", "inf", "-inf", "1e999", "2", "-0.5"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++)
        assert_int_equal(pb_cli_number(bad_d[i], -0.1, 1, &d), -1);
    assert_int_equal(pb_cli_integer("9007199254740992", 0, 1LL << 53, &n), 0);
    assert_true(n == 1LL << 53);
    const char *bad_n[] = {"", "1.5", "1e3", "9007199254740993", "-1", "12 ",
                           "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++)
        assert_int_equal(pb_cli_integer(bad_n[i], 0, 1LL << 53, &n), -1);
}

static void test_strdup_copies(void **st)
{
    (void)st;
    char *a = pb_mem_strdup("abc"), *b = pb_mem_strdup(NULL);
    assert_string_equal(a, "abc");
    assert_string_equal(b, "");
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_option_names_nearest),
        cmocka_unit_test(test_usage_error_says_what_and_exits_2),
        cmocka_unit_test(test_error_is_one_line_with_the_program),
        cmocka_unit_test(test_oom_names_the_place_and_aborts),
        cmocka_unit_test(test_numbers_are_whole_finite_and_in_range),
        cmocka_unit_test(test_strdup_copies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
