// One pass over the corpus gathering term statistics per class, and the
// embeddings of candidate terms (see enrich_stats.h).
#include "common/taxonomy/enrich_stats.h"
#include "common/embeddings/embedding_stream.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/cli/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// (class, word) -> tf, df; open addressing, key 0 = empty.
typedef struct {
    uint64_t key;
    int64_t tf, df;
} stat_slot;

typedef struct {
    stat_slot *slots;
    size_t cap, n;
} stat_map;

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static stat_slot *stat_slot_of(stat_map *m, uint64_t key) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1 << 16;
        stat_slot *s = tc_calloc(cap, sizeof *s);
        if (!s) return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key) continue;
            size_t at = (size_t)mix(m->slots[i].key) & (cap - 1);
            while (s[at].key) at = (at + 1) & (cap - 1);
            s[at] = m->slots[i];
        }
        free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    size_t at = (size_t)mix(key) & (m->cap - 1);
    while (m->slots[at].key && m->slots[at].key != key) at = (at + 1) & (m->cap - 1);
    if (!m->slots[at].key) {
        m->slots[at].key = key;
        m->n++;
    }
    return &m->slots[at];
}

// ---------------------------------------------------------------- word lists

typedef struct {
    const char **start;
    size_t *len;
    size_t n, cap;
    int failed;
} word_list;

static void collect_word(const char *start, size_t len, void *context) {
    word_list *l = context;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        const char **s = realloc(l->start, cap * sizeof *s);
        size_t *n = s ? realloc(l->len, cap * sizeof *n) : NULL;
        if (s) l->start = s;
        if (!s || !n) {
            l->failed = 1;
            return;
        }
        l->len = n;
        l->cap = cap;
    }
    l->start[l->n] = start;
    l->len[l->n++] = len;
}

// Joins words [i, i+n) with '_' into buf; returns the length or 0 if too long.
static size_t join_words(const word_list *l, size_t i, size_t n, char *buf, size_t size) {
    size_t at = 0;
    for (size_t k = i; k < i + n; k++) {
        if (at + l->len[k] + 2 > size) return 0;
        if (k > i) buf[at++] = '_';
        memcpy(buf + at, l->start[k], l->len[k]);
        at += l->len[k];
    }
    buf[at] = 0;
    return at;
}

static int read_word_file(tc_strindex *set, const char *path, int phrases, double min_score, int max_words,
                          int *longest) {
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    char *line = NULL, key[1024];
    size_t cap = 0;
    long n, line_no = 0;
    int rc = 0;
    word_list words = {0};
    while (rc == 0 && (n = tc_read_text_line(f, &line, &cap, &line_no)) >= 0) {
        char *text = line;
        if (phrases) {
            char *tab = strchr(line, '\t'), *end;
            if (!tab) {
                if (n) rc = tc_fail("%s: line %ld: expected 'score<TAB>phrase'", path, line_no);
                continue;
            }
            errno = 0;
            double score = strtod(line, &end);
            if (errno || end != tab) {
                rc = tc_fail("%s: line %ld: '%.*s' is not a score", path, line_no, (int)(tab - line), line);
                continue;
            }
            if (score < min_score) continue;
            text = tab + 1;
        }
        words.n = 0;
        tc_enrich_words(text, collect_word, &words);
        if (words.failed) rc = tc_fail("out of memory");
        if (rc || !words.n || (int)words.n > max_words) continue;
        size_t len = join_words(&words, 0, words.n, key, sizeof key);
        if (len && tc_strindex_add(set, key, len, NULL) < 0) rc = -1;
        if (len && (int)words.n > *longest) *longest = (int)words.n;
    }
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    free(words.start);
    free(words.len);
    tc_input_close(f);
    return rc;
}

// ---------------------------------------------------------------- the pass

typedef struct {
    const tc_taxonomy *t;
    const tc_enrich_options *o;
    const tc_labels *core;
    enrich_stats *st;
    stat_map map;
    tc_strindex doc_rows;     // core doc id -> row of the core labels
    tc_strindex phrases;      // with a phrase list
    int phrase_words;         // longest phrase on the list
    word_list words;
    int32_t *tokens;
    size_t tokens_cap;
    uint8_t *mark;            // [C] the document's classes
    int32_t *classes;         // [C]
} pass;

static int compare_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

