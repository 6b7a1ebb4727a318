#include "common/model/classifier.h"
#include "common/error.h"
#include "common/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Weight decay of the encoder's parameter kinds (TELEClass, like BERT's
// recipe, decays everything but biases and layer norms: its rule matches
// "bias" in a name, so MPNet's relative_attention_bias is not decayed).
static const int encoder_decay[TC_BERT_NUM_PARAMS] = {
    [TC_BERT_WTE] = 1, [TC_BERT_WPE] = 1, [TC_BERT_WTT] = 1, [TC_BERT_QKV_W] = 1, [TC_BERT_ATTPROJ_W] = 1,
    [TC_BERT_FC_W] = 1, [TC_BERT_FCPROJ_W] = 1, [TC_BERT_POOLER_W] = 1,
};

// The optimizer's view: the encoder's kinds, then W and E. The pooler is
// left out unless it computes the document vector (PyTorch leaves a
// parameter without a gradient untouched, decay included).
static void build_groups(tc_classifier *cl) {
    size_t sizes[TC_BERT_NUM_PARAMS], at = 0;
    tc_bert_param_sizes(&cl->model->cfg, sizes);
    tc_bert_params master = cl->fw->w;  // the CPU trains the forward's (the model's) f32 weights
    if (cl->encoder_master) tc_bert_params_point(&master, cl->encoder_master, sizeof(float), &cl->model->cfg);
    int n = 0;
    for (int k = 0; k < TC_BERT_NUM_PARAMS; k++) {
        int unused = (k == TC_BERT_POOLER_W || k == TC_BERT_POOLER_B) && cl->opt.pooling != TC_POOL_POOLER;
        if (sizes[k] && !unused)
            cl->groups[n++] = (tc_param_group){tc_bert_param_name(cl->model->cfg.arch, k), master.p[k], at, sizes[k],
                                               encoder_decay[k]};
        at += sizes[k];
    }
    size_t wt = (size_t)cl->D * (size_t)cl->C, e = (size_t)cl->K * (size_t)cl->D;
    cl->groups[n++] = (tc_param_group){"head.weight", cl->Wt, cl->n_encoder, wt, 1};
    cl->groups[n++] = (tc_param_group){"head.class_vectors", cl->E, cl->n_encoder + wt, e, 1};
    cl->n_groups = n;
}

enum { N_BUFFERS = 13 };

static int alloc_buffers(tc_classifier *cl) {
    tc_backend *be = cl->be;
    size_t B = (size_t)cl->opt.max_batch, C = (size_t)cl->C, D = (size_t)cl->D, K = (size_t)cl->K;
    size_t es = tc_backend_dtype_size(be);
    // compute-type copies and encoder masters only where they differ from the f32 buffers
    size_t copies = be->dtype == TCT_F32 ? 0 : cl->n_head * es;
    size_t masters = be->host_memory || be->dtype == TCT_F32 ? 0 : cl->n_encoder * 4;
    void *head_compute = NULL, *master = NULL;
    size_t scores = be->dtype == TCT_F32 ? 0 : B * K * 4;  // logits converted to f32 for the host
    size_t sizes[N_BUFFERS] = {cl->n_head * 4, cl->n_total * 4, B * D * es, B * K * es, B * K * es, B * D * es,
                               B * C * es,     B * K * 4,       B * K * 4,  B * 4,      copies,     masters,
                               scores};
    void **slots[N_BUFFERS] = {(void **)&cl->head,      (void **)&cl->grads,   &cl->u,
                               &cl->logits,             &cl->d_logits,         &cl->d_u,
                               &cl->d_doc,              (void **)&cl->targets, (void **)&cl->weights,
                               (void **)&cl->loss_rows, &head_compute,         &master,
                               (void **)&cl->logits_f32};
    size_t total = 0;
    for (int i = 0; i < N_BUFFERS; i++) total += (sizes[i] + 255) / 256 * 256;
    cl->memory = be->ops->alloc(be, total);
    if (!cl->memory) return tc_fail_context("%s: training buffers (%zu MiB)", be->name, total >> 20);
    char *at = cl->memory;
    for (int i = 0; i < N_BUFFERS; i++) {
        *slots[i] = sizes[i] ? at : NULL;
        at += (sizes[i] + 255) / 256 * 256;
    }
    cl->Wt = cl->head;
    cl->E = cl->head + D * C;
    cl->Wt_c = head_compute ? head_compute : (void *)cl->Wt;
    cl->E_c = head_compute ? (char *)head_compute + D * C * es : (void *)cl->E;
    // the encoder's f32 masters: the forward's f32 weights on a GPU, a copy of
    // the model's parameters when the forward computes in bf16/f16
    if (!be->host_memory) cl->encoder_master = master ? master : cl->fw->weights_memory;
    if (master && (be->ops->upload(be, master, cl->model->params_memory, cl->n_encoder * 4) ||
                   be->ops->synchronize(be)))
        return -1;
    cl->host_rows = be->ops->host_alloc(be, B * 4 + B * C * 4);
    if (!cl->host_rows) return -1;
    cl->host_doc = cl->host_rows + B;
    for (int s = 0; s < 2; s++)
        if (!(cl->stage[s] = be->ops->host_alloc(be, 2 * B * K * 4))) return -1;
    return 0;
}

