#include "pb_csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_analysis.h"
#include "pb_fs.h"

static void str(FILE *f, const char *s)
{
    /* RFC 4180: quote when the field holds a comma, quote or line break. */
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
}

static const char *fmt_id(pb_source_format f)
{
    return f == PB_FMT_PARBENCH ? "parbench" :
           f == PB_FMT_TR115_RUST ? "tr115-rust" : "tr115-python";
}

static void summary_cols(FILE *f, const pb_summary *s)
{
    fprintf(f, "%zu,", s->n);
    double v[] = {s->mean, s->sd, s->min, s->max, s->median, s->ci_lo,
                  s->ci_hi, s->boot_lo, s->boot_hi};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        num(f, v[i]);
        fputc(',', f);
    }
}

#define SUMMARY_HDR(p) p "n," p "mean," p "sd," p "min," p "max," p "median," \
    p "ci_lo," p "ci_hi," p "boot_lo," p "boot_hi,"

static void write_runs(FILE *f, const pb_dataset *ds)
{
    fputs("path,format,runtime,config,run_index,valid,n_agents,wall_s,"
          "est_speedup,est_efficiency,meas_speedup,meas_efficiency,"
          "invalid_reason\n", f);
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *r = &ds->runs[i];
        str(f, r->path);
        fprintf(f, ",%s,", fmt_id(r->format));
        str(f, r->runtime);
        fputc(',', f);
        str(f, r->config);
        fprintf(f, ",%d,%d,%zu,", r->run_index, r->valid ? 1 : 0, r->n_agents);
        double v[] = {r->wall_s, r->est_speedup, r->est_efficiency,
                      r->meas_speedup, r->meas_efficiency};
        for (size_t k = 0; k < 5; k++) {
            num(f, v[k]);
            fputc(',', f);
        }
        str(f, r->invalid_reason);
        fputc('\n', f);
    }
}

static void write_groups(FILE *f, const pb_analysis *a)
{
    fputs("runtime,config," SUMMARY_HDR("eff_") "speedup_mean,speedup_sd\n", f);
    for (size_t i = 0; i < a->n_groups; i++) {
        const pb_group *g = &a->groups[i];
        str(f, g->runtime);
        fputc(',', f);
        str(f, g->config);
        fputc(',', f);
        summary_cols(f, &g->eff);
        num(f, g->speedup.mean);
        fputc(',', f);
        num(f, g->speedup.sd);
        fputc('\n', f);
    }
}

static void write_runtimes(FILE *f, const pb_dataset *ds, const pb_analysis *a)
{
    fputs("runtime,n_configs,cfgmeans_peak,cfgmeans_peak_config,cfgmeans_mean,"
          "cfgmeans_sd,cfgmeans_peak_speedup,cfg_sd_mean,most_stable_config,"
          "least_stable_config," SUMMARY_HDR("runs_")
          "runs_peak_config,runs_peak_run,runs_speedup_mean\n", f);
    for (size_t i = 0; i < a->n_rts; i++) {
        const pb_rt *r = &a->rts[i];
        str(f, r->runtime);
        fprintf(f, ",%zu,", r->n_groups);
        num(f, r->cfg_peak);
        fputc(',', f);
        str(f, r->cfg_peak_config);
        fputc(',', f);
        double v[] = {r->cfg_mean, r->cfg_sd, r->cfg_peak_speedup, r->cfg_mean_sd};
        for (size_t k = 0; k < 4; k++) {
            num(f, v[k]);
            fputc(',', f);
        }
        str(f, r->most_stable);
        fputc(',', f);
        str(f, r->least_stable);
        fputc(',', f);
        summary_cols(f, &r->eff);
        if (!isnan(r->run_peak)) {
            str(f, ds->runs[r->run_peak_idx].config);
            fprintf(f, ",%d,", ds->runs[r->run_peak_idx].run_index);
        } else {
            fputs(",,", f);
        }
        num(f, r->speedup.mean);
        fputc('\n', f);
    }
}

static int emit(const char *dir, const char *name, int which,
                const pb_dataset *ds, const pb_analysis *a, char *err,
                size_t errlen)
{
    char *buf = NULL, path[4096];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(err, errlen, "cannot build %s in memory", name);
        return -1;
    }
    if (which == 0)
        write_runs(f, ds);
    else if (which == 1)
        write_groups(f, a);
    else
        write_runtimes(f, ds, a);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = pb_fs_write_atomic(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

int pb_csv_write(const char *dir, const pb_dataset *ds, unsigned boot_reps,
                 uint64_t seed, char *err, size_t errlen)
{
    pb_analysis a;
    if (pb_analysis_build(ds, boot_reps, seed, NULL, &a) != 0) {
        snprintf(err, errlen, "out of memory computing statistics for CSV");
        return -1;
    }
    int rc = pb_csv_write_analysis(dir, ds, &a, err, errlen);
    pb_analysis_free(&a);
    return rc;
}

int pb_csv_write_analysis(const char *dir, const pb_dataset *ds,
                          const pb_analysis *a, char *err, size_t errlen)
{
    int rc = emit(dir, "runs.csv", 0, ds, a, err, errlen);
    if (!rc)
        rc = emit(dir, "groups.csv", 1, ds, a, err, errlen);
    if (!rc)
        rc = emit(dir, "runtimes.csv", 2, ds, a, err, errlen);
    return rc;
}
