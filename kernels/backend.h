// The compute backend interface (DESIGN section 6). A model definition
// (common/model/bert_forward.c) calls these operations on buffers in the backend's
// memory; kernels/cpu/ implements them on the host (OpenBLAS for matrix
// products, a thread pool for the rest) and kernels/cuda/ on a GPU (cuBLAS
// for matrix products, CUDA C kernels for the rest). The CPU backend is the
// reference every CUDA kernel is tested against (tests/gpu/).
//
// Each operation has one file per backend, named after it:
//   kernels/cpu/matmul.c  <->  kernels/cuda/matmul.cu
// A backward pass adds `NAME_backward` next to each `NAME_forward`, here and
// in both files.
//
// Dims legend:
//   B  sequences in a batch          T  the batch's longest sequence
//   N  token rows of a batch: the sum of the B lengths (packed, no padding)
//   C  hidden size   NH heads   HS = C / NH head size   F intermediate size
//   V  vocabulary    P positions   TT token types   IC/OC in/out features
//
// Packed sequences: activations have one row per real token; sequence b is
// rows offsets[b] .. offsets[b+1]-1. Nothing is computed for padding, and
// attention masks by these bounds (a key of another sequence is never seen).
//
// Element type: every activation and weight buffer holds the backend's
// `dtype` (f32 on the CPU; f32, bf16 or f16 on a GPU); products and sums
// accumulate in f32 whatever the storage. Layer-norm statistics (mean,
// rstd) are always f32.
//
// Operations are queued on the backend's stream (the CPU runs them at once)
// and return 0, or -1 after tc_fail() for bad arguments or a failed launch.
// Errors inside a queued kernel surface at the next synchronize.
#ifndef TC_BACKEND_H
#define TC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "formats/tct.h"
#include "kernels/train_state.h"

typedef enum {
    TC_ACT_NONE = 0,
    TC_ACT_GELU,        // exact: 0.5 x (1 + erf(x / sqrt 2)), Hugging Face "gelu"
    TC_ACT_GELU_TANH,   // tanh approximation, "gelu_new" / "gelu_pytorch_tanh"
    TC_ACT_RELU,
    TC_ACT_TANH,        // the BERT pooler's
} tc_activation;

static inline const char *tc_activation_name(tc_activation act) {
    static const char *names[] = {"none", "gelu", "gelu_new", "relu", "tanh"};
    return (unsigned)act < sizeof names / sizeof *names ? names[act] : "?";
}

typedef enum { TC_POOL_MEAN = 0, TC_POOL_CLS, TC_POOL_POOLER } tc_pooling;

// Where the sequences of a batch are (see "Packed sequences").
typedef struct {
    int B;                        // sequences
    int T;                        // longest sequence
    int N;                        // token rows: offsets[B]
    const int32_t *offsets;       // (B+1) on the host
    const int32_t *offsets_dev;   // (B+1) in backend memory (the same pointer on the CPU)
} tc_seq_layout;

// A learned bias added to every attention score before the softmax, by
// the distance between key and query (MPNet's relative positions):
//   score(b, h, i, j) += table[bucket[j - i + span - 1] * NH + h]
// The bucket of each distance is computed once by the model
// (common/model/bert_model.h: tc_rel_bucket); span >= every T it meets.
typedef struct {
    const void *table;      // (NB, NH) in the backend dtype
    const int32_t *bucket;  // (2 span - 1) in backend memory
    int span;
    int buckets;            // NB
    float *dtable;          // backward: (NB, NH) f32 +=, summed over batch, heads' rows and positions
} tc_attn_bias;

// A layer's weights after attention, for layer_tail_forward (C hidden, F
// intermediate; each in the backend dtype).
typedef struct {
    const void *attproj_w, *attproj_b;  // (C, C), (C)
    const void *ln1_w, *ln1_b;          // (C), (C)
    const void *fc_w, *fc_b;            // (F, C), (F)
    const void *fcproj_w, *fcproj_b;    // (C, F), (C)
    const void *ln2_w, *ln2_b;          // (C), (C)
    float eps;                          // both layer norms'
    tc_activation act;                  // the FFN's
} tc_layer_tail;

typedef struct tc_backend tc_backend;

