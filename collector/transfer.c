/* transfer: libcurl easy setup, the write callback, message framing (NDJSON
 * or server-sent events), the per-request record; the dialect reads the
 * messages. */
#include "transfer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "pb_mem.h"
#include "progress.h"

#define ERRBODY_MAX 4096

static void set_error(pb_transfer *t, const char *fmt, ...)
{
    if (t->reply.error)
        return; /* the first failure is the cause; later ones are echoes */
    va_list ap;
    va_start(ap, fmt);
    /* pb_reply_vfail cuts a long text on a character boundary. */
    pb_reply_vfail(&t->reply, fmt, ap);
    va_end(ap);
    t->error = t->reply.error;
}

/* Grows a byte buffer to hold at least `need` bytes, doubling from
 * `initial`, so appends on the write-callback path stay amortised O(1). */
static void buf_reserve(char **buf, size_t *cap, size_t need, size_t initial)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : initial;
    while (c < need)
        c *= 2;
    char *p = pb_mem_realloc(*buf, c);
    *buf = p;
    *cap = c;
}


static void record_chunk(pb_transfer *t, int64_t tns, size_t n)
{
    if (t->n_chunks == t->cap_chunks) {
        size_t cap = t->cap_chunks ? t->cap_chunks * 2 : 512;
        void *c = pb_mem_realloc(t->chunks, cap * sizeof *t->chunks);
        t->chunks = c;
        t->cap_chunks = cap;
    }
    t->chunks[t->n_chunks][0] = tns;
    t->chunks[t->n_chunks][1] = (int64_t)n;
    t->n_chunks++;
}

/* Hands one message to the dialect and stamps the first token and the
 * first reasoning text with the arrival time of the bytes that completed
 * the message. Returns nonzero to stop reading. */
static int interpret(pb_transfer *t, const pb_message *m)
{
    int bits = t->dialect->on_message(&t->reply, m);
    if ((bits & PB_MSG_CONTENT) && t->t_first_token < 0)
        t->t_first_token = t->cur_t;
    if ((bits & PB_MSG_REASONING) && t->t_first_reasoning < 0)
        t->t_first_reasoning = t->cur_t;
    t->tokens = t->reply.content_events;
    t->error = t->reply.error;
    return (bits & PB_MSG_STOP) ? 1 : 0;
}

/* A deferred message: its arrival time, SSE event type and data. */
typedef struct defer_hdr {
    int64_t t;
    uint32_t type_len, len;
    int32_t stray, is_sse;
} defer_hdr;

static void defer_message(pb_transfer *t, const pb_message *m)
{
    defer_hdr h = {t->cur_t, m->type ? (uint32_t)strlen(m->type) : 0, (uint32_t)m->len,
                   m->stray, m->type != NULL};
    size_t need = t->deferred_len + sizeof h + h.type_len + h.len;
    buf_reserve(&t->deferred, &t->deferred_cap, need, 4096);
    char *p = t->deferred + t->deferred_len;
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, m->type ? m->type : "", h.type_len);
    memcpy(p + sizeof h + h.type_len, m->data, h.len);
    t->deferred_len = need;
    t->n_deferred++;
}

/* Messages longer than this are parsed after the phase (see on_message). */
#define DEFER_MIN 1024
/* A non-streamed answer is kept whole up to this size. */
#define WHOLE_MAX (256 << 20)

/* Every complete message of the stream, in arrival order. */
static int on_message(pb_transfer *t, pb_message *m)
{
    m->index = ++t->n_lines;
    /* The live bar's token count (a relaxed atomic add, after the
     * chunk's timestamp was taken). */
    pb_progress_count_message();
    /* Until the first token, messages are interpreted as they arrive and a
     * failure stops the transfer: TTFT is the arrival of the first one with
     * content. After it, a token's message (~100-300 bytes) is still
     * interpreted at once: parsing it costs about a microsecond, after its
     * timestamp, where a copy kept for later cost ~6 MB of memory at 128
     * agents x 400 tokens (the largest allocation of a run). A long message
     * (Ollama's final line carries hundreds of context ids) is copied and
     * interpreted by pb_transfer_settle() after the phase, so parsing it
     * never delays the reads of the streams still running; so is every
     * message after it, to keep the order. As before, a failure reported
     * after the first token does not stop reading, and messages after a
     * failure are counted but not interpreted. */
    if (t->t_first_token >= 0 && !t->at_eof) {
        if (t->deferred_len || m->len > DEFER_MIN)
            defer_message(t, m);
        else if (!t->error)
            interpret(t, m);
        return 0;
    }
    return interpret(t, m);
}

