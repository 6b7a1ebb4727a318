// tc-refine annotate: per batch of documents, the class similarities (on the
// CPU or the GPUs), the top-down search of each document, the choice of core
// classes (by rule, or by an LLM asked in parallel), and the label rows.
#include "common/refine/refine_run.h"
#include "common/comm/devices.h"
#include "common/error.h"
#include "common/cli/io.h"
#include "common/taxonomy/label_stream.h"
#include "common/cli/progress.h"
#include "common/refine/refine_io.h"
#include "common/embeddings/similarity.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const tc_annotate_options *o;
    const tc_taxonomy *taxonomy;
    tc_llm_client *llm;
    tc_candidates *cand;      // [batch]
    char **texts;             // [batch] with an LLM
    int32_t **core;           // [batch] chosen classes
    int *n_core;
    atomic_long fallbacks, not_candidates;
} batch_state;

// The answer for document i: its candidates' names, as TELEClass asks.
static int ask_llm(size_t i, void *context) {
    batch_state *b = context;
    const tc_candidates *cand = &b->cand[i];
    b->n_core[i] = 0;
    if (cand->n == 0) return 0;
    char *instruction = tc_annotate_prompt(b->o->prompt, b->taxonomy, cand);
    if (!instruction) return -1;
    const char *text = b->texts[i];
    size_t len = strlen(text);
    char *cut = NULL;
    if (len > b->o->max_chars) {  // at a character boundary
        size_t at = b->o->max_chars;
        while (at > 0 && ((unsigned char)text[at] & 0xC0) == 0x80) at--;
        cut = strndup(text, at);
        if (!cut) return free(instruction), tc_fail("out of memory");
        text = cut;
    }
    tc_llm_message m[2] = {{"system", instruction}, {"user", text}};
    tc_llm_request req = {.temperature = b->o->llm.temperature, .max_tokens = b->o->llm.max_tokens};
    char *reply = NULL;
    int rc = tc_llm_chat(b->llm, m, 2, &req, &reply);
    free(instruction), free(cut);
    if (rc) return -1;
    int unknown = 0;
    b->n_core[i] = tc_annotate_parse_reply(reply, b->taxonomy, cand, b->core[i], &unknown);
    free(reply);
    atomic_fetch_add(&b->not_candidates, unknown);
    if (b->n_core[i] == 0) atomic_fetch_add(&b->fallbacks, 1);
    return 0;
}

typedef struct {
    tc_taxonomy taxonomy;
    tc_class_targets targets;
    tc_embedding_stream docs;
    tc_corpus_reader corpus;
    tc_similarity *sim;
    tct_dtype precision;      // of the similarities
    tc_search *search;
    tc_llm_client *llm;
    tc_tensor_output out;
    tc_output cand_file;
    tct_writer *cand_writer;
    int scores_id;            // the scores tensor (--scores), or -1
    float *cosine;            // (batch, C)
    int32_t *bottom_up;       // [C] classes, descendants first (subtree similarity)
    batch_state b;
    int32_t *row_classes;     // [C]
    uint8_t *row_core, *mark;
    float *row_scores;
    uint64_t n_docs, labels, cores, candidates;
} annotate_state;

static int open_inputs(const tc_cli *cli, tc_annotate_options *o, annotate_state *s) {
    tc_devices devices;
    if (tc_refine_precision(cli, o->precision, &devices, &s->precision)) return -1;
    if (tc_taxonomy_load(&s->taxonomy, o->taxonomy)) return -1;
    if (tc_class_targets_load(&s->targets, o->terms, &s->taxonomy)) return -1;
    if (tc_embedding_stream_open(&s->docs, o->embeddings)) return -1;
    if (o->llm.config.url && tc_corpus_open(&s->corpus, o->corpus)) return -1;
    if (tc_similarity_open(&s->sim, &devices, tc_cli_threads(cli), s->precision, s->targets.rows, s->targets.m,
                           s->targets.d, s->targets.offsets, s->taxonomy.n_classes))
        return -1;
    tc_verbose("similarities on %s", tc_similarity_backend(s->sim));
    tc_verbose_precision(s->precision, &devices);
    if (tc_search_create(&s->search, &s->taxonomy)) return -1;
    if (o->llm.config.url) {
        tc_llm_settings_finish(&o->llm);
        if (tc_llm_open(&s->llm, &o->llm.config)) return -1;
    }
    return 0;
}

