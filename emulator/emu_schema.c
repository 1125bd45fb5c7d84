/* emu_schema: a JSON value that validates against a JSON schema, drawn
 * from an RNG: what a model constrained by Ollama's structured outputs
 * (llama.cpp's grammar built from `format`) or asked for tool arguments
 * would write.
 *
 * The subset agents' schemas use (OpenAI SDK helpers, zod, pydantic):
 * type (a name or a list), properties/required, additionalProperties,
 * items/minItems/maxItems, enum, const, anyOf/oneOf/allOf, $ref into
 * $defs/definitions, string minLength/maxLength and a few formats,
 * numbers within minimum/maximum (exclusive too), pattern (emu_regex.c's
 * subset). Not handled: multipleOf, uniqueItems of non-enum items, if/then/else, not. Output is
 * compact JSON (the grammar allows any whitespace; compact is what
 * constrained models mostly write). */
#include "emu_internal.h"
#include "pb_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Deeper than any schema an agent sends; stops recursive $refs. */
#define SCHEMA_MAX_DEPTH 12

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static double num(const cJSON *o, const char *k, double def)
{
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* "#/$defs/Name" or "#/definitions/Name" (one level, ~0/~1 unescaped)
 * or "#" itself. */
static const cJSON *resolve_ref(const cJSON *root, const char *ref)
{
    if (!strcmp(ref, "#"))
        return root;
    if (strncmp(ref, "#/", 2))
        return NULL;
    const cJSON *at = root;
    const char *p = ref + 2;
    while (*p && at) {
        char key[256];
        size_t n = 0;
        while (*p && *p != '/' && n + 1 < sizeof key) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                key[n++] = p[1] == '0' ? '~' : '/';
                p += 2;
            } else {
                key[n++] = *p++;
            }
        }
        key[n] = '\0';
        if (*p == '/')
            p++;
        at = cJSON_IsArray(at) ? cJSON_GetArrayItem(at, atoi(key))
                               : get(at, key);
    }
    return at;
}

static void put_json(emu_buf *out, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    if (s)
        emu_buf_append(out, s, strlen(s));
    else
        emu_buf_append(out, "null", 4);
    cJSON_free(s);
}

/* A string the pattern matches, JSON-escaped; 0 when the pattern is
 * outside emu_regex's subset (then the usual words, which may not match).
 * minLength/maxLength are not combined with a pattern. */
static int put_pattern(emu_buf *out, const char *pattern, gsl_rng *rng)
{
    emu_buf raw = {0};
    if (emu_regex_sample(pattern, rng, &raw)) {
        emu_buf_free(&raw);
        return 0;
    }
    /* cJSON escapes quotes, backslashes and control characters. */
    char *text = pb_mem_alloc(raw.len + 1);
    if (raw.len)
        memcpy(text, raw.data, raw.len);
    text[raw.len] = '\0';
    cJSON *str = cJSON_CreateString(text);
    put_json(out, str);
    cJSON_Delete(str);
    free(text);
    emu_buf_free(&raw);
    return 1;
}

/* Words from the emulator's vocabulary, trimmed to maxLength and padded
 * to minLength: characters that never need escaping. */
