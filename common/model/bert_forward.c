#include "common/model/bert_forward.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Buffers are carved out of one allocation: a first pass with no base only
// adds up the sizes.
typedef struct {
    char *base;
    size_t at;
} carver;

static void *carve(carver *c, size_t bytes) {
    if (bytes == 0) return NULL;
    void *p = c->base ? c->base + c->at : NULL;
    c->at += (bytes + 255) / 256 * 256;
    return p;
}

// Whether run_layer hands the rest of a layer after attention to the
// backend's fused operation, which needs none of its intermediate buffers.
static int fuses_layer_tail(const tc_backend *be, const tc_bert_run_options *o) {
    return !o->keep && be->ops->layer_tail_forward;
}

static void carve_acts(carver *c, tc_bert_acts *a, const tc_bert_config *cfg, const tc_bert_run_options *o,
                       size_t es, size_t scratch_bytes, int fused) {
    size_t B = (size_t)o->max_batch, N = (size_t)o->max_tokens, T = (size_t)o->max_len;
    size_t C = (size_t)cfg->hidden, F = (size_t)cfg->intermediate, NH = (size_t)cfg->heads;
    size_t LK = o->keep && !o->checkpoint ? (size_t)cfg->layers : 1, keep = o->keep ? 1 : 0;
    size_t LO = o->keep ? (size_t)cfg->layers : 1;  // the layers' outputs
    size_t tail = fused ? 0 : 1;                     // the unfused layer tail's buffers
    a->ids = carve(c, N * 4);
    a->types = carve(c, N * 4);
    a->pos = carve(c, N * 4);
    a->offsets = carve(c, (B + 1) * 4);
    a->rel_bucket = carve(c, cfg->rel_buckets ? (2 * T - 1) * 4 : 0);
    a->emb = carve(c, keep * N * C * es);
    a->x0 = carve(c, N * C * es);
    a->emb_mean = carve(c, keep * N * 4);
    a->emb_rstd = carve(c, keep * N * 4);
    a->qkv = carve(c, LK * N * 3 * C * es);
    a->att = carve(c, keep * LK * B * NH * T * T * es);
    a->atty = carve(c, LK * N * C * es);
    a->attproj = carve(c, tail * LK * N * C * es);
    a->res1 = carve(c, keep * LK * N * C * es);
    a->ln1 = carve(c, tail * LK * N * C * es);
    a->ln1_mean = carve(c, keep * LK * N * 4);
    a->ln1_rstd = carve(c, keep * LK * N * 4);
    a->fch = carve(c, keep * LK * N * F * es);
    a->fch_act = carve(c, tail * LK * N * F * es);
    a->fcproj = carve(c, tail * LK * N * C * es);
    a->res2 = carve(c, keep * LK * N * C * es);
    a->ln2 = carve(c, LO * N * C * es);
    a->ln2_mean = carve(c, keep * LK * N * 4);
    a->ln2_rstd = carve(c, keep * LK * N * 4);
    a->cls = carve(c, B * C * es);
    a->pooler_pre = carve(c, keep * B * C * es);
    a->pooled = carve(c, B * C * es);
    a->out = carve(c, B * C * es);
    a->out_f32 = es == 4 ? NULL : carve(c, B * C * 4);
    a->scratch = carve(c, scratch_bytes);
}

static int check_options(const tc_bert_model *m, const tc_bert_run_options *o) {
    if (o->max_batch < 1 || o->max_len < 1 || o->max_tokens < 1)
        return tc_fail("batch sizes must be positive (batch %d, tokens %d, length %d)", o->max_batch, o->max_tokens,
                       o->max_len);
    if (o->max_len > tc_bert_max_len(&m->cfg))
        return tc_fail("sequences of %d tokens: the model has %d positions", o->max_len, tc_bert_max_len(&m->cfg));
    if (o->pooling == TC_POOL_POOLER && !m->cfg.has_pooler)
        return tc_fail("%s: the model has no pooler (pooler.dense.weight); use mean or cls pooling", m->dir);
    return 0;
}

