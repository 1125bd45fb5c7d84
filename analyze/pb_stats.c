#include "pb_stats.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_statistics_double.h>

#include "pb_hash.h"

void pb_stats_init(void)
{
    /* GSL's default handler calls abort(); a bad group must only yield NAN
     * in one cell, never kill the report. */
    gsl_set_error_handler_off();
}

/* Direct-mapped on the bits of (p, df): a collision only recomputes. */
enum { TQ_SLOTS = 256 };
static struct tq_entry {
    uint64_t p, df;
    double q;
    int used;
} tq_cache[TQ_SLOTS];

double pb_stats_t_quantile(double p, double df)
{
    uint64_t bp, bd;
    memcpy(&bp, &p, sizeof bp);
    memcpy(&bd, &df, sizeof bd);
    uint64_t h = (bp ^ (bd * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    struct tq_entry *e = &tq_cache[h >> 56];
    if (e->used && e->p == bp && e->df == bd)
        return e->q;
    double q = gsl_cdf_tdist_Pinv(p, df);
    *e = (struct tq_entry){bp, bd, q, 1};
    return q;
}

double *pb_stats_finite(const double *x, size_t n, size_t *m)
{
    *m = 0;
    if (n == 0)
        return NULL;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[k++] = x[i];
    if (k == 0) {
        free(v);
        return NULL;
    }
    *m = k;
    return v;
}

void pb_stats_clip(pb_summary *s, double lo, double hi)
{
    double *v[] = {&s->ci_lo, &s->ci_hi, &s->boot_lo, &s->boot_hi};
    for (int i = 0; i < 4; i++) {
        if (*v[i] < lo) { *v[i] = lo; s->clipped = 1; }
        if (*v[i] > hi) { *v[i] = hi; s->clipped = 1; }
    }
}

double pb_stats_quantile(const double *x, size_t n, double q)
{
    size_t m;
    double *v = pb_stats_finite(x, n, &m);
    if (!v)
        return NAN;
    gsl_sort(v, 1, m);
    double r = gsl_stats_quantile_from_sorted_data(v, 1, m, q);
    free(v);
    return r;
}

uint32_t pb_stats_stream_seed(uint64_t seed, const char *a, const char *b)
{
    char buf[512];
    int len = snprintf(buf, sizeof buf, "%llu%c%s%c%s", (unsigned long long)seed,
                       0, a ? a : "", 0, b ? b : "");
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof buf)
        len = (int)sizeof buf - 1; /* very long names: their prefix decides */
    uint64_t h = pb_hash_fnv1a64(buf, (size_t)len);
    uint32_t s = (uint32_t)(h ^ (h >> 32));
    return s ? s : 1; /* mt19937 maps 0 to 4357: keep seeds as used */
}

/* BCa interval (Efron 1987) of the mean of v[0..m), m >= 2, the way
 * scipy.stats.bootstrap computes it: z0 = Phi^-1(share of replicates below
 * the estimate), acceleration a from the jackknife means, and the
 * adjusted levels Phi(z0 + (z0 + z) / (1 - a (z0 + z))) read off the sorted
 * replicates by type-7 quantiles. */
void pb_stats_bca_mean(const double *v, size_t m, unsigned reps,
                       uint64_t seed, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (m < 2 || reps < 2)
        return;
    double mean = gsl_stats_mean(v, 1, m);
    double *bm = malloc((size_t)reps * sizeof *bm);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!bm || !r)
        goto out;
    gsl_rng_set(r, (unsigned long)seed);
    size_t below = 0;
    for (unsigned b = 0; b < reps; b++) {
        /* Running mean like gsl_stats_mean: no catastrophic growth for
         * large values. */
        double mu = 0;
        for (size_t i = 0; i < m; i++)
            mu += (v[gsl_rng_uniform_int(r, m)] - mu) / (double)(i + 1);
        bm[b] = mu;
        below += mu < mean;
    }
    gsl_sort(bm, 1, reps);
    if (bm[0] == bm[reps - 1]) {   /* every value equal: no spread */
        *lo = *hi = bm[0];
        goto out;
    }
    /* Jackknife: leave-one-out means are (sum - v_i) / (m - 1). */
    double sum = 0, num = 0, den = 0;
    for (size_t i = 0; i < m; i++)
        sum += v[i];
    double jbar = 0;
    for (size_t i = 0; i < m; i++)
        jbar += (sum - v[i]) / (double)(m - 1);
    jbar /= (double)m;
    for (size_t i = 0; i < m; i++) {
        double d = jbar - (sum - v[i]) / (double)(m - 1);
        num += d * d * d;
        den += d * d;
    }
    double acc = den > 0 ? num / (6.0 * pow(den, 1.5)) : 0;
    double z0 = gsl_cdf_ugaussian_Pinv((double)below / (double)reps);
    if (!isfinite(z0))
        goto out; /* estimate outside the replicates: BCa undefined */
    double q[2] = {0.025, 0.975};
    for (int k = 0; k < 2; k++) {
        double z = gsl_cdf_ugaussian_Pinv(q[k]);
        q[k] = gsl_cdf_ugaussian_P(z0 + (z0 + z) / (1 - acc * (z0 + z)));
    }
    *lo = gsl_stats_quantile_from_sorted_data(bm, 1, reps, q[0]);
    *hi = gsl_stats_quantile_from_sorted_data(bm, 1, reps, q[1]);
out:
    free(bm);
    if (r)
        gsl_rng_free(r);
}

