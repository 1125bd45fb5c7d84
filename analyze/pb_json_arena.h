/* pb_json_arena: cJSON trees parsed into one buffer that the next parse
 * reuses.
 *
 * Why: analyze parses hundreds of small files (TR115: 300 of 2-5 KB), and
 * cJSON allocates every node and string with malloc and frees them one by
 * one in cJSON_Delete. That was a third of analyze's instructions. Here the
 * parse allocates from a bump buffer (cJSON_InitHooks, cJSON's documented
 * way to supply an allocator) and a tree is dropped by reusing the buffer.
 *
 * Rules:
 * - cJSON's hooks are global, so they are installed when the first arena
 *   is created and removed when the last one is freed: create and free
 *   arenas on one thread while no other thread uses cJSON (cJSON's own
 *   condition for thread safety: hooks set before any thread uses it).
 * - While arenas exist, only a parse through pb_json_arena_parse allocates
 *   from an arena (the calling thread's parse); any other cJSON allocation,
 *   on any thread, is plain malloc/free as without arenas.
 * - A tree from the arena is never given to cJSON_Delete, and nothing in it
 *   is detached and kept: it is valid until the next parse on the same
 *   arena or pb_json_arena_free.
 * - One arena per thread at a time; several threads may parse at once,
 *   each into its own arena. The parse error position comes from `end`
 *   (cJSON_GetErrorPtr is one global for every thread).
 * - Under AddressSanitizer every allocation is followed by a poisoned red
 *   zone and a reused buffer is poisoned whole, so an overflow, or a read of
 *   a tree after the next parse, is reported as it would be with malloc
 *   (tests/analyze/json_arena_asan.sh checks that it is). */
#ifndef PB_JSON_ARENA_H
#define PB_JSON_ARENA_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct pb_json_arena pb_json_arena;

/* An empty arena; its buffer is allocated by the first parse. Out of
 * memory follows pb_mem's policy (message and abort). */
pb_json_arena *pb_json_arena_new(void);

/* cJSON_ParseWithLengthOpts(buf, len, end, 0) into the arena, after
 * forgetting the previous tree. NULL when buf is not one JSON value; end
 * (when given) then points where the parse failed. */
cJSON *pb_json_arena_parse(pb_json_arena *a, const char *buf, size_t len,
                           const char **end);

/* Bytes the last parse took from the arena (tests, benchmarks). */
size_t pb_json_arena_used(const pb_json_arena *a);

/* 1 when this build poisons red zones (AddressSanitizer), else 0. */
int pb_json_arena_poisons(void);

void pb_json_arena_free(pb_json_arena *a);

#endif
