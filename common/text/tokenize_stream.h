// A corpus to token tensors, streaming: lines are read in batches,
// tokenized by a pool of threads, and written as row chunks of the tensors
// `doc_ids` str[N], `input_ids` i32[N,L] and `lengths` i32[N] (DESIGN
// section 8) in input order. Memory holds two batches, whatever the corpus
// size: while the threads tokenize one, the calling thread writes the one
// before and reads the next. A line longer than 1 MiB (far more text than
// max_len tokens) is cut there and the rest read past, never held whole.
#ifndef TC_TOKENIZE_STREAM_H
#define TC_TOKENIZE_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "common/cli/progress.h"
#include "common/text/wordpiece.h"
#include "formats/tct.h"

typedef struct {
    int max_len;           // L: tokens per row with [CLS]/[SEP], 2..512
    int no_ids;            // lines are bare text; a document's id is its line number from 0
    int threads;           // tokenizing threads; 1 tokenizes on the calling thread
    size_t batch_docs;     // documents per batch (0: 4096)
    size_t batch_bytes;    // text bytes per batch, at least one document (0: 16 MiB)
    size_t max_line_bytes; // a longer line is cut to this many bytes, the rest skipped unread
                           // (0: TC_LINE_MAX, 1 MiB, as every reader of a corpus cuts it)
} tc_tokenize_options;

typedef struct {
    uint64_t docs;
    uint64_t bytes;        // of input text, newlines included
    uint64_t tokens;       // sum of lengths
    uint64_t full;         // documents that fill all max_len positions (cut, or exactly that long)
    uint64_t cut;          // lines longer than max_line_bytes, cut to it
} tc_tokenize_counts;

// Opens the output; called once the first batch has been read, so that
// input that is wrong from its first line leaves no output at all.
typedef int tc_tokenize_open_fn(void *context, tct_writer **writer);

// Reads `in` (named `where` in messages) to its end and writes the three
// tensors to the writer `open` gives, attributes on input_ids included. Line
// errors name the line, counting from 1: "where: line 7: no tab between id
// and text".
int tc_tokenize_stream(const tc_wordpiece *wp, FILE *in, const char *where, tc_tokenize_open_fn *open,
                       void *context, const tc_tokenize_options *options, tc_progress *progress,
                       tc_tokenize_counts *counts);

#endif