// Tokens of the current document (phrases matched longest first) as word ids.
static int64_t tokenize(pass *p) {
    char key[1024];
    size_t n = 0;
    if (p->tokens_cap < p->words.n) {
        int32_t *t = tc_realloc(p->tokens, p->words.n * sizeof *t);
        if (!t) return -1;
        p->tokens = t;
        p->tokens_cap = p->words.n;
    }
    for (size_t i = 0; i < p->words.n;) {
        size_t take = 1, len = 0;
        for (size_t w = (size_t)p->phrase_words; w >= 2 && take == 1; w--) {
            if (i + w > p->words.n) continue;
            len = join_words(&p->words, i, w, key, sizeof key);
            if (len && tc_strindex_find(&p->phrases, key, len) >= 0) take = w;
        }
        if (take == 1) len = join_words(&p->words, i, 1, key, sizeof key);
        int64_t id = tc_strindex_add(&p->st->vocab, key, len, NULL);
        if (id < 0) return -1;
        if (id > INT32_MAX) return tc_fail("more than 2^31 distinct words");
        p->tokens[n++] = (int32_t)id;
        i += take;
    }
    return (int64_t)n;
}

// Adds a document's counts to its classes (core classes and ancestors).
static int count_document(pass *p, int64_t row, char *text) {
    const tc_taxonomy *t = p->t;
    const tc_labels *core = p->core;
    memset(p->mark, 0, (size_t)t->n_classes);
    for (int64_t k = core->offsets[row]; k < core->offsets[row + 1]; k++) {
        p->mark[core->classes[k]] = 1;
        tc_taxonomy_mark_ancestors(t, core->classes[k], p->mark);
    }
    int n_classes = 0;
    for (int c = 0; c < t->n_classes; c++)
        if (p->mark[c]) p->classes[n_classes++] = c;
    if (!n_classes) return 0;
    p->words.n = 0;
    tc_enrich_words(text, collect_word, &p->words);
    if (p->words.failed) return tc_fail("out of memory");
    int64_t n = tokenize(p);
    if (n < 0) return -1;
    qsort(p->tokens, (size_t)n, sizeof *p->tokens, compare_i32);
    enrich_stats *st = p->st;
    st->corpus_docs++;
    for (int k = 0; k < n_classes; k++) {
        int c = p->classes[k];
        st->docs[c]++;
        st->dl[c] += n;
    }
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && p->tokens[j] == p->tokens[i]) j++;
        for (int k = 0; k < n_classes; k++) {
            stat_slot *slot = stat_slot_of(&p->map, ((uint64_t)(p->classes[k] + 1) << 32) | (uint32_t)p->tokens[i]);
            if (!slot) return -1;
            slot->tf += j - i;
            slot->df++;
        }
        i = j;
    }
    return 0;
}

static int read_corpus(pass *p, const tc_cli *cli) {
    const char *path = p->o->corpus;
    FILE *f = tc_input_open(path);
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    long n, line_no = 0;
    int rc = 0;
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", p->core->n_docs);
    int cut;  // a document is its first TC_LINE_MAX bytes, as tc-tokenize keeps them
    while (rc == 0 && (n = tc_read_document_line(f, &line, &cap, &cut)) >= 0) {
        line_no++;
        if (!n) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            rc = tc_fail("%s: line %ld: expected 'id<TAB>text'", path, line_no);
            break;
        }
        int64_t row = tc_strindex_find(&p->doc_rows, line, (size_t)(tab - line));
        if (row >= 0) rc = count_document(p, row, tab + 1);
        if ((line_no & 255) == 0) tc_progress_update(&progress, (uint64_t)p->st->corpus_docs);
    }
    tc_progress_update(&progress, (uint64_t)p->st->corpus_docs);
    tc_progress_finish(&progress);
    if (rc == 0 && n == -2) rc = tc_fail_context("%s: line %ld", path, line_no + 1);
    free(line);
    tc_input_close(f);
    return rc;
}

typedef struct {
    int32_t word;
    int64_t tf, df;
} entry;

static int compare_entry(const void *a, const void *b) { return compare_i32(&((const entry *)a)->word, &((const entry *)b)->word); }