// Copies n host f32 values into an f32 master buffer; waits (the host
// buffer may go right after).
static int upload_master(tc_classifier *cl, float *dst, const float *src, size_t n) {
    tc_backend *be = cl->be;
    return be->ops->upload(be, dst, src, n * 4) || be->ops->synchronize(be) ? -1 : 0;
}

int tc_classifier_refresh(tc_classifier *cl) {
    tc_backend *be = cl->be;
    if (be->dtype == TCT_F32) return 0;
    return be->ops->from_f32(be, cl->fw->weights_memory, cl->encoder_master, cl->n_encoder) ||
                   be->ops->from_f32(be, cl->Wt_c, cl->head, cl->n_head)
               ? -1
               : 0;
}

int tc_classifier_create(tc_classifier **out, tc_backend *be, tc_bert_model *model, const tc_classifier_options *opt,
                         const float *class_vectors, int K, int D, const float *head_weight) {
    *out = NULL;
    if (K < 1 || D < 1) return tc_fail("the classifier needs classes (%d) and class vectors (%d values)", K, D);
    tc_classifier *cl = tc_calloc(1, sizeof *cl);
    if (!cl) return -1;
    cl->be = be;
    cl->model = model;
    cl->opt = *opt;
    cl->C = model->cfg.hidden, cl->D = D, cl->K = K;
    cl->n_encoder = model->n_params;
    cl->n_head = (size_t)D * (size_t)cl->C + (size_t)K * (size_t)D;
    cl->n_total = cl->n_encoder + cl->n_head;
    tc_bert_run_options ro = {opt->max_batch, opt->max_tokens, opt->max_len, opt->pooling, opt->normalize, 1,
                              opt->checkpoint_activations};
    int rc = tc_bert_forward_create(&cl->fw, be, model, &ro) || alloc_buffers(cl) ||
                     tc_bert_backward_create(&cl->bw, cl->fw, cl->grads) ||
                     tc_classifier_set_head(cl, head_weight, class_vectors)
                 ? -1
                 : 0;
    if (rc) {
        tc_classifier_free(cl);
        return -1;
    }
    build_groups(cl);
    *out = cl;
    return 0;
}

void tc_classifier_free(tc_classifier *cl) {
    if (!cl) return;
    tc_bert_backward_free(cl->bw);
    tc_bert_forward_free(cl->fw);
    if (cl->memory) cl->be->ops->free(cl->be, cl->memory);
    if (cl->host_rows) cl->be->ops->host_free(cl->be, cl->host_rows);
    for (int s = 0; s < 2; s++)
        if (cl->stage[s]) cl->be->ops->host_free(cl->be, cl->stage[s]);
    free(cl);
}

int tc_classifier_set_head(tc_classifier *cl, const float *W, const float *E) {
    size_t C = (size_t)cl->C, D = (size_t)cl->D;
    if (E && upload_master(cl, cl->E, E, (size_t)cl->K * D)) return -1;
    if (!W) return tc_classifier_refresh(cl);
    float *wt = tc_malloc_array(D * C, sizeof *wt);
    if (!wt) return -1;
    for (size_t c = 0; c < C; c++)
        for (size_t d = 0; d < D; d++) wt[d * C + c] = W[c * D + d];
    int rc = upload_master(cl, cl->Wt, wt, D * C) || tc_classifier_refresh(cl) ? -1 : 0;
    free(wt);
    return rc;
}