static int on_line(void *ud, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    pb_message m = {.data = line, .len = len};
    return on_message(ud, &m);
}

static int on_event(void *ud, const pb_sse_event *ev)
{
    pb_message m = {.data = ev->data, .len = ev->len, .type = ev->type, .stray = ev->stray};
    return on_message(ud, &m);
}

/* Hands a batch to the framing, stamped with the instant it reached it. */
static int parse_batch(pb_transfer *t, const char *d, size_t n, int64_t tns)
{
    record_chunk(t, tns, n);
    t->cur_t = tns;
    int rc;
    if (t->dialect->framing == PB_FRAMING_SSE) {
        rc = pb_sse_feed(&t->sse, d, n, on_event, t);
        if (rc == -1)
            set_error(t, "event-stream line or event longer than %zu bytes from %s",
                      t->sse.max, t->url);
    } else {
        rc = pb_lines_feed(&t->lines, d, n, on_line, t);
        if (rc == -1)
            set_error(t, "NDJSON line longer than %zu bytes from %s", t->lines.max, t->url);
    }
    return rc;
}

size_t pb_transfer_deliver(pb_transfer *t, const char *data, size_t n, uint64_t now_ns)
{
    int64_t tns = (int64_t)(now_ns - t->origin_ns);
    if (t->t_first_byte < 0)
        t->t_first_byte = tns;
    t->t_last_byte = tns;
    t->bytes += n;
    if (t->status == 0 && t->easy)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status != 200 && t->status != 0) {
        /* Keep the error body for the message; it is not a stream. */
        size_t room = ERRBODY_MAX - t->errbody_len;
        size_t k = n < room ? n : room;
        if (k) {
            if (!t->errbody)
                t->errbody = malloc(ERRBODY_MAX + 1);
            memcpy(t->errbody + t->errbody_len, data, k);
            t->errbody_len += k;
            t->errbody[t->errbody_len] = '\0';
        }
        return n;
    }
    if (t->whole) {
        /* One JSON document: its pieces are timed like a stream's, and
         * read whole when settled. */
        record_chunk(t, tns, n);
        if (t->whole_len + n > WHOLE_MAX) {
            set_error(t, "answer from %s longer than %d MiB", t->url, WHOLE_MAX >> 20);
            return 0;
        }
        buf_reserve(&t->whole_body, &t->whole_cap, t->whole_len + n + 1, 4096);
        memcpy(t->whole_body + t->whole_len, data, n);
        t->whole_len += n;
        return n;
    }
    if (t->chunk_bytes <= 0)
        return parse_batch(t, data, n, tns) == 0 ? n : 0;
    /* --chunk-bytes: the parser sees nothing until N bytes are buffered,
     * like the study's BytesStream1KB. */
    buf_reserve(&t->pending, &t->pending_cap, t->pending_len + n,
                (size_t)t->chunk_bytes * 2);
    memcpy(t->pending + t->pending_len, data, n);
    t->pending_len += n;
    if (t->pending_len >= (size_t)t->chunk_bytes) {
        size_t len = t->pending_len;
        t->pending_len = 0;
        if (parse_batch(t, t->pending, len, tns) != 0)
            return 0;
    }
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    /* The timestamp comes first: everything after it is our overhead. */
    uint64_t now = uv_hrtime();
    return pb_transfer_deliver(ud, data, size * nmemb, now);
}

/* Chunk-list entries to prepare: the token budget when one is set, at most
 * 4096 (64 KiB): a budget of 65536 tokens for 128 agents must not commit
 * 128 MiB up front for answers that may be short; a longer stream grows
 * the list as before. */