static int upload_weights(tc_bert_forward *fw) {
    tc_backend *be = fw->be;
    const tc_bert_model *m = fw->model;
    if (be->host_memory && be->dtype == TCT_F32) {
        fw->w = m->params;  // the backend reads the model's own f32 parameters
        return 0;
    }
    fw->weights_memory = be->ops->alloc(be, m->n_params * tc_backend_dtype_size(be));
    if (!fw->weights_memory) return -1;
    tc_bert_params_point(&fw->w, fw->weights_memory, tc_backend_dtype_size(be), &m->cfg);
    return be->ops->upload_f32(be, fw->weights_memory, m->params_memory, m->n_params);
}

static int alloc_staging(tc_bert_forward *fw) {
    tc_backend *be = fw->be;
    size_t N = (size_t)fw->opt.max_tokens, B = (size_t)fw->opt.max_batch, C = (size_t)fw->model->cfg.hidden;
    for (int s = 0; s < 2; s++) {
        tc_bert_staging *st = &fw->staging[s];
        carver c = {0};
        for (int pass = 0; pass < 2; pass++) {
            st->ids = carve(&c, N * 4);
            st->types = carve(&c, N * 4);
            st->pos = carve(&c, N * 4);
            st->offsets = carve(&c, (B + 1) * 4);
            st->out = carve(&c, B * C * 4);
            if (pass == 0) {
                c.base = be->ops->host_alloc(be, c.at);
                if (!c.base) return -1;
                c.at = 0;
            }
        }
    }
    return 0;
}

// MPNet: the bucket of every distance a sequence of max_len tokens has,
// computed once, and the bias the attention adds by it.
static int setup_bias(tc_bert_forward *fw) {
    const tc_bert_config *cfg = &fw->model->cfg;
    if (!cfg->rel_buckets) return 0;
    int span = fw->opt.max_len;
    int32_t *bucket = tc_malloc_array(2 * (size_t)span - 1, sizeof *bucket);
    if (!bucket) return -1;
    for (int d = -(span - 1); d <= span - 1; d++) bucket[d + span - 1] = tc_rel_bucket(d);
    tc_backend *be = fw->be;
    int rc = be->ops->upload(be, fw->a.rel_bucket, bucket, (2 * (size_t)span - 1) * 4) || be->ops->synchronize(be);
    free(bucket);
    fw->bias = (tc_attn_bias){fw->w.p[TC_BERT_REL_BIAS], fw->a.rel_bucket, span, cfg->rel_buckets, NULL};
    fw->bias_or_null = &fw->bias;
    return rc ? -1 : 0;
}

int tc_bert_forward_create(tc_bert_forward **out, tc_backend *be, const tc_bert_model *model,
                           const tc_bert_run_options *opt) {
    *out = NULL;
    if (check_options(model, opt)) return -1;
    tc_bert_forward *fw = tc_calloc(1, sizeof *fw);
    if (!fw) return -1;
    fw->be = be;
    fw->model = model;
    fw->opt = *opt;
    size_t scratch = be->ops->attention_scratch_bytes(be, opt->max_batch, opt->max_len, model->cfg.hidden,
                                                      model->cfg.heads);
    carver c = {0};
    carve_acts(&c, &fw->a, &model->cfg, opt, tc_backend_dtype_size(be), scratch, fuses_layer_tail(be, opt));
    fw->acts_bytes = c.at;
    c.base = fw->acts_memory = be->ops->alloc(be, c.at);
    c.at = 0;
    if (!fw->acts_memory || upload_weights(fw) || alloc_staging(fw)) {
        tc_fail_context("%s: cannot set up the model (%zu MiB of activations)", be->name, fw->acts_bytes >> 20);
        tc_bert_forward_free(fw);
        return -1;
    }
    carve_acts(&c, &fw->a, &model->cfg, opt, tc_backend_dtype_size(be), scratch, fuses_layer_tail(be, opt));
    if (setup_bias(fw)) {
        tc_fail_context("%s: cannot set up the position bias", be->name);
        tc_bert_forward_free(fw);
        return -1;
    }
    *out = fw;
    return 0;
}

void tc_bert_forward_free(tc_bert_forward *fw) {
    if (!fw) return;
    tc_backend *be = fw->be;
    be->ops->synchronize(be);
    if (fw->acts_memory) be->ops->free(be, fw->acts_memory);
    if (fw->weights_memory) be->ops->free(be, fw->weights_memory);
    for (int s = 0; s < 2; s++)
        if (fw->staging[s].ids) be->ops->host_free(be, fw->staging[s].ids);
    free(fw);
}

