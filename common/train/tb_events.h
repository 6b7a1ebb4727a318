// TensorBoard event files of a training run, written in C: the metrics log's
// numbers (common/train/train_log.h) as scalar summaries by step, so that
// `tensorboard --logdir DIR` shows them while the run goes on.
//
// A file DIR/events.out.tfevents.SECONDS.HOST.PID is a sequence of TFRecord
// records, each
//   uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)
// (little-endian; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8, CRC32C
// the Castagnoli polynomial), data a tensorflow.Event protocol buffer
// encoded by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// The first record holds file_version "brain.Event:2"; each log line then
// gives one record, its numbers (all but "step") as values tagged with their
// log.jsonl keys: loss, lr, grad_norm, tokens_per_s, docs_per_s, loss_scale,
// val_loss, ... Records are flushed as they are written.
#ifndef TC_TB_EVENTS_H
#define TC_TB_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef struct {
    FILE *f;
    char path[4096];
} tc_tb_events;

// CRC-32C (Castagnoli) of n bytes, and its TFRecord mask.
uint32_t tc_crc32c(const void *data, size_t n);
static inline uint32_t tc_crc32c_masked(const void *data, size_t n) {
    uint32_t c = tc_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

// Creates DIR (one level) when missing and a new event file in it.
int tc_tb_events_open(tc_tb_events *ev, const char *dir);
// One record of the line's numbers (but "step") at its "step".
int tc_tb_events_write(tc_tb_events *ev, json_t *line);
int tc_tb_events_close(tc_tb_events *ev);

#endif
