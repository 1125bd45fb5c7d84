/* pb_charts: the report's charts as gnuplot scripts + data, rendered to PNG
 * and SVG when gnuplot is installed. Every chart NAME leaves NAME.gp,
 * NAME.dat, NAME.png and NAME.svg in the charts directory; the script loops
 * over both formats so one edit restyles both. Charts are described in
 * report/README.md ("Charts"). Only valid runs are drawn. */
#include "pb_charts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "pb_analysis.h"
#include "pb_answer.h"
#include "pb_derive.h"
#include "pb_exec.h"
#include "pb_fs.h"
#include "pb_gnuplot.h"
#include "pb_md.h"
#include "pb_scaling.h"
#include "pb_servers.h"
#include "pb_stats.h"

/* ---- labels: distinct runtimes, sorted by name (pb_analysis order) ---- */

typedef struct labels { const char **v; size_t n; } labels;

/* ---- the three efficiency definitions, as columns of pb_derived ------- */

typedef struct kind {
    const char *name;
    size_t eff, spd;   /* offsets into pb_derived */
    int pt;            /* gnuplot point type */
    const char *id;    /* the efficiency's PB_METRICS id (its summaries) */
} kind;

static const kind KINDS[] = {
    {"estimated (original)", offsetof(pb_derived, est_efficiency),
     offsetof(pb_derived, est_speedup), 7, "est_efficiency"},
    {"measured (solo phases)", offsetof(pb_derived, meas_efficiency),
     offsetof(pb_derived, meas_speedup), 5, "meas_efficiency"},
    {"vs sequential reference", offsetof(pb_derived, ref_efficiency),
     offsetof(pb_derived, ref_speedup), 9, "ref_efficiency"},
};
enum { NKINDS = sizeof KINDS / sizeof KINDS[0] };

static double col(const pb_derived *d, size_t off) {
    return *(const double *)((const char *)d + off);
}

/* ---- one chart being written ------------------------------------------ */

typedef struct chart {
    const char *dir, *name;
    char *dat, *body;
    size_t datlen, bodylen;
    FILE *d, *b;       /* memstreams: data blocks, plot commands */
    int blocks;        /* data blocks begun (gnuplot "index" of the next) */
    const char *note;  /* a line printed at the bottom (time scale), or NULL */
    int terms;         /* terms in the current plot command */
    int w, h;
} chart;

static int chart_open(chart *c, const char *dir, const char *name, int w, int h) {
    memset(c, 0, sizeof *c);
    c->dir = dir;
    c->name = name;
    c->w = w;
    c->h = h;
    c->d = open_memstream(&c->dat, &c->datlen);
    c->b = open_memstream(&c->body, &c->bodylen);
    return (c->d && c->b) ? 0 : -1;
}

static void chart_discard(chart *c) {
    if (c->d) fclose(c->d);
    if (c->b) fclose(c->b);
    free(c->dat);
    free(c->body);
    memset(c, 0, sizeof *c);
}

/* Starts a data block; returns its gnuplot index. The comment names what
 * the block holds so a reader of NAME.dat can find their way. */
static int block_begin(chart *c, const char *what, const char *label) {
    if (c->blocks > 0) fputs("\n\n", c->d); /* two blank lines: next index */
    fprintf(c->d, "# index %d: %s ", c->blocks, what);
    for (const char *p = label ? label : ""; *p; p++)
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, c->d);
    fputc('\n', c->d);
    return c->blocks++;
}

static void plot_begin(chart *c) {
    fputs("plot ", c->b);
    c->terms = 0;
}

static void plot_term(chart *c, const char *fmt, ...) {
    if (c->terms++ > 0) fputs(", \\\n     ", c->b);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->b, fmt, ap);
    va_end(ap);
}

static void plot_end(chart *c) { fputc('\n', c->b); }

/* A gnuplot "title '...'" clause for a label. */
static void title(chart *c, const char *s) {
    fputs(" title ", c->b);
    pb_gnuplot_quote(c->b, s);
}

static int write_file(const char *dir, const char *name, const char *ext,
                      const void *data, size_t len) {
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    if (pb_fs_write_derived(path, data, len, err, sizeof err) != 0) {
        fprintf(stderr, "analyze: charts: %s (check that --charts points to "
                "a writable directory)\n", err);
        return -1;
    }
    return 0;
}

/* Writes NAME.dat and NAME.gp. The script renders both formats from one
 * body, so it is self-contained: `cd DIR && gnuplot NAME.gp`. */
static int chart_save(chart *c, const char *caption) {
    fflush(c->d);
    fflush(c->b);
    char *gp = NULL;
    size_t gplen = 0;
    FILE *g = open_memstream(&gp, &gplen);
    if (!g) return -1;
    fprintf(g,
            "# %s -- written by parbench analyze; re-render with:\n"
            "#   gnuplot %s.gp   (in this directory)\n"
            "# Data: %s.dat (blocks selected with `index`).\n"
            "do for [fmt in \"png svg\"] {\n"
            "if (fmt eq \"png\") {\n"
            "  set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n"
            "} else {\n"
            "  set terminal svg size %d,%d noenhanced font 'sans,10' background rgb 'white'\n"
            "}\n"
            "set output '%s.'.fmt\n"
            "reset\n"
            "set termoption noenhanced\n"
            "set datafile missing NaN\n"
            "set key outside right top\n"
            "set grid ytics lc rgb '#dddddd'\n",
            caption, c->name, c->name, c->w, c->h, c->w, c->h, c->name);
    if (c->note) {
        /* Emulated data: durations and rates are scaled; a reader of the
         * PNG alone must see it, not only a reader of the report. */
        fputs("set label 99 ", g);
        pb_gnuplot_quote(g, c->note);
        /* At the top, above the title: the bottom belongs to keys and
         * axis labels (the timeline's key sits there). */
        fputs(" at screen 0.5, screen 0.975 center font ',8' tc rgb '#555555'\n"
              "set tmargin 4\n", g);
    }
    fprintf(g, "%s"
            "unset output\n"
            "}\n", c->body ? c->body : "");
    fclose(g);
    int rc = write_file(c->dir, c->name, "dat", c->dat, c->datlen);
    if (rc == 0) rc = write_file(c->dir, c->name, "gp", gp, gplen);
    free(gp);
    return rc;
}

/* xtics from a label list at positions 1..n. */
static void xtics_labels(chart *c, const labels *l, int rotate) {
    fputs("set xtics (", c->b);
    for (size_t i = 0; i < l->n; i++) {
        if (i) fputs(", ", c->b);
        pb_gnuplot_quote(c->b, l->v[i]);
        fprintf(c->b, " %zu", i + 1);
    }
    fputs(")", c->b);
    if (rotate) fputs(" rotate by 30 right", c->b);
    fputs("\n", c->b);
}

/* ---- chart context ---------------------------------------------------- */

/* Runs are reached through the analysis' grouping, never by scanning all
 * runs per runtime or per group: by_rt lists runtime r's valid runs in data
 * set order as by_rt[rt_off[r] .. rt_off[r+1]), so every chart is linear in
 * the runs (the 100 000-run benchmark). */
typedef struct ctx {
    const pb_dataset *ds;
    const pb_derived *dv;
    const pb_analysis *an;
    size_t *rt_off, *by_rt;
    labels rt;
    int has_kind[NKINDS];
    const char *dir;
    const pb_answer *ans;       /* the report's answer (headline chart) */
    const pb_scaling *sc;       /* agent-count series */
    const pb_result *res;       /* the metrics' summaries */
    const pb_report_opts *op;   /* config abbreviations */
} ctx;

static int usable(const ctx *x, size_t i) {
    return x->ds->runs[i].valid && x->ds->runs[i].runtime && x->ds->runs[i].config;
}

/* ---- 1. efficiency distribution per runtime --------------------------- */

/* ---- 0. the headline: measured speedup per runtime with its interval --- */

/* An agent-count sweep: the answer per N, one series per runtime, against
 * N on log scales with the ideal speedup = N (a speedup pooled over N
 * against "N x perfect overlap" mixed different quantities). */
