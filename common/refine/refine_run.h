// The two jobs of tc-refine as library calls: the program parses options and
// calls one of these (tc-refine(1) documents the behaviour).
#ifndef TC_REFINE_RUN_H
#define TC_REFINE_RUN_H

#include <stddef.h>

#include "common/refine/annotate.h"
#include "common/cli/cli.h"
#include "common/llm/llm_options.h"
#include "common/comm/devices.h"
#include "common/refine/refine.h"

typedef struct {
    const char *taxonomy;        // taxonomy tensors (tc-taxo)
    const char *terms;           // class term embeddings (class_of_row + embeddings)
    const char *embeddings;      // document embeddings, NULL or "-" for stdin
    const char *corpus;          // id<TAB>text, needed with an LLM
    const char *candidates;      // where to write the search's candidates, or NULL
    int scores;                  // also write scores f32[N,C]: every class's cosine
    tc_core_rule rule;
    tc_class_similarity similarity;  // own or subtree
    int ancestors;               // add the ancestors of core classes
    int batch;                   // documents per batch
    tc_llm_settings llm;         // llm.config.url NULL: no LLM
    const char *prompt;          // instruction template with {classes}
    size_t max_chars;            // longest document text sent
    const char *precision;       // --precision of the similarities (tc_refine_precision)
} tc_annotate_options;

int tc_annotate_run(const tc_cli *cli, tc_annotate_options *o);

typedef struct {
    const char *taxonomy;
    const char *annotation;      // labels from annotate (core classes, ancestors optional)
    const char *corpus;
    const char *embeddings;      // read twice: a file, not a pipe
    double keep_percentile;
    tc_match_mode match;
    int match_names;             // class names count as key terms
    int top;                     // similarities compared for the confidence (4)
    int batch;
    const char *precision;       // --precision of the similarities (tc_refine_precision)
} tc_refine_options;

int tc_refine_run(const tc_cli *cli, const tc_refine_options *o);

// --gpus and --precision NAME for both jobs' similarities. The CPU's
// precisions are tc_precision_select's (its refusals too); GPUs compute
// similarities in fp32 only; auto is fp32, since int8 reorders near-tied
// classes and the similarities are a small part of the run (tc-refine(1)).
int tc_refine_precision(const tc_cli *cli, const char *name, tc_devices *devices, tct_dtype *out);

// The labels' "precision" attribute: none in fp32 (files stay as they were).
int tc_refine_precision_attr(tct_dtype precision, tct_attr *attr);

#endif