// ---------------------------------------------------------------- one batch

// Checks the batch and packs it into staging slot st.
static int stage_batch(tc_bert_forward *fw, tc_bert_staging *st, const int32_t *const *rows,
                       const int32_t *const *type_rows, const int32_t *lengths, int B, int *T) {
    const tc_bert_config *cfg = &fw->model->cfg;
    if (B < 1 || B > fw->opt.max_batch) return tc_fail("batch of %d sequences (1..%d)", B, fw->opt.max_batch);
    long n = 0;
    *T = 0;
    st->offsets[0] = 0;
    int has_types = type_rows && cfg->type_vocab_size, mpnet = cfg->arch == TC_ARCH_MPNET;
    for (int b = 0; b < B; b++) {
        int len = lengths[b], pos = cfg->pos_offset;
        if (len < 1 || len > fw->opt.max_len)
            return tc_fail("sequence %d has %d tokens (1..%d)", b, len, fw->opt.max_len);
        if (n + len > fw->opt.max_tokens)
            return tc_fail("batch of more than %d tokens", fw->opt.max_tokens);
        for (int t = 0; t < len; t++, n++) {
            int32_t id = rows[b][t], type = has_types ? type_rows[b][t] : 0;
            if (id < 0 || id >= cfg->vocab_size)
                return tc_fail("sequence %d, token %d: id %d outside the vocabulary (0..%d)", b, t, id,
                               cfg->vocab_size - 1);
            if (has_types && (type < 0 || type >= cfg->type_vocab_size))
                return tc_fail("sequence %d, token %d: token type %d (0..%d)", b, t, type, cfg->type_vocab_size - 1);
            st->ids[n] = id;
            st->types[n] = type;
            st->pos[n] = mpnet && id == cfg->pad_id ? cfg->pad_id : pos++;
        }
        st->offsets[b + 1] = (int32_t)n;
        if (len > *T) *T = len;
    }
    st->B = B;
    st->N = (int)n;
    st->has_types = has_types;
    return 0;
}

static int upload_batch(tc_bert_forward *fw, const tc_bert_staging *st) {
    tc_backend *be = fw->be;
    size_t n = (size_t)st->N * 4;
    return be->ops->upload(be, fw->a.ids, st->ids, n) || be->ops->upload(be, fw->a.pos, st->pos, n) ||
           (st->has_types && be->ops->upload(be, fw->a.types, st->types, n)) ||
           be->ops->upload(be, fw->a.offsets, st->offsets, (size_t)(st->B + 1) * 4);
}

// Pointer to slot s of a (LK, rows, cols) activation.
static void *slot_of(const void *base, int s, size_t rows, size_t cols, size_t es) {
    return base ? (char *)base + (size_t)s * rows * cols * es : NULL;
}

