/* pb_exec: how each runtime was measured (pb_exec.h). */
#include "pb_exec.h"

#include "pb_result.h"

pb_measured_by pb_exec_rt_by(const pb_result *r, size_t rt, int *mixed)
{
    const pb_analysis *an = &r->an;
    const pb_rt *t = &an->rts[rt];
    int seen = 0;
    pb_measured_by by = PB_BY_DRIVER;
    if (mixed)
        *mixed = 0;
    for (size_t g = t->first_group; g < t->first_group + t->n_groups; g++)
        for (size_t i = 0; i < an->groups[g].n; i++) {
            pb_measured_by b = r->ds->runs[an->groups[g].runs[i]].measured_by;
            if (seen && b != by && mixed)
                *mixed = 1;
            if (!seen || b > by)
                by = b;
            seen = 1;
        }
    return by;
}

const char *pb_exec_by_id(pb_measured_by b)
{
    return b == PB_BY_PROXY ? "proxy" : b == PB_BY_PROXY_REPLAY ? "proxy_replay" : "driver";
}

const char *pb_exec_by_text(pb_measured_by b)
{
    return b == PB_BY_PROXY ? "the program through the recording proxy"
           : b == PB_BY_PROXY_REPLAY ? "the program through the recording proxy, solo "
                                       "baseline by replay"
                                     : "parbench's own driver";
}

size_t pb_exec_n_rts(const pb_result *r)
{
    size_t n = 0;
    for (size_t t = 0; t < r->an.n_rts; t++)
        n += pb_exec_rt_by(r, t, NULL) != PB_BY_DRIVER;
    return n;
}
