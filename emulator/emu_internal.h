/* emu_internal: the structures shared by the emulator's modules.
 *
 * Everything here lives on the emulator thread: only emu_get_stats() and
 * emu_stop() are called from other threads, and they touch only `mu`,
 * `stats`, `lag_hist` and the async handle. */
#ifndef EMU_INTERNAL_H
#define EMU_INTERNAL_H

#include "emu.h"

#include <http_parser.h>
#include <pthread.h>
#include <stdio.h>
#include <uv.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>

/* Limits of what a client may send; beyond them the answer is 431/413. */
#define EMU_MAX_HEADER_BYTES (16 * 1024)
#define EMU_MAX_BODY_BYTES (1024 * 1024)
/* A client that reads nothing while we keep streaming is dropped once this
 * much is queued for it (a slow reader must not grow memory without bound). */
#define EMU_MAX_WRITE_QUEUE (8 * 1024 * 1024)
/* Floats one /api/embed answer may hold (~50 MB of JSON). */
#define EMU_MAX_EMBED_FLOATS (4 * 1024 * 1024)
/* Lag histogram: 1 us buckets; the last bucket collects everything slower. */
#define EMU_LAG_BUCKETS 100001

/* Size of every emulated model (gemma3:4b Q4_K_M on disk) and its KV cache
 * per token of context per slot (gemma3 4B: 34 layers x 4 KV heads x 256
 * dims x K and V x f16 = 139 264 bytes). Used by --vram and /api/ps. */
#define EMU_MODEL_SIZE 3338801804.0
#define EMU_KV_BYTES_PER_TOKEN 139264.0
/* Runner options a request gets when it names none (api/types.go
 * DefaultOptions: num_batch 512; num_gpu -1 = decide from free VRAM;
 * num_ctx: emu_options_ctx_default()). */
#define EMU_DEFAULT_NUM_BATCH 512
/* The models' training context (/api/show model_info): a runner's KV
 * cache never holds more (sched.go effectiveModelContext). */
#define EMU_TRAIN_CTX 131072
/* Prompt tokens of one image (server/routes.go chatPrompt's budget). */
#define EMU_IMAGE_TOKENS 768
/* A runner option the request did not give (api.Runner's nil pointers,
 * num_thread's 0). */
#define EMU_OPT_UNSET (-2147483647 - 1)

/* ---- growable byte buffer (emu_stream.c) ---- */
typedef struct emu_buf {
    char *data;
    size_t len, cap;
} emu_buf;

