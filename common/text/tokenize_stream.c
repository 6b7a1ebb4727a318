#include "common/text/tokenize_stream.h"
#include "common/error.h"
#include "common/cli/io.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_DOCS = 16 };  // documents a thread takes at a time

// ---------------------------------------------------------------- batches

enum { READ_BLOCK = 1 << 20 };  // bytes read at a time

// The documents of a batch point into its arena: the input bytes as read,
// lines and all, so a document is never copied. With --no-ids the ids are
// numbers written to `numbers`.
typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    char *numbers;               // [cap * 24]
    size_t *id_at, *text_at;     // offsets into arena (ids: into numbers with --no-ids)
    uint32_t *id_len;
    size_t *text_len;
    const char **id_ptr;         // for the string writer, filled before writing
    size_t n, cap;
    int32_t *ids;                // [cap, max_len]
    int32_t *lengths;            // [cap]
    uint64_t bytes;              // input bytes of the documents, newlines included
    uint64_t cut;                // documents cut to the longest line kept
} batch;

static void batch_free(batch *b) {
    free(b->arena);
    free(b->numbers);
    free(b->id_at);
    free(b->text_at);
    free(b->id_len);
    free(b->text_len);
    free(b->id_ptr);
    free(b->ids);
    free(b->lengths);
    memset(b, 0, sizeof *b);
}

static int batch_init(batch *b, size_t docs, int max_len) {
    memset(b, 0, sizeof *b);
    b->cap = docs;
    b->numbers = tc_malloc_array(docs, 24);
    b->id_at = tc_malloc_array(docs, sizeof *b->id_at);
    b->text_at = tc_malloc_array(docs, sizeof *b->text_at);
    b->id_len = tc_malloc_array(docs, sizeof *b->id_len);
    b->text_len = tc_malloc_array(docs, sizeof *b->text_len);
    b->id_ptr = tc_malloc_array(docs, sizeof *b->id_ptr);
    b->ids = tc_malloc_array(docs * (size_t)max_len, sizeof *b->ids);
    b->lengths = tc_malloc_array(docs, sizeof *b->lengths);
    if (!b->numbers || !b->id_at || !b->text_at || !b->id_len || !b->text_len || !b->id_ptr || !b->ids ||
        !b->lengths) {
        batch_free(b);
        return -1;
    }
    return 0;
}

static int arena_reserve(batch *b, size_t more) {
    if (b->arena_len + more <= b->arena_cap) return 0;
    size_t cap = b->arena_cap ? b->arena_cap : 2 * READ_BLOCK;
    while (cap < b->arena_len + more) cap *= 2;
    char *grown = tc_realloc(b->arena, cap);
    if (!grown) return -1;
    b->arena = grown;
    b->arena_cap = cap;
    return 0;
}

typedef struct {
    FILE *in;
    const char *where;
    char *carry;        // the start of a line the last batch read but did not take
    size_t carry_len, carry_cap;
    int eof;
    uint64_t line_no;   // lines taken so far
    int no_ids;
    size_t max_line;    // longer lines are cut to this many bytes
} line_reader;

// Takes the line at arena[at, at + len) (newline excluded) as a document;
// 0, or -1 with the error naming the line. A trailing \r is dropped; a line
// longer than r->max_line is cut (`cut`: it was already) as
// tc_read_document_line cuts it, so that every reader of a corpus sees the
// same documents.
static int add_line(batch *b, line_reader *r, size_t at, size_t len, int cut) {
    r->line_no++;
    b->bytes += len + 1;
    const char *line = b->arena + at;
    if (!cut && len > 0 && len - 1 <= r->max_line && line[len - 1] == '\r') {
        len--;
    } else if (len > r->max_line) {
        len = tc_utf8_cut(line, len, r->max_line);
        cut = 1;
    }
    b->cut += (uint64_t)cut;
    size_t id_at, id_len, text_at = at, text_len = len;
    if (r->no_ids) {
        id_at = b->n * 24;
        id_len = (size_t)snprintf(b->numbers + id_at, 24, "%" PRIu64, r->line_no - 1);
    } else {
        const char *tab = memchr(line, '\t', len);
        if (!tab)
            return cut ? tc_fail("%s: line %" PRIu64 ": no tab between id and text in the line's first %zu bytes",
                                 r->where, r->line_no, r->max_line)
                       : tc_fail("%s: line %" PRIu64 ": no tab between id and text", r->where, r->line_no);
        id_at = at;
        id_len = (size_t)(tab - line);
        text_at = at + id_len + 1;
        text_len = len - id_len - 1;
        if (!tct_utf8_valid(line, id_len))
            return tc_fail("%s: line %" PRIu64 ": the document id is not valid UTF-8", r->where, r->line_no);
        if (id_len > UINT32_MAX) return tc_fail("%s: line %" PRIu64 ": the document id is too long", r->where, r->line_no);
    }
    b->id_at[b->n] = id_at;
    b->id_len[b->n] = (uint32_t)id_len;
    b->text_at[b->n] = text_at;
    b->text_len[b->n] = text_len;
    b->n++;
    return 0;
}

