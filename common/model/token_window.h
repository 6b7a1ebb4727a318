// Token rows of a tokens stream (tc-tokenize's doc_ids str[N], input_ids
// i32[N,L], lengths i32[N]) read in windows for a BERT model: tc-encode and
// tc-predict read their input this way.
//
// A window holds its rows' document ids and token ids copied out of the
// reader (packed, without padding), so that the next window can be read
// while the devices work on this one. Memory: the window, not the file.
//
// Every row is checked as it is read: its length within 1..L, its ids within
// the model's vocabulary. A row longer than `max_len` is refused (tc-encode:
// the model has no positions for it) or, with `truncate`, cut to its first
// max_len - 1 tokens plus its last one ([SEP]), as tokenizers and tc-train
// truncate. The columns' dtypes and the vocabulary the tokens were made with
// (vocab_fingerprint, vocab_size on input_ids) are checked once they are
// known. Messages name the file, the row and its document id.
#ifndef TC_TOKEN_WINDOW_H
#define TC_TOKEN_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "common/model/bert_model.h"
#include "formats/tct.h"

typedef struct {
    size_t n;                   // rows in the window
    size_t capacity;            // rows it may hold
    char *id_text;              // doc ids back to back, NUL-terminated
    size_t id_len, id_cap;
    size_t *id_at;              // (capacity) offsets into id_text
    int32_t *ids;               // token ids of all rows, packed
    size_t ids_len, ids_cap;
    int32_t *lengths;           // (capacity)
    const int32_t **rows;       // (capacity) pointers into ids
} tc_token_window;

int tc_token_window_alloc(tc_token_window *w, size_t capacity);
void tc_token_window_free(tc_token_window *w);
static inline const char *tc_token_window_id(const tc_token_window *w, size_t i) { return w->id_text + w->id_at[i]; }

typedef struct {
    tct_reader *reader;
    tct_table *table;
    const tc_bert_model *model;
    const char *where;       // the file in messages
    int max_len;             // the longest row passed on (<= the model's positions)
    int truncate;            // 1: cut longer rows; 0: refuse them
    int width;               // the longest row this stream can yield: min(L, max_len); 0 until known
    uint64_t done;           // rows read so far
    uint64_t total;          // rows in the stream when its header says, else 0
} tc_token_source;

// Starts reading doc_ids, input_ids and lengths from `reader` (not closed
// here). max_len 0: the model's positions.
int tc_token_source_open(tc_token_source *s, tct_reader *reader, const tc_bert_model *model, const char *where,
                         int max_len, int truncate);
void tc_token_source_close(tc_token_source *s);

// Reads the next window of up to w->capacity rows; w->n is 0 at the end.
int tc_token_source_read(tc_token_source *s, tc_token_window *w);

#endif
