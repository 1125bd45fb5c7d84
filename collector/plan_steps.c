/* plan_steps: parsing of workflow steps and agent-count lists (see
 * plan_steps.h and collector/README.md, "Workflow agents"). */
#include "plan_steps.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_fs.h"
#include "pb_mem.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void step_free(pb_step *s)
{
    free(s->api);
    free(s->prompt);
    cJSON_Delete(s->options);
    cJSON_Delete(s->headers);
}

void pb_steps_free(pb_step *s, int n)
{
    for (int i = 0; s && i < n; i++)
        step_free(&s[i]);
    free(s);
}

static int parse_llm(const cJSON *l, pb_step *s, const char *where, const char *base_dir,
                     char *err, size_t errlen)
{
    if (!cJSON_IsObject(l))
        return fail(err, errlen, "%s.llm must be an object with \"prompt\" or \"prompt_file\"", where);
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(l, "prompt");
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(l, "prompt_file");
    const cJSON *api = cJSON_GetObjectItemCaseSensitive(l, "api");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(l, "options");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(l, "headers");
    const cJSON *it;
    cJSON_ArrayForEach(it, l) {
        static const char *known[] = {"prompt", "prompt_file", "api", "options", "headers"};
        int ok = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            ok |= strcmp(it->string, known[k]) == 0;
        if (!ok)
            return fail(err, errlen, "%s.llm: unknown key \"%s\" (known: prompt, prompt_file, "
                        "api, options, headers)", where, it->string);
    }
    if ((pr && !cJSON_IsString(pr)) || (pf && !cJSON_IsString(pf)) || !pr == !pf)
        return fail(err, errlen, "%s.llm: give exactly one of \"prompt\" and \"prompt_file\" (strings)", where);
    /* The name is checked against the dialects by the plan (plan.c). */
    if (api && (!cJSON_IsString(api) || !api->valuestring[0]))
        return fail(err, errlen, "%s.llm: \"api\" must be a dialect name such as \"generate\"", where);
    if ((opts && !cJSON_IsObject(opts)) || (hdrs && !cJSON_IsObject(hdrs)))
        return fail(err, errlen, "%s.llm: \"options\" and \"headers\" must be objects", where);
    cJSON_ArrayForEach(it, hdrs) {
        if (!cJSON_IsString(it) || strpbrk(it->valuestring, "\r\n"))
            return fail(err, errlen, "%s.llm: header \"%s\" must be a one-line string", where, it->string);
    }
    if (pf) {
        char path[4096];
        if (pf->valuestring[0] == '/' || !base_dir)
            snprintf(path, sizeof path, "%s", pf->valuestring);
        else
            snprintf(path, sizeof path, "%s/%s", base_dir, pf->valuestring);
        char *buf = NULL;
        size_t len = 0;
        char e[512];
        if (pb_fs_read_all(path, 16u << 20, &buf, &len, e, sizeof e) != 0)
            return fail(err, errlen, "%s.llm: cannot read prompt_file: %s", where, e);
        s->prompt = buf;
    } else {
        s->prompt = pb_mem_strdup(pr->valuestring);
    }
    s->kind = PB_STEP_LLM;
    s->api = api ? pb_mem_strdup(api->valuestring) : NULL;
    s->options = opts ? cJSON_Duplicate(opts, 1) : cJSON_CreateObject();
    s->headers = hdrs ? cJSON_Duplicate(hdrs, 1) : cJSON_CreateObject();
    return 0;
}

