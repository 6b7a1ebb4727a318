#include "common/train/contrastive.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- the loss

// x / max(|x|, 1e-12) into out (double), as torch.nn.functional.normalize;
// returns the divisor.
static double unit(const float *x, int C, double *out) {
    double s = 0;
    for (int c = 0; c < C; c++) s += (double)x[c] * x[c];
    double norm = sqrt(s) > 1e-12 ? sqrt(s) : 1e-12;
    for (int c = 0; c < C; c++) out[c] = x[c] / norm;
    return norm;
}

// The gradient through the normalization: d x = (d u - u (u . d u)) / |x|.
static void unnormalize_grad(const double *u, const double *du, double norm, int C, float *dx) {
    double dot = 0;
    for (int c = 0; c < C; c++) dot += u[c] * du[c];
    for (int c = 0; c < C; c++) dx[c] = (float)((du[c] - u[c] * dot) / norm);
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

double tc_mnrl_loss(const float *anchor, const float *cand, int n, int m, int C, double scale, double grad_scale,
                    double *row_loss, float *d_anchor, float *d_cand) {
    if (!all_finite(anchor, (size_t)n * C) || !all_finite(cand, (size_t)m * C)) return NAN;
    size_t nC = (size_t)n * C, mC = (size_t)m * C;
    int grads = d_anchor && d_cand;
    double *ua = tc_malloc_array(nC + mC + (size_t)n + (size_t)m + (size_t)m, sizeof *ua);
    double *du = grads ? tc_calloc(nC + mC, sizeof *du) : NULL;
    if (!ua || (grads && !du)) {
        free(ua), free(du);
        return NAN;
    }
    double *up = ua + nC, *na = up + mC, *np = na + n, *s = np + m;
    for (int i = 0; i < n; i++) na[i] = unit(anchor + (size_t)i * C, C, ua + (size_t)i * C);
    for (int j = 0; j < m; j++) np[j] = unit(cand + (size_t)j * C, C, up + (size_t)j * C);
    double total = 0;
    for (int i = 0; i < n; i++) {
        const double *a = ua + (size_t)i * C;
        double top = -INFINITY;
        for (int j = 0; j < m; j++) {
            const double *p = up + (size_t)j * C;
            double dot = 0;
            for (int c = 0; c < C; c++) dot += a[c] * p[c];
            s[j] = scale * dot;
            top = s[j] > top ? s[j] : top;
        }
        double z = 0;
        for (int j = 0; j < m; j++) z += exp(s[j] - top);
        double lse = top + log(z), loss = lse - s[i];
        total += loss;
        if (row_loss) row_loss[i] = loss;
        if (!grads) continue;
        // d loss_i / d s_ij = softmax_ij - [j == i]; s = scale x cos
        double *da = du + (size_t)i * C;
        for (int j = 0; j < m; j++) {
            double g = (exp(s[j] - lse) - (j == i)) * scale * grad_scale;
            const double *p = up + (size_t)j * C;
            double *dp = du + nC + (size_t)j * C;
            for (int c = 0; c < C; c++) da[c] += g * p[c], dp[c] += g * a[c];
        }
    }
    if (grads) {
        for (int i = 0; i < n; i++)
            unnormalize_grad(ua + (size_t)i * C, du + (size_t)i * C, na[i], C, d_anchor + (size_t)i * C);
        for (int j = 0; j < m; j++)
            unnormalize_grad(up + (size_t)j * C, du + nC + (size_t)j * C, np[j], C, d_cand + (size_t)j * C);
    }
    free(ua), free(du);
    return total;
}

// ---------------------------------------------------------------- micro-batches

struct tc_contrastive {
    tc_classifier *cl;
    tc_comm *comm;
    int batch, chunk, C;
    double scale;
    float *all, *d_all;   // (2 x batch x ranks, C): every rank's anchors, then every rank's positives
    float *mine;          // (2 x batch, C): this rank's embeddings, or a chunk's gradient
    double *counts;       // (ranks)
    float *d_f32;         // backend (chunk, C) f32: the gradient before its conversion (bf16, f16)
};

int tc_contrastive_create(tc_contrastive **out, tc_classifier *cl, tc_comm *comm, int batch, int chunk,
                          double scale) {
    *out = NULL;
    if (chunk <= 0 || chunk > 2 * batch) chunk = 2 * batch;
    if (chunk > cl->opt.max_batch)
        return tc_fail("a chunk of %d sequences is more than the encoder's batch of %d", chunk, cl->opt.max_batch);
    tc_contrastive *ct = tc_calloc(1, sizeof *ct);
    if (!ct) return -1;
    *ct = (tc_contrastive){.cl = cl, .comm = comm, .batch = batch, .chunk = chunk, .C = cl->C, .scale = scale};
    size_t rows = 2 * (size_t)batch * (size_t)comm->size, C = (size_t)cl->C;
    ct->all = tc_malloc_array(rows * C, sizeof *ct->all);
    ct->d_all = tc_malloc_array(rows * C, sizeof *ct->d_all);
    ct->mine = tc_malloc_array(2 * (size_t)batch * C, sizeof *ct->mine);
    ct->counts = tc_calloc((size_t)comm->size, sizeof *ct->counts);
    tc_backend *be = cl->be;
    if (be->dtype != TCT_F32) ct->d_f32 = be->ops->alloc(be, (size_t)chunk * C * 4);
    if (!ct->all || !ct->d_all || !ct->mine || !ct->counts || (be->dtype != TCT_F32 && !ct->d_f32)) {
        tc_contrastive_free(ct);
        return -1;
    }
    *out = ct;
    return 0;
}

void tc_contrastive_free(tc_contrastive *ct) {
    if (!ct) return;
    free(ct->all), free(ct->d_all), free(ct->mine), free(ct->counts);
    if (ct->d_f32) ct->cl->be->ops->free(ct->cl->be, ct->d_f32);
    free(ct);
}

// The forward pass of n rows, their embeddings (n, C) into out (host).
static int forward(tc_contrastive *ct, const int32_t *const *rows, const int32_t *lengths, int n, float *out) {
    tc_bert_forward *fw = ct->cl->fw;
    return tc_bert_forward_submit(fw, rows, NULL, lengths, n) || tc_bert_forward_collect(fw, out) ? -1 : 0;
}

// Every rank's counts, then its rows: *N the micro-batch's pairs over all
// ranks, *off this rank's first. Adding zeros is exact, so the sum is an
// all-gather that every communicator has.
static int gather_rows(tc_contrastive *ct, int B, int *N, int *off) {
    tc_comm *comm = ct->comm;
    size_t C = (size_t)ct->C;
    memset(ct->counts, 0, (size_t)comm->size * sizeof *ct->counts);
    ct->counts[comm->rank] = B;
    if (comm->size > 1 && comm->ops->allreduce_sum(comm, ct->counts, (size_t)comm->size, TC_COMM_F64)) return -1;
    *N = *off = 0;
    for (int r = 0; r < comm->size; r++) {
        if (r < comm->rank) *off += (int)ct->counts[r];
        *N += (int)ct->counts[r];
    }
    if (comm->size == 1) {
        memcpy(ct->all, ct->mine, 2 * (size_t)B * C * sizeof *ct->all);
        return 0;
    }
    memset(ct->all, 0, 2 * (size_t)*N * C * sizeof *ct->all);
    memcpy(ct->all + (size_t)*off * C, ct->mine, (size_t)B * C * sizeof *ct->all);
    memcpy(ct->all + (size_t)(*N + *off) * C, ct->mine + (size_t)B * C, (size_t)B * C * sizeof *ct->all);
    return comm->ops->allreduce_sum(comm, ct->all, 2 * (size_t)*N * C, TC_COMM_F32);
}

// The gradient of local rows [r0, r0 + n) (anchors below B, then
// positives) uploaded as the encoder output's gradient, in the compute type.
static int upload_grad(tc_contrastive *ct, int B, int N, int off, int r0, int n) {
    tc_classifier *cl = ct->cl;
    tc_backend *be = cl->be;
    size_t C = (size_t)ct->C;
    for (int i = 0; i < n; i++) {
        int r = r0 + i;
        size_t at = r < B ? (size_t)(off + r) : (size_t)(N + off + r - B);
        memcpy(ct->mine + (size_t)i * C, ct->d_all + at * C, C * sizeof *ct->mine);
    }
    size_t bytes = (size_t)n * C * 4;
    if (!ct->d_f32) return be->ops->upload(be, cl->d_doc, ct->mine, bytes);
    return be->ops->upload(be, ct->d_f32, ct->mine, bytes) || be->ops->from_f32(be, cl->d_doc, ct->d_f32, (size_t)n * C)
               ? -1
               : 0;
}

int tc_contrastive_batch(tc_contrastive *ct, const int32_t *const *rows, const int32_t *lengths, int B,
                         double grad_scale, double *loss) {
    tc_classifier *cl = ct->cl;
    size_t C = (size_t)ct->C;
    int n_rows = 2 * B, N, off;
    *loss = 0;
    if (B > ct->batch) return tc_fail("a micro-batch of %d pairs is more than %d", B, ct->batch);
    cl->bw->layer_done = NULL;
    for (int r = 0; r < n_rows; r += ct->chunk) {  // embeddings without keeping the activations
        int n = n_rows - r < ct->chunk ? n_rows - r : ct->chunk;
        if (forward(ct, rows + r, lengths + r, n, ct->mine + (size_t)r * C)) return -1;
    }
    if (gather_rows(ct, B, &N, &off)) return -1;
    double *row_loss = tc_malloc_array(N ? (size_t)N : 1, sizeof *row_loss);
    if (!row_loss) return -1;
    const float *anchors = ct->all, *cands = ct->all + (size_t)N * C;
    double total = N ? tc_mnrl_loss(anchors, cands, N, N, (int)C, ct->scale, grad_scale, row_loss, ct->d_all,
                                    ct->d_all + (size_t)N * C)
                     : 0;
    for (int i = 0; i < B; i++) *loss += row_loss[off + i];
    free(row_loss);
    if (!isfinite(total)) return tc_fail("non-finite contrastive loss");
    int single = n_rows <= ct->chunk;  // the one forward's activations are still there
    for (int r = 0; r < n_rows; r += ct->chunk) {
        int n = n_rows - r < ct->chunk ? n_rows - r : ct->chunk;
        if (!single && forward(ct, rows + r, lengths + r, n, ct->all))  // all: free once the gradient is made
            return -1;
        if (upload_grad(ct, B, N, off, r, n) || tc_bert_backward_run(cl->bw, cl->d_doc)) return -1;
    }
    return cl->be->ops->synchronize(cl->be);
}

// ---------------------------------------------------------------- validation

// Embeds this rank's pairs (r, r + ranks, ...) into A and P (n, C), zero
// elsewhere, in batches of the encoder's size.
static int embed_share(tc_contrastive *ct, uint64_t n, tc_pair_rows_fn fetch, void *ctx, float *A, float *P) {
    tc_comm *comm = ct->comm;
    int max = ct->cl->opt.max_batch;
    const int32_t **rows = tc_calloc((size_t)max, sizeof *rows);
    int32_t *lengths = tc_calloc((size_t)max, sizeof *lengths);
    uint64_t *which = tc_calloc((size_t)max, sizeof *which);
    float *out = tc_malloc_array((size_t)max * (size_t)ct->C, sizeof *out);
    int rc = rows && lengths && which && out ? 0 : -1;
    for (int side = 0; rc == 0 && side < 2; side++) {
        float *dst = side ? P : A;
        uint64_t i = (uint64_t)comm->rank;
        while (rc == 0 && i < n) {
            int k = 0;
            for (; k < max && i < n; k++, i += (uint64_t)comm->size) {
                const int32_t *a, *p;
                int32_t la, lp;
                fetch(ctx, i, &a, &la, &p, &lp);
                rows[k] = side ? p : a, lengths[k] = side ? lp : la, which[k] = i;
            }
            rc = forward(ct, rows, lengths, k, out);
            for (int j = 0; rc == 0 && j < k; j++)
                memcpy(dst + which[j] * (size_t)ct->C, out + (size_t)j * ct->C, (size_t)ct->C * sizeof *out);
        }
    }
    free(rows), free(lengths), free(which), free(out);
    return rc;
}

// The rank of anchor i's positive among all candidates (1: first) from its
// scores s (n), the sums of validate's figures.
static void rank_figures(const double *s, uint64_t n, uint64_t i, double scale, double sums[4]) {
    double top = -INFINITY, z = 0;
    uint64_t above = 0;
    for (uint64_t j = 0; j < n; j++) {
        top = s[j] > top ? s[j] : top;
        above += s[j] > s[i];
    }
    for (uint64_t j = 0; j < n; j++) z += exp(scale * (s[j] - top));
    sums[0] += scale * (top - s[i]) + log(z);
    sums[1] += above < 10 ? 1.0 / (double)(above + 1) : 0;
    sums[2] += above == 0;
    sums[3] += 1;
}

int tc_contrastive_validate(tc_contrastive *ct, uint64_t n, tc_pair_rows_fn fetch, void *ctx, double sums[4]) {
    tc_comm *comm = ct->comm;
    size_t C = (size_t)ct->C;
    memset(sums, 0, 4 * sizeof *sums);
    float *A = tc_calloc(2 * n * C + 1, sizeof *A);
    double *u = tc_malloc_array(2 * n * C + n + 1, sizeof *u);
    int rc = A && u ? embed_share(ct, n, fetch, ctx, A, A + n * C) : -1;
    if (tc_comm_any(comm, rc != 0)) {
        free(A), free(u);
        return rc ? -1 : tc_fail("validation failed on another rank");
    }
    if (comm->size > 1 && comm->ops->allreduce_sum(comm, A, 2 * n * C, TC_COMM_F32)) rc = -1;
    for (uint64_t i = 0; rc == 0 && i < 2 * n; i++) unit(A + i * C, (int)C, u + i * C);
    double *s = u + 2 * n * C;
    // rank r scores anchors r, r + ranks, ...
    for (uint64_t i = (uint64_t)comm->rank; rc == 0 && i < n; i += (uint64_t)comm->size) {
        for (uint64_t j = 0; j < n; j++) {
            double dot = 0;
            for (size_t c = 0; c < C; c++) dot += u[i * C + c] * u[(n + j) * C + c];
            s[j] = dot;
        }
        rank_figures(s, n, i, ct->scale, sums);
    }
    free(A), free(u);
    if (rc) return -1;
    return comm->size > 1 ? comm->ops->allreduce_sum(comm, sums, 4, TC_COMM_F64) : 0;
}
