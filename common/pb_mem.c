/* pb_mem: allocations that succeed or abort with a message (pb_mem.h). */
#include "pb_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_cli.h"

void pb_mem_oom(size_t n, const char *file, int line)
{
    char size[48] = "";
    if (n)
        snprintf(size, sizeof size, " (%zu bytes)", n);
    fprintf(stderr, "%s: out of memory at %s:%d%s; free memory (or run a smaller "
            "sweep) and run the same command again\n", pb_cli_prog(), file, line, size);
    abort();
}

void *pb_mem_alloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        pb_mem_oom(n, file, line);
    return p;
}

void *pb_mem_calloc_at(size_t n, size_t size, const char *file, int line)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        pb_mem_oom(n * size, file, line);
    return p;
}

void *pb_mem_realloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        pb_mem_oom(n, file, line);
    return q;
}

char *pb_mem_strdup_at(const char *s, const char *file, int line)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *d = pb_mem_alloc_at(n, file, line);
    memcpy(d, s, n);
    return d;
}
