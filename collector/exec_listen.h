/* exec_listen: where the recording proxies of exec runtimes listen. By
 * default each proxy takes a free loopback port and the job names it; a
 * program that hard-codes its server's address (the `ollama` npm client
 * connects to 127.0.0.1:11434 and reads no variable; the study's harness
 * used 11434/11435) gets a proxy listening on that address instead, with
 * the real server elsewhere: plan "exec_listen": {"ENDPOINT": "HOST:PORT"},
 * --exec-listen ENDPOINT=HOST:PORT (data/EXEC.md). */
#ifndef PB_EXEC_LISTEN_H
#define PB_EXEC_LISTEN_H

#include <stddef.h>

#include "plan.h"

/* "HOST:PORT" (HOST an IPv4 address; ":PORT" = 127.0.0.1) into host and
 * port; -1 with err saying what is wrong. */
int pb_exec_listen_parse(const char *addr, char *host, size_t hostlen, int *port, char *err,
                         size_t errlen);

/* Each proxy address of the plan can be listened on now (bound and
 * released): 0, or -1 with err naming the address, the endpoint and what
 * to do. Run before anything is measured. No exec runtime: 0. */
int pb_exec_listen_check(const pb_plan *p, char *err, size_t errlen);

#endif
