#include "common/train/trainer.h"
#include "common/model/checkpoint.h"
#include "common/error.h"
#include "common/fingerprint.h"
#include "common/cli/progress.h"
#include "common/rng.h"
#include "common/train/contrastive.h"
#include "common/train/train_log.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

typedef struct {
    tc_classifier *cl;
    tc_comm *comm;
    const tc_train_config *cfg;
    float *m, *v;                   // AdamW moments of [sb, se) of the flat parameters, backend memory
    size_t sb, se;                  // this rank's shard (everything without --shard-optimizer)
    int sharded;
    long step;                      // optimizer steps done
    long epoch, epoch_step;         // the current epoch and the steps done in it
    double epoch_loss, epoch_docs;  // training loss sums of the epoch so far (docs: its divisor,
                                    // documents or their weights as --loss divides)
    double window_loss, window_docs;// since the last validation (the metric without a validation set)
    double best;                    // best metric (INFINITY before any)
    long best_step;
    int bad_evals;                  // validations in a row without improvement
    long steps_per_epoch, total_steps, warmup, last_saved;
    int epochs;                     // passes the budget needs (the last may be partial)
    uint64_t E;                     // documents in a full step
    uint32_t *order;                // the epoch's order (n_train)
    // host buffers of one micro-batch
    const int32_t **rows;
    int32_t *lengths;
    uint32_t *docs;
    float *y, *w, *row_loss, *scores;
    tc_train_log log;
    int logging;
    tc_progress progress;
    tc_train_state *state;          // the step's figures in backend memory
    tc_train_state seen;            // their last copy on the host
    // since the host last looked at the state: steps, tokens, documents,
    // wall and CPU seconds at the first of them, the last step's rate
    long pending;
    double pend_tokens, pend_docs, pend_start, pend_cpu_start, last_lr;
    double pend_weight;             // the pending steps' document weights (--loss weighted's divisor)
    // the all-reduce overlapped with the backward pass: the bucket being filled
    int overlap;
    void **bucket_bufs;
    size_t *bucket_counts, bucket_bytes;
    int bucket_n;
    // --objective contrastive: the loss is made on the host, its sum kept here
    tc_contrastive *ct;
    double pend_host_loss;
} trainer;

static int contrastive(const trainer *t) { return t->cfg->objective == TC_OBJECTIVE_CONTRASTIVE; }

static int rank0(const trainer *t) { return t->comm->rank == 0; }

// ---------------------------------------------------------------- setup

static int alloc_host(trainer *t) {
    size_t B = (size_t)t->cfg->batch, K = (size_t)t->cl->K;
    t->rows = tc_calloc(2 * B, sizeof *t->rows);  // contrastive: anchors, then positives
    t->lengths = tc_calloc(2 * B, sizeof *t->lengths);
    t->docs = tc_calloc(B, sizeof *t->docs);
    t->y = tc_calloc(B * K, sizeof *t->y);
    t->w = tc_calloc(B * K, sizeof *t->w);
    t->row_loss = tc_calloc(B, sizeof *t->row_loss);
    t->scores = tc_calloc(B * K, sizeof *t->scores);
    t->order = tc_malloc_array(t->cfg->n_train ? t->cfg->n_train : 1, sizeof *t->order);
    tc_backend *be = t->cl->be;
    t->m = be->ops->alloc(be, (t->se - t->sb) * sizeof(float));
    t->v = be->ops->alloc(be, (t->se - t->sb) * sizeof(float));
    t->state = be->ops->alloc(be, sizeof *t->state);
    size_t pieces = 12 * (size_t)t->cl->model->cfg.layers + 8;
    t->bucket_bufs = tc_calloc(pieces, sizeof *t->bucket_bufs);
    t->bucket_counts = tc_calloc(pieces, sizeof *t->bucket_counts);
    if (!(t->rows && t->lengths && t->docs && t->y && t->w && t->row_loss && t->scores && t->order && t->m && t->v &&
          t->state && t->bucket_bufs && t->bucket_counts))
        return -1;
    const tc_train_config *c = t->cfg;
    double sim = c->similarity_scale > 0 ? c->similarity_scale : TC_MNRL_DEFAULT_SCALE;
    if (contrastive(t) && tc_contrastive_create(&t->ct, t->cl, t->comm, c->batch, c->cached_chunk, sim)) return -1;
    float scale = t->cfg->loss_scaling ? (t->cfg->loss_scale > 0 ? t->cfg->loss_scale : 65536.0f) : 1.0f;
    t->seen = tc_train_state_init(scale);
    return be->ops->upload(be, t->state, &t->seen, sizeof t->seen) || be->ops->synchronize(be) ? -1 : 0;
}

static void free_host(trainer *t) {
    free(t->rows), free(t->lengths), free(t->docs), free(t->y), free(t->w), free(t->row_loss), free(t->scores);
    free(t->order);
    free(t->bucket_bufs), free(t->bucket_counts);
    tc_backend *be = t->cl->be;
    if (t->m) be->ops->free(be, t->m);
    if (t->v) be->ops->free(be, t->v);
    if (t->state) be->ops->free(be, t->state);
    tc_contrastive_free(t->ct);
}

