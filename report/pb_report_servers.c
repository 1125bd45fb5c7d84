/* pb_report_servers: see pb_report_servers.h. */
#include "pb_report_servers.h"

#include <math.h>
#include <string.h>

#include "pb_md.h"

static void num_cell(FILE *o, double v, const char *fmt)
{
    fputs(" | ", o);
    if (isfinite(v))
        fprintf(o, fmt, v);
    else
        fputs("n/a", o);
}

/* "mean [lo, hi]" (the interval only when known). */
static void ci_cell(FILE *o, const pb_summary *s, int digits, const char *unit)
{
    fputs(" | ", o);
    if (s->n == 0 || !isfinite(s->mean)) {
        fputs("n/a", o);
        return;
    }
    fprintf(o, "%.*f%s", digits, s->mean, unit);
    if (isfinite(s->ci_lo) && isfinite(s->ci_hi))
        fprintf(o, " [%.*f, %.*f]", digits, s->ci_lo, digits, s->ci_hi);
}

static void series_label(FILE *o, const pb_setting_series *s)
{
    pb_md_escape(o, s->runtime);
    if (s->rest[0]) {
        fputs(", ", o);
        pb_md_escape(o, s->rest);
    }
}

/* Rows setting-major: runtimes of one setting are compared with each
 * other, and a setting's effect reads down the table. */
static void settings_table(FILE *o, const pb_settings *st, int full)
{
    fputs(full ? "| setting | runtime | N | runs | speedup [95% CI] | verdict | efficiency % "
                 "[95% CI] | aggregate tokens/s [95% CI] | GPU util. % mean / max |\n"
                 "|---|---|---:|---:|---:|---|---:|---:|---:|\n"
               : "| setting | runtime | N | n | speedup [95% CI] | verdict | efficiency % | "
                 "aggregate tokens/s | GPU util. % |\n"
                 "|---|---|---:|---:|---:|---|---:|---:|---:|\n", o);
    for (size_t k = 0; k < st->n_names; k++)
        for (size_t i = 0; i < st->n_series; i++) {
            const pb_setting_series *s = &st->series[i];
            for (size_t j = 0; j < s->n_points; j++) {
                const pb_setting_point *p = &s->pts[j];
                if (strcmp(p->setting, st->names[k]) != 0)
                    continue;
                fputs("| ", o);
                pb_md_escape(o, p->setting);
                fputs(" | ", o);
                series_label(o, s);
                fprintf(o, "%s | %.0f | %zu", p->eff_measured ? "" : " (estimated)",
                        s->n_agents, p->runs);
                ci_cell(o, &p->speedup, 2, "x");
                fprintf(o, " | %s", pb_answer_verdict_word(p->verdict));
                if (full) {
                    ci_cell(o, &p->eff, 1, "");
                    ci_cell(o, &p->throughput, 1, "");
                    fputs(" | ", o);
                    if (isfinite(p->gpu_util_mean))
                        fprintf(o, "%.0f / %.0f", p->gpu_util_mean, p->gpu_util_max);
                    else
                        fputs("n/a", o);
                } else {
                    num_cell(o, p->eff.mean, "%.1f");
                    num_cell(o, p->throughput.mean, "%.0f");
                    num_cell(o, p->gpu_util_mean, "%.0f");
                }
                fputs(" |\n", o);
            }
        }
    fputc('\n', o);
}

int pb_report_settings_answer(FILE *o, const pb_result *res)
{
    const pb_settings *st = &res->st;
    if (st->n_names < 2)
        return 0;
    fputs("The configs differ in the servers' settings (collect started the servers with "
          "them: `--server-env`, a config's `server_env`), so the answer is per setting; "
          "pooled over settings it would mix quantities that differ by design.\n\n", o);
    settings_table(o, st, 0);
    fputs("Speedup = time one after the other / time together (sum of the agents' solo "
          "durations / concurrent wall; N agents: ideal N), geometric mean over runs with its "
          "95% Student-t interval on the log scale; efficiency = speedup / N; aggregate "
          "tokens/s = the agents' concurrent tokens / concurrent wall (geometric mean); GPU "
          "util. = nvidia-smi's mean in the concurrent phases (n/a: not sampled). Verdict: "
          "*slower*/*faster* only when the whole interval is on one side of 1x, *the same* "
          "within 2%, else *inconclusive*. Intervals, GPU and VRAM per phase: the full "
          "report's Server settings.\n\n", o);
    return 1;
}

int pb_report_settings_chart(FILE *o, const pb_report_opts *op)
{
    if (op->res->st.n_names < 2 || !op->speedup_chart)
        return 0;
    const char *dir = op->charts_link ? op->charts_link : op->charts_dir;
    fputs("## Speedup and throughput per setting\n\n![Speedup and aggregate throughput "
          "against the server setting](", o);
    pb_md_link(o, dir, "settings", "png");
    fputs(")\n\n", o);
    return 1;
}

/* Means over a group's runs of the per-run telemetry of one kind of phase:
 * GPU utilisation (mean of the runs' means, largest sample), GPU memory
 * and /api/ps VRAM (largest), models (the first run's list). */
