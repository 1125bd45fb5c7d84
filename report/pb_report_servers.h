/* pb_report_servers: the report's "Server settings" section (issue 21):
 * one answer line per server setting a sweep ran (configs named by it),
 * and a note for every run during which /api/ps saw a model loaded,
 * reloaded or evicted in a measured phase. Prints nothing when no run
 * came from servers collect started with settings or had such an event. */
#ifndef PB_REPORT_SERVERS_H
#define PB_REPORT_SERVERS_H

#include <stdio.h>

#include "pb_analysis.h"
#include "pb_model.h"

void pb_report_servers(FILE *out, const pb_dataset *ds, const pb_analysis *a);

#endif
