/* progress: the live bar never wraps, whatever the terminal width, so each
 * update overwrites the last instead of leaving a new line (issue 13). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

/* Runs the bar with COLUMNS=cols, stderr captured; returns the longest
 * segment between carriage returns, in characters (UTF-8 counted once). */
static size_t longest_update(const char *cols, const char *config)
{
    setenv("COLUMNS", cols, 1);
    char path[] = "/tmp/pb_progress_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    pb_progress p;
    pb_progress_init(&p, PB_PROGRESS_TTY, 120, 120);
    for (int k = 1; k <= 3; k++) {
        pb_progress_begin(&p, "threads-1kb", config, k);
        pb_progress_end(&p, "threads-1kb", config, k, 1, "ok");
    }
    pb_progress_clear(&p);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    close(fd);
    unlink(path);
    assert_null(strchr(buf, '\n'));
    size_t longest = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\r') {
            cur = 0;
            continue;
        }
        if (buf[i] == '\033') { /* "\033[K" erases; it takes no column */
            i += 2;
            continue;
        }
        if (((unsigned char)buf[i] & 0xc0) != 0x80)
            cur++;
        if (cur > longest)
            longest = cur;
    }
    return longest;
}

static void test_never_wraps(void **st)
{
    (void)st;
    assert_true(longest_update("60", "chimera_homo_gpu80_ctx1024_with_a_long_name") <= 59);
    assert_true(longest_update("20", "c") <= 19);
    assert_true(longest_update("60", "caf\xc3\xa9_\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                     "_and_more_text_here_to_be_cut") <= 59);
    /* Wide enough: the whole line is shown. */
    assert_true(longest_update("200", "c") > 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_never_wraps)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
