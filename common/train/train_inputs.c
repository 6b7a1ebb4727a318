#include "common/train/train_inputs.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tc_free_strings(char **s, int n) {
    for (int i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

// doc_ids of a class file: copied; all-integer ids must count 0..K-1.
static int class_ids(const tct_bundle *b, const char *path, uint64_t K, char ***out) {
    *out = NULL;
    const tct_bundle_tensor *t = tct_bundle_find(b, "doc_ids");
    if (!t) return 0;
    if (t->dtype != TCT_STR || t->count != K)
        return tc_fail("%s: doc_ids has %llu entries, expected %llu", path, (unsigned long long)t->count,
                       (unsigned long long)K);
    char **s = t->data;
    int numeric = 1;
    for (uint64_t k = 0; k < K && numeric; k++) {
        char *end;
        strtol(s[k], &end, 10);
        numeric = *s[k] && !*end;
    }
    for (uint64_t k = 0; numeric && k < K; k++)
        if (strtol(s[k], NULL, 10) != (long)k)
            return tc_fail("%s: row %llu is class %s: class rows must come in class-id order", path,
                           (unsigned long long)k, s[k]);
    *out = tc_calloc(K, sizeof **out);
    for (uint64_t k = 0; *out && k < K; k++) (*out)[k] = strdup(s[k]);
    return *out ? 0 : -1;
}

int tc_load_class_vectors(const char *path, int *K, int *D, float **E, char ***ids) {
    *E = NULL;
    *ids = NULL;
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    const tct_bundle_tensor *t = tct_bundle_expect(&b, path, "embeddings", TCT_F32, 2);
    int rc = t ? 0 : -1;
    if (rc == 0 && (t->dims[0] < 1 || t->dims[1] < 1 || t->dims[0] > 1000000 || t->dims[1] > 100000))
        rc = tc_fail("%s: embeddings of shape [%llu,%llu]", path, (unsigned long long)t->dims[0],
                     (unsigned long long)t->dims[1]);
    for (uint64_t i = 0; rc == 0 && i < t->count; i++)
        if (!isfinite(((float *)t->data)[i]))
            rc = tc_fail("%s: class %llu's vector is not finite", path, (unsigned long long)(i / t->dims[1]));
    if (rc == 0) rc = class_ids(&b, path, t->dims[0], ids);
    if (rc == 0) {
        *K = (int)t->dims[0];
        *D = (int)t->dims[1];
        *E = tc_malloc_array(t->count, sizeof **E);
        if (*E) memcpy(*E, t->data, t->count * sizeof **E);
        else rc = -1;
    }
    tct_bundle_free(&b);
    return rc;
}

void tc_free_class_tokens(tc_class_tokens *t) {
    for (int k = 0; t->rows && k < t->K; k++) free(t->rows[k]);
    free(t->rows);
    free(t->lengths);
    tc_free_strings(t->ids, t->K);
    memset(t, 0, sizeof *t);
}

int tc_load_class_tokens(const char *path, const tc_bert_model *model, int max_len, tc_class_tokens *out) {
    memset(out, 0, sizeof *out);
    tct_bundle b;
    if (tct_bundle_load(&b, path)) return -1;
    const tct_bundle_tensor *ids = tct_bundle_expect(&b, path, "input_ids", TCT_I32, 2),
                            *len = tct_bundle_expect(&b, path, "lengths", TCT_I32, 1);
    int rc = ids && len ? 0 : -1;
    if (rc == 0 && (len->count != ids->dims[0] || ids->dims[0] < 1))
        rc = tc_fail("%s: %llu lengths for %llu rows", path, (unsigned long long)len->count,
                     (unsigned long long)ids->dims[0]);
    if (rc == 0) rc = tc_bert_check_tokens(model, path, ids->attrs, ids->n_attrs);
    if (rc == 0) rc = class_ids(&b, path, ids->dims[0], &out->ids);
    uint64_t K = rc == 0 ? ids->dims[0] : 0, W = rc == 0 ? ids->dims[1] : 0;
    out->K = (int)K;
    out->rows = tc_calloc(K + 1, sizeof *out->rows);
    out->lengths = tc_calloc(K + 1, sizeof *out->lengths);
    if (!out->rows || !out->lengths) rc = -1;
    for (uint64_t k = 0; rc == 0 && k < K; k++) {
        const int32_t *row = (const int32_t *)ids->data + k * W;
        int32_t n = ((const int32_t *)len->data)[k];
        if (n < 1 || (uint64_t)n > W) {
            rc = tc_fail("%s: row %llu has length %d (1..%llu)", path, (unsigned long long)k, n, (unsigned long long)W);
            break;
        }
        int keep = n > max_len ? max_len : n;
        out->rows[k] = tc_malloc_array((size_t)keep, sizeof **out->rows);
        if (!out->rows[k]) rc = -1;
        for (int t = 0; rc == 0 && t < keep; t++) {
            out->rows[k][t] = t == keep - 1 ? row[n - 1] : row[t];  // truncated: keep the final [SEP]
            if (out->rows[k][t] < 0 || out->rows[k][t] >= model->cfg.vocab_size)
                rc = tc_fail("%s: row %llu: token id %d outside the vocabulary", path, (unsigned long long)k,
                             out->rows[k][t]);
        }
        out->lengths[k] = keep;
        if (keep > out->longest) out->longest = keep;
    }
    tct_bundle_free(&b);
    if (rc) tc_free_class_tokens(out);
    return rc;
}
