/* emu_ollama: Ollama's native dialect (/api/generate, /api/chat) as an
 * emu_dialect table over the line builders of emu_stream.c, so the shared
 * request code (emu_req.c) never needs to know which API it is answering. */
#include "emu_internal.h"

#include <string.h>

static void ollama_token(emu_buf *b, emu_req *r, int kind, const char *tok)
{
    emu_stream_token_line(b, r, kind, tok);
}

static void ollama_stream_end(emu_buf *b, emu_req *r, uint64_t t_final)
{
    emu_stream_final_line(b, r, "", 0, t_final);
    emu_buf_append(b, "\n", 1);
}

static void ollama_whole(emu_buf *b, emu_req *r, const char *text,
                         uint64_t t_final)
{
    emu_stream_final_line(b, r, text, r->text.len, t_final);
}

static const char *ollama_load(emu_buf *b, emu_req *r)
{
    emu_stream_load_line(b, r, "load");
    return emu_dialect_ollama.json_ctype;
}

/* What Ollama's streamResponse writes when an error ends a stream: one
 * {"error":...} line. */
static void ollama_error_event(emu_buf *b, emu_req *r, const char *msg)
{
    (void)r;
    emu_buf_append(b, "{\"error\":\"", 10);
    emu_buf_append(b, msg, strlen(msg)); /* our own text: nothing to escape */
    emu_buf_append(b, "\"}\n", 3);
}

const emu_dialect emu_dialect_ollama = {
    .stream_ctype = "application/x-ndjson",
    .json_ctype = "application/json; charset=utf-8",
    .token = ollama_token,
    .stream_end = ollama_stream_end,
    .whole = ollama_whole,
    .load = ollama_load,
    .error_event = ollama_error_event,
    .reply_error = emu_http_reply_error,
};
