/* Markdown escaping of labels: text (backslash escapes) versus code spans
 * (no escapes; a longer backtick fence; "\|" only inside table cells).
 * Expected strings worked out from CommonMark/GFM rules by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pb_md.h"

typedef void (*emit_fn)(FILE *, const char *, int);

static char *render(emit_fn fn, const char *s, int mode)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, s, mode);
    fclose(f);
    return buf;
}

static void text(FILE *f, const char *s, int unused)
{
    (void)unused;
    pb_md_escape(f, s);
}

static void code(FILE *f, const char *s, int in_table)
{
    pb_md_code(f, s, in_table);
}

#define EXPECT(fn, s, mode, want)                                  \
    do {                                                           \
        char *got_ = render(fn, s, mode);                          \
        assert_string_equal(got_, want);                           \
        free(got_);                                                \
    } while (0)

static void test_text(void **state)
{
    (void)state;
    EXPECT(text, "chimera_homo*gpu|80`ctx", 0, "chimera\\_homo\\*gpu\\|80\\`ctx");
    EXPECT(text, "a\\b\nc", 0, "a\\\\b c");
    /* Issue 13: no raw control character reaches the report (ESC would
     * recolour a terminal showing it); each becomes U+FFFD. */
    EXPECT(text, "esc\x1b[31m\x7f", 0, "esc\xef\xbf\xbd\\[31m\xef\xbf\xbd");
    /* C1 CSI (U+009B, bytes C2 9B) too; U+00A2 (C2 A2) is a character. */
    EXPECT(text, "a\xc2\x9b" "b\xc2\xa2" "c\td~#", 0,
           "a\xef\xbf\xbd" "b\xc2\xa2" "c d\\~\\#");
    EXPECT(text, "", 0, "");
    EXPECT(text, "plain run only", 0, "plain run only");
}

static void test_code_span(void **state)
{
    (void)state;
    /* No backslashes inside a span; one backtick in s -> fence of two. */
    EXPECT(code, "chimera_homo*gpu|80`ctx", 0, "``chimera_homo*gpu|80`ctx``");
    /* In a table cell only the pipe is escaped. */
    EXPECT(code, "chimera_homo*gpu|80`ctx", 1, "``chimera_homo*gpu\\|80`ctx``");
    /* Plain label: single backticks, underscores verbatim. */
    EXPECT(code, "chimera_homo_gpu80_ctx1024: 50.0%", 0,
           "`chimera_homo_gpu80_ctx1024: 50.0%`");
    /* A run of two backticks -> fence of three; leading/trailing backtick
     * -> padded with a space so it is not read as part of the fence. */
    EXPECT(code, "a``b", 0, "```a``b```");
    EXPECT(code, "`x", 0, "`` `x ``");
    EXPECT(code, "x\ty", 0, "`x y`");
    EXPECT(code, "x\x1by\x01", 0, "`x\xef\xbf\xbdy\xef\xbf\xbd`");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_code_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