static void phase_row(FILE *o, const pb_dataset *ds, const pb_group *g, int k)
{
    double um = 0, ux = NAN, mem = NAN, vram = NAN;
    int n = 0;
    const char *models = NULL;
    for (size_t i = 0; i < g->n; i++) {
        const pb_run_telemetry *t = ds->runs[g->runs[i]].tel;
        if (!t)
            continue;
        if (isfinite(t->gpu_util_mean[k])) {
            um += t->gpu_util_mean[k];
            n++;
        }
        if (!(ux >= t->gpu_util_max[k]) && isfinite(t->gpu_util_max[k]))
            ux = t->gpu_util_max[k];
        if (!(mem >= t->gpu_mem_mib[k]) && isfinite(t->gpu_mem_mib[k]))
            mem = t->gpu_mem_mib[k];
        if (!(vram >= t->ps_vram_mib[k]) && isfinite(t->ps_vram_mib[k]))
            vram = t->ps_vram_mib[k];
        if (!models)
            models = t->models;
    }
    fputs("| ", o);
    pb_md_escape(o, g->runtime);
    fputs(" | ", o);
    pb_md_escape(o, g->config);
    fprintf(o, " | %s", k == PB_PH_CONC ? "concurrent" : "solo");
    num_cell(o, n ? um / n : NAN, "%.1f");
    num_cell(o, ux, "%.0f");
    num_cell(o, mem, "%.0f");
    num_cell(o, vram, "%.0f");
    fputs(" | ", o);
    pb_md_escape(o, models ? models : "n/a");
    fputs(" |\n", o);
}

static void section_phases(FILE *o, const pb_dataset *ds, const pb_analysis *a)
{
    int any = 0;
    for (size_t i = 0; i < ds->n_runs && !any; i++)
        any = ds->runs[i].tel && (ds->runs[i].tel->models ||
                                  isfinite(ds->runs[i].tel->gpu_util_mean[PB_PH_CONC]) ||
                                  isfinite(ds->runs[i].tel->gpu_mem_mib[PB_PH_CONC]));
    if (!any)
        return;
    fputs("### GPU, VRAM and models per phase\n\n"
          "From the telemetry collect sampled during each run (`telemetry` in the trace): per "
          "runtime, config and kind of measured phase, nvidia-smi's GPU utilisation (mean of "
          "the runs' means over the phase's samples; the largest sample), its largest memory "
          "used, the largest VRAM of the loaded models by `/api/ps` (size_vram summed over "
          "the endpoints) and the models loaded in the run's measured phases.\n\n"
          "| runtime | config | phase | GPU util. % mean | max | GPU memory MiB | VRAM "
          "(/api/ps) MiB | models |\n|---|---|---|---:|---:|---:|---:|---|\n", o);
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        int has = 0;
        for (size_t i = 0; i < g->n && !has; i++)
            has = ds->runs[g->runs[i]].tel != NULL;
        if (!has)
            continue;
        phase_row(o, ds, g, PB_PH_SOLO);
        phase_row(o, ds, g, PB_PH_CONC);
    }
    fputc('\n', o);
}

static void section_host(FILE *o, const pb_dataset *ds)
{
    double load = NAN, cpus = NAN, steal = NAN;
    size_t n = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run_telemetry *t = ds->runs[i].tel;
        if (!ds->runs[i].valid || !t || !isfinite(t->host_load))
            continue;
        n++;
        if (!(load >= t->host_load)) {
            load = t->host_load;
            cpus = t->host_cpus;
        }
        if (!(steal >= t->host_steal_pct) && isfinite(t->host_steal_pct))
            steal = t->host_steal_pct;
    }
    if (!n)
        return;
    fprintf(o, "### Host load\n\nOver the measured phases of %zu valid runs (`phases[].host`): "
               "the largest 1-minute load average %.2f on %.0f CPUs; the largest CPU steal "
               "share of a run ", n, load, cpus);
    if (isfinite(steal))
        fprintf(o, "%.1f%%", steal);
    else
        fputs("n/a", o);
    fprintf(o, ". The front page warns above the CPU count or %.0f%% steal.\n\n",
            PB_HOST_STEAL_WARN_PCT);
}

void pb_report_servers(FILE *o, const pb_report_opts *op)
{
    const pb_result *res = op->res;
    const pb_dataset *ds = res->ds;
    int settings = res->st.n_names >= 2, events = 0, tel = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        events |= ds->runs[i].model_events != NULL;
        tel |= ds->runs[i].tel != NULL;
    }
    if (!settings && !events && !tel)
        return;
    fputs("## Server settings\n\n", o);
    if (settings) {
        fputs("collect started the servers with each config's settings (`--server-env`, "
              "`server_env`). Per setting, runtime and agent count: the speedup (sum of the "
              "agents' solo durations / concurrent wall; the estimated one when runs lack solo "
              "phases), efficiency (speedup / N) and aggregate tokens/s (concurrent tokens / "
              "wall), geometric means over the valid runs with 95% Student-t intervals on the "
              "log scale (the front page's numbers)", o);
        const char *order = NULL;
        for (size_t i = 0; i < ds->n_runs && !order; i++)
            order = ds->runs[i].server_order;
        if (order) {
            /* Restarts follow the settings; the order says what ran next to what. */
            fputs(". Run order: ", o);
            pb_md_escape(o, order);
        }
        fputs(":\n\n", o);
        settings_table(o, &res->st, 1);
    }
    section_phases(o, ds, &res->an);
    section_host(o, ds);
    if (events) {
        fputs("Models loaded, reloaded or evicted while a measured phase ran (from the "
              "`/api/ps` samples; a reload alone can explain a slow run):\n\n", o);
        for (size_t i = 0; i < ds->n_runs; i++) {
            const pb_run *run = &ds->runs[i];
            if (!run->model_events)
                continue;
            fputs("- ", o);
            pb_md_escape(o, run->runtime);
            fputc('/', o);
            pb_md_escape(o, run->config);
            fprintf(o, " run %d: ", run->run_index);
            pb_md_escape(o, run->model_events);
            fputc('\n', o);
        }
        fputc('\n', o);
    }
}
