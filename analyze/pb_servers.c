/* pb_servers: see pb_servers.h. */
#include "pb_servers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_derive.h"
#include "pb_json.h"
#include "pb_metrics.h"
#include "pb_ratio.h"
#include "pb_scaling.h"

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

/* Kind of the measured phase holding t: PB_PH_SOLO, PB_PH_CONC, or -1. */
static int phase_kind_at(const cJSON *phases, double t)
{
    const cJSON *ph = isfinite(t) ? measured_phase_at(phases, t) : NULL;
    const char *k = ph ? pb_json_str(ph, "kind") : NULL;
    return !k ? -1 : strcmp(k, "concurrent") == 0 ? PB_PH_CONC : PB_PH_SOLO;
}

/* GPU samples per kind of phase (mean and max utilisation, largest memory
 * used), and the first GPU's samples for the timeline. */
static void tel_gpu(const cJSON *root, pb_run_telemetry *t)
{
    const cJSON *g = pb_json_arr(pb_json_obj(pb_json_obj(root, "telemetry"), "gpu"), "samples");
    const cJSON *phases = pb_json_arr(root, "phases");
    int n = cJSON_GetArraySize(g);
    if (n <= 0)
        return;
    t->gpu_t = malloc((size_t)n * sizeof *t->gpu_t);
    t->gpu_util = malloc((size_t)n * sizeof *t->gpu_util);
    if (!t->gpu_t || !t->gpu_util) {
        free(t->gpu_t), free(t->gpu_util);
        t->gpu_t = t->gpu_util = NULL;
        return;
    }
    double sum[2] = {0, 0};
    int cnt[2] = {0, 0};
    const cJSON *x;
    cJSON_ArrayForEach(x, g) {
        double ts = pb_json_opt_num(x, "t_ns"), u = pb_json_opt_num(x, "util_pct");
        double mem = pb_json_opt_num(x, "mem_used_mib"), gi = pb_json_opt_num(x, "gpu");
        if (!isfinite(ts))
            continue;
        if (!(gi > 0) && isfinite(u)) {
            t->gpu_t[t->n_gpu] = ts / 1e9;
            t->gpu_util[t->n_gpu++] = u;
        }
        int k = phase_kind_at(phases, ts);
        if (k < 0)
            continue;
        if (isfinite(u)) {
            sum[k] += u;
            cnt[k]++;
            if (!(t->gpu_util_max[k] >= u))
                t->gpu_util_max[k] = u;
        }
        if (isfinite(mem) && !(t->gpu_mem_mib[k] >= mem))
            t->gpu_mem_mib[k] = mem;
    }
    for (int k = 0; k < 2; k++)
        if (cnt[k])
            t->gpu_util_mean[k] = sum[k] / cnt[k];
}

/* /api/ps per kind of phase: per endpoint its largest VRAM in use (sum of
 * the loaded models' size_vram in one sample), summed over endpoints; the
 * distinct model names. */
static void tel_ps(const cJSON *root, pb_run_telemetry *t)
{
    const cJSON *ps = pb_json_arr(pb_json_obj(root, "telemetry"), "ps");
    const cJSON *phases = pb_json_arr(root, "phases");
    enum { MAX_EP = 64 };
    const char *eps[MAX_EP];
    double vmax[MAX_EP][2];
    int nep = 0;
    char names[1024] = "";
    const cJSON *s;
    cJSON_ArrayForEach(s, ps) {
        const char *ep = pb_json_str(s, "endpoint");
        const cJSON *models = pb_json_arr(s, "models");
        int k = phase_kind_at(phases, pb_json_opt_num(s, "t_ns"));
        if (!ep || !models || k < 0)
            continue;
        int e = 0;
        while (e < nep && strcmp(eps[e], ep) != 0)
            e++;
        if (e == nep) {
            if (nep == MAX_EP)
                continue;
            eps[nep] = ep;
            vmax[nep][0] = vmax[nep][1] = NAN;
            nep++;
        }
        double v = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, models) {
            double sv = pb_json_opt_num(m, "size_vram");
            if (isfinite(sv))
                v += sv;
            const char *nm = pb_json_str(m, "name");
            /* Whole names only: "a" must not match inside "ab". */
            char pat[300];
            snprintf(pat, sizeof pat, ", %s,", nm ? nm : "");
            char have[1100];
            snprintf(have, sizeof have, ", %s,", names);
            size_t l = strlen(names);
            if (nm && !strstr(have, pat) && l + strlen(nm) + 3 < sizeof names)
                snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", nm);
        }
        if (!(vmax[e][k] >= v))
            vmax[e][k] = v;
    }
    for (int k = 0; k < 2; k++)
        for (int e = 0; e < nep; e++)
            if (isfinite(vmax[e][k]))
                t->ps_vram_mib[k] = (isfinite(t->ps_vram_mib[k]) ? t->ps_vram_mib[k] : 0) +
                                    vmax[e][k] / (1024.0 * 1024.0);
    if (names[0])
        t->models = strdup(names);
}

