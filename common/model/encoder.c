#include "common/model/encoder.h"
#include "common/model/bert_forward.h"
#include "common/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    tc_encoder *enc;
    int gpu;                     // -1: the CPU
    pthread_t thread;
    int started;
    tc_backend *be;
    tc_bert_forward *fw;
    const int32_t **rows;        // (batch_size) the batch being assembled
    int32_t *lengths;            // (batch_size)
    float *out;                  // (batch_size, D) a collected batch
} worker;

struct tc_encoder {
    const tc_bert_model *model;
    tc_encoder_options opt;
    int D, n_workers;
    worker *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    unsigned long generation;
    int stop, busy, setting_up;
    // the window in progress
    const tc_encoder_window *window;
    uint32_t *order;             // (n) rows longest first
    size_t order_cap;
    int n_batches;
    atomic_int next_batch;
    int failed;
    char error[1024];
};

void tc_encoder_order(const int32_t *lengths, size_t n, int max_len, uint32_t *order) {
    // counting sort on length, longest first, stable (ties keep row order)
    size_t *start = calloc((size_t)max_len + 2, sizeof *start);
    if (!start) {  // fall back to row order; only the speed suffers
        for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
        return;
    }
    for (size_t i = 0; i < n; i++) start[max_len - lengths[i]]++;
    size_t at = 0;
    for (int k = 0; k <= max_len; k++) {
        size_t c = start[k];
        start[k] = at;
        at += c;
    }
    for (size_t i = 0; i < n; i++) order[start[max_len - lengths[i]]++] = (uint32_t)i;
    free(start);
}

static void record_failure(tc_encoder *enc, worker *w) {
    pthread_mutex_lock(&enc->lock);
    if (!enc->failed) {
        char dev[32];
        if (w->be) snprintf(dev, sizeof dev, "%s", w->be->name);
        else if (w->gpu >= 0) snprintf(dev, sizeof dev, "GPU %d", w->gpu);
        else snprintf(dev, sizeof dev, "CPU");
        if (strncmp(tc_error(), dev, strlen(dev)))
            snprintf(enc->error, sizeof enc->error, "%s: %s", dev, tc_error());
        else
            snprintf(enc->error, sizeof enc->error, "%s", tc_error());
        enc->failed = 1;
    }
    atomic_store(&enc->next_batch, enc->n_batches);  // the others stop taking batches
    pthread_mutex_unlock(&enc->lock);
}

static void scatter(tc_encoder *enc, worker *w, int batch, int B) {
    size_t D = (size_t)enc->D, first = (size_t)batch * (size_t)enc->opt.batch_size;
    for (int b = 0; b < B; b++)
        memcpy(enc->window->out + (size_t)enc->order[first + (size_t)b] * D, w->out + (size_t)b * D, D * sizeof(float));
}

static int batch_rows(tc_encoder *enc, int batch) {
    size_t first = (size_t)batch * (size_t)enc->opt.batch_size, n = enc->window->n;
    return (int)(n - first < (size_t)enc->opt.batch_size ? n - first : (size_t)enc->opt.batch_size);
}

// Runs batches of the current window until none is left; two in flight.
static int run_window(tc_encoder *enc, worker *w) {
    const tc_encoder_window *win = enc->window;
    int pending = -1;
    for (;;) {
        int k = atomic_fetch_add(&enc->next_batch, 1);
        if (k >= enc->n_batches) break;
        int B = batch_rows(enc, k);
        size_t first = (size_t)k * (size_t)enc->opt.batch_size;
        for (int b = 0; b < B; b++) {
            uint32_t row = enc->order[first + (size_t)b];
            w->rows[b] = win->rows[row];
            w->lengths[b] = win->lengths[row];
        }
        if (tc_bert_forward_submit(w->fw, w->rows, NULL, w->lengths, B)) return -1;
        if (pending >= 0) {
            if (tc_bert_forward_collect(w->fw, w->out)) return -1;
            scatter(enc, w, pending, batch_rows(enc, pending));
        }
        pending = k;
    }
    if (pending >= 0) {
        if (tc_bert_forward_collect(w->fw, w->out)) return -1;
        scatter(enc, w, pending, batch_rows(enc, pending));
    }
    return 0;
}

static int setup_worker(tc_encoder *enc, worker *w) {
    const tc_encoder_options *o = &enc->opt;
    if (w->gpu >= 0) {
#if TC_HAVE_CUDA
        w->be = tc_backend_cuda_create(w->gpu, o->precision);
#else
        tc_fail("this build has no CUDA backend");
#endif
    } else {
        w->be = tc_backend_cpu_create_precision(o->threads, o->precision);
    }
    if (!w->be) return -1;
    tc_bert_run_options run = {.max_batch = o->batch_size, .max_tokens = o->batch_size * o->max_len,
                               .max_len = o->max_len, .pooling = o->pooling, .normalize = o->normalize};
    w->rows = tc_calloc((size_t)o->batch_size, sizeof *w->rows);
    w->lengths = tc_calloc((size_t)o->batch_size, sizeof *w->lengths);
    w->out = tc_malloc_array((size_t)o->batch_size * (size_t)enc->D, sizeof(float));
    if (!w->rows || !w->lengths || !w->out) return -1;
    return tc_bert_forward_create(&w->fw, w->be, enc->model, &run);
}

