/* pb_warn: the front page's warnings (pb_warn.h). Thresholds are chosen so
 * that a warning is worth reading: each says which check fired and what
 * it found, never only "something is off". */
#include "pb_warn.h"
#include "pb_stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_exec.h"
#include "pb_result.h"
#include "pb_sampling.h"
#include "pb_servers.h"

const char *pb_warn_kind_id(pb_warn_kind k)
{
    static const char *const ID[PB_W_COUNT] = {
        "speedup_above_n", "solo_departs", "first_run", "tests_disagree",
        "setting_differs", "confounded_with_time", "robustness", "target_missed",
        "host_load", "model_event", "startup_dominates", "replay_baseline"};
    return k < PB_W_COUNT ? ID[k] : "unknown";
}

static int add(pb_warnings *w, pb_warn_kind k, const char *subject, const char *fmt, ...)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 8;
        pb_warning *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pb_warning *x = &w->v[w->n];
    x->kind = k;
    x->subject = strdup(subject ? subject : "");
    x->text = strdup(buf);
    if (!x->subject || !x->text) {
        free(x->subject), free(x->text);
        return -1;
    }
    w->n++;
    return 0;
}

/* 1. Speedup above N: N agents cannot finish more than N times faster
 * than one after the other; a measured efficiency above 100% means the
 * solo baseline or the clock is off (a cold first solo request, say). */
static int check_above_n(const pb_result *r, pb_warnings *w)
{
    const pb_answer *ans = &r->ans;
    for (size_t i = 0; i < ans->n_rts; i++) {
        const pb_answer_rt *a = &ans->rts[i];
        if (!a->estimator || pb_answer_self_ref(a) || !(a->n_agents > 0) ||
            !(a->estimate > a->n_agents))
            continue;
        if (add(w, PB_W_SPEEDUP_ABOVE_N, a->runtime,
                "%s (N = %.0f): speedup %.3gx is above N (efficiency %.0f%%): impossible for "
                "%.0f agents; the solo baseline or the clock is off (e.g. a cold solo request "
                "that loaded the model), not a real speedup.", a->runtime, a->n_agents,
                a->estimate, a->estimate / a->n_agents * 100, a->n_agents))
            return -1;
    }
    return 0;
}

/* Median and scaled MAD (x 1.4826: the SD of normal data) of v[0..n). */
static void med_mad(double *v, size_t n, double *med, double *mad)
{
    gsl_sort(v, 1, n);
    *med = gsl_stats_median_from_sorted_data(v, 1, n);
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - *med);
    gsl_sort(v, 1, n);
    *mad = 1.4826 * gsl_stats_median_from_sorted_data(v, 1, n);
}

/* 2. Solo phases that depart from the others: every solo phase asks the
 * same of the server, so a run whose solo TTFT or server rate is far from
 * the rest (robust z > 3.5 and more than 25% off the median) had a
 * starved host or server, and its measured speedup is off with it. */
