/* pb_gnuplot: quoting, PATH lookup, and that gnuplot's warnings reach us
 * (the charts test relies on "silent stderr" meaning "no warnings"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pb_fs.h"
#include "pb_gnuplot.h"

static char *quoted(const char *s) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pb_gnuplot_quote(f, s);
    fclose(f);
    return buf;
}

static void test_quote(void **state) {
    (void)state;
    char *q = quoted("it's_a {x}\n\"y\"\\");
    /* '' for the quote, newline flattened, everything else verbatim (the
     * scripts use noenhanced, so _ { } need no escaping). */
    assert_string_equal(q, "'it''s_a {x} \"y\"\\'");
    free(q);
    q = quoted(NULL);
    assert_string_equal(q, "''");
    free(q);
}

static void test_find(void **state) {
    (void)state;
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent:/also/not", 1);
    assert_null(pb_gnuplot_find());
    if (old) setenv("PATH", old, 1);
    free(old);
}

static void write_script(const char *dir, const char *name, const char *text) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(pb_fs_write_atomic(path, text, strlen(text), err, sizeof err), 0);
}

static void test_run(void **state) {
    (void)state;
    char *gp = pb_gnuplot_find();
    if (!gp) {
        /* The charts' rendering cannot be tested without it: say so loudly. */
        fprintf(stderr, "test_gnuplot: gnuplot not on PATH "
                        "(apt-get install gnuplot-nox); skipping\n");
        skip();
    }
    const char *dir = PB_TEST_OUT;
    char err[256];
    assert_int_equal(pb_fs_mkdirs(dir, err, sizeof err), 0);
    /* A clean script: stderr stays empty. (gnuplot's `print` writes to
     * stderr, so the chart scripts never use it.) */
    write_script(dir, "ok.gp", "set terminal svg\n"
                               "set output 'ok.svg'\nplot x\n");
    char *e = NULL;
    assert_int_equal(pb_gnuplot_run(gp, dir, "ok.gp", &e), 0);
    assert_non_null(e);
    assert_string_equal(e, "");
    free(e);
    /* A warning: gnuplot exits 0 but says something on stderr. */
    write_script(dir, "empty.dat", "# nothing\n");
    write_script(dir, "warn.gp", "set terminal svg\nset output 'warn.svg'\n"
                                 "set xrange [0:1]\nplot 'empty.dat' with lines, x\n");
    assert_int_equal(pb_gnuplot_run(gp, dir, "warn.gp", &e), 0);
    assert_non_null(strstr(e, "arning"));
    free(e);
    /* An error: non-zero exit and the message. */
    write_script(dir, "bad.gp", "plot 'no such file.dat'\n");
    assert_int_not_equal(pb_gnuplot_run(gp, dir, "bad.gp", &e), 0);
    assert_true(strlen(e) > 0);
    free(e);
    /* A directory that does not exist: reported, no crash. */
    assert_int_not_equal(pb_gnuplot_run(gp, "/nonexistent/dir", "ok.gp", &e), 0);
    assert_non_null(strstr(e, "charts directory"));
    free(e);
    free(gp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
