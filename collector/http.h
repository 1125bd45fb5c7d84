/* http: one blocking GET whose answer is JSON, with the identity headers
 * (Server, X-Parbench-Emulator). Used by preflight, by the readiness check
 * of the servers collect starts and by telemetry's /api/ps samples; never
 * while a phase is measured (the measured requests are transfer.c's). */
#ifndef PB_HTTP_H
#define PB_HTTP_H

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

#endif