static void put_string(emu_buf *out, const cJSON *s, gsl_rng *rng)
{
    const cJSON *pat = get(s, "pattern");
    if (cJSON_IsString(pat) && put_pattern(out, pat->valuestring, rng))
        return;
    const cJSON *fmt = get(s, "format");
    const char *f = cJSON_IsString(fmt) ? fmt->valuestring : "";
    char text[256];
    size_t n = 0;
    if (!strcmp(f, "date-time")) {
        n = (size_t)snprintf(text, sizeof text, "2026-%02lu-%02luT%02lu:%02lu:00Z",
                             1 + gsl_rng_uniform_int(rng, 12),
                             1 + gsl_rng_uniform_int(rng, 28),
                             gsl_rng_uniform_int(rng, 24),
                             gsl_rng_uniform_int(rng, 60));
    } else if (!strcmp(f, "date")) {
        n = (size_t)snprintf(text, sizeof text, "2026-%02lu-%02lu",
                             1 + gsl_rng_uniform_int(rng, 12),
                             1 + gsl_rng_uniform_int(rng, 28));
    } else if (!strcmp(f, "email")) {
        n = (size_t)snprintf(text, sizeof text, "agent%lu@example.com",
                             gsl_rng_uniform_int(rng, 1000));
    } else if (!strcmp(f, "uri") || !strcmp(f, "url")) {
        n = (size_t)snprintf(text, sizeof text, "https://example.com/%lu",
                             gsl_rng_uniform_int(rng, 1000));
    } else if (!strcmp(f, "uuid")) {
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 36; i++)
            text[n++] = (i == 8 || i == 13 || i == 18 || i == 23)
                            ? '-'
                            : hex[gsl_rng_uniform_int(rng, 16)];
        text[n] = '\0';
    } else {
        int words = 1 + (int)gsl_rng_uniform_int(rng, 4);
        for (int i = 0; i < words; i++) {
            const char *w = emu_stream_vocab(rng);
            if (w[0] != ' ') {
                i--; /* punctuation: draw a word instead */
                continue;
            }
            if (i == 0)
                w++; /* no leading space */
            size_t wl = strlen(w);
            if (n + wl >= 64)
                break;
            memcpy(text + n, w, wl);
            n += wl;
        }
        text[n] = '\0';
    }
    double minl = num(s, "minLength", 0), maxl = num(s, "maxLength", 1e9);
    if (maxl > 200)
        maxl = 200; /* "within reason" */
    if (maxl < 0)
        maxl = 0;
    if (minl < 0)
        minl = 0;
    if (minl > maxl)
        minl = maxl;
    if (n > (size_t)maxl)
        n = (size_t)maxl;
    while (n < (size_t)minl && n + 1 < sizeof text) {
        text[n] = (char)('a' + n % 10);
        n++;
    }
    emu_buf_append(out, "\"", 1);
    emu_buf_append(out, text, n);
    emu_buf_append(out, "\"", 1);
}

static void put_number(emu_buf *out, const cJSON *s, gsl_rng *rng,
                       int integer)
{
    double lo = num(s, "minimum", -HUGE_VAL), hi = num(s, "maximum", HUGE_VAL);
    const cJSON *xlo = get(s, "exclusiveMinimum"), *xhi = get(s,
                                                             "exclusiveMaximum");
    double step = integer ? 1 : 0.01;
    if (cJSON_IsNumber(xlo))
        lo = fmax(lo, xlo->valuedouble + step);
    if (cJSON_IsNumber(xhi))
        hi = fmin(hi, xhi->valuedouble - step);
    if (!isfinite(lo) && !isfinite(hi)) {
        lo = 0;
        hi = 100;
    } else if (!isfinite(lo)) {
        lo = hi - 100;
    } else if (!isfinite(hi)) {
        hi = lo + 100;
    }
    /* A bound like zod's +-(2^53 - 1) for an int is no hint: stay within
     * 100 of zero, inside the range, as a model would. */
    if (hi - lo > 100) {
        if (lo <= 0 && hi >= 0) {
            lo = 0;
            hi = fmin(hi, 100);
        } else if (lo > 0) {
            hi = lo + 100;
        } else {
            lo = hi - 100;
        }
    }
    if (integer) {
        lo = ceil(lo);
        hi = floor(hi);
    }
    if (hi < lo)
        hi = lo; /* an empty range: no valid value exists; stay at lo */
    double v = lo + gsl_rng_uniform(rng) * (hi - lo);
    if (integer)
        emu_buf_printf(out, "%.0f", fmin(hi, floor(v + 0.5)));
    else
        emu_buf_printf(out, "%.2f", fmax(lo, fmin(hi, floor(v * 100) / 100)));
}

/* The type the value will have: the schema's (the first non-null of a
 * list), else what its keywords imply. */
static const char *type_of(const cJSON *s)
{
    const cJSON *t = get(s, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t)) {
        const cJSON *e;
        const char *first = NULL;
        cJSON_ArrayForEach(e, t)
        {
            if (!cJSON_IsString(e))
                continue;
            if (!first)
                first = e->valuestring;
            if (strcmp(e->valuestring, "null"))
                return e->valuestring;
        }
        if (first)
            return first;
    }
    if (get(s, "properties"))
        return "object";
    if (get(s, "items"))
        return "array";
    return "string";
}

static void put_value(emu_buf *out, const cJSON *s, const cJSON *root,
                      gsl_rng *rng, int depth);

