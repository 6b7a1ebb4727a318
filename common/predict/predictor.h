// Class scores of documents from a tc-train checkpoint (common/model/checkpoint.h),
// on the CPU or on GPUs: the inference half of the TELEClass classifier
// (common/model/classifier.h),
//   score(d, c) = doc(d) . W . e_c
// a logit: the probability of class c is sigmoid(score).
//
// doc(d) comes from the encoder engine (common/model/encoder.h): windows of rows
// cut into length-sorted batches, one worker per device, row order kept.
// Pooling, normalization and the truncation length are the checkpoint's
// (classifier.json). The head is two matrix products on the host with the
// CPU backend's matmul, the operation tc-train's classifier runs, so on the
// CPU the scores are the ones tc_classifier_scores computes for the same
// weights; on GPUs only doc(d) is computed there (the head is a few hundred
// thousand operations per document against billions for the encoder).
#ifndef TC_PREDICTOR_H
#define TC_PREDICTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/model/bert_model.h"
#include "common/comm/devices.h"

// A checkpoint loaded for inference.
typedef struct {
    char *dir;
    tc_bert_model model;    // config.json, vocab.txt, model.safetensors
    tc_pooling pooling;     // classifier.json
    int normalize;
    int max_len;            // the length tc-train truncated to (at most the model's positions)
    int C, D, K;            // document vector, class vector, classes
    float *Wt;              // (D, C) W transposed, as the classifier keeps it
    float *E;               // (K, D) class vectors
    char **class_names;     // [K]
} tc_predictor_model;

// Loads DIR (a checkpoint directory: classifier.json, head.safetensors and
// the encoder). Errors are one line naming the file: not a checkpoint, a
// format version this build does not know, sizes that disagree between
// classifier.json, config.json and head.safetensors.
int tc_predictor_model_load(tc_predictor_model *pm, const char *dir);
void tc_predictor_model_free(tc_predictor_model *pm);

typedef struct {
    int batch_size;          // sequences per batch
    int max_len;             // longest row that will come (<= the model's positions)
    size_t max_rows;         // rows per window at most
    tct_dtype precision;     // GPU compute type (the CPU: f32)
    int threads;             // CPU threads (0: all cores)
    tc_devices devices;      // GPUs; none: the CPU
} tc_predictor_options;

typedef struct tc_predictor tc_predictor;

int tc_predictor_create(tc_predictor **p, const tc_predictor_model *pm, const tc_predictor_options *opt);
void tc_predictor_free(tc_predictor *p);
int tc_predictor_workers(const tc_predictor *p);

// Begins encoding n rows (rows[i]: lengths[i] token ids; the arrays stay
// valid until the wait) and returns; the devices encode while the caller
// reads on.
int tc_predictor_start(tc_predictor *p, size_t n, const int32_t *const *rows, const int32_t *lengths);
// Waits for the rows started last. Their document vectors are kept (two
// buffers take turns) while the next rows are started, so that the head and
// the writing of one window overlap the encoding of the next:
//   start(w0); wait; start(w1); head(w0's scores); wait; start(w2); head(w1's) ...
int tc_predictor_wait(tc_predictor *p);
// The scores (n, K), in row order, of the rows waited for last.
int tc_predictor_head(tc_predictor *p, float *scores);
// wait, then head.
int tc_predictor_finish(tc_predictor *p, float *scores);

#endif
