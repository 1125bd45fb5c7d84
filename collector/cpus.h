/* cpus: which CPUs collect (and an --emulate child) may run on.
 *
 * Why: on a small machine the kernel's wake-affine placement puts the
 * process that writes a chunk and the process that reads it on one CPU
 * (the reader is woken onto the writer's), so a client's timestamps then
 * include the server's CPU time. With `--cpus LIST` collect keeps to those
 * CPUs and its emulator child to the others. Lists are Linux's format:
 * "0", "0-3", "0,2-3". */
#ifndef PB_CPUS_H
#define PB_CPUS_H

#include <stddef.h>

/* Parses list and writes it back in its shortest form ("0,1,2" -> "0-2").
 * Returns 0, or -1 with err set (syntax, a CPU number too large, or an
 * empty list). */
int pb_cpus_normalize(const char *list, char *out, size_t outlen, char *err, size_t errlen);

/* Keeps the calling process (and the threads it starts later) on `list`,
 * and remembers the CPUs allowed before, for pb_cpus_move_to_others().
 * Returns 0, or -1 with err saying which CPUs are allowed. */
int pb_cpus_apply(const char *list, char *err, size_t errlen);

/* The CPUs the calling process may run on, as a list. */
void pb_cpus_current(char *out, size_t outlen);

/* The CPUs allowed before pb_cpus_apply() and not collect's now, as a list
 * ("" when --cpus was not given or none is left over). */
void pb_cpus_others(char *out, size_t outlen);

/* In an --emulate child after fork(): moves it to pb_cpus_others().
 * Returns 0 (also when there is nothing to do), -1 if the kernel refused. */
int pb_cpus_move_to_others(void);

#endif
