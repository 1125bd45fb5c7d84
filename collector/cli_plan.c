#include "cli_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_fs.h"
#include "pb_mem.h"

int pb_cli_plan_build(const pb_cli_plan *c, char **json, char *err, size_t errlen)
{
    *json = NULL;
    if (c->n_endpoints <= 0 && c->n_servers <= 0) {
        snprintf(err, errlen, "give at least one --endpoint URL or --server CMD");
        return -1;
    }
    if (c->n_endpoints > 0 && c->n_servers > 0) {
        snprintf(err, errlen, "--endpoint and --server: give one or the other (--server "
                 "makes the endpoints of the servers collect starts)");
        return -1;
    }
    cJSON *servers = NULL;
    for (int i = 0; i < c->n_servers; i++) {
        cJSON *argv = pb_server_split(c->servers[i], err, errlen);
        if (!argv) {
            cJSON_Delete(servers);
            return -1;
        }
        char name[16];
        snprintf(name, sizeof name, "s%d", i + 1);
        if (!servers)
            servers = cJSON_CreateObject();
        cJSON *one = cJSON_AddObjectToObject(servers, name);
        cJSON_AddItemToObject(one, "command", argv);
    }

    if (!c->prompt) {
        snprintf(err, errlen, "%s needs --prompt TEXT (or --prompt @FILE)",
                 c->n_servers ? "--server" : "--endpoint");
        return -1;
    }
    char *text = NULL;
    if (c->prompt[0] == '@') {
        size_t len = 0;
        char e[600];
        if (pb_fs_read_all(c->prompt + 1, 16u << 20, &text, &len, e, sizeof e) != 0) {
            snprintf(err, errlen, "--prompt %s: %s", c->prompt, e);
            return -1;
        }
    } else {
        text = pb_mem_strdup(c->prompt);
    }
    if (!text[0]) {
        snprintf(err, errlen, "--prompt %s: the prompt is empty", c->prompt);
        free(text);
        cJSON_Delete(servers);
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", "cli");
    cJSON_AddStringToObject(root, "model", c->model ? c->model : "gemma3:latest");
    cJSON *agents = cJSON_AddArrayToObject(root, "agents");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", "agent");
    int n_ep = c->n_servers ? c->n_servers : c->n_endpoints;
    cJSON_AddNumberToObject(a, "count", c->agents > 0 ? c->agents : n_ep);
    /* A list is used round-robin by the plan's "count". */
    cJSON *eps = cJSON_AddArrayToObject(a, "endpoint");
    for (int i = 0; i < n_ep; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, PB_SERVER_PREFIX "s%d", i + 1);
        cJSON_AddItemToArray(eps, cJSON_CreateString(c->n_servers ? ref : c->endpoints[i]));
    }
    cJSON_AddStringToObject(a, "prompt", text);
    cJSON *opts = cJSON_AddObjectToObject(a, "options");
    if (c->num_predict > 0)
        cJSON_AddNumberToObject(opts, "num_predict", c->num_predict);
    cJSON_AddItemToArray(agents, a);
    if (servers)
        cJSON_AddItemToObject(root, "servers", servers);
    free(text);
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        PB_MEM_OOM();
    *json = strdup(s);
    cJSON_free(s);
    if (!*json)
        PB_MEM_OOM();
    return 0;
}

/* What an agent sends, in plan-file field order: the same in a count
 * sweep's single agent and in each agent of a config. */
static void add_request_fields(cJSON *o, const pb_agent_spec *a)
{
    cJSON_AddStringToObject(o, "api", a->api);
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddStringToObject(o, "prompt", a->prompt);
    cJSON_AddItemToObject(o, "options", cJSON_Duplicate(a->options, 1));
    if (cJSON_GetArraySize(a->headers) > 0)
        cJSON_AddItemToObject(o, "headers", cJSON_Duplicate(a->headers, 1));
}

static const cJSON *find_config(const cJSON *cfgs, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cfgs) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return it;
    }
    return NULL;
}

