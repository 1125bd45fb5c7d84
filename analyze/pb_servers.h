/* pb_servers: what a parbench trace says about the servers collect ran and
 * what they did (issue 21; data/FORMAT.md "server_processes", "telemetry"):
 * the server settings of the run, the models /api/ps saw loaded, reloaded
 * or evicted while a measured phase ran, and the GPU's utilisation in the
 * concurrent phase. */
#ifndef PB_SERVERS_H
#define PB_SERVERS_H

#include <cjson/cJSON.h>

#include "pb_model.h"

/* Fills run->server_setting, model_events, gpu_util_mean/max from the
 * trace root (fields absent: NULL / NAN). Never fails: telemetry is
 * context, not a measurement the run depends on. */
void pb_servers_load(pb_run *run, const cJSON *root);

#endif
