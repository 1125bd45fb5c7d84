#include "pb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pb_text_label_check(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    const char *w = NULL;
    if (n == 0)
        w = "is empty";
    else if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        w = "is '.' or '..', which names another directory";
    else if (s[0] == '.')
        w = "starts with a dot (readers skip hidden files)";
    else if (n > PB_LABEL_MAX)
        w = "is longer than 128 bytes";
    else if (!pb_text_utf8_valid(s, n))
        w = "is not valid UTF-8";
    else {
        for (size_t i = 0; i < n && !w; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7f)
                w = "contains a control character";
            else if (c == '/' || c == '\\')
                w = "contains a '/' or '\\'";
            else if (c == ' ' || c == '"')
                w = "contains a space or a quote";
        }
    }
    if (!w)
        return 0;
    snprintf(why, whylen, "%s", w);
    return -1;
}

int pb_text_http_token_ok(const char *s)
{
    /* RFC 9110 5.6.2: tchar = "!#$%&'*+-.^_`|~" / DIGIT / ALPHA */
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !strchr("!#$%&'*+-.^_`|~", c))
            return 0;
    }
    return 1;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return c ? 1 : 0;
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

size_t pb_text_utf8_cut(const char *s, size_t n)
{
    /* Walk back over at most 3 continuation bytes to the lead byte; keep
     * the character only if it is complete. */
    const unsigned char *u = (const unsigned char *)s;
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && (u[i - 1] & 0xc0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return back ? 0 : n;
    unsigned c = u[i - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (want == 1)
        return back ? i : n; /* stray continuation bytes: cut before them */
    return back + 1 >= want ? n : i - 1;
}

size_t pb_text_utf8_cap(const char *s, size_t n, size_t cap)
{
    return n <= cap ? n : pb_text_utf8_cut(s, cap);
}

int pb_text_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = seq_len(u + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

char *pb_text_utf8_repair(const char *s, size_t n, size_t *repaired)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t bad = 0;
    /* Each invalid byte becomes 3 bytes at most: size the output once. */
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t l = seq_len(u + i, n - i);
        if (l) {
            memcpy(out + k, s + i, l);
            k += l;
            i += l;
        } else {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
            bad++;
        }
    }
    out[k] = '\0';
    if (repaired)
        *repaired = bad;
    return out;
}

const char *pb_text_quote(const char *s, char *out, size_t outlen)
{
    size_t k = 0, shown = 0;
    if (!outlen)
        return out;
    for (; *s && k + 8 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        if (shown >= 60) {
            memcpy(out + k, "...", 3);
            k += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", c);
        else
            out[k++] = (char)c;
        if ((c & 0xc0) != 0x80)
            shown++;
    }
    out[k] = '\0';
    return out;
}

int pb_text_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255)
        return 255;
    int row[256];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 255 ? 255 : row[lb];
}

const char *pb_text_nearest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    int bd = 256;
    for (size_t i = 0; i < n; i++) {
        int d = pb_text_edit_distance(word, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    int limit = (int)strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    return bd <= limit ? best : NULL;
}

int pb_text_json_has_nul_escape(const char *s, size_t n)
{
    /* memchr jumps from backslash to backslash: run files have few, and a
     * byte loop over every file was 7% of analyze's time. */
    const char *p = s, *end = s + n;
    while (p + 1 < end && (p = memchr(p, '\\', (size_t)(end - p - 1)))) {
        size_t left = (size_t)(end - p);
        if (p[1] == 'u' && left > 5 && memcmp(p + 2, "0000", 4) == 0)
            return 1;
        p += 2;   /* skip the escaped character (a second backslash too) */
    }
    return 0;
}

void pb_text_put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (*p) {
        size_t k = seq_len(p, left);
        left -= k ? k : 1;
        if (k == 0) {
            fprintf(f, "\\x%02x", *p);
            p++;
        } else if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
            fprintf(f, "\\x%02x", *p);
            p++;
        } else if (k == 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            /* C1 controls (U+0080..U+009F): CSI is one of them. */
            fprintf(f, "\\u%04x", (unsigned)p[1]);
            p += 2;
        } else {
            fwrite(p, 1, k, f);
            p += k;
        }
    }
}
