#include "common/model/bert_backward.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

int tc_bert_backward_create(tc_bert_backward **out, tc_bert_forward *fw, float *grads) {
    *out = NULL;
    if (!fw->opt.keep) return tc_fail("the backward pass needs a forward pass that keeps its activations");
    tc_backend *be = fw->be;
    const tc_bert_config *cfg = &fw->model->cfg;
    size_t es = tc_backend_dtype_size(be), N = (size_t)fw->opt.max_tokens, B = (size_t)fw->opt.max_batch;
    size_t C = (size_t)cfg->hidden, F = (size_t)cfg->intermediate;
    size_t scratch = be->ops->attention_backward_scratch_bytes(be, fw->opt.max_batch, fw->opt.max_len, cfg->hidden,
                                                                cfg->heads);
    size_t sizes[7] = {N * C * es, N * C * es, N * 3 * C * es, N * F * es, B * C * es, B * C * es, scratch}, total = 0;
    for (int i = 0; i < 7; i++) total += (sizes[i] + 255) / 256 * 256;
    tc_bert_backward *bw = tc_calloc(1, sizeof *bw);
    if (!bw) return -1;
    bw->memory = be->ops->alloc(be, total);
    if (!bw->memory) {
        free(bw);
        return tc_fail_context("%s: activation gradients (%zu MiB)", be->name, total >> 20);
    }
    void **slots[7] = {&bw->d_hidden, &bw->d_atty, &bw->d_qkv, &bw->d_fch, &bw->d_pooled, &bw->d_cls, &bw->scratch};
    char *at = bw->memory;
    for (int i = 0; i < 7; i++) {
        *slots[i] = at;
        at += (sizes[i] + 255) / 256 * 256;
    }
    bw->fw = fw;
    bw->be = be;
    bw->grads = grads;
    tc_bert_params_point(&bw->g, grads, sizeof(float), cfg);
    if (fw->bias_or_null) {
        bw->bias = fw->bias;
        bw->bias.dtable = bw->g.p[TC_BERT_REL_BIAS];
        bw->bias_or_null = &bw->bias;
    }
    *out = bw;
    return 0;
}

void tc_bert_backward_free(tc_bert_backward *bw) {
    if (!bw) return;
    bw->be->ops->free(bw->be, bw->memory);
    free(bw);
}

void tc_bert_last_layout(const tc_bert_forward *fw, tc_seq_layout *layout) {
    const tc_bert_staging *st = &fw->staging[(fw->submitted + 1) % 2];  // the slot of batch submitted - 1
    int T = 0;
    for (int b = 0; b < st->B; b++)
        if (st->offsets[b + 1] - st->offsets[b] > T) T = st->offsets[b + 1] - st->offsets[b];
    *layout = (tc_seq_layout){st->B, T, st->N, st->offsets, fw->a.offsets};
}

void *tc_bert_output(const tc_bert_forward *fw) { return fw->opt.normalize ? fw->a.out : fw->a.pooled; }

// Slot l of a (L, rows, cols) activation.
static void *slot(const void *base, int l, size_t rows, size_t cols, size_t es) {
    return (char *)base + (size_t)l * rows * cols * es;
}

