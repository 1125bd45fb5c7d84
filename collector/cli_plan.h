/* cli_plan: a plan from the command line alone (--endpoint, --model,
 * --agents, --prompt, --num-predict), and any loaded plan written back as
 * a plan file (what `--dry-run` prints for such a command line). */
#ifndef PB_CLI_PLAN_H
#define PB_CLI_PLAN_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

#define PB_CLI_MAX_ENDPOINTS 64

typedef struct pb_cli_plan {
    const char *endpoints[PB_CLI_MAX_ENDPOINTS];
    int n_endpoints;
    const char *model;       /* NULL: gemma3:latest */
    int agents;              /* <= 0: one per endpoint */
    const char *prompt;      /* TEXT, or @FILE */
    int num_predict;         /* <= 0: none (the server's default length) */
    /* --server CMD: servers s1, s2, ... collect starts, used as endpoints
     * "server:s1", ... (instead of --endpoint). */
    const char *servers[PB_SERVER_MAX];
    int n_servers;
} pb_cli_plan;

/* The plan file text these flags describe (--server: the servers and their
 * endpoints) (agents spread round-robin over
 * the endpoints); the caller frees *json with free(). Returns 0, or -1 with
 * err saying which flag is wrong. */
int pb_cli_plan_build(const pb_cli_plan *c, char **json, char *err, size_t errlen);

/* A loadable plan file holding the first config of p with every agent
 * listed and every protocol setting explicit: loading it without flags
 * gives the same plan_hash. */
cJSON *pb_cli_plan_file_json(const pb_plan *p);

#endif