static size_t expected_chunks(const pb_agent_spec *agent, const pb_transfer_opts *o)
{
    double np = o->num_predict > 0 ? o->num_predict : -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(agent->options, "num_predict");
    if (np < 0 && cJSON_IsNumber(v))
        np = v->valuedouble;
    if (!(np > 0))
        return 512;
    return np > 4088 ? 4096 : (size_t)np + 8;
}

/* The chunk list and the buffer for a long final message are allocated and
 * written before the phase starts. Allocated on first use, their page
 * faults (several microseconds each on a virtual machine) fell on the
 * first token of every stream, when 128 streams' first chunks arrive
 * within a few milliseconds, and on the burst of final lines. */
static void prefault(pb_transfer *t, const pb_agent_spec *agent, const pb_transfer_opts *o)
{
    size_t cap = expected_chunks(agent, o);
    t->chunks = pb_mem_alloc(cap * sizeof *t->chunks);
    memset(t->chunks, 0, cap * sizeof *t->chunks);
    t->cap_chunks = cap;
    buf_reserve(&t->deferred, &t->deferred_cap, 4096, 4096);
    memset(t->deferred, 0, t->deferred_cap);
}

pb_transfer *pb_transfer_new(const pb_agent_spec *agent, const pb_transfer_opts *o,
                             uint64_t origin_ns, char *err, size_t errlen)
{
    const pb_dialect *d = pb_dialect_find(agent->api);
    if (!d) {
        snprintf(err, errlen, "agent %s: unknown api \"%s\" (use %s)", agent->id,
                 agent->api ? agent->api : "", pb_dialect_names());
        return NULL;
    }
    pb_transfer *t = pb_mem_calloc(1, sizeof *t);
    t->agent = agent;
    t->dialect = d;
    t->request_id = pb_mem_strdup(o->request_id);
    t->chunk_bytes = o->chunk_bytes;
    t->timeout_s = o->timeout_s;
    t->origin_ns = origin_ns;
    t->t_start = t->t_first_byte = t->t_first_token = t->t_end = -1;
    t->t_first_reasoning = -1;
    t->reply.server_tokens = -1;
    t->t_last_byte = t->t_done = -1;
    t->reply.keep_text = o->keep_text;
    pb_lines_init(&t->lines, 0);
    pb_sse_init(&t->sse, 0);
    prefault(t, agent, o);

    pb_request_params rp = {.num_predict = o->num_predict, .sample_seed = o->sample_seed};
    cJSON *body = d->build_request(agent, &rp);
    t->body = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);

    size_t ul = strlen(o->url) + strlen(d->path) + 1;
    t->url = pb_mem_alloc(ul);
    snprintf(t->url, ul, "%s%s", o->url, d->path);
    t->reply.url = t->url;

    char h[512];
    snprintf(h, sizeof h, "X-Parbench-Request: %s", o->request_id);
    t->headers = curl_slist_append(NULL, h);
    char *hbuf = NULL;
    size_t hcap = 0;
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    /* libcurl would wait up to 1 s for "100 Continue" on large bodies. */
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (o->auth_header)
        t->headers = curl_slist_append(t->headers, o->auth_header);
    const cJSON *hd;
    cJSON_ArrayForEach(hd, agent->headers) {
        /* Sized per header: a fixed buffer would cut a long value silently. */
        size_t need = strlen(hd->string) + strlen(hd->valuestring) + 3;
        if (need > hcap) {
            free(hbuf);
            hcap = need;
            hbuf = pb_mem_alloc(hcap);
        }
        snprintf(hbuf, hcap, "%s: %s", hd->string, hd->valuestring);
        t->headers = curl_slist_append(t->headers, hbuf);
    }
    free(hbuf);

    CURL *e = curl_easy_init();
    if (!e || !t->body || !t->headers) {
        snprintf(err, errlen, "cannot set up a libcurl request for agent %s", agent->id);
        pb_transfer_free(t);
        if (e)
            curl_easy_cleanup(e);
        return NULL;
    }
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* "" turns off curl's reading of http_proxy & co.: timings through a
     * proxy nobody asked for would be measured as the server's. */
    curl_easy_setopt(e, CURLOPT_PROXY, o->proxy ? o->proxy : "");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000.0 + 0.5));
    long cto = (long)(o->timeout_s * 1000.0 + 0.5);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cto < 10000 ? cto : 10000L);
    if (o->chunk_bytes <= 0) {
        /* A token's chunk is 100-300 bytes and Ollama's final line ~2.3 KB
         * at 400 tokens: libcurl's default 16 KiB receive buffer per stream
         * cost 1.1 MiB of peak RSS at 128 agents (measured), for nothing.
         * A larger message is read in several pieces, each stamped. */
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    } else {
        /* libcurl's minimum receive buffer is 1024 bytes. */
        long bs = o->chunk_bytes < 1024 ? 1024 : o->chunk_bytes;
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, bs > CURL_MAX_READ_SIZE ? (long)CURL_MAX_READ_SIZE : bs);
    }
    if (!o->reuse_connections) {
        /* Every sample pays the same connect cost. */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        /* No FORBID_REUSE: that closed each connection the moment its
         * transfer ended, and a loopback close (FIN both ways, ~25 us of
         * kernel time in our thread) then delayed the reads of the streams
         * still running. FRESH_CONNECT alone still gives every request a
         * new connection; the driver closes them all when its multi handle
         * is cleaned up, after the phase. */
    } else if (o->share) {
        curl_easy_setopt(e, CURLOPT_SHARE, o->share);
    }
    return t;
}

