/* pb_servers: see pb_servers.h. */
#include "pb_servers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json.h"

/* "KEY=V+KEY2=W" of the first server's settings (every server of a run has
 * the config's settings), NULL when there are none. */
static char *setting_text(const cJSON *root)
{
    const cJSON *procs = pb_json_arr(pb_json_obj(root, "server_processes"), "processes");
    const cJSON *set = pb_json_obj(cJSON_GetArrayItem(procs, 0), "settings");
    if (!set || !set->child)
        return NULL;
    char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, set)
        if (cJSON_IsString(it) && n < sizeof buf)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s=%s", n ? "+" : "",
                                  it->string, it->valuestring);
    return n ? strdup(buf) : NULL;
}

/* The measured phase holding time t (ns on the run's clock), or NULL. */
static const cJSON *measured_phase_at(const cJSON *phases, double t)
{
    const cJSON *ph;
    cJSON_ArrayForEach(ph, phases) {
        const char *k = pb_json_str(ph, "kind");
        double s = pb_json_opt_num(ph, "start_ns"), e = pb_json_opt_num(ph, "end_ns");
        if (k && strcmp(k, "warmup") != 0 && t >= s && t <= e)
            return ph;
    }
    return NULL;
}

static const cJSON *find_model(const cJSON *models, const char *name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        const char *n = pb_json_str(m, "name");
        if (n && strcmp(n, name) == 0)
            return m;
    }
    return NULL;
}

static void event(char *buf, size_t len, int *n, const cJSON *ph, const char *model,
                  const char *what, const char *endpoint, double t_ns)
{
    size_t l = strlen(buf);
    if (*n == 3) /* enough to explain a slow run; the trace has the rest */
        snprintf(buf + l, len - l, "; ...");
    else if (*n < 3)
        snprintf(buf + l, len - l, "%s%s %s during %s (%s, %.2f s)", *n ? "; " : "", model, what,
                 pb_json_str(ph, "name") ? pb_json_str(ph, "name") : "?", endpoint, t_ns / 1e9);
    (*n)++;
}

/* Between two successive /api/ps samples of one endpoint, the second inside
 * a measured phase: a model that vanished was evicted (or expired), one
 * that appeared was loaded, one whose context length or VRAM size changed
 * was reloaded (Ollama reloads on another num_ctx). */
static char *model_events(const cJSON *root)
{
    const cJSON *ps = pb_json_arr(pb_json_obj(root, "telemetry"), "ps");
    const cJSON *phases = pb_json_arr(root, "phases");
    if (!ps || !phases)
        return NULL;
    char buf[1200] = "";
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, ps) {
        const char *ep = pb_json_str(s, "endpoint");
        const cJSON *cur = pb_json_arr(s, "models");
        if (!ep || !cur)
            continue;
        /* The previous sample of the same endpoint (samples are in time
         * order per endpoint: one thread takes them). */
        const cJSON *prev = NULL, *q;
        for (q = s->prev; q && q != s && q->next; q = q->prev) {
            const char *qe = pb_json_str(q, "endpoint");
            if (qe && strcmp(qe, ep) == 0 && pb_json_arr(q, "models")) {
                prev = pb_json_arr(q, "models");
                break;
            }
        }
        double t = pb_json_opt_num(s, "t_ns");
        const cJSON *ph = isfinite(t) ? measured_phase_at(phases, t) : NULL;
        if (!prev || !ph)
            continue;
        const cJSON *m;
        cJSON_ArrayForEach(m, prev) {
            const char *name = pb_json_str(m, "name");
            const cJSON *now = name ? find_model(cur, name) : NULL;
            if (name && !now)
                event(buf, sizeof buf, &n, ph, name, "evicted", ep, t);
            else if (name && (pb_json_opt_num(m, "context_length") != pb_json_opt_num(now, "context_length") ||
                              pb_json_opt_num(m, "size_vram") != pb_json_opt_num(now, "size_vram")))
                event(buf, sizeof buf, &n, ph, name, "reloaded", ep, t);
        }
        cJSON_ArrayForEach(m, cur) {
            const char *name = pb_json_str(m, "name");
            if (name && !find_model(prev, name))
                event(buf, sizeof buf, &n, ph, name, "loaded", ep, t);
        }
    }
    return n ? strdup(buf) : NULL;
}

static void gpu_util(const cJSON *root, pb_run *run)
{
    run->gpu_util_mean = run->gpu_util_max = NAN;
    const cJSON *g = pb_json_arr(pb_json_obj(pb_json_obj(root, "telemetry"), "gpu"), "samples");
    const cJSON *ph, *conc = NULL;
    cJSON_ArrayForEach(ph, pb_json_arr(root, "phases")) {
        const char *k = pb_json_str(ph, "kind");
        if (k && strcmp(k, "concurrent") == 0)
            conc = ph;
    }
    if (!g || !conc)
        return;
    double s = pb_json_opt_num(conc, "start_ns"), e = pb_json_opt_num(conc, "end_ns");
    double sum = 0, max = -INFINITY;
    int n = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, g) {
        double t = pb_json_opt_num(x, "t_ns"), u = pb_json_opt_num(x, "util_pct");
        if (t >= s && t <= e && isfinite(u)) {
            sum += u;
            max = u > max ? u : max;
            n++;
        }
    }
    if (n) {
        run->gpu_util_mean = sum / n;
        run->gpu_util_max = max;
    }
}

void pb_servers_load(pb_run *run, const cJSON *root)
{
    run->server_setting = setting_text(root);
    const char *rule = pb_json_str(pb_json_obj(pb_json_obj(root, "server_processes"), "order"), "rule");
    run->server_order = rule ? strdup(rule) : NULL;
    run->model_events = model_events(root);
    gpu_util(root, run);
}