void pb_stats_summarize(const double *x, size_t n, unsigned boot_reps,
                        uint64_t seed, pb_summary *out)
{
    out->n = 0;
    out->clipped = 0;
    out->mean = out->sd = out->min = out->max = out->median = NAN;
    out->ci_lo = out->ci_hi = out->boot_lo = out->boot_hi = NAN;
    size_t m;
    double *v = pb_stats_finite(x, n, &m);
    if (!v)
        return;
    out->n = m;
    /* gsl_stats_mean updates a running mean and gsl_stats_sd is two-pass
     * about that mean: both pass the NIST StRD NumAcc sets (see the test
     * test_stats_nist), unlike a naive sum of squares. */
    out->mean = gsl_stats_mean(v, 1, m);
    gsl_sort(v, 1, m);
    out->min = v[0];
    out->max = v[m - 1];
    out->median = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.5);
    if (m >= 2) {
        out->sd = gsl_stats_sd_m(v, 1, m, out->mean);
        double h = pb_stats_t_quantile(0.975, (double)(m - 1)) * out->sd /
                   sqrt((double)m);
        out->ci_lo = out->mean - h;
        out->ci_hi = out->mean + h;
    }
    /* No BCa interval: the committed simulation (tests/analyze/
     * test_coverage.c) found it below 94% at n = 5, 10 and 30 for normal
     * and skewed data, so the t interval is the one printed. */
    (void)boot_reps;
    (void)seed;
    free(v);
}

void pb_stats_summarize_clustered(const double *x, const size_t *cluster,
                                  size_t n, pb_summary *out)
{
    pb_stats_summarize(x, n, 0, 0, out);
    out->ci_lo = out->ci_hi = NAN;
    if (out->n < 2)
        return;
    /* Cluster-robust (CR1) variance of the pooled mean: the residual total
     * of each cluster, squared, summed, times G / (G - 1) / N^2; t on G - 1
     * df. With equal cluster sizes this is the t interval of the cluster
     * means; agents of one run share its host and server, so they are not
     * independent draws. */
    double ss = 0, e = 0;
    size_t G = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(x[i]))
            e += x[i] - out->mean;
        int last = i + 1 == n || cluster[i + 1] != cluster[i];
        if (last) {
            ss += e * e;
            e = 0;
            G++;
        }
    }
    /* Clusters whose values are all NAN count as empty: recount. */
    size_t Gf = 0;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        any |= isfinite(x[i]) != 0;
        if (i + 1 == n || cluster[i + 1] != cluster[i]) {
            Gf += any;
            any = 0;
        }
    }
    (void)G;
    if (Gf < 2)
        return;
    double N = (double)out->n, g = (double)Gf;
    double se = sqrt(g / (g - 1) * ss) / N;
    double h = pb_stats_t_quantile(0.975, g - 1) * se;
    out->ci_lo = out->mean - h;
    out->ci_hi = out->mean + h;
}