// Layer l backward: bw->d_hidden holds d(layer output) on entry and
// d(layer input) on return.
static int layer_backward(tc_bert_backward *bw, int l, const tc_seq_layout *layout) {
    tc_backend *be = bw->be;
    const tc_backend_ops *op = be->ops;
    const tc_bert_forward *fw = bw->fw;
    const tc_bert_config *cfg = &fw->model->cfg;
    const tc_bert_acts *a = &fw->a;
    size_t es = tc_backend_dtype_size(be), N = (size_t)fw->opt.max_tokens, C = (size_t)cfg->hidden;
    size_t F = (size_t)cfg->intermediate;
    size_t att_size = (size_t)fw->opt.max_batch * (size_t)cfg->heads * (size_t)fw->opt.max_len * (size_t)fw->opt.max_len;
    int n = layout->N, c = cfg->hidden, f = cfg->intermediate;
    // with checkpointing, the layer's inside is recomputed into slot 0 first
    if (fw->opt.checkpoint && tc_bert_forward_layer(bw->fw, l, layout)) return -1;
    int s = tc_bert_inner_slot(fw, l);
    const void *x = l == 0 ? a->x0 : slot(a->ln2, l - 1, N, C, es);  // (N, C) layer input
    const void *qkv = slot(a->qkv, s, N, 3 * C, es), *att = slot(a->att, s, att_size, 1, es);
    const void *atty = slot(a->atty, s, N, C, es), *res1 = slot(a->res1, s, N, C, es);
    const void *ln1 = slot(a->ln1, s, N, C, es), *fch = slot(a->fch, s, N, F, es);
    const void *fch_act = slot(a->fch_act, s, N, F, es), *res2 = slot(a->res2, s, N, C, es);
    const float *ln1_mean = slot(a->ln1_mean, s, N, 1, 4), *ln1_rstd = slot(a->ln1_rstd, s, N, 1, 4);
    const float *ln2_mean = slot(a->ln2_mean, s, N, 1, 4), *ln2_rstd = slot(a->ln2_rstd, s, N, 1, 4);
#define W(which) tc_bert_layer_param(&fw->w, which, l, es, cfg)
#define G(which) ((float *)tc_bert_layer_param(&bw->g, which, l, sizeof(float), cfg))
    void *d = bw->d_hidden;
    // ln2 = LN(fcproj + ln1): d becomes d(res2), the gradient of both addends
    if (op->layernorm_backward(be, d, G(TC_BERT_LN2_W), G(TC_BERT_LN2_B), d, res2, ln2_mean, ln2_rstd,
                               W(TC_BERT_LN2_W), n, c, 0) ||
        op->matmul_backward(be, bw->d_fch, G(TC_BERT_FCPROJ_W), G(TC_BERT_FCPROJ_B), d, fch_act,
                            W(TC_BERT_FCPROJ_W), NULL, n, f, c, TC_ACT_NONE, 0) ||
        // d(ln1) = d(res2) + the feed-forward's input gradient
        op->matmul_backward(be, d, G(TC_BERT_FC_W), G(TC_BERT_FC_B), bw->d_fch, ln1, W(TC_BERT_FC_W), fch, n, c, f,
                            cfg->act, 1) ||
        // ln1 = LN(attproj + x)
        op->layernorm_backward(be, d, G(TC_BERT_LN1_W), G(TC_BERT_LN1_B), d, res1, ln1_mean, ln1_rstd,
                               W(TC_BERT_LN1_W), n, c, 0) ||
        op->matmul_backward(be, bw->d_atty, G(TC_BERT_ATTPROJ_W), G(TC_BERT_ATTPROJ_B), d, atty,
                            W(TC_BERT_ATTPROJ_W), NULL, n, c, c, TC_ACT_NONE, 0) ||
        op->attention_backward(be, bw->d_qkv, bw->scratch, bw->d_atty, att, qkv, layout, c, cfg->heads,
                               bw->bias_or_null) ||
        // d(x) = d(res1) + the attention's input gradient
        op->matmul_backward(be, d, G(TC_BERT_QKV_W), G(TC_BERT_QKV_B), bw->d_qkv, x, W(TC_BERT_QKV_W), NULL, n, c,
                            3 * c, TC_ACT_NONE, 1))
        return -1;
#undef W
#undef G
    return 0;
}

