/* pb_hash: FNV-1a 64-bit, for plan hashes and prompt digests.
 * Not cryptographic: it identifies a plan or prompt, it does not protect it. */
#ifndef PB_HASH_H
#define PB_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t pb_hash_fnv1a64(const void *data, size_t len);

/* Writes "fnv1a64:<16 lowercase hex>" into buf (>= 25 bytes). Returns buf. */
char *pb_hash_digest(const void *data, size_t len, char *buf, size_t buflen);

#endif
