// A stream with more tensors than the reader first makes room for (8),
// begun one after another while earlier ones are still receiving rows, as
// tc-predict writes its predictions: the tensor infos a reader hands out
// (events, tct_reader_tensor, and those a tct_table keeps) stay where they
// are, so a table over early tensors reads every row.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/error.h"
#include "formats/tct.h"

#include <stdint.h>

enum { TENSORS = 20, WINDOWS = 5, ROWS = 7 };

static int write_stream(FILE *f) {
    tct_writer *w;
    if (tct_writer_open(&w, f, "many", NULL, 0, NULL)) return -1;
    uint64_t dims[2] = {TCT_ROWS_UNKNOWN, 2};
    int ids[TENSORS];
    for (int t = 0; t < TENSORS; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        if ((ids[t] = tct_writer_begin(w, name, TCT_I32, 2, dims, NULL, 0)) < 0) return -1;
        if (t == 0) {  // rows of t0 before the others begin
            int32_t first[2] = {-1, -1};
            if (tct_writer_append(w, ids[0], first, 1) || tct_writer_flush(w)) return -1;
        }
    }
    for (int win = 0; win < WINDOWS; win++) {
        for (int t = 0; t < TENSORS; t++) {
            int32_t rows[(ROWS + 1) * 2];
            for (int i = 0; i <= ROWS; i++) rows[2 * i] = t, rows[2 * i + 1] = win * ROWS + i;
            if (tct_writer_append(w, ids[t], rows, t == 0 ? ROWS : ROWS + (win == 0))) return -1;
        }
        if (tct_writer_flush(w)) return -1;
    }
    for (int t = 0; t < TENSORS; t++)
        if (tct_writer_end(w, ids[t])) return -1;
    return tct_writer_close(w);
}

static void test_table_over_early_tensors(void) {
    FILE *f = tmpfile();
    ENSURE(f && write_stream(f) == 0);
    rewind(f);
    tct_reader *r;
    ENSURE(tct_reader_open(&r, f, "many") == 0);
    // t0 begins first; hold its info from the first event
    tct_event ev;
    ENSURE(tct_reader_next(r, &ev) == 1 && ev.kind == TCT_EVENT_BEGIN);
    tct_tensor_info *t0 = ev.tensor;
    static const char *names[2] = {"t0", "t12"};
    tct_table *table;
    ENSURE(tct_table_open(&table, r, names, 2) == 0);
    tct_column cols[2];
    int64_t got, total = 0;
    while ((got = tct_table_next(table, 3, cols)) > 0) {
        const int32_t *a = cols[0].data, *b = cols[1].data;
        for (int64_t i = 0; i < got; i++) {
            CHECKF(a[2 * i] == (total + i == 0 ? -1 : 0), "t0 row %lld", (long long)(total + i));
            CHECKF(b[2 * i] == 12, "t12 row %lld", (long long)(total + i));
        }
        total += got;
    }
    CHECKF(got == 0, "table: %s", tc_error());
    CHECKF(total == WINDOWS * ROWS + 1, "%lld rows", (long long)total);
    CHECK(tct_reader_tensor(r, 0) == t0 && t0->ended && t0->dims[0] == WINDOWS * ROWS + 1);
    CHECK(tct_reader_tensor_count(r) == TENSORS);
    tct_table_close(table);
    tct_reader_close(r);
    fclose(f);
}

int main(void) {
    RUN(test_table_over_early_tensors);
    HARNESS_EXIT();
}