static void plan(trainer *t) {
    const tc_train_config *c = t->cfg;
    t->E = (uint64_t)c->batch * (uint64_t)t->comm->size * (uint64_t)c->accumulate;
    t->steps_per_epoch = (long)tc_steps_per_epoch(c->n_train, t->E);
    t->total_steps = tc_train_budget(t->steps_per_epoch, c->epochs, c->min_steps, c->max_epochs, c->max_steps);
    t->epochs = t->steps_per_epoch > 0 ? (int)((t->total_steps + t->steps_per_epoch - 1) / t->steps_per_epoch) : 0;
    t->warmup = c->warmup_steps >= 0 ? c->warmup_steps : lround(c->warmup_ratio * (double)t->total_steps);
    t->best = INFINITY;
    t->best_step = -1;
    t->last_saved = -1;
    t->sharded = c->shard_optimizer;
    t->overlap = !t->sharded && !contrastive(t) && t->comm->ops->allreduce_pieces_async != NULL;
    t->sb = 0, t->se = t->cl->n_total;
    if (t->sharded) tc_comm_shard(t->cl->n_total, t->comm->size, t->comm->rank, &t->sb, &t->se);
}

const char *tc_loss_reduction_name(tc_loss_reduction r) {
    return r == TC_LOSS_SUM ? "sum" : r == TC_LOSS_WEIGHTED ? "weighted" : "mean";
}

int tc_loss_reduction_parse(const char *name, tc_loss_reduction *r) {
    if (!strcmp(name, "mean")) *r = TC_LOSS_MEAN;
    else if (!strcmp(name, "sum")) *r = TC_LOSS_SUM;
    else if (!strcmp(name, "weighted")) *r = TC_LOSS_WEIGHTED;
    else return tc_fail("'%s' is not mean, sum or weighted", name);
    return 0;
}

// ---------------------------------------------------------------- state

static json_t *settings_json(const trainer *t) {
    const tc_train_config *c = t->cfg;
    char seed[32], fp[32];
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(fp, sizeof fp, "%016" PRIx64, c->train->fingerprint);
    return json_pack("{s:i, s:i, s:i, s:s, s:s, s:I, s:i, s:s, s:I, s:I}", "batch", c->batch, "ranks", t->comm->size,
                     "accumulate", c->accumulate, "seed", seed, "data_fingerprint", fp, "train_docs",
                     (json_int_t)c->n_train, "max_len", c->max_len, "loss_reduction", tc_loss_reduction_name(c->loss),
                     "total_steps", (json_int_t)t->total_steps, "warmup_steps", (json_int_t)t->warmup);
}

static json_t *state_json(const trainer *t) {
    tc_rng rng;
    tc_rng_derive(&rng, t->cfg->seed, TC_RNG_EPOCH, (uint64_t)t->epoch);
    json_t *words = json_array();
    for (int i = 0; i < 4; i++) {
        char hex[20];
        snprintf(hex, sizeof hex, "%016" PRIx64, rng.s[i]);
        json_array_append_new(words, json_string(hex));
    }
    json_t *best = isfinite(t->best) ? json_real(t->best) : json_null();
    // the optimizer's own count (skipped fp16 steps do not count) and the loss scale
    return json_pack("{s:I, s:I, s:f, s:i, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:o, s:I, s:i, s:o, s:o}",
                     "adam_steps", (json_int_t)t->seen.adam_steps, "skipped_steps", (json_int_t)t->seen.skipped,
                     "loss_scale", (double)t->seen.loss_scale, "loss_scale_good_steps", (int)t->seen.good_steps,
                     "step", (json_int_t)t->step,
                     "epoch", (json_int_t)t->epoch, "epoch_step", (json_int_t)t->epoch_step, "steps_per_epoch",
                     (json_int_t)t->steps_per_epoch, "epoch_loss", t->epoch_loss, "epoch_docs", t->epoch_docs,
                     "window_loss", t->window_loss, "window_docs", t->window_docs, "best_metric", best, "best_step",
                     (json_int_t)t->best_step, "bad_evaluations", t->bad_evals, "epoch_rng", words, "settings",
                     settings_json(t));
}

// A setting of the checkpoint that must equal this run's.
static int same_setting(json_t *saved, json_t *now, const char *key, const char *dir) {
    json_t *a = json_object_get(saved, key), *b = json_object_get(now, key);
    if (a && json_equal(a, b)) return 0;
    char *sa = a ? json_dumps(a, JSON_ENCODE_ANY) : NULL, *sb = json_dumps(b, JSON_ENCODE_ANY);
    tc_fail("%s: the checkpoint was trained with %s %s, this run has %s; resume with the same setting", dir, key,
            sa ? sa : "(none)", sb ? sb : "?");
    free(sa), free(sb);
    return -1;
}

static double number(json_t *o, const char *key) { return json_number_value(json_object_get(o, key)); }
static long integer(json_t *o, const char *key) { return (long)json_integer_value(json_object_get(o, key)); }

