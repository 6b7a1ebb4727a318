#include "common/train/tb_events.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

// Bit by bit: a record is a few hundred bytes, and no table means no
// shared state between the thread ranks.
uint32_t tc_crc32c(const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    }
    return c ^ 0xffffffffu;
}

// ---------------------------------------------------------------- protocol buffers

typedef struct {
    unsigned char *p;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void varint(buf *b, uint64_t v) {
    unsigned char out[10];
    int n = 0;
    do {
        out[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) out[n] |= 0x80;
        n++;
    } while (v);
    put(b, out, (size_t)n);
}

static void le(buf *b, uint64_t v, int bytes) {
    unsigned char out[8];
    for (int i = 0; i < bytes; i++) out[i] = (unsigned char)(v >> (8 * i));
    put(b, out, (size_t)bytes);
}

// Field `field` of wire type 2 (length-delimited).
static void bytes_field(buf *b, int field, const void *data, size_t n) {
    varint(b, (uint64_t)field << 3 | 2);
    varint(b, n);
    put(b, data, n);
}

static void double_field(buf *b, int field, double x) {
    uint64_t bits;
    memcpy(&bits, &x, 8);
    varint(b, (uint64_t)field << 3 | 1);
    le(b, bits, 8);
}

static void float_field(buf *b, int field, float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    varint(b, (uint64_t)field << 3 | 5);
    le(b, bits, 4);
}

static double wall_time(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

// ---------------------------------------------------------------- records

static int write_record(tc_tb_events *ev, const buf *data) {
    if (data->failed) return tc_fail("out of memory");
    buf head = {0};
    le(&head, data->len, 8);
    unsigned char crcs[8];
    uint32_t hc = tc_crc32c_masked(head.p, 8), dc = tc_crc32c_masked(data->p, data->len);
    for (int i = 0; i < 4; i++) crcs[i] = (unsigned char)(hc >> (8 * i)), crcs[4 + i] = (unsigned char)(dc >> (8 * i));
    int ok = !head.failed && fwrite(head.p, 1, 8, ev->f) == 8 && fwrite(crcs, 1, 4, ev->f) == 4 &&
             fwrite(data->p, 1, data->len, ev->f) == data->len && fwrite(crcs + 4, 1, 4, ev->f) == 4 &&
             fflush(ev->f) == 0;
    free(head.p);
    return ok ? 0 : tc_fail("%s: write error: %s", ev->path, strerror(errno));
}

int tc_tb_events_open(tc_tb_events *ev, const char *dir) {
    ev->f = NULL;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return tc_fail("%s: cannot create: %s", dir, strerror(errno));
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    snprintf(ev->path, sizeof ev->path, "%s/events.out.tfevents.%ld.%s.%ld", dir, (long)wall_time(), host,
             (long)getpid());
    ev->f = fopen(ev->path, "wb");
    if (!ev->f) return tc_fail("%s: cannot create: %s", ev->path, strerror(errno));
    buf e = {0};
    double_field(&e, 1, wall_time());
    bytes_field(&e, 3, "brain.Event:2", 13);
    int rc = write_record(ev, &e);
    free(e.p);
    return rc;
}

int tc_tb_events_write(tc_tb_events *ev, json_t *line) {
    if (!ev->f) return 0;
    buf summary = {0}, value = {0}, e = {0};
    const char *key;
    json_t *v;
    json_object_foreach(line, key, v) {
        if (!json_is_number(v) || !strcmp(key, "step")) continue;  // the record's own step
        value.len = 0;
        bytes_field(&value, 1, key, strlen(key));
        float_field(&value, 2, (float)json_number_value(v));
        if (!value.failed) bytes_field(&summary, 1, value.p, value.len);
    }
    double_field(&e, 1, wall_time());
    varint(&e, 2 << 3 | 0);
    varint(&e, (uint64_t)json_integer_value(json_object_get(line, "step")));
    if (!summary.failed) bytes_field(&e, 5, summary.p, summary.len);
    int rc = value.failed || summary.failed ? tc_fail("out of memory") : write_record(ev, &e);
    free(summary.p), free(value.p), free(e.p);
    return rc;
}

int tc_tb_events_close(tc_tb_events *ev) {
    if (!ev->f) return 0;
    int rc = fclose(ev->f);
    ev->f = NULL;
    return rc ? tc_fail("%s: write error: %s", ev->path, strerror(errno)) : 0;
}
