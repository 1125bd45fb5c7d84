#include "pb_hash.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

uint64_t pb_hash_words64(const void *data, size_t len)
{
    const unsigned char *p = data;
    const uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xC2B2AE3D27D4EB4Full;
    uint64_t h = len * k1;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);   /* unaligned-safe, one load */
        w *= k2;
        w = (w << 31) | (w >> 33);
        h = ((h ^ w) << 27 | (h ^ w) >> 37) * k1 + 0x52DCE729u;
    }
    uint64_t t = 0;
    for (size_t s = 0; i < len; i++, s += 8)
        t |= (uint64_t)p[i] << s;
    h ^= ((t * k2) << 31 | (t * k2) >> 33) * k1;
    /* Avalanche, so that nearby inputs land far apart in a table. */
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

char *pb_hash_digest(const void *data, size_t len, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "fnv1a64:%016" PRIx64, pb_hash_fnv1a64(data, len));
    return buf;
}