static int parse_work(const cJSON *w, pb_step *s, const char *where, char *err, size_t errlen)
{
    if (!cJSON_IsObject(w))
        return fail(err, errlen, "%s.work must be an object such as {\"seconds\": 0.2}", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, w) {
        if (strcmp(it->string, "seconds") != 0 && strcmp(it->string, "cpu") != 0)
            return fail(err, errlen, "%s.work: unknown key \"%s\" (known: seconds, cpu)", where, it->string);
    }
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(w, "seconds");
    const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(w, "cpu");
    s->kind = PB_STEP_WORK;
    if (cpu && !cJSON_IsBool(cpu))
        return fail(err, errlen, "%s.work: \"cpu\" must be true or false", where);
    s->cpu = cJSON_IsTrue(cpu);
    /* One hour bounds a typo such as 2000 meant as ms. */
    if (cJSON_IsNumber(sec)) {
        if (!(sec->valuedouble >= 0 && sec->valuedouble <= 3600))
            return fail(err, errlen, "%s.work: \"seconds\" must be in [0, 3600]", where);
        s->seconds = sec->valuedouble;
        return 0;
    }
    if (cJSON_IsObject(sec)) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(sec, "dist");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(sec, "mean");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(sec, "sd");
        if (!cJSON_IsString(d) || strcmp(d->valuestring, "lognormal") != 0 ||
            !cJSON_IsNumber(m) || !cJSON_IsNumber(sd) || !(m->valuedouble > 0) ||
            !(m->valuedouble <= 3600) || !(sd->valuedouble >= 0) || !(sd->valuedouble <= 3600))
            return fail(err, errlen, "%s.work: \"seconds\" as an object must be "
                        "{\"dist\": \"lognormal\", \"mean\": M, \"sd\": S} with 0 < M <= 3600, "
                        "0 <= S <= 3600", where);
        s->seconds = m->valuedouble;
        s->sd = sd->valuedouble;
        return 0;
    }
    return fail(err, errlen, "%s.work: \"seconds\" is required: a number or "
                "{\"dist\": \"lognormal\", \"mean\": M, \"sd\": S}", where);
}

int pb_steps_parse(const cJSON *steps, const char *where, const char *base_dir,
                   pb_step **out, int *n_out, char *err, size_t errlen)
{
    *out = NULL;
    *n_out = 0;
    int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
    if (n < 1 || n > PB_STEPS_MAX)
        return fail(err, errlen, "%s: \"steps\" must be an array of 1 to %d steps", where, PB_STEPS_MAX);
    pb_step *s = pb_mem_calloc((size_t)n, sizeof *s);
    int k = 0, n_llm = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, steps) {
        char w[700];
        snprintf(w, sizeof w, "%s.steps[%d]", where, k);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(st, "llm");
        const cJSON *wk = cJSON_GetObjectItemCaseSensitive(st, "work");
        int rc;
        if (!cJSON_IsObject(st) || cJSON_GetArraySize(st) != 1 || (!l && !wk))
            rc = fail(err, errlen, "%s must be an object with one key, \"llm\" or \"work\"", w);
        else if (l)
            rc = parse_llm(l, &s[k], w, base_dir, err, errlen), n_llm++;
        else
            rc = parse_work(wk, &s[k], w, err, errlen);
        k++;
        if (rc != 0) {
            pb_steps_free(s, k);
            return -1;
        }
        /* {{previous}} before any llm step has nothing to stand for. */
        if (s[k - 1].kind == PB_STEP_LLM && n_llm == 1 && strstr(s[k - 1].prompt, PB_PREVIOUS_MARK)) {
            pb_steps_free(s, k);
            return fail(err, errlen, "%s: %s in the first llm step has no previous response",
                        w, PB_PREVIOUS_MARK);
        }
    }
    if (n_llm == 0) {
        pb_steps_free(s, n);
        return fail(err, errlen, "%s: \"steps\" needs at least one llm step", where);
    }
    *out = s;
    *n_out = n;
    return 0;
}

static void merge(cJSON *dst, const cJSON *src)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
        cJSON_AddItemToObject(dst, it->string, cJSON_Duplicate(it, 1));
    }
}