// The map as per-class lists sorted by word; maxdf per class.
static int build_lists(pass *p) {
    enrich_stats *st = p->st;
    int nc = p->t->n_classes;
    size_t total = p->map.n ? p->map.n : 1;
    entry *all = tc_malloc_array(total, sizeof *all);
    int64_t *fill = tc_calloc((size_t)nc + 1, sizeof *fill);
    st->class_offsets = tc_calloc((size_t)nc + 1, sizeof *st->class_offsets);
    st->words = tc_malloc_array(total, sizeof *st->words);
    st->tf = tc_malloc_array(total, sizeof *st->tf);
    st->df = tc_malloc_array(total, sizeof *st->df);
    int rc = all && fill && st->class_offsets && st->words && st->tf && st->df ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < p->map.cap; i++)
        if (p->map.slots[i].key) st->class_offsets[(p->map.slots[i].key >> 32)]++;  // class + 1
    for (int c = 0; rc == 0 && c < nc; c++) st->class_offsets[c + 1] += st->class_offsets[c];
    for (size_t i = 0; rc == 0 && i < p->map.cap; i++) {
        const stat_slot *s = &p->map.slots[i];
        if (!s->key) continue;
        int c = (int)(s->key >> 32) - 1;
        all[st->class_offsets[c] + fill[c]++] = (entry){(int32_t)(s->key & 0xffffffffu), s->tf, s->df};
    }
    for (int c = 0; rc == 0 && c < nc; c++) {
        int64_t a = st->class_offsets[c], b = st->class_offsets[c + 1];
        qsort(all + a, (size_t)(b - a), sizeof *all, compare_entry);
        for (int64_t k = a; k < b; k++) {
            st->words[k] = all[k].word;
            st->tf[k] = all[k].tf;
            st->df[k] = all[k].df;
            if (all[k].df > st->maxdf[c]) st->maxdf[c] = all[k].df;
        }
    }
    free(all);
    free(fill);
    return rc;
}

static int mark_eligible(pass *p, const tc_strindex *stop) {
    enrich_stats *st = p->st;
    st->n_words = st->vocab.n;
    st->eligible = tc_calloc((size_t)(st->n_words ? st->n_words : 1), 1);
    if (!st->eligible) return -1;
    for (int64_t w = 0; w < st->n_words; w++) {
        const char *word = tc_strindex_key(&st->vocab, w);
        size_t len = tc_strindex_key_length(&st->vocab, w);
        int is_stop = stop ? tc_strindex_find(stop, word, len) >= 0 : tc_enrich_builtin_stopword(word);
        int listed = !p->o->phrases || tc_strindex_find(&p->phrases, word, len) >= 0;
        st->eligible[w] = !is_stop && listed;
    }
    return 0;
}

static int index_core(pass *p) {
    for (uint64_t i = 0; i < p->core->n_docs; i++) {
        int added;
        if (tc_strindex_add(&p->doc_rows, p->core->doc_ids[i], strlen(p->core->doc_ids[i]), &added) < 0) return -1;
        if (!added) return tc_fail("core labels: document id '%s' appears twice", p->core->doc_ids[i]);
    }
    return 0;
}

int enrich_stats_collect(enrich_stats *st, const tc_taxonomy *t, const tc_labels *core, const tc_enrich_options *o,
                         const tc_cli *cli) {
    memset(st, 0, sizeof *st);
    pass p = {.t = t, .o = o, .core = core, .st = st, .phrase_words = 1};
    tc_strindex stop;
    int have_stop = 0;
    int rc = tc_strindex_init(&st->vocab) || tc_strindex_init(&p.doc_rows) || tc_strindex_init(&p.phrases) ? -1 : 0;
    st->dl = tc_calloc((size_t)t->n_classes, sizeof *st->dl);
    st->maxdf = tc_calloc((size_t)t->n_classes, sizeof *st->maxdf);
    st->docs = tc_calloc((size_t)t->n_classes, sizeof *st->docs);
    p.mark = tc_malloc((size_t)t->n_classes);
    p.classes = tc_malloc_array((size_t)t->n_classes, sizeof *p.classes);
    if (!st->dl || !st->maxdf || !st->docs || !p.mark || !p.classes) rc = -1;
    if (rc == 0) rc = index_core(&p);
    if (rc == 0 && o->phrases)
        rc = read_word_file(&p.phrases, o->phrases, 1, o->min_phrase_score, o->max_phrase_words, &p.phrase_words);
    if (rc == 0 && o->stopwords) {
        if (tc_strindex_init(&stop)) rc = -1;
        else {
            have_stop = 1;
            int longest = 0;
            rc = read_word_file(&stop, o->stopwords, 0, 0, 1 << 20, &longest);
        }
    }
    if (rc == 0) rc = read_corpus(&p, cli);
    if (rc == 0 && !st->corpus_docs) rc = tc_fail("%s: no document of the corpus has core classes", o->corpus);
    if (rc == 0) rc = mark_eligible(&p, have_stop ? &stop : NULL);
    if (rc == 0) rc = build_lists(&p);
    if (have_stop) tc_strindex_free(&stop);
    tc_strindex_free(&p.doc_rows);
    tc_strindex_free(&p.phrases);
    free(p.map.slots);
    free(p.words.start);
    free(p.words.len);
    free(p.tokens);
    free(p.mark);
    free(p.classes);
    if (rc) enrich_stats_free(st);
    return rc;
}

