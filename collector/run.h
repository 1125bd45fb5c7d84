/* run: one run of (runtime, config, k): warm-ups, solo phases and the
 * concurrent phase in an order drawn from the run's recorded seed, recorded
 * as a trace (data/FORMAT.md). */
#ifndef PB_RUN_H
#define PB_RUN_H

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "plan.h"
#include "transfer.h"

typedef struct pb_run_ctx {
    const pb_plan *plan;
    const char *const *urls;  /* actual base URL per plan endpoint */
    const char *plan_hash;
    const char *host;
    cJSON *emulator;          /* borrowed: recorded as run.emulator, or NULL */
    CURLSH *share;            /* --reuse-connections cache, or NULL */
    const char *auth_header;  /* sent with every request, never recorded; or NULL */
    const cJSON *servers;     /* borrowed: recorded as the trace's "servers", or NULL */
    char nonce[24];           /* makes request ids unique across processes */
    unsigned long seq;
} pb_run_ctx;

void pb_run_ctx_init(pb_run_ctx *c, const pb_plan *p, const char *const *urls,
                     const char *plan_hash);

/* The one place a request of a run is built: its id (unique across
 * threads and processes), the endpoint's actual URL, --proxy, the API key
 * header, --timeout, connection reuse and the runtime's chunking. Every
 * driver's transfers come from here. num_predict > 0 overrides (warm-up);
 * sample_seed >= 0 is the paired seed; keep_text > 0 keeps that much of the
 * answer (a workflow's {{previous}}). Thread-safe. NULL with err set. */
pb_transfer *pb_run_transfer_new(pb_run_ctx *c, const pb_runtime *rt, const pb_agent_spec *a,
                                 int num_predict, long sample_seed, size_t keep_text,
                                 uint64_t origin, char *err, size_t errlen);

/* Returns 0 with *trace set (valid or not), 1 when interrupted (nothing to
 * write), -1 on a setup error (err set). */
int pb_run_execute(pb_run_ctx *c, const pb_runtime *rt, const pb_config *cfg,
                   int run_index, cJSON **trace, char *err, size_t errlen);

/* State of an existing run file relative to the run it should hold. */
typedef enum pb_existing {
    PB_EXIST_ABSENT = 0,
    PB_EXIST_VALID,           /* complete, valid, same run_key: skip */
    PB_EXIST_INVALID,         /* complete, recorded failure, same run_key */
    PB_EXIST_FOREIGN,         /* another run_key (plan changed) */
    PB_EXIST_UNREADABLE,      /* not a complete parbench trace */
} pb_existing;

pb_existing pb_run_check_file(const char *path, const char *run_key,
                              char *why, size_t whylen);

/* OUT/<runtime>/<config>/run_<k>.json */
void pb_run_path(char *buf, size_t len, const char *out, const char *runtime,
                 const char *config, int k);

/* Serialises and writes atomically (temp + fsync + rename). Invalid UTF-8
 * in any string is first replaced by U+FFFD and counted in run.text_repaired
 * (so the file is valid JSON for strict readers). */
int pb_run_trace_write(const char *path, cJSON *trace, char *err, size_t errlen);

#endif
