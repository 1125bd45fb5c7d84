/* servers: what answers at each endpoint, as the trace's top-level
 * "servers" entries (data/FORMAT.md), built from the identity headers and
 * the version that preflight's GETs (http.h) read. */
#ifndef PB_SERVERS_H
#define PB_SERVERS_H

#include <cjson/cJSON.h>

/* `X-Parbench-Emulator: time-scale=F; preset=NAME` as
 * {"time_scale": F, "preset": "NAME"}; a part that is missing or malformed
 * is null. NULL (no object) when value is NULL. */
cJSON *pb_servers_emulator_header(const char *value);

/* One servers[] entry; version may be NULL; takes no ownership. */
cJSON *pb_servers_entry(const char *endpoint, const char *dialect,
                        const char *server_header, const cJSON *version,
                        const char *emulator_header);

#endif
