/* exec_map: whose request is it? The recording proxy records every request
 * a program sends through its endpoints; this maps each record to the job
 * agent that sent it, or sets it aside with the reason it is no agent's
 * (data/EXEC.md, "Whose requests"), and says which agents the proxy saw no
 * request from (the program connected elsewhere, or skipped one).
 *
 * Ownership: pb_exec_map takes the records array and hands its items out
 * to *mine (the agents' requests, "agent" set, "step" for a workflow
 * agent's llm steps) and *other (no agent's, "stray" set); both are new
 * arrays the caller owns. *invalid is NULL or a malloc'ed reason. */
#ifndef PB_EXEC_MAP_H
#define PB_EXEC_MAP_H

#include <cjson/cJSON.h>

typedef struct pb_exec_agent_ref {
    const char *id;
    const char *request_id; /* its first request's X-Parbench-Request, or NULL */
    const char *model;
    int endpoint;           /* plan endpoint index */
    int n_llm;              /* llm steps (a workflow agent); 0 = one request */
    const int *llm_step;    /* their indices in the agent's steps */
} pb_exec_agent_ref;

/* labels: the plan endpoints, as the records' "endpoint" names them. */
void pb_exec_map(cJSON *records, const pb_exec_agent_ref *ag, int n, const char *const *labels,
                 int n_endpoints, cJSON **mine, cJSON **other, char **invalid);

#endif
