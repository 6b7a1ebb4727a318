// libFuzzer target: any bytes given to the tensor stream reader end in a
// clean error or a complete stream, never a crash, a leak or a hang. Both
// the whole-file reader (tct_bundle) and the aligned-rows reader (tct_table)
// are driven.
#include "formats/tct.h"

#include <stdio.h>

static void read_bundle(const uint8_t *data, size_t size) {
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return;
    tct_bundle b;
    if (tct_bundle_read(&b, f, "fuzz") == 0) tct_bundle_free(&b);
    fclose(f);
}

static void read_table(const uint8_t *data, size_t size) {
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return;
    tct_reader *r;
    if (tct_reader_open(&r, f, "fuzz") == 0) {
        tct_reader_set_max_record(r, 64u << 20);
        const char *names[3] = {"doc_ids", "input_ids", "lengths"};
        tct_table *t;
        if (tct_table_open(&t, r, names, 3) == 0) {
            tct_column cols[3];
            while (tct_table_next(t, 7, cols) > 0) {}
            tct_table_close(t);
        }
        tct_reader_close(r);
    }
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;  // fmemopen refuses empty buffers
    read_bundle(data, size);
    read_table(data, size);
    return 0;
}