void enrich_stats_lookup(const enrich_stats *st, int c, int32_t w, int64_t *tf, int64_t *df) {
    int64_t lo = st->class_offsets[c], hi = st->class_offsets[c + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (st->words[mid] < w) lo = mid + 1;
        else hi = mid;
    }
    if (lo < st->class_offsets[c + 1] && st->words[lo] == w) {
        *tf = st->tf[lo];
        *df = st->df[lo];
    } else {
        *tf = *df = 0;
    }
}

const char *enrich_stats_word(const enrich_stats *st, int32_t w) { return tc_strindex_key(&st->vocab, w); }

void enrich_stats_free(enrich_stats *st) {
    tc_strindex_free(&st->vocab);
    free(st->eligible);
    free(st->class_offsets);
    free(st->words);
    free(st->tf);
    free(st->df);
    free(st->dl);
    free(st->maxdf);
    free(st->docs);
    memset(st, 0, sizeof *st);
}

// ---------------------------------------------------------------- embeddings

void enrich_embeddings_free(enrich_embeddings *e) {
    free(e->rows);
    free(e->word_row);
    free(e->class_row);
    memset(e, 0, sizeof *e);
}

// Keys wanted: rows 0..n_used-1 for candidate words in word order, then the class names.
static int wanted_keys(tc_strindex *keys, enrich_embeddings *e, const tc_taxonomy *t, const enrich_stats *st,
                       const uint8_t *used) {
    for (int64_t w = 0; w < st->n_words; w++) {
        e->word_row[w] = -1;
        if (!used[w]) continue;
        const char *word = tc_strindex_key(&st->vocab, w);
        if ((e->word_row[w] = tc_strindex_add(keys, word, strlen(word), NULL)) < 0) return -1;
    }
    for (int c = 0; c < t->n_classes; c++)
        if ((e->class_row[c] = tc_strindex_add(keys, t->names[c], strlen(t->names[c]), NULL)) < 0) return -1;
    return 0;
}

// The rows of the wanted keys, unit length, from an embeddings file.
static int read_embedding_rows(enrich_embeddings *e, const tc_strindex *keys, uint8_t *filled, const char *path) {
    tc_embedding_stream in;
    if (tc_embedding_stream_open(&in, path)) return -1;
    char *const *ids;
    const float *x;
    int64_t got;
    int rc = 0;
    while (rc == 0 && (got = tc_embedding_stream_next(&in, 4096, &ids, &x)) > 0) {
        if (!e->rows) {
            e->dim = (uint64_t)in.d;
            if (!(e->rows = tc_calloc((size_t)(keys->n ? keys->n : 1), (size_t)e->dim * sizeof *e->rows))) rc = -1;
        }
        for (int64_t i = 0; rc == 0 && i < got; i++) {
            int64_t k = tc_strindex_find(keys, ids[i], strlen(ids[i]));
            if (k < 0) continue;
            float *row = e->rows + (uint64_t)k * e->dim;
            const float *src = x + (uint64_t)i * e->dim;
            double norm = 0;
            for (uint64_t d = 0; d < e->dim; d++) norm += (double)src[d] * (double)src[d];
            for (uint64_t d = 0; d < e->dim; d++) row[d] = norm > 0 ? (float)((double)src[d] / sqrt(norm)) : src[d];
            filled[k] = 1;
        }
    }
    if (rc == 0 && got < 0) rc = -1;
    tc_embedding_stream_close(&in);
    return rc;
}

int enrich_embeddings_load(enrich_embeddings *e, const tc_taxonomy *t, const enrich_stats *st, const uint8_t *used,
                           const char *path) {
    memset(e, 0, sizeof *e);
    tc_strindex keys;
    if (tc_strindex_init(&keys)) return -1;
    e->word_row = tc_malloc_array((size_t)(st->n_words ? st->n_words : 1), sizeof *e->word_row);
    e->class_row = tc_malloc_array((size_t)t->n_classes, sizeof *e->class_row);
    int rc = e->word_row && e->class_row ? wanted_keys(&keys, e, t, st, used) : -1;
    uint8_t *filled = rc == 0 ? tc_calloc((size_t)(keys.n ? keys.n : 1), 1) : NULL;
    const char *where = strcmp(path, "-") ? path : "(stdin)";
    if (!filled) rc = -1;
    if (rc == 0) rc = read_embedding_rows(e, &keys, filled, path);
    if (rc == 0 && !e->rows) rc = tc_fail("%s: no embeddings", where);
    for (int64_t k = 0; rc == 0 && k < keys.n; k++)
        if (!filled[k])
            rc = tc_fail("%s: no embedding of '%s' (embed the output of 'tc-taxo candidates' run with the same "
                         "options)",
                         where, tc_strindex_key(&keys, k));
    free(filled);
    tc_strindex_free(&keys);
    if (rc) enrich_embeddings_free(e);
    return rc;
}
