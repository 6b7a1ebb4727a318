// libFuzzer target: any bytes as model.safetensors end in a clean error or
// an index whose every entry lies inside the file; each tensor is then read
// back as f32 (the way the model loader reads weights), so a byte range
// the index accepted but the data does not hold shows up here.
#include "common/model/safetensors.h"
#include "tests/fuzz/fuzz_files.h"

enum { MAX_ELEMENTS = 1 << 20 };  // what one read may copy (the input is far smaller)

static void read_all(const tc_safetensors *st) {
    for (size_t i = 0; i < st->n_tensors; i++) {
        const tc_st_tensor *t = &st->tensors[i];
        if (tc_safetensors_find(st, t->name) == NULL) abort();  // every indexed name is found
        char shape[256];
        tc_st_shape_text(shape, sizeof shape, t->rank, t->shape);
        if (t->count > MAX_ELEMENTS) continue;
        float *dst = malloc((t->count ? t->count : 1) * sizeof *dst);
        if (!dst) continue;
        (void)tc_safetensors_read_f32(st, t->name, t->rank, t->shape, dst);
        free(dst);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_part whole = {data, size};
    fuzz_file(path, sizeof path, "model.safetensors", &whole);
    tc_safetensors st;
    if (fuzz_note("safetensors", tc_safetensors_open(&st, path)) == 0) {
        read_all(&st);
        tc_safetensors_close(&st);
    }
    return 0;
}