static int check_solo(const pb_result *r, pb_warnings *w)
{
    const pb_dataset *ds = r->ds;
    size_t n = ds->n_runs;
    double *v = malloc((2 * n + 1) * sizeof *v), *tmp = v ? v + n : NULL;
    if (!v)
        return -1;
    static const char *const WHAT[2] = {"TTFT", "server eval rate"};
    static const char *const UNIT[2] = {"ms", "tokens/s"};
    int rc = 0;
    for (int q = 0; q < 2 && rc == 0; q++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            const pb_run *run = &ds->runs[i];
            double s = 0;
            size_t k = 0;
            for (size_t j = 0; run->valid && j < run->n_agents; j++) {
                const pb_agent *ag = &run->agents[j];
                double x = q ? ag->solo.server_rate : ag->solo.ttft_ms;
                if (ag->has_solo && isfinite(x))
                    s += x, k++;
            }
            v[i] = k ? s / (double)k : NAN;
            if (k)
                tmp[m++] = v[i];
        }
        if (m < 5)
            continue;
        double med, mad;
        med_mad(tmp, m, &med, &mad);
        size_t bad = 0;
        long first = -1;
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i]) && mad > 0 && fabs(v[i] - med) / mad > 3.5 &&
                fabs(v[i] - med) > 0.25 * fabs(med)) {
                if (first < 0)
                    first = (long)i;
                bad++;
            }
        if (bad)
            rc = add(w, PB_W_SOLO_DEPARTS, WHAT[q],
                     "%zu of %zu runs have solo phases whose %s departs from the other solo "
                     "phases (median %.4g %s), e.g. %s %s run %d: %.4g %s; a starved host or "
                     "server during the solo phase skews that run's measured speedup.",
                     bad, m, WHAT[q], med, UNIT[q], ds->runs[first].runtime,
                     ds->runs[first].config, ds->runs[first].run_index, v[first], UNIT[q]);
    }
    free(v);
    return rc;
}

/* The verdict row of alt matching a's runtime and N, or NULL. */
static const pb_answer_rt *row_of(const pb_answer *alt, const pb_answer_rt *a)
{
    for (size_t i = 0; i < alt->n_rts; i++)
        if (strcmp(alt->rts[i].runtime, a->runtime) == 0 &&
            alt->rts[i].n_agents == a->n_agents)
            return &alt->rts[i];
    return NULL;
}

/* 3. First-run effect: run 1 of a group against the later runs
 * (pb_rank_first_run), Holm over the groups; the cause when the data show
 * it (the model's load time of run 1 against the others), and what
 * --drop-first 1 does to the answer. */
static int check_first_run(const pb_result *r, const pb_answer *drop1, pb_warnings *w)
{
    const pb_analysis *an = &r->an;
    if (an->n_groups == 0 || r->opts.drop_first > 0)
        return 0;
    double *p = malloc(an->n_groups * sizeof *p);
    if (!p)
        return -1;
    for (size_t g = 0; g < an->n_groups; g++)
        p[g] = isfinite(an->groups[g].order.first_p) ? an->groups[g].order.first_p : 1;
    pb_stats_holm(p, an->n_groups, p);
    size_t sig = 0, slower = 0;
    double load1 = 0, load_rest = 0;
    size_t nl1 = 0, nlr = 0;
    for (size_t g = 0; g < an->n_groups; g++) {
        const pb_group *gr = &an->groups[g];
        if (p[g] < 0.05) {
            sig++;
            slower += gr->order.first_diff > 0;
        }
        /* Cause: the server's load_duration of run 1 against the later
         * runs, over every group (a reload is a property of run 1). */
        for (size_t k = 0; k < gr->n; k++) {
            double l = r->dv[gr->runs[k]].req.load_ms;
            if (!isfinite(l))
                continue;
            if (k == 0)
                load1 += l, nl1++;
            else
                load_rest += l, nlr++;
        }
    }
    free(p);
    if (!sig)
        return 0;
    char cause[256] = "";
    if (nl1 && nlr && load1 / (double)nl1 > 3 * load_rest / (double)nlr)
        snprintf(cause, sizeof cause, " Cause in the data: run 1's model load takes %.0f ms "
                 "against %.0f ms in the later runs (a model reload).", load1 / (double)nl1,
                 load_rest / (double)nlr);
    /* What dropping the first run does to each verdict. */
    char change[512] = "";
    size_t used = 0;
    for (size_t i = 0; drop1 && i < r->ans.n_rts; i++) {
        const pb_answer_rt *a = &r->ans.rts[i], *b = row_of(drop1, a);
        if (!a->estimator || pb_answer_self_ref(a) || !b || !b->estimator)
            continue;
        int k = snprintf(change + used, sizeof change - used, "%s%s %s %s (%.3gx)",
                         used ? "; " : "", a->runtime, a->verdict == b->verdict ? "stays" :
                         "becomes", pb_answer_verdict_word(b->verdict), b->estimate);
        if (k < 0 || (size_t)k >= sizeof change - used)
            break;
        used += (size_t)k;
    }
    return add(w, PB_W_FIRST_RUN, "first run",
               "Run 1 differs from the later runs in %zu of %zu runtime x config groups "
               "(Holm-adjusted p < 0.05; %zu of them slower).%s Under --drop-first 1: %s.",
               sig, an->n_groups, slower, cause, used ? change : "no verdict to compare");
}

