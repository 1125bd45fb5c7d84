/* pb_report_rel_dir: the --charts directory as seen from -o FILE's folder.
 * Expected values worked out by hand from the two paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pb_report.h"

static void check(const char *file, const char *dir, const char *want) {
    char *got = pb_report_rel_dir(file, dir);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("rel_dir(%s, %s) = %s, want %s", file, dir, got, want);
    free(got);
}

static void test_rel_dir(void **state) {
    (void)state;
    /* The case: report and charts in the same folder. */
    check("out/r2/report.md", "out/r2/charts", "charts");
    /* Report one level below the charts' parent. */
    check("out/r2/sub/report.md", "out/r2/charts", "../charts");
    /* Absolute and relative paths mixed: both taken from the cwd. */
    char cwd[4096], abs[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(abs, sizeof abs, "%s/a/b/charts", cwd);
    check("a/report.md", abs, "b/charts");
    /* ".", "..", repeated and trailing slashes are normalised lexically. */
    check("./x/../y//report.md", "y/./charts/", "charts");
    /* The charts are the report's own folder. */
    check("/tmp/r/report.md", "/tmp/r", ".");
    /* Disjoint absolute trees. */
    check("/a/b/report.md", "/c/d", "../../c/d");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rel_dir)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