static int resume(trainer *t, const char *dir) {
    tc_backend *be = t->cl->be;
    size_t n = t->cl->n_total, mine = t->se - t->sb;
    int direct = be->host_memory && !t->sharded;  // the checkpoint's moments straight into t->m, t->v
    float *m = direct ? t->m : tc_malloc_array(n, sizeof *m), *v = direct ? t->v : tc_malloc_array(n, sizeof *v);
    json_t *state = NULL, *now = settings_json(t);
    int rc = !m || !v || tc_checkpoint_load_state(dir, n, &state, m, v) ? -1 : 0;
    static const char *must_match[] = {"batch", "ranks", "accumulate", "seed", "data_fingerprint", "train_docs",
                                       "max_len", "loss_reduction"};
    for (size_t i = 0; rc == 0 && i < sizeof must_match / sizeof *must_match; i++)
        rc = same_setting(json_object_get(state, "settings"), now, must_match[i], dir);
    if (rc == 0 && !direct)  // this rank's shard of them
        rc = be->ops->upload(be, t->m, m + t->sb, mine * 4) || be->ops->upload(be, t->v, v + t->sb, mine * 4) ||
                     be->ops->synchronize(be)
                 ? -1
                 : 0;
    if (rc == 0) {
        t->step = integer(state, "step");
        t->epoch = integer(state, "epoch");
        t->epoch_step = integer(state, "epoch_step");
        t->epoch_loss = number(state, "epoch_loss");
        t->epoch_docs = number(state, "epoch_docs");
        t->window_loss = number(state, "window_loss");
        t->window_docs = number(state, "window_docs");
        json_t *best = json_object_get(state, "best_metric");
        t->best = json_is_number(best) ? json_number_value(best) : INFINITY;
        t->best_step = integer(state, "best_step");
        t->bad_evals = (int)integer(state, "bad_evaluations");
        t->last_saved = t->step;
        // checkpoints from before these keys: every step was an update
        json_t *adam = json_object_get(state, "adam_steps"), *scale = json_object_get(state, "loss_scale");
        t->seen.adam_steps = adam ? integer(state, "adam_steps") : t->step;
        t->seen.skipped = integer(state, "skipped_steps");
        t->seen.good_steps = (int32_t)integer(state, "loss_scale_good_steps");
        if (scale && t->cfg->loss_scaling) t->seen.loss_scale = (float)number(state, "loss_scale");
        rc = be->ops->upload(be, t->state, &t->seen, sizeof t->seen) || be->ops->synchronize(be) ? -1 : 0;
    }
    json_decref(state);
    json_decref(now);
    if (m != t->m) free(m);
    if (v != t->v) free(v);
    return rc;
}

// ---------------------------------------------------------------- checkpoints

static uint64_t params_hash(trainer *t) {
    tc_classifier *cl = t->cl;
    uint64_t h = TC_FNV1A64_INIT;
    if (!cl->be->host_memory) return h;  // a GPU build compares device copies its own way
    for (int g = 0; g < cl->n_groups; g++) h = tc_fnv1a64(cl->groups[g].param, cl->groups[g].count * 4, h);
    return h;
}

// Copies count floats within backend memory (the backend's copy goes
// device to device on a GPU).
static int copy_within(tc_backend *be, float *dst, const float *src, size_t count) {
    return count && dst != src ? be->ops->upload(be, dst, src, count * 4) : 0;
}

// The whole of a sharded moment on rank 0's host (full, n_total): every
// rank's shard goes through the gradient buffer, free between steps.
static int gather_moment(trainer *t, const float *mine, float *full) {
    tc_classifier *cl = t->cl;
    tc_backend *be = cl->be;
    if (copy_within(be, cl->grads + t->sb, mine, t->se - t->sb) ||
        t->comm->ops->allgather_device(t->comm, cl->grads, cl->n_total, TC_COMM_F32))
        return -1;
    if (!full) return be->ops->synchronize(be);
    return be->ops->download(be, full, cl->grads, cl->n_total * 4) || be->ops->synchronize(be) ? -1 : 0;
}

static int save(trainer *t, const char *link) {
    tc_classifier *cl = t->cl;
    const tc_train_config *c = t->cfg;
    if (tc_comm_check(t->comm)) return -1;
    if (t->comm->size > 1 && tc_comm_check_same(t->comm, params_hash(t), "the parameters after the update")) return -1;
    int rc = 0;
    tc_backend *be = cl->be;
    size_t n = cl->n_total;
    int direct = be->host_memory && !t->sharded;
    float *m = NULL, *v = NULL;
    if (rank0(t)) {
        m = direct ? t->m : tc_malloc_array(n, sizeof *m), v = direct ? t->v : tc_malloc_array(n, sizeof *v);
        if (!m || !v) rc = -1;
    }
    if (t->sharded) {  // every rank takes part; rank 0 receives
        if (tc_comm_any(t->comm, rc != 0)) {
            if (m != t->m) free(m);
            if (v != t->v) free(v);
            return rc ? -1 : tc_fail("rank 0 is out of memory");
        }
        rc = gather_moment(t, t->m, m) || gather_moment(t, t->v, v) ? -1 : 0;
    } else if (rank0(t) && rc == 0 && !direct) {
        rc = be->ops->download(be, m, t->m, n * 4) || be->ops->download(be, v, t->v, n * 4) || be->ops->synchronize(be) ? -1 : 0;
    }
    if (rank0(t)) {
        json_t *state = rc ? NULL : state_json(t);
        tc_checkpoint_info info = {c->source_dir, c->class_names, c->max_len, tc_loss_reduction_name(c->loss), state, m, v,
                                   contrastive(t)};
        if (rc == 0) rc = !state ? tc_fail("out of memory") : tc_checkpoint_save(cl, c->out_dir, t->step, link, &info);
        json_decref(state);
        if (m != t->m) free(m);
        if (v != t->v) free(v);
    }
    if (tc_comm_any(t->comm, rc != 0)) return rc ? -1 : tc_fail("rank 0 could not write the checkpoint");
    t->last_saved = t->step;
    return 0;
}

