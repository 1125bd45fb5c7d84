/* servers: what answers at each endpoint. Blocking GETs for preflight (the
 * JSON body and the identity headers), and the trace's top-level "servers"
 * entries (data/FORMAT.md). Nothing here runs while a phase is measured. */
#ifndef PB_SERVERS_H
#define PB_SERVERS_H

#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct pb_http_answer {
    long status;             /* 0: no answer */
    cJSON *json;             /* parsed body (NULL when not JSON) */
    char *server;            /* `Server` header, or NULL */
    char *emulator;          /* `X-Parbench-Emulator` header, or NULL */
    char why[1600];          /* set when the GET failed or the body is no JSON */
} pb_http_answer;

/* GET base+path with an optional "Authorization: ..." header line, through
 * proxy (NULL: no proxy, whatever http_proxy & co. say). Returns 0 when the
 * answer is 200 with a JSON body, else -1 (why set). */
int pb_http_get(const char *base, const char *path, const char *auth_header,
                const char *proxy, double timeout_s, pb_http_answer *a);
void pb_http_answer_free(pb_http_answer *a);

/* `X-Parbench-Emulator: time-scale=F; preset=NAME` as
 * {"time_scale": F, "preset": "NAME"}; a part that is missing or malformed
 * is null. NULL (no object) when value is NULL. */
cJSON *pb_emulator_header_parse(const char *value);

/* One servers[] entry; version may be NULL; takes no ownership. */
cJSON *pb_server_entry(const char *endpoint, const char *dialect,
                       const char *server_header, const cJSON *version,
                       const char *emulator_header);

#endif
