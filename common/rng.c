#include "common/rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tc_rng_seed(tc_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

void tc_rng_derive(tc_rng *rng, uint64_t seed, uint64_t purpose, uint64_t index) {
    uint64_t x = seed;
    uint64_t mixed = splitmix64(&x) ^ (purpose * 0xd1b54a32d192ed03ull);
    x = mixed;
    mixed = splitmix64(&x) ^ (index * 0x8cb92ba72f3d8dd7ull);
    tc_rng_seed(rng, mixed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tc_rng_next(tc_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double tc_rng_uniform(tc_rng *rng) { return (double)(tc_rng_next(rng) >> 11) * 0x1.0p-53; }

// Lemire's multiply-and-reject method.
uint64_t tc_rng_below(tc_rng *rng, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)tc_rng_next(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)tc_rng_next(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

void tc_rng_shuffle(tc_rng *rng, uint32_t *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tc_rng_below(rng, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