cJSON *pb_cli_plan_file_json(const pb_plan *p)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", p->name);
    cJSON_AddStringToObject(j, "out", p->out);
    cJSON_AddNumberToObject(j, "runs", p->runs);
    cJSON *rts = cJSON_AddArrayToObject(j, "runtimes");
    for (int i = 0; i < p->n_runtimes; i++)
        cJSON_AddItemToArray(rts, cJSON_CreateString(p->runtimes[i].label));
    cJSON_AddNumberToObject(j, "seed", (double)p->seed);
    cJSON_AddNumberToObject(j, "timeout_s", p->timeout_s);
    cJSON_AddNumberToObject(j, "chunk_bytes", (double)p->chunk_bytes);
    cJSON_AddBoolToObject(j, "warmup", p->warmup);
    cJSON_AddNumberToObject(j, "warmup_tokens", p->warmup_tokens);
    cJSON_AddBoolToObject(j, "solo", p->solo);
    cJSON_AddBoolToObject(j, "paired_seed", p->paired_seed);
    cJSON_AddBoolToObject(j, "reuse_connections", p->reuse_connections);
    if (p->emulate.enabled) {
        cJSON *e = cJSON_AddObjectToObject(j, "emulate");
        cJSON_AddBoolToObject(e, "enabled", 1);
        cJSON_AddBoolToObject(e, "ideal", p->emulate.ideal);
        if (p->emulate.shared_gpu >= 0)
            cJSON_AddBoolToObject(e, "shared_gpu", p->emulate.shared_gpu);
        cJSON_AddNumberToObject(e, "time_scale", p->emulate.time_scale);
        cJSON_AddNumberToObject(e, "num_parallel", p->emulate.num_parallel);
        if (p->emulate.trace)
            cJSON_AddStringToObject(e, "trace", p->emulate.trace);
        if (p->emulate.faults)
            cJSON_AddItemToObject(e, "faults", cJSON_Duplicate(p->emulate.faults, 1));
    }
    if (p->arrival != PB_ARRIVAL_TOGETHER) {
        cJSON *ar = pb_arrival_to_json(p->arrival, p->arrival_param);
        cJSON_DeleteItemFromObjectCaseSensitive(ar, "kind");
        cJSON_AddItemToObject(j, "arrival", ar);
    }
    if (p->target_ci_pct > 0) {
        cJSON_AddNumberToObject(j, "target_ci_pct", p->target_ci_pct);
        cJSON_AddNumberToObject(j, "max_runs", p->max_runs);
    }
    cJSON *ag = cJSON_AddArrayToObject(j, "agents");
    const pb_config *c = p->n_configs > 0 ? &p->configs[0] : NULL;
    if (c && p->n_counts > 1 && c->n_agents == 1) {
        /* A count sweep of --endpoint's one agent: the agent once, with the
         * list of counts and the endpoints it goes round-robin over. */
        const pb_agent_spec *a = &c->agents[0];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", a->id);
        cJSON *cn = cJSON_AddArrayToObject(o, "count");
        for (int i = 0; i < p->n_counts; i++)
            cJSON_AddItemToArray(cn, cJSON_CreateNumber(p->counts[i]));
        cJSON *eps = cJSON_AddArrayToObject(o, "endpoint");
        for (int i = 0; i < p->n_endpoints; i++)
            cJSON_AddItemToArray(eps, cJSON_CreateString(p->endpoints[i]));
        add_request_fields(o, a);
        cJSON_AddItemToArray(ag, o);
        c = NULL; /* configs: the default one */
    }
    for (int i = 0; c && i < c->n_agents; i++) {
        const pb_agent_spec *a = &c->agents[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", a->id);
        cJSON_AddStringToObject(o, "endpoint", a->endpoint);
        add_request_fields(o, a);
        cJSON_AddItemToArray(ag, o);
    }
    if (p->n_servers) {
        cJSON *sv = cJSON_AddObjectToObject(j, "servers");
        for (int i = 0; i < p->n_servers; i++) {
            cJSON *one = pb_server_spec_json(&p->servers[i]);
            /* The OLLAMA_HOST collect adds itself is not written back. */
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(one, "env"), "OLLAMA_HOST");
            if (cJSON_IsString(h) && strcmp(h->valuestring, "{host}") == 0 &&
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(one, "env")) == 1)
                cJSON_DeleteItemFromObjectCaseSensitive(one, "env");
            cJSON_AddItemToObject(sv, p->servers[i].name, one);
        }
    }
    int with_env = 0;
    for (int i = 0; i < p->n_configs; i++)
        with_env |= p->configs[i].server_env != NULL;
    if (with_env) {
        /* Every setting, once (a count sweep repeats each per count). */
        cJSON *cf = cJSON_AddArrayToObject(j, "configs");
        for (int i = 0; i < p->n_configs; i++) {
            if (find_config(cf, p->configs[i].base_name))
                continue;
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "name", p->configs[i].base_name);
            if (p->configs[i].server_env)
                cJSON_AddItemToObject(one, "server_env",
                                      cJSON_Duplicate(p->configs[i].server_env, 1));
            cJSON_AddItemToArray(cf, one);
        }
    } else if (c && strcmp(c->base_name, "default") != 0) {
        cJSON *cf = cJSON_AddArrayToObject(j, "configs");
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "name", c->base_name);
        cJSON_AddItemToArray(cf, one);
    }
    return j;
}