static int run_layer(tc_bert_forward *fw, int l, const void *x, const tc_seq_layout *layout) {
    tc_backend *be = fw->be;
    const tc_backend_ops *op = be->ops;
    const tc_bert_config *cfg = &fw->model->cfg;
    const tc_bert_params *w = &fw->w;
    tc_bert_acts *a = &fw->a;
    size_t es = tc_backend_dtype_size(be), N = (size_t)fw->opt.max_tokens;
    int s = tc_bert_inner_slot(fw, l), n = layout->N, C = cfg->hidden, F = cfg->intermediate;
    size_t att_size = (size_t)fw->opt.max_batch * (size_t)cfg->heads * (size_t)fw->opt.max_len * (size_t)fw->opt.max_len;
    void *qkv = slot_of(a->qkv, s, N, 3 * (size_t)C, es);    // (N, 3C)
    void *att = slot_of(a->att, s, att_size, 1, es);          // (B, NH, T, T) or NULL
    void *atty = slot_of(a->atty, s, N, (size_t)C, es);       // (N, C)
    void *attproj = slot_of(a->attproj, s, N, (size_t)C, es); // (N, C)
    void *res1 = slot_of(a->res1, s, N, (size_t)C, es);       // (N, C) or NULL
    void *ln1 = slot_of(a->ln1, s, N, (size_t)C, es);         // (N, C)
    float *ln1_mean = slot_of(a->ln1_mean, s, N, 1, 4), *ln1_rstd = slot_of(a->ln1_rstd, s, N, 1, 4);
    void *fch = slot_of(a->fch, s, N, (size_t)F, es);         // (N, F) or NULL
    void *fch_act = slot_of(a->fch_act, s, N, (size_t)F, es); // (N, F)
    void *fcproj = slot_of(a->fcproj, s, N, (size_t)C, es);   // (N, C)
    void *res2 = slot_of(a->res2, s, N, (size_t)C, es);       // (N, C) or NULL
    void *ln2 = slot_of(a->ln2, fw->opt.keep ? l : 0, N, (size_t)C, es);  // (N, C) the layer's output
    float *ln2_mean = slot_of(a->ln2_mean, s, N, 1, 4), *ln2_rstd = slot_of(a->ln2_rstd, s, N, 1, 4);
#define LP(which) tc_bert_layer_param(w, which, l, es, cfg)
    if (!fw->opt.keep && op->qkv_attention_forward) {  // nothing kept for a backward pass: fused where offered
        if (op->qkv_attention_forward(be, atty, qkv, a->scratch, x, LP(TC_BERT_QKV_W), LP(TC_BERT_QKV_B), layout, C,
                                      cfg->heads, fw->bias_or_null))
            return -1;
    } else if (op->matmul_forward(be, qkv, NULL, x, LP(TC_BERT_QKV_W), LP(TC_BERT_QKV_B), n, C, 3 * C, TC_ACT_NONE) ||
               op->attention_forward(be, atty, att, a->scratch, qkv, layout, C, cfg->heads, fw->bias_or_null)) {
        return -1;
    }
    if (fuses_layer_tail(be, &fw->opt)) {
        tc_layer_tail tail = {.attproj_w = LP(TC_BERT_ATTPROJ_W), .attproj_b = LP(TC_BERT_ATTPROJ_B),
                              .ln1_w = LP(TC_BERT_LN1_W), .ln1_b = LP(TC_BERT_LN1_B),
                              .fc_w = LP(TC_BERT_FC_W), .fc_b = LP(TC_BERT_FC_B),
                              .fcproj_w = LP(TC_BERT_FCPROJ_W), .fcproj_b = LP(TC_BERT_FCPROJ_B),
                              .ln2_w = LP(TC_BERT_LN2_W), .ln2_b = LP(TC_BERT_LN2_B),
                              .eps = cfg->ln_eps, .act = cfg->act};
        return op->layer_tail_forward(be, ln2, atty, x, &tail, n, C, F);
    }
    if (op->matmul_forward(be, attproj, NULL, atty, LP(TC_BERT_ATTPROJ_W), LP(TC_BERT_ATTPROJ_B), n, C, C,
                           TC_ACT_NONE) ||
        op->layernorm_forward(be, ln1, ln1_mean, ln1_rstd, res1, attproj, x, LP(TC_BERT_LN1_W), LP(TC_BERT_LN1_B),
                              cfg->ln_eps, n, C) ||
        op->matmul_forward(be, fch_act, fch, ln1, LP(TC_BERT_FC_W), LP(TC_BERT_FC_B), n, C, F, cfg->act) ||
        op->matmul_forward(be, fcproj, NULL, fch_act, LP(TC_BERT_FCPROJ_W), LP(TC_BERT_FCPROJ_B), n, F, C,
                           TC_ACT_NONE) ||
        op->layernorm_forward(be, ln2, ln2_mean, ln2_rstd, res2, fcproj, ln1, LP(TC_BERT_LN2_W), LP(TC_BERT_LN2_B),
                              cfg->ln_eps, n, C))
        return -1;
#undef LP
    return 0;
}