pb_step *pb_steps_build(const pb_step *src, int n, const cJSON *agent_opts,
                        const cJSON *agent_headers, const cJSON *const *overrides,
                        int n_overrides)
{
    pb_step *d = pb_mem_calloc((size_t)n, sizeof *d);
    for (int i = 0; i < n; i++) {
        d[i] = src[i];
        d[i].api = src[i].api ? pb_mem_strdup(src[i].api) : NULL;
        d[i].prompt = src[i].prompt ? pb_mem_strdup(src[i].prompt) : NULL;
        d[i].options = d[i].headers = NULL;
        if (src[i].kind != PB_STEP_LLM)
            continue;
        /* The config overrides the agent's options, the step's included:
         * a config such as num_ctx=1024 must reach every call. */
        d[i].options = agent_opts ? cJSON_Duplicate(agent_opts, 1) : cJSON_CreateObject();
        merge(d[i].options, src[i].options);
        for (int k = 0; k < n_overrides; k++)
            if (overrides[k])
                merge(d[i].options, overrides[k]);
        d[i].headers = agent_headers ? cJSON_Duplicate(agent_headers, 1) : cJSON_CreateObject();
        merge(d[i].headers, src[i].headers);
    }
    return d;
}

cJSON *pb_steps_to_json(const pb_step *s, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *j = cJSON_CreateObject();
        if (s[i].kind == PB_STEP_LLM) {
            cJSON *l = cJSON_AddObjectToObject(j, "llm");
            cJSON_AddStringToObject(l, "prompt", s[i].prompt);
            if (s[i].api)
                cJSON_AddStringToObject(l, "api", s[i].api);
            cJSON_AddItemToObject(l, "options", cJSON_Duplicate(s[i].options, 1));
            cJSON_AddItemToObject(l, "headers", cJSON_Duplicate(s[i].headers, 1));
        } else {
            cJSON *w = cJSON_AddObjectToObject(j, "work");
            if (s[i].sd > 0) {
                cJSON *d = cJSON_AddObjectToObject(w, "seconds");
                cJSON_AddStringToObject(d, "dist", "lognormal");
                cJSON_AddNumberToObject(d, "mean", s[i].seconds);
                cJSON_AddNumberToObject(d, "sd", s[i].sd);
            } else {
                cJSON_AddNumberToObject(w, "seconds", s[i].seconds);
            }
            cJSON_AddBoolToObject(w, "cpu", s[i].cpu);
        }
        cJSON_AddItemToArray(arr, j);
    }
    return arr;
}

int pb_steps_first_llm(const pb_step *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i].kind == PB_STEP_LLM)
            return i;
    return -1;
}

char *pb_steps_fill_prompt(const char *prompt, const char *prev, size_t prev_len)
{
    size_t ml = strlen(PB_PREVIOUS_MARK), marks = 0;
    for (const char *p = strstr(prompt, PB_PREVIOUS_MARK); p; p = strstr(p + ml, PB_PREVIOUS_MARK))
        marks++;
    size_t len = strlen(prompt) + marks * prev_len - marks * ml;
    char *out = malloc(len + 1), *w = out;
    if (!out)
        PB_MEM_OOM();
    for (const char *p = prompt;;) {
        const char *m = strstr(p, PB_PREVIOUS_MARK);
        size_t l = m ? (size_t)(m - p) : strlen(p);
        memcpy(w, p, l);
        w += l;
        if (!m)
            break;
        memcpy(w, prev, prev_len);
        w += prev_len;
        p = m + ml;
    }
    *w = '\0';
    return out;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int counts_check(int *counts, int n, int max_agents, const char *where,
                        char *err, size_t errlen)
{
    if (n < 1)
        return fail(err, errlen, "%s: give at least one agent count (e.g. 1,2,4,8)", where);
    qsort(counts, (size_t)n, sizeof *counts, cmp_int);
    for (int i = 0; i < n; i++) {
        if (counts[i] < 1 || counts[i] > max_agents)
            return fail(err, errlen, "%s: agent count %d is outside 1..%d", where, counts[i], max_agents);
        if (i > 0 && counts[i] == counts[i - 1])
            return fail(err, errlen, "%s: agent count %d is listed twice", where, counts[i]);
    }
    return 0;
}

int pb_counts_parse(const char *list, int *counts, int *n, int max_agents,
                    char *err, size_t errlen)
{
    *n = 0;
    const char *s = list;
    while (s && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || (*end != ',' && *end != '\0') || v < 1 || v > max_agents)
            return fail(err, errlen, "--agents: \"%s\" is not a comma-separated list of "
                        "agent counts in 1..%d (e.g. 1,2,4,8)", list, max_agents);
        if (*n == PB_COUNTS_MAX)
            return fail(err, errlen, "--agents: at most %d counts", PB_COUNTS_MAX);
        counts[(*n)++] = (int)v;
        s = *end ? end + 1 : NULL;
        if (s && !*s)
            return fail(err, errlen, "--agents: \"%s\" ends with a comma", list);
    }
    return counts_check(counts, *n, max_agents, "--agents", err, errlen);
}