void pb_stats_best_mean(const double *const *x, const size_t *n, size_t k,
                        size_t *best, double *lo, double *hi)
{
    *best = 0;
    *lo = *hi = NAN;
    if (k == 0)
        return;
    double top = -INFINITY, top_sd = NAN;
    size_t top_n = 0;
    for (size_t g = 0; g < k; g++) {
        size_t m;
        double *v = pb_stats_finite(x[g], n[g], &m);
        if (!v || m < 2) {
            free(v);
            *lo = *hi = NAN;  /* a group without an interval: no claim */
            return;
        }
        double mean = gsl_stats_mean(v, 1, m);
        if (mean > top) {
            top = mean;
            top_sd = gsl_stats_sd_m(v, 1, m, mean);
            top_n = m;
            *best = g;
        }
        free(v);
    }
    /* Bonferroni: every group's t interval at level 1 - 0.05 / k; all k
     * hold together with probability >= 95%, so the one of the group the
     * data picked holds too, whichever it is. */
    double h = pb_stats_t_quantile(1 - 0.025 / (double)k, (double)(top_n - 1)) *
               top_sd / sqrt((double)top_n);
    *lo = top - h;
    *hi = top + h;
}

/* Coefficients c[0..top] of the Gaussian binomial [n1+n2 choose n1]_q:
 * c[u] is the number of orderings of n1 a's and n2 b's whose U statistic
 * equals u. Built as prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i), truncated
 * at degree top: both steps only move mass upwards, so the low coefficients
 * are exact. After step i the partial product is [n2+i choose i]_q, whose
 * coefficients are at most those of the final one, so every value at index
 * u stays within the magnitude of the final c[u]: the lower tail keeps full
 * relative precision. (The upper tail, computed the same way, subtracts
 * numbers near C(n1+n2, n1) and loses everything: use the symmetry.) */
static double *mw_counts_build(size_t n1, size_t n2, size_t top)
{
    double *c = calloc(top + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1;
    for (size_t i = 1; i <= n1; i++) {
        size_t k = n2 + i;
        for (size_t u = top; u >= k && k <= top; u--) { /* times (1 - q^k) */
            c[u] -= c[u - k];
            if (u == k)
                break;
        }
        for (size_t u = i; u <= top; u++)     /* divide by (1 - q^i) */
            c[u] += c[u - i];
    }
    return c;
}

/* The counts depend only on (n1, n2), and a report asks for the same few
 * sizes in every comparison (10 runs against 10, many metrics, many
 * pairs): building them was a tenth of analyze's time on TR115. So they
 * are built once per size pair, up to n1 n2 / 2 (no caller needs more: the
 * cdf is asked for a lower tail, the Hodges-Lehmann bound for k <= n1 n2 /
 * 2), and kept for the life of the process. Truncation leaves the lower
 * coefficients exact, so a longer array gives the very same values.
 * Returns the cache's own array (do not free), or NULL when out of memory. */
enum { MW_CACHE = 16 };
static struct mw_entry {
    size_t n1, n2;
    double *c;                 /* c[0 .. n1 n2 / 2] */
} mw_cache[MW_CACHE];
static size_t mw_cache_next;

static const double *mw_counts(size_t n1, size_t n2)
{
    for (size_t i = 0; i < MW_CACHE; i++)
        if (mw_cache[i].c && mw_cache[i].n1 == n1 && mw_cache[i].n2 == n2)
            return mw_cache[i].c;
    double *c = mw_counts_build(n1, n2, n1 * n2 / 2);
    if (!c)
        return NULL;
    struct mw_entry *e = &mw_cache[mw_cache_next];
    mw_cache_next = (mw_cache_next + 1) % MW_CACHE;
    free(e->c);
    e->n1 = n1;
    e->n2 = n2;
    e->c = c;
    return c;
}

double pb_stats_mw_cdf(size_t n1, size_t n2, double u)
{
    if (n1 == 0 || n2 == 0 || isnan(u))
        return NAN;
    if (u < 0)
        return 0;
    double deg = (double)n1 * (double)n2;
    if (u >= deg)
        return 1;
    size_t top = (size_t)floor(u);
    /* Lower half (every caller in analyze): the cached counts. The upper
     * half is built for this call alone, as it is rarely asked. */
    double *own = top > n1 * n2 / 2 ? mw_counts_build(n1, n2, top) : NULL;
    const double *c = own ? own : top > n1 * n2 / 2 ? NULL : mw_counts(n1, n2);
    if (!c)
        return NAN;
    double le = 0;
    for (size_t k = 0; k <= top; k++)
        le += c[k];
    free(own);
    /* The total C(n1+n2, n1) from GSL (relative error ~1e-15) rather than a
     * sum of the rounded middle coefficients. */
    double p = le / gsl_sf_choose((unsigned)(n1 + n2), (unsigned)n1);
    return p > 1 ? 1 : p;
}

int pb_stats_midranks(const double *v, size_t n, double *rank, double *tie_sum)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return -1;
    gsl_sort_index(idx, v, 1, n);
    double ts = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        double r = (double)(i + j) / 2.0 + 1.0;
        for (size_t k = i; k <= j; k++)
            rank[idx[k]] = r;
        double t = (double)(j - i + 1);
        ts += t * t * t - t;
        i = j + 1;
    }
    if (tie_sum)
        *tie_sum = ts;
    free(idx);
    return 0;
}