void emu_buf_free(emu_buf *b);
void emu_buf_append(emu_buf *b, const void *p, size_t n);
void emu_buf_printf(emu_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a string literal (its length known at compile time). */
#define APPEND_LIT(b, s) emu_buf_append((b), (s), sizeof(s) - 1)

/* ---- faults (emu_fault.c) ---- */
typedef enum emu_fault_kind {
    EMU_FAULT_NONE = 0,
    EMU_FAULT_DOWN,
    EMU_FAULT_RESET_AFTER,
    EMU_FAULT_STALL,
    EMU_FAULT_MALFORMED_LINE,
    EMU_FAULT_TRUNCATE_FINAL,
    EMU_FAULT_HTTP500,
    EMU_FAULT_BUSY503,
    EMU_FAULT_DELAY_HEADERS,
    EMU_FAULT_GARBAGE,
    EMU_FAULT_ERROR_AFTER,
} emu_fault_kind;

typedef struct emu_fault {
    emu_fault_kind kind;
    int k;          /* token count for *_after, malformed_line, garbage, stall */
    double seconds; /* stall, delay_headers (before time scaling) */
    int close;      /* stall: close instead of continuing */
} emu_fault;

/* Parses a fault spec ("" = none). Returns 0 or -1 with err set. */
int emu_fault_parse(const char *spec, emu_fault *f, char *err, size_t errlen);

/* ---- timer scheduler (emu_sched.c) ---- */
typedef struct emu_sched_item emu_sched_item;
typedef void (*emu_sched_cb)(emu_sched_item *it, uint64_t now);
struct emu_sched_item {
    uint64_t due;  /* uv_hrtime() ns */
    uint64_t seq;  /* when it was added: breaks ties of due (FIFO) */
    size_t idx;    /* position in the heap, SIZE_MAX when not scheduled */
    emu_sched_cb cb;
};

typedef struct emu_sched {
    uv_poll_t poll;
    int fd;
    emu_sched_item **heap;
    size_t n, cap;
    uint64_t armed; /* due time the timerfd is armed for, 0 = disarmed */
    int dispatching; /* inside the expiry loop: arm once at its end */
    uint64_t next_seq; /* emu_sched_item.seq of the next add */
} emu_sched;

int emu_sched_init(emu_sched *s, uv_loop_t *loop);
void emu_sched_add(emu_sched *s, emu_sched_item *it, uint64_t due);
void emu_sched_remove(emu_sched *s, emu_sched_item *it);
/* Closes the poll handle; the fd and heap are released in its close cb. */
void emu_sched_close(emu_sched *s);

/* ---- simulated GPU (emu_gpu.c) ---- */
typedef struct emu_gpu {
    int k;        /* streams decoding now */
    int runners;  /* runners (llama.cpp processes) with a stream decoding */
} emu_gpu;

/* Nanoseconds until the next token of one stream batched with n_batch - 1
 * others in its runner on gpu g, jitter drawn from rng. */
uint64_t emu_gpu_token_ns(const emu_options *o, const emu_gpu *g,
                          int n_batch, gsl_rng *rng);

/* ---- prompt cache of a runner (emu_pcache.c) ---- */
typedef struct emu_pcache_slot {
    char *key;          /* the prompt bytes its KV cache holds, then the
                           bytes it generated */
    size_t len;
    int tokens;         /* tokens of that cache (host-memory budget) */
    int busy;
    uint64_t last_used; /* emu_pcache.clock when released (0 = never) */
} emu_pcache_slot;
typedef struct emu_pcache_ent {
    char *key;
    size_t len;
    int tokens;
} emu_pcache_ent;
typedef struct emu_pcache {
    emu_pcache_slot *slots; /* num_parallel, allocated on first use */
    int n_slots;
    emu_pcache_ent *ram;    /* llama-server's host-memory prompt cache,
                               oldest first */
    int n_ram, cap_ram;
    uint64_t clock;
} emu_pcache;

/* Gives a request with prompt bytes key (len) and prompt_tokens tokens an
 * idle slot (*slot) as llama-server picks it; returns the prompt tokens
 * already in that slot's cache (at most prompt_tokens - 1). */
int emu_pcache_take(emu_pcache *pc, int n_slots, const char *key, size_t len,
                    int prompt_tokens, int *slot);
/* The request in slot ends: the slot's cache is now key (prompt and
 * generated bytes), tokens long. */
void emu_pcache_put(emu_pcache *pc, int slot, const char *key, size_t len,
                    int tokens);
/* Forgets everything (the runner unloads). */
void emu_pcache_clear(emu_pcache *pc);

/* ---- server objects ---- */
struct emu;
struct emu_req;
struct emu_instance;

/* One model as loaded by one instance: Ollama's runnerRef (server/sched.go),
 * i.e. one llama.cpp process with num_parallel slots. */
typedef struct emu_runner {
    emu_sched_item expire;        /* first member: keep-alive timer */
    struct emu_instance *inst;
    int model_index;
    int loaded;
    uint64_t load_end;            /* monotonic ns the load completes */
    int num_ctx, num_batch, num_gpu; /* options it was loaded with */
    int main_gpu, use_mmap, num_thread; /* EMU_OPT_UNSET when not given */
    int refcount;                 /* requests using it (in a slot or waiting) */
    int active;                   /* slots in use */
    struct emu_req *wait_head, *wait_tail; /* waiting for a slot */
    int64_t session_ns;           /* keep-alive (scaled), INT64_MAX forever */
    int64_t expires_wall_ns;      /* /api/ps expires_at (0 = not idle yet) */
    int decoding;                 /* streams decoding: the batch size */
    double vram_bytes;
    uint64_t loads;               /* loads so far (tests, logs) */
    emu_pcache pc;                /* its slots' KV caches (emu_pcache.c) */
    /* An unload in progress until unload_end (GPU memory recovering):
     * no load may start on its instance before (emu_model.c). */
    emu_sched_item unloaded;
    uint64_t unload_end;
} emu_runner;

typedef struct emu_instance {
    struct emu *emu;
    int index;
    uv_tcp_t listener;
    int port;
    emu_fault fault;
    emu_gpu *gpu;
    uint64_t n_requests;              /* seeds the per-request RNG */
    emu_runner runner[EMU_MAX_MODELS];
    /* Ollama's pendingReqCh: requests that need a load or reload, bounded
     * by max_queue; pend_cur is the one processPending works on. */
    struct emu_req *pend_head, *pend_tail, *pend_cur;
    int n_pending;
} emu_instance;

typedef struct emu_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shutdown;
    http_parser parser;
    emu_instance *inst;
    struct emu_conn *prev, *next;
    /* request being parsed */
    emu_buf url, body, hname, hval;
    int hstate;           /* 0 none, 1 in field, 2 in value */
    char req_id[128];
    char fault_spec[128];
    size_t header_bytes;
    int err_status;       /* 413/431 decided by a parser callback */
    int msg_complete;
    int keep_alive;
    /* bytes received while a response is in flight (pipelining) */
    emu_buf pending;
    int feeding;          /* inside conn_feed's loop: response_done must not
                             feed `pending` itself (no recursion) */
    struct emu_req *req;
    int closing, shutting_down;
    int expect_continue;
    uint64_t drain_since; /* when our FIN went out (0 = not yet) */
    /* Wire dialect of the current message, set by its route, and its
     * per-request state (taken over by the request, emu_req.c). */
    const struct emu_dialect *dialect;
    void *dialect_state;
    void (*dialect_free)(void *state);
    /* Timeouts (emu_http_sweep): since when we wait for the current
     * request (0 = answering one); idle = no byte of it yet after a
     * keep-alive response, so --idle-timeout applies, else
     * --header-timeout. */
    uint64_t wait_since;
    int idle;
    int bad_te;           /* a Transfer-Encoding other than "chunked" */
    /* CORS (emu_cors.c): the request's Origin and Host, and the header
     * lines its answer carries ("" for a request that is not CORS). */
    char origin[256], host[256];
    char cors_header[320];
} emu_conn;

