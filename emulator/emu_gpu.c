/* emu_gpu: the decode timing model.
 *
 * A simulated GPU per instance (or one for all with shared_gpu) runs
 * runners: one per loaded model per instance, as Ollama starts one
 * llama.cpp process per model. Two mechanisms share a GPU, and they differ:
 *
 *  - batching: the n streams decoding in one runner (num_parallel > 1) are
 *    decoded together, one batch per step. A step costs little more than a
 *    single stream's (decode is memory-bound), so each stream slows down
 *    less than 1/n: per-stream factor n^-B, aggregate R1 * n^(1-B).
 *  - time-slicing: separate runners (other instances, other models) take
 *    turns on the GPU: with m runners decoding each gets m^-C of it;
 *    C > 1 models the thrashing TR115 saw (two instances: 122 tok/s alone,
 *    ~50 each, aggregate 100 < 122).
 *
 * So a stream decodes at  R1 * n^-B * m^-C  (emu_gpu_rate). The defaults,
 * B = 0.5 and C = 1.3, and their sources are in README.md ("GPU model").
 * With one stream per runner (num_parallel 1, the TR115 setting) this is
 * the old k^-C exactly.
 *
 * The rate in force when a token is scheduled applies to that token; a
 * change of n or m takes effect from the next token (one token of lag, < 25
 * ms at the defaults), which keeps the model simple and drift-free. */
#include "emu_internal.h"

#include <math.h>

#include <gsl/gsl_randist.h>

double emu_gpu_factor(int k, double contention)
{
    if (k <= 1)
        return 1.0;
    return pow((double)k, -contention);
}

double emu_gpu_rate(int n_batch, int n_runners, double batching,
                    double contention)
{
    return emu_gpu_factor(n_batch, batching) *
           emu_gpu_factor(n_runners, contention);
}

uint64_t emu_gpu_token_ns(const emu_options *o, const emu_gpu *g,
                          int n_batch, gsl_rng *rng)
{
    double rate = o->decode_rate *
                  emu_gpu_rate(n_batch, g->runners, o->batching,
                               o->contention) *
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