enum { TC_BACKEND_EVENTS = 4 };  // event slots for overlapping batches

typedef struct {
    // ---- memory: buffers in the backend (device memory on a GPU)
    void *(*alloc)(tc_backend *be, size_t bytes);   // zero-filled; NULL after tc_fail
    void (*free)(tc_backend *be, void *p);
    // Host memory the backend copies from and to fastest (pinned on a GPU).
    void *(*host_alloc)(tc_backend *be, size_t bytes);
    void (*host_free)(tc_backend *be, void *p);
    // Queued copies; host buffers must stay untouched until the copy is done
    // (an event recorded after it has completed, or a synchronize).
    int (*upload)(tc_backend *be, void *dst, const void *src, size_t bytes);
    int (*download)(tc_backend *be, void *dst, const void *src, size_t bytes);
    // Copies n f32 host values into dst, converted to the backend dtype; waits.
    int (*upload_f32)(tc_backend *be, void *dst, const float *src, size_t n);
    // dst (n) f32 = src (n) of the backend dtype, both in backend memory.
    int (*to_f32)(tc_backend *be, float *dst, const void *src, size_t n);
    // Waits for everything queued; reports errors of queued work.
    int (*synchronize)(tc_backend *be);
    // Marks the queue at this point in slot (0..TC_BACKEND_EVENTS-1); waits for a mark.
    int (*event_record)(tc_backend *be, int slot);
    int (*event_wait)(tc_backend *be, int slot);

    // ---- forward operations
    // out (N, C) = wte[ids] + wpe[pos] + wtt[types]; types NULL: type 0;
    // wtt NULL: no token types (MPNet). ids, pos, types (N) int32 in
    // backend memory; wte (V, C), wpe (P, C), wtt (TT, C).
    int (*embeddings_forward)(tc_backend *be, void *out, const int32_t *ids, const int32_t *pos,
                              const int32_t *types, const void *wte, const void *wpe, const void *wtt, int N, int C);
    // out (N, C) = layernorm(inp + residual) * w (C) + b (C), statistics in f32.
    // residual (N, C) may be NULL. When not NULL: sum (N, C) receives
    // inp + residual, mean (N) and rstd (N) the row statistics (for backward).
    // out may be the same buffer as inp or residual.
    int (*layernorm_forward)(tc_backend *be, void *out, float *mean, float *rstd, void *sum, const void *inp,
                             const void *residual, const void *w, const void *b, float eps, int N, int C);
    // out (N, OC) = act(inp (N, IC) . w (OC, IC)^T + bias (OC)); bias may be
    // NULL; pre (N, OC), when not NULL, receives the value before act.
    int (*matmul_forward)(tc_backend *be, void *out, void *pre, const void *inp, const void *w, const void *bias,
                          int N, int IC, int OC, tc_activation act);
    // out (n) = act(inp (n)), elementwise; out may be inp.
    int (*activation_forward)(tc_backend *be, void *out, const void *inp, size_t n, tc_activation act);
    // Multi-head self-attention of packed sequences. qkv (N, 3C): each row
    // is query (C), key (C), value (C), head h at columns h*HS .. h*HS+HS-1
    // of each. out (N, C) = softmax(q k^T / sqrt(HS)) v per sequence and head.
    // att (B, NH, T, T), when not NULL, receives the probabilities (rows and
    // columns past a sequence's length are zero). scratch: at least
    // attention_scratch_bytes(B, T, C, NH) bytes of backend memory. bias:
    // NULL, or added to the scaled scores (tc_attn_bias).
    int (*attention_forward)(tc_backend *be, void *out, void *att, void *scratch, const void *qkv,
                             const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias);
    size_t (*attention_scratch_bytes)(tc_backend *be, int B, int T, int C, int NH);
    // out (B, C): per sequence the mean of its rows of x (N, C) (TC_POOL_MEAN)
    // or its first row (TC_POOL_CLS, also the pooler's input).
    int (*pool_forward)(tc_backend *be, void *out, const void *x, const tc_seq_layout *layout, int C,
                        tc_pooling mode);
    // out (B, D) = x (B, D) / max(||x||_2, 1e-12) per row; out may be x.
    int (*normalize_forward)(tc_backend *be, void *out, const void *x, int B, int D);
    // Optional, as layer_tail_forward below (NULL: the model runs the two
    // operations), for inference: a layer's QKV product and its attention,
    //   qkv = x . qkv_w^T + qkv_b (N, 3C);  out = attention_forward(qkv)
    // with att NULL. qkv: (N, 3C) of backend memory left to the backend's
    // use in between (the CPU keeps q, k, v there in bf16, rounded in the
    // product's own pass, for its bf16 attention).
    int (*qkv_attention_forward)(tc_backend *be, void *out, void *qkv, void *scratch, const void *x,
                                 const void *qkv_w, const void *qkv_b, const tc_seq_layout *layout, int C, int NH,
                                 const tc_attn_bias *bias);
    // Optional: NULL where a backend has nothing to gain by it, and then the
    // model runs the operations above one by one. For inference (no
    // statistics or intermediate values kept), the rest of a post-norm
    // layer after attention, which is row by row:
    //   h   = layernorm(atty . attproj_w^T + attproj_b + x)            (ln1)
    //   out = layernorm(act(h . fc_w^T + fc_b) . fcproj_w^T + fcproj_b + h)   (ln2)
    // atty, x, out (N, C); out may be x. A backend fuses it where keeping a
    // block of rows in cache across the five operations saves their passes
    // over memory (the CPU's reduced precisions: kernels/cpu/layer_tail.c).
    int (*layer_tail_forward)(tc_backend *be, void *out, const void *atty, const void *x, const tc_layer_tail *t,
                              int N, int C, int F);

    void (*destroy)(tc_backend *be);

    // ---- training: backward operations, loss, optimizer (tc-train).
    // Weight gradients are f32 in every backend and are added to (+=), so
    // that micro-batches accumulate; activation gradients hold the backend
    // dtype. "accumulate" adds an input gradient instead of writing it.
    // dwte (V, C), dwpe (P, C), dwtt (TT, C) += the rows each token read;
    // any of them may be NULL.
    int (*embeddings_backward)(tc_backend *be, float *dwte, float *dwpe, float *dwtt, const void *dout,
                               const int32_t *ids, const int32_t *pos, const int32_t *types, int N, int C);
    // x (N, C) = inp + residual as kept by layernorm_forward (`sum`, or inp
    // without residual); dx (N, C) = d x (dx may be dout); dw, db (C) +=.
    int (*layernorm_backward)(tc_backend *be, void *dx, float *dw, float *db, const void *dout, const void *x,
                              const float *mean, const float *rstd, const void *w, int N, int C, int accumulate);
    // dout (N, OC) is overwritten by the gradient before act (read from
    // pre (N, OC) when act != NONE); dinp (N, IC) = dz . w (may be NULL);
    // dw (OC, IC) += dz^T . inp; dbias (OC) += column sums (may be NULL).
    int (*matmul_backward)(tc_backend *be, void *dinp, float *dw, float *dbias, void *dout, const void *inp,
                           const void *w, const void *pre, int N, int IC, int OC, tc_activation act, int accumulate);
    // dqkv (N, 3C) from datty (N, C), the probabilities att (B, NH, T, T)
    // the forward kept and qkv (N, 3C); scratch: attention_backward_scratch_bytes.
    // bias: NULL, or the forward's, whose dtable receives the table's gradient.
    int (*attention_backward)(tc_backend *be, void *dqkv, void *scratch, const void *datty, const void *att,
                              const void *qkv, const tc_seq_layout *layout, int C, int NH, const tc_attn_bias *bias);
    size_t (*attention_backward_scratch_bytes)(tc_backend *be, int B, int T, int C, int NH);
    // dx (N, C), every row written, from dout (B, C) (mean or first row).
    int (*pool_backward)(tc_backend *be, void *dx, const void *dout, const tc_seq_layout *layout, int C,
                         tc_pooling mode);
    // dx (B, D) from dout (B, D) and the input x (B, D) of normalize_forward.
    int (*normalize_backward)(tc_backend *be, void *dx, const void *dout, const void *x, int B, int D);
    // Weighted multi-label BCE with logits (B, K), targets and weights (B, K)
    // f32: loss (B) f32 per row (sum over classes of w * bce), dlogits (B, K)
    // = scale * w * (sigmoid - target).
    int (*bce_loss)(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                    const float *weights, int B, int K, float scale);
    // *result (host) = sum of x (n) squared, the same on any thread count; waits.
    int (*sumsq)(tc_backend *be, double *result, const float *x, size_t n);
    // AdamW (decoupled weight decay) on f32 params, grads, moments m and v (n).
    int (*adamw_update)(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                        const tc_adamw_args *args);
    int (*zero)(tc_backend *be, void *p, size_t bytes);  // queued memset to 0

    // ---- mixed precision and whole steps without host round trips
    // (kernels/train_state.h). f32 master parameters, compute copies in the
    // backend dtype: dst (n) of the backend dtype = src (n) f32, both in
    // backend memory (a copy in f32; nothing when dst == src).
    int (*from_f32)(tc_backend *be, void *dst, const float *src, size_t n);
    // bce_loss of a training micro-batch, with dlogits also multiplied by
    // state->loss_scale, and the sum of the rows' losses (in order, in
    // double) added to state->loss_sum; the first non-finite sum records
    // `tag` in state->bad_loss_tag. Queued: nothing comes back to the host.
    int (*bce_loss_step)(tc_backend *be, float *loss, void *dlogits, const void *logits, const float *targets,
                         const float *weights, int B, int K, float scale, tc_train_state *state, int64_t tag);
    // state->sumsq = sum of x (n) squared, as sumsq computes it but kept in
    // backend memory (a sharded gradient's ranks add theirs up afterwards).
    int (*grad_sumsq)(tc_backend *be, tc_train_state *state, const float *x, size_t n);
    // The step's decision from state->sumsq: tc_step_decide_apply.
    int (*step_decide)(tc_backend *be, tc_train_state *state, const tc_step_args *args);
    // adamw_update with the gradient multiplier, step size and bias
    // correction of state (args->step and args->grad_scale are not read);
    // nothing when state->skip.
    int (*adamw_step)(tc_backend *be, float *params, const float *grads, float *m, float *v, size_t n,
                      const tc_adamw_args *args, const tc_train_state *state);
} tc_backend_ops;

