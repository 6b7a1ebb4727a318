// Test helper: compares the embeddings of two tensor files row by row.
//   emb-compare A.tct B.tct [MIN_COSINE [MAX_ABS_ERROR]]
// Both files need doc_ids (equal, in the same order) and embeddings (f32,
// f16 or bf16; same shape). Prints "rows N min_cosine C max_abs_error E"
// and exits 0 when every row reaches MIN_COSINE (default 0.99999) and every
// element is within MAX_ABS_ERROR (default 1e-4), else 1.
#include "formats/tct.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double value(const tct_bundle_tensor *t, size_t i) {
    switch (t->dtype) {
    case TCT_F32: return ((const float *)t->data)[i];
    case TCT_F16: return tct_f16_to_f32(((const uint16_t *)t->data)[i]);
    case TCT_BF16: return tct_bf16_to_f32(((const uint16_t *)t->data)[i]);
    default: return NAN;
    }
}

static const tct_bundle_tensor *embeddings(const tct_bundle *b, const char *path) {
    const tct_bundle_tensor *t = tct_bundle_find(b, "embeddings");
    if (!t || t->rank != 2 || (t->dtype != TCT_F32 && t->dtype != TCT_F16 && t->dtype != TCT_BF16)) {
        fprintf(stderr, "emb-compare: %s: no embeddings tensor of rank 2 and a float dtype\n", path);
        return NULL;
    }
    return t;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: emb-compare A.tct B.tct [MIN_COSINE [MAX_ABS_ERROR]]\n");
        return 2;
    }
    double min_cos_allowed = argc > 3 ? atof(argv[3]) : 0.99999, max_err_allowed = argc > 4 ? atof(argv[4]) : 1e-4;
    tct_bundle a, b;
    if (tct_bundle_load(&a, argv[1]) || tct_bundle_load(&b, argv[2])) {
        fprintf(stderr, "emb-compare: %s\n", tc_error());
        return 2;
    }
    const tct_bundle_tensor *ea = embeddings(&a, argv[1]), *eb = embeddings(&b, argv[2]);
    const tct_bundle_tensor *ia = tct_bundle_find(&a, "doc_ids"), *ib = tct_bundle_find(&b, "doc_ids");
    if (!ea || !eb) return 2;
    if (ea->dims[0] != eb->dims[0] || ea->dims[1] != eb->dims[1]) {
        printf("shapes differ: [%llu,%llu] and [%llu,%llu]\n", (unsigned long long)ea->dims[0],
               (unsigned long long)ea->dims[1], (unsigned long long)eb->dims[0], (unsigned long long)eb->dims[1]);
        return 1;
    }
    if (!ia || !ib || ia->count != ib->count || ia->count != ea->dims[0]) {
        printf("doc_ids missing or of another length\n");
        return 1;
    }
    size_t N = ea->dims[0], D = ea->dims[1];
    for (size_t n = 0; n < N; n++)
        if (strcmp(((char **)ia->data)[n], ((char **)ib->data)[n])) {
            printf("row %zu: doc_ids '%s' and '%s'\n", n, ((char **)ia->data)[n], ((char **)ib->data)[n]);
            return 1;
        }
    double min_cos = 1, max_err = 0;
    for (size_t n = 0; n < N; n++) {
        double dot = 0, x2 = 0, y2 = 0;
        for (size_t d = 0; d < D; d++) {
            double x = value(ea, n * D + d), y = value(eb, n * D + d);
            dot += x * y, x2 += x * x, y2 += y * y;
            if (!(fabs(x - y) <= max_err)) max_err = fabs(x - y);
        }
        double cos = x2 == 0 && y2 == 0 ? 1 : dot / sqrt(x2 * y2);
        if (!(cos >= min_cos)) min_cos = cos;
    }
    printf("rows %zu min_cosine %.9f max_abs_error %.3g\n", N, min_cos, max_err);
    tct_bundle_free(&a);
    tct_bundle_free(&b);
    return min_cos >= min_cos_allowed && max_err <= max_err_allowed ? 0 : 1;
}
