/* proxy_set: the recording proxies of one exec phase (proxy_set.h). */
#include "proxy_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

struct pb_proxy_set {
    uv_loop_t *loop;
    int n;
    pb_proxy **px;
    char (*url)[64];
};

static void on_closed(void *ud)
{
    (*(int *)ud)++;
}

/* Closes the first n proxies of s and runs the loop until they are gone
 * (close callbacks: one loop iteration, bounded anyway). */
static void close_proxies(pb_proxy_set *s, int n)
{
    int closed = 0;
    for (int i = 0; i < n; i++)
        pb_proxy_close(s->px[i], on_closed, &closed);
    for (int k = 0; k < 1000 && closed < n; k++)
        uv_run(s->loop, UV_RUN_NOWAIT);
}

static void set_free(pb_proxy_set *s)
{
    free(s->px);
    free(s->url);
    free(s);
}

pb_proxy_set *pb_proxy_set_open(uv_loop_t *loop, int n, const char *const *upstreams,
                                const char *const *labels, uint64_t origin_ns, char *err,
                                size_t errlen)
{
    pb_proxy_set *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->loop = loop;
    s->px = calloc((size_t)(n > 0 ? n : 1), sizeof *s->px);
    s->url = calloc((size_t)(n > 0 ? n : 1), sizeof *s->url);
    if (!s->px || !s->url)
        abort();
    for (int i = 0; i < n; i++) {
        pb_proxy_opts o = {.upstream = upstreams[i], .label = labels[i], .origin_ns = origin_ns};
        s->px[i] = pb_proxy_start(loop, &o, err, errlen);
        if (!s->px[i]) {
            close_proxies(s, i);
            set_free(s);
            return NULL;
        }
        snprintf(s->url[i], sizeof s->url[i], "http://127.0.0.1:%d", pb_proxy_port(s->px[i]));
    }
    s->n = n;
    return s;
}

const char *pb_proxy_set_url(const pb_proxy_set *s, int i)
{
    return s->url[i];
}

static size_t in_flight(const pb_proxy_set *s)
{
    size_t k = 0;
    for (int i = 0; i < s->n; i++)
        k += pb_proxy_in_flight(s->px[i]);
    return k;
}

static void on_expire(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Runs the loop until no request is in flight or wait_s passed. */
static void wait_in_flight(pb_proxy_set *s, double wait_s)
{
    if (!in_flight(s))
        return;
    int expired = 0;
    uv_timer_t t;
    uv_timer_init(s->loop, &t);
    t.data = &expired;
    uv_timer_start(&t, on_expire, (uint64_t)(wait_s * 1000.0 + 0.5), 0);
    while (!expired && in_flight(s))
        uv_run(s->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(s->loop, UV_RUN_NOWAIT);
}

cJSON *pb_proxy_set_close(pb_proxy_set *s, double wait_s, pb_proxy_agent_fn agent_of, void *ud)
{
    wait_in_flight(s, wait_s);
    if (in_flight(s)) {
        /* The program is gone and its requests did not end: recorded as
         * failed, never dropped. */
        for (int i = 0; i < s->n; i++)
            pb_proxy_end_connections(s->px[i], "program gone before its request ended");
        wait_in_flight(s, 1.0);
    }
    cJSON *all = cJSON_CreateArray();
    for (int i = 0; i < s->n; i++) {
        cJSON *a = pb_proxy_take_requests(s->px[i]);
        cJSON *r;
        while ((r = cJSON_DetachItemFromArray(a, 0))) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "request_id");
            const char *agent = agent_of && cJSON_IsString(id) ? agent_of(ud, i, id->valuestring)
                                                                : NULL;
            if (agent)
                cJSON_ReplaceItemInObjectCaseSensitive(r, "agent", cJSON_CreateString(agent));
            cJSON_AddItemToArray(all, r);
        }
        cJSON_Delete(a);
    }
    close_proxies(s, s->n);
    set_free(s);
    return all;
}
