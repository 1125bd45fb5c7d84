/* pb_hash: FNV-1a 64-bit, for plan hashes and prompt digests, and a
 * word-at-a-time hash for in-memory sets of whole files.
 * Not cryptographic: it identifies a plan or prompt, it does not protect it. */
#ifndef PB_HASH_H
#define PB_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t pb_hash_fnv1a64(const void *data, size_t len);

/* A 64-bit hash of the bytes taken 8 at a time (multiply and rotate per
 * word, a final avalanche): several times faster than FNV-1a's byte loop on
 * files of kilobytes. Its values are not a format and may change: for sets
 * held in memory only (analyze's copies of a run), never written out. */
uint64_t pb_hash_words64(const void *data, size_t len);

/* Writes "fnv1a64:<16 lowercase hex>" into buf (>= 25 bytes). Returns buf. */
char *pb_hash_digest(const void *data, size_t len, char *buf, size_t buflen);

#endif