// ---------------------------------------------------------------- one step

static int gather(trainer *t, const tc_train_set *s, const uint32_t *docs, int B) {
    for (int i = 0; i < B; i++) {
        t->docs[i] = docs[i];
        t->rows[i] = s->tokens + s->tok_offsets[docs[i]];
        t->lengths[i] = tc_train_set_length(s, docs[i]);
    }
    tc_train_set_targets(s, t->docs, B, t->cl->K, t->y, t->w);
    return 0;
}

// ---------------------------------------------------------------- all-reduce overlapped with the backward pass

enum { BUCKET_BYTES = 25 << 20 };  // PyTorch DDP's default bucket

static void add_piece(trainer *t, float *p, size_t n) {
    t->bucket_bufs[t->bucket_n] = p;
    t->bucket_counts[t->bucket_n++] = n;
    t->bucket_bytes += n * sizeof(float);
}

// With NCCL, the gradient's all-reduce runs alongside the backward pass:
// the pieces of the flat gradient that are final at each stage of the last
// micro-batch's backward (common/model/classifier.h: grads_ready) fill buckets of
// at least BUCKET_BYTES, and a full bucket (and the last, at the
// embeddings) goes to the all-reduce on the communicator's own stream. The
// pieces and buckets follow from the model alone, so every rank issues the
// same all-reduces in the same order.
static int stage_ready(void *ctx, int stage) {
    trainer *t = ctx;
    tc_classifier *cl = t->cl;
    const tc_bert_config *cfg = &cl->model->cfg;
    int L = cfg->layers;
    size_t sizes[TC_BERT_NUM_PARAMS], offs[TC_BERT_NUM_PARAMS], at = 0;
    tc_bert_param_sizes(cfg, sizes);
    for (int k = 0; k < TC_BERT_NUM_PARAMS; k++) offs[k] = at, at += sizes[k];
    float *g = cl->grads;
    if (stage == L + 1) {  // the head: W, E
        add_piece(t, g + cl->n_encoder, cl->n_head);
    } else if (stage == L) {  // the pooler (zeros when unused)
        add_piece(t, g + offs[TC_BERT_POOLER_W], sizes[TC_BERT_POOLER_W] + sizes[TC_BERT_POOLER_B]);
    } else if (stage >= 0) {  // layer `stage`'s slice of every per-layer kind
        for (int k = TC_BERT_QKV_W; k <= TC_BERT_LN2_B; k++) {
            size_t per = sizes[k] / (size_t)L;
            add_piece(t, g + offs[k] + (size_t)stage * per, per);
        }
    } else {  // the embeddings and their layer norm (everything before the layers), the position bias
        add_piece(t, g, offs[TC_BERT_QKV_W]);
        if (sizes[TC_BERT_REL_BIAS]) add_piece(t, g + offs[TC_BERT_REL_BIAS], sizes[TC_BERT_REL_BIAS]);
    }
    if (stage != -1 && t->bucket_bytes < BUCKET_BYTES) return 0;
    int rc = t->comm->ops->allreduce_pieces_async(t->comm, t->bucket_bufs, t->bucket_counts, t->bucket_n, TC_COMM_F32);
    t->bucket_n = 0;
    t->bucket_bytes = 0;
    return rc;
}

// The rows of B pairs: anchors of `a`, then the positives of `p`.
static void gather_pairs(trainer *t, const tc_train_set *a, const tc_train_set *p, const uint32_t *docs, int B) {
    for (int i = 0; i < B; i++) {
        t->rows[i] = a->tokens + a->tok_offsets[docs[i]];
        t->lengths[i] = tc_train_set_length(a, docs[i]);
        t->rows[B + i] = p->tokens + p->tok_offsets[docs[i]];
        t->lengths[B + i] = tc_train_set_length(p, docs[i]);
    }
}

// --objective contrastive: every micro-batch of the step on every rank,
// an empty one too (the all-gather needs every rank). The gradient is the
// step's mean over its anchors (--loss sum: their sum) times the loss scale.
static int contrastive_micro_batches(trainer *t, uint64_t pos, uint64_t step_docs) {
    const tc_train_config *c = t->cfg;
    tc_backend *be = t->cl->be;
    float loss_scale = 1;
    if (c->loss_scaling &&
        (be->ops->download(be, &loss_scale, &t->state->loss_scale, sizeof loss_scale) || be->ops->synchronize(be)))
        return -1;
    double grad_scale = (c->loss == TC_LOSS_SUM ? 1.0 : 1.0 / (double)step_docs) * loss_scale;
    for (int a = 0; a < c->accumulate; a++) {
        uint64_t b, e;
        tc_micro_batch_range(step_docs, t->comm->size, c->accumulate, t->comm->rank, a, &b, &e);
        int B = (int)(e - b);
        double loss;
        gather_pairs(t, c->train, c->train_positives, t->order + pos + b, B);
        if (tc_contrastive_batch(t->ct, t->rows, t->lengths, B, grad_scale, &loss))
            return tc_fail_context("step %ld (epoch %ld, batch %ld of the epoch, micro-batch %d)", t->step + 1,
                                   t->epoch + 1, t->epoch_step + 1, a);
        t->pend_host_loss += loss;
        for (int i = 0; i < 2 * B; i++) t->pend_tokens += t->lengths[i];
        t->pend_docs += B;
    }
    if (c->loss == TC_LOSS_WEIGHTED) t->pend_weight += (double)step_docs;  // pairs weigh 1
    return 0;
}

