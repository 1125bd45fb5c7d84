/* stats_dump: prints the statistics of issue 8 as JSON on stdout, for the
 * independent cross-check tests/analyze/scipy_check.py (which recomputes
 * them with scipy from the raw values also printed here and from the data
 * files themselves). Not installed; `analyze --json` (issue 9) can replace
 * it as the script's input later.
 *
 * usage: stats_dump [--sequential-ref RT] [--baseline RT] [--seed N]
 *                   [--bootstrap N] [--drop-first N] PATH...
 *        stats_dump --mw N1 N2 U        exact P(U <= u), for the script
 *        stats_dump --pair A,A,.. B,B,..   pb_compare + Hodges-Lehmann
 *        stats_dump --spearman X,.. Y,..    rho and p (exact for n <= 10)
 *        stats_dump --clustered V,.. C,..   run-clustered mean and 95% CI */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pb_analysis.h"
#include "pb_load.h"
#include "pb_rank.h"
#include "pb_stats.h"

/* JSON has no NAN/inf: null. 17 significant digits, raw: cJSON's own
 * printer accepts 15 digits when they round-trip within DBL_EPSILON, which
 * breaks exact ties the rank tests depend on. */
static void num(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) {
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", v);
        cJSON_AddRawToObject(o, k, buf);
    } else {
        cJSON_AddNullToObject(o, k);
    }
}

static void summary(cJSON *o, const char *k, const pb_summary *s)
{
    cJSON *x = cJSON_AddObjectToObject(o, k);
    num(x, "n", (double)s->n);
    num(x, "mean", s->mean);
    num(x, "sd", s->sd);
    num(x, "ci_lo", s->ci_lo);
    num(x, "ci_hi", s->ci_hi);
    num(x, "boot_lo", s->boot_lo);
    num(x, "boot_hi", s->boot_hi);
}

static void ratio(cJSON *o, const char *k, const pb_ratio *r)
{
    cJSON *x = cJSON_AddObjectToObject(o, k);
    num(x, "est", r->est);
    num(x, "lo", r->lo);
    num(x, "hi", r->hi);
    num(x, "df", r->df);
    cJSON_AddBoolToObject(x, "unbounded", r->unbounded);
    num(x, "boot_lo", r->boot_lo);
    num(x, "boot_hi", r->boot_hi);
}

static void compare(cJSON *x, const pb_compare *c)
{
    num(x, "diff", c->diff);
    num(x, "welch_t", c->welch_t);
    num(x, "welch_df", c->welch_df);
    num(x, "welch_p", c->welch_p);
    num(x, "diff_lo", c->diff_lo);
    num(x, "diff_hi", c->diff_hi);
    num(x, "mw_u", c->mw_u);
    num(x, "mw_p", c->mw_p);
    cJSON_AddBoolToObject(x, "mw_exact", c->mw_exact);
    num(x, "cohen_d", c->cohen_d);
    num(x, "hedges_g", c->hedges_g);
    num(x, "glass_delta", c->glass_delta);
    num(x, "hl_shift", c->hl_shift);
    num(x, "hl_lo", c->hl_lo);
    num(x, "hl_hi", c->hl_hi);
}

static double *parse_list(const char *s, size_t *n)
{
    double *v = malloc((strlen(s) / 2 + 2) * sizeof *v);
    *n = 0;
    for (const char *p = s; v && *p;) {
        char *end;
        v[(*n)++] = strtod(p, &end);
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
    }
    return v;
}

static void print(cJSON *root)
{
    char *t = cJSON_PrintUnformatted(root);
    puts(t);
    cJSON_free(t);
    cJSON_Delete(root);
}