static int read_block(batch *b, line_reader *r) {
    if (arena_reserve(b, READ_BLOCK)) return -1;
    size_t got = fread(b->arena + b->arena_len, 1, READ_BLOCK, r->in);
    b->arena_len += got;
    if (got < READ_BLOCK) {
        if (ferror(r->in)) return tc_fail("%s: read failed", r->where);
        r->eof = 1;
    }
    return 0;
}

// The line at arena[at, arena_len) is longer than r->max_line + 1 and its end is
// not read yet: takes its first max_line bytes (whole characters) and reads
// past the rest without storing it, so that a line without end costs a
// block of memory, not its length. What follows the line's newline is
// moved up behind the bytes kept; *len is their count.
static int take_long_line(batch *b, line_reader *r, size_t at, size_t *len) {
    size_t keep = tc_utf8_cut(b->arena + at, b->arena_len - at, r->max_line);
    uint64_t skipped = b->arena_len - at - keep;
    int newline = 0;
    b->arena_len = at + keep;
    while (!newline && !r->eof) {
        size_t from = b->arena_len;
        if (read_block(b, r)) return -1;
        char *nl = memchr(b->arena + from, '\n', b->arena_len - from);
        size_t past = nl ? (size_t)(nl - (b->arena + from)) : b->arena_len - from;
        skipped += past;
        if (nl) {
            newline = 1;
            memmove(b->arena + from, nl + 1, b->arena_len - from - past - 1);
            b->arena_len -= past + 1;
        } else {
            b->arena_len = from;
        }
    }
    if (add_line(b, r, at, keep, 1)) return -1;
    b->bytes += skipped;
    if (!newline) b->bytes--;  // add_line counted one
    *len = keep;
    return 0;
}

// Fills b with the next documents (lines split at \n, as tc_read_line
// reads them); returns how many (0 at the end), -1 on error.
static int64_t read_batch(batch *b, line_reader *r, size_t max_bytes) {
    b->n = 0;
    b->bytes = 0;
    b->cut = 0;
    b->arena_len = 0;
    if (arena_reserve(b, r->carry_len + 1)) return -1;  // never NULL, even for empty input
    if (r->carry_len) memcpy(b->arena, r->carry, r->carry_len);
    b->arena_len = r->carry_len;
    size_t taken = 0;  // bytes of the lines taken
    for (;;) {
        while (b->n < b->cap && (b->n == 0 || taken < max_bytes)) {
            const char *nl = memchr(b->arena + taken, '\n', b->arena_len - taken);
            if (!nl) break;
            size_t len = (size_t)(nl - (b->arena + taken));
            if (add_line(b, r, taken, len, 0)) return -1;
            taken += len + 1;
        }
        if (b->n == b->cap || (b->n > 0 && taken >= max_bytes)) break;
        if (b->arena_len - taken > r->max_line + 1) {  // too long even if a CR ends it
            size_t len;
            if (take_long_line(b, r, taken, &len)) return -1;
            taken += len;
            continue;
        }
        if (r->eof) {
            if (taken < b->arena_len) {  // a last line without a newline
                if (add_line(b, r, taken, b->arena_len - taken, 0)) return -1;
                b->bytes--;
                taken = b->arena_len;
            }
            break;
        }
        if (read_block(b, r)) return -1;
    }
    // what the batch did not take starts the next one
    size_t rest = b->arena_len - taken;
    if (rest > r->carry_cap) {
        char *grown = tc_realloc(r->carry, rest);
        if (!grown) return -1;
        r->carry = grown;
        r->carry_cap = rest;
    }
    if (rest) memcpy(r->carry, b->arena + taken, rest);
    r->carry_len = rest;
    return (int64_t)b->n;
}

