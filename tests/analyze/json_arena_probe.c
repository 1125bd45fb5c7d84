/* Misuses a pb_json_arena tree on purpose, for json_arena_asan.sh:
 *   overflow  writes past the string the parse allocated for "abcde"
 *             (cJSON takes at most 8 bytes for it: byte 16 is beyond
 *             its slot, where the next allocation would start without
 *             a red zone)
 *   stale     reads a tree after the next parse reused the buffer
 * Under AddressSanitizer both must be reported; in other builds the probe
 * exits 77 (nothing to check) without touching anything. */
#include <stdio.h>
#include <string.h>

#include "pb_json_arena.h"

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "overflow") && strcmp(argv[1], "stale"))) {
        fprintf(stderr, "usage: json_arena_probe overflow|stale\n");
        return 2;
    }
    if (!pb_json_arena_poisons()) {
        printf("not an AddressSanitizer build: red zones are not poisoned here\n");
        return 77;
    }
    pb_json_arena *a = pb_json_arena_new();
    const char *doc = "{\"name\": \"abcde\", \"n\": 1}";
    cJSON *t = pb_json_arena_parse(a, doc, strlen(doc), NULL);
    if (!t)
        return 1;
    char *s = cJSON_GetObjectItem(t, "name")->valuestring;
    if (strcmp(argv[1], "overflow") == 0) {
        volatile char *p = s;
        p[16] = 'x';
    } else {
        pb_json_arena_parse(a, "[1]", 3, NULL);
        volatile char *p = s;
        printf("%c\n", p[0]);
    }
    printf("probe %s: not caught\n", argv[1]);
    pb_json_arena_free(a);
    return 0;
}
