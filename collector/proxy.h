/* proxy: the recording proxy (issue 18 section 2). A transparent HTTP/1.1
 * reverse proxy on loopback, one per endpoint, that runs on a caller's
 * libuv loop (collect's) and records every request it forwards in the
 * trace format of collect's own drivers (data/FORMAT.md, "source": "proxy").
 *
 * Bytes are forwarded verbatim in both directions, each read passed on as
 * it arrives (never a whole response buffered); http_parser follows both
 * directions only to find message boundaries, headers and bodies. Each
 * client connection gets its own upstream connection (opened when the
 * client connects, again for a request after the server closed it, kept
 * alive as long as both sides keep it), so
 * keep-alive, chunked transfer encoding, pipelining, NDJSON and SSE bodies
 * and request bodies of any size pass unchanged.
 *
 * What is recorded per request (times: uv_hrtime() relative to the origin
 * set with pb_proxy_set_origin, as every _ns field of the trace):
 *   t_start_ns        the client connection's accept (first request on a
 *                     connection) or the request's first byte (later ones)
 *   t_connected_ns    the request's first byte from the client
 *   t_request_in_ns   the request's headers complete
 *   t_sent_upstream_ns the upstream socket accepted the request's last byte
 *   t_first_byte_ns   first response byte from upstream
 *   chunks            [[t_ns, bytes]...]: body pieces as they arrived from
 *                     upstream (one per HTTP chunk, as curl's write callback)
 *   chunks_written_ns [t_ns...]: per chunk, when the client's socket
 *                     accepted its last byte (uv_try_write returning, or the
 *                     uv_write callback): the difference is write-back lag
 *   t_end_ns          last response byte from upstream
 *   t_done_ns         the client's socket accepted the response's last byte
 * The body is interpreted by the transfer module's dialects (the final
 * object, tokens, first token, errors are those collect's drivers record),
 * from the recorded pieces and their times when the records are taken, so
 * that no parsing delays the forwarding of other streams.
 *
 * Plugging it in (collect's exec runtimes, driver_exec.c): per plan
 * endpoint, before the
 * phase, pb_proxy_start(loop, {upstream = the endpoint's actual URL, label =
 * the plan endpoint, origin_ns = the run's origin}); hand the program
 * http://127.0.0.1:<pb_proxy_port> (or listen_port = the address the
 * program hard-codes); spawn it on the same loop; when it has exited, wait
 * (bounded) for pb_proxy_in_flight() == 0 while running the loop, then
 * pb_proxy_take_requests() gives the phase's requests[]: map each
 * request_id (the job's X-Parbench-Request) to its agent id, and drop or
 * keep the records with "api": null (preflight-like GETs). Reuse a proxy
 * across phases with pb_proxy_set_origin, or close it with pb_proxy_close
 * and run the loop until its callback.
 *
 * Ownership: pb_proxy_start allocates; the proxy owns its handles and the
 * records until pb_proxy_take_requests hands them out (as a cJSON array the
 * caller deletes); pb_proxy_close closes every handle (the caller then runs
 * the loop until the callback has fired, which frees the proxy).
 *
 * The process must ignore SIGPIPE (collect does, signals.c): a client
 * that leaves mid-response is then an EPIPE the proxy records.
 *
 * Every wait is bounded: a request's headers must stay under
 * max_header_bytes (else 431), the upstream connect under
 * connect_timeout_s (else 502), and a connection with nothing in flight
 * and no bytes for idle_timeout_s is closed. */
#ifndef PB_PROXY_H
#define PB_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <cjson/cJSON.h>

typedef struct pb_proxy pb_proxy;

typedef struct pb_proxy_opts {
    const char *listen_host;   /* "127.0.0.1" when NULL */
    int listen_port;           /* 0 = any free port (pb_proxy_port) */
    const char *upstream;      /* "http://host:port" (a path is ignored) */
    const char *label;         /* the endpoint's name in the records */
    uint64_t origin_ns;        /* uv_hrtime() the record times count from */
    size_t max_header_bytes;   /* 0 = 64 KiB */
    double connect_timeout_s;  /* 0 = 10 s */
    double idle_timeout_s;     /* 0 = 300 s */
    size_t max_parse_body;     /* request bodies kept to read the model,
                                  options: 0 = 16 MiB (a longer one is
                                  forwarded, not read) */
    int keep_request_body;     /* 1: records carry "request_body" (the
                                  parsed JSON body of a stream API request),
                                  for a replay of the requests */
} pb_proxy_opts;

/* Binds and listens on `loop`. Returns NULL with err set (bad upstream
 * URL, address in use). The listener does not keep the loop alive (it is
 * unref'd); open connections do, so uv_run(UV_RUN_DEFAULT) returns once
 * the program and every connection it opened are gone. */
pb_proxy *pb_proxy_start(uv_loop_t *loop, const pb_proxy_opts *o, char *err, size_t errlen);

/* The bound port. */
int pb_proxy_port(const pb_proxy *p);

/* The origin of the times of requests that start after this call. */
void pb_proxy_set_origin(pb_proxy *p, uint64_t origin_ns);

/* Requests finished so far (response complete, failed, or the client
 * gone), oldest first, as a new array of trace request objects; they are
 * forgotten by the proxy. Requests still in flight stay. */
cJSON *pb_proxy_take_requests(pb_proxy *p);

/* Requests begun but not finished yet (a caller waits for 0 before taking
 * the records of a phase, with a bound). */
size_t pb_proxy_in_flight(const pb_proxy *p);

/* Ends every open connection now (a program gone while its requests were
 * in flight): those requests are recorded as failed with `why`, and can be
 * taken once the loop ran their close callbacks (pb_proxy_in_flight 0). */
void pb_proxy_end_connections(pb_proxy *p, const char *why);

/* Closes the listener and every connection (in-flight requests are
 * recorded as failed: "proxy closed"). cb (may be NULL) runs from the loop
 * once every handle is closed, after which p is freed: the records not
 * taken before are lost. */
typedef void (*pb_proxy_closed_cb)(void *ud);
void pb_proxy_close(pb_proxy *p, pb_proxy_closed_cb cb, void *ud);

#endif
