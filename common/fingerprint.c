#include "common/fingerprint.h"
#include "common/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t tc_fnv1a64(const void *data, size_t size, uint64_t hash) {
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static uint64_t rotate_left(uint64_t x, int r) { return x << r | x >> (64 - r); }

uint64_t tc_hash64_words(const void *data, size_t size) {
    const unsigned char *p = data;
    const uint64_t prime = 0x100000001b3ull, mix = 0x9e3779b97f4a7c15ull;
    uint64_t lane[4] = {TC_FNV1A64_INIT, TC_FNV1A64_INIT ^ mix, TC_FNV1A64_INIT + mix, ~TC_FNV1A64_INIT};
    size_t i = 0;
    for (; i + 32 <= size; i += 32)
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * (size_t)l, 8);  // unaligned and endian-free enough for a guard
            lane[l] = rotate_left((lane[l] ^ w) * mix, 29);
        }
    uint64_t h = tc_fnv1a64(p + i, size - i, TC_FNV1A64_INIT ^ (uint64_t)size);
    for (int l = 0; l < 4; l++) h = (h ^ lane[l]) * prime;
    return h ^ h >> 32;
}

int tc_file_fingerprint(const char *path, char hex[17]) {
    FILE *f = fopen(path, "rb");
    if (!f) return tc_fail("%s: cannot open: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    uint64_t hash = TC_FNV1A64_INIT;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) hash = tc_fnv1a64(buf, n, hash);
    int failed = ferror(f);
    fclose(f);
    if (failed) return tc_fail("%s: read failed", path);
    snprintf(hex, 17, "%016" PRIx64, hash);
    return 0;
}