// Queues the step's micro-batches of this rank; counts their tokens and
// documents. The tag of micro-batch a of step s (0-based) is s x accumulate
// + a, so that a non-finite loss can be traced back to its documents.
static int queue_micro_batches(trainer *t, uint64_t pos, uint64_t step_docs) {
    const tc_train_config *c = t->cfg;
    if (contrastive(t)) return contrastive_micro_batches(t, pos, step_docs);
    double total = (double)step_docs;
    if (c->loss == TC_LOSS_WEIGHTED) {
        total = 0;
        for (uint64_t i = 0; i < step_docs; i++) total += c->train->weights[t->order[pos + i]];
        t->pend_weight += total;  // the whole step's, the same on every rank
    }
    float scale = c->loss == TC_LOSS_SUM ? 1.0f : total > 0 ? (float)(1.0 / total) : 0.0f;
    int last = -1;  // this rank's last micro-batch: its backward completes the gradient
    for (int a = 0; a < c->accumulate; a++) {
        uint64_t b, e;
        tc_micro_batch_range(step_docs, t->comm->size, c->accumulate, t->comm->rank, a, &b, &e);
        if (e > b) last = a;
    }
    for (int a = 0; a <= last; a++) {
        uint64_t b, e;
        tc_micro_batch_range(step_docs, t->comm->size, c->accumulate, t->comm->rank, a, &b, &e);
        int B = (int)(e - b);
        if (B == 0) continue;
        gather(t, c->train, t->order + pos + b, B);
        int64_t tag = (int64_t)t->step * c->accumulate + a;
        t->cl->grads_ready = t->overlap && a == last ? stage_ready : NULL;
        t->cl->grads_ready_ctx = t;
        int rc = tc_classifier_queue_batch(t->cl, t->rows, t->lengths, B, t->y, t->w, scale, t->state, tag);
        t->cl->grads_ready = NULL;
        if (rc) return -1;
        for (int i = 0; i < B; i++) t->pend_tokens += t->lengths[i];
        t->pend_docs += B;
    }
    // a rank without documents in this step still takes part, in the same order
    for (int stage = t->cl->model->cfg.layers + 1; t->overlap && last < 0 && stage >= -1; stage--)
        if (stage_ready(t, stage)) return -1;
    return 0;
}

// The part [lo, hi) of the flat parameter buffer that is both in the group
// and in this rank's shard (empty when lo >= hi).
static void shard_of_group(const trainer *t, const tc_param_group *pg, size_t *lo, size_t *hi) {
    size_t end = pg->offset + pg->count;
    *lo = pg->offset > t->sb ? pg->offset : t->sb;
    *hi = end < t->se ? end : t->se;
}

// ZeRO stage 1: after the reduce-scatter each rank holds the summed
// gradient of its shard; the norm adds up the shards' sums of squares; each
// rank updates its shard (its own moments), and the parameters are
// all-gathered through the gradient buffer.
static int adamw_shards(trainer *t, tc_adamw_args *args) {
    tc_classifier *cl = t->cl;
    tc_backend *be = cl->be;
    for (int g = 0; g < cl->n_groups; g++) {
        const tc_param_group *pg = &cl->groups[g];
        size_t lo, hi;
        shard_of_group(t, pg, &lo, &hi);
        args->weight_decay = pg->decay ? t->cfg->weight_decay : 0.0f;
        if (lo < hi && be->ops->adamw_step(be, pg->param + (lo - pg->offset), cl->grads + lo, t->m + (lo - t->sb),
                                           t->v + (lo - t->sb), hi - lo, args, t->state))
            return -1;
    }
    return 0;
}

static int gather_params(trainer *t) {
    tc_classifier *cl = t->cl;
    tc_backend *be = cl->be;
    for (int g = 0; g < cl->n_groups; g++) {
        const tc_param_group *pg = &cl->groups[g];
        size_t lo, hi;
        shard_of_group(t, pg, &lo, &hi);
        if (lo < hi && copy_within(be, cl->grads + lo, pg->param + (lo - pg->offset), hi - lo)) return -1;
    }
    if (t->comm->ops->allgather_device(t->comm, cl->grads, cl->n_total, TC_COMM_F32)) return -1;
    for (int g = 0; g < cl->n_groups; g++) {
        const tc_param_group *pg = &cl->groups[g];
        if (copy_within(be, pg->param, cl->grads + pg->offset, pg->count)) return -1;
    }
    return 0;
}