int tc_classifier_init_head(tc_classifier *cl, uint64_t seed, int identity) {
    int C = cl->C, D = cl->D;
    if (identity && C != D)
        return tc_fail("an identity head needs class vectors of the document vectors' size (%d, not %d)", C, D);
    float *wt = tc_calloc((size_t)D * (size_t)C, sizeof *wt);
    if (!wt) return -1;
    tc_rng rng;
    tc_rng_derive(&rng, seed, TC_RNG_HEAD_INIT, 0);
    double bound = 1.0 / sqrt((double)C);
    // drawn in W's (C, D) order, stored transposed
    for (int c = 0; c < C; c++)
        for (int d = 0; d < D; d++)
            wt[(size_t)d * C + c] = identity ? (float)(c == d) : (float)((2 * tc_rng_uniform(&rng) - 1) * bound);
    int rc = upload_master(cl, cl->Wt, wt, (size_t)D * (size_t)C) || tc_classifier_refresh(cl) ? -1 : 0;
    free(wt);
    return rc;
}

int tc_classifier_get_head(tc_classifier *cl, float *W, float *E) {
    size_t C = (size_t)cl->C, D = (size_t)cl->D;
    float *wt = tc_malloc_array(D * C, sizeof *wt);
    if (!wt) return -1;
    tc_backend *be = cl->be;
    int rc = be->ops->download(be, wt, cl->Wt, D * C * 4) ||
             be->ops->download(be, E, cl->E, (size_t)cl->K * D * 4) || be->ops->synchronize(be);
    for (size_t c = 0; rc == 0 && c < C; c++)
        for (size_t d = 0; d < D; d++) W[c * D + d] = wt[d * C + c];
    free(wt);
    return rc ? -1 : 0;
}

// Retires the batches queued for training (tc_classifier_queue_batch) that
// were never collected: waits for each one's slot.
static int drain_queued(tc_classifier *cl) {
    tc_bert_forward *fw = cl->fw;
    for (; fw->collected < fw->submitted; fw->collected++)
        if (cl->be->ops->event_wait(cl->be, (int)(fw->collected % 2))) return -1;
    return 0;
}

static int encode(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B) {
    if (drain_queued(cl) || tc_bert_forward_submit(cl->fw, rows, NULL, lengths, B) ||
        tc_bert_forward_collect(cl->fw, cl->host_doc))
        return -1;
    return 0;
}

int tc_classifier_encode(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B, float *out) {
    if (encode(cl, rows, lengths, B)) return -1;
    memcpy(out, cl->host_doc, (size_t)B * (size_t)cl->C * sizeof *out);
    return 0;
}

// logits (B, K) = (doc . Wt^T) . E^T
static int head_forward(tc_classifier *cl, int B) {
    const tc_backend_ops *op = cl->be->ops;
    const void *doc = tc_bert_output(cl->fw);
    return op->matmul_forward(cl->be, cl->u, NULL, doc, cl->Wt_c, NULL, B, cl->C, cl->D, TC_ACT_NONE) ||
                   op->matmul_forward(cl->be, cl->logits, NULL, cl->u, cl->E_c, NULL, B, cl->D, cl->K, TC_ACT_NONE)
               ? -1
               : 0;
}

// Queues the download of the logits (B, K) as f32 into scores (host).
static int download_logits(tc_classifier *cl, int B, float *scores) {
    tc_backend *be = cl->be;
    size_t n = (size_t)B * (size_t)cl->K;
    if (!cl->logits_f32) return be->ops->download(be, scores, cl->logits, n * 4);
    return be->ops->to_f32(be, cl->logits_f32, cl->logits, n) || be->ops->download(be, scores, cl->logits_f32, n * 4)
               ? -1
               : 0;
}

int tc_classifier_scores(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B, float *scores) {
    tc_backend *be = cl->be;
    if (encode(cl, rows, lengths, B) || head_forward(cl, B) || download_logits(cl, B, scores) ||
        be->ops->synchronize(be))
        return -1;
    return 0;
}

static int loss(tc_classifier *cl, const float *targets, const float *weights, int B, float scale, float *row_loss) {
    tc_backend *be = cl->be;
    size_t BK = (size_t)B * (size_t)cl->K;
    if (be->ops->upload(be, cl->targets, targets, BK * 4) || be->ops->upload(be, cl->weights, weights, BK * 4) ||
        be->ops->bce_loss(be, cl->loss_rows, cl->d_logits, cl->logits, cl->targets, cl->weights, B, cl->K, scale) ||
        be->ops->download(be, row_loss, cl->loss_rows, (size_t)B * 4))
        return -1;
    return 0;
}