typedef enum emu_req_state {
    EMU_REQ_PENDING,     /* in the scheduler's pending queue (load/reload) */
    EMU_REQ_QUEUED,      /* holds its runner, waits for a slot */
    EMU_REQ_LOAD,
    EMU_REQ_PROMPT,
    EMU_REQ_DECODE,
    EMU_REQ_STALL,
} emu_req_state;

typedef struct emu_req {
    emu_sched_item item; /* first member: item -> req by cast */
    emu_conn *conn;
    emu_instance *inst;
    struct emu_req *qnext;
    emu_req_state state;
    int is_chat, stream, load_only, model_index;
    int api;             /* EMU_API_* */
    emu_runner *runner;  /* set once it uses a runner (holds a reference) */
    int in_slot;         /* holds one of the runner's slots */
    int num_ctx, num_batch, num_gpu; /* runner options requested */
    int main_gpu, use_mmap, num_thread; /* EMU_OPT_UNSET when not given */
    int has_keep_alive;
    int64_t keep_alive_ns; /* scaled; INT64_MAX forever */
    int n_inputs;        /* /api/embed: vectors to return */
    int dims;            /* /api/embed `dimensions` (0 = all) */
    uint64_t input_hash;
    uint64_t *input_hashes; /* /api/embed: one per input (n_inputs) */
    char *model_json;    /* the requested model name as a JSON string */
    char id[128];
    emu_fault fault;
    gsl_rng *rng;
    int n_tokens, n_sent, prompt_tokens, hit_limit;
    /* Prompt cache (emu_pcache.c): the prompt as bytes (empty: the
     * request does not use the cache), its slot and the prompt tokens
     * found there, which prompt evaluation skips. */
    emu_buf pkey;
    int slot, cached_tokens;
    int decoding, stalled;
    uint64_t t_arrive, t_start, t_load_end, t_eval0;
    /* When its runner was usable (given to it, and loaded): Ollama's
     * checkpointLoaded, so load_duration = t_ready - t_arrive. */
    uint64_t t_ready;
    emu_buf text;        /* whole response when stream=false */
    /* The wire dialect (Ollama native or OpenAI) and its per-request
     * state: what the dialect module needs to shape events. */
    const struct emu_dialect *dialect;
    int include_usage;   /* OpenAI stream_options.include_usage */
    long long created;   /* OpenAI `created` pinned for a chat stream */
    /* Thinking, tool call or JSON document (emu_output.c); NULL: words. */
    struct emu_output *out;
    int n_written;       /* stream events written (hidden tokens are not) */
    /* Dialect state of /v1/responses (emu_responses.c), owned by r. */
    void *dialect_state;
    void (*dialect_free)(void *state);
} emu_req;

