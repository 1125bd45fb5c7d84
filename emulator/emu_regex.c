/* emu_regex: a string matching a JSON schema `pattern`, drawn from an RNG
 * (what llama.cpp's grammar for a pattern lets a model write).
 *
 * JSON Schema patterns are ECMAScript regular expressions, matched
 * anywhere in the string; a string that the whole pattern matches
 * satisfies them. The subset handled is what schemas for codes, ids and
 * slugs use: literals, `.`, escapes `\d \w \s \D \W \S` and escaped
 * punctuation, classes `[...]` with ranges and `^` negation (printable
 * ASCII), groups `(...)`, `(?:...)`, `(?<name>...)`, alternation `|`,
 * quantifiers `* + ? {n} {n,} {n,m}` (lazy `?` after them accepted), and
 * the anchors `^ $`. Unbounded repetition draws at most 3 more than the
 * minimum. Anything else (lookaround, backreferences, `\b`, `\p{..}`,
 * anchors inside the string) makes emu_regex_sample fail: the caller
 * then writes what it would without the pattern.
 *
 * It generates while it parses: parse_* walk the pattern once per use;
 * with emit 0 they only find where a construct ends (to skip the
 * alternatives not taken and to find a quantifier). */
#include "emu_internal.h"

#include <stdlib.h>
#include <string.h>

/* Longest string drawn ("within reason", as emu_schema's strings). */
#define RX_MAX_OUT 256
#define RX_MAX_DEPTH 16

typedef struct rx {
    gsl_rng *rng;
    emu_buf *out;
    size_t start; /* out->len when sampling began */
    int bad;      /* an unsupported construct, or the output too long */
    int depth;
} rx;

static const char *parse_alt(rx *x, const char *p, int emit);

static void put(rx *x, int emit, char c)
{
    if (!emit)
        return;
    if (x->out->len - x->start >= RX_MAX_OUT) {
        x->bad = 1;
        return;
    }
    emu_buf_append(x->out, &c, 1);
}

/* Printable ASCII: what a negated class or `.` draws from. */
static int printable(int c)
{
    return c >= 0x20 && c < 0x7f;
}

/* A set of ASCII characters (bit per byte). */
typedef struct rx_set {
    unsigned char bit[16];
} rx_set;

static void set_add(rx_set *s, int c)
{
    if (c >= 0 && c < 128)
        s->bit[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int set_has(const rx_set *s, int c)
{
    return c >= 0 && c < 128 && (s->bit[c >> 3] >> (c & 7)) & 1;
}

static void set_range(rx_set *s, int a, int b)
{
    for (int c = a; c <= b; c++)
        set_add(s, c);
}

/* \d \w \s and their negations as sets; 0 for another letter. */
static int set_escape(rx_set *s, char e)
{
    rx_set t = {{0}};
    switch (e) {
    case 'd': case 'D':
        set_range(&t, '0', '9');
        break;
    case 'w': case 'W':
        set_range(&t, '0', '9');
        set_range(&t, 'a', 'z');
        set_range(&t, 'A', 'Z');
        set_add(&t, '_');
        break;
    case 's': case 'S':
        set_add(&t, ' ');
        set_add(&t, '\t');
        set_add(&t, '\n');
        break;
    default:
        return 0;
    }
    int neg = e == 'D' || e == 'W' || e == 'S';
    for (int c = 0; c < 128; c++)
        if (set_has(&t, c) != neg && (!neg || printable(c)))
            set_add(s, c);
    return 1;
}

/* The character an escape other than a class stands for, or -1. */
static int escape_char(char e)
{
    switch (e) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case '0': return -1; /* NUL: not in a JSON schema worth honouring */
    default:
        /* Escaped punctuation stands for itself; letters and digits are
         * other constructs (\b, \p, \1, \x41...): not handled. */
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') ||
            (e >= '0' && e <= '9') || !e)
            return -1;
        return (unsigned char)e;
    }
}

static void put_from_set(rx *x, int emit, const rx_set *s)
{
    int n = 0;
    for (int c = 0; c < 128; c++)
        n += set_has(s, c);
    if (!n) {
        x->bad = 1;
        return;
    }
    if (!emit)
        return;
    int k = (int)gsl_rng_uniform_int(x->rng, (unsigned long)n);
    for (int c = 0; c < 128; c++)
        if (set_has(s, c) && k-- == 0) {
            put(x, emit, (char)c);
            return;
        }
}

/* [...] after the '[': returns the end (after ']'). */
static const char *parse_class(rx *x, const char *p, int emit)
{
    rx_set s = {{0}};
    int neg = *p == '^';
    if (neg)
        p++;
    int first = 1;
    while (*p && (*p != ']' || first)) {
        first = 0;
        int lo;
        if (*p == '\\') {
            if (set_escape(&s, p[1])) {
                p += 2;
                continue;
            }
            lo = escape_char(p[1]);
            if (lo < 0) {
                x->bad = 1;
                return p;
            }
            p += 2;
        } else {
            lo = (unsigned char)*p++;
        }
        if (p[0] == '-' && p[1] && p[1] != ']') {
            int hi;
            if (p[1] == '\\') {
                hi = escape_char(p[2]);
                p += 3;
            } else {
                hi = (unsigned char)p[1];
                p += 2;
            }
            if (hi < lo || hi >= 128) {
                x->bad = 1;
                return p;
            }
            set_range(&s, lo, hi);
        } else if (lo < 128) {
            set_add(&s, lo);
        } else {
            x->bad = 1; /* a non-ASCII class member */
            return p;
        }
    }
    if (*p != ']') {
        x->bad = 1;
        return p;
    }
    if (neg) {
        rx_set t = {{0}};
        for (int c = 0x20; c < 0x7f; c++)
            if (!set_has(&s, c))
                set_add(&t, c);
        s = t;
    }
    put_from_set(x, emit, &s);
    return p + 1;
}