// All-reduce (or reduce-scatter), norm, the step's decision and AdamW, queued.
static int queue_update(trainer *t, double lr) {
    tc_classifier *cl = t->cl;
    tc_backend *be = cl->be;
    const tc_backend_ops *op = be->ops;
    const tc_train_config *c = t->cfg;
    tc_comm *comm = t->comm;
    if (t->sharded) {
        if (comm->ops->reduce_scatter_sum_device(comm, cl->grads, cl->n_total, TC_COMM_F32) ||
            op->grad_sumsq(be, t->state, cl->grads + t->sb, t->se - t->sb) ||
            comm->ops->allreduce_sum_device(comm, &t->state->sumsq, 1, TC_COMM_F64))
            return -1;
    } else if ((t->overlap ? comm->ops->device_wait(comm)
                           : comm->ops->allreduce_sum_device(comm, cl->grads, cl->n_total, TC_COMM_F32)) ||
               op->grad_sumsq(be, t->state, cl->grads, cl->n_total)) {
        return -1;
    }
    tc_step_args sa = {(float)lr, c->beta1, c->beta2, c->max_grad_norm, c->loss_scaling,
                       c->scale_growth_interval > 0 ? c->scale_growth_interval : 2000, t->step + 1};
    if (op->step_decide(be, t->state, &sa)) return -1;
    tc_adamw_args args = {(float)lr, c->beta1, c->beta2, c->eps, 0, 0, 0};
    if (t->sharded) return adamw_shards(t, &args) || gather_params(t) || tc_classifier_refresh(cl) ? -1 : 0;
    for (int g = 0; g < cl->n_groups; g++) {
        const tc_param_group *pg = &cl->groups[g];
        args.weight_decay = pg->decay ? c->weight_decay : 0.0f;
        if (op->adamw_step(be, pg->param, cl->grads + pg->offset, t->m + pg->offset, t->v + pg->offset, pg->count,
                           &args, t->state))
            return -1;
    }
    return tc_classifier_refresh(cl);
}