void pb_stats_mann_whitney(const double *a, size_t na, const double *b,
                           size_t nb, double *u_out, double *p_out, int *exact)
{
    *u_out = *p_out = NAN;
    *exact = 0;
    size_t n1, n2;
    double *x = pb_stats_finite(a, na, &n1);
    double *y = pb_stats_finite(b, nb, &n2);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    size_t n = n1 + n2;
    double *all = malloc(n * sizeof *all);
    double *rank = malloc(n * sizeof *rank);
    double tie_sum = 0;
    if (!all || !rank)
        goto out;
    memcpy(all, x, n1 * sizeof *all);
    memcpy(all + n1, y, n2 * sizeof *all);
    /* Mid-ranks for ties; sum of (t^3 - t) over tie groups for the
     * variance correction. */
    if (pb_stats_midranks(all, n, rank, &tie_sum) != 0)
        goto out;
    double r1 = 0;
    for (size_t i = 0; i < n1; i++)
        r1 += rank[i];
    double u = r1 - (double)n1 * (double)(n1 + 1) / 2.0;
    *u_out = u;
    double mu = (double)n1 * (double)n2 / 2.0;
    if (tie_sum == 0 && n1 <= PB_MW_EXACT_MAX && n2 <= PB_MW_EXACT_MAX) {
        /* Two-sided: twice the smaller tail, each tail computed as a lower
         * tail (P(U >= u) = P(U <= n1 n2 - u)). */
        double lo_u = fmin(u, (double)n1 * (double)n2 - u);
        double tail = pb_stats_mw_cdf(n1, n2, lo_u);
        if (!isnan(tail)) {
            double p = 2.0 * tail;
            *p_out = p > 1 ? 1 : p;
            *exact = 1;
            goto out;
        }
    }
    {
        double nn = (double)n;
        double var = (double)n1 * (double)n2 / 12.0 *
                     ((nn + 1) - tie_sum / (nn * (nn - 1)));
        if (var > 0) {
            double d = u - mu;
            /* Continuity correction towards the mean, as R's default. */
            double cc = d > 0 ? 0.5 : (d < 0 ? -0.5 : 0);
            double z = (d - cc) / sqrt(var);
            double p = 2.0 * gsl_cdf_ugaussian_Q(fabs(z));
            *p_out = p > 1 ? 1 : p;
        } else {
            *p_out = 1; /* every value tied: no evidence of a shift */
        }
    }
out:
    free(all);
    free(rank);
    free(x);
    free(y);
}