static void teardown_worker(worker *w) {
    tc_bert_forward_free(w->fw);
    tc_backend_destroy(w->be);
    free(w->rows);
    free(w->lengths);
    free(w->out);
    w->fw = NULL;
    w->be = NULL;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    tc_encoder *enc = w->enc;
    if (setup_worker(enc, w)) record_failure(enc, w);
    pthread_mutex_lock(&enc->lock);
    enc->setting_up--;
    pthread_cond_broadcast(&enc->done);
    unsigned long seen = 0;
    for (;;) {
        while (!enc->stop && enc->generation == seen) pthread_cond_wait(&enc->wake, &enc->lock);
        if (enc->stop) break;
        seen = enc->generation;
        pthread_mutex_unlock(&enc->lock);
        if (run_window(enc, w)) record_failure(enc, w);
        pthread_mutex_lock(&enc->lock);
        if (--enc->busy == 0) pthread_cond_broadcast(&enc->done);
    }
    pthread_mutex_unlock(&enc->lock);
    teardown_worker(w);
    return NULL;
}

int tc_encoder_create(tc_encoder **out, const tc_bert_model *model, const tc_encoder_options *opt) {
    *out = NULL;
    if (opt->batch_size < 1 || opt->max_len < 1)
        return tc_fail("batch size %d and length %d must be positive", opt->batch_size, opt->max_len);
    tc_encoder *enc = tc_calloc(1, sizeof *enc);
    if (!enc) return -1;
    enc->model = model;
    enc->opt = *opt;
    enc->D = model->cfg.hidden;
    enc->n_workers = opt->devices.n_gpus > 0 ? opt->devices.n_gpus : 1;
    pthread_mutex_init(&enc->lock, NULL);
    pthread_cond_init(&enc->wake, NULL);
    pthread_cond_init(&enc->done, NULL);
    enc->workers = tc_calloc((size_t)enc->n_workers, sizeof *enc->workers);
    if (!enc->workers) {
        tc_encoder_free(enc);
        return -1;
    }
    pthread_mutex_lock(&enc->lock);
    for (int i = 0; i < enc->n_workers; i++) {
        worker *w = &enc->workers[i];
        w->enc = enc;
        w->gpu = opt->devices.n_gpus > 0 ? opt->devices.gpus[i] : -1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            enc->failed = 1;
            snprintf(enc->error, sizeof enc->error, "cannot start a worker thread");
            break;
        }
        w->started = 1;
        enc->setting_up++;
    }
    while (enc->setting_up > 0) pthread_cond_wait(&enc->done, &enc->lock);
    int failed = enc->failed;
    pthread_mutex_unlock(&enc->lock);
    if (failed) {
        tc_error_set(enc->error);
        tc_encoder_free(enc);
        return -1;
    }
    *out = enc;
    return 0;
}

void tc_encoder_free(tc_encoder *enc) {
    if (!enc) return;
    pthread_mutex_lock(&enc->lock);
    enc->stop = 1;
    pthread_cond_broadcast(&enc->wake);
    pthread_mutex_unlock(&enc->lock);
    for (int i = 0; enc->workers && i < enc->n_workers; i++)
        if (enc->workers[i].started) pthread_join(enc->workers[i].thread, NULL);
    pthread_mutex_destroy(&enc->lock);
    pthread_cond_destroy(&enc->wake);
    pthread_cond_destroy(&enc->done);
    free(enc->workers);
    free(enc->order);
    free(enc);
}

int tc_encoder_dim(const tc_encoder *enc) { return enc->D; }
int tc_encoder_workers(const tc_encoder *enc) { return enc->n_workers; }

int tc_encoder_start(tc_encoder *enc, const tc_encoder_window *window) {
    pthread_mutex_lock(&enc->lock);
    int busy = enc->busy;
    pthread_mutex_unlock(&enc->lock);
    if (busy) return tc_fail("a window is still being encoded");
    for (size_t i = 0; i < window->n; i++)
        if (window->lengths[i] < 1 || window->lengths[i] > enc->opt.max_len)
            return tc_fail("row %zu has %d tokens (1..%d)", i, window->lengths[i], enc->opt.max_len);
    if (window->n > enc->order_cap) {
        uint32_t *p = tc_realloc(enc->order, window->n * sizeof *p);
        if (!p) return -1;
        enc->order = p;
        enc->order_cap = window->n;
    }
    tc_encoder_order(window->lengths, window->n, enc->opt.max_len, enc->order);
    pthread_mutex_lock(&enc->lock);
    enc->window = window;
    enc->n_batches = (int)((window->n + (size_t)enc->opt.batch_size - 1) / (size_t)enc->opt.batch_size);
    atomic_store(&enc->next_batch, 0);
    enc->busy = enc->n_workers;
    enc->generation++;
    pthread_cond_broadcast(&enc->wake);
    pthread_mutex_unlock(&enc->lock);
    return 0;
}

int tc_encoder_finish(tc_encoder *enc) {
    pthread_mutex_lock(&enc->lock);
    while (enc->busy > 0) pthread_cond_wait(&enc->done, &enc->lock);
    int failed = enc->failed;
    pthread_mutex_unlock(&enc->lock);
    if (failed) {
        tc_error_set(enc->error);
        return -1;
    }
    return 0;
}