// ---------------------------------------------------------------- tokenizing threads

typedef struct {
    const tc_wordpiece *wp;
    int max_len;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    unsigned generation;   // bumped for each batch handed out
    int stop;
    int busy;              // threads still on the current batch
    batch *work;
    atomic_size_t next;    // next document to take
    int n_threads;
    pthread_t *threads;
    tc_wordpiece_scratch **scratch;
} pool;

typedef struct {
    pool *p;
    int index;
} worker_arg;

static void tokenize_range(const tc_wordpiece *wp, tc_wordpiece_scratch *s, batch *b, size_t from, size_t to,
                           int max_len) {
    for (size_t i = from; i < to; i++)
        b->lengths[i] = tc_wordpiece_encode(wp, s, b->arena + b->text_at[i], b->text_len[i],
                                            b->ids + i * (size_t)max_len, max_len);
}

static void drain(pool *p, tc_wordpiece_scratch *s) {
    batch *b = p->work;
    size_t i;
    while ((i = atomic_fetch_add(&p->next, CHUNK_DOCS)) < b->n)
        tokenize_range(p->wp, s, b, i, i + CHUNK_DOCS < b->n ? i + CHUNK_DOCS : b->n, p->max_len);
}

static void *worker(void *arg) {
    worker_arg *a = arg;
    pool *p = a->p;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->generation == seen && !p->stop) pthread_cond_wait(&p->go, &p->lock);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        drain(p, p->scratch[a->index]);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

static void pool_start(pool *p, batch *b) {
    if (p->n_threads == 0) {  // one thread: tokenize right here
        tokenize_range(p->wp, p->scratch[0], b, 0, b->n, p->max_len);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->work = b;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
}

static void pool_wait(pool *p) {
    if (p->n_threads == 0) return;
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

static void pool_stop(pool *p, worker_arg *args) {
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    for (int i = 0; i < (p->n_threads ? p->n_threads : 1); i++) tc_wordpiece_scratch_free(p->scratch[i]);
    free(p->scratch);
    free(p->threads);
    free(args);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
}

// threads == 1: no threads, the caller tokenizes (an honest single thread).
static int pool_init(pool *p, worker_arg **args, const tc_wordpiece *wp, int max_len, int threads) {
    memset(p, 0, sizeof *p);
    p->wp = wp;
    p->max_len = max_len;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    int n = threads > 1 ? threads : 0, scratches = n ? n : 1;
    p->scratch = tc_calloc((size_t)scratches, sizeof *p->scratch);
    p->threads = tc_calloc((size_t)scratches, sizeof *p->threads);
    *args = tc_calloc((size_t)scratches, sizeof **args);
    int rc = p->scratch && p->threads && *args ? 0 : -1;
    for (int i = 0; rc == 0 && i < scratches; i++)
        if (!(p->scratch[i] = tc_wordpiece_scratch_new())) rc = -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        (*args)[i] = (worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker, &(*args)[i])) rc = tc_fail("cannot start a thread");
        else p->n_threads++;
    }
    if (rc) pool_stop(p, *args);
    return rc;
}

// ---------------------------------------------------------------- output

typedef struct {
    int doc_ids, input_ids, lengths;
} tensor_ids;

static int begin_tensors(tct_writer *w, const tc_wordpiece *wp, int max_len, tensor_ids *t) {
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    char vocab_size[32], len[16], pad[16], cls[16], sep[16], unk[16];
    snprintf(vocab_size, sizeof vocab_size, "%zu", info->vocab_size);
    snprintf(len, sizeof len, "%d", max_len);
    snprintf(pad, sizeof pad, "%d", (int)info->pad_id);
    snprintf(cls, sizeof cls, "%d", (int)info->cls_id);
    snprintf(sep, sizeof sep, "%d", (int)info->sep_id);
    snprintf(unk, sizeof unk, "%d", (int)info->unk_id);
    tct_attr attrs[] = {
        {"vocab_fingerprint", info->fingerprint},
        {"vocab_size", vocab_size},
        {"max_len", len},
        {"pad_id", pad},
        {"cls_id", cls},
        {"sep_id", sep},
        {"unk_id", unk},
        {"lowercase", info->mode.lowercase ? "true" : "false"},
        {"strip_accents", info->mode.strip_accents ? "true" : "false"},
        {"chinese_chars", info->mode.chinese_chars ? "true" : "false"},
    };
    uint64_t rows[1] = {TCT_ROWS_UNKNOWN}, matrix[2] = {TCT_ROWS_UNKNOWN, (uint64_t)max_len};
    t->doc_ids = tct_writer_begin(w, "doc_ids", TCT_STR, 1, rows, NULL, 0);
    t->input_ids = tct_writer_begin(w, "input_ids", TCT_I32, 2, matrix, attrs, sizeof attrs / sizeof *attrs);
    t->lengths = tct_writer_begin(w, "lengths", TCT_I32, 1, rows, NULL, 0);
    return t->doc_ids < 0 || t->input_ids < 0 || t->lengths < 0 ? -1 : 0;
}