void pb_transfer_started(pb_transfer *t, uint64_t now_ns)
{
    t->t_start = (int64_t)(now_ns - t->origin_ns);
}

static void read_times(pb_transfer *t)
{
    static const CURLINFO infos[5] = {
        CURLINFO_NAMELOOKUP_TIME_T, CURLINFO_CONNECT_TIME_T,
        CURLINFO_PRETRANSFER_TIME_T, CURLINFO_STARTTRANSFER_TIME_T,
        CURLINFO_TOTAL_TIME_T};
    for (int i = 0; i < 5; i++)
        if (curl_easy_getinfo(t->easy, infos[i], &t->times_us[i]) != CURLE_OK)
            t->times_us[i] = -1;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &t->num_connects);
    long st = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &st);
    t->status = st;
}

void pb_transfer_finish(pb_transfer *t, CURLcode rc, uint64_t now_ns)
{
    t->t_done = (int64_t)(now_ns - t->origin_ns);
    /* The stream ended when its last bytes arrived (the final line and the
     * chunked terminator come in one segment), not when the loop came
     * round to libcurl's completion message: with many streams ending at
     * once that is later by every other stream's work in between. */
    t->t_end = rc == CURLE_OK && t->t_last_byte >= 0 ? t->t_last_byte : t->t_done;
    t->finished = 1;
    t->curl_rc = rc;
    read_times(t);
}

/* The unterminated rest of the stream, for the dialect's on_end. */
static void take_partial(pb_transfer *t, const char **p, size_t *n)
{
    *p = NULL;
    *n = 0;
    if (t->dialect->framing == PB_FRAMING_SSE) {
        if (t->sse.line_len) {
            *p = t->sse.line;
            *n = t->sse.line_len;
        } else if (t->sse.has_data) {
            *p = t->sse.data;
            *n = t->sse.data_len;
        }
        pb_sse_finish(&t->sse);
        return;
    }
    *p = t->lines.buf;
    *n = t->lines.len;
    t->lines.len = 0;
    /* Counted like any line (an empty rest is no line). */
    size_t k = *n;
    while (k && ((*p)[k - 1] == '\r' || (*p)[k - 1] == ' '))
        k--;
    if (k)
        t->n_lines++;
}

