/* preflight: before a sweep, every endpoint must answer /api/version and
 * list the plan's models in /api/tags. Also fetches /api/ps for the
 * manifest. Blocking libcurl easy calls: nothing is being measured yet. */
#ifndef PB_PREFLIGHT_H
#define PB_PREFLIGHT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

/* Returns an array (one object per endpoint: url, actual_url, version, ps)
 * or NULL with err set to a message naming the URL and the fix. */
cJSON *pb_preflight(const pb_plan *p, const char *const *urls, double timeout_s,
                    char *err, size_t errlen);

#endif
