#include "pb_hash.h"

#include <inttypes.h>
#include <stdio.h>

uint64_t pb_hash_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

char *pb_hash_digest(const void *data, size_t len, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "fnv1a64:%016" PRIx64, pb_hash_fnv1a64(data, len));
    return buf;
}
