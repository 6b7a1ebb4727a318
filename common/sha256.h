// SHA-256 (FIPS 180-4), for content-addressed caches: the LLM response cache
// names each entry by the hash of the request that produced it.
#ifndef TC_SHA256_H
#define TC_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[8];
    uint64_t bytes;          // message length so far
    unsigned char block[64];
    size_t used;             // bytes waiting in block
} tc_sha256;

void tc_sha256_init(tc_sha256 *h);
void tc_sha256_update(tc_sha256 *h, const void *data, size_t size);
void tc_sha256_final(tc_sha256 *h, unsigned char digest[32]);

// The digest of one buffer as 64 lowercase hex digits (hex[65]).
void tc_sha256_hex(const void *data, size_t size, char hex[65]);

#endif
