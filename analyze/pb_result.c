/* pb_result: the one computation behind every output (pb_result.h). */
#include "pb_result.h"

#include <stdlib.h>
#include <string.h>

int pb_result_build(const pb_dataset *ds, const pb_result_opts *o, pb_result *r)
{
    memset(r, 0, sizeof *r);
    r->ds = ds;
    r->opts = *o;
    if (r->opts.knee_pct <= 0)
        r->opts.knee_pct = PB_KNEE_DEFAULT;
    pb_analysis_opts ao = {.boot_reps = o->boot_reps, .seed = o->seed,
                           .baseline = o->baseline,
                           .sequential_ref = o->sequential_ref,
                           .drop_first = o->drop_first};
    if (pb_analysis_build_opts(ds, &ao, &r->an) != 0)
        return -1;
    r->dv = calloc(ds->n_runs ? ds->n_runs : 1, sizeof *r->dv);
    if (!r->dv)
        goto oom;
    r->ref_configs = pb_derive_dataset(ds, o->sequential_ref, r->dv);
    if (pb_answer_build(ds, &r->an, o->sequential_ref, &r->ans) != 0 ||
        pb_scaling_build(ds, r->opts.knee_pct, &r->sc) != 0 ||
        pb_warn_build(r, &r->warn) != 0)
        goto oom;
    return 0;
oom:
    pb_result_free(r);
    return -1;
}

void pb_result_free(pb_result *r)
{
    pb_analysis_free(&r->an);
    pb_answer_free(&r->ans);
    pb_scaling_free(&r->sc);
    pb_warn_free(&r->warn);
    free(r->dv);
    memset(r, 0, sizeof *r);
}