// From d(output) (B, C) to d(last hidden states) (N, C) in bw->d_hidden.
static int head_backward(tc_bert_backward *bw, void *d_out, const tc_seq_layout *layout) {
    tc_backend *be = bw->be;
    const tc_backend_ops *op = be->ops;
    const tc_bert_forward *fw = bw->fw;
    const tc_bert_acts *a = &fw->a;
    int B = layout->B, C = fw->model->cfg.hidden;
    void *d_pooled = d_out;
    if (fw->opt.normalize) {
        if (op->normalize_backward(be, bw->d_pooled, d_out, a->pooled, B, C)) return -1;
        d_pooled = bw->d_pooled;
    }
    if (fw->opt.pooling != TC_POOL_POOLER) return op->pool_backward(be, bw->d_hidden, d_pooled, layout, C, fw->opt.pooling);
    return op->matmul_backward(be, bw->d_cls, bw->g.p[TC_BERT_POOLER_W], bw->g.p[TC_BERT_POOLER_B], d_pooled, a->cls,
                               fw->w.p[TC_BERT_POOLER_W], a->pooler_pre, B, C, C, TC_ACT_TANH, 0) ||
                   op->pool_backward(be, bw->d_hidden, bw->d_cls, layout, C, TC_POOL_CLS)
               ? -1
               : 0;
}

// transformers builds the word embeddings (and MPNet's position
// embeddings) with padding_idx = pad_token_id: that row gets no gradient,
// even where a text holds the padding token itself.
static int padding_rows_no_gradient(tc_bert_backward *bw) {
    const tc_bert_config *cfg = &bw->fw->model->cfg;
    size_t row = (size_t)cfg->hidden * sizeof(float);
    tc_backend *be = bw->be;
    if (cfg->pad_id < 0 || cfg->pad_id >= cfg->vocab_size) return 0;
    if (be->ops->zero(be, (char *)bw->g.p[TC_BERT_WTE] + (size_t)cfg->pad_id * row, row)) return -1;
    if (cfg->arch == TC_ARCH_MPNET && cfg->pad_id < cfg->max_positions)
        return be->ops->zero(be, (char *)bw->g.p[TC_BERT_WPE] + (size_t)cfg->pad_id * row, row);
    return 0;
}

int tc_bert_backward_run(tc_bert_backward *bw, void *d_out) {
    const tc_bert_forward *fw = bw->fw;
    const tc_backend_ops *op = bw->be->ops;
    const tc_bert_config *cfg = &fw->model->cfg;
    const tc_bert_acts *a = &fw->a;
    if (fw->submitted == 0) return tc_fail("backward pass before any forward pass");
    const tc_bert_staging *st = &fw->staging[(fw->submitted + 1) % 2];
    tc_seq_layout layout;
    tc_bert_last_layout(fw, &layout);
    int (*done)(void *, int) = bw->layer_done;
    if (head_backward(bw, d_out, &layout) || (done && done(bw->layer_done_ctx, cfg->layers)))
        return tc_fail_context("%s: backward", bw->be->name);
    for (int l = cfg->layers - 1; l >= 0; l--)
        if (layer_backward(bw, l, &layout) || (done && done(bw->layer_done_ctx, l)))
            return tc_fail_context("%s: backward, layer %d", bw->be->name, l);
    // x0 = LN(emb), emb = the embedding rows' sum
    if (op->layernorm_backward(bw->be, bw->d_hidden, bw->g.p[TC_BERT_EMB_LN_W], bw->g.p[TC_BERT_EMB_LN_B],
                               bw->d_hidden, a->emb, a->emb_mean, a->emb_rstd, fw->w.p[TC_BERT_EMB_LN_W], layout.N,
                               cfg->hidden, 0) ||
        op->embeddings_backward(bw->be, bw->g.p[TC_BERT_WTE], bw->g.p[TC_BERT_WPE],
                                cfg->type_vocab_size ? bw->g.p[TC_BERT_WTT] : NULL,
                                bw->d_hidden, a->ids, a->pos, st->has_types ? a->types : NULL, layout.N, cfg->hidden) ||
        padding_rows_no_gradient(bw) || (done && done(bw->layer_done_ctx, -1)))
        return tc_fail_context("%s: backward, embeddings", bw->be->name);
    return 0;
}
