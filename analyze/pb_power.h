/* pb_power: what a comparison could have detected.
 *
 * Why: "not significant" from 5 runs per config says little unless the
 * report also says how large a difference those runs could have seen. For
 * a two-sample comparison of means at level alpha (two-sided) and power
 * 1 - beta, with SDs s1, s2 and sizes n1, n2 (normal approximation with t
 * quantiles, df = n1 + n2 - 2):
 *   MDD = (t(1 - alpha/2, df) + t(1 - beta, df)) sqrt(s1^2/n1 + s2^2/n2)
 * and the runs per group for a difference delta: the smallest n >= 2 with
 *   (t(1 - alpha/2, 2n - 2) + t(1 - beta, 2n - 2)) sqrt((s1^2 + s2^2)/n) <= delta
 * (for large n this is n = (z(1-alpha/2) + z(1-beta))^2 (s1^2 + s2^2) / delta^2). */
#ifndef PB_POWER_H
#define PB_POWER_H

#include <stddef.h>

#define PB_POWER_ALPHA 0.05
#define PB_POWER_POWER 0.80
#define PB_POWER_N_MAX 1000000

/* NAN when an SD is NAN or n1 + n2 < 3. */
double pb_power_mdd(double s1, size_t n1, double s2, size_t n2, double alpha,
                    double power);

/* Runs per group; INFINITY above PB_POWER_N_MAX; NAN for delta <= 0 or an
 * SD that is NAN. 2 when even 2 runs suffice (or both SDs are 0). */
double pb_power_n_needed(double s1, double s2, double delta, double alpha,
                         double power);

#endif