void pb_transfer_settle(pb_transfer *t)
{
    if (t->settled)
        return;
    t->settled = 1;
    CURLcode rc = t->curl_rc;
    /* The rest of a --chunk-bytes batch reached the parser when libcurl
     * reported the end. */
    int64_t tns = t->t_done;
    if (!t->finished) {
        /* Interrupted (pb_transfer_abort): nothing more to judge. */
        t->ok = 0;
        return;
    }
    if ((t->status == 200 || t->status == 0) && !t->error && rc == CURLE_OK) {
        if (t->pending_len) {
            /* The rest of a --chunk-bytes batch is delivered at the end. */
            size_t len = t->pending_len;
            t->pending_len = 0;
            parse_batch(t, t->pending, len, tns);
        }
    }
    /* Messages that arrived after the first token, in arrival order, each
     * with the time its bytes arrived. */
    for (size_t off = 0; off < t->deferred_len && !t->error;) {
        defer_hdr h;
        memcpy(&h, t->deferred + off, sizeof h);
        char type[64];
        size_t tl = h.type_len < sizeof type - 1 ? h.type_len : sizeof type - 1;
        memcpy(type, t->deferred + off + sizeof h, tl);
        type[tl] = '\0';
        pb_message m = {.data = t->deferred + off + sizeof h + h.type_len, .len = h.len,
                        .type = h.is_sse ? type : NULL, .stray = h.stray,
                        .index = t->n_lines - t->n_deferred + 1};
        t->n_deferred--;
        t->cur_t = h.t;
        interpret(t, &m);
        off += sizeof h + h.type_len + h.len;
    }
    /* Parsed: the copies are not needed any more. Freed before the run's
     * trace is built, so the trace reuses this memory instead of adding to
     * the peak (128 agents x 400 lines: ~6 MB). */
    free(t->deferred);
    t->deferred = NULL;
    t->deferred_len = t->deferred_cap = 0;
    if ((t->status == 200 || t->status == 0) && !t->error && rc == CURLE_OK && t->whole) {
        /* Nothing was streamed: no first token, and the count is the
         * server's (0, estimated, when it sent none). */
        t->cur_t = tns;
        t->dialect->on_whole(&t->reply, t->whole_body ? t->whole_body : "", t->whole_len);
        t->tokens = t->reply.server_tokens >= 0 ? (uint64_t)t->reply.server_tokens : 0;
        t->error = t->reply.error;
    } else if ((t->status == 200 || t->status == 0) && !t->error && rc == CURLE_OK) {
        t->at_eof = 1;
        t->cur_t = tns;
        const char *rest;
        size_t rest_len;
        take_partial(t, &rest, &rest_len);
        t->dialect->on_end(&t->reply, rest, rest_len);
        t->tokens = t->reply.content_events;
        t->error = t->reply.error;
    }
    if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
        set_error(t, "POST %s: %s (curl error %d)", t->url,
                  t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc), (int)rc);
    if (t->status != 200 && t->status != 0) {
        const char *msg = t->errbody ? t->errbody : "";
        cJSON *j = t->errbody ? cJSON_ParseWithLength(t->errbody, t->errbody_len) : NULL;
        const char *e = j ? t->dialect->error_text(j) : NULL;
        if (e)
            msg = e;
        char ex[128];
        pb_excerpt(msg, strlen(msg), ex, sizeof ex);
        set_error(t, "HTTP %ld from %s: %s", t->status, t->url, ex);
        cJSON_Delete(j);
    }
    if (rc == CURLE_WRITE_ERROR)
        set_error(t, "POST %s: transfer aborted by the collector", t->url);
    t->ok = !t->error;
}

void pb_transfer_abort(pb_transfer *t, uint64_t now_ns)
{
    if (t->finished)
        return;
    t->aborted = 1;
    t->t_end = (int64_t)(now_ns - t->origin_ns);
    set_error(t, "interrupted");
}