/* phases[].host of the measured phases: the largest load average, and the
 * steal share of all their CPU ticks together (a phase's share weighted by
 * its ticks, so a 3-tick phase cannot read 33% alone). */
static int tel_host(const cJSON *root, pb_run_telemetry *t)
{
    double steal = 0, ticks = 0;
    int any = 0;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, pb_json_arr(root, "phases")) {
        const char *k = pb_json_str(ph, "kind");
        const cJSON *h = pb_json_obj(ph, "host");
        if (!h || !k || strcmp(k, "warmup") == 0)
            continue;
        any = 1;
        double l0 = pb_json_opt_num(h, "loadavg_1m_start"), l1 = pb_json_opt_num(h, "loadavg_1m");
        double c = pb_json_opt_num(h, "cpus"), sp = pb_json_opt_num(h, "steal_pct");
        double tk = pb_json_opt_num(h, "stat_ticks");
        if (isfinite(l0) && !(t->host_load >= l0))
            t->host_load = l0;
        if (isfinite(l1) && !(t->host_load >= l1))
            t->host_load = l1;
        if (c > 0)
            t->host_cpus = c;
        if (isfinite(sp) && tk > 0) {
            steal += sp * tk;
            ticks += tk;
        }
    }
    if (ticks > 0)
        t->host_steal_pct = steal / ticks;
    return any;
}

static void telemetry_load(const cJSON *root, pb_run *run)
{
    const cJSON *tel = pb_json_obj(root, "telemetry");
    pb_run_telemetry *t = calloc(1, sizeof *t);
    if (!t)
        return;
    for (int k = 0; k < 2; k++)
        t->gpu_util_mean[k] = t->gpu_util_max[k] = t->gpu_mem_mib[k] = t->ps_vram_mib[k] = NAN;
    t->host_load = t->host_cpus = t->host_steal_pct = NAN;
    int host = tel_host(root, t);
    if (tel) {
        tel_gpu(root, t);
        tel_ps(root, t);
    }
    if (!tel && !host) {
        free(t);
        return;
    }
    run->tel = t;
}

void pb_servers_load(pb_run *run, const cJSON *root)
{
    run->server_setting = setting_text(root);
    const char *rule = pb_json_str(pb_json_obj(pb_json_obj(root, "server_processes"), "order"), "rule");
    run->server_order = rule ? strdup(rule) : NULL;
    run->model_events = model_events(root);
    telemetry_load(root, run);
}

/* ---- the answer per setting ------------------------------------------- */

/* The value of a one-key setting "KEY=V" as a number, else NAN. */
static double setting_value(const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || strchr(s, '+'))
        return NAN;
    char *end;
    double v = strtod(eq + 1, &end);
    return end != eq + 1 && *end == '\0' ? v : NAN;
}

static int cmp_setting(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    double vx = setting_value(x), vy = setting_value(y);
    size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
    if (isfinite(vx) && isfinite(vy) && kx == ky && strncmp(x, y, kx) == 0 && vx != vy)
        return (vx > vy) - (vx < vy);
    return strcmp(x, y);
}

long pb_servers_settings_index(const pb_settings *s, const char *name)
{
    for (size_t i = 0; i < s->n_names; i++)
        if (strcmp(s->names[i], name) == 0)
            return (long)i;
    return -1;
}

/* The config's name without the setting's "KEY=V" parts (collect names a
 * plan config c swept by --server-env `c+KEY=V`, and the config alone
 * `KEY=V`; an agent-count sweep appends "-n<N>", kept apart by N). */
