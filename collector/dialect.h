/* dialect: one streaming LLM API, apart from the transport.
 *
 * A dialect says where a request goes, what its body is, how the reply is
 * framed (NDJSON lines or server-sent events) and what each message means.
 * The transport (transfer.c) owns libcurl, timestamps, the chunk log and the
 * framing buffers; it hands every complete message to the dialect's
 * on_message and stamps the first token when the dialect says a message
 * carried content. Preflight (preflight.c) uses the dialect's model list and
 * version routes.
 *
 * Adding an API is one file defining a pb_dialect, and its line in the
 * table of dialect.c. */
#ifndef PB_DIALECT_H
#define PB_DIALECT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "plan.h"

typedef enum pb_framing {
    PB_FRAMING_NDJSON = 0,   /* one JSON object per '\n'-terminated line */
    PB_FRAMING_SSE,          /* text/event-stream (sse.h) */
} pb_framing;

/* What a request carries beyond the agent's spec. */
typedef struct pb_request_params {
    int num_predict;         /* > 0: this length instead of the agent's (warm-ups) */
    long sample_seed;        /* >= 0: sampling seed unless the agent sets one */
} pb_request_params;

/* One complete message of the reply. */
typedef struct pb_message {
    const char *data;
    size_t len;
    const char *type;        /* SSE event type ("message" by default); NULL for NDJSON */
    int stray;               /* SSE: a line that is no SSE field */
    uint64_t index;          /* 1-based, in arrival order */
} pb_message;

/* What the dialect makes of the reply so far. The transport owns it. */
typedef struct pb_reply {
    const char *url;         /* full request URL, for error texts */
    uint64_t content_events; /* messages with non-empty content: the client's token count */
    uint64_t reasoning_events; /* messages with non-empty reasoning content */
    int64_t server_tokens;   /* completion tokens counted by the server, -1 = none sent */
    int done;                /* the stream's end marker arrived (done:true, data: [DONE]) */
    cJSON *final;            /* server statistics kept verbatim (FORMAT.md), or NULL */
    char *error;             /* first failure, NULL while none */
    size_t keep_text;        /* > 0: keep up to this many bytes of answer text */
    char *text;              /* answer text kept so far, NUL-terminated, or NULL */
    size_t text_len, text_cap;
    uint64_t text_total;     /* bytes of answer text, kept or not */
} pb_reply;

/* Bits of on_message's result. */
enum {
    PB_MSG_CONTENT = 1,      /* carried answer text: the first one is the first token */
    PB_MSG_REASONING = 2,    /* carried reasoning text (timed apart from the answer) */
    PB_MSG_STOP = 4,         /* a failure was recorded: stop reading */
};

typedef struct pb_dialect {
    const char *name;        /* the plan's "api" */
    const char *family;      /* "ollama" or "openai": what preflight and servers[] report */
    const char *path;        /* appended to the endpoint's base URL */
    pb_framing framing;
    /* Refuses, before anything is measured, options the API cannot carry. */
    int (*check_options)(const cJSON *options, char *err, size_t errlen);
    /* The JSON request body (caller frees). */
    cJSON *(*build_request)(const pb_agent_spec *a, const pb_request_params *p);
    /* Interprets one message; returns PB_MSG_* bits. */
    int (*on_message)(pb_reply *r, const pb_message *m);
    /* After the last message of a stream that ended without a transport
     * error: `partial` holds the unterminated rest (a line without '\n', or
     * an event without its blank line), partial_len 0 when none. */
    void (*on_end)(pb_reply *r, const char *partial, size_t partial_len);
    /* A non-streamed answer (the request said "stream": false): one JSON
     * document, read whole after it arrived. Sets the text, reasoning, the
     * server's count and statistics as the stream's messages would, and
     * done; a failure through pb_reply_fail. Returns PB_MSG_* bits. */
    int (*on_whole)(pb_reply *r, const char *data, size_t len);
    /* The error text in a non-200 JSON body (or NULL). */
    const char *(*error_text)(const cJSON *body);
    /* Preflight: the route listing models, the ids in its answer (a new
     * array of strings), and where the server tells its version. */
    const char *models_path;
    cJSON *(*model_ids)(const cJSON *models_answer);
    const char *version_path;   /* NULL: the version comes from models_answer */
    /* Asked when version_path is NULL, its failure not an error: where a
     * server that also speaks another API states its version (Ollama's
     * /api/version beside its /v1). */
    const char *version_probe;
    /* The server's version: from version_answer (may be NULL) or the
     * models answer; a new string item or NULL. */
    cJSON *(*server_version)(const cJSON *version_answer, const cJSON *models_answer,
                             const char *model);
} pb_dialect;

