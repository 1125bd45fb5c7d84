/* lines: NDJSON reassembly across arbitrary chunk boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lines.h"

typedef struct seen {
    char lines[16][64];
    int n;
} seen;

static int collect_line(void *ud, const char *line, size_t len)
{
    seen *s = ud;
    snprintf(s->lines[s->n++], 64, "%.*s", (int)len, line);
    return 0;
}

static const char text[] = "{\"a\":1}\n{\"b\":22}\n\n{\"c\":333}\n{\"tail\"";

static void check(seen *s)
{
    assert_int_equal(s->n, 5);
    assert_string_equal(s->lines[0], "{\"a\":1}");
    assert_string_equal(s->lines[1], "{\"b\":22}");
    assert_string_equal(s->lines[2], "");
    assert_string_equal(s->lines[3], "{\"c\":333}");
    assert_string_equal(s->lines[4], "{\"tail\"");
}

/* Every way of cutting the stream in two gives the same lines. */
static void test_every_split(void **st)
{
    (void)st;
    size_t n = strlen(text);
    for (size_t cut = 0; cut <= n; cut++) {
        pb_lines l;
        seen s = {0};
        pb_lines_init(&l, 0);
        assert_int_equal(pb_lines_feed(&l, text, cut, collect_line, &s), 0);
        assert_int_equal(pb_lines_feed(&l, text + cut, n - cut, collect_line, &s), 0);
        assert_int_equal(pb_lines_finish(&l, collect_line, &s), 0);
        check(&s);
        pb_lines_free(&l);
    }
}

static void test_byte_by_byte(void **st)
{
    (void)st;
    pb_lines l;
    seen s = {0};
    pb_lines_init(&l, 0);
    for (size_t i = 0; i < strlen(text); i++)
        assert_int_equal(pb_lines_feed(&l, text + i, 1, collect_line, &s), 0);
    pb_lines_finish(&l, collect_line, &s);
    check(&s);
    pb_lines_free(&l);
}

static int stop_at_two(void *ud, const char *line, size_t len)
{
    (void)line, (void)len;
    return ++*(int *)ud == 2 ? 7 : 0;
}

static void test_callback_stops_and_max(void **st)
{
    (void)st;
    pb_lines l;
    int count = 0;
    pb_lines_init(&l, 0);
    assert_int_equal(pb_lines_feed(&l, text, strlen(text), stop_at_two, &count), 7);
    pb_lines_free(&l);
    pb_lines_init(&l, 8);
    seen s = {0};
    assert_int_equal(pb_lines_feed(&l, "0123456789", 10, collect_line, &s), -1);
    pb_lines_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_callback_stops_and_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
