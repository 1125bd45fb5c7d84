/* pb_time: wall-clock helpers shared by the emulator and the collector. */
#ifndef PB_TIME_H
#define PB_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Current UTC time as RFC 3339 with nanoseconds, e.g.
 * "2026-11-26T16:54:54.123456789Z" (the form Ollama's created_at uses).
 * buf needs at least 32 bytes. Returns buf. */
char *pb_time_rfc3339_now(char *buf, size_t len);

/* Wall clock in nanoseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t pb_time_wall_ns(void);

#endif