typedef struct emu {
    emu_options o;
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_timer_t flush_timer;
    int flush_timer_on;
    emu_sched sched;
    pthread_t thread;
    int thread_started;
    int n_listeners_open;
    emu_instance inst[EMU_MAX_INSTANCES];
    emu_gpu gpu[EMU_MAX_INSTANCES];
    emu_conn *conns;
    int n_conns;          /* open connections (for --max-connections) */
    uint64_t refused, refused_logged_at; /* refusals; last log line (ns) */
    FILE *trace;
    int trace_errno;      /* first failed write of the trace (0 = none) */
    char read_buf[64 * 1024];
    emu_buf tok_out, tok_line; /* per-token scratch, reused (emu_req.c) */
    emu_buf tok_json, tok_raw; /* token text of a planned output */
    char started_at[40]; /* modified_at of the served models */
    /* Capabilities of each served model (emu_caps.c; a copy keeps its
     * source's, emu_manage.c). */
    unsigned model_caps[EMU_MAX_MODELS];
    char deleted_name[EMU_MAX_MODELS][128]; /* for /api/ps while loaded */
    char ident_header[96]; /* "X-Parbench-Emulator: ...\r\n" on every answer */
    pthread_mutex_t mu;  /* guards stats and lag_hist */
    emu_stats stats;
    uint32_t *lag_hist;
} emu;

/* emu_http.c */
void emu_http_on_connection(uv_stream_t *server, int status);
void emu_conn_close(emu_conn *c);
/* Aborts the connection with a TCP RST (fault reset_after). */
void emu_conn_reset(emu_conn *c);
/* Sends FIN after the queued writes, then closes once the client does. */
void emu_conn_shutdown(emu_conn *c);
/* Writes raw bytes; returns 0 or -1 (the connection is then closing). */
int emu_conn_write(emu_conn *c, const char *data, size_t len);
/* Sends a complete response with Content-Length. */
void emu_http_reply(emu_conn *c, int status, const char *ctype,
                    const char *body, size_t len, int head_only);
void emu_http_reply_error(emu_conn *c, int status, const char *msg);
/* A response without a body: status line, Date, the emulator header, the
 * header lines `extra` ("K: V\r\n"...). */
void emu_http_reply_headers(emu_conn *c, int status, const char *extra);
/* emu_cors.c: answers a disallowed origin (403) or a preflight (204) and
 * returns 1; else sets c->cors_header and returns 0. */
int emu_cors_check(emu_conn *c, int method);
/* The response of the current message is complete: close or read on. */
void emu_conn_response_done(emu_conn *c);
/* "HTTP/1.1 200 OK\r\n...headers...\r\n\r\n" for a chunked stream of
 * Content-Type ctype. */
void emu_http_stream_headers(emu_buf *b, const emu_conn *c,
                             const char *ctype);
/* Closes connections that linger after our FIN (called every second). */
void emu_http_sweep(emu *e);

/* ---- wire dialects (emu_ollama.c, emu_openai.c) ----
 * A dialect shapes the bytes of a response; the request's scheduling,
 * timing, faults and trace are shared (emu_req.c). Each function appends
 * to b. */