static int allocate(const tc_annotate_options *o, annotate_state *s) {
    size_t C = (size_t)s->taxonomy.n_classes, B = (size_t)o->batch;
    s->cosine = tc_malloc_array(B * C, sizeof(float));
    s->b.cand = tc_calloc(B, sizeof *s->b.cand);
    s->b.texts = tc_calloc(B, sizeof *s->b.texts);
    s->b.core = tc_calloc(B, sizeof *s->b.core);
    s->b.n_core = tc_calloc(B, sizeof *s->b.n_core);
    s->row_classes = tc_malloc_array(C + 1, sizeof(int32_t));
    s->row_scores = tc_malloc_array(C + 1, sizeof(float));
    s->row_core = tc_malloc(C + 1);
    s->bottom_up = tc_malloc_array(C + 1, sizeof(int32_t));
    if (!s->bottom_up || tc_taxonomy_bottom_up(&s->taxonomy, s->bottom_up)) return -1;
    s->mark = tc_calloc(C + 1, 1);
    if (!s->cosine || !s->b.cand || !s->b.texts || !s->b.core || !s->b.n_core || !s->row_classes ||
        !s->row_scores || !s->row_core || !s->mark)
        return -1;
    for (size_t i = 0; i < B; i++)
        if (!(s->b.core[i] = tc_malloc_array(C + 1, sizeof(int32_t)))) return -1;
    return 0;
}

static int open_outputs(const tc_cli *cli, const tc_annotate_options *o, annotate_state *s, tc_label_stream *labels,
                        tc_label_stream *cands) {
    if (tc_tensor_output_open(&s->out, cli)) return -1;
    const char *how = o->llm.config.url ? "llm" : o->rule == TC_CORE_GAP ? "gap" : o->rule == TC_CORE_PATH ? "path" : "top";
    const char *what = o->similarity == TC_SIMILARITY_SUBTREE
                           ? "cosine similarity of document and class (max over the names and key terms of the "
                             "class and its descendants)"
                           : "cosine similarity of document and class (max over name and key terms)";
    tct_attr attrs[5] = {{"labels", o->ancestors ? "core classes and their ancestors" : "core classes"},
                         {"core_rule", how},
                         {"class_similarity", o->similarity == TC_SIMILARITY_SUBTREE ? "subtree" : "own"},
                         {"scores", what}};
    int n_attrs = 4 + tc_refine_precision_attr(s->precision, &attrs[4]);
    if (tc_label_stream_begin(labels, s->out.writer, 1, 1, attrs, n_attrs)) return -1;
    s->scores_id = -1;
    if (o->scores) {
        uint64_t dims[2] = {TCT_ROWS_UNKNOWN, (uint64_t)s->taxonomy.n_classes};
        tct_attr sattrs[2] = {{"scores", what}};
        int n_sattrs = 1 + tc_refine_precision_attr(s->precision, &sattrs[1]);
        if ((s->scores_id = tct_writer_begin(s->out.writer, "scores", TCT_F32, 2, dims, sattrs, n_sattrs)) < 0)
            return -1;
    }
    if (!o->candidates) return 0;
    if (tc_output_open(&s->cand_file, o->candidates, 1, 1)) return -1;
    tct_attr provenance[8];
    size_t n = tc_cli_provenance(cli, provenance);
    tct_writer_options wo = {.level = cli->level};
    if (tct_writer_open(&s->cand_writer, s->cand_file.f, o->candidates, provenance, n, &wo)) return -1;
    tct_attr cattrs[3] = {{"labels", "candidates of the top-down search, in the order kept"},
                          {"scores", "cosine similarity of document and class"}};
    int n_cattrs = 2 + tc_refine_precision_attr(s->precision, &cattrs[2]);
    if (tc_label_stream_begin(cands, s->cand_writer, 1, 0, cattrs, n_cattrs)) return -1;
    return 0;
}