static char *config_rest(const pb_run *r)
{
    const char *cfg = r->base_config ? r->base_config : r->config;
    char *out = calloc(strlen(cfg) + 1, 1), *tmp = strdup(cfg);
    if (!out || !tmp) {
        free(out), free(tmp);
        return NULL;
    }
    char set[1100];
    snprintf(set, sizeof set, "+%s+", r->server_setting);
    char *save, *tok;
    for (tok = strtok_r(tmp, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        char pat[600];
        snprintf(pat, sizeof pat, "+%s+", tok);
        if (strstr(set, pat))
            continue;
        if (out[0])
            strcat(out, "+");
        strcat(out, tok);
    }
    free(tmp);
    return out;
}

static int point_fill(const pb_dataset *ds, const pb_analysis *an, const pb_derived *dv,
                      size_t gi, pb_setting_point *p)
{
    const pb_group *g = &an->groups[gi];
    double *v = malloc((g->n + 1) * 3 * sizeof *v);
    if (!v)
        return -1;
    double *sp = v, *ef = v + g->n + 1, *th = v + 2 * (g->n + 1);
    int measured = 1;
    for (size_t k = 0; k < g->n; k++)
        measured &= isfinite(dv[g->runs[k]].meas_speedup);
    double gsum = 0;
    int gn = 0;
    p->gpu_util_mean = p->gpu_util_max = NAN;
    for (size_t k = 0; k < g->n; k++) {
        const pb_derived *d = &dv[g->runs[k]];
        const pb_run *r = &ds->runs[g->runs[k]];
        sp[k] = measured ? d->meas_speedup : d->est_speedup;
        ef[k] = measured ? d->meas_efficiency : d->est_efficiency;
        th[k] = pb_scaling_run_throughput(r);
        if (r->tel && isfinite(r->tel->gpu_util_mean[PB_PH_CONC])) {
            gsum += r->tel->gpu_util_mean[PB_PH_CONC];
            gn++;
            if (!(p->gpu_util_max >= r->tel->gpu_util_max[PB_PH_CONC]))
                p->gpu_util_max = r->tel->gpu_util_max[PB_PH_CONC];
        }
    }
    if (gn)
        p->gpu_util_mean = gsum / gn;
    p->group = gi;
    p->runs = g->n;
    p->eff_measured = measured;
    pb_metrics_summarize_ratio(sp, g->n, &p->speedup);
    pb_metrics_summarize_ratio(ef, g->n, &p->eff);
    pb_metrics_summarize_ratio(th, g->n, &p->throughput);
    p->verdict = pb_answer_verdict(p->speedup.n, p->speedup.ci_lo, p->speedup.ci_hi, 0);
    free(v);
    return 0;
}

int pb_servers_settings_build(const pb_dataset *ds, const pb_analysis *an,
                              const pb_derived *dv, pb_settings *out)
{
    memset(out, 0, sizeof *out);
    out->names = calloc(an->n_groups + 1, sizeof *out->names);
    char **rest = calloc(an->n_groups + 1, sizeof *rest);
    if (!out->names || !rest) {
        free(rest);
        pb_servers_settings_free(out);
        return -1;
    }
    int rc = 0;
    for (size_t gi = 0; gi < an->n_groups && rc == 0; gi++) {
        const pb_group *g = &an->groups[gi];
        const pb_run *r = g->n ? &ds->runs[g->runs[0]] : NULL;
        if (!r || !r->server_setting)
            continue;
        if (!(rest[gi] = config_rest(r)))
            rc = -1;
        else if (pb_servers_settings_index(out, r->server_setting) < 0)
            out->names[out->n_names++] = r->server_setting;
    }
    if (rc == 0 && out->n_names >= 2) {
        qsort(out->names, out->n_names, sizeof *out->names, cmp_setting);
        out->numeric = 1;
        for (size_t i = 0; i < out->n_names; i++)
            out->numeric &= isfinite(setting_value(out->names[i])) &&
                            strcspn(out->names[i], "=") == strcspn(out->names[0], "=") &&
                            strncmp(out->names[i], out->names[0], strcspn(out->names[0], "=")) == 0;
        /* Series: groups of one runtime, agent count and config rest, in
         * the analysis' order (runtime, then config). */
        for (size_t gi = 0; gi < an->n_groups && rc == 0; gi++) {
            if (!rest[gi])
                continue;
            const pb_group *g = &an->groups[gi];
            const pb_run *r = &ds->runs[g->runs[0]];
            pb_setting_series *s = NULL;
            for (size_t i = 0; i < out->n_series && !s; i++)
                if (strcmp(out->series[i].runtime, g->runtime) == 0 &&
                    out->series[i].n_agents == (double)r->n_agents &&
                    strcmp(out->series[i].rest, rest[gi]) == 0)
                    s = &out->series[i];
            if (!s) {
                pb_setting_series *ns = realloc(out->series, (out->n_series + 1) * sizeof *ns);
                if (!ns) {
                    rc = -1;
                    break;
                }
                out->series = ns;
                s = &out->series[out->n_series++];
                memset(s, 0, sizeof *s);
                s->runtime = g->runtime;
                s->n_agents = (double)r->n_agents;
                s->rest = rest[gi];
                rest[gi] = NULL;
                s->pts = calloc(out->n_names, sizeof *s->pts);
                if (!s->pts) {
                    rc = -1;
                    break;
                }
            }
            /* One point per setting: a series holds at most n_names. */
            if (s->n_points == out->n_names)
                continue;
            pb_setting_point *p = &s->pts[s->n_points++];
            p->setting = r->server_setting;
            rc = point_fill(ds, an, dv, gi, p);
        }
        /* Points in the names' order. */
        for (size_t i = 0; i < out->n_series && rc == 0; i++) {
            pb_setting_series *s = &out->series[i];
            for (size_t a = 1; a < s->n_points; a++)
                for (size_t b = a;
                     b > 0 && pb_servers_settings_index(out, s->pts[b - 1].setting) >
                                  pb_servers_settings_index(out, s->pts[b].setting);
                     b--) {
                    pb_setting_point t = s->pts[b];
                    s->pts[b] = s->pts[b - 1];
                    s->pts[b - 1] = t;
                }
        }
    }
    for (size_t gi = 0; gi < an->n_groups; gi++)
        free(rest[gi]);
    free(rest);
    if (rc != 0 || out->n_names < 2)
        pb_servers_settings_free(out);
    return rc;
}

void pb_servers_settings_free(pb_settings *s)
{
    for (size_t i = 0; i < s->n_series; i++) {
        free(s->series[i].rest);
        free(s->series[i].pts);
    }
    free(s->series);
    free(s->names);
    memset(s, 0, sizeof *s);
}