static void put_object(emu_buf *out, const cJSON *s, const cJSON *root,
                       gsl_rng *rng, int depth)
{
    const cJSON *props = get(s, "properties");
    const cJSON *req = get(s, "required");
    emu_buf_append(out, "{", 1);
    int first = 1;
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        int required = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, req)
        {
            if (cJSON_IsString(r) && !strcmp(r->valuestring, p->string))
                required = 1;
        }
        /* Optional members: present half of the time, never past the
         * depth limit (that is what ends a recursive schema). */
        if (!required &&
            (depth >= SCHEMA_MAX_DEPTH / 2 || gsl_rng_uniform(rng) < 0.5))
            continue;
        if (!first)
            emu_buf_append(out, ",", 1);
        first = 0;
        cJSON *k = cJSON_CreateString(p->string);
        put_json(out, k);
        cJSON_Delete(k);
        emu_buf_append(out, ":", 1);
        put_value(out, p, root, rng, depth + 1);
    }
    emu_buf_append(out, "}", 1);
}

static void put_array(emu_buf *out, const cJSON *s, const cJSON *root,
                      gsl_rng *rng, int depth)
{
    double lo = num(s, "minItems", 0), hi = num(s, "maxItems", 1e9);
    if (lo < 0)
        lo = 0;
    if (lo > 20)
        lo = 20;
    if (hi > lo + 3)
        hi = lo + 3;
    if (hi < lo)
        hi = lo;
    int n = (int)lo;
    if (depth < SCHEMA_MAX_DEPTH / 2)
        n += (int)gsl_rng_uniform_int(rng, (unsigned long)(hi - lo) + 1);
    if (n == 0 && hi >= 1 && depth < SCHEMA_MAX_DEPTH / 2)
        n = 1; /* an empty list tells an agent nothing */
    const cJSON *items = get(s, "items");
    const cJSON *en = get(items, "enum");
    int unique = cJSON_IsTrue(get(s, "uniqueItems"));
    if (unique && cJSON_IsArray(en) && n > cJSON_GetArraySize(en))
        n = cJSON_GetArraySize(en);
    emu_buf_append(out, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            emu_buf_append(out, ",", 1);
        if (unique && cJSON_IsArray(en))
            put_json(out, cJSON_GetArrayItem(en, i)); /* distinct members */
        else
            put_value(out, items, root, rng, depth + 1);
    }
    emu_buf_append(out, "]", 1);
}

static void put_value(emu_buf *out, const cJSON *s, const cJSON *root,
                      gsl_rng *rng, int depth)
{
    if (depth > SCHEMA_MAX_DEPTH) {
        emu_buf_append(out, "null", 4);
        return;
    }
    const cJSON *ref = get(s, "$ref");
    if (cJSON_IsString(ref)) {
        const cJSON *t = resolve_ref(root, ref->valuestring);
        put_value(out, t, root, rng, depth + 1);
        return;
    }
    const cJSON *v;
    if ((v = get(s, "const"))) {
        put_json(out, v);
        return;
    }
    if (cJSON_IsArray(v = get(s, "enum")) && cJSON_GetArraySize(v) > 0) {
        int n = cJSON_GetArraySize(v);
        put_json(out, cJSON_GetArrayItem(
                          v, (int)gsl_rng_uniform_int(rng, (unsigned long)n)));
        return;
    }
    const char *alts[] = {"anyOf", "oneOf", "allOf"};
    for (int a = 0; a < 3; a++) {
        v = get(s, alts[a]);
        if (!cJSON_IsArray(v) || !cJSON_GetArraySize(v))
            continue;
        /* The first alternative that is not {"type":"null"} (allOf: its
         * first member, usually the only one). */
        const cJSON *pick = cJSON_GetArrayItem(v, 0), *e;
        cJSON_ArrayForEach(e, v)
        {
            const cJSON *t = get(e, "type");
            if (!(cJSON_IsString(t) && !strcmp(t->valuestring, "null"))) {
                pick = e;
                break;
            }
        }
        put_value(out, pick, root, rng, depth + 1);
        return;
    }
    const char *t = type_of(s);
    if (!strcmp(t, "object"))
        put_object(out, s, root, rng, depth);
    else if (!strcmp(t, "array"))
        put_array(out, s, root, rng, depth);
    else if (!strcmp(t, "integer"))
        put_number(out, s, rng, 1);
    else if (!strcmp(t, "number"))
        put_number(out, s, rng, 0);
    else if (!strcmp(t, "boolean"))
        emu_buf_printf(out, "%s",
                       gsl_rng_uniform(rng) < 0.5 ? "true" : "false");
    else if (!strcmp(t, "null"))
        emu_buf_append(out, "null", 4);
    else
        put_string(out, s, rng);
}

void emu_schema_value(emu_buf *out, const cJSON *schema, gsl_rng *rng)
{
    put_value(out, schema, schema, rng, 0);
}
