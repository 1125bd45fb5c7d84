#include "preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "http.h"
#include "pb_mem.h"
#include "servers.h"

/* Ollama accepts "gemma3" for "gemma3:latest". */
static int id_matches(const char *id, const char *model)
{
    size_t ml = strlen(model);
    return strcmp(id, model) == 0 ||
           (!strchr(model, ':') && strncmp(id, model, ml) == 0 && strcmp(id + ml, ":latest") == 0);
}

static int has_model(const cJSON *ids, const char *model)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, ids)
        if (cJSON_IsString(m) && id_matches(m->valuestring, model))
            return 1;
    return 0;
}

/* "a, b, c" (at most ~40 ids), or "none". */
static void id_list(const cJSON *ids, char *out, size_t len)
{
    size_t k = 0;
    int n = 0;
    const cJSON *m;
    out[0] = '\0';
    cJSON_ArrayForEach(m, ids) {
        if (k + 8 >= len || n == 40) {
            snprintf(out + k, len - k, ", ...");
            return;
        }
        k += (size_t)snprintf(out + k, len - k, "%s%s", n++ ? ", " : "", m->valuestring);
        if (k >= len)
            return;
    }
    if (!n)
        snprintf(out, len, "none");
}

/* host:port of an http:// URL, for the advice text. */
static void hostport(const char *url, char *out, size_t len)
{
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t n = strcspn(s, "/");
    snprintf(out, len, "%.*s", (int)n, s);
}

/* The (endpoint, dialect) pairs of the plan, first-seen order. */
typedef struct pair {
    int endpoint;
    const pb_dialect *d;
} pair;

static pair *plan_pairs(const pb_plan *p, int *n_out)
{
    int cap = 8, n = 0;
    pair *v = pb_mem_alloc(sizeof *v * (size_t)cap);
    for (int c = 0; c < p->n_configs; c++)
        for (int a = 0; a < p->configs[c].n_agents; a++) {
            const pb_agent_spec *ag = &p->configs[c].agents[a];
            const pb_dialect *d = pb_dialect_find(ag->api);
            int seen = 0;
            for (int i = 0; i < n && !seen; i++)
                seen = v[i].endpoint == ag->endpoint_index && v[i].d == d;
            if (seen)
                continue;
            if (n == cap) {
                cap *= 2;
                pair *nv = pb_mem_realloc(v, sizeof *v * (size_t)cap);
                v = nv;
            }
            v[n++] = (pair){ag->endpoint_index, d};
        }
    *n_out = n;
    return v;
}

cJSON *pb_preflight_unprobed(const pb_plan *p, const char *const *urls)
{
    int n;
    pair *v = plan_pairs(p, &n);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, pb_servers_entry(urls[v[i].endpoint], v[i].d->name, NULL, NULL, NULL));
    free(v);
    return arr;
}

/* Checks one (endpoint, dialect) pair; 0 and the manifest / servers
 * entries, or -1 with err set. */