typedef struct emu_dialect {
    const char *stream_ctype; /* Content-Type of a streamed response */
    const char *json_ctype;   /* Content-Type of one JSON object */
    /* One streamed token event (r->n_written events went out before it)
     * of kind EMU_TOK_CONTENT, _THINK (tok: JSON-escaped text) or _TOOLS
     * (the call is r->out->call). */
    void (*token)(emu_buf *b, emu_req *r, int kind, const char *tok);
    /* The last write of a stream (final line, or finish + usage + [DONE]). */
    void (*stream_end)(emu_buf *b, emu_req *r, uint64_t t_final);
    /* The whole body of a stream=false response. */
    void (*whole)(emu_buf *b, emu_req *r, const char *text, uint64_t t_final);
    /* The answer to a load-only request (empty prompt); returns its
     * Content-Type. */
    const char *(*load)(emu_buf *b, emu_req *r);
    /* An error that ends a stream mid-way (fault error_after). */
    void (*error_event)(emu_buf *b, emu_req *r, const char *msg);
    /* A complete error response (status, message) before any streaming. */
    void (*reply_error)(emu_conn *c, int status, const char *msg);
    /* The body of an embed answer (NULL: /api/embed's own). */
    void (*embed)(emu_buf *b, emu_req *r);
} emu_dialect;

extern const emu_dialect emu_dialect_ollama;
extern const emu_dialect emu_dialect_responses;

/* A route served by a dialect module: `path` exact, or every path below it
 * when it ends in '/'. handle() answers (calling emu_conn_response_done)
 * or hands the connection to a request that answers later. */
typedef struct emu_route {
    const char *path;
    int method; /* enum http_method */
    void (*handle)(emu_conn *c, const char *path);
} emu_route;

/* emu_openai.c: Ollama's OpenAI compatibility layer (/v1/...). */
extern const emu_route emu_openai_routes[];
extern const size_t emu_openai_n_routes;
/* An OpenAI error object answer (openai.NewError); from_handler: an error
 * of the native handler, typed as the --openai-format layer does. */
void emu_openai_error(emu_conn *c, int status, const char *msg,
                      int from_handler);
/* thinkFromReasoningEffort: an effort string (NULL/"" = none given) as the
 * native `think` of body native. Returns 0, or -1 with Ollama's message. */
int emu_openai_effort(const cJSON *effort, cJSON *native, char *err,
                      size_t errlen);
/* emu_manage.c: /api/copy, /api/delete, /api/create, /api/push. */
extern const emu_route emu_manage_routes[];
extern const size_t emu_manage_n_routes;
/* emu_responses.c: /v1/responses (openai/responses.go). */
extern const emu_route emu_responses_routes[];
extern const size_t emu_responses_n_routes;
enum { EMU_API_GENERATE, EMU_API_CHAT, EMU_API_EMBED, EMU_API_EMBEDDINGS };

/* emu_req.c */
/* Handles POST /api/generate or /api/chat on connection c. */
void emu_req_submit(emu_conn *c, int is_chat);
/* The shared part: a request already translated into Ollama's native body
 * `root` (a cJSON object, not taken over), answered in c->dialect (set by
 * the caller). */
struct cJSON;
void emu_req_submit_as(emu_conn *c, int is_chat, int include_usage,
                       const struct cJSON *root);
/* Handles POST /api/embed (api EMU_API_EMBED) or /api/embeddings. */
void emu_req_submit_embed(emu_conn *c, int api);
/* The shared part: a native EmbedRequest body `root` (not taken over),
 * answered in c->dialect (set by the caller). */
void emu_req_submit_embed_as(emu_conn *c, int api, const struct cJSON *root);
/* The request got its slot: schedule its load end (emu_model.c calls). */
void emu_req_start(emu_req *r, uint64_t now);
/* Parses a keep_alive JSON value as api.Duration does. Returns 0 with the
 * scaled ns in *ns (INT64_MAX forever), or -1 with Go's message in err. */
