/* emu_fault: parsing of fault specs (the same syntax per instance, by flag,
 * and per request, by option or header). See README.md for the semantics. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 1000000000)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_secs(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

int emu_fault_parse(const char *spec, emu_fault *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (!spec || !*spec || !strcmp(spec, "none"))
        return 0;
    char buf[128];
    if (strlen(spec) >= sizeof buf)
        goto bad;
    strcpy(buf, spec);
    char *arg = strchr(buf, ':');
    if (arg)
        *arg++ = '\0';
    const char *name = buf;

    if (!strcmp(name, "down") && !arg) {
        f->kind = EMU_FAULT_DOWN;
    } else if (!strcmp(name, "truncate_final") && !arg) {
        f->kind = EMU_FAULT_TRUNCATE_FINAL;
    } else if (!strcmp(name, "http500") && !arg) {
        f->kind = EMU_FAULT_HTTP500;
    } else if (!strcmp(name, "busy503") && !arg) {
        f->kind = EMU_FAULT_BUSY503;
    } else if (!strcmp(name, "reset_after") && arg) {
        f->kind = EMU_FAULT_RESET_AFTER;
        if (parse_int(arg, &f->k))
            goto bad;
    } else if (!strcmp(name, "malformed_line") && arg) {
        f->kind = EMU_FAULT_MALFORMED_LINE;
        if (parse_int(arg, &f->k) || f->k < 1)
            goto bad;
    } else if (!strcmp(name, "garbage") && arg) {
        f->kind = EMU_FAULT_GARBAGE;
        if (parse_int(arg, &f->k))
            goto bad;
    } else if (!strcmp(name, "error_after") && arg) {
        f->kind = EMU_FAULT_ERROR_AFTER;
        if (parse_int(arg, &f->k))
            goto bad;
    } else if (!strcmp(name, "delay_headers") && arg) {
        f->kind = EMU_FAULT_DELAY_HEADERS;
        if (parse_secs(arg, &f->seconds))
            goto bad;
    } else if (!strcmp(name, "stall") && arg) {
        /* stall:SECONDS[:close][@K] */
        f->kind = EMU_FAULT_STALL;
        f->k = 1;
        char *at = strchr(arg, '@');
        if (at) {
            *at++ = '\0';
            if (parse_int(at, &f->k))
                goto bad;
        }
        char *opt = strchr(arg, ':');
        if (opt) {
            *opt++ = '\0';
            if (strcmp(opt, "close"))
                goto bad;
            f->close = 1;
        }
        if (parse_secs(arg, &f->seconds))
            goto bad;
    } else {
        goto bad;
    }
    return 0;
bad:
    snprintf(err, errlen,
             "invalid fault spec '%s': expected one of down, reset_after:K, "
             "stall:SECONDS[:close][@K], malformed_line:K, truncate_final, "
             "http500, busy503, delay_headers:SECONDS, garbage:K, "
             "error_after:K",
             spec);
    memset(f, 0, sizeof *f);
    return -1;
}