static int chart_speedup_n(const ctx *x, chart *c) {
    const pb_answer *a = x->ans;
    double maxn = 1, lo = 1, hi = 1;
    size_t shown = 0;
    for (size_t r = 0; r < a->n_rts; r++) {
        const pb_answer_rt *t = &a->rts[r];
        if (!t->estimator || !(t->estimate > 0) || pb_answer_self_ref(t)) continue;
        shown++;
        if (t->n_agents > maxn) maxn = t->n_agents;
        double l = isfinite(t->lo) && t->lo > 0 ? t->lo : t->estimate;
        double h = isfinite(t->hi) ? t->hi : t->estimate;
        if (l < lo) lo = l;
        if (h > hi) hi = h;
    }
    if (shown == 0) return 1;
    if (maxn > hi) hi = maxn;
    fputs("set title 'Measured speedup against the number of agents: together vs one after "
          "the other (estimate and 95% CI, log scales)'\n"
          "set xlabel 'agents (N)'\nset ylabel 'speedup (x)'\nset logscale xy 2\n"
          "set bars 1.5\nset key inside top left\n", c->b);
    fprintf(c->b, "set xrange [0.8:%g]\nset yrange [%g:%g]\n", maxn * 1.25, lo / 1.25,
            hi * 1.25);
    plot_begin(c);
    plot_term(c, "x with lines dt 2 lw 2 lc rgb '#2ca02c' title 'ideal: speedup = N'");
    plot_term(c, "1 with lines dt 3 lw 2 lc rgb '#d62728' title '1x: one after the other'");
    size_t nrt = x->rt.n;
    for (size_t rt = 0; rt < nrt; rt++) {
        int blk = -1;
        double off = pow(2, 0.08 * ((double)rt - ((double)nrt - 1) / 2));
        for (size_t r = 0; r < a->n_rts; r++) {
            const pb_answer_rt *t = &a->rts[r];
            if (t->rt != rt || !t->estimator || !(t->estimate > 0) || pb_answer_self_ref(t))
                continue;
            if (blk < 0) {
                blk = block_begin(c, "N speedup ci_lo ci_hi n x_drawn", t->runtime);
            }
            fprintf(c->d, "%.0f %.9g %.9g %.9g %zu %.9g\n", t->n_agents, t->estimate,
                    isfinite(t->lo) && t->lo > 0 ? t->lo : t->estimate,
                    isfinite(t->hi) ? t->hi : t->estimate, t->n, t->n_agents * off);
        }
        if (blk < 0) continue;
        plot_term(c, "'%s.dat' index %d using 6:2:3:4 with yerrorlines pt 7 lw 2 lc %zu",
                  c->name, blk, rt + 1);
        title(c, x->rt.v[rt]);
    }
    plot_end(c);
    return 0;
}

static int chart_speedup(const ctx *x, chart *c) {
    const pb_answer *a = x->ans;
    if (a && a->several_n) return chart_speedup_n(x, c);
    double maxn = 0, top = 1;
    size_t shown = 0;
    for (size_t r = 0; a && r < a->n_rts; r++) {
        const pb_answer_rt *t = &a->rts[r];
        if (!t->estimator || !isfinite(t->estimate) || pb_answer_self_ref(t)) continue;
        shown++;
        if (t->n_agents > maxn) maxn = t->n_agents;
        double hi = isfinite(t->hi) ? t->hi : t->estimate;
        if (hi > top) top = hi;
    }
    if (shown == 0) return 1;
    if (maxn > top) top = maxn;
    int blk = block_begin(c, "x speedup ci_lo ci_hi n", "per runtime");
    for (size_t r = 0; r < a->n_rts; r++) {
        const pb_answer_rt *t = &a->rts[r];
        /* The sequential reference is 1x by definition (the summary says so). */
        if (!t->estimator || !isfinite(t->estimate) || pb_answer_self_ref(t)) continue;
        fprintf(c->d, "%zu %.9g %.9g %.9g %zu\n", r + 1, t->estimate,
                isfinite(t->lo) ? t->lo : t->estimate, isfinite(t->hi) ? t->hi : t->estimate,
                t->n);
    }
    fputs("set title 'Measured speedup per runtime: together vs one after the other "
          "(estimate and 95% CI)'\n"
          "set ylabel 'speedup (x)'\nset bars 2\nset key inside bottom right\n", c->b);
    fprintf(c->b, "set xrange [0.4:%zu.6]\nset yrange [0:%.3f]\n", x->rt.n, top * 1.12);
    xtics_labels(c, &x->rt, x->rt.n > 6);
    /* The two reference lines name what they mean (in the key, where no
     * point can hide them), so the picture reads without the report. */
    fputs("set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 "
          "lc rgb '#d62728'\n", c->b);
    if (maxn > 1)
        fprintf(c->b, "set arrow 2 from graph 0, first %g to graph 1, first %g nohead dt 3 "
                      "lw 2 lc rgb '#2ca02c'\n", maxn, maxn);
    plot_begin(c);
    plot_term(c, "'%s.dat' index %d using 1:2:3:4 with yerrorbars pt 7 ps 1.5 lw 2 "
                 "lc rgb '#1f77b4' title 'speedup, 95%% CI'", c->name, blk);
    plot_term(c, "'%s.dat' index %d using 1:2:(sprintf('%%.2fx', $2)) with labels "
                 "offset 3.5,0 notitle", c->name, blk);
    plot_term(c, "NaN with lines dt 2 lw 2 lc rgb '#d62728' title '1x: one after the other'");
    if (maxn > 1)
        plot_term(c, "NaN with lines dt 3 lw 2 lc rgb '#2ca02c' title '%gx: perfect overlap "
                     "(%g agents)'", maxn, maxn);
    plot_end(c);
    return 0;
}

/* ---- 1c. aggregate throughput per runtime ------------------------------ */

/* Tokens per second of all agents together (sum of concurrent tokens /
 * concurrent wall) beside one agent alone (sum of solo tokens / sum of solo
 * durations), mean and 95% CI per runtime: the GPU's total output, which a
 * per-request rate does not show. */
static int chart_throughput_agg(const ctx *x, chart *c) {
    double *tog = malloc((x->ds->n_runs ? x->ds->n_runs : 1) * sizeof *tog);
    double *alone = malloc((x->ds->n_runs ? x->ds->n_runs : 1) * sizeof *alone);
    if (!tog || !alone) { free(tog); free(alone); return -1; }
    int blk[2] = {-1, -1};
    double top = 0;
    char *rows[2] = {NULL, NULL};
    size_t rowlen[2] = {0, 0};
    FILE *rf[2] = {open_memstream(&rows[0], &rowlen[0]), open_memstream(&rows[1], &rowlen[1])};
    if (!rf[0] || !rf[1]) {
        if (rf[0]) fclose(rf[0]);
        if (rf[1]) fclose(rf[1]);
        free(rows[0]), free(rows[1]), free(tog), free(alone);
        return -1;
    }
    size_t nrow[2] = {0, 0};
    for (size_t r = 0; r < x->rt.n; r++) {
        size_t m = 0;
        for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++) {
            const pb_run *run = &x->ds->runs[x->by_rt[q]];
            double ct = 0, st = 0, sd = 0;
            int cok = run->n_agents > 0, sok = run->n_agents > 0;
            for (size_t a = 0; a < run->n_agents; a++) {
                const pb_agent *ag = &run->agents[a];
                if (isfinite(ag->conc.tokens)) ct += ag->conc.tokens; else cok = 0;
                if (ag->has_solo && isfinite(ag->solo.tokens) && ag->solo.duration_s > 0) {
                    st += ag->solo.tokens;
                    sd += ag->solo.duration_s;
                } else {
                    sok = 0;
                }
            }
            tog[m] = cok && run->wall_s > 0 ? ct / run->wall_s : NAN;
            alone[m] = sok && sd > 0 ? st / sd : NAN;
            m++;
        }
        double *src[2] = {tog, alone};
        for (int k = 0; k < 2; k++) {
            pb_summary s;
            pb_stats_summarize(src[k], m, 0, 0, &s);
            if (s.n == 0) continue;
            double lo = isfinite(s.ci_lo) ? s.ci_lo : s.mean, hi = isfinite(s.ci_hi) ? s.ci_hi : s.mean;
            fprintf(rf[k], "%.4f %.9g %.9g %.9g %zu\n", r + 1 + (k ? 0.12 : -0.12), s.mean, lo,
                    hi, s.n);
            nrow[k]++;
            if (hi > top) top = hi;
        }
    }
    fclose(rf[0]);
    fclose(rf[1]);
    static const char *const WHAT[2] = {"all agents together (concurrent tokens / wall)",
                                        "one agent alone (solo tokens / solo time)"};
    for (int k = 0; k < 2; k++)
        if (nrow[k]) {
            blk[k] = block_begin(c, "x tokens_per_s ci_lo ci_hi n:", WHAT[k]);
            fputs(rows[k], c->d);
        }
    free(rows[0]), free(rows[1]), free(tog), free(alone);
    if (blk[0] < 0 && blk[1] < 0) return 1;
    fputs("set title 'Aggregate throughput per runtime (mean and 95% CI over runs)'\n"
          "set ylabel 'tokens/s'\nset bars 2\nset key inside bottom right\n", c->b);
    fprintf(c->b, "set xrange [0.4:%zu.6]\nset yrange [0:%.6g]\n", x->rt.n, top * 1.1);
    xtics_labels(c, &x->rt, x->rt.n > 6);
    plot_begin(c);
    static const char *const COL[2] = {"#ff7f0e", "#1f77b4"};
    for (int k = 0; k < 2; k++) {
        if (blk[k] < 0) continue;
        plot_term(c, "'%s.dat' index %d using 1:2:3:4 with yerrorbars pt %d ps 1.4 lw 2 "
                     "lc rgb '%s'", c->name, blk[k], k ? 5 : 7, COL[k]);
        title(c, WHAT[k]);
    }
    plot_end(c);
    return 0;
}

