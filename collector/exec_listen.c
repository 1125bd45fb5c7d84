/* exec_listen: the proxies' listen addresses (see exec_listen.h). */
#include "exec_listen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

int pb_exec_listen_parse(const char *addr, char *host, size_t hostlen, int *port, char *err,
                         size_t errlen)
{
    const char *colon = strrchr(addr, ':');
    char *end;
    long v = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || !colon[1] || *end || v < 1 || v > 65535) {
        snprintf(err, errlen, "\"%s\": give HOST:PORT, e.g. 127.0.0.1:11434 (a port 1-65535)", addr);
        return -1;
    }
    size_t hl = (size_t)(colon - addr);
    if (hl == 0) {
        snprintf(host, hostlen, "127.0.0.1");
    } else {
        snprintf(host, hostlen, "%.*s", (int)hl, addr);
        struct sockaddr_in sa;
        if (hl >= hostlen || uv_ip4_addr(host, (int)v, &sa) != 0) {
            snprintf(err, errlen, "\"%s\": HOST must be an IPv4 address such as 127.0.0.1", addr);
            return -1;
        }
    }
    *port = (int)v;
    return 0;
}

static void on_close(uv_handle_t *h) { (void)h; }

int pb_exec_listen_check(const pb_plan *p, char *err, size_t errlen)
{
    int exec = 0;
    for (int i = 0; i < p->n_runtimes; i++)
        exec |= p->runtimes[i].driver == PB_DRIVER_EXEC;
    if (!exec || !p->exec_listen)
        return 0;
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        snprintf(err, errlen, "exec_listen: cannot create an event loop");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < p->n_endpoints && rc == 0; i++) {
        if (!p->exec_listen[i])
            continue;
        char host[64], e[300];
        int port;
        struct sockaddr_in sa;
        uv_tcp_t t;
        if (pb_exec_listen_parse(p->exec_listen[i], host, sizeof host, &port, e, sizeof e) != 0) {
            snprintf(err, errlen, "exec_listen %s: %s", p->endpoints[i], e);
            rc = -1;
            break;
        }
        uv_ip4_addr(host, port, &sa);
        uv_tcp_init(&loop, &t);
        /* Bind and listen as the proxy will (libuv sets SO_REUSEADDR, so a
         * socket in TIME_WAIT does not count; a listener does). */
        int r = uv_tcp_bind(&t, (const struct sockaddr *)&sa, 0);
        if (r == 0)
            r = uv_listen((uv_stream_t *)&t, 1, NULL);
        if (r != 0) {
            snprintf(err, errlen, "exec_listen: the recording proxy for endpoint %s cannot listen on "
                     "%s:%d: %s.%s", p->endpoints[i], host, port, uv_strerror(r),
                     r == UV_EADDRINUSE ? " Another program (a real Ollama?) listens there: stop it, or "
                                          "run the real server on another port and give that port as "
                                          "the plan's endpoint (the proxy forwards to it)"
                                        : "");
            rc = -1;
        }
        uv_close((uv_handle_t *)&t, on_close);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&loop);
    return rc;
}