static int write_document(const tc_annotate_options *o, annotate_state *s, tc_label_stream *labels,
                          tc_label_stream *cands, const char *id, size_t i) {
    const tc_candidates *cand = &s->b.cand[i];
    const float *cosine = s->cosine + i * (size_t)s->taxonomy.n_classes;
    int n_core = s->b.n_core[i];
    int n = 0;
    if (o->ancestors) {
        n = tc_with_ancestors(&s->taxonomy, s->b.core[i], n_core, s->row_classes, s->row_core, s->mark);
    } else {
        for (int k = 0; k < n_core; k++) s->row_classes[n] = s->b.core[i][k], s->row_core[n++] = 1;
    }
    for (int k = 0; k < n; k++) s->row_scores[k] = cosine[s->row_classes[k]];
    s->labels += (uint64_t)n, s->cores += (uint64_t)n_core, s->candidates += (uint64_t)cand->n;
    if (tc_label_stream_add(labels, id, s->row_classes, s->row_scores, s->row_core, n)) return -1;
    return o->candidates ? tc_label_stream_add(cands, id, cand->classes, cand->cosine, NULL, cand->n) : 0;
}

static int annotate_batch(const tc_annotate_options *o, annotate_state *s, tc_label_stream *labels,
                          tc_label_stream *cands, char *const *ids, const float *x, int64_t n) {
    size_t C = (size_t)s->taxonomy.n_classes;
    if (s->docs.d != s->targets.d)
        return tc_fail("%s: embeddings of width %d, but the class terms in %s have width %d (made with another model?)",
                       s->docs.path, s->docs.d, o->terms, s->targets.d);
    if (tc_similarity_group_max(s->sim, x, n, s->cosine)) return -1;
    if (o->similarity == TC_SIMILARITY_SUBTREE)
        for (int64_t i = 0; i < n; i++) tc_subtree_max(&s->taxonomy, s->bottom_up, s->cosine + (size_t)i * C);
    for (int64_t i = 0; i < n; i++)
        if (tc_search_run(s->search, s->cosine + (size_t)i * C, &s->b.cand[i])) return -1;
    if (s->llm) {
        for (int64_t i = 0; i < n; i++) {
            const char *text;
            if (tc_corpus_next(&s->corpus, ids[i], NULL, &text)) return -1;
            free(s->b.texts[i]);
            if (!(s->b.texts[i] = strdup(text))) return tc_fail("out of memory");
        }
        if (tc_llm_for_each((size_t)n, o->llm.concurrency, ask_llm, &s->b)) return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        // without an LLM, and where the model named no candidate: the rule
        if (!s->llm || s->b.n_core[i] == 0)
            s->b.n_core[i] = tc_core_select(&s->taxonomy, &s->b.cand[i], o->rule, s->b.core[i], s->mark);
        if (write_document(o, s, labels, cands, ids[i], (size_t)i)) return -1;
    }
    if (s->scores_id >= 0 && tct_writer_append(s->out.writer, s->scores_id, s->cosine, (uint64_t)n)) return -1;
    if (tct_writer_flush(s->out.writer)) return -1;
    return s->cand_writer ? tct_writer_flush(s->cand_writer) : 0;
}

static void release(const tc_annotate_options *o, annotate_state *s) {
    for (size_t i = 0; s->b.cand && i < (size_t)o->batch; i++) {
        tc_candidates_free(&s->b.cand[i]);
        free(s->b.texts[i]);
        free(s->b.core[i]);
    }
    free(s->b.cand), free(s->b.texts), free(s->b.core), free(s->b.n_core);
    free(s->cosine), free(s->bottom_up), free(s->row_classes), free(s->row_scores), free(s->row_core), free(s->mark);
    tc_search_free(s->search);
    tc_similarity_close(s->sim);
    tc_llm_close(s->llm);
    if (s->corpus.f) tc_corpus_close(&s->corpus);
    tc_embedding_stream_close(&s->docs);
    tc_class_targets_free(&s->targets);
    tc_taxonomy_free(&s->taxonomy);
}

