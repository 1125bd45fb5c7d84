#include "pb_json_arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_mem.h"

/* GCC says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 32
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* malloc's alignment: cJSON stores doubles and pointers in its nodes. */
#define ARENA_ALIGN alignof(max_align_t)
/* A TR115 metrics.json of 5 KB parses into about 20 KB of nodes and
 * strings; one first chunk holds most files whole. */
#define ARENA_FIRST_CHUNK (64u * 1024u)

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
} chunk;

struct pb_json_arena {
    chunk *head;        /* the chunk being filled; older ones follow */
    size_t used;        /* bytes handed out since the last reset */
};

/* cJSON's hooks take no context: the arena this thread is parsing into,
 * NULL outside pb_json_arena_parse (then the hooks are malloc and free). */
static _Thread_local pb_json_arena *active;
/* Arenas alive; the hooks are installed while there is one. Changed on
 * one thread only (see the header). */
static size_t n_live;

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static chunk *chunk_new(size_t cap, chunk *next)
{
    if (cap > SIZE_MAX - sizeof(chunk))
        pb_mem_oom(cap, __FILE__, __LINE__);
    chunk *c = pb_mem_alloc(sizeof(chunk) + cap);
    c->next = next;
    c->cap = cap;
    c->used = 0;
    POISON(c->data, cap);
    return c;
}

static void chunks_free(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        UNPOISON(c->data, c->cap);
        free(c);
        c = next;
    }
}

static void *arena_malloc(size_t n)
{
    pb_json_arena *a = active;
    if (!a)
        return malloc(n);
    size_t need = round_up(n) + ARENA_REDZONE;
    if (need < n)
        return NULL;    /* overflow: cJSON reports a failed parse */
    chunk *c = a->head;
    if (!c || need > c->cap - c->used) {
        /* Doubling keeps the number of chunks logarithmic in a large
         * file's tree; the next reset merges them into one. */
        size_t cap = c ? c->cap * 2 : ARENA_FIRST_CHUNK;
        if (cap < need)
            cap = need;
        c = a->head = chunk_new(cap, c);
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used += need;
    UNPOISON(p, n);
    return p;
}

/* Inside a parse cJSON frees only what a failed parse built: the buffer
 * takes it back at the next reset, which poisons it under ASan. */
static void arena_free(void *p)
{
    if (!active)
        free(p);
}

/* Forgets the previous tree. Several chunks (a large file) become one
 * chunk of their total size, so that a run of such files reuses one
 * buffer. */
static void arena_reset(pb_json_arena *a)
{
    chunk *c = a->head;
    if (c && c->next) {
        size_t total = 0;
        for (chunk *k = c; k; k = k->next)
            total += k->cap;
        chunks_free(c);
        a->head = chunk_new(total, NULL);
    } else if (c) {
        POISON(c->data, c->cap);
        c->used = 0;
    }
    a->used = 0;
}

pb_json_arena *pb_json_arena_new(void)
{
    pb_json_arena *a = pb_mem_calloc(1, sizeof(pb_json_arena));
    if (n_live++ == 0) {
        /* realloc_fn is left NULL: cJSON then reallocates by malloc, copy
         * and free, all through the hooks. */
        cJSON_Hooks hooks = {.malloc_fn = arena_malloc, .free_fn = arena_free};
        cJSON_InitHooks(&hooks);
    }
    return a;
}

cJSON *pb_json_arena_parse(pb_json_arena *a, const char *buf, size_t len,
                           const char **end)
{
    arena_reset(a);
    active = a;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, end, 0);
    active = NULL;
    return root;
}

size_t pb_json_arena_used(const pb_json_arena *a)
{
    return a->used;
}

int pb_json_arena_poisons(void)
{
#ifdef ARENA_ASAN
    return 1;
#else
    return 0;
#endif
}

void pb_json_arena_free(pb_json_arena *a)
{
    if (!a)
        return;
    chunks_free(a->head);
    free(a);
    if (--n_live == 0)
        cJSON_InitHooks(NULL);
}
