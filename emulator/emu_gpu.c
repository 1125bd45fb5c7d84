/* emu_gpu: the decode timing model.
 *
 * One simulated GPU per instance (or one for all with shared_gpu). With k
 * streams decoding on a GPU at once, each stream decodes at
 *     decode_rate * g(k),   g(k) = k^(-contention)   (g(1) = 1)
 * so the GPU's aggregate rate is decode_rate * k^(1 - contention):
 *   contention 0   every stream keeps R1 (ideal batching / independent GPUs)
 *   contention 1   aggregate stays R1 (pure time-slicing)
 *   contention >1  aggregate falls below R1 (instances thrashing one GPU);
 *                  the default 1.3 gives g(2) = 0.406, i.e. ~50 tok/s each
 *                  for two instances at R1 = 122, inside the study's 41-57.
 *   0 < c < 1      aggregate grows with k (batching gains).
 * The rate in force when a token is scheduled applies to that token; a
 * change of k takes effect from the next token (one token of lag, < 25 ms at
 * the defaults), which keeps the model simple and drift-free. */
#include "emu_internal.h"

#include <math.h>

#include <gsl/gsl_randist.h>

double emu_gpu_factor(int k, double contention)
{
    if (k <= 1)
        return 1.0;
    return pow((double)k, -contention);
}

uint64_t emu_gpu_token_ns(const emu_options *o, const emu_gpu *g,
                          gsl_rng *rng)
{
    double rate = o->decode_rate * emu_gpu_factor(g->k, o->contention) *
                  o->time_scale;
    double dt = 1e9 / rate;
    if (o->jitter > 0) {
        /* Gaussian relative jitter, clamped so a token never takes a
         * negative or absurd time. */
        double f = 1.0 + gsl_ran_gaussian(rng, o->jitter);
        if (f < 0.2)
            f = 0.2;
        if (f > 3.0)
            f = 3.0;
        dt *= f;
    }
    if (dt < 1)
        dt = 1;
    return (uint64_t)llround(dt);
}
