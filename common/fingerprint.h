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

// Fingerprint of a whole file into hex[17]; the error names the path.
int tc_file_fingerprint(const char *path, char hex[17]);

#endif
