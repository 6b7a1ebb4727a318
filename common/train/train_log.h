// The metrics log of a training run: JSON lines, one object per logged step
//   {"step": 12, "epoch": 0, "loss": 0.61, "lr": 4.1e-05, "grad_norm": 1.9,
//    "docs": 64, "tokens": 7893, "tokens_per_s": 2100.5, "docs_per_s": 17.0,
//    "cpu_s": 7.4}
// (cpu_s: the step's CPU seconds on rank 0, all threads: throughput per
// CPU second does not depend on what else the machine runs)
// and one per validation
//   {"step": 40, "epoch": 1, "val_loss": 0.48, "val_p_at_1": 0.71,
//    "val_example_f1": 0.64, "val_docs": 100, "best": true}
// appended and flushed as the run goes. A resumed run first drops the lines
// past its checkpoint's step (left by the interrupted run), so the log reads
// as one run. tc_train_log_plot draws it with gnuplot.
#ifndef TC_TRAIN_LOG_H
#define TC_TRAIN_LOG_H

#include <stdio.h>

#include <jansson.h>

#include "common/train/tb_events.h"

typedef struct {
    FILE *f;
    const char *path;
    tc_tb_events tb;  // TensorBoard's copy of every line (tc_train_log_tensorboard), f NULL: none
} tc_train_log;

// Opens the log for appending; keep_through_step >= 0 first drops the lines
// whose "step" is larger (rewriting the file atomically); < 0 starts it afresh.
int tc_train_log_open(tc_train_log *log, const char *path, long keep_through_step);
// Writes obj as one line and flushes; takes the reference to obj.
int tc_train_log_write(tc_train_log *log, json_t *obj);
int tc_train_log_close(tc_train_log *log);

// From now on, every line's numbers also go to a new TensorBoard event file
// in dir (common/train/tb_events.h), tagged with their keys.
int tc_train_log_tensorboard(tc_train_log *log, const char *dir);

// Draws training loss, validation loss and the learning rate against the
// step into a PNG with gnuplot. Errors name the log or gnuplot's complaint.
int tc_train_log_plot(const char *log_path, const char *png_path);

#endif
