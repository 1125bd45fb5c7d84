/* progress: the live bar never wraps, whatever the terminal width, so each
 * update overwrites the last instead of leaving a new line (issue 13); at
 * 50 columns it keeps "run k/N" and the ETA and cuts the config name; it
 * moves during a run (elapsed, tokens); the emulator's messages print above
 * it, and so do other modules' (pb_progress_say); the answer line is the
 * geometric mean of the runs' speedups (issue 22 §5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    pb_progress_finish(&p);
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

/* stderr into a file while a test runs. */
typedef struct capture {
    char path[32];
    int fd, saved;
} capture;

static void capture_begin(capture *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/pb_progress_XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    dup2(c->fd, 2);
}

/* Returns what was written (malloc'd). */
static char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    FILE *f = fopen(c->path, "r");
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    close(c->fd);
    unlink(c->path);
    return buf;
}

static int columns(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void test_narrow_keeps_run_and_eta(void **st)
{
    (void)st;
    const char *cfg = "chimera_homo_gpu80_ctx1024_with_a_long_name";
    pb_progress_view v = {7, 120, 3, "threads-1kb", cfg, 12.4, 1234, 100};
    char line[512];
    pb_progress_format(line, sizeof line, 50, &v);
    assert_true(columns(line) <= 49);
    assert_non_null(strstr(line, "run 7/120"));
    assert_non_null(strstr(line, "ETA 1m40s"));
    assert_non_null(strstr(line, "threads-1kb"));
    assert_non_null(strstr(line, "chimera"));   /* cut, not dropped */
    assert_null(strstr(line, cfg));             /* ... but cut */
    assert_non_null(strstr(line, " 12s"));      /* the run's time moves */
    /* A short runtime name leaves room for the tokens and #k. */
    v.runtime = "uv";
    pb_progress_format(line, sizeof line, 50, &v);
    assert_true(columns(line) <= 49);
    assert_non_null(strstr(line, "12s 1234 tok"));
    assert_non_null(strstr(line, "#3"));
    assert_non_null(strstr(line, "run 7/120"));
    assert_non_null(strstr(line, "ETA 1m40s"));
    assert_non_null(strstr(line, "chim"));
    v.runtime = "threads-1kb";
    /* Wide: everything, the bar too. */
    pb_progress_format(line, sizeof line, 200, &v);
    assert_non_null(strstr(line, cfg));
    assert_non_null(strstr(line, "] run 7/120"));
    /* Very narrow: run k/N and the ETA still, if anything. */
    for (int w = 22; w <= 49; w++) {
        pb_progress_format(line, sizeof line, w, &v);
        if (columns(line) > w - 1 || !strstr(line, "run 7/120") || !strstr(line, "ETA 1m40s"))
            fail_msg("at %d columns: [%s]", w, line);
    }
    /* Not running: no live part. */
    v.elapsed_s = -1;
    pb_progress_format(line, sizeof line, 200, &v);
    assert_null(strstr(line, "tok"));
}

/* stderr captured, a TTY bar of 4 runs at 120 columns, run 1 begun. */
static void bar_begin(capture *c, pb_progress *p)
{
    setenv("COLUMNS", "120", 1);
    capture_begin(c);
    pb_progress_init(p, PB_PROGRESS_TTY, 4, 4);
    pb_progress_begin(p, "uv", "default", 1);
}

/* A run in progress: the ticker redraws with the time and the tokens
 * streamed since the run began, without any call from the sweep. */
static void test_moves_during_a_run(void **st)
{
    (void)st;
    capture c;
    pb_progress p;
    bar_begin(&c, &p);
    for (int i = 0; i < 5; i++)
        pb_progress_count_message();
    struct timespec ts = {0, 600 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pb_progress_end(&p, "uv", "default", 1, 1, "ok");
    pb_progress_finish(&p);
    char *out = capture_end(&c);
    if (!strstr(out, "5 tok"))
        fail_msg("no redraw with the tokens during the run: [%s]", out);
    free(out);
}

/* A module's message while the bar is up (a server that started, an exec
 * runtime's output not kept): the bar is erased first, so the message
 * starts at the line's beginning instead of after the bar, and a message
 * after the sweep prints with no erase at all. */
static void test_message_above_the_bar(void **st)
{
    (void)st;
    capture c;
    pb_progress p;
    bar_begin(&c, &p);
    pb_progress_say("collect: server %s started\n", "emu");
    pb_progress_end(&p, "uv", "default", 1, 1, "ok");
    pb_progress_finish(&p);
    pb_progress_say("collect: after %d\n", 1);
    char *out = capture_end(&c);
    const char *m = strstr(out, "collect: server emu started\n");
    if (!m || m - out < 4 || strncmp(m - 4, "\r\033[K", 4) != 0)
        fail_msg("message not on a cleared line: [%s]", out);
    /* Before it, the bar (run 1/4) was drawn. */
    if (!strstr(out, "run 1/4") || strstr(out, "run 1/4") > m)
        fail_msg("no bar before the message: [%s]", out);
    const char *a = strstr(out, "collect: after 1\n");
    if (!a || strncmp(a - 4, "\r\033[K", 4) == 0)
        fail_msg("message after the sweep: [%s]", out);
    free(out);
}

/* Hand-worked: the geometric mean of 1, 2 and 4 is (1*2*4)^(1/3) = 2; of
 * 1.5 and 2.5, sqrt(3.75) = 1.9365. */
static void test_answer_line(void **st)
{
    (void)st;
    char line[512];
    pb_progress_answer a = {0};
    pb_progress_answer_add(&a, 4);
    pb_progress_answer_add(&a, 1);
    pb_progress_answer_add(&a, 2);
    pb_progress_answer_line(line, sizeof line, "uv", 7, &a);
    assert_string_equal(line, "uv      speedup 2.00x vs sequential (geometric mean of 3 runs "
                              "measured now, 1.00x to 4.00x)");
    pb_progress_answer b = {0};
    pb_progress_answer_add(&b, 1.5);
    pb_progress_answer_add(&b, 2.5);
    pb_progress_answer_add(&b, NAN);
    pb_progress_answer_line(line, sizeof line, "threads", 7, &b);
    assert_string_equal(line, "threads speedup 1.94x vs sequential (geometric mean of 2 runs "
                              "measured now, 1.50x to 2.50x; 1 without a speedup)");
    b.configs = 3;
    pb_progress_answer_line(line, sizeof line, "threads", 7, &b);
    assert_string_equal(line, "threads speedup 1.94x vs sequential (geometric mean of 2 runs "
                              "measured now over 3 configs, 1.50x to 2.50x; 1 without a speedup)");
    pb_progress_answer c = {0};
    pb_progress_answer_add(&c, NAN);
    pb_progress_answer_line(line, sizeof line, "serial", 6, &c);
    assert_string_equal(line, "serial no measured speedup: 1 run measured now, none valid with "
                              "solo phases");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_never_wraps),
                                       cmocka_unit_test(test_narrow_keeps_run_and_eta),
                                       cmocka_unit_test(test_moves_during_a_run),
                                       cmocka_unit_test(test_message_above_the_bar),
                                       cmocka_unit_test(test_answer_line)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
