// The three sources of tc-augment (tc-augment(1) documents each):
//   tc_aug_from_llm     an OpenAI-compatible chat endpoint, prompted per path
//   tc_aug_import       TELEClass's generated_docs.txt + generated_doc2label.json
//   tc_aug_from_corpus  the real documents refinement was most confident of,
//                       per leaf, selected (and composed where too few)
#ifndef TC_AUGMENT_SOURCES_H
#define TC_AUGMENT_SOURCES_H

#include "common/augment/augment.h"
#include "common/llm/llm_options.h"

typedef struct {
    const char *prompt;          // template: {path} {leaf} {n} {words}
    const char *format_prompt;   // a second message asking for the JSON layout ("" for none)
    int docs_per_path;
    int words;                   // asked for ({words})
    int min_words;               // shorter documents are refused
    int forbid_names;            // refuse documents that name a class of the path
    int attempts;                // requests per path at most
    const char *id_prefix;
    const char *report;          // per-path counts (TSV), or NULL
    tc_llm_settings llm;
} tc_aug_llm_options;

// The built-in instructions: "review" (product reviews, TELEClass's
// Amazon-531 prompt) and "encyclopedia" (its DBPedia-298 prompt); NULL if
// unknown. The words asked for by default: 100 and 300.
const char *tc_aug_prompt_template(const char *style);
int tc_aug_default_words(const char *style);
const char *tc_aug_format_prompt(void);

// {path}, {leaf}, {n} and {words} replaced (malloc'd).
char *tc_aug_render(const char *template_text, const char *path, const char *leaf, int n, int words);

// The documents in a model's answer, read leniently: a JSON array of
// strings or of objects with a "doc" (or "text", "content", ...) field, an
// object holding such an array, inside ```json fences or prose, trailing
// commas forgiven. Returns the count (strings in *docs, malloc'd), or -1 when
// the answer holds no such JSON.
int tc_aug_parse_reply(const char *reply, char ***docs);

int tc_aug_from_llm(const tc_cli *cli, const tc_taxonomy *taxonomy, const tc_paths *paths, tc_aug_llm_options *o,
                    tc_aug_set *out);

int tc_aug_import(const tc_taxonomy *taxonomy, const char *dir, const char *id_prefix, tc_aug_set *out);
// The two files tc_aug_import reads from DIR (each buffer `size` bytes).
void tc_aug_import_paths(const char *dir, char *docs_path, char *labels_path, size_t size);

typedef struct {
    const char *corpus;          // id<TAB>text
    const char *refined;         // labels from tc-refine refine (scores used for ranking)
    int docs_per_path;
    int compose;                 // fill a path's shortfall with composed documents
    const char *id_prefix;
    const char *report;
} tc_aug_corpus_options;

int tc_aug_from_corpus(const tc_taxonomy *taxonomy, const tc_paths *paths, const tc_aug_corpus_options *o,
                       tc_aug_set *out);

#endif