static cJSON *dump_analysis(const pb_dataset *ds, const pb_analysis *a)
{
    cJSON *root = cJSON_CreateObject();
    num(root, "seed", (double)a->seed);
    num(root, "drop_first", (double)a->drop_first);
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        for (size_t i = 0; i < g->n; i++) {
            const pb_run *r = &ds->runs[g->runs[i]];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "path", r->path);
            cJSON_AddStringToObject(x, "runtime", r->runtime);
            cJSON_AddStringToObject(x, "config", r->config);
            num(x, "run_index", r->run_index);
            num(x, "wall_s", r->wall_s);
            for (int m = 0; m < PB_M_COUNT; m++)
                num(x, pb_metrics[m].key, pb_metric_run(r, (pb_metric_id)m));
            cJSON_AddNumberToObject(x, "outlier", g->order.cls ? g->order.cls[i] : 0);
            cJSON_AddItemToArray(runs, x);
        }
    }
    cJSON *groups = cJSON_AddArrayToObject(root, "groups");
    for (size_t gi = 0; gi < a->n_groups; gi++) {
        const pb_group *g = &a->groups[gi];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "runtime", g->runtime);
        cJSON_AddStringToObject(x, "config", g->config);
        summary(x, "eff", &g->eff);
        ratio(x, "seqref", &g->seqref);
        num(x, "rho", g->order.rho);
        num(x, "rho_p", g->order.rho_p);
        num(x, "first_diff", g->order.first_diff);
        num(x, "first_t", g->order.first_t);
        num(x, "first_p", g->order.first_p);
        num(x, "q1", g->order.tukey.q1);
        num(x, "q3", g->order.tukey.q3);
        num(x, "n_mild", (double)g->order.tukey.n_mild);
        num(x, "n_severe", (double)g->order.tukey.n_severe);
        cJSON_AddItemToArray(groups, x);
    }
    cJSON *rts = cJSON_AddArrayToObject(root, "runtimes");
    for (size_t r = 0; r < a->n_rts; r++) {
        const pb_rt *rt = &a->rts[r];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "runtime", rt->runtime);
        summary(x, "eff", &rt->eff);
        ratio(x, "seqref", &rt->seqref);
        cJSON *gm = cJSON_AddObjectToObject(x, "paired_speedup");
        num(gm, "n", (double)rt->paired_speedup.n);
        num(gm, "gm", rt->paired_speedup.gm);
        num(gm, "lo", rt->paired_speedup.lo);
        num(gm, "hi", rt->paired_speedup.hi);
        num(x, "best_boot_lo", rt->best_boot_lo);
        num(x, "best_boot_hi", rt->best_boot_hi);
        cJSON_AddItemToArray(rts, x);
    }
    cJSON *an = cJSON_AddObjectToObject(root, "anova");
    for (int m = 0; m < PB_M_COUNT; m++) {
        const pb_anova *v = &a->anova[m];
        if (v->n == 0)
            continue;
        cJSON *x = cJSON_AddObjectToObject(an, pb_metrics[m].key);
        cJSON_AddStringToObject(x, "ss_type", v->ss_type);
        const pb_anova_row *rows[] = {&v->a, &v->b, &v->ab, &v->err};
        const char *names[] = {"runtime", "config", "interaction", "error"};
        for (int k = 0; k < 4; k++) {
            cJSON *y = cJSON_AddObjectToObject(x, names[k]);
            num(y, "ss", rows[k]->ss);
            num(y, "df", rows[k]->df);
            num(y, "F", rows[k]->F);
            num(y, "p", rows[k]->p);
        }
    }
    cJSON *cs = cJSON_AddArrayToObject(root, "comparisons");
    for (size_t i = 0; i < a->n_cmps; i++) {
        const pb_comparison *c = &a->cmps[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "metric", pb_metrics[c->metric].key);
        cJSON_AddStringToObject(x, "a", a->rts[c->a].runtime);
        cJSON_AddStringToObject(x, "b", a->rts[c->b].runtime);
        cJSON_AddBoolToObject(x, "log_scale", c->log_scale);
        cJSON_AddStringToObject(x, "family", c->family);
        num(x, "estimate", c->estimate);
        num(x, "lo", c->lo);
        num(x, "hi", c->hi);
        num(x, "p", c->p);
        num(x, "p_holm", c->p_holm);
        num(x, "mw_p_holm", c->c.mw_p_holm);
        compare(x, &c->c);
        num(x, "ve_z", c->ve.z);
        num(x, "ve_p", c->ve.p);
        num(x, "ve_p_holm", c->ve_p_holm);
        num(x, "adj", c->adj);
        num(x, "adj_lo", c->adj_lo);
        num(x, "adj_hi", c->adj_hi);
        num(x, "mdd", c->mdd);
        num(x, "target", c->target);
        num(x, "n_needed", c->n_needed);
        cJSON_AddItemToArray(cs, x);
    }
    return root;
}

int main(int argc, char **argv)
{
    pb_stats_init();
    if (argc == 5 && strcmp(argv[1], "--mw") == 0) {
        printf("%.17g\n", pb_stats_mw_cdf(strtoul(argv[2], NULL, 10),
                                          strtoul(argv[3], NULL, 10), atof(argv[4])));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--pair") == 0) {
        size_t na, nb;
        double *x = parse_list(argv[2], &na), *y = parse_list(argv[3], &nb);
        pb_compare c;
        pb_stats_compare(x, na, y, nb, &c);
        cJSON *root = cJSON_CreateObject();
        compare(root, &c);
        print(root);
        free(x), free(y);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--spearman") == 0) {
        size_t nx, ny, used;
        double *x = parse_list(argv[2], &nx), *y = parse_list(argv[3], &ny);
        double rho, p;
        pb_rank_spearman(x, y, nx < ny ? nx : ny, &rho, &p, &used);
        printf("%.17g %.17g\n", rho, p);
        free(x), free(y);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--clustered") == 0) {
        size_t nv, nc;
        double *v = parse_list(argv[2], &nv), *c = parse_list(argv[3], &nc);
        size_t *cl = malloc((nc + 1) * sizeof *cl);
        for (size_t k = 0; k < nc; k++)
            cl[k] = (size_t)c[k];
        pb_summary sm;
        pb_stats_summarize_clustered(v, cl, nv < nc ? nv : nc, &sm);
        printf("%.17g %.17g %.17g\n", sm.mean, sm.ci_lo, sm.ci_hi);
        free(v), free(c), free(cl);
        return 0;
    }
    pb_analysis_opts o = {.boot_reps = 2000, .seed = 1};
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (!strcmp(argv[i], "--sequential-ref")) o.sequential_ref = argv[i + 1];
        else if (!strcmp(argv[i], "--baseline")) o.baseline = argv[i + 1];
        else if (!strcmp(argv[i], "--seed")) o.seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--bootstrap")) o.boot_reps = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--drop-first")) o.drop_first = (size_t)atoi(argv[i + 1]);
        else { fprintf(stderr, "stats_dump: unknown option %s\n", argv[i]); return 2; }
    }
    if (i >= argc) {
        fprintf(stderr, "stats_dump: no PATH given\n");
        return 2;
    }
    pb_load_opts lo;
    pb_load_opts_init(&lo);
    lo.quiet = 1;
    pb_dataset ds = {0};
    pb_load_paths(&ds, argv + i, argc - i, &lo);
    pb_analysis a;
    if (pb_analysis_build_opts(&ds, &o, &a) != 0) {
        fprintf(stderr, "stats_dump: out of memory\n");
        return 1;
    }
    print(dump_analysis(&ds, &a));
    pb_analysis_free(&a);
    pb_dataset_free(&ds);
    return 0;
}
