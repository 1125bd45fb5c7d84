/* pb_ratio: see pb_ratio.h for the why. */
#include "pb_ratio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_stats.h"

void pb_ratio_fieller(double a, double va, double b, double vb, double q,
                      double *lo, double *hi, int *unbounded)
{
    double R = a / b;
    double g = q * q * vb / (b * b);
    *lo = *hi = NAN;
    *unbounded = 0;
    /* g >= 1: the denominator's interval contains 0, and the set of
     * ratios compatible with the data is not an interval. */
    if (!(g < 1)) {
        *unbounded = 1;
        return;
    }
    double h = q / fabs(b) * sqrt(va * (1 - g) + R * R * vb);
    *lo = (R - h) / (1 - g);
    *hi = (R + h) / (1 - g);
}

/* Per stratum: count, mean and variance of the mean on each side. */
typedef struct side { size_t n; double sum, ss, mean, var_mean; } side;

static void side_finish(side *s)
{
    s->mean = s->sum / (double)s->n;
    /* Second pass not available here: ss is accumulated about a shifted
     * origin (see the caller), so the subtraction is well conditioned. */
    s->var_mean = s->n >= 2 ? (s->ss - s->sum * s->sum / (double)s->n) /
                                  (double)(s->n - 1) / (double)s->n
                            : NAN;
}

/* Sums of the stratum means and their variances over the strata usable on
 * both sides; returns how many. dfa/dfb get per-stratum v and df for the
 * Satterthwaite combination (caller-sized arrays, may be NULL). */
static size_t combine(const side *sn, const side *sd, size_t ns, double *a,
                      double *va, double *b, double *vb)
{
    size_t k = 0;
    *a = *va = *b = *vb = 0;
    for (size_t s = 0; s < ns; s++) {
        if (sn[s].n < 2 || sd[s].n < 2)
            continue;
        *a += sn[s].mean;
        *va += sn[s].var_mean;
        *b += sd[s].mean;
        *vb += sd[s].var_mean;
        k++;
    }
    return k;
}

static void fill(side *sides, const double *x, const size_t *st, size_t n,
                 const size_t *pick, double shift)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = pick ? pick[i] : i;
        if (!isfinite(x[j]))
            continue;
        side *s = &sides[st[j]];
        double v = x[j] - shift;
        s->n++;
        s->sum += v;
        s->ss += v * v;
    }
}

/* Values of one side grouped by stratum: mem[off[s] .. off[s+1]) are the
 * indices of stratum s's finite values (a counting sort, built once). */
static size_t *members(const double *x, const size_t *st, size_t n, size_t ns,
                       size_t *off)
{
    size_t *mem = malloc((n + 1) * sizeof *mem);
    if (!mem)
        return NULL;
    memset(off, 0, (ns + 1) * sizeof *off);
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            off[st[i] + 1]++;
    for (size_t s = 0; s < ns; s++)
        off[s + 1] += off[s];
    size_t *fillp = malloc((ns + 1) * sizeof *fillp);
    if (!fillp) {
        free(mem);
        return NULL;
    }
    memcpy(fillp, off, (ns + 1) * sizeof *fillp);
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            mem[fillp[st[i]]++] = i;
    free(fillp);
    return mem;
}

/* Percentile bootstrap of a / b: each side resampled with replacement
 * within each usable stratum, so every replicate has the data's design. */
static void ratio_boot(const double *num, const size_t *num_st, size_t n_num,
                       const double *den, const size_t *den_st, size_t n_den,
                       const side *sn, const side *sd, size_t ns, unsigned reps,
                       uint32_t seed, pb_ratio *o)
{
    double *rep = malloc((size_t)reps * sizeof *rep);
    size_t *off_n = malloc((ns + 1) * sizeof *off_n);
    size_t *off_d = malloc((ns + 1) * sizeof *off_d);
    size_t *mem_n = off_n ? members(num, num_st, n_num, ns, off_n) : NULL;
    size_t *mem_d = off_d ? members(den, den_st, n_den, ns, off_d) : NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (rep && mem_n && mem_d && r) {
        gsl_rng_set(r, seed);
        size_t used = 0;
        for (unsigned k = 0; k < reps; k++) {
            double ra = 0, rb = 0;
            for (size_t s = 0; s < ns; s++) {
                if (sn[s].n < 2 || sd[s].n < 2)
                    continue;
                double su = 0;
                for (size_t i = 0; i < sn[s].n; i++)
                    su += num[mem_n[off_n[s] + gsl_rng_uniform_int(r, sn[s].n)]];
                ra += su / (double)sn[s].n;
                su = 0;
                for (size_t i = 0; i < sd[s].n; i++)
                    su += den[mem_d[off_d[s] + gsl_rng_uniform_int(r, sd[s].n)]];
                rb += su / (double)sd[s].n;
            }
            if (rb != 0)
                rep[used++] = ra / rb;
        }
        if (used > 1) {
            gsl_sort(rep, 1, used);
            o->boot_lo = gsl_stats_quantile_from_sorted_data(rep, 1, used, 0.025);
            o->boot_hi = gsl_stats_quantile_from_sorted_data(rep, 1, used, 0.975);
        }
    }
    free(rep), free(off_n), free(off_d), free(mem_n), free(mem_d);
    if (r)
        gsl_rng_free(r);
}