/* Sorts d, which holds rows of `row` non-decreasing values (the last row
 * may be shorter), by merging neighbouring runs until one is left:
 * log2(rows) linear passes. tmp has room for n values; returns whichever
 * of d and tmp holds the result. */
static double *merge_rows(double *d, double *tmp, size_t n, size_t row)
{
    for (size_t run = row; run < n; run *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * run) {
            size_t mid = lo + run < n ? lo + run : n;
            size_t hi = lo + 2 * run < n ? lo + 2 * run : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = d[j] < d[i] ? d[j++] : d[i++];
            while (i < mid)
                tmp[k++] = d[i++];
            while (j < hi)
                tmp[k++] = d[j++];
        }
        double *t = d;
        d = tmp;
        tmp = t;
    }
    return d;
}

void pb_stats_hodges_lehmann(const double *a, size_t na, const double *b,
                             size_t nb, double *shift, double *lo, double *hi)
{
    *shift = *lo = *hi = NAN;
    size_t n1, n2;
    double *x = pb_stats_finite(a, na, &n1);
    double *y = pb_stats_finite(b, nb, &n2);
    size_t mn = n1 * n2;
    double *buf = x && y && mn <= PB_HL_MAX_PAIRS ? malloc(2 * mn * sizeof *buf) : NULL;
    if (!buf)
        goto out;
    /* All n1 n2 differences are needed in order (the median, the interval's
     * ends, the tie check). With x ascending and y descending every row
     * x_i - y_j is already in order (rounded subtraction is monotone), so
     * merging the rows sorts them in log2(n1) passes: a fifth of the time
     * of a sort, or of the four selections the median and ends take. */
    gsl_sort(x, 1, n1);
    gsl_sort(y, 1, n2);
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++)
            buf[i * n2 + j] = x[i] - y[n2 - 1 - j];
    double *d = merge_rows(buf, buf + mn, mn, n2);
    *shift = gsl_stats_median_from_sorted_data(d, 1, mn);
    int ties = 0;
    for (size_t i = 1; i < mn && !ties; i++)
        ties = d[i] == d[i - 1];
    /* k: the number of differences cut from each end. With the exact
     * distribution, the largest k with P(U <= k - 1) <= 0.025. */
    long k = 0;
    if (!ties && n1 <= PB_MW_EXACT_MAX && n2 <= PB_MW_EXACT_MAX) {
        /* One pass over the lower-tail counts (not a cdf call per k). */
        size_t top = mn / 2;
        const double *c = mw_counts(n1, n2);
        double total = gsl_sf_choose((unsigned)(n1 + n2), (unsigned)n1);
        double cum = 0;
        while (c && (size_t)k <= top) {
            cum += c[k];               /* cum = count(U <= k) */
            if (cum / total > 0.025)
                break;
            k++;                       /* P(U <= (k+1) - 1) <= 0.025 */
        }
    } else {
        double z = gsl_cdf_ugaussian_Pinv(0.975);
        double nn = (double)n1, mm = (double)n2;
        k = (long)floor(nn * mm / 2 - z * sqrt(nn * mm * (nn + mm + 1) / 12));
    }
    if (k >= 1 && (size_t)k <= mn) {
        *lo = d[k - 1];
        *hi = d[mn - (size_t)k];
    }
out:
    free(buf);
    free(x);
    free(y);
}

/* The NAN-filled comparison with its summaries and Welch's test; *s1, *s2
 * are the two samples' summaries. */
