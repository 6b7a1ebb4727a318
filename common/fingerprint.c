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
