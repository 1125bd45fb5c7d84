/* pb_mem: allocation that does not return NULL. The one out-of-memory
 * policy of collect, analyze and ollama-emu:
 *
 * Out of memory is neither an input error nor a run result, and no caller
 * can do anything useful about it in the middle of a sweep or a stream. So
 * an allocation through these functions either succeeds or the program
 * prints "PROG: out of memory at FILE:LINE (N bytes); ..." on stderr (what
 * failed, where, and what to do) and aborts, leaving a core for a
 * debugger. Written runs stay intact: every writer renames a complete temp
 * file into place (pb_fs.h), so an abort never leaves half a run.
 *
 * analyze's statistics report a failed allocation as -1 to main, which
 * says so and exits with its documented status 3 (report not written);
 * code that must keep going after a failed allocation checks malloc itself
 * and says so in a comment. */
#ifndef PB_MEM_H
#define PB_MEM_H

#include <stddef.h>

#define pb_mem_alloc(n) pb_mem_alloc_at((n), __FILE__, __LINE__)
#define pb_mem_calloc(n, size) pb_mem_calloc_at((n), (size), __FILE__, __LINE__)
#define pb_mem_realloc(p, n) pb_mem_realloc_at((p), (n), __FILE__, __LINE__)
#define pb_mem_strdup(s) pb_mem_strdup_at((s), __FILE__, __LINE__)

void *pb_mem_alloc_at(size_t n, const char *file, int line);
void *pb_mem_calloc_at(size_t n, size_t size, const char *file, int line);
void *pb_mem_realloc_at(void *p, size_t n, const char *file, int line);
/* A NULL s is copied as "" (an absent name becomes an empty one). */
char *pb_mem_strdup_at(const char *s, const char *file, int line);

/* Says that n bytes (0: unknown, e.g. inside cJSON) could not be allocated
 * at file:line, and aborts. PB_MEM_OOM() is the call for a check of its own
 * (several allocations at once, a library's allocation). */
#define PB_MEM_OOM() pb_mem_oom(0, __FILE__, __LINE__)
_Noreturn void pb_mem_oom(size_t n, const char *file, int line);

#endif
