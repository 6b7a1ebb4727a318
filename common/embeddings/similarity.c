#include "common/embeddings/similarity.h"
#include "common/error.h"
#include "common/threadpool.h"
#include "kernels/cpu/matmul_onednn.h"
#include "kernels/cpu/similarity_topk.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TC_HAVE_CUDA
#include "kernels/cuda/similarity_topk.h"
#endif

enum { TOPK_MAX = 32 };

// Rows of documents per product: the (rows, M) block of similarities stays
// within a budget (64 MiB on the CPU, 256 MiB on a GPU) however many targets.
static int block_rows(int64_t m, size_t budget, int lo, int hi) {
    int64_t rows = (int64_t)(budget / ((size_t)m * sizeof(float)));
    return rows < lo ? lo : rows > hi ? hi : (int)rows;
}

struct tc_similarity {
    tc_devices devices;
    int threads;
    tct_dtype precision;      // TCT_F32, or (CPU) TCT_BF16 / TCT_I8 through oneDNN
    tc_onednn *onednn;        // the reduced precisions: targets prepared once
    tc_pool *pool;            // and multiplied by these threads
    float *targets;           // (M, D) normalised
    int64_t m;
    int d;
    int32_t *offsets;         // (G+1) or NULL
    int g;
    float *work_x;            // normalised copy of a batch
    int64_t work_rows;
    float *work_s;            // (cpu_rows, M), CPU only
    int cpu_rows;
    char backend[256];
#if TC_HAVE_CUDA
    tc_cuda_similarity *gpu[TC_MAX_GPUS];
#endif
};

// The CPU's side: the block of similarities, and oneDNN for bf16 and int8.
static int open_cpu(tc_similarity *s) {
    s->cpu_rows = block_rows(s->m, 64u << 20, 16, 512);
    s->work_s = tc_malloc_array((size_t)s->cpu_rows * (size_t)s->m, sizeof(float));
    if (!s->work_s) return -1;
    const char *plural = s->threads == 1 ? "" : "s";
    if (s->precision == TCT_F32) {
        snprintf(s->backend, sizeof s->backend, "CPU (OpenBLAS, %d thread%s)", s->threads, plural);
        return 0;
    }
    if (s->m > INT32_MAX) return tc_fail("%lld targets: too many for oneDNN's product", (long long)s->m);
    if (!(s->onednn = tc_onednn_create(s->precision, s->threads))) return -1;
    if (!(s->pool = tc_pool_create(s->threads))) return tc_fail("cannot start %d threads", s->threads);
    snprintf(s->backend, sizeof s->backend, "CPU (oneDNN %s, %d thread%s)", tc_precision_name(s->precision),
             s->threads, plural);
    return 0;
}

int tc_similarity_open(tc_similarity **out, const tc_devices *devices, int threads, tct_dtype precision,
                       const float *targets, int64_t m, int d, const int32_t *group_offsets, int n_groups) {
    *out = NULL;
    if (m <= 0 || d <= 0) return tc_fail("no target embeddings to compare with");
    if (precision != TCT_F32 && precision != TCT_BF16 && precision != TCT_I8)
        return tc_fail("similarities in %s: fp32, bf16 or int8 only", tc_precision_name(precision));
    if (precision != TCT_F32 && devices->n_gpus)
        return tc_fail("similarities on GPUs are fp32 only (cuBLAS sgemm), not %s", tc_precision_name(precision));
    tc_similarity *s = tc_calloc(1, sizeof *s);
    if (!s) return -1;
    s->devices = *devices;
    s->threads = threads > 0 ? threads : 1;
    s->precision = precision;
    s->m = m, s->d = d, s->g = n_groups;
    s->targets = tc_malloc_array((size_t)(m * d), sizeof(float));
    if (!s->targets) goto fail;
    memcpy(s->targets, targets, (size_t)(m * d) * sizeof(float));
    tc_cpu_normalize_rows(s->targets, m, d);
    if (n_groups > 0) {
        s->offsets = tc_malloc_array((size_t)n_groups + 1, sizeof(int32_t));
        if (!s->offsets) goto fail;
        memcpy(s->offsets, group_offsets, ((size_t)n_groups + 1) * sizeof(int32_t));
    }
    if (devices->n_gpus == 0) {
        if (open_cpu(s)) goto fail;
    } else {
#if TC_HAVE_CUDA
        int at = snprintf(s->backend, sizeof s->backend, "GPU");
        for (int i = 0; i < devices->n_gpus; i++) {
            if (tc_cuda_similarity_create(&s->gpu[i], devices->gpus[i], s->targets, m, d, s->offsets, n_groups,
                                          block_rows(m, 256u << 20, 64, 8192)))
                goto fail;
            if (at < (int)sizeof s->backend)
                at += snprintf(s->backend + at, sizeof s->backend - (size_t)at, "%s %d", i ? "," : "", devices->gpus[i]);
        }
#else
        tc_fail("this build has no CUDA backend");
        goto fail;
#endif
    }
    *out = s;
    return 0;
fail:
    tc_similarity_close(s);
    return -1;
}

