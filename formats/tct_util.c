// dtypes, half-precision conversions and UTF-8 validation for the tensor stream.
#include "formats/tct.h"
#include "formats/tct_record.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    tct_dtype dtype;
    const char *name;
    size_t size;
} dtype_table[] = {
    {TCT_F32, "f32", 4}, {TCT_F16, "f16", 2}, {TCT_BF16, "bf16", 2}, {TCT_I8, "i8", 1},
    {TCT_U8, "u8", 1},   {TCT_I32, "i32", 4}, {TCT_I64, "i64", 8},   {TCT_STR, "str", 0},
};
enum { N_DTYPES = sizeof dtype_table / sizeof dtype_table[0] };

size_t tct_dtype_size(tct_dtype dtype) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtype_table[i].dtype == dtype) return dtype_table[i].size;
    return 0;
}

const char *tct_dtype_name(tct_dtype dtype) {
    for (int i = 0; i < N_DTYPES; i++)
        if (dtype_table[i].dtype == dtype) return dtype_table[i].name;
    return "?";
}

int tct_dtype_parse(const char *name, tct_dtype *dtype) {
    for (int i = 0; i < N_DTYPES; i++)
        if (strcmp(dtype_table[i].name, name) == 0) {
            *dtype = dtype_table[i].dtype;
            return 0;
        }
    return -1;
}

const char *tct_attr_get(const tct_attr *attrs, size_t n_attrs, const char *key) {
    for (size_t i = 0; i < n_attrs; i++)
        if (strcmp(attrs[i].key, key) == 0) return attrs[i].value;
    return NULL;
}

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float tct_bf16_to_f32(uint16_t b) { return bits_to_f32((uint32_t)b << 16); }

float tct_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    if (exponent == 0x1f) return bits_to_f32(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return bits_to_f32(sign);
        float value = (float)mantissa / 16777216.0f;  // subnormal: mantissa * 2^-24
        return sign ? -value : value;
    }
    return bits_to_f32(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t tct_f32_to_f16(float f) {
    uint32_t u = f32_to_bits(f);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00);  // NaN
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); // rounds to infinity
    if (abs < 0x38800000u) {                                  // subnormal or zero
        float a = bits_to_f32(abs) * 16777216.0f;               // in units of 2^-24
        uint32_t m = (uint32_t)a;
        float rest = a - (float)m;
        if (rest > 0.5f || (rest == 0.5f && (m & 1))) m++;
        return (uint16_t)(sign | m);
    }
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1);
    return (uint16_t)(sign | ((rounded - 0x38000000u) >> 13));
}

int tct_utf8_valid(const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
        else return 0;
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
        if (cp >= 0xd800 && cp <= 0xdfff) return 0;
        i += len;
    }
    return 1;
}

// A stream between two programs goes through a pipe of 64 KiB by default:
// writer and reader then wake each other every 64 KiB, and on some kernels
// (virtual machines) that costs more than the compression itself. 1 MiB is
// the usual limit for an unprivileged process; failing only costs speed.
void tct_enlarge_pipe(FILE *f) {
#ifdef F_SETPIPE_SZ
    enum { WANT = 1 << 20 };
    struct stat st;
    int fd = f ? fileno(f) : -1;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
    if (fcntl(fd, F_GETPIPE_SZ) < WANT) (void)fcntl(fd, F_SETPIPE_SZ, WANT);
#else
    (void)f;
#endif
}
