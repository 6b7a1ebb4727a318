// Corpus-based enrichment: term statistics per class from one pass over the
// corpus, then candidate lists and scores per sibling set (see enrich.h).
#include "common/taxonomy/enrich.h"
#include "common/taxonomy/enrich_stats.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/cli/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void tc_enrich_defaults(tc_enrich_options *o) {
    memset(o, 0, sizeof *o);
    o->min_phrase_score = 0.5;
    o->max_phrase_words = 6;
    o->min_freq = 5;
    o->top_k = 20;
}

// ---------------------------------------------------------------- sibling sets

typedef struct {
    int n_sets;
    int64_t *offsets;   // [n_sets + 1]
    int32_t *members;   // classes of set i: members[offsets[i] .. offsets[i+1])
} sibling_sets;

static int same_set(const int32_t *a, int na, const int32_t *b, int nb) {
    if (na != nb) return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb && !found; j++) found = a[i] == b[j];
        if (!found) return 0;
    }
    return 1;
}

// The top-level classes, then the children of each class with children (in
// id order); a set equal to one already listed is not listed again.
static int build_sibling_sets(const tc_taxonomy *t, sibling_sets *s) {
    s->n_sets = 0;
    s->offsets = tc_malloc_array((size_t)t->n_classes + 2, sizeof *s->offsets);
    s->members = tc_malloc_array((size_t)(t->n_roots + t->n_edges), sizeof *s->members);
    if (!s->offsets || !s->members) return -1;
    s->offsets[0] = 0;
    int64_t used = 0;
    for (int p = -1; p < t->n_classes; p++) {
        const int32_t *kids = p < 0 ? t->roots : t->children + t->child_offsets[p];
        int n = p < 0 ? t->n_roots : t->child_offsets[p + 1] - t->child_offsets[p];
        if (!n) continue;
        int dup = 0;
        for (int i = 0; i < s->n_sets && !dup; i++)
            dup = same_set(s->members + s->offsets[i], (int)(s->offsets[i + 1] - s->offsets[i]), kids, n);
        if (dup) continue;
        memcpy(s->members + used, kids, (size_t)n * sizeof *kids);
        used += n;
        s->offsets[++s->n_sets] = used;
    }
    return 0;
}

// ---------------------------------------------------------------- scoring

typedef struct {
    int32_t word;
    double score;
} scored_term;

typedef struct {
    const tc_taxonomy *t;
    const enrich_stats *st;
    const tc_enrich_options *o;
    const float *unit_rows;       // normalised embeddings, [n_keys, dim]
    const int64_t *word_row;      // per vocab word: its row, or -1
    const int64_t *class_row;     // per class: its name's row
    uint64_t dim;
    // result per class: terms kept so far (intersection over its sets)
    scored_term **terms;
    int *n_terms;
    uint8_t *seen;
} scorer;

static double cosine_clipped(const scorer *sc, int64_t a, int64_t b) {
    if (a < 0 || b < 0) return 0;
    const float *x = sc->unit_rows + (uint64_t)a * sc->dim, *y = sc->unit_rows + (uint64_t)b * sc->dim;
    double dot = 0;
    for (uint64_t d = 0; d < sc->dim; d++) dot += (double)x[d] * (double)y[d];
    return dot > 0 ? dot : 0;
}

static double bm25(int64_t df, int64_t maxdf, int64_t tf, int64_t dl, double avgdl) {
    const double k = 1.2, b = 0.5;
    double ratio = avgdl > 0 ? (double)dl / avgdl : 1.0;
    double score = (double)tf * (k + 1) / ((double)tf + k * (1 - b + b * ratio));
    return maxdf > 0 ? score * log2(1.0 + (double)df) / log2(1.0 + (double)maxdf) : 0.0;
}

static int compare_scored(const void *a, const void *b, const enrich_stats *st) {
    const scored_term *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(enrich_stats_word(st, x->word), enrich_stats_word(st, y->word));
}

static const enrich_stats *sort_stats;  // qsort has no context argument in C11
static int compare_scored_qsort(const void *a, const void *b) { return compare_scored(a, b, sort_stats); }

static void sort_terms(const enrich_stats *st, scored_term *terms, int n) {
    sort_stats = st;
    qsort(terms, (size_t)n, sizeof *terms, compare_scored_qsort);
}

// Keeps the terms of class c that this set also gives it (all, the first time).
static int merge_class_terms(scorer *sc, int c, scored_term *top, int n) {
    if (!sc->seen[c]) {
        sc->seen[c] = 1;
        sc->terms[c] = tc_malloc_array((size_t)(n ? n : 1), sizeof *top);
        if (!sc->terms[c]) return -1;
        memcpy(sc->terms[c], top, (size_t)n * sizeof *top);
        sc->n_terms[c] = n;
        return 0;
    }
    int kept = 0;
    for (int i = 0; i < sc->n_terms[c]; i++) {
        int found = 0;
        for (int j = 0; j < n && !found; j++) found = top[j].word == sc->terms[c][i].word;
        if (found) sc->terms[c][kept++] = sc->terms[c][i];
    }
    sc->n_terms[c] = kept;
    return 0;
}

