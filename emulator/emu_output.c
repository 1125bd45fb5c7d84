/* emu_output: what the emulated model writes for one request, token by
 * token: thinking first (a thinking-capable model with `think` on, as
 * Ollama's parsers split it off), then the answer: a tool call
 * (emu_tools.c), a JSON document (`format`, emu_schema.c) or plain words.
 *
 * A request without any of these has no plan (NULL) and keeps the plain
 * word stream of emu_req.c. The plan is drawn once, at submit, from the
 * request's RNG: a seeded request gets the same thinking, call and
 * document every time. Each token is decoded under the timing model;
 * the tokens of a tool call are not streamed (Ollama's tool parser holds
 * them back until the call is complete), only the last one carries the
 * call. */
#include "emu_internal.h"
#include "pb_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

/* Ollama's library names a model by its full reference in capability
 * errors (server/images.go GetModel: Name is model.ParseName's String). */
static void full_name(char *out, size_t n, const char *name)
{
    const char *slash = strchr(name, '/');
    const char *prefix = !slash ? "registry.ollama.ai/library/"
                         : !strchr(slash + 1, '/') ? "registry.ollama.ai/"
                                                   : "";
    const char *last = strrchr(name, '/');
    int tagged = strchr(last ? last : name, ':') != NULL;
    snprintf(out, n, "%s%s%s", prefix, name, tagged ? "" : ":latest");
}

/* Go's %q of a plain name (what fmt prints for "%q does not support ..."):
 * cJSON's string escaping is the same for the printable names models
 * have. */
static void go_quote(char *out, size_t n, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *p = j ? cJSON_PrintUnformatted(j) : NULL;
    snprintf(out, n, "%s", p ? p : "\"\"");
    cJSON_free(p);
    cJSON_Delete(j);
}

static const char think_err[] =
    "(must be \"high\", \"medium\", \"low\", \"max\", true, or false)";

/* api.ThinkValue.UnmarshalJSON, and how much the model thinks: a share
 * of its answer length per level (true is "medium", api/types.go
 * ThinkValue.String). Returns the share (0 = no thinking), -1 on error;
 * *set: think was given. */
static double think_share(const cJSON *think, int *set, char *err,
                          size_t errlen)
{
    *set = think && !cJSON_IsNull(think);
    if (!*set)
        return 0;
    if (cJSON_IsBool(think))
        return cJSON_IsTrue(think) ? 0.5 : 0;
    if (cJSON_IsString(think)) {
        static const struct {
            const char *name;
            double share;
        } levels[] = {{"low", 0.25}, {"medium", 0.5}, {"high", 1.0},
                      {"max", 1.0}}; /* routes.go turns max into high */
        for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
            if (!strcmp(think->valuestring, levels[i].name))
                return levels[i].share;
        snprintf(err, errlen, "invalid think value: \"%.64s\" %s",
                 think->valuestring, think_err);
        return -1;
    }
    snprintf(err, errlen,
             "think must be a boolean or string (\"high\", \"medium\", "
             "\"low\", \"max\", true, or false)");
    return -1;
}

/* The last message asks for an answer to a tool result. */
static int after_tool(const cJSON *msgs)
{
    const cJSON *last = NULL, *m;
    cJSON_ArrayForEach(m, msgs) last = m;
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(last, "role");
    return cJSON_IsString(role) && !strcasecmp(role->valuestring, "tool");
}

/* Splits doc into tokens of about 4 bytes (never inside a UTF-8
 * sequence): the count the timing model decodes. */
static int doc_tokens(const char *doc, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; n++) {
        i += 4;
        while (i < len && ((unsigned char)doc[i] & 0xC0) == 0x80)
            i++;
    }
    return n;
}