static int chart_eff_box(const ctx *x, chart *c) {
    /* Deterministic jitter: a fixed seed makes the same data give the same
     * picture, so charts can be diffed between report versions. */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng) return -1;
    gsl_rng_set(rng, 20261126);
    double *vals = malloc((x->ds->n_runs ? x->ds->n_runs : 1) * sizeof *vals);
    if (!vals) {
        gsl_rng_free(rng);
        return -1;
    }
    int out_titled = 0;
    int nk = 0, kidx[NKINDS];
    for (int k = 0; k < NKINDS; k++)
        if (x->has_kind[k]) kidx[nk++] = k;
    double width = 0.7 / nk;
    fputs("set title 'Efficiency per runtime (box: quartiles, whiskers 1.5 IQR; points: runs; "
          "circled: Tukey outliers)'\n"
          "set ylabel 'efficiency (%)'\n"
          "set style boxplot nooutliers\n"
          "set offsets 0, 0, graph 0.05, graph 0.05\n"
          "set style fill solid 0.25 border\n", c->b);
    fprintf(c->b, "set xrange [0.4:%zu.6]\n", x->rt.n);
    xtics_labels(c, &x->rt, x->rt.n > 4);
    plot_begin(c);
    for (int j = 0; j < nk; j++) {
        const kind *k = &KINDS[kidx[j]];
        double off = (j - (nk - 1) / 2.0) * width;
        int titled = 0;
        for (size_t r = 0; r < x->rt.n; r++) {
            int blk = -1;
            size_t blk_out = 0;
            /* Tukey fences (1.5 IQR beyond the quartiles, type-7 quantiles)
             * of this runtime and definition: points outside are circled. */
            size_t m = 0;
            for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++)
                vals[m++] = col(&x->dv[x->by_rt[q]], k->eff);
            double q1 = pb_stats_quantile(vals, m, 0.25), q3 = pb_stats_quantile(vals, m, 0.75);
            double lo = q1 - 1.5 * (q3 - q1), hi = q3 + 1.5 * (q3 - q1);
            for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++) {
                size_t i = x->by_rt[q];
                double v = col(&x->dv[i], k->eff);
                if (!isfinite(v)) continue;
                if (blk < 0) {
                    blk = block_begin(c, k->name, x->rt.v[r]);
                    fputs("# box_x value jitter_x tukey_outlier_value\n", c->d);
                }
                double jit = (gsl_rng_uniform(rng) - 0.5) * width * 0.6;
                int out = v < lo || v > hi;
                fprintf(c->d, "%.6f %.9g %.6f ", r + 1 + off, v, r + 1 + off + jit);
                if (out) {
                    fprintf(c->d, "%.9g\n", v);
                    blk_out++;
                } else {
                    fputs("NaN\n", c->d);
                }
            }
            if (blk < 0) continue;
            plot_term(c, "'%s.dat' index %d using (%.6f):2:(%.4f) with boxplot lc %d",
                      c->name, blk, r + 1 + off, width * 0.8, kidx[j] + 1);
            if (!titled) title(c, k->name); else fputs(" notitle", c->b);
            titled = 1;
            plot_term(c, "'%s.dat' index %d using 3:2 with points pt %d ps 0.5 lc %d notitle",
                      c->name, blk, k->pt, kidx[j] + 1);
            /* Only blocks with an outlier: an all-NaN column makes gnuplot
             * warn, and a warning fails the chart. */
            if (blk_out == 0) continue;
            plot_term(c, "'%s.dat' index %d using 3:4 with points pt 6 ps 1.6 lw 1.5 "
                         "lc rgb '#d62728' %s", c->name, blk,
                      out_titled ? "notitle" : "title 'Tukey outlier (beyond 1.5 IQR)'");
            out_titled = 1;
        }
    }
    plot_end(c);
    gsl_rng_free(rng);
    free(vals);
    return c->blocks > 0 ? 0 : 1;
}

/* ---- 2. mean efficiency per config with 95% CI ------------------------ */

/* Summary of efficiency kind k over the runs of one (runtime, config)
 * group: the one the report's tables and the exports print (pb_result). */
static void group_summary(const ctx *x, const pb_group *g, int k, pb_summary *s) {
    long m = pb_metrics_index(KINDS[k].id);
    *s = *pb_result_gsum(x->res, (size_t)(g - x->an->groups), (size_t)m);
}

static int chart_eff_config(const ctx *x, chart *c) {
    size_t n = x->ds->n_runs, ng = x->an->n_groups;
    double *v = malloc((n ? n : 1) * sizeof *v);
    /* x position of each (runtime, config) group that has data, 0 if none:
     * configs of a runtime side by side, a gap between runtimes. */
    double *pos = calloc(ng ? ng : 1, sizeof *pos);
    char *tics = NULL;
    size_t ticslen = 0;
    FILE *t = open_memstream(&tics, &ticslen);
    if (!v || !pos || !t) {
        free(v);
        free(pos);
        if (t) fclose(t);
        free(tics);
        return -1;
    }
    int nk = 0, kidx[NKINDS];
    for (int k = 0; k < NKINDS; k++)
        if (x->has_kind[k]) kidx[nk++] = k;
    double p = 0, ymax = 0;
    int ntics = 0;
    /* Runtime names go under their group of configs (labels at the group's
     * centre); configs are the tics, abbreviated as in the report's legend
     * when long, so nothing needs rotating. */
    char *glab = NULL;
    size_t glablen = 0;
    FILE *gl = open_memstream(&glab, &glablen);
    if (!gl) {
        free(v), free(pos);
        return -1;
    }
    int nlab = 0;
    for (size_t r = 0; r < x->an->n_rts; r++) {
        int any = 0;
        double first = 0;
        const pb_rt *rt = &x->an->rts[r];
        for (size_t gi = rt->first_group; gi < rt->first_group + rt->n_groups; gi++) {
            const pb_group *g = &x->an->groups[gi];
            for (int j = 0; j < nk; j++) {
                pb_summary s;
                group_summary(x, g, kidx[j], &s);
                if (s.n && !pos[gi]) pos[gi] = ++p;
                double hi = isfinite(s.ci_hi) ? s.ci_hi : s.mean;
                if (s.n && hi > ymax) ymax = hi;
            }
            if (!pos[gi]) continue;
            if (!any) first = pos[gi];
            fputs(ntics++ ? ", " : "", t);
            if (x->op && x->op->cfg_abbrev) {
                char *ab = NULL;
                size_t abl = 0;
                FILE *m = open_memstream(&ab, &abl);
                if (m) {
                    pb_md_config(m, x->op, g->config);
                    fclose(m);
                }
                pb_gnuplot_quote(t, ab ? ab : g->config);
                free(ab);
            } else {
                pb_gnuplot_quote(t, g->config);
            }
            fprintf(t, " %.0f", p);
            any = 1;
        }
        if (any) {
            fprintf(gl, "set label %d ", 10 + nlab++);
            pb_gnuplot_quote(gl, rt->runtime);
            fprintf(gl, " at first %.2f, graph %s center font ',10'\n", (first + p) / 2,
                    x->op && !x->op->cfg_abbrev ? "-0.15" : "-0.09");
            p += 1; /* gap before the next runtime */
        }
    }
    fclose(t);
    fclose(gl);
    c->w = 600 + 40 * (int)p > c->w ? 600 + 40 * (int)p : c->w;
    fputs("set title 'Mean efficiency per config, by runtime (bars: 95% CI; geometric for measured and reference)'\n"
          "set ylabel 'efficiency (%)'\nset bars small\nset key top right\n", c->b);
    fprintf(c->b, "set bmargin %d\n", x->op && !x->op->cfg_abbrev ? 8 : 6);
    fprintf(c->b, "set xrange [0.3:%.1f]\n", p > 1 ? p - 0.3 : 1.7);
    fprintf(c->b, "set yrange [0:%.1f]\n", ymax > 0 ? ymax * 1.05 : 100);
    int longtics = x->op && !x->op->cfg_abbrev && ntics > 0;
    fprintf(c->b, "set xtics (%s)%s\n", tics ? tics : "", longtics ? " rotate by 20 right" : "");
    fputs(glab ? glab : "", c->b);
    free(glab);
    free(tics);
    plot_begin(c);
    /* One block per (kind, runtime), its configs in order; colour and
     * symbol by definition, so the key has one entry per definition. */
    for (int j = 0; j < nk; j++) {
        int k = kidx[j];
        double off = (j - (nk - 1) / 2.0) * 0.22;
        int titled = 0;
        for (size_t r = 0; r < x->an->n_rts; r++) {
            int blk = -1;
            const pb_rt *rt = &x->an->rts[r];
            for (size_t gi = rt->first_group; gi < rt->first_group + rt->n_groups; gi++) {
                const pb_group *g = &x->an->groups[gi];
                pb_summary s;
                group_summary(x, g, k, &s);
                if (s.n == 0) continue;
                if (blk < 0) {
                    blk = block_begin(c, KINDS[k].name, x->rt.v[r]);
                    fputs("# x mean ci_lo ci_hi n config\n", c->d);
                }
                fprintf(c->d, "%.4f %.9g %.9g %.9g %zu # ", pos[gi] + off,
                        s.mean, isfinite(s.ci_lo) ? s.ci_lo : s.mean,
                        isfinite(s.ci_hi) ? s.ci_hi : s.mean, s.n);
                for (const char *q = g->config; *q; q++)
                    fputc((unsigned char)*q < 0x20 ? ' ' : *q, c->d);
                fputc('\n', c->d);
            }
            if (blk < 0) continue;
            plot_term(c, "'%s.dat' index %d using 1:2:3:4 with yerrorbars pt %d ps 1.2 lc %d",
                      c->name, blk, KINDS[k].pt, k + 1);
            if (!titled) title(c, KINDS[k].name); else fputs(" notitle", c->b);
            titled = 1;
        }
    }
    plot_end(c);
    free(pos);
    free(v);
    return c->blocks > 0 ? 0 : 1;
}

