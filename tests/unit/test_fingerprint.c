// The fingerprints (common/fingerprint.c): FNV-1a's published test vectors,
// and the word-wise hash of model weights: every byte counts wherever it
// sits (each of the four lanes, the tail, the length), the same bytes give
// the same value at any alignment, and it sees a whole model's size.
#include "tests/harness.h"
#include "common/fingerprint.h"

#include <stdlib.h>
#include <string.h>

static void test_fnv1a64_published_values(void) {
    CHECK(tc_fnv1a64("", 0, TC_FNV1A64_INIT) == 0xcbf29ce484222325ull);
    CHECK(tc_fnv1a64("a", 1, TC_FNV1A64_INIT) == 0xaf63dc4c8601ec8cull);
    CHECK(tc_fnv1a64("foobar", 6, TC_FNV1A64_INIT) == 0x85944171f73967e8ull);
}

enum { SIZE = 1000 };  // 31 words of 32 bytes and a tail of 8

static void test_words_every_byte_counts(void) {
    unsigned char a[SIZE];
    for (int i = 0; i < SIZE; i++) a[i] = (unsigned char)(i * 7 + 3);
    uint64_t h = tc_hash64_words(a, SIZE);
    CHECK(h == tc_hash64_words(a, SIZE));
    int same = 0;
    for (int i = 0; i < SIZE; i++) {
        a[i] ^= 1;
        same += tc_hash64_words(a, SIZE) == h;
        a[i] ^= 1;
    }
    CHECKF(same == 0, "%d one-bit changes left the hash as it was", same);
    unsigned char zeros[64] = {0};  // trailing zeros and shorter inputs are not the same
    CHECK(tc_hash64_words(zeros, 64) != tc_hash64_words(zeros, 63));
    CHECK(tc_hash64_words(zeros, 32) != tc_hash64_words(zeros, 0));
}

static void test_words_any_alignment(void) {
    unsigned char *buf = malloc(SIZE + 8);
    REQUIRE(buf);
    for (int i = 0; i < SIZE; i++) buf[i] = (unsigned char)(i * 13);
    uint64_t h = tc_hash64_words(buf, SIZE);
    for (int off = 1; off < 8; off++) {
        memmove(buf + off, buf + off - 1, SIZE);
        CHECKF(tc_hash64_words(buf + off, SIZE) == h, "offset %d", off);
    }
    free(buf);
}

int main(void) {
    RUN(test_fnv1a64_published_values);
    RUN(test_words_every_byte_counts);
    RUN(test_words_any_alignment);
    HARNESS_EXIT();
}
