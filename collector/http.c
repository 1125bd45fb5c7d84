/* http: a blocking GET of a JSON answer (see http.h). */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pb_mem.h"

typedef struct body {
    char *d;
    size_t n;
} body;

static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
    body *b = ud;
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

/* The value of header line `line` when its name is `name`, trimmed, as a
 * new string; NULL otherwise. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return NULL;
    const char *v = line + nl + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    char *s = pb_mem_alloc((size_t)(e - v) + 1);
    memcpy(s, v, (size_t)(e - v));
    s[e - v] = '\0';
    return s;
}

static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
    pb_http_answer *a = ud;
    size_t k = s * n;
    char *v;
    /* A later header block (after a redirect or 100) replaces an earlier one. */
    if ((v = header_value(p, k, "Server"))) {
        free(a->server);
        a->server = v;
    } else if ((v = header_value(p, k, "X-Parbench-Emulator"))) {
        free(a->emulator);
        a->emulator = v;
    }
    return k;
}

int pb_http_get(const char *base, const char *path, const char *auth_header,
                const char *proxy, double timeout_s, pb_http_answer *a)
{
    memset(a, 0, sizeof *a);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(a->why, sizeof a->why, "GET %s: cannot set up a libcurl request", url);
        return -1;
    }
    body b = {0};
    char eb[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = auth_header ? curl_slist_append(NULL, auth_header) : NULL;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, proxy ? proxy : ""); /* as the sweep */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    if (h)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        a->status = 0;
        snprintf(a->why, sizeof a->why, "GET %s failed: %s", url, eb[0] ? eb : curl_easy_strerror(rc));
    } else if (!(a->json = cJSON_ParseWithLength(b.d ? b.d : "", b.n))) {
        snprintf(a->why, sizeof a->why, "GET %s: HTTP %ld and the answer is not JSON", url, a->status);
    } else if (a->status != 200) {
        snprintf(a->why, sizeof a->why, "GET %s answered HTTP %ld", url, a->status);
    }
    free(b.d);
    return a->why[0] ? -1 : 0;
}

void pb_http_answer_free(pb_http_answer *a)
{
    cJSON_Delete(a->json);
    free(a->server);
    free(a->emulator);
    memset(a, 0, sizeof *a);
}
