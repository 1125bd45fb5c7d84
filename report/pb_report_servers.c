/* pb_report_servers: see pb_report_servers.h. */
#include "pb_report_servers.h"

#include <math.h>

#include "pb_md.h"

void pb_report_servers(FILE *o, const pb_dataset *ds, const pb_analysis *a)
{
    int settings = 0, events = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        settings |= ds->runs[i].server_setting != NULL;
        events |= ds->runs[i].model_events != NULL;
    }
    if (!settings && !events)
        return;
    fputs("## Server settings\n\n", o);
    if (settings) {
        fputs("collect started the servers with each config's settings (`--server-env`, "
              "`server_env`). Per setting and runtime, the mean over its valid runs of the "
              "measured speedup (solo durations / concurrent wall) and efficiency (speedup / N)", o);
        const char *order = NULL;
        for (size_t i = 0; i < ds->n_runs && !order; i++)
            order = ds->runs[i].server_order;
        if (order) {
            /* Restarts follow the settings; the order says what ran next to what. */
            fputs(". Run order: ", o);
            pb_md_escape(o, order);
        }
        fputs(":\n\n", o);
        for (size_t r = 0; r < a->n_rts; r++) {
            const pb_rt *rt = &a->rts[r];
            for (size_t gi = rt->first_group; gi < rt->first_group + rt->n_groups; gi++) {
                const pb_group *g = &a->groups[gi];
                const char *set = NULL;
                double sp = 0, ef = 0, gu = 0, gmax = -INFINITY;
                int n = 0, ng = 0;
                for (size_t k = 0; k < g->n; k++) {
                    const pb_run *run = &ds->runs[g->runs[k]];
                    if (!run->server_setting || !isfinite(run->meas_speedup))
                        continue;
                    set = run->server_setting;
                    sp += run->meas_speedup;
                    ef += run->meas_efficiency;
                    n++;
                    if (isfinite(run->gpu_util_mean)) {
                        gu += run->gpu_util_mean;
                        gmax = run->gpu_util_max > gmax ? run->gpu_util_max : gmax;
                        ng++;
                    }
                }
                if (!n)
                    continue;
                fputs("- **", o);
                pb_md_escape(o, set);
                fputs("** (", o);
                pb_md_escape(o, rt->runtime);
                fprintf(o, "): measured speedup %.2fx, efficiency %.1f%% (mean of %d run%s)", sp / n,
                        ef / n, n, n == 1 ? "" : "s");
                if (ng)
                    fprintf(o, "; GPU utilisation in the concurrent phase: mean %.0f%%, max %.0f%%",
                            gu / ng, gmax);
                fputs("\n", o);
            }
        }
        fputc('\n', o);
    }
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
