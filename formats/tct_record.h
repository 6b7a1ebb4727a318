// Internal: the record layout shared by the writer and the reader.
// formats/README.md is the specification; keep the two in step.
#ifndef TC_TCT_RECORD_H
#define TC_TCT_RECORD_H

#include <stdint.h>
#include <string.h>

// Every record: a 64-byte fixed header, a variable header part, zero padding
// to a multiple of 64 (header_size), the data (data_size bytes), and zero
// padding to a multiple of 64. One record is one zstd frame.
enum {
    TCT_RECORD_ALIGN = 64,
    TCT_FIXED_HEADER = 64,
    TCT_OFF_TAG = 0,          // char[4]
    TCT_OFF_HEADER_SIZE = 4,  // u32
    TCT_OFF_DATA_SIZE = 8,    // u64
    TCT_OFF_FIELDS = 16,      // record-specific fields start here
};

// Record tags, as the four bytes at offset 0.
#define TCT_TAG_FILE "TCTF"
#define TCT_TAG_BEGIN "TBEG"
#define TCT_TAG_CHUNK "TCHK"
#define TCT_TAG_END "TEND"
#define TCT_TAG_FINISH "TFIN"

#include <stdio.h>

// Enlarges the pipe behind f, if f is one (see tct_util.c).
void tct_enlarge_pipe(FILE *f);

static inline uint64_t tct_pad64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

static inline void tct_put_u16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void tct_put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void tct_put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t tct_get_u16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t tct_get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t tct_get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the tensor stream is little-endian and this code assumes a little-endian host"
#endif

#endif
