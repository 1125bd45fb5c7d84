/* dialect: the table of dialects and what they share. */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_mem.h"
#include "pb_text.h"

/* The dialects, one file each. */
extern const pb_dialect pb_dialect_ollama_generate, pb_dialect_ollama_chat;
extern const pb_dialect pb_dialect_openai_chat, pb_dialect_openai_completions;
extern const pb_dialect pb_dialect_openai_responses;

static const pb_dialect *const table[] = {
    &pb_dialect_ollama_generate,
    &pb_dialect_ollama_chat,
    &pb_dialect_openai_chat,
    &pb_dialect_openai_completions,
    &pb_dialect_openai_responses,
};

static const struct { const char *alias, *name; } aliases[] = {
    {"ollama", "generate"},
    {"openai", "openai-chat"},
};

const pb_dialect *pb_dialect_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(name, aliases[i].alias) == 0)
            name = aliases[i].name;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i]->name) == 0)
            return table[i];
    return NULL;
}

const char *pb_dialect_names(void)
{
    static char buf[256];
    if (!buf[0]) {
        size_t k = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", i ? ", " : "",
                                  table[i]->name);
    }
    return buf;
}

int pb_dialect_streams(const pb_dialect *d, const cJSON *body)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "stream");
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s);
    return strcmp(d->family, "ollama") == 0;
}

const char *pb_option_field(const pb_option_map *map, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, map[i].ollama) == 0)
            return map[i].field;
    return NULL;
}

const char *pb_option_unmapped(const cJSON *options, const pb_option_map *map, size_t n)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, options)
        if (!pb_option_field(map, n, o->string))
            return o->string;
    return NULL;
}

void pb_options_add_mapped(cJSON *body, const cJSON *options, const pb_option_map *map,
                           size_t n, const char *length_field, int num_predict)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, options) {
        const char *f = pb_option_field(map, n, o->string);
        if (!f || (num_predict > 0 && strcmp(f, length_field) == 0))
            continue;
        cJSON_AddItemToObject(body, f, cJSON_Duplicate(o, 1));
    }
    if (num_predict > 0)
        cJSON_AddNumberToObject(body, length_field, num_predict);
}

int pb_json_nonempty(const cJSON *s)
{
    return cJSON_IsString(s) && s->valuestring[0];
}

void pb_reply_keep(pb_reply *r, const char *key, const cJSON *v)
{
    if (!r->final)
        r->final = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(r->final, key);
    cJSON_AddItemToObject(r->final, key, cJSON_Duplicate(v, 1));
}

int pb_reply_sse_stray(pb_reply *r, const pb_message *m,
                       const char *(*error_text)(const cJSON *))
{
    cJSON *j = cJSON_ParseWithLength(m->data, m->len);
    const char *et = j ? error_text(j) : NULL;
    if (et)
        pb_reply_fail(r, "stream error from %s: %s", r->url, et);
    cJSON_Delete(j);
    return et ? PB_MSG_STOP : 0;
}

void pb_reply_sse_error(pb_reply *r, const pb_message *m,
                        const char *(*error_text)(const cJSON *))
{
    char ex[128];
    cJSON *j = cJSON_ParseWithLength(m->data, m->len);
    const char *et = j ? error_text(j) : NULL;
    pb_excerpt(et ? et : m->data, et ? strlen(et) : m->len, ex, sizeof ex);
    pb_reply_fail(r, "stream error from %s: %s", r->url, ex);
    cJSON_Delete(j);
}

cJSON *pb_reply_sse_json(pb_reply *r, const pb_message *m)
{
    cJSON *j = cJSON_ParseWithLength(m->data, m->len);
    if (cJSON_IsObject(j))
        return j;
    cJSON_Delete(j);
    char ex[128];
    pb_excerpt(m->data, m->len, ex, sizeof ex);
    pb_reply_fail(r, "malformed event %llu from %s (data is not a JSON object): %s",
                  (unsigned long long)m->index, r->url, ex);
    return NULL;
}

void pb_reply_sse_end(pb_reply *r, const char *partial, size_t partial_len,
                      const char *marker)
{
    char ex[128];
    if (partial_len) {
        pb_excerpt(partial, partial_len, ex, sizeof ex);
        pb_reply_fail(r, "stream from %s ended inside an event (no blank line after it): %s",
                      r->url, ex);
        return;
    }
    if (!r->done)
        pb_reply_fail(r, "stream from %s ended without %s", r->url, marker);
}

cJSON *pb_reply_parse_whole(pb_reply *r, const char *data, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(data, len);
    if (cJSON_IsObject(j))
        return j;
    cJSON_Delete(j);
    char ex[128];
    pb_excerpt(data, len, ex, sizeof ex);
    pb_reply_fail(r, "answer from %s is not a JSON object: %s", r->url, ex);
    return NULL;
}

/* Both families name these fields alike (Ollama's native API and the
 * OpenAI one), so each dialect adds only what differs. */
cJSON *pb_request_body_new(const pb_agent_spec *a, int chat)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", a->model);
    if (chat) {
        cJSON *msgs = cJSON_AddArrayToObject(body, "messages");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", a->prompt);
        cJSON_AddItemToArray(msgs, m);
    } else {
        cJSON_AddStringToObject(body, "prompt", a->prompt);
    }
    cJSON_AddBoolToObject(body, "stream", 1);
    return body;
}

void pb_reply_vfail(pb_reply *r, const char *fmt, va_list ap)
{
    if (r->error)
        return; /* the first failure is the cause; later ones are echoes */
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    /* Cut on a character boundary: the trace must stay valid UTF-8. */
    if (n >= (int)sizeof buf)
        buf[pb_text_utf8_cut(buf, sizeof buf - 1)] = '\0';
    r->error = pb_mem_strdup(buf);
}

void pb_reply_fail(pb_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pb_reply_vfail(r, fmt, ap);
    va_end(ap);
}

void pb_reply_content(pb_reply *r, const char *text)
{
    r->content_events++;
    size_t l = strlen(text);
    r->text_total += l;
    if (r->text_len >= r->keep_text)
        return;
    size_t take = l < r->keep_text - r->text_len ? l : r->keep_text - r->text_len;
    if (r->text_len + take + 1 > r->text_cap) {
        size_t c = r->text_cap ? r->text_cap : 1024;
        while (c < r->text_len + take + 1)
            c *= 2;
        char *p = pb_mem_realloc(r->text, c);
        r->text = p;
        r->text_cap = c;
    }
    memcpy(r->text + r->text_len, text, take);
    r->text_len += take;
    r->text[r->text_len] = '\0';
}

void pb_reply_free(pb_reply *r)
{
    cJSON_Delete(r->final);
    free(r->error);
    free(r->text);
    r->final = NULL;
    r->error = NULL;
    r->text = NULL;
    r->text_len = r->text_cap = 0;
}

void pb_excerpt(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < outlen && i < 80; i++)
        out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n > 80 && k + 4 < outlen) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}