static cJSON *num_or_null(int64_t v)
{
    return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

cJSON *pb_transfer_to_json(pb_transfer *t)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "agent", t->agent->id);
    cJSON_AddStringToObject(j, "request_id", t->request_id);
    cJSON_AddBoolToObject(j, "ok", t->ok);
    cJSON_AddNumberToObject(j, "http_status", (double)t->status);
    cJSON_AddItemToObject(j, "error", t->error ? cJSON_CreateString(t->error) : cJSON_CreateNull());
    cJSON_AddNumberToObject(j, "t_start_ns", (double)t->t_start);
    int connected = t->times_us[1] > 0 || (t->num_connects == 0 && t->status != 0);
    cJSON_AddItemToObject(j, "t_connected_ns",
                          connected ? cJSON_CreateNumber((double)(t->t_start + t->times_us[1] * 1000))
                                    : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "t_first_byte_ns", num_or_null(t->t_first_byte));
    cJSON_AddItemToObject(j, "t_first_token_ns", num_or_null(t->t_first_token));
    cJSON_AddNumberToObject(j, "t_end_ns", (double)t->t_end);
    cJSON *c = cJSON_AddObjectToObject(j, "curl");
    static const char *names[5] = {"namelookup_us", "connect_us", "pretransfer_us",
                                   "starttransfer_us", "total_us"};
    for (int i = 0; i < 5; i++)
        cJSON_AddNumberToObject(c, names[i], (double)t->times_us[i]);
    cJSON_AddNumberToObject(c, "num_connects", (double)t->num_connects);
    cJSON_AddNumberToObject(j, "bytes", (double)t->bytes);
    cJSON_AddNumberToObject(j, "lines", (double)t->n_lines);
    cJSON_AddNumberToObject(j, "tokens", (double)t->tokens);
    /* The chunk list as JSON text, not as cJSON nodes: three nodes (~200
     * bytes of heap) per chunk made it the largest allocation of a run
     * (128 agents x 400 chunks: ~12 MB for a ~1 MB text). Integers below
     * 2^53, so the text is what cJSON would print. */
    size_t cap = 3 + t->n_chunks * 44, len = 0;
    char *raw = pb_mem_alloc(cap);
    raw[len++] = '[';
    for (size_t i = 0; i < t->n_chunks; i++)
        len += (size_t)snprintf(raw + len, cap - len, "%s[%lld,%lld]", i ? "," : "",
                                (long long)t->chunks[i][0], (long long)t->chunks[i][1]);
    raw[len++] = ']';
    raw[len] = '\0';
    cJSON_AddItemToObject(j, "chunks", cJSON_CreateRaw(raw));
    free(raw);
    /* Moved, not copied: Ollama's final object holds its context ids, one
     * cJSON node each (~35 KB per request at 400 tokens), and a copy
     * doubled that for every request while the run's trace was built. */
    cJSON_AddItemToObject(j, "final", t->reply.final ? t->reply.final : cJSON_CreateNull());
    t->reply.final = NULL;
    /* Added compatibly in format v1, after every older key. */
    cJSON_AddStringToObject(j, "dialect", t->dialect->name);
    cJSON_AddStringToObject(j, "url_path", t->dialect->path);
    cJSON_AddItemToObject(j, "t_first_reasoning_ns", num_or_null(t->t_first_reasoning));
    /* The server's count when it sent one; else `tokens` stands in. */
    cJSON_AddItemToObject(j, "completion_tokens", num_or_null(t->reply.server_tokens));
    if (t->whole)
        cJSON_AddFalseToObject(j, "streamed");
    cJSON_AddBoolToObject(j, "tokens_estimated", t->reply.server_tokens < 0);
    cJSON_AddItemToObject(j, "t_done_ns", num_or_null(t->t_done));
    return j;
}

const char *pb_transfer_text(const pb_transfer *t, size_t *kept, uint64_t *total)
{
    *kept = t->reply.text ? t->reply.text_len : 0;
    if (total)
        *total = t->reply.text_total;
    return t->reply.text ? t->reply.text : "";
}

void pb_transfer_free(pb_transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    cJSON_free(t->body);
    free(t->url);
    free(t->request_id);
    free(t->chunks);
    free(t->pending);
    free(t->deferred);
    free(t->errbody);
    free(t->whole_body);
    pb_lines_free(&t->lines);
    pb_sse_free(&t->sse);
    pb_reply_free(&t->reply);
    free(t);
}

void pb_transfer_set_body(pb_transfer *t, const cJSON *body)
{
    char *b = cJSON_PrintUnformatted(body); /* freed with cJSON_free, as the built body */
    if (!b)
        PB_MEM_OOM();
    cJSON_free(t->body);
    t->body = b;
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    t->whole = !pb_dialect_streams(t->dialect, body);
}