int emu_req_keep_alive(const emu *e, const cJSON *v, int64_t *ns, char *err,
                       size_t errlen);
/* The connection of r goes away: drop r, free its slot. */
void emu_req_cancel(emu_req *r);

/* emu_stream.c: JSON lines in Ollama's key order. */
void emu_stream_token_line(emu_buf *b, const emu_req *r, int kind,
                           const char *tok);
void emu_stream_final_line(emu_buf *b, const emu_req *r, const char *text,
                           size_t text_len, uint64_t t_final);
void emu_stream_load_line(emu_buf *b, const emu_req *r, const char *reason);
/* Appends "<hex len>\r\n<data>\r\n". */
void emu_stream_chunk(emu_buf *out, const char *data, size_t len);
/* Token text number i of a request (from a fixed vocabulary). */
const char *emu_stream_vocab(gsl_rng *rng);
extern const char *const emu_vocab[];
extern const size_t emu_vocab_len;

/* emu_model.c: Ollama's scheduler over the runners of one instance. */
void emu_model_init(emu_instance *inst);
/* Routes r to a runner (now, or via the pending queue). Returns 0, or -1
 * when the pending queue is full (the caller answers 503). */
int emu_model_submit(emu_req *r);
/* r is done or gone: its slot, reference or pending place is released. */
void emu_model_release(emu_req *r);
/* keep_alive 0 with nothing to do: unload the model once idle. */
void emu_model_expire(emu_instance *inst, int model_index);
/* The stream of r starts / stops decoding (batch and GPU accounting). */
void emu_model_decode_begin(emu_req *r);
void emu_model_decode_end(emu_req *r);

/* emu_model.c: the served models' names. */
/* Index of the served model that name means ("gemma3" is
 * "gemma3:latest", as in Ollama), or -1. */
int emu_model_find(const emu_options *o, const char *name);
/* name without model.ParseName's default host and namespace
 * ("registry.ollama.ai/library/gemma3" -> "gemma3"); points into name. */
const char *emu_model_name_short(const char *name);
/* "model 'NAME' not found" into err, NAME repaired to valid UTF-8. */
void emu_model_not_found(char *err, size_t errlen, const char *name);
/* The "details" object of /api/tags, /api/ps and /api/show. */
cJSON *emu_model_details(const char *name);
/* A stable fake sha256 per model name. */
void emu_model_digest(const char *name, char out[65]);

/* emu_api.c: /api/show, /api/pull and the embed responses. */
void emu_api_show(emu_conn *c);
void emu_api_pull(emu_conn *c);
/* Answers with the NDJSON lines of body as a stream, one chunk per line
 * (server/routes.go streamResponse). */
void emu_api_progress(emu_conn *c, const emu_buf *body);
/* Body of an /api/embed or /api/embeddings answer for r. */
void emu_api_embed_body(emu_buf *b, const emu_req *r, uint64_t t_final);
/* Vector i of r into v (room for --embed-dim values); returns its
 * length. */
int emu_api_embed_vector(const emu_req *r, int i, double *v);
/* Parses c's body as a JSON object with Ollama's messages on failure
 * (answers 400 itself and returns NULL). */
cJSON *emu_api_parse_body(emu_conn *c);
/* Go time.RFC3339Nano (UTC, trailing zeros of the fraction trimmed) of
 * a wall-clock instant; NUL-terminated (emu_stream.c). */
void emu_rfc3339nano(int64_t sec, long nsec, char out[40]);

/* emu_caps.c: Ollama's model capabilities (types/model/capability.go). */
enum {
    EMU_CAP_COMPLETION = 1u << 0,
    EMU_CAP_TOOLS = 1u << 1,
    EMU_CAP_INSERT = 1u << 2,
    EMU_CAP_VISION = 1u << 3,
    EMU_CAP_EMBEDDING = 1u << 4,
    EMU_CAP_THINKING = 1u << 5,
};
/* The capabilities of a served model, from its name. */
unsigned emu_caps_of(const char *name);
/* Appends the capability names of caps to the JSON array arr, in Ollama's
 * order. */
void emu_caps_json(cJSON *arr, unsigned caps);

