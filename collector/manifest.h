/* manifest: one file per sweep describing what produced the runs. */
#ifndef PB_MANIFEST_H
#define PB_MANIFEST_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

/* Writes OUT/manifest.json, or OUT/manifest-<UTC stamp>.json when one
 * exists already (a resumed or extended sweep never touches the earlier
 * manifest). endpoints (from preflight) and emulator may be NULL. On
 * success path receives the file written. */
int pb_manifest_write(const pb_plan *p, const char *plan_hash, const char *host,
                      const cJSON *endpoints, const cJSON *emulator,
                      int argc, char **argv, char *path, size_t pathlen,
                      char *err, size_t errlen);

#endif
