/* pb_md: Markdown text helpers shared by every report section (escaping,
 * code spans, config cells). Kept apart from
 * pb_report.c so that the sections need not include the report that
 * includes them. */
#include "pb_md.h"

#include "pb_analysis.h"

#include <stdlib.h>
#include <string.h>

void pb_md_escape(FILE *out, const char *s)
{
    /* Labels come from directory names and file metadata: a "|" would
     * split a table cell, "*" or "_" would turn into emphasis. Plain runs
     * go out in one fwrite (a call per character was a tenth of the
     * full report's rendering). */
    while (s && *s) {
        size_t n = 0;
        for (unsigned char ch; (ch = (unsigned char)s[n]) >= 0x20 && ch != 0x7f &&
                               ch != 0xc2 && !strchr("\\|*_`[]<>#~", ch); n++)
            ;
        fwrite(s, 1, n, out);
        s += n;
        if (!*s)
            break;
        if (strchr("\\|*_`[]<>#~", *s))
            fputc('\\', out), fputc(*s, out);
        else if (*s == '\n' || *s == '\r' || *s == '\t')
            fputc(' ', out);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fputs("\xef\xbf\xbd", out); /* ESC & co. would reach a terminal */
        else if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] >= 0x80 &&
                 (unsigned char)s[1] <= 0x9f)
            fputs("\xef\xbf\xbd", out), s++; /* C1 controls: CSI is one */
        else
            fputc(*s, out);   /* 0xc2 leading an ordinary character */
        s++;
    }
}

void pb_md_code(FILE *out, const char *s, int in_table)
{
    /* Backslash escapes are literal inside a code span, so nothing is
     * escaped: the fence is one backtick longer than the longest backtick
     * run in s, and a space pads a span that starts or ends with a
     * backtick (CommonMark strips one such space on each side). Only "|"
     * needs "\|" in a table cell: GFM splits cells before it parses spans
     * and drops the backslash. */
    if (!s)
        s = "";
    size_t run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t len = strlen(s);
    int pad = len > 0 && (s[0] == '`' || s[len - 1] == '`');
    for (size_t i = 0; i <= longest; i++)
        fputc('`', out);
    if (pad)
        fputc(' ', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            fputc(' ', out);
        else if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fputs("\xef\xbf\xbd", out); /* U+FFFD: no raw control bytes */
        else if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
                 (unsigned char)p[1] <= 0x9f)
            fputs("\xef\xbf\xbd", out), p++; /* C1 controls (CSI) too */
        else if (*p == '|' && in_table)
            fputs("\\|", out);
        else
            fputc(*p, out);
    }
    if (pad)
        fputc(' ', out);
    for (size_t i = 0; i <= longest; i++)
        fputc('`', out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pb_md_config(FILE *out, const pb_report_opts *op, const char *config)
{
    const char *const *hit = NULL;
    if (op && op->cfg_abbrev && config)
        hit = bsearch(&config, op->cfg_names, op->n_cfg, sizeof *op->cfg_names, cmp_str);
    if (hit)
        fprintf(out, "c%zu", (size_t)(hit - op->cfg_names) + 1);
    else
        pb_md_escape(out, config);
}

void pb_md_config_legend(FILE *out, const pb_report_opts *op)
{
    if (!op || !op->cfg_abbrev)
        return;
    fputs("Configs in the tables below:", out);
    for (size_t i = 0; i < op->n_cfg; i++) {
        fprintf(out, "%s c%zu = ", i ? ";" : "", i + 1);
        pb_md_code(out, op->cfg_names[i], 0);
    }
    fputs(".\n\n", out);
}


void pb_md_link(FILE *out, const char *dir, const char *name, const char *ext)
{
    /* A destination with spaces or parentheses needs CommonMark's <...>. */
    int angle = strpbrk(dir, " ()<>") != NULL || strpbrk(name, " ()<>") != NULL;
    fprintf(out, "%s%s%s%s%s%s%s", angle ? "<" : "", strcmp(dir, ".") ? dir : "",
            strcmp(dir, ".") ? "/" : "", name, ext ? "." : "", ext ? ext : "",
            angle ? ">" : "");
}

/* Distinct configs of the analysis, sorted; abbreviated in tables when one
 * is longer than 16 characters (TR115's reach 36, and two of them in a
 * row pushed tables past a laptop screen). */
const char **pb_md_config_names(const pb_analysis *a, size_t *n, int *abbrev)
{
    const char **v = malloc((a->n_groups ? a->n_groups : 1) * sizeof *v);
    *n = 0;
    *abbrev = 0;
    if (!v)
        return NULL;
    for (size_t g = 0; g < a->n_groups; g++)
        v[(*n)++] = a->groups[g].config;
    qsort(v, *n, sizeof *v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
            v[k++] = v[i];
    *n = k;
    for (size_t i = 0; i < k; i++)
        if (strlen(v[i]) > 16)
            *abbrev = 1;
    return v;
}

