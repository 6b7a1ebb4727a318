// The seeded generator behind everything random in training: each epoch's
// shuffle, the validation split, the head's initial weights. xoshiro256**
// seeded through splitmix64; its whole state is four words, which a
// checkpoint records. Streams are derived from (seed, purpose, index), so an
// epoch's order depends on the seed and the epoch number alone and a resumed
// run draws the same orders as an uninterrupted one.
#ifndef TC_RNG_H
#define TC_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} tc_rng;

// Purposes of derived streams.
enum { TC_RNG_EPOCH = 1, TC_RNG_VAL_SPLIT = 2, TC_RNG_HEAD_INIT = 3 };

void tc_rng_seed(tc_rng *rng, uint64_t seed);
// The stream for (seed, purpose, index): independent of every other one.
void tc_rng_derive(tc_rng *rng, uint64_t seed, uint64_t purpose, uint64_t index);
uint64_t tc_rng_next(tc_rng *rng);
// Uniform in [0, 1) with 53 random bits.
double tc_rng_uniform(tc_rng *rng);
// Uniform in [0, n), without modulo bias; n > 0.
uint64_t tc_rng_below(tc_rng *rng, uint64_t n);
// Fisher-Yates shuffle of a[n].
void tc_rng_shuffle(tc_rng *rng, uint32_t *a, size_t n);

#endif