/* One atom at p; returns its end. */
static const char *parse_atom(rx *x, const char *p, int emit)
{
    switch (*p) {
    case '(': {
        p++;
        if (p[0] == '?') {
            if (p[1] == ':') {
                p += 2;
            } else if (p[1] == '<' && p[2] != '=' && p[2] != '!') {
                const char *q = strchr(p, '>');
                if (!q) {
                    x->bad = 1;
                    return p;
                }
                p = q + 1;
            } else {
                x->bad = 1; /* lookaround */
                return p;
            }
        }
        if (++x->depth > RX_MAX_DEPTH) {
            x->bad = 1;
            return p;
        }
        p = parse_alt(x, p, emit);
        x->depth--;
        if (*p != ')') {
            x->bad = 1;
            return p;
        }
        return p + 1;
    }
    case '[':
        return parse_class(x, p + 1, emit);
    case '.': {
        rx_set s = {{0}};
        set_range(&s, 'a', 'z');
        set_range(&s, '0', '9');
        put_from_set(x, emit, &s);
        return p + 1;
    }
    case '\\': {
        rx_set s = {{0}};
        if (set_escape(&s, p[1])) {
            put_from_set(x, emit, &s);
            return p + 2;
        }
        int c = escape_char(p[1]);
        if (c < 0) {
            x->bad = 1;
            return p + 1;
        }
        put(x, emit, (char)c);
        return p + 2;
    }
    case '*': case '+': case '?': case '{': case ')': case '|': case '\0':
        x->bad = 1; /* nothing to repeat, or a stray character */
        return p;
    default:
        put(x, emit, *p);
        return p + 1;
    }
}

/* A quantifier at p: *lo, *hi (hi -1 = unbounded) and its end, or p when
 * there is none. */
static const char *parse_quant(const char *p, long *lo, long *hi)
{
    const char *q = p;
    switch (*p) {
    case '*': *lo = 0; *hi = -1; q = p + 1; break;
    case '+': *lo = 1; *hi = -1; q = p + 1; break;
    case '?': *lo = 0; *hi = 1; q = p + 1; break;
    case '{': {
        char *end;
        long a = strtol(p + 1, &end, 10);
        if (end == p + 1 || a < 0)
            return p; /* a literal '{' in ECMAScript; rejected by the atom */
        long b = a;
        if (*end == ',') {
            if (end[1] == '}') {
                b = -1;
                end++;
            } else {
                b = strtol(end + 1, &end, 10);
            }
        }
        if (*end != '}' || (b >= 0 && b < a))
            return p;
        *lo = a;
        *hi = b;
        q = end + 1;
        break;
    }
    default:
        return p;
    }
    if (*q == '?')
        q++; /* lazy: the same strings */
    return q;
}

/* A sequence of quantified atoms up to '|', ')' or the end. */
static const char *parse_seq(rx *x, const char *p, int emit)
{
    while (*p && *p != '|' && *p != ')' && !x->bad) {
        if (*p == '^' || *p == '$') {
            p++; /* the drawn string is the whole match */
            continue;
        }
        const char *atom = p;
        const char *end = parse_atom(x, atom, 0);
        if (x->bad)
            return end;
        long lo = 1, hi = 1;
        const char *after = parse_quant(end, &lo, &hi);
        if (hi < 0)
            hi = lo + 3;
        if (lo > RX_MAX_OUT || hi > RX_MAX_OUT) {
            x->bad = 1;
            return after;
        }
        long k = emit ? lo + (long)gsl_rng_uniform_int(
                                 x->rng, (unsigned long)(hi - lo + 1))
                      : 0;
        for (long i = 0; i < k && emit && !x->bad; i++)
            parse_atom(x, atom, 1);
        p = after;
    }
    return p;
}

/* Alternatives up to ')' or the end: one is drawn and written. */
static const char *parse_alt(rx *x, const char *p, int emit)
{
    const char *branch[64];
    int n = 0;
    const char *q = p;
    for (;;) {
        if (n == 64) {
            x->bad = 1;
            return q;
        }
        branch[n++] = q;
        q = parse_seq(x, q, 0);
        if (x->bad || *q != '|')
            break;
        q++;
    }
    if (emit && !x->bad)
        parse_seq(x, branch[gsl_rng_uniform_int(x->rng, (unsigned long)n)], 1);
    return q;
}

int emu_regex_sample(const char *pattern, gsl_rng *rng, emu_buf *out)
{
    rx x = {.rng = rng, .out = out, .start = out->len};
    const char *end = parse_alt(&x, pattern, 1);
    if (x.bad || *end) {
        out->len = x.start;
        return -1;
    }
    return 0;
}