static void report(const tc_annotate_options *o, annotate_state *s) {
    double n = s->n_docs ? (double)s->n_docs : 1;
    tc_note("annotated %llu documents: %.2f candidates, %.2f core classes, %.2f labels each",
            (unsigned long long)s->n_docs, (double)s->candidates / n, (double)s->cores / n, (double)s->labels / n);
    if (!s->llm) return;
    tc_llm_stats st;
    char line[512];
    tc_llm_get_stats(s->llm, &st);
    tc_llm_format_stats(&st, line, sizeof line);
    tc_note("LLM %s: %s", tc_llm_endpoint(s->llm), line);
    long fallbacks = atomic_load(&s->b.fallbacks), unknown = atomic_load(&s->b.not_candidates);
    if (fallbacks || unknown)
        tc_note("%ld answers named no candidate (the %s rule chose instead); %ld names that were not candidates "
                "were ignored",
                fallbacks, o->rule == TC_CORE_GAP ? "gap" : o->rule == TC_CORE_PATH ? "path" : "top", unknown);
}

int tc_annotate_run(const tc_cli *cli, tc_annotate_options *o) {
    annotate_state s;
    memset(&s, 0, sizeof s);
    s.b.o = o;
    atomic_init(&s.b.fallbacks, 0);
    atomic_init(&s.b.not_candidates, 0);
    tc_label_stream labels, cands;
    int rc = -1;
    if (open_inputs(cli, o, &s) || allocate(o, &s)) goto done;
    s.b.taxonomy = &s.taxonomy;
    s.b.llm = s.llm;
    char *const *ids;
    const float *x;
    // the first batch is read before any output is opened, so that input
    // that is not embeddings leaves nothing behind, even on stdout
    int64_t n = tc_embedding_stream_next(&s.docs, (uint64_t)o->batch, &ids, &x);
    if (n < 0 || open_outputs(cli, o, &s, &labels, &cands)) goto done;
    tc_progress progress;
    tc_progress_start(&progress, cli, "docs", 0);
    for (; n > 0; n = tc_embedding_stream_next(&s.docs, (uint64_t)o->batch, &ids, &x)) {
        if (annotate_batch(o, &s, &labels, &cands, ids, x, n)) goto done;
        s.n_docs += (uint64_t)n;
        tc_progress_update(&progress, s.n_docs);
    }
    if (n < 0 || tc_label_stream_end(&labels)) goto done;
    if (s.scores_id >= 0 && tct_writer_end(s.out.writer, s.scores_id)) goto done;
    if (s.cand_writer) {
        int failed = tc_label_stream_end(&cands) || tct_writer_close(s.cand_writer);
        s.cand_writer = NULL;
        if (failed || tc_output_commit(&s.cand_file)) goto done;
    }
    if (s.llm && s.corpus.f) {
        const char *text;
        int more = tc_corpus_next(&s.corpus, NULL, NULL, &text);
        if (more < 0) goto done;
        if (more == 0) {
            tc_fail("%s: holds more documents than the %llu embeddings", o->corpus, (unsigned long long)s.n_docs);
            goto done;
        }
    }
    tc_progress_finish(&progress);
    if (tc_tensor_output_commit(&s.out)) goto done;
    report(o, &s);
    rc = 0;
done:
    if (rc) {
        if (s.out.writer) tc_tensor_output_abort(&s.out);
        if (s.cand_writer) tct_writer_abort(s.cand_writer);
        if (s.cand_file.temp_path) tc_output_abort(&s.cand_file);
    }
    release(o, &s);
    return rc;
}