/* 4. Welch and Mann-Whitney disagree (one significant after Holm, the
 * other not): the difference rests on a few runs or on the distribution's
 * shape. One line for all comparisons: the count per metric and the
 * first pair. */
static int check_tests(const pb_result *r, pb_warnings *w)
{
    const pb_analysis *an = &r->an;
    size_t per[PB_M_COUNT] = {0}, total = 0, tested = 0;
    const pb_comparison *ex = NULL;
    for (size_t i = 0; i < an->n_cmps; i++) {
        const pb_comparison *c = &an->cmps[i];
        if (!isfinite(c->p_holm) || !isfinite(c->c.mw_p_holm))
            continue;
        tested++;
        if ((c->p_holm < 0.05) == (c->c.mw_p_holm < 0.05))
            continue;
        per[c->metric]++;
        total++;
        if (!ex)
            ex = c;
    }
    if (!total)
        return 0;
    char list[512] = "";
    size_t used = 0;
    for (int m = 0; m < PB_M_COUNT; m++)
        if (per[m] && used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s %zu",
                                     used ? ", " : "", pb_metrics[m].name, per[m]);
    return add(w, PB_W_TESTS_DISAGREE, pb_metrics[ex->metric].key,
               "Welch and Mann-Whitney disagree on %zu of %zu comparisons (%s; Holm-adjusted "
               "p, 0.05), e.g. %s, %s vs %s: Welch p = %.2g, Mann-Whitney p = %.2g. Such a "
               "difference rests on a few runs or on the distributions' shape: see the effect "
               "sizes in the full report.", total, tested, list, pb_metrics[ex->metric].name,
               an->rts[ex->a].runtime, an->rts[ex->b].runtime, ex->p_holm,
               ex->c.mw_p_holm);
}

/* 5. Runs that differ in a setting: comparing runtimes measured under
 * different models, emulator presets, time scales, servers or hosts
 * compares the settings too. Names the key and two of its values. */
static int check_settings(const pb_result *r, pb_warnings *w)
{
    const pb_dataset *ds = r->ds;
    enum { K_MODEL, K_PRESET, K_SCALE, K_SERVER, K_HOST, K_COUNT };
    static const char *const KEY[K_COUNT] = {"model", "emulator preset",
                                             "emulator time scale", "server version", "host"};
    const char *first[K_COUNT] = {0}, *other[K_COUNT] = {0};
    const char *rt_first[K_COUNT] = {0}, *rt_other[K_COUNT] = {0};
    char scale[2][32];
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run *run = &ds->runs[i];
        if (!run->valid)
            continue;
        const char *val[K_COUNT] = {0};
        for (size_t k = 0; k < run->n_agents && !val[K_MODEL]; k++)
            val[K_MODEL] = run->agents[k].model;
        val[K_PRESET] = run->emu_preset;
        char sbuf[32];
        if (run->emu_time_scale > 0) {
            snprintf(sbuf, sizeof sbuf, "%gx", run->emu_time_scale);
            val[K_SCALE] = sbuf;
        }
        for (size_t k = 0; k < run->n_servers && !val[K_SERVER]; k++)
            val[K_SERVER] = run->servers[k].version;
        val[K_HOST] = run->host;
        for (int k = 0; k < K_COUNT; k++) {
            if (!val[k] || other[k])
                continue;
            if (!first[k]) {
                first[k] = k == K_SCALE ? strcpy(scale[0], val[k]) : val[k];
                rt_first[k] = run->runtime;
            } else if (strcmp(first[k], val[k]) != 0) {
                other[k] = k == K_SCALE ? strcpy(scale[1], val[k]) : val[k];
                rt_other[k] = run->runtime;
            }
        }
    }
    for (int k = 0; k < K_COUNT; k++)
        if (other[k] && add(w, PB_W_SETTING_DIFFERS, KEY[k],
                            "The runs differ in the setting '%s': %s (e.g. %s) and %s (e.g. "
                            "%s); runtimes measured under different settings are not "
                            "comparable on it.", KEY[k], first[k], rt_first[k], other[k],
                            rt_other[k]))
            return -1;
    return 0;
}