/* ---- 3. ECDFs of a per-request quantity per runtime ------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ecdf_value(const pb_request *rq, int which) {
    if (which == 0) return rq->ttft_ms;
    pb_derive_req d;
    pb_derive_request(rq, &d);
    return which == 1 ? d.server_rate : d.client_rate;
}

/* which: 0 = TTFT (ms), 1 = server eval rate, 2 = client decode rate
 * (tokens/s): the two rates apart, since a client rate well below the
 * server's means delivery, not generation, is slow. */
static int chart_ecdf(const ctx *x, chart *c, int which) {
    static const char *const TITLE[] = {
        "Time to first token, concurrent phase (empirical CDF)",
        "Server eval rate per request, concurrent phase (empirical CDF)",
        "Client decode rate per request, concurrent phase (empirical CDF)"};
    static const char *const XLAB[] = {"TTFT (ms)", "server eval rate (tokens/s)",
                                       "client decode rate (tokens/s)"};
    /* x fitted to the data (TTFT of 15-26 ms drawn from 0 was a flat line);
     * a logarithmic x when the values span more than a factor of 10 (a
     * queueing tail would squash the body of the curve into one edge). */
    /* The two rate charts share one x range, so they can be read side by
     * side (server vs client rate); TTFT is always on a log x: its tail of
     * queued requests is what the chart is for. */
    double lo = INFINITY, hi = 0;
    for (int w = which ? 1 : 0; w <= (which ? 2 : 0); w++)
        for (size_t q = 0; q < (x->rt.n ? x->rt_off[x->rt.n] : 0); q++) {
            const pb_run *run = &x->ds->runs[x->by_rt[q]];
            for (size_t a = 0; a < run->n_agents; a++) {
                double val = ecdf_value(&run->agents[a].conc, w);
                if (!isfinite(val) || val <= 0) continue;
                if (val < lo) lo = val;
                if (val > hi) hi = val;
            }
        }
    int logx = isfinite(lo) && (which == 0 || hi > 10 * lo);
    fprintf(c->b, "set title '%s'\nset xlabel '%s%s'\nset ylabel 'fraction of requests'\n"
                  "set yrange [0:1.02]\nset autoscale xfix\n%s",
            TITLE[which], XLAB[which], logx ? ", log scale" : "",
            logx ? "set logscale x\n" : "set offsets graph 0.03, graph 0.03, 0, 0\n");
    if (!logx && isfinite(lo)) {
        /* One distinct value (every request alike) still needs a range:
         * gnuplot warns about an empty one. */
        double pad = hi > lo ? 0.03 * (hi - lo) : 0.1 * fabs(lo) + 1e-9;
        fprintf(c->b, "set xrange [%.6g:%.6g]\n", lo - pad, hi + pad);
    }
    if (logx) {
        /* Tics at 1, 2, 5 x 10^k: round numbers a reader can place. */
        fprintf(c->b, "set xrange [%.6g:%.6g]\nset xtics (", lo / 1.1, hi * 1.1);
        int n = 0;
        for (int d = (int)floor(log10(lo / 1.1)); d <= (int)ceil(log10(hi * 1.1)); d++)
            for (int m = 0; m < 3; m++) {
                double t = (m == 0 ? 1 : m == 1 ? 2 : 5) * pow(10, d);
                if (t >= lo / 1.1 && t <= hi * 1.1)
                    fprintf(c->b, "%s%g", n++ ? ", " : "", t);
            }
        fputs(")\n", c->b);
    }
    plot_begin(c);
    for (size_t r = 0; r < x->rt.n; r++) {
        size_t m = 0, cap = 0;
        double *v = NULL;
        for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++) {
            const pb_run *run = &x->ds->runs[x->by_rt[q]];
            for (size_t a = 0; a < run->n_agents; a++) {
                double val = ecdf_value(&run->agents[a].conc, which);
                if (!isfinite(val) || (logx && val <= 0)) continue;
                if (m == cap) {
                    cap = cap ? cap * 2 : 64;
                    double *g = realloc(v, cap * sizeof *g);
                    if (!g) { free(v); return -1; }
                    v = g;
                }
                v[m++] = val;
            }
        }
        if (m == 0) { free(v); continue; }
        qsort(v, m, sizeof *v, cmp_double);
        int blk = block_begin(c, which ? "rate tokens/s, F" : "TTFT ms, F", x->rt.v[r]);
        /* Start at F=0 so the step rises at the smallest value. */
        fprintf(c->d, "%.9g 0\n", v[0]);
        for (size_t i = 0; i < m; i++)
            fprintf(c->d, "%.9g %.9g\n", v[i], (double)(i + 1) / (double)m);
        plot_term(c, "'%s.dat' index %d using 1:2 with steps lw 2 lc %zu",
                  c->name, blk, r + 1);
        title(c, x->rt.v[r]);
        free(v);
    }
    plot_end(c);
    return c->blocks > 0 ? 0 : 1;
}

/* The recording proxy's write-back lag of exec runtimes (pb_derive_wb_lags):
 * every concurrent-phase chunk of every valid run, per runtime, on a log x
 * (a lag is microseconds when the program keeps up, milliseconds to
 * seconds when it does not). A lag below 1 us is drawn at 1 us. */
static int chart_wblag(const ctx *x, chart *c) {
    const double FLOOR = 1e-3;
    double lo = INFINITY, hi = 0;
    for (size_t q = 0; q < (x->rt.n ? x->rt_off[x->rt.n] : 0); q++) {
        double *v;
        size_t k = pb_derive_wb_lags(&x->ds->runs[x->by_rt[q]], &v);
        for (size_t j = 0; j < k; j++) {
            double l = fmax(v[j], FLOOR);
            lo = fmin(lo, l);
            hi = fmax(hi, l);
        }
        free(v);
    }
    if (!(hi > 0)) return 1;
    if (!(hi > lo)) hi = lo * 10;
    fprintf(c->b, "set title 'Write-back lag per chunk, concurrent phase (empirical CDF): "
                  "when the program took a chunk - when it arrived'\n"
                  "set xlabel 'write-back lag (ms), log scale; below 0.001 ms drawn at 0.001'\n"
                  "set ylabel 'fraction of chunks'\nset yrange [0:1.02]\nset logscale x\n"
                  "set xrange [%.6g:%.6g]\nset format x '%%g'\nset key bottom right\n",
            lo / 1.5, hi * 1.5);
    plot_begin(c);
    for (size_t r = 0; r < x->rt.n; r++) {
        size_t m = 0;
        double *all = NULL;
        for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++) {
            double *v;
            size_t k = pb_derive_wb_lags(&x->ds->runs[x->by_rt[q]], &v);
            if (k) {
                double *g = realloc(all, (m + k) * sizeof *g);
                if (!g) { free(v); free(all); return -1; }
                all = g;
                for (size_t j = 0; j < k; j++) all[m++] = fmax(v[j], FLOOR);
            }
            free(v);
        }
        if (m == 0) { free(all); continue; }
        qsort(all, m, sizeof *all, cmp_double);
        int blk = block_begin(c, "lag ms, F", x->rt.v[r]);
        fprintf(c->d, "%.9g 0\n", all[0]);
        for (size_t i = 0; i < m; i++)
            fprintf(c->d, "%.9g %.9g\n", all[i], (double)(i + 1) / (double)m);
        plot_term(c, "'%s.dat' index %d using 1:2 with steps lw 2 lc %zu", c->name, blk, r + 1);
        title(c, x->rt.v[r]);
        free(all);
    }
    plot_end(c);
    return c->blocks > 0 ? 0 : 1;
}

/* ---- 4. efficiency and aggregate throughput against N ---------------- */

/* Drawn from pb_scaling, the numbers of the report's scaling section, so
 * chart and table cannot disagree. */
