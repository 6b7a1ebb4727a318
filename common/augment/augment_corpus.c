// The built-in source: no model, only what refinement already decided.
//
// For each root-to-leaf path, the documents whose refined core classes
// include the path's leaf are ranked by their similarity to the leaf's class
// embedding (label_scores; ties by corpus order), and the top n are taken.
// Where fewer than n exist but at least two, the shortfall is filled with
// documents composed from their sentences, interleaved in a fixed order.
// Every document is labeled with the whole path.
//
// Why it helps: refinement keeps only confident documents, and labels them
// with core classes that are often internal classes; training then masks
// their descendants. These copies carry full paths, so every leaf with a
// confident document gets explicit positives consistent with its ancestors,
// and the leaf's siblings become negatives for them -- the role TELEClass
// gives to LLM-written documents, taken from the documents most typical of
// each leaf. Composed documents add variety where a leaf has few.
#include "common/augment/augment_sources.h"
#include "common/error.h"
#include "common/taxonomy/labels.h"
#include "common/refine/refine_io.h"
#include "common/strindex.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t doc;
    float score;
} ranked_doc;

static int better_first(const void *a, const void *b) {
    const ranked_doc *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

// Each class's documents, best first: CSR over classes.
static int rank_by_class(const tc_labels *l, int n_classes, int64_t **offsets, ranked_doc **docs) {
    int64_t *off = tc_calloc((size_t)n_classes + 2, sizeof *off);
    int64_t nnz = l->offsets[l->n_docs];
    ranked_doc *r = tc_malloc_array((size_t)nnz + 1, sizeof *r);
    int64_t *fill = tc_calloc((size_t)n_classes + 1, sizeof *fill);
    if (!off || !r || !fill) return free(off), free(r), free(fill), -1;
    for (int64_t k = 0; k < nnz; k++) off[l->classes[k] + 1]++;
    for (int c = 0; c < n_classes; c++) off[c + 1] += off[c];
    for (uint64_t i = 0; i < l->n_docs; i++)
        for (int64_t k = l->offsets[i]; k < l->offsets[i + 1]; k++) {
            int c = l->classes[k];
            r[off[c] + fill[c]++] = (ranked_doc){(int64_t)i, l->scores ? l->scores[k] : 0.0f};
        }
    for (int c = 0; c < n_classes; c++) qsort(r + off[c], (size_t)(off[c + 1] - off[c]), sizeof *r, better_first);
    free(fill);
    *offsets = off, *docs = r;
    return 0;
}

// The texts of the documents marked in `wanted` (by index in the labels).
static int read_texts(const tc_aug_corpus_options *o, const tc_labels *l, const uint8_t *wanted, char **texts) {
    tc_strindex index;
    if (tc_strindex_init(&index)) return -1;
    int rc = 0;
    for (uint64_t i = 0; i < l->n_docs && rc == 0; i++)
        if (tc_strindex_add(&index, l->doc_ids[i], strlen(l->doc_ids[i]), NULL) != (int64_t)i)
            rc = tc_fail("%s: document '%s' is listed twice", o->refined, l->doc_ids[i]);
    tc_corpus_reader r;
    if (rc || tc_corpus_open(&r, o->corpus)) return tc_strindex_free(&index), -1;
    const char *id, *text;
    while (rc == 0 && (rc = tc_corpus_next(&r, NULL, &id, &text)) == 0) {
        int64_t i = tc_strindex_find(&index, id, strlen(id));
        if (i >= 0 && wanted[i] && !texts[i] && !(texts[i] = strdup(text))) rc = tc_fail("out of memory");
    }
    tc_corpus_close(&r);
    tc_strindex_free(&index);
    if (rc < 0) return -1;
    for (uint64_t i = 0; i < l->n_docs; i++)
        if (wanted[i] && !texts[i])
            return tc_fail("%s: has no document '%s' (refined in %s)", o->corpus, l->doc_ids[i], o->refined);
    return 0;
}

// The sentences of a text: ends after '.', '!' or '?' followed by a space.
static int sentences(const char *text, const char ***starts, size_t **lengths) {
    int n = 0, cap = 16;
    *starts = tc_malloc_array((size_t)cap, sizeof **starts);
    *lengths = tc_malloc_array((size_t)cap, sizeof **lengths);
    if (!*starts || !*lengths) return -1;
    const char *begin = text;
    for (const char *p = text;; p++) {
        int end = *p == 0 || ((*p == '.' || *p == '!' || *p == '?') && p[1] == ' ');
        if (!end) continue;
        const char *stop = *p ? p + 1 : p;
        while (*begin == ' ') begin++;
        if (stop > begin) {
            if (n == cap) {
                cap *= 2;
                const char **s = tc_realloc(*starts, (size_t)cap * sizeof *s);
                if (!s) return -1;
                *starts = s;
                size_t *l = tc_realloc(*lengths, (size_t)cap * sizeof *l);
                if (!l) return -1;
                *lengths = l;
            }
            (*starts)[n] = begin, (*lengths)[n++] = (size_t)(stop - begin);
        }
        if (!*p) break;
        begin = stop;
    }
    return n;
}

// Composed document j of a path from its m selected texts: sentences taken
// in turn from text j, j+1, ... (mod m), each text's next unused sentence,
// until the average length of the texts is reached.
static char *compose(char **texts, int m, int j) {
    const char **starts[TC_AUG_MAX_PER_PATH];
    size_t *lengths[TC_AUG_MAX_PER_PATH], total = 0;
    int counts[TC_AUG_MAX_PER_PATH], next[TC_AUG_MAX_PER_PATH] = {0}, words = 0;
    for (int t = 0; t < m; t++) {
        counts[t] = sentences(texts[t], &starts[t], &lengths[t]);
        total += strlen(texts[t]) + 1;
        words += tc_aug_word_count(texts[t]);
    }
    char *out = tc_malloc(total + 1);
    size_t at = 0;
    int target = words / m, have = 0, progress = 1;
    for (int k = 0; out && have < target && progress; k++) {
        progress = 0;
        for (int step = 0; step < m && have < target; step++) {
            int t = (j + k + step) % m;
            if (counts[t] <= 0 || next[t] >= counts[t]) continue;
            const char *s = starts[t][next[t]];
            size_t len = lengths[t][next[t]++];
            if (at + len + 2 > total) continue;
            if (at) out[at++] = ' ';
            memcpy(out + at, s, len);
            at += len;
            out[at] = 0;
            have = tc_aug_word_count(out);
            progress = 1;
        }
    }
    if (out) out[at] = 0;
    for (int t = 0; t < m; t++) free(starts[t]), free(lengths[t]);
    return out;
}

int tc_aug_from_corpus(const tc_taxonomy *t, const tc_paths *paths, const tc_aug_corpus_options *o, tc_aug_set *out) {
    tc_labels l;
    if (tc_labels_read_any(&l, o->refined, t->n_classes)) return -1;
    int64_t *off = NULL;
    ranked_doc *ranked = NULL;
    uint8_t *wanted = tc_calloc(l.n_docs + 1, 1);
    char **texts = tc_calloc(l.n_docs + 1, sizeof *texts);
    FILE *report = NULL;
    int rc = -1, complete = 0, short_paths = 0, uncovered = 0;
    if (!wanted || !texts || rank_by_class(&l, t->n_classes, &off, &ranked)) goto done;
    if (!l.scores) tc_warn("%s: no label_scores: documents are taken in corpus order", o->refined);
    for (int p = 0; p < paths->n; p++) {
        int leaf = paths->classes[paths->offsets[p + 1] - 1];
        for (int64_t k = off[leaf]; k < off[leaf + 1] && k - off[leaf] < o->docs_per_path; k++) wanted[ranked[k].doc] = 1;
    }
    if (read_texts(o, &l, wanted, texts)) goto done;
    if (o->report && !(report = fopen(o->report, "w"))) {
        tc_fail("%s: cannot create: %s", o->report, strerror(errno));
        goto done;
    }
    if (report) fprintf(report, "path\tclasses\tavailable\tselected\tcomposed\tsources\n");
    for (int p = 0; p < paths->n; p++) {
        const int32_t *classes = paths->classes + paths->offsets[p];
        int len = paths->offsets[p + 1] - paths->offsets[p], leaf = classes[len - 1];
        int64_t available = off[leaf + 1] - off[leaf];
        int m = available < o->docs_per_path ? (int)available : o->docs_per_path, composed = 0;
        char *chosen[TC_AUG_MAX_PER_PATH], id[512];
        for (int k = 0; k < m; k++) chosen[k] = texts[ranked[off[leaf] + k].doc];
        for (int k = 0; k < m; k++) {
            snprintf(id, sizeof id, "%s%d-%d", o->id_prefix, p, k);
            if (tc_aug_set_add(out, id, chosen[k], classes, len, leaf)) goto done;
        }
        // a composition equal to a text the path has already is skipped
        for (int j = 0; o->compose && m >= 2 && m + composed < o->docs_per_path && j < 4 * o->docs_per_path; j++) {
            char *text = compose(chosen, m, j);
            if (!text) goto done;
            char *clean = tc_aug_clean_text(text);
            int repeat = !clean;
            for (size_t k = out->n - (size_t)(m + composed); !repeat && k < out->n; k++)
                repeat = !strcmp(out->docs[k].text, clean);
            snprintf(id, sizeof id, "%s%d-%d", o->id_prefix, p, m + composed);
            int failed = !repeat && tc_aug_set_add(out, id, text, classes, len, leaf);
            free(text), free(clean);
            if (failed) goto done;
            composed += !repeat;
        }
        if (m + composed >= o->docs_per_path) complete++;
        else if (m + composed > 0) short_paths++;
        else uncovered++;
        if (report) {
            char *path = tc_path_text(t, paths, p);
            fprintf(report, "%d\t%s\t%lld\t%d\t%d\t", p, path ? path : "?", (long long)available, m, composed);
            for (int k = 0; k < m; k++) fprintf(report, "%s%s", k ? "," : "", l.doc_ids[ranked[off[leaf] + k].doc]);
            fputc('\n', report);
            free(path);
        }
    }
    if (report && (ferror(report) | fclose(report))) {
        report = NULL;
        tc_fail("%s: write failed: %s", o->report, strerror(errno ? errno : EIO));
        goto done;
    }
    report = NULL;
    tc_note("%zu documents for %d paths from %s: %d complete, %d short of %d, %d without a confident document",
            out->n, paths->n, o->refined, complete, short_paths, o->docs_per_path, uncovered);
    rc = 0;
done:
    if (report) fclose(report);
    for (uint64_t i = 0; texts && i < l.n_docs; i++) free(texts[i]);
    free(texts), free(wanted), free(off), free(ranked);
    tc_labels_free(&l);
    return rc;
}