static const pb_dataset *g_ds; /* qsort has no context argument */

static int cmp_time(const void *a, const void *b)
{
    const pb_run *x = &g_ds->runs[*(const size_t *)a], *y = &g_ds->runs[*(const size_t *)b];
    return strcmp(x->wall_origin, y->wall_origin);
}

/* 6. Runtime confounded with time: when each runtime's runs were collected
 * in one contiguous block (TR115: one runtime after the other), a drift of
 * the machine (thermal state, background load, a server restart) is
 * indistinguishable from a difference between runtimes. parbench's own
 * sweeps interleave (run k of every config and runtime, then run k + 1). */
static int check_time(const pb_result *r, pb_warnings *w)
{
    const pb_dataset *ds = r->ds;
    if (r->an.n_rts < 2)
        return 0;
    size_t *idx = malloc((ds->n_runs + 1) * sizeof *idx), n = 0;
    if (!idx)
        return -1;
    for (size_t i = 0; i < ds->n_runs; i++)
        if (ds->runs[i].valid && ds->runs[i].wall_origin && ds->runs[i].runtime)
            idx[n++] = i;
    g_ds = ds;
    qsort(idx, n, sizeof *idx, cmp_time);
    /* Blocks: maximal stretches of one runtime in time order. */
    size_t blocks = 0;
    for (size_t i = 0; i < n; i++)
        blocks += i == 0 || strcmp(ds->runs[idx[i]].runtime, ds->runs[idx[i - 1]].runtime) != 0;
    int rc = 0;
    if (n >= 2 * r->an.n_rts && blocks == r->an.n_rts)
        rc = add(w, PB_W_CONFOUNDED_TIME, "runtime",
                 "The %zu runs were collected one runtime after another, each in one contiguous "
                 "block (%s first, from %s; %s last, to %s): a drift of the machine over time is "
                 "indistinguishable from a difference between runtimes. Interleave runtimes "
                 "(parbench's sweeps do: run k of every runtime, then run k + 1).", n,
                 ds->runs[idx[0]].runtime, ds->runs[idx[0]].wall_origin,
                 ds->runs[idx[n - 1]].runtime, ds->runs[idx[n - 1]].wall_origin);
    free(idx);
    return rc;
}

/* Sum of the agents' concurrent tokens (NAN when one lacks it). */
static double run_tokens(const pb_run *run)
{
    double t = 0;
    for (size_t k = 0; k < run->n_agents; k++) {
        if (!isfinite(run->agents[k].conc.tokens) || run->agents[k].conc.tokens <= 0)
            return NAN;
        t += run->agents[k].conc.tokens;
    }
    return run->n_agents ? t : NAN;
}

/* The row's per-token verdict: against the solo phases the token-normalised
 * speedup's geometric mean; against the reference the ratio of means of
 * wall per token. NONE when the data cannot tell. */