// Scores one sibling set: members[0..n) all have documents; cand[0..m) the candidates.
static int score_set(scorer *sc, const int32_t *members, int n, const int32_t *cand, int64_t m) {
    const enrich_stats *st = sc->st;
    double avgdl = 0;
    for (int s = 0; s < n; s++) avgdl += (double)st->dl[members[s]];
    avgdl /= n;
    double *bm = tc_malloc_array((size_t)n * (size_t)(m ? m : 1), sizeof *bm);
    int64_t *df = tc_malloc_array((size_t)n * (size_t)(m ? m : 1), sizeof *df);
    scored_term **top = tc_calloc((size_t)n, sizeof *top);
    int *n_top = tc_calloc((size_t)n, sizeof *n_top);
    int rc = bm && df && top && n_top ? 0 : -1;
    for (int s = 0; s < n && rc == 0; s++) {
        int c = members[s];
        for (int64_t j = 0; j < m; j++) {
            int64_t tf;
            enrich_stats_lookup(st, c, cand[j], &tf, &df[s * m + j]);
            bm[s * m + j] = bm25(df[s * m + j], st->maxdf[c], tf, st->dl[c], avgdl);
        }
    }
    for (int s = 0; s < n && rc == 0; s++) {
        int c = members[s];
        if (!(top[s] = tc_malloc_array((size_t)(m ? m : 1), sizeof **top))) rc = -1;
        for (int64_t j = 0; rc == 0 && j < m; j++) {
            double denominator = 1.0;  // TELEClass's softmax starts its sum at 1
            for (int r = 0; r < n; r++) denominator += exp(bm[r * m + j]);
            double dist = exp(bm[s * m + j]) / denominator;
            double pop = log2(1.0 + (double)df[s * m + j]);
            double sim = cosine_clipped(sc, sc->word_row[cand[j]], sc->class_row[c]);
            double score = pow(pop, 0.2) * pow(dist, 0.8) * sim;
            if (score > 0) top[s][n_top[s]++] = (scored_term){cand[j], score};
        }
        if (rc == 0) {
            sort_terms(st, top[s], n_top[s]);
            if (n_top[s] > sc->o->top_k) n_top[s] = sc->o->top_k;
        }
    }
    // A term in several siblings' top k stays with the highest score (ties: the first sibling).
    for (int s = 0; s < n && rc == 0; s++)
        for (int i = 0; i < n_top[s]; i++)
            for (int r = 0; r < n; r++) {
                if (r == s) continue;
                for (int j = 0; j < n_top[r]; j++) {
                    if (top[r][j].word != top[s][i].word) continue;
                    double a = top[s][i].score, b = top[r][j].score;
                    if (a < b || (a == b && r < s)) top[s][i].score = -1;  // marked for removal
                }
            }
    for (int s = 0; s < n && rc == 0; s++) {
        int kept = 0;
        for (int i = 0; i < n_top[s]; i++)
            if (top[s][i].score >= 0) top[s][kept++] = top[s][i];
        rc = merge_class_terms(sc, members[s], top[s], kept);
    }
    for (int s = 0; top && s < n; s++) free(top[s]);
    free(top);
    free(n_top);
    free(bm);
    free(df);
    return rc;
}

// ---------------------------------------------------------------- candidates

// Candidates of one set: words with tf >= min_freq in some member, in word order.
static int64_t set_candidates(const enrich_stats *st, const tc_enrich_options *o, const int32_t *members, int n,
                              uint8_t *mark, int32_t *out) {
    int64_t m = 0;
    for (int s = 0; s < n; s++) {
        int c = members[s];
        for (int64_t k = st->class_offsets[c]; k < st->class_offsets[c + 1]; k++) {
            int32_t w = st->words[k];
            if (st->tf[k] >= o->min_freq && st->eligible[w] && !mark[w]) {
                mark[w] = 1;
                out[m++] = w;
            }
        }
    }
    for (int64_t j = 0; j < m; j++) mark[out[j]] = 0;
    // word order makes the list independent of the order of members
    for (int64_t i = 1; i < m; i++) {
        int32_t v = out[i];
        int64_t j = i;
        while (j > 0 && out[j - 1] > v) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = v;
    }
    return m;
}

// Members of a set that have documents (TELEClass leaves the others out).
static int members_with_docs(const enrich_stats *st, const sibling_sets *ss, int i, int32_t *out) {
    int n = 0;
    for (int64_t k = ss->offsets[i]; k < ss->offsets[i + 1]; k++)
        if (st->docs[ss->members[k]] > 0) out[n++] = ss->members[k];
    return n;
}

static void write_term_text(FILE *f, const char *id) {
    fputs(id, f);
    fputc('\t', f);
    for (const char *p = id; *p; p++) fputc(*p == '_' ? ' ' : *p, f);
    fputc('\n', f);
}