void tc_similarity_close(tc_similarity *s) {
    if (!s) return;
#if TC_HAVE_CUDA
    for (int i = 0; i < TC_MAX_GPUS; i++) tc_cuda_similarity_destroy(s->gpu[i]);
#endif
    tc_onednn_forget(s->onednn, s->targets);  // before its address can be reused
    tc_onednn_destroy(s->onednn);
    tc_pool_destroy(s->pool);
    free(s->targets), free(s->offsets), free(s->work_x), free(s->work_s);
    free(s);
}

const char *tc_similarity_backend(const tc_similarity *s) { return s->backend; }

static const float *normalised_copy(tc_similarity *s, const float *x, int64_t n) {
    if (n > s->work_rows) {
        float *p = tc_malloc_array((size_t)(n * s->d), sizeof(float));
        if (!p) return NULL;
        free(s->work_x);
        s->work_x = p;
        s->work_rows = n;
    }
    memcpy(s->work_x, x, (size_t)(n * s->d) * sizeof(float));
    tc_cpu_normalize_rows(s->work_x, n, s->d);
    return s->work_x;
}

// ---------------------------------------------------------------- CPU

// The targets are the product's weights: oneDNN prepares them (rounded or
// quantized per target) on the first block and reuses them after.
static int cpu_run(tc_similarity *s, const float *x, int64_t n, int k, float *out, int32_t *idx, float *val) {
    // pinned by the environment (tc_cli_init pins it to 1 under ulimit -v,
    // where more OpenBLAS threads hang the process): leave it as it is
    if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(s->threads);
    for (int64_t at = 0; at < n; at += s->cpu_rows) {
        int64_t rows = n - at < s->cpu_rows ? n - at : s->cpu_rows;
        if (s->precision == TCT_F32) tc_cpu_similarity(x + at * s->d, rows, s->targets, s->m, s->d, s->work_s);
        else if (tc_onednn_matmul_forward(s->onednn, s->pool, s->work_s, NULL, x + at * s->d, s->targets, NULL,
                                          (int)rows, s->d, (int)s->m, TC_ACT_NONE))
            return -1;
        if (k == 0) tc_cpu_group_max(s->work_s, rows, s->m, s->offsets, s->g, out + at * s->g);
        else tc_cpu_topk_rows(s->work_s, rows, s->m, k, idx + at * k, val + at * k);
    }
    return 0;
}

// ---------------------------------------------------------------- GPUs

#if TC_HAVE_CUDA
typedef struct {
    tc_cuda_similarity *gpu;
    const float *x;
    int64_t n;
    int k;
    float *out;
    int32_t *idx;
    float *val;
    int rc;
    char error[1024];
} shard;

static void *run_shard(void *arg) {
    shard *sh = arg;
    sh->rc = sh->k == 0 ? tc_cuda_similarity_group_max(sh->gpu, sh->x, sh->n, sh->out)
                        : tc_cuda_similarity_topk(sh->gpu, sh->x, sh->n, sh->k, sh->idx, sh->val);
    if (sh->rc) snprintf(sh->error, sizeof sh->error, "%s", tc_error());
    return NULL;
}

static int gpu_run(tc_similarity *s, const float *x, int64_t n, int k, float *out, int32_t *idx, float *val) {
    int parts = s->devices.n_gpus;
    shard sh[TC_MAX_GPUS];
    pthread_t threads[TC_MAX_GPUS];
    int started[TC_MAX_GPUS] = {0};
    int64_t per = (n + parts - 1) / parts;
    for (int i = 0; i < parts; i++) {
        int64_t lo = i * per < n ? i * per : n, hi = lo + per < n ? lo + per : n;
        sh[i] = (shard){.gpu = s->gpu[i], .x = x + lo * s->d, .n = hi - lo, .k = k};
        if (k == 0) sh[i].out = out + lo * s->g;
        else sh[i].idx = idx + lo * k, sh[i].val = val + lo * k;
        if (hi > lo) started[i] = pthread_create(&threads[i], NULL, run_shard, &sh[i]) == 0 ? 1 : (run_shard(&sh[i]), 0);
    }
    int rc = 0;
    for (int i = 0; i < parts; i++) {
        if (started[i]) pthread_join(threads[i], NULL);
        if (sh[i].n > 0 && sh[i].rc && rc == 0) {
            tc_error_set(sh[i].error);
            rc = -1;
        }
    }
    return rc;
}
#endif

static int run(tc_similarity *s, const float *x, int64_t n, int k, float *out, int32_t *idx, float *val) {
    if (n == 0) return 0;
    const float *xn = normalised_copy(s, x, n);
    if (!xn) return -1;
    if (s->devices.n_gpus == 0) return cpu_run(s, xn, n, k, out, idx, val);
#if TC_HAVE_CUDA
    return gpu_run(s, xn, n, k, out, idx, val);
#else
    return tc_fail("this build has no CUDA backend");
#endif
}

int tc_similarity_group_max(tc_similarity *s, const float *x, int64_t n, float *out) {
    if (s->g <= 0) return tc_fail("no groups of targets were given");
    return run(s, x, n, 0, out, NULL, NULL);
}

int tc_similarity_topk(tc_similarity *s, const float *x, int64_t n, int k, int32_t *idx, float *val) {
    if (k < 1 || k > TOPK_MAX || k > s->m)
        return tc_fail("top %d of %lld targets: k must be 1..%d and at most the number of targets", k,
                       (long long)s->m, TOPK_MAX);
    return run(s, x, n, k, NULL, idx, val);
}