static pb_verdict per_token(const pb_result *r, const pb_answer_rt *a, double *est)
{
    const pb_analysis *an = &r->an;
    const pb_rt *rt = &an->rts[a->rt];
    size_t cap = rt->n_runs + 1;
    double *v = malloc(cap * sizeof *v);
    if (!v)
        return PB_VERDICT_NONE;
    pb_verdict out = PB_VERDICT_NONE;
    if (strcmp(a->estimator, "solo_geomean_t") == 0) {
        size_t m = 0;
        for (size_t g = rt->first_group; g < rt->first_group + rt->n_groups; g++)
            for (size_t k = 0; k < an->groups[g].n; k++) {
                size_t i = an->groups[g].runs[k];
                if ((double)r->ds->runs[i].n_agents == a->n_agents)
                    v[m++] = r->dv[i].tok_speedup;
            }
        pb_geomean gm;
        pb_ratio_geomean(v, m, &gm);
        if (gm.n >= 2) {
            *est = gm.gm;
            out = pb_answer_verdict(gm.n, gm.lo, gm.hi, 0);
        }
    } else if (an->seqref >= 0) {
        /* Wall per token of the reference over the runtime's, by config. */
        const pb_rt *ref = &an->rts[an->seqref];
        size_t cr = ref->n_runs + 1;
        double *u = malloc(cr * sizeof *u);
        size_t *su = malloc(cr * sizeof *su), *sv = malloc(cap * sizeof *sv);
        if (u && su && sv) {
            size_t nu = 0, nv = 0;
            for (int side = 0; side < 2; side++) {
                const pb_rt *x = side ? rt : ref;
                for (size_t g = x->first_group; g < x->first_group + x->n_groups; g++)
                    for (size_t k = 0; k < an->groups[g].n; k++) {
                        const pb_run *run = &r->ds->runs[an->groups[g].runs[k]];
                        if ((double)run->n_agents != a->n_agents)
                            continue;
                        double y = run->wall_s / run_tokens(run);
                        if (side)
                            v[nv] = y, sv[nv++] = an->groups[g].cfg;
                        else
                            u[nu] = y, su[nu++] = an->groups[g].cfg;
                    }
            }
            pb_ratio q;
            if (pb_ratio_of_means(u, su, nu, v, sv, nv, an->n_configs, 0, 0, &q) == 0 &&
                isfinite(q.est)) {
                *est = q.est;
                out = pb_answer_verdict(q.n_den, q.lo, q.hi, q.unbounded);
            }
        }
        free(u), free(su), free(sv);
    }
    free(v);
    return out;
}

/* The row's verdict at the Bonferroni level 0.05 / k (k runtimes compared
 * with one baseline at this N). */
static pb_verdict multiplicity(const pb_answer_rt *a, size_t k)
{
    double alpha = 0.05 / (double)k, lo = NAN, hi = NAN;
    int unb = 0;
    if (strcmp(a->estimator, "solo_geomean_t") == 0) {
        if (a->n < 2 || !isfinite(a->rel_se))
            return a->verdict;
        double q = pb_stats_t_quantile(1 - alpha / 2, (double)a->n - 1);
        lo = a->estimate * exp(-q * a->rel_se);
        hi = a->estimate * exp(q * a->rel_se);
    } else {
        const pb_ratio *x = &a->ratio;
        if (!isfinite(x->df) || !isfinite(x->a))
            return a->verdict;
        double q = pb_stats_t_quantile(1 - alpha / 2, x->df);
        pb_ratio_fieller(x->a, x->va, x->b, x->vb, q, &lo, &hi, &unb);
        if (lo < 0)
            lo = 0;
    }
    return pb_answer_verdict(a->n, lo, hi, unb);
}

/* 7. A verdict a robustness check would flip: dropping the first run,
 * normalising per token, or correcting for comparing k runtimes with one
 * baseline. One line per runtime (and N) whose verdict moves. */
