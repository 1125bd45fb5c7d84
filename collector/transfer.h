/* transfer: one streaming request of one agent, as a libcurl easy handle:
 * the transport shared by every dialect (dialect.h).
 *
 * The transfer owns its easy handle, request body, header list, chunk log,
 * the framing state (NDJSON lines or server-sent events) and the result.
 * What the bytes mean is the agent's dialect's business. Drivers only run
 * the easy handle (added to a multi, or curl_easy_perform on a thread),
 * stamp t_start, and call pb_transfer_finish() when libcurl reports it
 * done. The recording proxy feeds a transfer the bytes it forwarded
 * instead, so its records mean what the drivers' do. */
#ifndef PB_TRANSFER_H
#define PB_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "dialect.h"
#include "lines.h"
#include "plan.h"
#include "sse.h"

typedef struct pb_transfer_opts {
    const char *url;         /* actual base URL (after --emulate mapping) */
    const char *request_id;
    const char *proxy;       /* NULL: no proxy (environment ignored) */
    long chunk_bytes;
    double timeout_s;
    int reuse_connections;
    CURLSH *share;           /* connection cache shared when reusing, or NULL */
    int num_predict;         /* > 0: override (warm-up requests) */
    long sample_seed;        /* >= 0: add options.seed unless the agent sets one */
    const char *auth_header; /* "Authorization: Bearer ..." or NULL; never recorded */
    size_t keep_text;        /* > 0: keep up to this many bytes of the answer
                                text (workflows feed it to the next step) */
} pb_transfer_opts;

typedef struct pb_transfer {
    const pb_agent_spec *agent;
    const pb_dialect *dialect;
    char *request_id;
    CURL *easy;
    char *body;
    struct curl_slist *headers;
    long chunk_bytes;
    uint64_t origin_ns;      /* run's monotonic origin */
    char errbuf[CURL_ERROR_SIZE];
    char *url;

    /* Results; times relative to origin_ns, -1 = never happened. */
    int64_t t_start, t_first_byte, t_first_token, t_end;
    int64_t t_first_reasoning; /* first message with reasoning text */
    /* t_end of a completed transfer is the arrival of its last body bytes
     * (t_last_byte); t_done is when libcurl reported it finished, later by
     * the time the loop took to get there. */
    int64_t t_last_byte, t_done;
    int64_t (*chunks)[2];
    size_t n_chunks, cap_chunks;
    char *pending;           /* --chunk-bytes batching */
    size_t pending_len, pending_cap;
    pb_lines lines;          /* framing of NDJSON dialects */
    pb_sse sse;              /* framing of event-stream dialects */
    pb_reply reply;          /* what the dialect made of the messages */
    long status;             /* HTTP status seen by the write callback */
    char *errbody;           /* body of a non-200 answer (capped) */
    size_t errbody_len;
    uint64_t bytes, n_lines, tokens; /* n_lines: messages (lines or events) */
    char *error;             /* = reply.error once judged (owned by reply) */
    int ok, finished, aborted;
    int at_eof;              /* parsing the tail after the stream ended */
    char *deferred;          /* long messages after the first token (and all after them), with their */
    size_t deferred_len, deferred_cap; /* arrival times; read by pb_transfer_settle() */
    uint64_t n_deferred;
    int settled;
    CURLcode curl_rc;        /* as reported by pb_transfer_finish() */
    int64_t cur_t;           /* delivery time of the batch being parsed */
    curl_off_t times_us[5];  /* namelookup connect pretransfer starttransfer total */
    long num_connects;
    double timeout_s;        /* --timeout (drivers enforce it too) */
    void *user;              /* the driver's (the agent it belongs to) */
    /* 1: the request asked for no stream ("stream": false, as agent
     * programs often send): the answer is one JSON document, kept here and
     * read by the dialect's on_whole when settled. It has no first token. */
    int whole;
    char *whole_body;
    size_t whole_len, whole_cap;
} pb_transfer;

/* Builds the request; returns NULL with err set. */
pb_transfer *pb_transfer_new(const pb_agent_spec *agent, const pb_transfer_opts *o,
                             uint64_t origin_ns, char *err, size_t errlen);
/* Called by drivers when the transfer is handed to libcurl. */
void pb_transfer_started(pb_transfer *t, uint64_t now_ns);
/* Called by drivers with the CURLMsg result, outside libcurl callbacks.
 * Records the end time and libcurl's timings only: judging the response is
 * pb_transfer_settle()'s job, after the phase. */
void pb_transfer_finish(pb_transfer *t, CURLcode rc, uint64_t now_ns);
/* Parses the lines deferred during the stream and decides ok / error.
 * Call once the phase is over (idempotent); ok and error are valid after. */
void pb_transfer_settle(pb_transfer *t);
/* Marks a transfer that never finished (Ctrl-C). */
void pb_transfer_abort(pb_transfer *t, uint64_t now_ns);
/* The request object of the trace format (data/FORMAT.md). Takes the
 * server's final object from the transfer (once: a second call records
 * "final": null). */
cJSON *pb_transfer_to_json(pb_transfer *t);
void pb_transfer_free(pb_transfer *t);

/* The answer text kept (opts.keep_text): never NULL ("" when none), *kept
 * its length; *total (may be NULL) the answer's full length. */
const char *pb_transfer_text(const pb_transfer *t, size_t *kept, uint64_t *total);

/* Exposed for unit tests: feeds bytes as if a write callback got them at
 * now_ns. Returns bytes consumed (!= n aborts the transfer). */
size_t pb_transfer_deliver(pb_transfer *t, const char *data, size_t n, uint64_t now_ns);

/* Replaces the request body (before the transfer runs): a replayed
 * baseline sends the bytes a program sent, streamed or not (whole). */
void pb_transfer_set_body(pb_transfer *t, const cJSON *body);

#endif
