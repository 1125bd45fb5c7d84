/* libFuzzer target: the plan parser (pb_plan_from_json), then the
 * expansion's outputs (--dry-run JSON, hash, run keys). Any input must give
 * a plan or an error message, never a crash, leak or sanitizer report. */
#include <stdint.h>
#include <string.h>

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pb_plan p;
    char err[2048];
    /* base_dir NULL and no overrides: prompt_file paths are read as given,
     * which only ever yields a read error or a small file. */
    if (pb_plan_from_json(&p, (const char *)data, size, "fuzz", NULL, NULL, err, sizeof err) != 0) {
        if (!err[0])
            __builtin_trap(); /* every refusal must say why */
        return 0;
    }
    char h[32];
    pb_plan_hash(&p, h, sizeof h);
    pb_plan_run_key(&p, &p.runtimes[0], &p.configs[0], 1, h, sizeof h);
    cJSON_Delete(pb_plan_to_json(&p));
    pb_plan_free(&p);
    return 0;
}