static int check_robust(const pb_result *r, const pb_answer *drop1, pb_warnings *w)
{
    const pb_answer *ans = &r->ans;
    for (size_t i = 0; i < ans->n_rts; i++) {
        const pb_answer_rt *a = &ans->rts[i];
        if (!a->estimator || pb_answer_self_ref(a) || a->verdict == PB_VERDICT_SINGLE ||
            a->verdict == PB_VERDICT_NONE)
            continue;
        size_t k = 0;
        for (size_t j = 0; j < ans->n_rts; j++)
            k += ans->rts[j].estimator && !pb_answer_self_ref(&ans->rts[j]) &&
                 ans->rts[j].n_agents == a->n_agents;
        char what[600] = "";
        size_t used = 0;
        const pb_answer_rt *b = drop1 ? row_of(drop1, a) : NULL;
        if (b && b->estimator && b->verdict != a->verdict && b->verdict != PB_VERDICT_SINGLE)
            used += (size_t)snprintf(what + used, sizeof what - used,
                                     "%s--drop-first 1 says %s (%.3gx)", used ? "; " : "",
                                     pb_answer_verdict_word(b->verdict), b->estimate);
        double te = NAN;
        pb_verdict tv = per_token(r, a, &te);
        if (tv != PB_VERDICT_NONE && tv != PB_VERDICT_SINGLE && tv != a->verdict &&
            used < sizeof what)
            used += (size_t)snprintf(what + used, sizeof what - used,
                                     "%sper token it is %s (%.3gx)", used ? "; " : "",
                                     pb_answer_verdict_word(tv), te);
        pb_verdict mv = k > 1 ? multiplicity(a, k) : a->verdict;
        if (mv != a->verdict && used < sizeof what)
            used += (size_t)snprintf(what + used, sizeof what - used,
                                     "%scorrected for %zu runtimes against one baseline "
                                     "(Bonferroni: %.4g%% intervals) it is %s",
                                     used ? "; " : "", k, 100 * (1 - 0.05 / (double)k),
                                     pb_answer_verdict_word(mv));
        if (used && add(w, PB_W_ROBUSTNESS, a->runtime, "%s (N = %.0f): verdict %s, but %s.",
                        a->runtime, a->n_agents, pb_answer_verdict_word(a->verdict), what))
            return -1;
    }
    return 0;
}

/* collect --target-ci groups whose final interval is wider than the target
 * (pb_sampling: capped by --max-runs, or runs that spread more than the
 * pilot), one line each: a precision the reader asked for and did not get. */
static int check_target(const pb_result *r, pb_warnings *w)
{
    pb_sampling_group *sg;
    size_t n;
    if (pb_sampling_build(r->ds, &sg, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const pb_sampling_group *g = &sg[i];
        if (g->met)
            continue;
        char subj[300];
        snprintf(subj, sizeof subj, "%s / %s", g->runtime, g->config);
        if (isfinite(g->halfwidth_pct))
            rc = add(w, PB_W_TARGET_MISSED, subj, "%s / %s missed --target-ci %g: +-%.2f%% "
                     "after %zu runs (%s).", g->runtime, g->config, g->target_pct,
                     g->halfwidth_pct, g->n_runs,
                     (int)g->n_runs >= g->max_runs ? "capped by --max-runs"
                                                   : "the runs spread more than the pilot");
        else
            rc = add(w, PB_W_TARGET_MISSED, subj, "%s / %s missed --target-ci %g: no interval "
                     "(fewer than 2 valid pilot runs).", g->runtime, g->config, g->target_pct);
    }
    free(sg);
    return rc;
}

/* "runtime/config run k" of runs idx[0..n), the first four, then how many more. */
static void run_list(const pb_dataset *ds, const size_t *idx, size_t n, char *buf, size_t len)
{
    size_t l = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 4 && l < len; i++) {
        const pb_run *r = &ds->runs[idx[i]];
        l += (size_t)snprintf(buf + l, len - l, "%s%s/%s run %d", i ? ", " : "", r->runtime,
                              r->config, r->run_index);
    }
    if (n > 4 && l < len)
        snprintf(buf + l, len - l, " and %zu more", n - 4);
}