struct tc_backend {
    const tc_backend_ops *ops;
    char name[32];          // "cpu", "cuda:0"
    tct_dtype dtype;        // TCT_F32, TCT_BF16 or TCT_F16
    int host_memory;        // 1: backend memory is host memory (the CPU)
    int threads;            // CPU threads it uses (0 for a GPU)
    void *impl;
};

static inline size_t tc_backend_dtype_size(const tc_backend *be) { return be->dtype == TCT_F32 ? 4 : 2; }
static inline void tc_backend_destroy(tc_backend *be) {
    if (be) be->ops->destroy(be);
}

// The CPU backend with `threads` threads (0: all cores). NULL after tc_fail.
tc_backend *tc_backend_cpu_create(int threads);

// The CPU backend with its linear layers' products in `precision`: TCT_F32
// (OpenBLAS), TCT_BF16 or TCT_I8 (oneDNN, kernels/cpu/matmul_onednn.h; NULL
// after tc_fail naming what the CPU or the build lacks). The reduced ones
// prepare each weight buffer once, on its first product: for inference only,
// weights must not change afterwards. 0 means TCT_F32.
tc_backend *tc_backend_cpu_create_precision(int threads, tct_dtype precision);

// The CPU backend for training, its matrix products (forward and backward)
// in `precision`: TCT_F32 (OpenBLAS, as tc_backend_cpu_create) or TCT_BF16
// (kernels/cpu/matmul_bf16.h: oneDNN, or emulated under
// TC_CPU_BF16_EMULATE=1; NULL after tc_fail naming what the CPU lacks).
// Operands are rounded on every product: weights may change between calls.
tc_backend *tc_backend_cpu_create_train(int threads, tct_dtype precision);

// A GPU backend on CUDA device `device` computing in dtype (TCT_F32,
// TCT_BF16, TCT_F16); only in builds with CUDA (TC_HAVE_CUDA).
tc_backend *tc_backend_cuda_create(int device, tct_dtype dtype);

#endif
