/* preflight: before a sweep, every endpoint must answer and offer the
 * models its agents use, asked in each agent's dialect (Ollama:
 * /api/version and /api/tags; OpenAI: /v1/models). Also records who
 * answered (the trace's "servers") and, for Ollama, /api/ps for the
 * manifest. Blocking libcurl easy calls: nothing is being measured yet. */
#ifndef PB_PREFLIGHT_H
#define PB_PREFLIGHT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "plan.h"

/* Returns an array for the manifest (one object per endpoint and dialect:
 * url, actual_url, dialect, version, models, ps) and sets *servers to the
 * trace's servers[] array; or NULL with err set to a message naming the
 * URL and the fix. auth_header ("Authorization: Bearer ...") may be NULL. */
cJSON *pb_preflight(const pb_plan *p, const char *const *urls, double timeout_s,
                    const char *auth_header, cJSON **servers, char *err, size_t errlen);

/* servers[] without asking anyone (--skip-preflight): endpoint and dialect,
 * every other field null. */
cJSON *pb_preflight_unprobed(const pb_plan *p, const char *const *urls);

#endif