int pb_counts_from_json(const cJSON *v, int *counts, int *n, int max_agents,
                        const char *where, char *err, size_t errlen)
{
    *n = 0;
    if (cJSON_IsNumber(v)) {
        counts[(*n)++] = (int)v->valuedouble;
        if (v->valuedouble != floor(v->valuedouble))
            return fail(err, errlen, "%s: \"count\" must be a whole number", where);
        return counts_check(counts, *n, max_agents, where, err, errlen);
    }
    if (!cJSON_IsArray(v))
        return fail(err, errlen, "%s: \"count\" must be a number or an array of numbers", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
            it->valuedouble < 1 || it->valuedouble > max_agents)
            return fail(err, errlen, "%s: \"count\" entries must be whole numbers in 1..%d",
                        where, max_agents);
        if (*n == PB_COUNTS_MAX)
            return fail(err, errlen, "%s: \"count\" has more than %d entries", where, PB_COUNTS_MAX);
        counts[(*n)++] = (int)it->valuedouble;
    }
    return counts_check(counts, *n, max_agents, where, err, errlen);
}

int pb_arrival_parse(const cJSON *v, const char *where, pb_arrival_kind *kind,
                     double *param, char *err, size_t errlen)
{
    *kind = PB_ARRIVAL_TOGETHER;
    *param = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(v, "stagger_s");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(v, "rate_per_s");
    if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) != 1 || (!st && !rt))
        return fail(err, errlen, "%s: \"arrival\" must be {\"stagger_s\": S} or "
                    "{\"rate_per_s\": R}", where);
    if (st) {
        if (!cJSON_IsNumber(st) || !(st->valuedouble >= 0 && st->valuedouble <= 3600))
            return fail(err, errlen, "%s: arrival.stagger_s must be seconds in [0, 3600]", where);
        *kind = st->valuedouble > 0 ? PB_ARRIVAL_STAGGER : PB_ARRIVAL_TOGETHER;
        *param = st->valuedouble;
        return 0;
    }
    if (!cJSON_IsNumber(rt) || !(rt->valuedouble > 0 && rt->valuedouble <= 1e6))
        return fail(err, errlen, "%s: arrival.rate_per_s must be a rate > 0 (agents per second)", where);
    *kind = PB_ARRIVAL_POISSON;
    *param = rt->valuedouble;
    return 0;
}

cJSON *pb_arrival_to_json(pb_arrival_kind kind, double param)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", kind == PB_ARRIVAL_STAGGER ? "stagger"
                                       : kind == PB_ARRIVAL_POISSON ? "poisson" : "together");
    if (kind == PB_ARRIVAL_STAGGER)
        cJSON_AddNumberToObject(j, "stagger_s", param);
    else if (kind == PB_ARRIVAL_POISSON)
        cJSON_AddNumberToObject(j, "rate_per_s", param);
    return j;
}