static int write_candidates(const tc_taxonomy *t, const enrich_stats *st, const uint8_t *used, FILE *f) {
    tc_strindex names;
    if (tc_strindex_init(&names)) return -1;
    int rc = 0;
    for (int c = 0; c < t->n_classes && rc == 0; c++) {
        if (tc_strindex_add(&names, t->names[c], strlen(t->names[c]), NULL) < 0) rc = -1;
        else write_term_text(f, t->names[c]);
    }
    for (int64_t w = 0; w < st->n_words && rc == 0; w++) {
        const char *word = enrich_stats_word(st, (int32_t)w);
        if (used[w] && tc_strindex_find(&names, word, strlen(word)) < 0) write_term_text(f, word);
    }
    tc_strindex_free(&names);
    if (rc == 0 && ferror(f)) rc = tc_fail("write failed: %s", strerror(errno));
    return rc;
}

// ---------------------------------------------------------------- run

static int write_key_terms(const scorer *sc, FILE *f) {
    for (int c = 0; c < sc->t->n_classes; c++) {
        if (!sc->seen[c]) continue;
        sort_terms(sc->st, sc->terms[c], sc->n_terms[c]);
        fprintf(f, "%s:", sc->t->names[c]);
        for (int i = 0; i < sc->n_terms[c]; i++)
            fprintf(f, "%s%s", i ? "," : "", enrich_stats_word(sc->st, sc->terms[c][i].word));
        fputc('\n', f);
    }
    return ferror(f) ? tc_fail("write failed: %s", strerror(errno)) : 0;
}

static int score_all(const tc_taxonomy *t, const enrich_stats *st, const tc_enrich_options *o,
                     const sibling_sets *ss, const uint8_t *used, FILE *f) {
    enrich_embeddings e;
    if (enrich_embeddings_load(&e, t, st, used, o->embeddings)) return -1;
    scorer sc = {.t = t, .st = st, .o = o, .unit_rows = e.rows, .word_row = e.word_row, .class_row = e.class_row,
                 .dim = e.dim};
    sc.terms = tc_calloc((size_t)t->n_classes, sizeof *sc.terms);
    sc.n_terms = tc_calloc((size_t)t->n_classes, sizeof *sc.n_terms);
    sc.seen = tc_calloc((size_t)t->n_classes, 1);
    int32_t *members = tc_malloc_array((size_t)t->n_classes, sizeof *members);
    int32_t *cand = tc_malloc_array((size_t)(st->n_words ? st->n_words : 1), sizeof *cand);
    uint8_t *mark = tc_calloc((size_t)(st->n_words ? st->n_words : 1), 1);
    int rc = sc.terms && sc.n_terms && sc.seen && members && cand && mark ? 0 : -1;
    for (int i = 0; i < ss->n_sets && rc == 0; i++) {
        int n = members_with_docs(st, ss, i, members);
        if (!n) continue;
        int64_t m = set_candidates(st, o, members, n, mark, cand);
        rc = score_set(&sc, members, n, cand, m);
    }
    if (rc == 0) rc = write_key_terms(&sc, f);
    for (int c = 0; sc.terms && c < t->n_classes; c++) free(sc.terms[c]);
    free(sc.terms);
    free(sc.n_terms);
    free(sc.seen);
    free(members);
    free(cand);
    free(mark);
    enrich_embeddings_free(&e);
    return rc;
}

int tc_enrich_run(const tc_taxonomy *t, const tc_labels *core, const tc_enrich_options *o, const tc_cli *cli,
                  int mode, FILE *f) {
    enrich_stats st;
    if (enrich_stats_collect(&st, t, core, o, cli)) return -1;
    sibling_sets ss = {0};
    int32_t *members = tc_malloc_array((size_t)t->n_classes, sizeof *members);
    int32_t *cand = tc_malloc_array((size_t)(st.n_words ? st.n_words : 1), sizeof *cand);
    uint8_t *mark = tc_calloc((size_t)(st.n_words ? st.n_words : 1), 1);
    uint8_t *used = tc_calloc((size_t)(st.n_words ? st.n_words : 1), 1);
    int rc = members && cand && mark && used ? build_sibling_sets(t, &ss) : -1;
    int64_t n_used = 0;
    for (int i = 0; i < ss.n_sets && rc == 0; i++) {
        int n = members_with_docs(&st, &ss, i, members);
        int64_t m = set_candidates(&st, o, members, n, mark, cand);
        for (int64_t j = 0; j < m; j++) n_used += !used[cand[j]], used[cand[j]] = 1;
    }
    if (rc == 0) {
        tc_note("%d sibling sets, %" PRId64 " candidate terms from %" PRId64 " distinct words", ss.n_sets, n_used,
                st.n_words);
        rc = mode == TC_ENRICH_CANDIDATES ? write_candidates(t, &st, used, f) : score_all(t, &st, o, &ss, used, f);
    }
    free(members);
    free(cand);
    free(mark);
    free(used);
    free(ss.offsets);
    free(ss.members);
    enrich_stats_free(&st);
    return rc;
}