int emu_output_plan(emu_output **out, const cJSON *root, int is_chat,
                    const char *served_name, unsigned caps, gsl_rng *rng,
                    int natural, double parallel, int *status, char *err,
                    size_t errlen)
{
    *out = NULL;
    *status = 400;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *asked = cJSON_IsString(model) ? model->valuestring : "";
    char q[300], full[300];
    int think_set;
    double share = think_share(cJSON_GetObjectItemCaseSensitive(root, "think"),
                               &think_set, err, errlen);
    if (share < 0)
        return -1;
    /* routes.go: a thinking model thinks unless told not to; asking any
     * other model to think is a 400. */
    if (caps & EMU_CAP_THINKING) {
        if (!think_set)
            share = 0.5;
    } else if (share > 0) {
        go_quote(q, sizeof q, asked);
        snprintf(err, errlen, "%s does not support thinking", q);
        return -1;
    }
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    if (is_chat && emu_tools_check(tools, "ChatRequest", err, errlen))
        return -1;
    int n_tools = is_chat ? cJSON_GetArraySize(tools) : 0;
    if (!(caps & EMU_CAP_COMPLETION)) {
        go_quote(q, sizeof q, asked);
        snprintf(err, errlen, "%s does not support %s", q,
                 is_chat ? "chat" : "generate");
        return -1;
    }
    if (n_tools > 0 && !(caps & EMU_CAP_TOOLS)) {
        /* scheduleRunner: "<full name> does not support tools". */
        full_name(full, sizeof full, served_name);
        snprintf(err, errlen, "%s does not support tools", full);
        return -1;
    }
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    int has_format = cJSON_IsObject(format) ||
                     (cJSON_IsString(format) &&
                      !strcmp(format->valuestring, "json"));
    int call = n_tools > 0 && emu_tools_count(tools) > 0 &&
               !after_tool(cJSON_GetObjectItemCaseSensitive(root,
                                                            "messages"));
    if (share == 0 && !call && !has_format)
        return 0; /* plain words: no plan */

    emu_output *o = pb_mem_calloc(1, sizeof *o);
    if (share > 0) {
        long t = lround(natural * share);
        o->n_think = t < 1 ? 1 : t > 1000000 ? 1000000 : (int)t;
    }
    if (call) {
        /* One call, then each further one with probability `parallel`
         * (drawn after the first, so a seeded first call is the same
         * whatever the setting); the model writes them one after another
         * and each goes out when it is complete. */
        do {
            emu_tools_call(&o->calls[o->n_calls], tools, rng);
            o->n_answer += emu_tools_tokens(&o->calls[o->n_calls]);
            o->call_end[o->n_calls++] = o->n_answer;
        } while (o->n_calls < EMU_MAX_CALLS && parallel > 0 &&
                 gsl_rng_uniform(rng) < parallel);
    } else if (has_format) {
        emu_buf doc = {0};
        if (cJSON_IsObject(format)) {
            emu_schema_value(&doc, format, rng);
        } else {
            /* "json" alone: any JSON object; a small flat one. */
            cJSON *any = cJSON_Parse("{\"type\":\"object\",\"properties\":"
                                     "{\"answer\":{\"type\":\"string\"},"
                                     "\"tokens\":{\"type\":\"integer\"}},"
                                     "\"required\":[\"answer\",\"tokens\"]}");
            emu_schema_value(&doc, any, rng);
            cJSON_Delete(any);
        }
        o->doc = doc.data;
        o->doc_len = doc.len;
        o->n_answer = doc_tokens(o->doc, o->doc_len);
    } else {
        o->n_answer = natural;
    }
    *out = o;
    return 0;
}

int emu_output_length(const emu_output *o)
{
    long n = (long)o->n_think + o->n_answer;
    return n > 1000000 ? 1000000 : (int)n;
}

int emu_output_fixed(const emu_output *o)
{
    return o->n_calls || o->doc;
}

/* Appends text as the inside of a JSON string (escaped by cJSON). */
static void put_escaped(emu_buf *b, const char *text, size_t n)
{
    char tmp[64];
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    cJSON *j = cJSON_CreateString(tmp);
    char *p = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!p)
        PB_MEM_OOM();
    emu_buf_append(b, p + 1, strlen(p) - 2);
    cJSON_free(p);
    cJSON_Delete(j);
}

emu_tok_kind emu_output_next(emu_output *o, int i, gsl_rng *rng,
                             emu_buf *tok, emu_buf *raw)
{
    tok->len = raw->len = 0;
    if (i < o->n_think) {
        const char *w = emu_stream_vocab(rng);
        emu_buf_append(tok, w, strlen(w));
        emu_buf_append(raw, w, strlen(w));
        emu_buf_append(&o->thinking, w, strlen(w));
        return EMU_TOK_THINK;
    }
    int a = i - o->n_think;
    if (o->n_calls) {
        if (o->calls_sent < o->n_calls &&
            a == o->call_end[o->calls_sent] - 1) {
            o->calls_sent++;
            return EMU_TOK_TOOLS;
        }
        return EMU_TOK_HIDDEN;
    }
    if (o->doc) {
        size_t start = o->doc_pos, end = start + 4;
        if (end > o->doc_len)
            end = o->doc_len;
        while (end < o->doc_len && ((unsigned char)o->doc[end] & 0xC0) == 0x80)
            end++;
        o->doc_pos = end;
        emu_buf_append(raw, o->doc + start, end - start);
        put_escaped(tok, o->doc + start, end - start);
        return EMU_TOK_CONTENT;
    }
    const char *w = emu_stream_vocab(rng);
    emu_buf_append(tok, w, strlen(w));
    emu_buf_append(raw, w, strlen(w));
    return EMU_TOK_CONTENT;
}

void emu_output_free(emu_output *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n_calls; i++)
        emu_tools_call_free(&o->calls[i]);
    free(o->doc);
    emu_buf_free(&o->thinking);
    free(o);
}