/* emu_schema.c: appends a JSON value valid against schema (the subset of
 * JSON Schema listed there), drawn from rng. */
void emu_schema_value(emu_buf *out, const cJSON *schema, gsl_rng *rng);

/* emu_regex.c: appends to out a string the JSON-schema `pattern` (an
 * ECMAScript regex, the subset listed there) matches, raw (not
 * JSON-escaped). Returns 0, or -1 (out unchanged) for a pattern outside
 * the subset. */
int emu_regex_sample(const char *pattern, gsl_rng *rng, emu_buf *out);

/* emu_tools.c: one tool call of the emulated model. */
typedef struct emu_call {
    char id[16];  /* "call_" + 8 of [a-z0-9], as routes.go toolCallId */
    char *name;
    char *args;   /* JSON object text */
} emu_call;
/* api.Tools as Go decodes it: 0, or -1 with encoding/json's message. */
int emu_tools_check(const cJSON *tools, const char *go_struct, char *err,
                    size_t errlen);
/* Tools with a function name (the ones a model can call). */
int emu_tools_count(const cJSON *tools);
/* Picks a tool and draws arguments valid against its parameters. */
void emu_tools_call(emu_call *call, const cJSON *tools, gsl_rng *rng);
void emu_tools_call_free(emu_call *call);
/* Calls [from, to) of an answer as a JSON array, each with its index in
 * the answer: Ollama's message.tool_calls, or OpenAI's. */
void emu_tools_native(emu_buf *b, const emu_call *calls, int from, int to);
void emu_tools_openai(emu_buf *b, const emu_call *calls, int from, int to);
/* Tokens the model decodes to write the call. */
int emu_tools_tokens(const emu_call *call);

/* emu_output.c: what the model writes (thinking, then a tool call, a JSON
 * document or words), token by token. */
typedef enum emu_tok_kind {
    EMU_TOK_CONTENT, /* answer text */
    EMU_TOK_THINK,   /* thinking text */
    EMU_TOK_HIDDEN,  /* decoded, not streamed (inside a tool call) */
    EMU_TOK_TOOLS,   /* the last token of a call: that call goes out
                        (calls[calls_sent - 1]) */
} emu_tok_kind;
/* Tool calls one answer may hold (parallel calls). */
#define EMU_MAX_CALLS 4
typedef struct emu_output {
    int n_think;       /* thinking tokens first */
    int n_answer;      /* then the answer's tokens */
    int n_calls, calls_sent;
    emu_call calls[EMU_MAX_CALLS];
    int call_end[EMU_MAX_CALLS]; /* answer tokens when call k is complete */
    char *doc;         /* the JSON document of `format` (or NULL) */
    size_t doc_len, doc_pos;
    emu_buf thinking;  /* thinking written so far */
} emu_output;
/* Validates think, tools and format of a native body against the served
 * model's capabilities and draws the plan. Returns 0 with *out (NULL for
 * plain words), or -1 with Ollama's status and message. natural: the
 * answer length drawn for plain words; parallel: the chance of each
 * further tool call (--parallel-tool-calls). */
int emu_output_plan(emu_output **out, const cJSON *root, int is_chat,
                    const char *served_name, unsigned caps, gsl_rng *rng,
                    int natural, double parallel, int *status, char *err,
                    size_t errlen);
int emu_output_length(const emu_output *o);
/* 1: the answer ends by itself (a call, a document). */
int emu_output_fixed(const emu_output *o);
/* Token i (0-based): its kind, its text as the inside of a JSON string
 * (tok) and raw (raw). */
emu_tok_kind emu_output_next(emu_output *o, int i, gsl_rng *rng,
                             emu_buf *tok, emu_buf *raw);
void emu_output_free(emu_output *o);

/* emu_server.c */
/* Logs one chunk to the trace file (if any), just before its write. */
void emu_trace_chunk(emu *e, int inst, const char *id, int index,
                     uint64_t ns);
void emu_record_lag(emu *e, uint64_t due, uint64_t now);
void emu_log(const emu *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t emu_scale_ns(const emu *e, double seconds);

#endif
