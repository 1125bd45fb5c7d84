/* libFuzzer target: the run loaders of analyze (parbench trace, TR115 Rust
 * and Python metrics). Each parses the same JSON tree into a fresh run;
 * a refusal must come with a reason. */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pb_load.h"
#include "pb_model.h"

typedef int (*loader)(const cJSON *, pb_run *, char *, size_t);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    static const loader loaders[] = {pb_load_parbench, pb_load_tr115_rust, pb_load_tr115_python};
    for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++) {
        pb_dataset ds;
        memset(&ds, 0, sizeof ds);
        pb_run *r = pb_dataset_add_run(&ds);
        if (r) {
            char err[1024] = "";
            if (loaders[i](root, r, err, sizeof err) != 0 && !err[0])
                __builtin_trap();
        }
        pb_dataset_free(&ds);
    }
    cJSON_Delete(root);
    return 0;
}