/* The dialect named `name` (or an alias: "ollama" = generate, "openai" =
 * openai-chat), NULL when unknown. */
const pb_dialect *pb_dialect_find(const char *name);
/* "generate, chat, openai-chat, openai-completions, openai-responses" for
 * error texts. */
const char *pb_dialect_names(void);

/* Whether a request body asks for a streamed answer: its "stream" when a
 * boolean, else the API's default (Ollama's native API streams, the
 * OpenAI ones do not). Agent programs send both kinds. */
int pb_dialect_streams(const pb_dialect *d, const cJSON *body);

/* An Ollama option and the request field that carries it in an API. */
typedef struct pb_option_map {
    const char *ollama, *field;
} pb_option_map;

/* The field carrying Ollama option `name` in map[0..n), or NULL. */
const char *pb_option_field(const pb_option_map *map, size_t n, const char *name);
/* The first of options that map[0..n) cannot carry, or NULL. */
const char *pb_option_unmapped(const cJSON *options, const pb_option_map *map, size_t n);

/* Adds the agent's options to body under their mapped fields (unmapped
 * ones were refused when the plan was loaded), with num_predict > 0 as
 * length_field in place of the agent's. */
void pb_options_add_mapped(cJSON *body, const cJSON *options, const pb_option_map *map,
                           size_t n, const char *length_field, int num_predict);

/* A string with at least one character. */
int pb_json_nonempty(const cJSON *s);

/* Keeps a copy of v under key in the reply's final object (replacing an
 * earlier one). */
void pb_reply_keep(pb_reply *r, const char *key, const cJSON *v);

/* Server-sent-event dialects share these (openai-*, openai-responses).
 * error_text is the dialect's. */
/* A line outside any event: a JSON error object some servers write into
 * the stream is a failure (PB_MSG_STOP); anything else is ignored (0). */
int pb_reply_sse_stray(pb_reply *r, const pb_message *m,
                       const char *(*error_text)(const cJSON *));
/* An `error` event: recorded with its message (or its data). */
void pb_reply_sse_error(pb_reply *r, const pb_message *m,
                        const char *(*error_text)(const cJSON *));
/* The event's data parsed, or NULL after recording that it is not a JSON
 * object (the caller returns PB_MSG_STOP). The caller deletes it. */
cJSON *pb_reply_sse_json(pb_reply *r, const pb_message *m);
/* on_end: a rest inside an event, or no `marker` (the end event) seen,
 * is a failure. */
void pb_reply_sse_end(pb_reply *r, const char *partial, size_t partial_len,
                      const char *marker);

/* A non-streamed answer parsed, or NULL after recording that it is not a
 * JSON object (the caller returns PB_MSG_STOP). The caller deletes it. */
cJSON *pb_reply_parse_whole(pb_reply *r, const char *data, size_t len);

/* A new streaming request body with what every dialect sends: "model",
 * the agent's prompt as one user message under "messages" (chat != 0) or
 * as "prompt", and "stream": true. The caller adds the rest and frees it. */
cJSON *pb_request_body_new(const pb_agent_spec *a, int chat);

/* Records the first failure of a reply (later ones are echoes). */
void pb_reply_fail(pb_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same with a va_list, for callers that wrap it (transfer.c). */
void pb_reply_vfail(pb_reply *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* A message carried answer text: counts it (and keeps the text when asked).
 * Every dialect calls this for each message with non-empty content. */
void pb_reply_content(pb_reply *r, const char *text);
/* Frees what a reply owns and resets it (url is borrowed). */
void pb_reply_free(pb_reply *r);

/* A text shortened for an error message: at most 80 bytes, control bytes
 * as '?', "..." when cut. */
void pb_excerpt(const char *s, size_t n, char *out, size_t outlen);

#endif
