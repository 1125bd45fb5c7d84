/* emu_stream: the bytes of Ollama's responses.
 *
 * Lines are printed by hand rather than built as cJSON trees because key
 * order is part of the contract (Go marshals struct fields in declaration
 * order) and a token line is on the hot path of 256 streams. Strings that
 * come from outside (the model name, a non-streamed response) are escaped
 * by cJSON once per request. */
#include "emu_internal.h"
#include "pb_mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

void emu_buf_free(emu_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void buf_reserve(emu_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = pb_mem_realloc(b->data, cap);
    b->data = p;
    b->cap = cap;
}

void emu_buf_append(emu_buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void emu_buf_printf(emu_buf *b, const char *fmt, ...)
{
    /* Format straight into the spare capacity; only a line that does not
     * fit is formatted a second time (this is on the per-token path). */
    buf_reserve(b, 128);
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room) {
        buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* Plain words: no character needs JSON escaping (a unit test checks). */
const char *const emu_vocab[] = {
    " the", " GPU", " model", " token", " stream", " of", " and", " a",
    " parallel", " request", " time", " is", " in", " to", " we", " it",
    " that", " with", " batch", " memory", " fast", " slow", " queue",
    " load", " one", " two", " more", " less", ".", ",", " test", " run",
};
const size_t emu_vocab_len = sizeof emu_vocab / sizeof emu_vocab[0];

const char *emu_stream_vocab(gsl_rng *rng)
{
    return emu_vocab[gsl_rng_uniform_int(rng, emu_vocab_len)];
}

/* Go's time.RFC3339Nano in UTC, as Ollama's created_at: the fraction of
 * the second has its trailing zeros trimmed (no '.' at all when zero). The
 * calendar part is cached per second and per thread: gmtime_r on every
 * token of 256 streams is measurable; the nanoseconds are written by hand
 * (snprintf was the largest user-space cost of a token line). Returns the
 * length written (at most 30 bytes, no NUL). */
#define EMU_CREATED_AT_MAX 30 /* 2006-01-02T15:04:05.123456789Z */
static size_t rfc3339nano(int64_t sec, long nsec, char out[EMU_CREATED_AT_MAX])
{
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[24];
    if (sec != cached_sec) {
        struct tm tm;
        time_t t = (time_t)sec;
        gmtime_r(&t, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    size_t n = 19;
    if (nsec > 0) {
        char frac[9];
        unsigned long ns = (unsigned long)nsec;
        for (int i = 8; i >= 0; i--) {
            frac[i] = (char)('0' + ns % 10);
            ns /= 10;
        }
        int len = 9;
        while (len > 0 && frac[len - 1] == '0')
            len--;
        out[n++] = '.';
        memcpy(out + n, frac, (size_t)len);
        n += (size_t)len;
    }
    out[n++] = 'Z';
    return n;
}

void emu_rfc3339nano(int64_t sec, long nsec, char out[40])
{
    size_t n;
    if (sec > 253402300799) {
        /* Past year 9999 (a keep-alive of "forever"): Go still prints it;
         * gmtime's year field takes it, the cache does not matter. */
        struct tm tm;
        time_t t = (time_t)sec;
        gmtime_r(&t, &tm);
        n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
        if (nsec) {
            char frac[16];
            snprintf(frac, sizeof frac, ".%09ld", (long)nsec);
            size_t fl = strlen(frac);
            while (fl > 1 && frac[fl - 1] == '0')
                frac[--fl] = '\0';
            memcpy(out + n, frac, fl);
            n += fl;
        }
        out[n++] = 'Z';
    } else {
        n = rfc3339nano(sec, (long)nsec, out);
    }
    out[n] = '\0';
}

static void line_head(emu_buf *b, const emu_req *r)
{
    char ts[EMU_CREATED_AT_MAX];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    size_t n = rfc3339nano(now.tv_sec, now.tv_nsec, ts);
    emu_buf_append(b, "{\"model\":", 9);
    emu_buf_append(b, r->model_json, strlen(r->model_json));
    emu_buf_append(b, ",\"created_at\":\"", 15);
    emu_buf_append(b, ts, n);
    emu_buf_append(b, "\",", 2);
}


/* A thinking token (GenerateResponse/Message "thinking" after the empty
 * response/content) or the tool call (Message.tool_calls, chat only). */
static void planned_token_line(emu_buf *b, const emu_req *r, int kind,
                               const char *tok)
{
    line_head(b, r);
    if (r->is_chat)
        APPEND_LIT(b, "\"message\":{\"role\":\"assistant\",\"content\":\"\",");
    else
        APPEND_LIT(b, "\"response\":\"\",");
    if (kind == EMU_TOK_TOOLS) {
        APPEND_LIT(b, "\"tool_calls\":");
        emu_tools_native(b, r->out->calls, r->out->calls_sent - 1,
                         r->out->calls_sent);
    } else {
        APPEND_LIT(b, "\"thinking\":\"");
        emu_buf_append(b, tok, strlen(tok));
        APPEND_LIT(b, "\"");
    }
    if (r->is_chat)
        APPEND_LIT(b, "},\"done\":false}\n");
    else
        APPEND_LIT(b, ",\"done\":false}\n");
}

void emu_stream_token_line(emu_buf *b, const emu_req *r, int kind,
                           const char *tok)
{
    if (kind != EMU_TOK_CONTENT) {
        planned_token_line(b, r, kind, tok);
        return;
    }
    /* Hot path (every token of every stream): only memcpy, no formatting.
     * Vocabulary words need no JSON escaping (a unit test checks); planned
     * text comes escaped. */
    line_head(b, r);
    if (r->is_chat)
        APPEND_LIT(b, "\"message\":{\"role\":\"assistant\",\"content\":\"");
    else
        APPEND_LIT(b, "\"response\":\"");
    emu_buf_append(b, tok, strlen(tok));
    if (r->is_chat)
        APPEND_LIT(b, "\"},\"done\":false}\n");
    else
        APPEND_LIT(b, "\",\"done\":false}\n");
}

void emu_stream_load_line(emu_buf *b, const emu_req *r, const char *reason)
{
    line_head(b, r);
    if (r->is_chat)
        emu_buf_printf(b, "\"message\":{\"role\":\"assistant\",\"content\":"
                          "\"\"},\"done\":true,\"done_reason\":\"%s\"}",
                       reason);
    else
        emu_buf_printf(b, "\"response\":\"\",\"done\":true,"
                          "\"done_reason\":\"%s\"}", reason);
}

/* JSON string literal for text (escaped by cJSON). */
static void append_json_string(emu_buf *b, const char *text)
{
    cJSON *s = cJSON_CreateString(text ? text : "");
    char *p = s ? cJSON_PrintUnformatted(s) : NULL;
    if (p)
        emu_buf_append(b, p, strlen(p));
    else
        emu_buf_append(b, "\"\"", 2);
    cJSON_free(p);
    cJSON_Delete(s);
}

void emu_stream_final_line(emu_buf *b, const emu_req *r, const char *text,
                           size_t text_len, uint64_t t_final)
{
    (void)text_len;
    const char *reason = r->hit_limit ? "length" : "stop";
    /* stream=false: the whole thinking and the call ride on the final
     * object (writeChatResponse gathers them; GenerateResponse has the
     * thinking after the response). */
    const emu_output *o = r->stream ? NULL : r->out;
    line_head(b, r);
    if (r->is_chat) {
        emu_buf_printf(b, "\"message\":{\"role\":\"assistant\",\"content\":");
        append_json_string(b, text);
        if (o && o->thinking.len) {
            APPEND_LIT(b, ",\"thinking\":");
            append_json_string(b, o->thinking.data);
        }
        if (o && o->calls_sent) {
            APPEND_LIT(b, ",\"tool_calls\":");
            emu_tools_native(b, o->calls, 0, o->calls_sent);
        }
        /* api.ChatResponse: Done, then DoneReason. */
        emu_buf_printf(b, "},\"done\":true,\"done_reason\":\"%s\"", reason);
    } else {
        emu_buf_printf(b, "\"response\":");
        append_json_string(b, text);
        if (o && o->thinking.len) {
            APPEND_LIT(b, ",\"thinking\":");
            append_json_string(b, o->thinking.data);
        }
        emu_buf_printf(b, ",\"done\":true,\"done_reason\":\"%s\",\"context\":[",
                       reason);
        /* Token ids: deterministic filler, prompt then response. The
         * product in 64 bits: i * 7919 overflows an int past ~271 000
         * tokens (a 1 MB prompt is ~262 000). */
        int n = r->prompt_tokens + r->n_sent;
        for (int i = 0; i < n; i++)
            emu_buf_printf(b, i ? ",%d" : "%d",
                           100 + (int)((long long)i * 7919 % 262000));
        emu_buf_printf(b, "]");
    }
    /* Every duration is a difference of instants on one monotonic clock, so
     * total = queue wait + load + prompt_eval + eval holds exactly. */
    long long total = (long long)(t_final - r->t_arrive);
    /* Ollama's load_duration is checkpointLoaded - checkpointStart: the
     * wait for a pending load or eviction, the load, and a warm model's
     * moment to get its runner (never zero, so always present); what is
     * left of the total besides prompt and eval is the slot wait. */
    long long load = (long long)(r->t_ready - r->t_arrive);
    if (load < 1)
        load = 1;
    long long prompt = (long long)(r->t_eval0 - r->t_load_end);
    long long eval = (long long)(t_final - r->t_eval0);
    /* api.Metrics fields are omitempty: a zero (a warm model's load) is
     * left out, as Ollama leaves it out. */
    static const char *const keys[] = {
        "total_duration", "load_duration", "prompt_eval_count",
        "prompt_eval_duration", "eval_count", "eval_duration"};
    long long vals[] = {total, load, r->prompt_tokens, prompt, r->n_sent, eval};
    for (int i = 0; i < 6; i++)
        if (vals[i])
            emu_buf_printf(b, ",\"%s\":%lld", keys[i], vals[i]);
    emu_buf_append(b, "}", 1);
}

void emu_stream_chunk(emu_buf *out, const char *data, size_t len)
{
    /* "<hex len>\r\n<data>\r\n", the hex by hand (per-token path). */
    char hex[2 * sizeof(size_t) + 2];
    size_t k = sizeof hex, v = len;
    hex[--k] = '\n';
    hex[--k] = '\r';
    do {
        hex[--k] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    emu_buf_append(out, hex + k, sizeof hex - k);
    emu_buf_append(out, data, len);
    emu_buf_append(out, "\r\n", 2);
}
