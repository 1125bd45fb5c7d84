#include "preflight.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *d;
    size_t n;
} buf;

static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
    buf *b = ud;
    size_t k = s * n;
    if (b->n + k > (16u << 20))
        return 0;
    char *d = realloc(b->d, b->n + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->n, p, k);
    b->d = d;
    b->n += k;
    b->d[b->n] = '\0';
    return k;
}

/* GET url/path; returns the parsed JSON body or NULL with why set. */
static cJSON *get_json(const char *base, const char *path, double timeout_s,
                       char *why, size_t whylen)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *e = curl_easy_init();
    buf b = {0};
    char eb[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    CURLcode rc = curl_easy_perform(e);
    long st = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(e);
    cJSON *j = NULL;
    if (rc != CURLE_OK)
        snprintf(why, whylen, "GET %s failed: %s", url, eb[0] ? eb : curl_easy_strerror(rc));
    else if (st != 200)
        snprintf(why, whylen, "GET %s answered HTTP %ld", url, st);
    else if (!(j = cJSON_ParseWithLength(b.d ? b.d : "", b.n)))
        snprintf(why, whylen, "GET %s: the answer is not JSON (is this an Ollama server?)", url);
    free(b.d);
    return j;
}

static int has_model(const cJSON *tags, const char *model)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(tags, "models"), *m;
    size_t ml = strlen(model);
    cJSON_ArrayForEach(m, ms) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
        if (!cJSON_IsString(n))
            n = cJSON_GetObjectItemCaseSensitive(m, "model");
        if (!cJSON_IsString(n))
            continue;
        /* Ollama accepts "gemma3" for "gemma3:latest". */
        if (strcmp(n->valuestring, model) == 0 ||
            (!strchr(model, ':') && strncmp(n->valuestring, model, ml) == 0 &&
             strcmp(n->valuestring + ml, ":latest") == 0))
            return 1;
    }
    return 0;
}

/* host:port of an http:// URL, for the advice text. */
static void hostport(const char *url, char *out, size_t len)
{
    const char *s = strstr(url, "://");
    s = s ? s + 3 : url;
    size_t n = strcspn(s, "/");
    snprintf(out, len, "%.*s", (int)n, s);
}

cJSON *pb_preflight(const pb_plan *p, const char *const *urls, double timeout_s,
                    char *err, size_t errlen)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < p->n_endpoints; i++) {
        char why[1200], hp[256];
        hostport(p->endpoints[i], hp, sizeof hp);
        cJSON *ver = get_json(urls[i], "/api/version", timeout_s, why, sizeof why);
        if (!ver) {
            snprintf(err, errlen,
                     "preflight: endpoint %s is not reachable: %s\n"
                     "  start an instance there: OLLAMA_HOST=%s ollama serve\n"
                     "  (or run against the built-in emulator: collect --emulate)",
                     p->endpoints[i], why, hp);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON *tags = get_json(urls[i], "/api/tags", timeout_s, why, sizeof why);
        if (!tags) {
            snprintf(err, errlen, "preflight: endpoint %s: %s", p->endpoints[i], why);
            cJSON_Delete(ver);
            cJSON_Delete(arr);
            return NULL;
        }
        for (int c = 0; c < p->n_configs; c++)
            for (int a = 0; a < p->configs[c].n_agents; a++) {
                const pb_agent_spec *ag = &p->configs[c].agents[a];
                if (ag->endpoint_index != i || has_model(tags, ag->model))
                    continue;
                snprintf(err, errlen,
                         "preflight: endpoint %s does not have model '%s' (GET %s/api/tags)\n"
                         "  pull it: OLLAMA_HOST=%s ollama pull %s",
                         p->endpoints[i], ag->model, urls[i], hp, ag->model);
                cJSON_Delete(ver);
                cJSON_Delete(tags);
                cJSON_Delete(arr);
                return NULL;
            }
        cJSON *ps = get_json(urls[i], "/api/ps", timeout_s, why, sizeof why);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "url", p->endpoints[i]);
        cJSON_AddStringToObject(o, "actual_url", urls[i]);
        cJSON_AddItemToObject(o, "version", ver);
        cJSON_AddItemToObject(o, "ps", ps ? ps : cJSON_CreateNull());
        cJSON_AddItemToArray(arr, o);
        cJSON_Delete(tags);
    }
    return arr;
}