static int check_pair(const pb_plan *p, const char *const *urls, const pair *pr,
                      double timeout_s, const char *auth, cJSON *manifest,
                      cJSON *servers, char *err, size_t errlen)
{
    const pb_dialect *d = pr->d;
    const char *plan_url = p->endpoints[pr->endpoint], *url = urls[pr->endpoint];
    int ollama = strcmp(d->family, "ollama") == 0;
    char hp[256];
    hostport(plan_url, hp, sizeof hp);
    pb_http_answer ver = {0}, models = {0};
    int rc = -1;
    if (d->version_path && pb_http_get(url, d->version_path, auth, p->proxy, timeout_s, &ver) != 0) {
        snprintf(err, errlen,
                 "preflight: endpoint %s is not reachable: %s\n"
                 "  start an instance there: OLLAMA_HOST=%s ollama serve\n"
                 "  (or run against the built-in emulator: collect --emulate)",
                 plan_url, ver.why, hp);
        goto out;
    }
    if (pb_http_get(url, d->models_path, auth, p->proxy, timeout_s, &models) != 0) {
        size_t pl = strlen(plan_url);
        int ends_v1 = pl >= 3 && strcmp(plan_url + pl - 3, "/v1") == 0;
        if (models.status == 0 && !d->version_path)
            snprintf(err, errlen,
                     "preflight: endpoint %s is not reachable: %s\n"
                     "  start the server there, or check the URL", plan_url, models.why);
        else if (ends_v1 && models.status == 404)
            snprintf(err, errlen,
                     "preflight: endpoint %s: %s\n"
                     "  give the base URL without /v1 (collect appends %s)",
                     plan_url, models.why, d->path);
        else if (models.status == 401 || models.status == 403)
            snprintf(err, errlen,
                     "preflight: endpoint %s refused the request: %s\n"
                     "  give the API key with --api-key-env VAR (VAR holding the key)",
                     plan_url, models.why);
        else if (!ollama && models.status == 404)
            snprintf(err, errlen,
                     "preflight: endpoint %s does not speak the OpenAI API: %s\n"
                     "  give the server's base URL (without /v1), or use --api ollama "
                     "for Ollama's native API", plan_url, models.why);
        else
            snprintf(err, errlen, "preflight: endpoint %s: %s", plan_url, models.why);
        goto out;
    }
    cJSON *ids = d->model_ids(models.json);
    const char *first_model = NULL;
    for (int c = 0; c < p->n_configs; c++)
        for (int a = 0; a < p->configs[c].n_agents; a++) {
            const pb_agent_spec *ag = &p->configs[c].agents[a];
            if (ag->endpoint_index != pr->endpoint || pb_dialect_find(ag->api) != d)
                continue;
            if (!first_model)
                first_model = ag->model;
            if (has_model(ids, ag->model))
                continue;
            char list[2048];
            id_list(ids, list, sizeof list);
            /* The emulated instances serve the plan's models only: a typo
             * fails here, as against a real server. */
            if (p->emulate.enabled)
                snprintf(err, errlen,
                         "preflight: endpoint %s (emulated) does not have model '%s' (GET %s%s)\n"
                         "  it has: %s\n"
                         "  check the agent's \"model\", or list it in the plan's \"emulate\": {\"models\": [...]}",
                         plan_url, ag->model, url, d->models_path, list);
            else if (ollama)
                snprintf(err, errlen,
                         "preflight: endpoint %s does not have model '%s' (GET %s%s)\n"
                         "  it has: %s\n"
                         "  pull it: OLLAMA_HOST=%s ollama pull %s",
                         plan_url, ag->model, url, d->models_path, list, hp, ag->model);
            else
                snprintf(err, errlen,
                         "preflight: endpoint %s does not offer model '%s' (GET %s%s)\n"
                         "  it offers: %s\n"
                         "  give one of these with --model, or load the model on that server",
                         plan_url, ag->model, url, d->models_path, list);
            cJSON_Delete(ids);
            goto out;
        }
    /* A server that states its version elsewhere (Ollama's /v1): asked,
     * not required. */
    int probed = 0;
    if (!d->version_path && d->version_probe)
        probed = pb_http_get(url, d->version_probe, auth, p->proxy, timeout_s, &ver) == 0;
    cJSON *version = d->server_version(d->version_path || probed ? ver.json : NULL,
                                       models.json, first_model);
    /* The identity headers of the answer that came first. */
    const char *server = d->version_path ? ver.server : models.server;
    const char *emu = d->version_path ? ver.emulator : models.emulator;
    cJSON_AddItemToArray(servers, pb_servers_entry(url, d->name, server, version, emu));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "url", plan_url);
    cJSON_AddStringToObject(o, "actual_url", url);
    cJSON_AddStringToObject(o, "dialect", d->name);
    cJSON_AddItemToObject(o, "version", version ? version : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "models", ids);
    if (ollama) {
        pb_http_answer ps = {0};
        pb_http_get(url, "/api/ps", auth, p->proxy, timeout_s, &ps);
        cJSON_AddItemToObject(o, "ps", ps.json && ps.status == 200 ? cJSON_Duplicate(ps.json, 1)
                                                                   : cJSON_CreateNull());
        pb_http_answer_free(&ps);
    }
    cJSON_AddItemToArray(manifest, o);
    rc = 0;
out:
    pb_http_answer_free(&ver);
    pb_http_answer_free(&models);
    return rc;
}

cJSON *pb_preflight(const pb_plan *p, const char *const *urls, double timeout_s,
                    const char *auth_header, cJSON **servers, char *err, size_t errlen)
{
    int n;
    pair *v = plan_pairs(p, &n);
    cJSON *arr = cJSON_CreateArray();
    *servers = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        if (check_pair(p, urls, &v[i], timeout_s, auth_header, arr, *servers, err, errlen) != 0) {
            cJSON_Delete(arr);
            cJSON_Delete(*servers);
            *servers = NULL;
            free(v);
            return NULL;
        }
    free(v);
    return arr;
}