/* 9. Host load (phases[].host, pb_servers.c): a load average above the
 * CPU count, or steal above PB_HOST_STEAL_WARN_PCT, during a valid run's
 * measured phases means other work (other jobs, a VM's neighbours) took
 * CPU the runs needed, so their times include it. */
static int check_host(const pb_result *r, pb_warnings *w)
{
    const pb_dataset *ds = r->ds;
    size_t *idx = malloc((ds->n_runs + 1) * sizeof *idx), n = 0, valid = 0;
    if (!idx)
        return -1;
    double load = 0, cpus = 0, steal = 0;
    for (size_t i = 0; i < ds->n_runs; i++) {
        const pb_run_telemetry *t = ds->runs[i].tel;
        if (!ds->runs[i].valid || !t || !(isfinite(t->host_load) || isfinite(t->host_steal_pct)))
            continue;
        valid++;
        int loaded = t->host_cpus > 0 && t->host_load > t->host_cpus;
        int stolen = t->host_steal_pct > PB_HOST_STEAL_WARN_PCT;
        if (!loaded && !stolen)
            continue;
        idx[n++] = i;
        if (t->host_load > load) {
            load = t->host_load;
            cpus = t->host_cpus;
        }
        if (t->host_steal_pct > steal)
            steal = t->host_steal_pct;
    }
    int rc = 0;
    if (n) {
        char runs[512], what[200] = "";
        run_list(ds, idx, n, runs, sizeof runs);
        if (load > cpus && cpus > 0)
            snprintf(what, sizeof what, "a 1-minute load average above the CPU count (up to "
                     "%.1f on %.0f CPUs)", load, cpus);
        if (steal > PB_HOST_STEAL_WARN_PCT) {
            size_t l = strlen(what);
            snprintf(what + l, sizeof what - l, "%sCPU steal above %.0f%% (up to %.1f%%)",
                     l ? " and " : "", PB_HOST_STEAL_WARN_PCT, steal);
        }
        rc = add(w, PB_W_HOST_LOAD, "host", "Host loaded during collection: %zu of %zu runs "
                 "had measured phases with %s: %s. Their times include other work on the "
                 "machine; collect again on an idle host.", n, valid, what, runs);
    }
    free(idx);
    return rc;
}

/* 10. A model loaded, reloaded or evicted while a measured phase ran
 * (/api/ps, pb_servers.c): that alone can explain a slow run. */
static int check_models(const pb_result *r, pb_warnings *w)
{
    const pb_dataset *ds = r->ds;
    size_t *idx = malloc((ds->n_runs + 1) * sizeof *idx), n = 0;
    if (!idx)
        return -1;
    for (size_t i = 0; i < ds->n_runs; i++)
        if (ds->runs[i].valid && ds->runs[i].model_events)
            idx[n++] = i;
    int rc = 0;
    if (n) {
        char runs[512];
        run_list(ds, idx, n, runs, sizeof runs);
        const pb_run *f = &ds->runs[idx[0]];
        rc = add(w, PB_W_MODEL_EVENT, "model", "A model was loaded, reloaded or evicted during "
                 "a measured phase in %zu run%s (%s; first: %.300s): the load time is in "
                 "those runs' times (warm every model the agents use, keep OLLAMA_KEEP_ALIVE "
                 "long, give OLLAMA_MAX_LOADED_MODELS room).", n, n == 1 ? "" : "s", runs,
                 f->model_events);
    }
    free(idx);
    return rc;
}

/* Exec runtimes (data/EXEC.md). A program whose process span (spawn to
 * exit) is more than PB_EXEC_STARTUP_RATIO times its wire span spends most
 * of what a user waits for starting and stopping, which the speedup (on
 * the wire span) leaves out. A replayed solo baseline is parbench's serial
 * driver, not the program: the speedup then compares two clients. One
 * line per kind listing the runtimes (subject: their names, ", "-joined),
 * so a sweep of many programs keeps the front page short. */