int pb_ratio_of_means(const double *num, const size_t *num_st, size_t n_num,
                      const double *den, const size_t *den_st, size_t n_den,
                      size_t ns, unsigned reps, uint32_t seed, pb_ratio *o)
{
    memset(o, 0, sizeof *o);
    o->est = o->lo = o->hi = o->df = o->se = o->boot_lo = o->boot_hi = NAN;
    side *sn = calloc(ns ? 2 * ns : 1, sizeof *sn);
    if (!sn)
        return -1;
    side *sd = sn + ns;
    /* Shift by the first finite value: sums of squares about a nearby
     * origin, so wall times of 1e4 s lose no digits in ss - sum^2/n. */
    double shift = 0;
    for (size_t i = 0; i < n_num; i++)
        if (isfinite(num[i])) { shift = num[i]; break; }
    fill(sn, num, num_st, n_num, NULL, shift);
    fill(sd, den, den_st, n_den, NULL, shift);
    for (size_t s = 0; s < ns; s++) {
        if (sn[s].n) { side_finish(&sn[s]); sn[s].mean += shift; }
        if (sd[s].n) { side_finish(&sd[s]); sd[s].mean += shift; }
    }
    double a, va, b, vb;
    o->n_strata = combine(sn, sd, ns, &a, &va, &b, &vb);
    for (size_t s = 0; s < ns; s++)
        if (sn[s].n >= 2 && sd[s].n >= 2) {
            o->n_num += sn[s].n;
            o->n_den += sd[s].n;
        }
    if (o->n_strata == 0 || b == 0) {
        free(sn);
        return 0;
    }
    o->est = a / b;
    o->se = fabs(o->est) * sqrt(va / (a * a) + vb / (b * b));
    o->a = a, o->va = va, o->b = b, o->vb = vb;
    /* The same sample on both sides (a runtime against itself): the ratio
     * is 1 by construction, not an estimate. */
    if (num == den && num_st == den_st && n_num == n_den) {
        o->est = o->lo = o->hi = 1;
        o->se = 0;
        o->df = INFINITY;
        if (reps)
            o->boot_lo = o->boot_hi = 1;
        free(sn);
        return 0;
    }
    /* Welch-Satterthwaite df of a - R b: components v (numerator, weight
     * 1) and R^2 v (denominator), each with n - 1 df. */
    double R = o->est, numer = va + R * R * vb, den_df = 0;
    for (size_t s = 0; s < ns; s++) {
        if (sn[s].n < 2 || sd[s].n < 2)
            continue;
        double x = sn[s].var_mean, y = R * R * sd[s].var_mean;
        den_df += x * x / (double)(sn[s].n - 1) + y * y / (double)(sd[s].n - 1);
    }
    o->df = den_df > 0 ? numer * numer / den_df : INFINITY;
    double q = isfinite(o->df) ? pb_stats_t_quantile(0.975, o->df)
                               : gsl_cdf_ugaussian_Pinv(0.975);
    pb_ratio_fieller(a, va, b, vb, q, &o->lo, &o->hi, &o->unbounded);
    if (o->lo < 0 && a > 0 && b > 0) {
        o->lo = 0;   /* never print an impossible bound; say it was clipped */
        o->clipped = 1;
    }

    /* The bootstrap resamples each stratum on its own: what matters for its
     * coverage is the size of every stratum, not the total (6 configs of 5
     * runs are 30 runs but resample 5 values at a time). */
    int boot_ok = reps > 0;
    for (size_t s = 0; s < ns && boot_ok; s++)
        if (sn[s].n >= 2 && sd[s].n >= 2)
            boot_ok = sn[s].n >= PB_BOOT_MIN_N && sd[s].n >= PB_BOOT_MIN_N;
    if (boot_ok)
        ratio_boot(num, num_st, n_num, den, den_st, n_den, sn, sd, ns, reps,
                   seed, o);
    free(sn);
    return 0;
}

void pb_ratio_geomean(const double *r, size_t n, pb_geomean *o)
{
    memset(o, 0, sizeof *o);
    o->gm = o->lo = o->hi = o->log_mean = o->log_sd = NAN;
    double *l = malloc((n ? n : 1) * sizeof *l);
    if (!l)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(r[i]) && r[i] > 0)
            l[m++] = log(r[i]);
    o->n = m;
    if (m > 0) {
        o->log_mean = gsl_stats_mean(l, 1, m);
        o->gm = exp(o->log_mean);
    }
    if (m >= 2) {
        o->log_sd = gsl_stats_sd_m(l, 1, m, o->log_mean);
        double h = pb_stats_t_quantile(0.975, (double)(m - 1)) * o->log_sd /
                   sqrt((double)m);
        o->lo = exp(o->log_mean - h);
        o->hi = exp(o->log_mean + h);
    }
    free(l);
}
