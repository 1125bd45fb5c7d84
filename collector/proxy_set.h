/* proxy_set: one recording proxy per plan endpoint for one phase of a
 * program run as a runtime (driver_exec's endpoints_open / endpoints_close
 * in two calls).
 *
 *   pb_proxy_set *s = pb_proxy_set_open(loop, n_endpoints, upstream_urls,
 *                                       plan_endpoints, ph->origin, err, len);
 *   ... the job and the environment name pb_proxy_set_url(s, i) ...
 *   ... spawn the program on `loop`, run the loop until it exited ...
 *   cJSON *requests = pb_proxy_set_close(s, 5.0, agent_of, ud);
 *
 * pb_proxy_set_close waits (running the loop, at most wait_s seconds) for
 * the requests still in flight, ends the connections left (their requests
 * are recorded as failed: "program gone"), takes every record, names each
 * record's agent with agent_of, closes the proxies and frees the set. */
#ifndef PB_PROXY_SET_H
#define PB_PROXY_SET_H

#include <stdint.h>
#include <uv.h>
#include <cjson/cJSON.h>

typedef struct pb_proxy_set pb_proxy_set;

/* Proxies on 127.0.0.1, any free port, one per upstream (upstreams[i],
 * labelled labels[i]). NULL with err set when one cannot start (the ones
 * started are closed again before returning). */
pb_proxy_set *pb_proxy_set_open(uv_loop_t *loop, int n, const char *const *upstreams,
                                const char *const *labels, uint64_t origin_ns, char *err,
                                size_t errlen);

/* "http://127.0.0.1:PORT" of endpoint i (owned by the set). */
const char *pb_proxy_set_url(const pb_proxy_set *s, int i);

/* The agent a record belongs to: its endpoint index and request id (the
 * X-Parbench-Request the program sent, else "<label>-c<conn>-r<n>").
 * Returns the agent id (copied), or NULL to leave "agent" as recorded. */
typedef const char *(*pb_proxy_agent_fn)(void *ud, int endpoint, const char *request_id);

/* The phase's requests: one array, each endpoint's records in order, the
 * endpoints one after the other; records of other routes ("api": null,
 * e.g. a client's GET /api/tags) included. Frees s. */
cJSON *pb_proxy_set_close(pb_proxy_set *s, double wait_s, pb_proxy_agent_fn agent_of, void *ud);

#endif