static int check_exec(const pb_result *r, pb_warnings *w)
{
    long mp = pb_metrics_index("process_span_s"), mw = pb_metrics_index("wire_span_s");
    char subj[2][512] = {"", ""}, list[2][1024] = {"", ""};
    size_t n[2] = {0, 0};
    for (size_t t = 0; t < r->an.n_rts; t++) {
        const char *rt = r->an.rts[t].runtime;
        pb_measured_by by = pb_exec_rt_by(r, t, NULL);
        if (by == PB_BY_DRIVER)
            continue;
        const pb_summary *p = pb_result_rsum(r, t, (size_t)mp);
        const pb_summary *q = pb_result_rsum(r, t, (size_t)mw);
        int k0 = p->n && q->n && q->mean > 0 && p->mean > PB_EXEC_STARTUP_RATIO * q->mean;
        int k1 = by == PB_BY_PROXY_REPLAY;
        for (int k = 0; k < 2; k++) {
            if (!(k ? k1 : k0))
                continue;
            size_t ls = strlen(subj[k]), ll = strlen(list[k]);
            snprintf(subj[k] + ls, sizeof subj[k] - ls, "%s%s", n[k] ? ", " : "", rt);
            if (k == 0)
                snprintf(list[k] + ll, sizeof list[k] - ll, "%s%s %.3g s vs %.3g s",
                         n[k] ? ", " : "", rt, p->mean, q->mean);
            else
                snprintf(list[k] + ll, sizeof list[k] - ll, "%s%s", n[k] ? ", " : "", rt);
            n[k]++;
        }
    }
    if (n[0] && add(w, PB_W_STARTUP_DOMINATES, subj[0], "Start-up dominates: process span "
                    "(spawn to exit) over %gx the wire span (means): %s; speedups leave it out.",
                    PB_EXEC_STARTUP_RATIO, list[0]) != 0)
        return -1;
    if (n[1] && add(w, PB_W_REPLAY_BASELINE, subj[1], "Solo baseline replayed by parbench's "
                    "serial driver, not the program (same bodies and seeds): %s; the speedup "
                    "compares the program together with parbench alone.", list[1]) != 0)
        return -1;
    return 0;
}

int pb_warn_build(const pb_result *r, pb_warnings *out)
{
    memset(out, 0, sizeof *out);
    /* The answer with one more run dropped per group, without bootstrap
     * (the answer's intervals do not use it). */
    pb_analysis alt;
    pb_answer drop1 = {0};
    pb_analysis_opts ao = {.seed = r->opts.seed, .baseline = r->opts.baseline,
                           .sequential_ref = r->opts.sequential_ref,
                           .drop_first = r->opts.drop_first + 1, .answer_only = 1};
    int have = pb_analysis_build_opts(r->ds, &ao, &alt) == 0;
    if (have && pb_answer_build(r->ds, &alt, r->opts.sequential_ref, &drop1) != 0) {
        pb_analysis_free(&alt);
        have = 0;
    }
    int rc = have ? 0 : -1;
    if (rc == 0)
        rc = check_above_n(r, out) || check_solo(r, out) ||
             check_first_run(r, &drop1, out) || check_tests(r, out) ||
             check_settings(r, out) || check_time(r, out) || check_robust(r, &drop1, out) ||
             check_target(r, out) || check_host(r, out) || check_models(r, out) ||
             check_exec(r, out)
             ? -1 : 0;
    if (have) {
        pb_answer_free(&drop1);
        pb_analysis_free(&alt);
    }
    if (rc != 0)
        pb_warn_free(out);
    return rc;
}

void pb_warn_free(pb_warnings *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].subject);
        free(w->v[i].text);
    }
    free(w->v);
    memset(w, 0, sizeof *w);
}
