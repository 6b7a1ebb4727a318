// Test helper: compares two safetensors files tensor by tensor.
//   st-diff A B [ATOL [RTOL]]
// Prints the largest absolute difference and where; exits 0 when every
// value satisfies |a - b| <= ATOL + RTOL * |b| (defaults 0, 0: bit for bit),
// 1 when not, 2 when the files do not have the same tensors and shapes.
#include "common/error.h"
#include "common/model/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: st-diff A B [ATOL [RTOL]]\n");
        return 2;
    }
    double atol = argc > 3 ? atof(argv[3]) : 0, rtol = argc > 4 ? atof(argv[4]) : 0;
    tc_safetensors a, b;
    if (tc_safetensors_open(&a, argv[1]) || tc_safetensors_open(&b, argv[2])) {
        fprintf(stderr, "st-diff: %s\n", tc_error());
        return 2;
    }
    int rc = a.n_tensors == b.n_tensors ? 0 : 2;
    double worst = 0;
    const char *where = "";
    size_t bad = 0, total = 0;
    for (size_t i = 0; rc != 2 && i < a.n_tensors; i++) {
        const tc_st_tensor *x = &a.tensors[i], *y = tc_safetensors_find(&b, x->name);
        if (!y || y->count != x->count || x->dtype != TC_ST_F32 || y->dtype != TC_ST_F32) {
            fprintf(stderr, "st-diff: %s: missing, mis-shaped or not F32 in %s\n", x->name, argv[2]);
            rc = 2;
            break;
        }
        const float *p = x->data, *q = y->data;
        for (uint64_t k = 0; k < x->count; k++, total++) {
            double d = fabs((double)p[k] - (double)q[k]);
            if (d > worst || d != d) worst = d, where = x->name;
            if (!(d <= atol + rtol * fabs((double)q[k]))) bad++;
        }
    }
    if (rc == 0 && bad) rc = 1;
    if (rc != 2)
        printf("%zu values, largest difference %.3g (%s), %zu beyond atol %g rtol %g\n", total, worst, where, bad, atol,
               rtol);
    tc_safetensors_close(&a);
    tc_safetensors_close(&b);
    return rc;
}
