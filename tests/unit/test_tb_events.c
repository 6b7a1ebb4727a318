// TensorBoard event files (common/train/tb_events.h): CRC-32C against its
// published check value and TFRecord's masking, and the framing of the
// records written (length, masked CRCs of length and data), read back here
// byte by byte. tests/cli/test_train_tensorboard.sh reads whole runs with the
// tensorboard package.
#include "tests/harness.h"
#include "common/train/tb_events.h"

#include <dirent.h>

static void test_crc32c(void) {
    CHECKF(tc_crc32c("123456789", 9) == 0xe3069283u, "crc32c %08x", tc_crc32c("123456789", 9));
    CHECK(tc_crc32c("", 0) == 0);
    uint32_t c = tc_crc32c("123456789", 9);
    CHECK(tc_crc32c_masked("123456789", 9) == ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void test_records(void) {
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/tb", harness_tmpdir());
    tc_tb_events ev;
    REQUIRE(tc_tb_events_open(&ev, dir) == 0);
    json_t *line = json_pack("{s:i, s:f, s:s, s:b}", "step", 7, "loss", 0.5, "note", "x", "best", 1);
    CHECK(tc_tb_events_write(&ev, line) == 0);
    json_decref(line);
    snprintf(path, sizeof path, "%s", ev.path);
    CHECK(tc_tb_events_close(&ev) == 0);
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f), at = 0;
    fclose(f);
    int records = 0;
    while (at + 12 <= n) {
        uint64_t len = le(buf + at, 8);
        CHECK(le(buf + at + 8, 4) == tc_crc32c_masked(buf + at, 8));
        REQUIRE(at + 16 + len <= n);
        CHECK(le(buf + at + 12 + len, 4) == tc_crc32c_masked(buf + at + 12, len));
        if (records == 0) CHECK(len > 13 && !memcmp(buf + at + 12 + len - 13, "brain.Event:2", 13));
        if (records == 1) {  // wall_time, step 7 (field 2, varint), one value: tag "loss", simple_value 0.5
            const unsigned char *e = buf + at + 12;
            CHECK(e[0] == 0x09 && e[9] == 0x10 && e[10] == 7 && e[11] == 0x2a);
            CHECK(memmem(e, len, "\x0a\x04loss\x15\x00\x00\x00\x3f", 11) != NULL);
            CHECK(memmem(e, len, "note", 4) == NULL && memmem(e, len, "best", 4) == NULL);
        }
        at += 16 + len;
        records++;
    }
    CHECK(at == n && records == 2);
}

int main(void) {
    RUN(test_crc32c);
    RUN(test_records);
    HARNESS_EXIT();
}