static int chart_scaling(const ctx *x, chart *c) {
    const pb_scaling sc = *x->sc;
    size_t maxn = 0, has[2] = {0, 0};
    /* y ranges from the intervals, so every error bar is inside the frame. */
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0};
    for (size_t i = 0; i < sc.n_series; i++)
        for (size_t k = 0; k < sc.series[i].n_points; k++) {
            const pb_scaling_point *p = &sc.series[i].pts[k];
            if (p->n_agents > maxn) maxn = p->n_agents;
            const pb_summary *m[2] = {&p->speedup, &p->throughput};
            for (int q = 0; q < 2; q++) {
                if (m[q]->n == 0 || !(m[q]->mean > 0)) continue;
                has[q]++;
                double l = isfinite(m[q]->ci_lo) && m[q]->ci_lo > 0 ? m[q]->ci_lo : m[q]->mean;
                double h = isfinite(m[q]->ci_hi) ? m[q]->ci_hi : m[q]->mean;
                if (l < lo[q]) lo[q] = l;
                if (h > hi[q]) hi[q] = h;
            }
        }
    if (!has[0] && !has[1])
        return 1;
    if (maxn > hi[0]) hi[0] = (double)maxn;  /* the ideal line's end */
    if (lo[0] > 1) lo[0] = 1;                 /* and the 1x line */
    /* A panel without a single value would make gnuplot warn: leave it
     * out. The multiplot title sits where the time-scale note goes: the
     * note becomes its second line instead. Both panels carry the same key
     * below them, so they keep the same height. */
    fprintf(c->b, "set multiplot layout 1,%d title \"Scaling with the number of agents "
                  "(geometric mean, 95%% CI; log scales)", (has[0] > 0) + (has[1] > 0));
    if (c->note) {
        fputs("\\n", c->b);
        for (const char *q = c->note; *q; q++)
            if (*q != '"' && *q != '\\') fputc(*q, c->b);
    }
    fputs("\"\nunset label 99\nset key below font ',8'\nset logscale xy 2\nset bars 1.5\n",
          c->b);
    /* Series side by side: each a small factor off N on the log axis. */
    double ns = (double)sc.n_series;
    for (int panel = 0; panel < 2; panel++) {
        if (!has[panel]) continue;
        fprintf(c->b, "set xlabel 'agents (N)'\nset ylabel '%s'\nset xrange [0.8:%g]\n"
                      "set yrange [%g:%g]\n",
                panel ? "aggregate tokens/s" : "speedup (x)", (double)maxn * 1.25,
                lo[panel] / 1.25, hi[panel] * 1.25);
        plot_begin(c);
        if (panel == 0) {
            plot_term(c, "x with lines dt 2 lc rgb '#2ca02c' title 'ideal: speedup = N'");
            plot_term(c, "1 with lines dt 3 lc rgb '#d62728' title '1x: one after the other'");
        }
        for (size_t i = 0; i < sc.n_series; i++) {
            const pb_scaling_series *s = &sc.series[i];
            size_t pts = 0;
            const pb_scaling_point *first = NULL;
            for (size_t k = 0; k < s->n_points; k++) {
                const pb_summary *m = panel ? &s->pts[k].throughput : &s->pts[k].speedup;
                if (m->n > 0 && m->mean > 0) {
                    pts++;
                    if (!first) first = &s->pts[k];
                }
            }
            if (pts == 0) continue;
            char lab[512];
            snprintf(lab, sizeof lab, "%s, %s", s->runtime, s->config);
            int blk = block_begin(c, panel ? "throughput" : "speedup", lab);
            fprintf(c->d, "# agents mean ci_lo ci_hi runs x_drawn (%s)\n",
                    panel ? "aggregate tokens/s" : s->eff_measured ? "measured speedup"
                                                                    : "estimated speedup");
            double off = pow(2, 0.08 * ((double)i - (ns - 1) / 2));
            for (size_t k = 0; k < s->n_points; k++) {
                const pb_summary *m = panel ? &s->pts[k].throughput : &s->pts[k].speedup;
                if (m->n == 0 || !(m->mean > 0)) continue;
                fprintf(c->d, "%zu %.9g %.9g %.9g %zu %.9g\n", s->pts[k].n_agents, m->mean,
                        isfinite(m->ci_lo) && m->ci_lo > 0 ? m->ci_lo : m->mean,
                        isfinite(m->ci_hi) ? m->ci_hi : m->mean, m->n,
                        (double)s->pts[k].n_agents * off);
            }
            plot_term(c, "'%s.dat' index %d using 6:2:3:4 with yerrorlines pt 7 lc %zu",
                      c->name, blk, i + 1);
            title(c, lab);
            /* Linear scaling from the series' smallest N: its tokens/s x N / N0. */
            if (panel == 1)
                plot_term(c, "%.9g * x with lines dt 2 lc %zu %s", first->throughput.mean /
                          (double)first->n_agents, i + 1,
                          i == 0 ? "title 'linear scaling (dashed, per series)'" : "notitle");
        }
        plot_end(c);
    }
    fputs("unset multiplot\n", c->b);
    return 0;
}

/* ---- 4b. speedup and aggregate throughput against the server setting -- */

/* Drawn from pb_settings, the numbers of the front page's per-setting
 * answer. Settings on x as categories in pb_settings' order (numeric
 * values ascending), series offset; y logarithmic (ratios and rates), the
 * range taken from the intervals so every bar is inside the frame; the
 * log-scale intervals cannot go below 0. */
static int chart_settings(const ctx *x, chart *c) {
    const pb_settings *st = &x->res->st;
    if (st->n_names < 2) return 1;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0}, maxn = 1;
    for (size_t i = 0; i < st->n_series; i++)
        for (size_t k = 0; k < st->series[i].n_points; k++) {
            const pb_setting_point *p = &st->series[i].pts[k];
            const pb_summary *m[2] = {&p->speedup, &p->throughput};
            if (st->series[i].n_agents > maxn) maxn = st->series[i].n_agents;
            for (int q = 0; q < 2; q++) {
                if (m[q]->n == 0 || !(m[q]->mean > 0)) continue;
                double l = isfinite(m[q]->ci_lo) && m[q]->ci_lo > 0 ? m[q]->ci_lo : m[q]->mean;
                double h = isfinite(m[q]->ci_hi) ? m[q]->ci_hi : m[q]->mean;
                if (l < lo[q]) lo[q] = l;
                if (h > hi[q]) hi[q] = h;
            }
        }
    if (!(hi[0] > 0) || !(hi[1] > 0)) return 1;
    if (lo[0] > 1) lo[0] = 1;        /* the 1x line */
    if (hi[0] < maxn) hi[0] = maxn;  /* the ideal line */
    fputs("set multiplot layout 1,2 title \"Speedup and aggregate throughput per server "
          "setting (geometric mean, 95% CI; log y)", c->b);
    if (c->note) {
        fputs("\\n", c->b);
        for (const char *q = c->note; *q; q++)
            if (*q != '"' && *q != '\\') fputc(*q, c->b);
    }
    fputs("\"\nunset label 99\nset key below font ',8'\nset logscale y 2\nset bars 1.5\n", c->b);
    /* One key with numeric values: the values as tics and the key as the
     * axis label (whole "KEY=V" labels overlap); else the labels, slanted. */
    const char **vals = malloc(st->n_names * sizeof *vals);
    if (!vals) return -1;
    char key[256] = "server setting";
    for (size_t k = 0; k < st->n_names; k++)
        vals[k] = st->numeric ? strchr(st->names[k], '=') + 1 : st->names[k];
    if (st->numeric)
        snprintf(key, sizeof key, "%.*s", (int)strcspn(st->names[0], "="), st->names[0]);
    labels l = {vals, st->n_names};
    double ns = (double)st->n_series;
    for (int panel = 0; panel < 2; panel++) {
        fputs("set xlabel ", c->b);
        pb_gnuplot_quote(c->b, key);
        fprintf(c->b, "\nset ylabel '%s'\nset xrange [0.5:%zu.5]\n"
                      "set yrange [%g:%g]\n", panel ? "aggregate tokens/s" : "speedup (x)",
                st->n_names, lo[panel] / 1.25, hi[panel] * 1.25);
        xtics_labels(c, &l, !st->numeric);
        plot_begin(c);
        if (panel == 0) {
            plot_term(c, "1 with lines dt 3 lc rgb '#d62728' title '1x: one after the other'");
            plot_term(c, "%g with lines dt 2 lc rgb '#2ca02c' title 'ideal: N = %g'", maxn, maxn);
        }
        for (size_t i = 0; i < st->n_series; i++) {
            const pb_setting_series *s = &st->series[i];
            char lab[512];
            snprintf(lab, sizeof lab, "%s%s%s, N = %g", s->runtime, s->rest[0] ? ", " : "",
                     s->rest, s->n_agents);
            int blk = -1;
            double off = 0.08 * ((double)i - (ns - 1) / 2);
            for (size_t k = 0; k < s->n_points; k++) {
                const pb_setting_point *p = &s->pts[k];
                const pb_summary *m = panel ? &p->throughput : &p->speedup;
                long pos = pb_servers_settings_index(st, p->setting);
                if (m->n == 0 || !(m->mean > 0) || pos < 0) continue;
                if (blk < 0) {
                    blk = block_begin(c, panel ? "throughput" : "speedup", lab);
                    fprintf(c->d, "# setting_index mean ci_lo ci_hi runs x_drawn\n");
                }
                fprintf(c->d, "%ld %.9g %.9g %.9g %zu %.9g\n", pos + 1, m->mean,
                        isfinite(m->ci_lo) && m->ci_lo > 0 ? m->ci_lo : m->mean,
                        isfinite(m->ci_hi) ? m->ci_hi : m->mean, m->n, (double)(pos + 1) + off);
            }
            if (blk < 0) continue;
            plot_term(c, "'%s.dat' index %d using 6:2:3:4 with yerrorlines pt 7 lc %zu",
                      c->name, blk, i + 1);
            title(c, lab);
        }
        plot_end(c);
    }
    fputs("unset multiplot\n", c->b);
    free(vals);
    return 0;
}

/* ---- 5. timeline of one run ------------------------------------------- */

static int has_timestamps(const pb_run *r) {
    if (r->n_agents == 0) return 0;
    for (size_t a = 0; a < r->n_agents; a++)
        if (!isfinite(r->agents[a].conc.t_start) || !isfinite(r->agents[a].conc.t_end))
            return 0;
    return 1;
}