// Pooling, the optional pooler dense + tanh, normalization; returns the
// (B, C) buffer holding the embeddings in the backend dtype.
static void *run_head(tc_bert_forward *fw, const void *hidden, const tc_seq_layout *layout) {
    tc_backend *be = fw->be;
    const tc_backend_ops *op = be->ops;
    const tc_bert_config *cfg = &fw->model->cfg;
    tc_bert_acts *a = &fw->a;
    int B = layout->B, C = cfg->hidden;
    void *pooled = a->pooled;  // (B, C)
    if (fw->opt.pooling == TC_POOL_POOLER) {
        if (op->pool_forward(be, a->cls, hidden, layout, C, TC_POOL_CLS) ||
            op->matmul_forward(be, pooled, a->pooler_pre, a->cls, fw->w.p[TC_BERT_POOLER_W], fw->w.p[TC_BERT_POOLER_B],
                               B, C, C, TC_ACT_TANH))
            return NULL;
    } else if (op->pool_forward(be, pooled, hidden, layout, C, fw->opt.pooling)) {
        return NULL;
    }
    if (!fw->opt.normalize) return pooled;
    return op->normalize_forward(be, a->out, pooled, B, C) ? NULL : a->out;
}

static int run_batch(tc_bert_forward *fw, const tc_bert_staging *st, int T) {
    tc_backend *be = fw->be;
    const tc_backend_ops *op = be->ops;
    const tc_bert_config *cfg = &fw->model->cfg;
    tc_bert_acts *a = &fw->a;
    size_t es = tc_backend_dtype_size(be), N = (size_t)fw->opt.max_tokens;
    int C = cfg->hidden;
    tc_seq_layout layout = {st->B, T, st->N, st->offsets, a->offsets};
    void *emb = fw->opt.keep ? a->emb : a->x0;  // (N, C)
    if (upload_batch(fw, st) ||
        op->embeddings_forward(be, emb, a->ids, a->pos, st->has_types ? a->types : NULL, fw->w.p[TC_BERT_WTE],
                               fw->w.p[TC_BERT_WPE], cfg->type_vocab_size ? fw->w.p[TC_BERT_WTT] : NULL, st->N, C) ||
        op->layernorm_forward(be, a->x0, a->emb_mean, a->emb_rstd, NULL, emb, NULL, fw->w.p[TC_BERT_EMB_LN_W],
                              fw->w.p[TC_BERT_EMB_LN_B], cfg->ln_eps, st->N, C))
        return -1;
    const void *x = a->x0;
    for (int l = 0; l < cfg->layers; l++) {
        if (run_layer(fw, l, x, &layout)) return -1;
        x = slot_of(a->ln2, fw->opt.keep ? l : 0, N, (size_t)C, es);
    }
    void *emb_out = run_head(fw, x, &layout);  // (B, C)
    if (!emb_out) return -1;
    size_t count = (size_t)st->B * (size_t)C;
    if (a->out_f32) {
        if (op->to_f32(be, a->out_f32, emb_out, count)) return -1;
        emb_out = a->out_f32;
    }
    return op->download(be, st->out, emb_out, count * sizeof(float));
}

int tc_bert_forward_submit(tc_bert_forward *fw, const int32_t *const *rows, const int32_t *const *type_rows,
                           const int32_t *lengths, int B) {
    if (fw->submitted - fw->collected >= 2) return tc_fail("two batches are already in flight");
    int slot = (int)(fw->submitted % 2), T = 0;
    tc_bert_staging *st = &fw->staging[slot];
    if (stage_batch(fw, st, rows, type_rows, lengths, B, &T) || run_batch(fw, st, T) ||
        fw->be->ops->event_record(fw->be, slot))
        return tc_fail_context("%s", fw->be->name);
    fw->submitted++;
    return 0;
}

int tc_bert_forward_layer(tc_bert_forward *fw, int l, const tc_seq_layout *layout) {
    size_t es = tc_backend_dtype_size(fw->be), N = (size_t)fw->opt.max_tokens, C = (size_t)fw->model->cfg.hidden;
    if (!fw->opt.keep) return tc_fail("recomputing a layer needs the kept layer outputs");
    const void *x = l == 0 ? fw->a.x0 : slot_of(fw->a.ln2, l - 1, N, C, es);
    return run_layer(fw, l, x, layout);
}

int tc_bert_forward_collect(tc_bert_forward *fw, float *out) {
    if (fw->collected >= fw->submitted) return tc_fail("no batch in flight");
    int slot = (int)(fw->collected % 2);
    tc_bert_staging *st = &fw->staging[slot];
    if (fw->be->ops->event_wait(fw->be, slot)) return tc_fail_context("%s", fw->be->name);
    memcpy(out, st->out, (size_t)st->B * (size_t)fw->model->cfg.hidden * sizeof(float));
    fw->collected++;
    return 0;
}