static int write_batch(tct_writer *w, const tensor_ids *t, batch *b, tc_tokenize_counts *counts, int max_len,
                       int no_ids) {
    const char *id_base = no_ids ? b->numbers : b->arena;
    for (size_t i = 0; i < b->n; i++) {
        b->id_ptr[i] = id_base + b->id_at[i];
        counts->tokens += (uint64_t)b->lengths[i];
        counts->full += b->lengths[i] == max_len;
    }
    counts->docs += b->n;
    counts->bytes += b->bytes;
    counts->cut += b->cut;
    if (tct_writer_append_strings(w, t->doc_ids, b->id_ptr, b->id_len, b->n) ||
        tct_writer_append(w, t->input_ids, b->ids, b->n) || tct_writer_append(w, t->lengths, b->lengths, b->n))
        return -1;
    return tct_writer_flush(w);
}

// ---------------------------------------------------------------- the stream

int tc_tokenize_stream(const tc_wordpiece *wp, FILE *in, const char *where, tc_tokenize_open_fn *open,
                       void *context, const tc_tokenize_options *options, tc_progress *progress,
                       tc_tokenize_counts *counts) {
    memset(counts, 0, sizeof *counts);
    int max_len = options->max_len;
    if (max_len < 2) return tc_fail("max_len %d: at least 2 ([CLS] and [SEP])", max_len);
    size_t docs = options->batch_docs ? options->batch_docs : 4096;
    size_t bytes = options->batch_bytes ? options->batch_bytes : (size_t)16 << 20;
    tensor_ids t;
    tct_writer *writer = NULL;
    batch batches[2];
    if (batch_init(&batches[0], docs, max_len)) return -1;
    if (batch_init(&batches[1], docs, max_len)) {
        batch_free(&batches[0]);
        return -1;
    }
    pool p;
    worker_arg *args = NULL;
    if (pool_init(&p, &args, wp, max_len, options->threads)) {
        batch_free(&batches[0]);
        batch_free(&batches[1]);
        return -1;
    }
    line_reader r = {in, where, NULL, 0, 0, 0, 0, options->no_ids,
                     options->max_line_bytes ? options->max_line_bytes : TC_LINE_MAX};
    int rc = 0, cur = 0;
    int64_t n = read_batch(&batches[cur], &r, bytes);
    if (n < 0 || open(context, &writer) || begin_tensors(writer, wp, max_len, &t)) rc = -1;
    else if (n > 0) pool_start(&p, &batches[cur]);
    while (rc == 0 && n > 0) {
        // the threads tokenize batches[cur] while this thread reads the next
        int64_t next = read_batch(&batches[!cur], &r, bytes);
        pool_wait(&p);
        if (next < 0) {
            rc = -1;
            break;
        }
        if (next > 0) pool_start(&p, &batches[!cur]);
        // ... and writes this one while they tokenize the next
        if (write_batch(writer, &t, &batches[cur], counts, max_len, options->no_ids)) rc = -1;
        if (progress) tc_progress_update(progress, counts->docs);
        if (rc) pool_wait(&p);
        cur = !cur;
        n = next;
    }
    pool_stop(&p, args);
    free(r.carry);
    batch_free(&batches[0]);
    batch_free(&batches[1]);
    if (rc) return -1;
    if (tct_writer_end(writer, t.doc_ids) || tct_writer_end(writer, t.input_ids) || tct_writer_end(writer, t.lengths))
        return -1;
    return 0;
}