static long timeline_pick_rt(const ctx *x, size_t rt);

/* The run to draw: from the runtime with the highest mean estimated
 * efficiency (the case the report questions), the run closest to that
 * runtime's median measured efficiency (typical, not the best or worst).
 * Without solo phases, that runtime's first run with timestamps. */
static long timeline_pick(const ctx *x) {
    size_t n = x->ds->n_runs;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return -1;
    size_t best_rt = (size_t)-1;
    double best_est = -INFINITY;
    for (size_t r = 0; r < x->rt.n; r++) {
        size_t m = 0;
        for (size_t q = x->rt_off[r]; q < x->rt_off[r + 1]; q++)
            if (has_timestamps(&x->ds->runs[x->by_rt[q]]))
                v[m++] = x->dv[x->by_rt[q]].est_efficiency;
        pb_summary s;
        pb_stats_summarize(v, m, 0, 0, &s);
        /* A runtime whose runs have timestamps but no estimate still
         * qualifies (m > 0), ranked last. */
        double est = s.n ? s.mean : (m ? -1e300 : -INFINITY);
        if (m && est > best_est) { best_est = est; best_rt = r; }
    }
    free(v);
    return best_rt == (size_t)-1 ? -1 : timeline_pick_rt(x, best_rt);
}

/* Runtime rt's run closest to its median measured efficiency (its first
 * run with timestamps without solo phases); -1 when none has timestamps. */
static long timeline_pick_rt(const ctx *x, size_t best_rt) {
    size_t n = x->ds->n_runs;
    double *v = calloc(n ? n : 1, sizeof *v);
    if (!v) return -1;
    long pick = -1;
    {
        size_t m = 0, q0 = x->rt_off[best_rt], q1 = x->rt_off[best_rt + 1];
        for (size_t q = q0; q < q1; q++) {
            size_t i = x->by_rt[q];
            if (!has_timestamps(&x->ds->runs[i])) continue;
            if (pick < 0) pick = (long)i;
            v[m++] = x->dv[i].meas_efficiency;
        }
        double med = pb_stats_quantile(v, m, 0.5), bd = INFINITY;
        for (size_t q = q0; q < q1 && isfinite(med); q++) {
            size_t i = x->by_rt[q];
            if (!has_timestamps(&x->ds->runs[i]))
                continue;
            double d = fabs(x->dv[i].meas_efficiency - med);
            if (d < bd) { bd = d; pick = (long)i; }
        }
    }
    free(v);
    return pick;
}

static int chart_timeline(const ctx *x, chart *c, long pick) {
    const pb_run *r = &x->ds->runs[pick];
    /* Blocks: request spans and streaming spans for solo and concurrent,
     * first tokens, chunk arrivals, ends. Only non-empty blocks are plotted
     * (gnuplot warns about an empty index). */
    static const char *span_name[4] = {
        "solo: waiting (start to first token)", "solo: streaming (first token to end)",
        "concurrent: waiting (start to first token)", "concurrent: streaming (first token to end)"};
    static const char *span_color[4] = {"#9ecae1", "#3182bd", "#fdae6b", "#e6550d"};
    int blk[7];
    for (int b = 0; b < 7; b++) blk[b] = -1;
    for (int b = 0; b < 4; b++) {
        int solo = b < 2, stream = b & 1;
        for (size_t a = 0; a < r->n_agents; a++) {
            const pb_agent *ag = &r->agents[a];
            if (solo && !ag->has_solo) continue;
            const pb_request *rq = solo ? &ag->solo : &ag->conc;
            double ft = isfinite(rq->t_first_token) ? rq->t_first_token : rq->t_first_byte;
            double s = stream ? ft : rq->t_start;
            double e = stream ? rq->t_end : (isfinite(ft) ? ft : rq->t_end);
            if (!isfinite(s) || !isfinite(e) || e < s) continue;
            if (blk[b] < 0) {
                blk[b] = block_begin(c, span_name[b], "");
                fputs("# from to lane\n", c->d);
            }
            fprintf(c->d, "%.9f %.9f %zu\n", s, e, a + 1);
        }
    }
    /* Exec runtimes: the program's run (spawn to exit) of each phase, a
     * thin bar under the lanes it served, so start-up shows beside the
     * requests (the concurrent phase's under every lane). */
    int blk_proc = -1;
    for (size_t a = 0; r->measured_by != PB_BY_DRIVER && a < r->n_agents; a++) {
        const pb_agent *ag = &r->agents[a];
        double t0[2] = {ag->solo_proc_t0, r->conc_proc_t0};
        double t1[2] = {ag->solo_proc_t1, r->conc_proc_t1};
        for (int k = 0; k < 2; k++) {
            if (!isfinite(t0[k]) || !isfinite(t1[k]) || !(t1[k] > t0[k])) continue;
            if (blk_proc < 0) {
                blk_proc = block_begin(c, "program running (spawn to exit)", "");
                fputs("# from to lane\n", c->d);
            }
            fprintf(c->d, "%.9f %.9f %zu\n", t0[k], t1[k], a + 1);
        }
    }
    static const char *pt_name[3] = {"first token", "chunk arrival", "end"};
    for (int b = 0; b < 3; b++) {
        for (size_t a = 0; a < r->n_agents; a++) {
            for (int solo = 0; solo < 2; solo++) {
                const pb_agent *ag = &r->agents[a];
                if (solo && !ag->has_solo) continue;
                const pb_request *rq = solo ? &ag->solo : &ag->conc;
                if (b == 1) {
                    /* Every llm call's chunks: a workflow's later calls too. */
                    for (size_t k = 0; k < rq->n_chunks + rq->n_step_chunks; k++) {
                        const pb_chunk *ch = k < rq->n_chunks ? &rq->chunks[k]
                                                              : &rq->step_chunks[k - rq->n_chunks];
                        if (!isfinite(ch->t_s)) continue;
                        if (blk[4 + b] < 0) blk[4 + b] = block_begin(c, pt_name[b], "");
                        fprintf(c->d, "%.9f %zu\n", ch->t_s, a + 1);
                    }
                    continue;
                }
                double t = b == 0 ? rq->t_first_token : rq->t_end;
                if (!isfinite(t)) continue;
                if (blk[4 + b] < 0) blk[4 + b] = block_begin(c, pt_name[b], "");
                fprintf(c->d, "%.9f %zu\n", t, a + 1);
            }
        }
    }
    if (c->blocks == 0) return 1;
    /* GPU utilisation (telemetry, first GPU) inside the drawn span, on a
     * second axis, drawn first so the agents' bars sit on top of it. */
    int gblk = -1;
    const pb_run_telemetry *tel = r->tel;
    if (tel && tel->n_gpu) {
        double t0 = INFINITY, t1 = -INFINITY;
        for (size_t a = 0; a < r->n_agents; a++)
            for (int solo = 0; solo < 2; solo++) {
                const pb_request *rq = solo ? &r->agents[a].solo : &r->agents[a].conc;
                if (solo && !r->agents[a].has_solo) continue;
                if (isfinite(rq->t_start) && rq->t_start < t0) t0 = rq->t_start;
                if (isfinite(rq->t_end) && rq->t_end > t1) t1 = rq->t_end;
            }
        for (size_t k = 0; k < tel->n_gpu; k++) {
            if (!(tel->gpu_t[k] >= t0 && tel->gpu_t[k] <= t1)) continue;
            if (gblk < 0) {
                gblk = block_begin(c, "GPU utilisation (nvidia-smi)", "");
                fputs("# t util_pct\n", c->d);
            }
            fprintf(c->d, "%.9f %.9g\n", tel->gpu_t[k], tel->gpu_util[k]);
        }
    }

    fputs("set title ", c->b);
    char t[768];
    snprintf(t, sizeof t, "Timeline: %s / %s / run %d (shaded: concurrent phase%s)",
             r->runtime, r->config, r->run_index,
             r->measured_by != PB_BY_DRIVER ? ", wire span; requests as the recording proxy saw them" : "");
    pb_gnuplot_quote(c->b, t);
    fputs("\nset xlabel 'seconds since the run started'\nset ylabel 'agent'\n", c->b);
    fprintf(c->b, "set yrange [0.4:%zu.6]\nset ytics (", r->n_agents);
    for (size_t a = 0; a < r->n_agents; a++) {
        if (a) fputs(", ", c->b);
        pb_gnuplot_quote(c->b, r->agents[a].id ? r->agents[a].id : "?");
        fprintf(c->b, " %zu", a + 1);
    }
    fputs(")\nset key below\nset style fill solid 1.0 noborder\n", c->b);
    if (isfinite(r->conc_start) && isfinite(r->conc_end) && r->conc_end > r->conc_start)
        fprintf(c->b, "set object 1 rect from %.9f, graph 0 to %.9f, graph 1 "
                      "behind fc rgb '#f2f2f2' fs solid 1.0 noborder\n",
                r->conc_start, r->conc_end);
    if (gblk >= 0)
        fputs("set y2range [0:100]\nset y2tics 0, 25, 100 textcolor rgb '#31a354'\n"
              "set y2label 'GPU utilisation %' textcolor rgb '#31a354'\n", c->b);
    plot_begin(c);
    if (gblk >= 0) {
        plot_term(c, "'%s.dat' index %d using 1:2 axes x1y2 with filledcurves y1=0 "
                     "fc rgb '#a1d99b' fs transparent solid 0.35 noborder title 'GPU utilisation %% "
                     "(right axis)'", c->name, gblk);
        plot_term(c, "'%s.dat' index %d using 1:2 axes x1y2 with lines lw 1 lc rgb '#31a354' "
                     "notitle", c->name, gblk);
    }
    for (int b = 0; b < 4; b++) {
        if (blk[b] < 0) continue;
        double hh = (b & 1) ? 0.18 : 0.10; /* streaming drawn thicker */
        plot_term(c, "'%s.dat' index %d using (($1+$2)/2):3:1:2:($3-%.2f):($3+%.2f) "
                     "with boxxyerror fc rgb '%s'",
                  c->name, blk[b], hh, hh, span_color[b]);
        title(c, span_name[b]);
    }
    if (blk_proc >= 0)
        plot_term(c, "'%s.dat' index %d using (($1+$2)/2):($3-0.3):1:2:($3-0.33):($3-0.27) "
                     "with boxxyerror fc rgb '#888888' title 'program running (spawn to exit)'",
                  c->name, blk_proc);
    /* Chunk ticks above the lane's bar, not across it: through the bar
     * they hid its colours (solo / concurrent, waiting / streaming). */
    if (blk[5] >= 0)
        plot_term(c, "'%s.dat' index %d using 1:($2+0.2):(0):(0.15) with vectors nohead "
                     "lw 0.5 lc rgb '#222222' title 'chunk arrival'", c->name, blk[5]);
    if (blk[4] >= 0)
        plot_term(c, "'%s.dat' index %d using 1:2 with points pt 9 ps 1.4 lc rgb '#31a354' "
                     "title 'first token'", c->name, blk[4]);
    if (blk[6] >= 0)
        plot_term(c, "'%s.dat' index %d using 1:2 with points pt 2 ps 1.4 lc rgb '#000000' "
                     "title 'end'", c->name, blk[6]);
    plot_end(c);
    return 0;
}

