/* pb_cli: the programs' error lines and command-line errors (pb_cli.h). */
#include "pb_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_text.h"

static const char *prog = "parbench";

void pb_cli_init(const char *name)
{
    prog = name;
}

const char *pb_cli_prog(void)
{
    return prog;
}

void pb_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int pb_cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    va_end(ap);
    return PB_CLI_EXIT_USAGE;
}

const char *pb_cli_unknown_option(const char *arg, const char *const *names, size_t n,
                                  char *out, size_t outlen)
{
    char word[128], shown[80];
    snprintf(word, sizeof word, "%s", arg + strspn(arg, "-"));
    word[strcspn(word, "=")] = '\0';
    const char *near = pb_text_nearest(word, names, n);
    /* The argument is quoted: an escape code typed (or pasted) into the
     * command line never reaches the terminal raw. */
    pb_text_quote(arg, shown, sizeof shown);
    if (near)
        snprintf(out, outlen, "unknown option '%s'; did you mean --%s?", shown, near);
    else
        snprintf(out, outlen, "unknown option '%s'", shown);
    return out;
}

int pb_cli_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* NaN fails both comparisons, so it is never in range. */
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

int pb_cli_integer(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