// CPU seconds of the process so far, all threads.
static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec + 1e-6 * (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static int train_step(trainer *t) {
    const tc_train_config *c = t->cfg;
    uint64_t pos = (uint64_t)t->epoch_step * t->E, left = c->n_train - pos, step_docs = left < t->E ? left : t->E;
    if (t->pending == 0) t->pend_start = tc_seconds(), t->pend_cpu_start = cpu_seconds();
    tc_lr_schedule sched = {c->lr, t->warmup, t->total_steps, c->constant_lr};
    double lr = tc_lr_at(&sched, t->step);
    if (tc_classifier_zero_grads(t->cl) || queue_micro_batches(t, pos, step_docs) || queue_update(t, lr)) return -1;
    t->step++;
    t->epoch_step++;
    t->pending++;
    t->last_lr = lr;
    return 0;
}

// A non-finite loss of this rank, traced back by its tag to the step, the
// micro-batch and its first document (the step is in the current epoch:
// the host looks at least at every epoch's end).
static int nonfinite_loss(trainer *t, int64_t tag) {
    const tc_train_config *c = t->cfg;
    if (tag < 0)
        return tc_fail("non-finite loss at step %ld or before (epoch %ld, on another rank): stopping", t->step,
                       t->epoch + 1);
    long step = (long)(tag / c->accumulate) + 1, epoch_step = t->epoch_step - (t->step - step);
    int a = (int)(tag % c->accumulate);
    uint64_t pos = (uint64_t)(epoch_step - 1) * t->E, left = c->n_train - pos, step_docs = left < t->E ? left : t->E;
    uint64_t b, e;
    tc_micro_batch_range(step_docs, t->comm->size, c->accumulate, t->comm->rank, a, &b, &e);
    return tc_fail("non-finite loss at step %ld (epoch %ld, batch %ld of the epoch, micro-batch %d, documents '%s'...): "
                   "stopping",
                   step, t->epoch + 1, epoch_step, a, c->train->doc_ids[t->order[pos + b]]);
}

// The host's look at the state: waits for the queued steps, checks them,
// writes their log line, clears the loss sum.
static int sync_steps(trainer *t) {
    tc_backend *be = t->cl->be;
    const tc_train_config *c = t->cfg;
    if (t->pending == 0) return 0;
    // a collective that failed after it was queued (NCCL) leaves the state
    // unfit to log or save
    if (be->ops->download(be, &t->seen, t->state, sizeof t->seen) || be->ops->synchronize(be) || tc_comm_check(t->comm))
        return -1;
    double stats[4] = {t->seen.loss_sum + t->pend_host_loss, t->pend_tokens, t->pend_docs, t->seen.bad_loss_tag >= 0};
    if (t->comm->ops->allreduce_sum(t->comm, stats, 4, TC_COMM_F64)) return -1;
    if (stats[3] > 0 || !isfinite(stats[0])) return nonfinite_loss(t, t->seen.bad_loss_tag);
    if (t->seen.skipped > 0 && !c->loss_scaling)
        return tc_fail("non-finite gradient norm at step %ld: stopping", (long)t->seen.first_skip);
    // the loss as the run divides it: per document, or per unit of weight
    // (steps whose documents all weigh 0 have no loss, not 0 / 0)
    double per = c->loss == TC_LOSS_WEIGHTED ? t->pend_weight : stats[2];
    double seconds = tc_seconds() - t->pend_start, cpu = cpu_seconds() - t->pend_cpu_start;
    double loss = per > 0 ? stats[0] / per : 0;
    t->epoch_loss += stats[0], t->epoch_docs += per;
    t->window_loss += stats[0], t->window_docs += per;
    t->pending = 0;
    t->pend_tokens = t->pend_docs = t->pend_weight = t->pend_host_loss = 0;
    if (be->ops->zero(be, &t->state->loss_sum, sizeof t->state->loss_sum)) return -1;
    if (!t->logging) return 0;
    json_t *line = json_pack("{s:I, s:I, s:f, s:f}", "step", (json_int_t)t->step, "epoch", (json_int_t)t->epoch,
                             "loss", loss, "lr", t->last_lr);
    if (!line) return tc_fail("out of memory");
    double norm = t->seen.grad_norm;
    json_object_set_new(line, "grad_norm", isfinite(norm) ? json_real(norm) : json_null());
    json_object_set_new(line, "docs", json_integer((json_int_t)stats[2]));
    json_object_set_new(line, "tokens", json_integer((json_int_t)stats[1]));
    if (c->loss_scaling) {
        json_object_set_new(line, "loss_scale", json_real(t->seen.loss_scale));
        json_object_set_new(line, "skipped_steps", json_integer((json_int_t)t->seen.skipped));
    }
    json_object_set_new(line, "tokens_per_s", json_real(stats[1] / seconds));
    json_object_set_new(line, "docs_per_s", json_real(stats[2] / seconds));
    json_object_set_new(line, "cpu_s", json_real(cpu));
    return tc_train_log_write(&t->log, line);
}

// ---------------------------------------------------------------- validation

// Precision at 1 and example F1 of one document: predicted = classes with a
// positive score (the top one if none), masked classes left out.
static void doc_metrics(const float *s, const float *y, const float *w, int K, double *p1, double *f1) {
    int top = -1, predicted = 0, gold = 0, hits = 0;
    for (int k = 0; k < K; k++) {
        if (w[k] == 0) continue;
        if (top < 0 || s[k] > s[top]) top = k;
        gold += y[k] > 0;
        if (s[k] > 0) predicted++, hits += y[k] > 0;
    }
    if (top < 0) return;
    if (predicted == 0) predicted = 1, hits = y[top] > 0;
    *p1 += y[top] > 0;
    *f1 += gold + predicted ? 2.0 * hits / (gold + predicted) : 0;
}

static void val_pair(void *ctx, uint64_t i, const int32_t **a, int32_t *la, const int32_t **p, int32_t *lp) {
    const tc_train_config *c = ((trainer *)ctx)->cfg;
    uint32_t d = c->val_idx[i];
    *a = c->val->tokens + c->val->tok_offsets[d], *la = tc_train_set_length(c->val, d);
    *p = c->val_positives->tokens + c->val_positives->tok_offsets[d], *lp = tc_train_set_length(c->val_positives, d);
}

// A validation's log line from its sums (validate): the classifier's
// precision at 1 and example F1, or the pairs' retrieval figures.
static json_t *val_line(const trainer *t, const double sums[4]) {
    double n = sums[3];
    const char *m1 = contrastive(t) ? "val_mrr_at_10" : "val_p_at_1";
    const char *m2 = contrastive(t) ? "val_recall_at_1" : "val_example_f1";
    return json_pack("{s:I, s:I, s:f, s:f, s:f, s:I}", "step", (json_int_t)t->step, "epoch", (json_int_t)t->epoch,
                     "val_loss", sums[0] / n, m1, sums[1] / n, m2, sums[2] / n, "val_docs", (json_int_t)n);
}

// sums: loss, precision at 1, example F1, documents (contrastive: loss,
// MRR@10 and recall@1 sums, pairs)
static int validate(trainer *t, double sums[4]) {
    const tc_train_config *c = t->cfg;
    memset(sums, 0, 4 * sizeof *sums);
    if (contrastive(t)) return tc_contrastive_validate(t->ct, c->n_val, val_pair, t, sums);
    uint32_t *docs = tc_malloc_array((size_t)c->batch, sizeof *docs);
    if (!docs) return -1;
    int rc = 0, K = t->cl->K;
    // rank r takes documents r, r + ranks, ...
    uint64_t mine = c->n_val > (uint64_t)t->comm->rank ? (c->n_val - (uint64_t)t->comm->rank + (uint64_t)t->comm->size - 1) / (uint64_t)t->comm->size : 0;
    for (uint64_t at = 0; rc == 0 && at < mine; at += (uint64_t)c->batch) {
        int B = (int)(mine - at < (uint64_t)c->batch ? mine - at : (uint64_t)c->batch);
        for (int i = 0; i < B; i++) docs[i] = c->val_idx[(at + (uint64_t)i) * (uint64_t)t->comm->size + (uint64_t)t->comm->rank];
        gather(t, c->val, docs, B);
        rc = tc_classifier_scores(t->cl, t->rows, t->lengths, B, t->scores) ||
                     tc_classifier_eval_loss(t->cl, t->y, t->w, B, t->row_loss)
                 ? -1
                 : 0;
        for (int i = 0; rc == 0 && i < B; i++) {
            sums[0] += t->row_loss[i];
            doc_metrics(t->scores + (size_t)i * K, t->y + (size_t)i * K, t->w + (size_t)i * K, K, &sums[1], &sums[2]);
            sums[3] += 1;
        }
    }
    free(docs);
    if (tc_comm_any(t->comm, rc != 0)) return rc ? -1 : tc_fail("validation failed on another rank");
    return t->comm->ops->allreduce_sum(t->comm, sums, 4, TC_COMM_F64);
}

// A validation (or, without a validation set, the training loss since the
// last one): best checkpoint, patience. *stop when patience ran out.
static int evaluate(trainer *t, int *stop) {
    const tc_train_config *c = t->cfg;
    double sums[4] = {0}, metric;
    json_t *line;
    if (c->val) {
        if (validate(t, sums)) return -1;
        metric = sums[0] / sums[3];
        line = val_line(t, sums);
    } else {
        metric = t->window_docs > 0 ? t->window_loss / t->window_docs : INFINITY;
        line = json_pack("{s:I, s:I, s:f}", "step", (json_int_t)t->step, "epoch", (json_int_t)t->epoch, "train_loss", metric);
    }
    if (!isfinite(metric)) {
        json_decref(line);
        return tc_fail("non-finite %s loss at step %ld: stopping", c->val ? "validation" : "training", t->step);
    }
    t->window_loss = t->window_docs = 0;
    int improved = metric < t->best;
    if (improved) t->best = metric, t->best_step = t->step, t->bad_evals = 0;
    else t->bad_evals++;
    json_object_set_new(line, "best", json_boolean(improved));
    if (t->logging && tc_train_log_write(&t->log, line)) return -1;
    if (!t->logging) json_decref(line);
    if (c->cli && rank0(t))
        tc_note("step %ld: %s %.6g%s", t->step, c->val ? "validation loss" : "training loss", metric,
                improved ? " (best so far)" : "");
    if (improved && save(t, "best")) return -1;
    *stop = c->patience > 0 && t->bad_evals >= c->patience;
    return 0;
}

// ---------------------------------------------------------------- the loop

static int initial_validation(trainer *t) {
    double sums[4];
    if (validate(t, sums)) return -1;
    if (!t->logging) return 0;
    json_t *line = val_line(t, sums);
    if (line) json_object_set_new(line, "best", json_false());
    return tc_train_log_write(&t->log, line);
}

static int run_epochs(trainer *t, int *stopped) {
    const tc_train_config *c = t->cfg;
    *stopped = 0;
    for (; t->epoch < t->epochs && t->step < t->total_steps && !*stopped; t->epoch++, t->epoch_step = 0) {
        if (t->epoch_step >= t->steps_per_epoch) continue;  // resumed after the epoch's last step
        if (t->epoch_step == 0) t->epoch_loss = t->epoch_docs = 0;
        tc_epoch_order(t->order, c->train_idx, c->n_train, c->seed, (uint64_t)t->epoch);
        while (t->epoch_step < t->steps_per_epoch && t->step < t->total_steps && !*stopped) {
            if (train_step(t)) return -1;
            tc_progress_update(&t->progress, (uint64_t)t->step);
            int epoch_end = t->epoch_step == t->steps_per_epoch || t->step == t->total_steps;
            int eval_due = epoch_end || (c->eval_every > 0 && t->step % c->eval_every == 0);
            int save_due = epoch_end || (c->save_every > 0 && t->step % c->save_every == 0);
            long every = c->log_every > 0 ? c->log_every : 1;
            if ((eval_due || save_due || t->step % every == 0) && sync_steps(t)) return -1;
            if (eval_due && evaluate(t, stopped)) return -1;
            if (save_due && t->last_saved != t->step && save(t, "latest")) return -1;
        }
    }
    return 0;
}

static int prepare_out_dir(const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return tc_fail("%s: cannot create: %s", dir, strerror(errno));
    return tc_checkpoint_prune(dir);
}

// The final checkpoint: the last one written when it is this step's.
static int finish(trainer *t) {
    if (t->last_saved != t->step) return save(t, "final");
    int rc = rank0(t) ? tc_checkpoint_link(t->cfg->out_dir, t->step, "final") : 0;
    if (tc_comm_any(t->comm, rc != 0)) return rc ? -1 : tc_fail("rank 0 could not link the final checkpoint");
    return 0;
}

int tc_train_run(tc_classifier *cl, tc_comm *comm, const tc_train_config *cfg, tc_train_result *result) {
    trainer t = {.cl = cl, .comm = comm, .cfg = cfg};
    memset(result, 0, sizeof *result);
    if (cfg->n_train == 0) return tc_fail("the training set is empty");
    plan(&t);
    int rc = alloc_host(&t);
    if (rc == 0 && cfg->resume_dir) rc = resume(&t, cfg->resume_dir);
    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/log.jsonl", cfg->out_dir);
    t.logging = rank0(&t);
    // the output directory, cleared of temporaries an interrupted run left
    if (rc == 0 && t.logging) rc = prepare_out_dir(cfg->out_dir);
    if (rc == 0 && t.logging)
        rc = tc_train_log_open(&t.log, cfg->log_path ? cfg->log_path : log_path, cfg->resume_dir ? t.step : -1);
    char tb_dir[4096];
    snprintf(tb_dir, sizeof tb_dir, "%s/runs", cfg->out_dir);
    if (rc == 0 && t.logging && !(cfg->tensorboard && !cfg->tensorboard[0]))
        rc = tc_train_log_tensorboard(&t.log, cfg->tensorboard ? cfg->tensorboard : tb_dir);
    if (cfg->cli) tc_progress_start(&t.progress, cfg->cli, "steps", (uint64_t)t.total_steps);
    t.progress.enabled &= rank0(&t);
    if (rc == 0 && !cfg->resume_dir && cfg->val) rc = initial_validation(&t);
    int stopped = 0;
    if (rc == 0) rc = run_epochs(&t, &stopped);
    if (cfg->cli) tc_progress_finish(&t.progress);
    if (rc == 0) rc = finish(&t);
    if (t.logging && tc_train_log_close(&t.log) && rc == 0) rc = -1;
    result->steps = t.step;
    result->best_metric = t.best;
    result->best_step = t.best_step;
    result->stopped_early = stopped;
    result->last_loss = t.epoch_docs > 0 ? t.epoch_loss / t.epoch_docs : NAN;
    free_host(&t);
    return rc;
}