/* ---- driver ------------------------------------------------------------ */

/* Markdown link target: the directory as the user gave it (relative paths
 * stay relative to where the report is written), in <...> when it has
 * characters that end a plain link destination. */
static void md_chart(FILE *f, const char *dir, const char *name, const char *alt,
                     const char *caption, const char *run_path, int rendered) {
    if (!f) return;
    if (rendered) {
        fprintf(f, "![%s](", alt);
        pb_md_link(f, dir, name, "png");
        fputs(")\n\n", f);
    }
    fprintf(f, "*%s*", caption);
    if (run_path) {
        fputs(" Run shown: ", f);
        pb_md_escape(f, run_path);
        fputc('.', f);
    }
    /* The links on a line of their own (same paragraph): the report wraps
     * prose lines, never lines holding links. */
    fputc('\n', f);
    if (rendered) {
        fputs("[SVG](", f);
        pb_md_link(f, dir, name, "svg");
        fputs(") · ", f);
    }
    fputs("[gnuplot script](", f);
    pb_md_link(f, dir, name, "gp");
    fputs(") · [data](", f);
    pb_md_link(f, dir, name, "dat");
    fputs(")\n\n", f);
}

static int file_nonempty(const char *dir, const char *name, const char *ext) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s.%s", dir, name, ext);
    return stat(p, &st) == 0 && st.st_size > 0;
}

/* Renders NAME.gp; returns 1 when both images exist and gnuplot was silent.
 * gnuplot opens its outputs by name and would follow a symlink planted at
 * NAME.png (issue 22 §3): it renders inside a private folder made for this
 * chart (mkdtemp, 0700), which holds links to the script and data, and the
 * images are renamed into place (a rename replaces a link, never follows). */
static int render(const char *gnuplot, const char *dir, const char *name) {
    char script[512], priv[4600], p[5200], q[5200], *err = NULL;
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(priv, sizeof priv, "%s/.%s.render.XXXXXX", dir, name);
    int rc = -1;
    if (!mkdtemp(priv)) {
        fprintf(stderr, "analyze: charts: cannot create a folder %s: %s\n", priv,
                strerror(errno));
        return 0;
    }
    static const char *const LINKED[] = {"gp", "dat"};
    int linked = 1;
    for (int i = 0; i < 2 && linked; i++) {
        snprintf(p, sizeof p, "../%s.%s", name, LINKED[i]);
        snprintf(q, sizeof q, "%s/%s.%s", priv, name, LINKED[i]);
        linked = symlink(p, q) == 0;
    }
    if (linked) rc = pb_gnuplot_run(gnuplot, priv, script, &err);
    static const char *const IMAGES[] = {"png", "svg"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s.%s", priv, name, IMAGES[i]);
        snprintf(q, sizeof q, "%s/%s.%s", dir, name, IMAGES[i]);
        if (rc == 0 && rename(p, q) != 0) rc = -1;
        unlink(p);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(q, sizeof q, "%s/%s.%s", priv, name, LINKED[i]);
        unlink(q);
    }
    rmdir(priv);
    int ok = rc == 0 && err && err[0] == '\0' && file_nonempty(dir, name, "png") &&
             file_nonempty(dir, name, "svg");
    if (!ok)
        fprintf(stderr, "analyze: charts: gnuplot %s/%s exited %d%s%s%s\n", dir, script,
                rc, err && *err ? " and said:\n" : "", err ? err : "",
                "  (the script and data are kept; fix and re-run it by hand)");
    free(err);
    return ok;
}

