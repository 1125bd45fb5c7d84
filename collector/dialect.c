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
