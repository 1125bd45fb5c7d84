/* plan_servers: see plan_servers.h. */
#include "plan_servers.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wordexp.h>

#include "pb_mem.h"
#include "pb_text.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

const char *pb_server_ref(const char *endpoint)
{
    size_t n = strlen(PB_SERVER_PREFIX);
    return endpoint && strncmp(endpoint, PB_SERVER_PREFIX, n) == 0 ? endpoint + n : NULL;
}

int pb_server_env_secret(const char *name)
{
    static const char *const words[] = {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD",
                                        "CREDENTIAL", "AUTH", "COOKIE", "PRIVATE"};
    char up[256];
    size_t i = 0;
    for (; name[i] && i < sizeof up - 1; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[i] = '\0';
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strstr(up, words[k]))
            return 1;
    return 0;
}

cJSON *pb_server_env_masked(const cJSON *env)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, env)
        cJSON_AddStringToObject(o, it->string, pb_server_env_secret(it->string) || !cJSON_IsString(it)
                                                   ? "***" : it->valuestring);
    return o;
}

/* An env name as the shell accepts one: [A-Za-z_][A-Za-z0-9_]*. */
static int env_name_ok(const char *s)
{
    if (!*s || isdigit((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

cJSON *pb_server_env_parse(const cJSON *v, const char *where, char *err, size_t errlen)
{
    if (!cJSON_IsObject(v)) {
        fail(err, errlen, "%s: \"server_env\" must be an object of VARIABLE: value", where);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        char val[64];
        const char *s = NULL;
        if (cJSON_IsString(it))
            s = it->valuestring;
        else if (cJSON_IsNumber(it))
            snprintf(val, sizeof val, "%.17g", it->valuedouble), s = val;
        else if (cJSON_IsBool(it))
            s = cJSON_IsTrue(it) ? "true" : "false";
        if (!env_name_ok(it->string) || !s || strchr(s, '\n')) {
            char q[300];
            fail(err, errlen, "%s: server_env \"%s\" must be a variable name with a one-line "
                 "string, number or boolean value", where, pb_text_quote(it->string, q, sizeof q));
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddStringToObject(o, it->string, s);
    }
    return o;
}

void pb_server_spec_free(pb_server_spec *s)
{
    free(s->name);
    for (int i = 0; i < s->argc; i++)
        free(s->argv[i]);
    free(s->argv);
    cJSON_Delete(s->env);
    memset(s, 0, sizeof *s);
}

/* The port index a template names ({host} 0, {host3} 3), scanning s; -2
 * when s has a malformed template, the highest index otherwise (-1: none). */
static int template_max(const char *s)
{
    int max = -1;
    for (const char *b = strchr(s, '{'); b; b = strchr(b + 1, '{')) {
        const char *w = b + 1;
        size_t l = strncmp(w, "host", 4) == 0 || strncmp(w, "port", 4) == 0 ? 4 : 0;
        if (!l)
            continue; /* a brace of the command's own (JSON, globs) */
        char *end;
        long k = isdigit((unsigned char)w[l]) ? strtol(w + l, &end, 10) : (end = (char *)w + l, 0);
        if (*end != '}')
            continue;
        if (k >= PB_SERVER_MAX_PORTS)
            return -2;
        if (k > max)
            max = (int)k;
    }
    return max;
}

int pb_server_spec_finish(pb_server_spec *s, char *err, size_t errlen)
{
    int max = -1;
    for (int i = 0; i < s->argc; i++) {
        int m = template_max(s->argv[i]);
        if (m == -2)
            return fail(err, errlen, "server %s: '%s' names a port beyond {port%d}", s->name,
                        s->argv[i], PB_SERVER_MAX_PORTS - 1);
        if (m > max)
            max = m;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, s->env) {
        int m = template_max(it->valuestring);
        if (m == -2)
            return fail(err, errlen, "server %s: env %s names a port beyond {port%d}", s->name,
                        it->string, PB_SERVER_MAX_PORTS - 1);
        if (m > max)
            max = m;
    }
    if (max < 0) {
        /* Nothing says where to listen: tell it as Ollama is told. */
        if (cJSON_GetObjectItemCaseSensitive(s->env, "OLLAMA_HOST"))
            return fail(err, errlen, "server %s: OLLAMA_HOST must contain {host} or {port} "
                        "(collect picks a free port), e.g. \"127.0.0.1:{port}\"", s->name);
        cJSON_AddStringToObject(s->env, "OLLAMA_HOST", "{host}");
        max = 0;
    }
    s->n_ports = max + 1;
    return 0;
}

int pb_servers_parse(const cJSON *servers, const char *origin, pb_server_spec **out, int *n,
                     char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsObject(servers) || cJSON_GetArraySize(servers) == 0)
        return fail(err, errlen, "%s: \"servers\" must be an object of NAME: {\"command\": "
                    "[...]} (e.g. {\"a\": {\"command\": [\"ollama\", \"serve\"]}})", origin);
    int cap = cJSON_GetArraySize(servers);
    if (cap > PB_SERVER_MAX)
        return fail(err, errlen, "%s: at most %d servers", origin, PB_SERVER_MAX);
    pb_server_spec *v = pb_mem_calloc((size_t)cap, sizeof *v);
    const cJSON *s;
    int k = 0;
    cJSON_ArrayForEach(s, servers) {
        char where[400], why[128], q[300];
        snprintf(where, sizeof where, "%s: servers.%s", origin,
                 pb_text_quote(s->string, q, sizeof q));
        pb_server_spec *x = &v[k++];
        x->ready_timeout_s = 60;
        x->stop_grace_s = 5;
        x->name = pb_mem_strdup(s->string);
        x->env = cJSON_CreateObject();
        if (pb_text_label_check(s->string, why, sizeof why) != 0 || strchr(s->string, ':')) {
            fail(err, errlen, "%s: the name %s; use letters, digits, '-' or '_'", where,
                 strchr(s->string, ':') ? "contains ':'" : why);
            goto bad;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, s) {
            if (strcmp(it->string, "command") && strcmp(it->string, "env") &&
                strcmp(it->string, "ready_timeout_s") && strcmp(it->string, "stop_grace_s")) {
                fail(err, errlen, "%s: unknown key \"%s\" (known: command, env, "
                     "ready_timeout_s, stop_grace_s)", where, pb_text_quote(it->string, q, sizeof q));
                goto bad;
            }
        }
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(s, "command");
        if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
            fail(err, errlen, "%s: \"command\" must be a non-empty array of strings, e.g. "
                 "[\"ollama\", \"serve\"]", where);
            goto bad;
        }
        x->argv = pb_mem_calloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof *x->argv);
        cJSON_ArrayForEach(it, cmd) {
            if (!cJSON_IsString(it) || (x->argc == 0 && !it->valuestring[0])) {
                fail(err, errlen, "%s: \"command\" entries must be strings (the first non-empty)",
                     where);
                goto bad;
            }
            x->argv[x->argc++] = pb_mem_strdup(it->valuestring);
        }
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(s, "env");
        if (env) {
            cJSON *e = pb_server_env_parse(env, where, err, errlen);
            if (!e)
                goto bad;
            cJSON_Delete(x->env);
            x->env = e;
        }
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(s, "ready_timeout_s");
        const cJSON *sg = cJSON_GetObjectItemCaseSensitive(s, "stop_grace_s");
        if ((rt && (!cJSON_IsNumber(rt) || !(rt->valuedouble >= 0.1 && rt->valuedouble <= 3600))) ||
            (sg && (!cJSON_IsNumber(sg) || !(sg->valuedouble >= 0 && sg->valuedouble <= 600)))) {
            fail(err, errlen, "%s: \"ready_timeout_s\" must be in [0.1, 3600] and "
                 "\"stop_grace_s\" in [0, 600] seconds", where);
            goto bad;
        }
        if (rt)
            x->ready_timeout_s = rt->valuedouble;
        if (sg)
            x->stop_grace_s = sg->valuedouble;
        if (pb_server_spec_finish(x, err, errlen) != 0)
            goto bad;
    }
    *out = v;
    *n = k;
    return 0;
bad:
    for (int i = 0; i < k; i++)
        pb_server_spec_free(&v[i]);
    free(v);
    return -1;
}

cJSON *pb_server_spec_json(const pb_server_spec *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *cmd = cJSON_AddArrayToObject(j, "command");
    for (int i = 0; i < s->argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(s->argv[i]));
    cJSON_AddItemToObject(j, "env", pb_server_env_masked(s->env));
    cJSON_AddNumberToObject(j, "ready_timeout_s", s->ready_timeout_s);
    cJSON_AddNumberToObject(j, "stop_grace_s", s->stop_grace_s);
    return j;
}

/* wordexp(3) refuses braces, so the templates travel through it under a
 * name it leaves alone and are put back afterwards. */
#define TPL_MARK "__pb_tpl_"

cJSON *pb_server_split(const char *cmd, char *err, size_t errlen)
{
    size_t n = strlen(cmd);
    char *hidden = malloc(n * 4 + 1), *d = hidden;
    if (!hidden)
        PB_MEM_OOM();
    for (const char *s = cmd; *s;) {
        if (*s == '{' && (strncmp(s + 1, "host", 4) == 0 || strncmp(s + 1, "port", 4) == 0)) {
            const char *e = s + 5;
            while (isdigit((unsigned char)*e))
                e++;
            if (*e == '}') {
                d += sprintf(d, TPL_MARK "%.*s__", (int)(e - s - 1), s + 1);
                s = e + 1;
                continue;
            }
        }
        *d++ = *s++;
    }
    *d = '\0';
    wordexp_t w;
    int rc = wordexp(hidden, &w, WRDE_NOCMD | WRDE_UNDEF);
    free(hidden);
    if (rc != 0) {
        fail(err, errlen, "--server '%s': %s", cmd,
             rc == WRDE_BADCHAR ? "contains | & ; < > ( ) { } or a newline: give one program "
                                  "and its arguments (wrap a pipeline in a script)"
             : rc == WRDE_CMDSUB ? "$(...) and `...` are not run: give the value itself"
             : rc == WRDE_BADVAL ? "names an environment variable that is not set"
             : rc == WRDE_SYNTAX ? "unbalanced quotes"
                                 : "cannot be split into words");
        if (rc != WRDE_NOSPACE && rc != WRDE_BADCHAR && rc != WRDE_SYNTAX)
            wordfree(&w);
        return NULL;
    }
    if (w.we_wordc == 0) {
        wordfree(&w);
        fail(err, errlen, "--server '%s': empty command", cmd);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < w.we_wordc; i++) {
        /* Put the templates back. */
        const char *s = w.we_wordv[i];
        char *o = malloc(strlen(s) + 1), *q = o;
        if (!o)
            PB_MEM_OOM();
        while (*s) {
            const char *m = strncmp(s, TPL_MARK, strlen(TPL_MARK)) == 0 ? s + strlen(TPL_MARK) : NULL;
            const char *e = m ? strstr(m, "__") : NULL;
            if (e) {
                q += sprintf(q, "{%.*s}", (int)(e - m), m);
                s = e + 2;
            } else {
                *q++ = *s++;
            }
        }
        *q = '\0';
        cJSON_AddItemToArray(arr, cJSON_CreateString(o));
        free(o);
    }
    wordfree(&w);
    return arr;
}

cJSON *pb_server_env_configs(const char *const *lists, int n, char *err, size_t errlen)
{
    cJSON *cfgs = cJSON_CreateArray();
    cJSON_AddItemToArray(cfgs, cJSON_CreateObject()); /* the empty product */
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(lists[i], '=');
        char key[128];
        if (!eq || (size_t)(eq - lists[i]) >= sizeof key || !eq[1]) {
            fail(err, errlen, "--server-env %s: give KEY=V1,V2,... (e.g. "
                 "OLLAMA_NUM_PARALLEL=1,2,4)", lists[i]);
            goto bad;
        }
        memcpy(key, lists[i], (size_t)(eq - lists[i]));
        key[eq - lists[i]] = '\0';
        if (!env_name_ok(key)) {
            fail(err, errlen, "--server-env %s: '%s' is not a variable name", lists[i], key);
            goto bad;
        }
        cJSON *next = cJSON_CreateArray();
        const cJSON *c;
        cJSON_ArrayForEach(c, cfgs) {
            for (const char *s = eq + 1; s;) {
                const char *e = strchr(s, ',');
                int l = e ? (int)(e - s) : (int)strlen(s);
                char val[256], name[1024];
                if (l == 0 || l >= (int)sizeof val) {
                    cJSON_Delete(next);
                    fail(err, errlen, "--server-env %s: an empty or over-long value", lists[i]);
                    goto bad;
                }
                snprintf(val, sizeof val, "%.*s", l, s);
                cJSON *x = cJSON_Duplicate(c, 1);
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(x, "name");
                snprintf(name, sizeof name, "%s%s%s=%s", cJSON_IsString(nm) ? nm->valuestring : "",
                         cJSON_IsString(nm) ? "+" : "", key, val);
                cJSON_DeleteItemFromObjectCaseSensitive(x, "name");
                cJSON_AddStringToObject(x, "name", name);
                cJSON *env = cJSON_GetObjectItemCaseSensitive(x, "server_env");
                if (!env)
                    env = cJSON_AddObjectToObject(x, "server_env");
                if (cJSON_GetObjectItemCaseSensitive(env, key)) {
                    cJSON_Delete(x);
                    cJSON_Delete(next);
                    fail(err, errlen, "--server-env %s: %s is given twice", lists[i], key);
                    goto bad;
                }
                cJSON_AddStringToObject(env, key, val);
                cJSON_AddItemToArray(next, x);
                s = e ? e + 1 : NULL;
            }
        }
        cJSON_Delete(cfgs);
        cfgs = next;
    }
    return cfgs;
bad:
    cJSON_Delete(cfgs);
    return NULL;
}