int tc_classifier_eval_loss(tc_classifier *cl, const float *targets, const float *weights, int B, float *row_loss) {
    return loss(cl, targets, weights, B, 0.0f, row_loss) || cl->be->ops->synchronize(cl->be) ? -1 : 0;
}

int tc_classifier_train_batch(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B,
                              const float *targets, const float *weights, float scale, float *row_loss,
                              float *scores) {
    tc_backend *be = cl->be;
    const tc_backend_ops *op = be->ops;
    const void *doc = tc_bert_output(cl->fw);
    float *gWt = cl->grads + cl->n_encoder, *gE = gWt + (size_t)cl->D * (size_t)cl->C;
    if (encode(cl, rows, lengths, B) || head_forward(cl, B) || loss(cl, targets, weights, B, scale, row_loss) ||
        (scores && download_logits(cl, B, scores)) ||
        op->matmul_backward(be, cl->d_u, gE, NULL, cl->d_logits, cl->u, cl->E_c, NULL, B, cl->D, cl->K, TC_ACT_NONE, 0) ||
        op->matmul_backward(be, cl->d_doc, gWt, NULL, cl->d_u, doc, cl->Wt_c, NULL, B, cl->C, cl->D, TC_ACT_NONE, 0) ||
        tc_bert_backward_run(cl->bw, cl->d_doc) || op->synchronize(be))
        return -1;
    return 0;
}

// Submits a batch to the forward without collecting it: when two are in
// flight, the oldest is retired first by waiting for its slot (its inputs'
// upload), not for its output.
static int submit_queued(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B) {
    tc_bert_forward *fw = cl->fw;
    if (fw->submitted - fw->collected >= 2) {
        if (cl->be->ops->event_wait(cl->be, (int)(fw->collected % 2))) return -1;
        fw->collected++;
    }
    return tc_bert_forward_submit(fw, rows, NULL, lengths, B);
}

// Targets and weights through pinned staging (two slots, event slots 2 and
// 3; the forward uses 0 and 1) into the backend's buffers.
static int stage_targets(tc_classifier *cl, const float *targets, const float *weights, int B) {
    tc_backend *be = cl->be;
    size_t BK = (size_t)B * (size_t)cl->K;
    int slot = (int)(cl->staged % 2);
    if (cl->staged >= 2 && be->ops->event_wait(be, 2 + slot)) return -1;
    float *st = cl->stage[slot];
    memcpy(st, targets, BK * 4);
    memcpy(st + BK, weights, BK * 4);
    if (be->ops->upload(be, cl->targets, st, BK * 4) || be->ops->upload(be, cl->weights, st + BK, BK * 4) ||
        be->ops->event_record(be, 2 + slot))
        return -1;
    cl->staged++;
    return 0;
}

int tc_classifier_queue_batch(tc_classifier *cl, const int32_t *const *rows, const int32_t *lengths, int B,
                              const float *targets, const float *weights, float scale, tc_train_state *state,
                              int64_t tag) {
    tc_backend *be = cl->be;
    const tc_backend_ops *op = be->ops;
    const void *doc = tc_bert_output(cl->fw);
    float *gWt = cl->grads + cl->n_encoder, *gE = gWt + (size_t)cl->D * (size_t)cl->C;
    cl->bw->layer_done = cl->grads_ready;
    cl->bw->layer_done_ctx = cl->grads_ready_ctx;
    if (submit_queued(cl, rows, lengths, B) || head_forward(cl, B) || stage_targets(cl, targets, weights, B) ||
        op->bce_loss_step(be, cl->loss_rows, cl->d_logits, cl->logits, cl->targets, cl->weights, B, cl->K, scale,
                          state, tag) ||
        op->matmul_backward(be, cl->d_u, gE, NULL, cl->d_logits, cl->u, cl->E_c, NULL, B, cl->D, cl->K, TC_ACT_NONE, 0) ||
        op->matmul_backward(be, cl->d_doc, gWt, NULL, cl->d_u, doc, cl->Wt_c, NULL, B, cl->C, cl->D, TC_ACT_NONE, 0) ||
        (cl->grads_ready && cl->grads_ready(cl->grads_ready_ctx, cl->model->cfg.layers + 1)) ||
        tc_bert_backward_run(cl->bw, cl->d_doc))
        return tc_fail_context("%s", be->name);
    return 0;
}

int tc_classifier_zero_grads(tc_classifier *cl) {
    return cl->be->ops->zero(cl->be, cl->grads, cl->n_total * sizeof(float));
}
