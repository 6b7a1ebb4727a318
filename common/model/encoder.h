// Sentence embeddings of many sequences on the CPU or on several GPUs: the
// engine of tc-encode (and of tc-predict's encoder later).
//
// Work comes in windows of rows. Inside a window the rows are ordered by
// length (longest first) and cut into batches of batch_size sequences, so a
// batch holds sequences of similar length; the embeddings go back to the
// window's own row order. One worker thread per device (the CPU, or each
// listed GPU with its own stream) takes the next batch until the window is
// done, keeping two batches in flight so that host work overlaps the GPU's.
// start() returns at once, so the caller reads the next window and writes
// the last one while the devices compute.
#ifndef TC_ENCODER_H
#define TC_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "common/model/bert_model.h"
#include "common/comm/devices.h"

typedef struct {
    int batch_size;          // sequences per batch
    int max_len;             // longest sequence accepted (<= the model's positions)
    tc_pooling pooling;
    int normalize;
    tct_dtype precision;     // products in TCT_F32, TCT_BF16, TCT_F16 (GPUs) or TCT_I8 (the CPU): tc_precision_select
    int threads;             // CPU threads (0: all cores)
    tc_devices devices;      // GPUs; none: the CPU
} tc_encoder_options;

typedef struct {
    size_t n;                     // rows
    const int32_t *const *rows;   // rows[i]: lengths[i] token ids
    const int32_t *lengths;       // (n)
    float *out;                   // (n, D) embeddings, in row order
} tc_encoder_window;

typedef struct tc_encoder tc_encoder;

// Starts the workers; each sets up its device (weights, buffers) before
// this returns. Errors name the device.
int tc_encoder_create(tc_encoder **enc, const tc_bert_model *model, const tc_encoder_options *opt);
void tc_encoder_free(tc_encoder *enc);
int tc_encoder_dim(const tc_encoder *enc);   // D
int tc_encoder_workers(const tc_encoder *enc);

// Begins a window (its arrays must stay valid until finish) and returns.
int tc_encoder_start(tc_encoder *enc, const tc_encoder_window *window);
// Waits for the window; -1 with the first worker's error.
int tc_encoder_finish(tc_encoder *enc);

// The longest-first order of n rows by length (stable), for tests.
void tc_encoder_order(const int32_t *lengths, size_t n, int max_len, uint32_t *order);

#endif