int pb_charts_write(const pb_report_opts *opts, FILE *report_links, int *speedup_drawn) {
    if (speedup_drawn) *speedup_drawn = 0;
    if (!opts || !opts->charts_dir) return 0;
    const pb_result *res = opts->res;
    const pb_dataset *ds = res->ds;
    const char *dir = opts->charts_dir;
    char err[512];
    if (pb_fs_mkdirs(dir, err, sizeof err) != 0) {
        fprintf(stderr, "analyze: charts: %s\n", err);
        return -1;
    }
    /* Config names as the report prints them (c1, c2, ... when long). */
    pb_report_opts o2 = *opts;
    const char **cfgs = pb_md_config_names(&res->an, &o2.n_cfg, &o2.cfg_abbrev);
    o2.cfg_names = cfgs;
    ctx x = {.ds = ds, .dir = dir, .an = &res->an, .dv = res->dv, .ans = &res->ans,
             .sc = &res->sc, .res = res};
    size_t nr = ds->n_runs ? ds->n_runs : 1;
    x.by_rt = malloc(nr * sizeof *x.by_rt);
    size_t *rt_of = malloc(nr * sizeof *rt_of);
    if (!x.by_rt || !rt_of) {
        fprintf(stderr, "analyze: charts: out of memory for %zu runs\n", ds->n_runs);
        free(x.by_rt), free(rt_of), free(cfgs);
        return -1;
    }
    x.rt.n = x.an->n_rts;
    x.rt.v = malloc((x.rt.n ? x.rt.n : 1) * sizeof *x.rt.v);
    x.rt_off = calloc(x.rt.n + 2, sizeof *x.rt_off);
    int rc = (x.rt.v && x.rt_off) ? 0 : -1;
    x.op = cfgs ? &o2 : opts;
    if (rc == 0) {
        /* by_rt: counting sort of the valid runs by runtime, keeping the
         * data set's order within a runtime (jitter and picks as before). */
        for (size_t i = 0; i < ds->n_runs; i++) rt_of[i] = (size_t)-1;
        for (size_t r = 0; r < x.rt.n; r++) {
            const pb_rt *rt = &x.an->rts[r];
            x.rt.v[r] = rt->runtime;
            for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
                for (size_t k = 0; k < x.an->groups[g].n; k++)
                    rt_of[x.an->groups[g].runs[k]] = r;
        }
        for (size_t i = 0; i < ds->n_runs; i++)
            if (rt_of[i] != (size_t)-1 && usable(&x, i)) x.rt_off[rt_of[i] + 2]++;
        for (size_t r = 0; r < x.rt.n; r++) x.rt_off[r + 2] += x.rt_off[r + 1];
        for (size_t i = 0; i < ds->n_runs; i++) {
            if (rt_of[i] == (size_t)-1 || !usable(&x, i)) continue;
            x.by_rt[x.rt_off[rt_of[i] + 1]++] = i;
            for (int k = 0; k < NKINDS; k++)
                if (isfinite(col(&x.dv[i], KINDS[k].eff))) x.has_kind[k] = 1;
        }
        /* Now rt_off[r] .. rt_off[r+1] is runtime r's slice. */
    }
    free(rt_of);
    char *gnuplot = pb_gnuplot_find();
    if (!gnuplot)
        fprintf(stderr, "analyze: gnuplot not found on PATH: charts written as scripts "
                "and data in %s but not rendered; install it (Debian: "
                "sudo apt-get install gnuplot-nox) and run `gnuplot NAME.gp` there, "
                "or re-run analyze\n", dir);

    enum { C_SPEEDUP, C_BOX, C_CONFIG, C_TTFT, C_SERVER, C_CLIENT, C_AGG, C_SCALING,
           C_TIMELINE, C_SETTINGS, C_WBLAG };
    static const struct {
        int id;
        const char *name, *alt, *caption;
        int w, h;
    } SPEC[] = {
        {C_SPEEDUP, "speedup", "Measured speedup per runtime",
         "The answer: measured speedup per runtime (together vs one after the other) as in "
         "the summary (geometric mean of the paired speedups, or ratio of means against "
         "--sequential-ref) with its 95% CI; dashed: 1x (no gain), dotted: N (perfect "
         "overlap).", 1000, 560},
        {C_BOX, "efficiency_box", "Efficiency per runtime",
         "Efficiency per runtime: box plot (quartiles) with every run as a jittered point, "
         "Tukey outliers circled, for each efficiency definition the data supports.", 1000, 600},
        {C_CONFIG, "efficiency_config", "Mean efficiency per config",
         "Mean efficiency per config, grouped by runtime, with 95% confidence intervals "
         "(as in the report's per-config table: geometric mean and log-scale interval for "
         "measured and reference efficiencies).", 1200, 640},
        {C_TTFT, "ttft_ecdf", "TTFT ECDF", "Time to first token in the concurrent phase, "
         "empirical CDF per runtime.", 1000, 600},
        {C_SERVER, "throughput_ecdf", "Server eval rate ECDF", "Server eval rate per request "
         "in the concurrent phase, empirical CDF per runtime.", 1000, 600},
        {C_CLIENT, "client_rate_ecdf", "Client decode rate ECDF", "Client decode rate per "
         "request in the concurrent phase, empirical CDF per runtime.", 1000, 600},
        {C_AGG, "throughput_aggregate", "Aggregate throughput", "Aggregate throughput per "
         "runtime: tokens/s of all agents together and of one agent alone (mean and 95% CI).",
         1000, 560},
        {C_SCALING, "scaling", "Scaling with agents", "Efficiency and aggregate throughput "
         "against the number of agents (mean and 95% CI per runtime and config).", 1200, 550},
        {C_TIMELINE, "timeline", "Timeline of one run", "Timeline of a typical run of the "
         "runtime with the highest estimated efficiency (closest to its median measured "
         "efficiency): one lane per agent, solo and concurrent requests, "
         "first token, chunk arrivals, end; GPU utilisation below the lanes when "
         "nvidia-smi was sampled.", 1100, 500},
        {C_SETTINGS, "settings", "Speedup and throughput per setting", "Speedup and "
         "aggregate throughput against the server setting (geometric mean and 95% CI per "
         "runtime, config and N), as in the per-setting answer.", 1200, 550},
        {C_WBLAG, "writeback_lag_ecdf", "Write-back lag ECDF", "Exec runtimes: how late each "
         "program read its streams, every chunk of the concurrent phases (the recording "
         "proxy's acceptance by the program's socket - the chunk's arrival from the server), "
         "empirical CDF per runtime, log scale.", 1000, 600},
    };
    /* The time scale of emulated runs, on every chart. */
    char note[160] = "";
    double ts_lo = 0, ts_hi = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        double f = ds->runs[i].emu_time_scale;
        if (f <= 0) continue;
        ts_lo = ts_lo == 0 || f < ts_lo ? f : ts_lo;
        ts_hi = f > ts_hi ? f : ts_hi;
    }
    if (ts_lo > 0 && ts_lo == ts_hi)
        snprintf(note, sizeof note, "Emulated data, time scale %gx: durations %g times shorter "
                 "and rates %g times higher than the emulated GPU's; ratios unaffected.",
                 ts_lo, ts_lo, ts_lo);
    else if (ts_lo > 0)
        snprintf(note, sizeof note, "Emulated data, time scales %gx to %gx: durations and "
                 "rates not comparable across runs; ratios are.", ts_lo, ts_hi);
    long pick = rc == 0 ? timeline_pick(&x) : -1;
    for (size_t s = 0; s < sizeof SPEC / sizeof SPEC[0] && rc >= 0; s++) {
        chart c;
        if (chart_open(&c, dir, SPEC[s].name, SPEC[s].w, SPEC[s].h) != 0) {
            fprintf(stderr, "analyze: charts: out of memory\n");
            chart_discard(&c);
            rc = -1;
            break;
        }
        c.note = note[0] ? note : NULL;
        int r;
        /* A sweep: distributions over a runtime's runs would pool agent
         * counts (the per-config chart keeps one N per bar). */
        int pools = SPEC[s].id == C_BOX || SPEC[s].id == C_AGG || SPEC[s].id == C_TTFT ||
                    SPEC[s].id == C_SERVER || SPEC[s].id == C_CLIENT;
        if (x.ans->several_n && pools) {
            if (report_links)
                fprintf(report_links, "*%s: not drawn, the runs hold several agent counts and "
                        "the chart would pool them (see the speedup and scaling charts).*\n\n",
                        SPEC[s].alt);
            chart_discard(&c);
            continue;
        }
        switch (SPEC[s].id) {
        case C_SPEEDUP: r = x.rt.n ? chart_speedup(&x, &c) : 1; break;
        case C_BOX: r = x.rt.n ? chart_eff_box(&x, &c) : 1; break;
        case C_CONFIG: r = x.rt.n ? chart_eff_config(&x, &c) : 1; break;
        case C_AGG: r = x.rt.n ? chart_throughput_agg(&x, &c) : 1; break;
        case C_TTFT: r = chart_ecdf(&x, &c, 0); break;
        case C_SERVER: r = chart_ecdf(&x, &c, 1); break;
        case C_CLIENT: r = chart_ecdf(&x, &c, 2); break;
        case C_SCALING: r = chart_scaling(&x, &c); break;
        case C_SETTINGS: r = chart_settings(&x, &c); break;
        case C_WBLAG: r = pb_exec_n_rts(res) ? chart_wblag(&x, &c) : 2; break;
        default: r = pick >= 0 ? chart_timeline(&x, &c, pick) : 1; break;
        }
        if (r == 2 || (r == 1 && SPEC[s].id == C_SETTINGS)) {
            /* Not applicable (no exec runtime, or no server settings):
             * nothing to say about a chart only such data have. */
        } else if (r == 1) {
            /* Nothing to draw (e.g. a single agent count, no timestamps):
             * say so instead of writing a script gnuplot would warn about. */
            const char *why = SPEC[s].id == C_SCALING ? "the data has a single number of agents"
                            : SPEC[s].id == C_SETTINGS ? "the data has fewer than two server "
                                                         "settings"
                            : SPEC[s].id == C_TIMELINE ? "the data has no per-request timestamps"
                            : SPEC[s].id == C_SPEEDUP ? "no runtime has a sequential baseline "
                                                        "(solo phases or --sequential-ref)"
                            : "no data";
            if (report_links)
                fprintf(report_links, "*%s: not drawn, %s.*\n\n", SPEC[s].alt, why);
        } else if (r < 0 || chart_save(&c, SPEC[s].caption) != 0) {
            rc = -1;
        } else {
            int ok = gnuplot ? render(gnuplot, dir, SPEC[s].name) : 0;
            if (gnuplot && !ok) rc = -1;
            if (ok && SPEC[s].id == C_SPEEDUP && speedup_drawn) *speedup_drawn = 1;
            const char *shown = (SPEC[s].id == C_TIMELINE && pick >= 0) ? ds->runs[pick].path
                                                                         : NULL;
            md_chart(report_links, opts->charts_link ? opts->charts_link : dir,
                     SPEC[s].name, SPEC[s].alt, SPEC[s].caption, shown, ok);
        }
        chart_discard(&c);
    }
    /* Exec runtimes: one timeline each, so a program that runs its agents
     * one after another shows it (the proxy's requests end to end). */
    for (size_t t = 0; t < x.rt.n && rc >= 0; t++) {
        long p = pb_exec_rt_by(res, t, NULL) != PB_BY_DRIVER ? timeline_pick_rt(&x, t) : -1;
        if (p < 0) continue;
        char name[64], caption[256];
        snprintf(name, sizeof name, "timeline_rt%zu", t + 1);
        /* The runtime's name is in the chart's title and the run's path
         * (escaped), not in the caption, which is Markdown as written. */
        snprintf(caption, sizeof caption, "Timeline of a typical run of an exec runtime "
                 "(closest to its median measured efficiency), its requests as the recording "
                 "proxy recorded them: agents side by side overlap, agents one after another "
                 "do not.");
        chart c;
        if (chart_open(&c, dir, name, 1100, 500) != 0) {
            chart_discard(&c);
            rc = -1;
            break;
        }
        c.note = note[0] ? note : NULL;
        int r = chart_timeline(&x, &c, p);
        if (r == 0 && chart_save(&c, caption) == 0) {
            int ok = gnuplot ? render(gnuplot, dir, name) : 0;
            if (gnuplot && !ok) rc = -1;
            md_chart(report_links, opts->charts_link ? opts->charts_link : dir, name,
                     "Timeline of an exec runtime", caption, ds->runs[p].path, ok);
        } else if (r < 0) {
            rc = -1;
        }
        chart_discard(&c);
    }
    free(gnuplot);
    free(x.rt.v);
    free(x.rt_off);
    free(x.by_rt);
    free(cfgs);
    return rc;
}
