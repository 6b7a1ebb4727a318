// Content fingerprints that tie files together: tc-tokenize records the
// fingerprint of the vocabulary it used (attribute `vocab_fingerprint` on
// `input_ids`) and tc-encode/tc-train refuse tokens made with another one.
// 64-bit FNV-1a over the exact bytes, as 16 lowercase hex digits: a guard
// against mix-ups, not a cryptographic hash.
#ifndef TC_FINGERPRINT_H
#define TC_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define TC_FNV1A64_INIT 0xcbf29ce484222325ull

uint64_t tc_fnv1a64(const void *data, size_t size, uint64_t hash);

// For hundreds of megabytes (a model's weights, `model_fingerprint`): four
// lanes of 8-byte words, each xored in, multiplied and rotated, then folded
// with FNV-1a's prime. FNV-1a's byte-at-a-time chain took a third of a
// one-document tc-encode; this runs at memory speed. Not FNV-1a's values.
uint64_t tc_hash64_words(const void *data, size_t size);

// Fingerprint of a whole file into hex[17]; the error names the path.
int tc_file_fingerprint(const char *path, char hex[17]);

#endif