static void welch(const double *a, size_t na, const double *b, size_t nb, pb_compare *o,
                  pb_summary *s1, pb_summary *s2)
{
    memset(o, 0, sizeof *o);
    o->mean1 = o->mean2 = o->sd1 = o->sd2 = o->diff = NAN;
    o->welch_se = o->welch_df = o->welch_t = o->diff_lo = o->diff_hi = NAN;
    o->welch_p = o->mw_u = o->mw_p = o->cohen_d = NAN;
    o->hedges_g = o->g_lo = o->g_hi = o->welch_p_holm = o->mw_p_holm = NAN;
    o->glass_delta = o->hl_shift = o->hl_lo = o->hl_hi = NAN;
    pb_stats_summarize(a, na, 0, 0, s1);
    pb_stats_summarize(b, nb, 0, 0, s2);
    o->n1 = s1->n;
    o->n2 = s2->n;
    o->mean1 = s1->mean;
    o->mean2 = s2->mean;
    o->sd1 = s1->sd;
    o->sd2 = s2->sd;
    o->diff = s1->mean - s2->mean;
    if (s1->n < 2 || s2->n < 2)
        return;
    double n1 = (double)s1->n, n2 = (double)s2->n;
    double q1 = s1->sd * s1->sd / n1, q2 = s2->sd * s2->sd / n2;
    o->welch_se = sqrt(q1 + q2);
    if (o->welch_se > 0) {
        /* Welch-Satterthwaite degrees of freedom (non-integer). */
        o->welch_df = (q1 + q2) * (q1 + q2) /
                      (q1 * q1 / (n1 - 1) + q2 * q2 / (n2 - 1));
        o->welch_t = o->diff / o->welch_se;
        o->welch_p = 2.0 * gsl_cdf_tdist_Q(fabs(o->welch_t), o->welch_df);
        double h = pb_stats_t_quantile(0.975, o->welch_df) * o->welch_se;
        o->diff_lo = o->diff - h;
        o->diff_hi = o->diff + h;
    }
}

void pb_stats_welch(const double *a, size_t na, const double *b, size_t nb,
                    pb_compare *o)
{
    pb_summary s1, s2;
    welch(a, na, b, nb, o, &s1, &s2);
}

void pb_stats_compare(const double *a, size_t na, const double *b, size_t nb,
                      pb_compare *o)
{
    pb_summary s1, s2;
    welch(a, na, b, nb, o, &s1, &s2);
    pb_stats_mann_whitney(a, na, b, nb, &o->mw_u, &o->mw_p, &o->mw_exact);
    pb_stats_hodges_lehmann(a, na, b, nb, &o->hl_shift, &o->hl_lo, &o->hl_hi);
    if (s1.n < 2 || s2.n < 2)
        return;
    double n1 = (double)s1.n, n2 = (double)s2.n;
    /* Glass's delta: the baseline's SD alone, so a noisier comparison
     * runtime does not shrink the effect (no equal-variance assumption). */
    if (s2.sd > 0)
        o->glass_delta = o->diff / s2.sd;
    double sp = sqrt(((n1 - 1) * s1.sd * s1.sd + (n2 - 1) * s2.sd * s2.sd) /
                     (n1 + n2 - 2));
    if (sp > 0) {
        o->cohen_d = o->diff / sp;
        /* Hedges' small-sample factor J and the Hedges & Olkin large-sample
         * variance of g; the CI is g +- z(0.975) * SE. */
        double J = 1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0);
        o->hedges_g = J * o->cohen_d;
        double se = sqrt((n1 + n2) / (n1 * n2) +
                         o->hedges_g * o->hedges_g / (2.0 * (n1 + n2)));
        double z = gsl_cdf_ugaussian_Pinv(0.975);
        o->g_lo = o->hedges_g - z * se;
        o->g_hi = o->hedges_g + z * se;
    }
}

void pb_stats_holm(const double *p, size_t n, double *adj)
{
    if (n == 0)
        return;
    size_t *idx = malloc(n * sizeof *idx);
    double *tmp = malloc(n * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        for (size_t i = 0; i < n; i++)
            adj[i] = NAN;
        return;
    }
    /* NANs sort last with +inf so they never take a Holm rank. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[i] = isnan(p[i]) ? INFINITY : p[i];
        if (!isnan(p[i]))
            m++;
    }
    gsl_sort_index(idx, tmp, 1, n);
    double run = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        if (isinf(tmp[i]) && k >= m) {
            tmp[i] = NAN;
            continue;
        }
        double v = (double)(m - k) * tmp[i];
        if (v > 1)
            v = 1;
        if (v < run)
            v = run;   /* step-down: adjusted p never decreases */
        run = v;
        tmp[i] = v;
    }
    for (size_t i = 0; i < n; i++)
        adj[i] = tmp[i];
    free(idx);
    free(tmp);
}
