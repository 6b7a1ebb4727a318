// A BERT-architecture encoder loaded from a Hugging Face model directory
// (config.json, vocab.txt, model.safetensors), and the sentence-transformers
// settings found beside it (1_Pooling/config.json, modules.json).
//
// config.json's model_type picks the architecture: "bert", or "mpnet"
// (MPNet, all-mpnet-base-v2), the same post-norm encoder with three
// differences: no token type embeddings; positions that start after the
// padding id (pad_token_id + 1, as RoBERTa's); and a learned relative
// position bias, a (NB, NH) table looked up by the bucket of each key's
// distance to the query (tc_rel_bucket) and added to every layer's
// attention scores. Its q, k, v are stacked at load like BERT's.
//
// The parameters live in one flat f32 buffer, grouped by kind across layers
// (llm.c style), so that an optimizer or an all-reduce walks one array and a
// backend uploads it in one copy. Query, key and value weights are stacked
// into one (3C, C) matrix per layer so the projection is one matrix product.
//
// Dims legend (here and in kernels/backend.h):
//   V vocabulary, P max positions, TT token types, C hidden size,
//   L layers, NH attention heads, HS = C / NH head size, F intermediate size,
//   NB relative position buckets (MPNet; 0 for BERT).
#ifndef TC_BERT_MODEL_H
#define TC_BERT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "formats/tct.h"
#include "kernels/backend.h"

const char *tc_pooling_name(tc_pooling pooling);
int tc_pooling_parse(const char *name, tc_pooling *pooling);  // "mean", "cls", "pooler"

typedef enum { TC_ARCH_BERT = 0, TC_ARCH_MPNET } tc_arch;

typedef struct {
    tc_arch arch;          // from config.json's model_type
    int vocab_size;        // V
    int max_positions;     // P
    int type_vocab_size;   // TT (0: no token types, MPNet)
    int hidden;            // C
    int layers;            // L
    int heads;             // NH
    int intermediate;      // F
    tc_activation act;     // feed-forward activation
    float ln_eps;
    int has_pooler;
    int pad_id;            // config pad_token_id (0 if absent); MPNet: 1, transformers' fixed padding index
    int pos_offset;        // position of a sequence's first token: 0, MPNet pad_id + 1
    int rel_buckets;       // NB, relative_attention_num_buckets (MPNet), else 0
} tc_bert_config;

// The longest sequence the position embeddings cover.
static inline int tc_bert_max_len(const tc_bert_config *cfg) { return cfg->max_positions - cfg->pos_offset; }

// MPNet's relative position bucket of key position minus query position:
// 32 buckets, half for each direction, the first 8 exact, then
// log-spaced up to a distance of 128 (as transformers' MPNetEncoder
// computes it, in f32, with 32 buckets whatever the table holds).
enum { TC_REL_BUCKETS = 32, TC_REL_MAX_DISTANCE = 128 };
int tc_rel_bucket(int distance);

// The name of a parameter kind in a Hugging Face file of the architecture
// ("*" for the layer number); NULL for a kind it does not have.
const char *tc_bert_param_name(tc_arch arch, int which);

// The parameter tensors, in the order of the flat buffer.
enum {
    TC_BERT_WTE,        // (V, C)  word embeddings
    TC_BERT_WPE,        // (P, C)  position embeddings
    TC_BERT_WTT,        // (TT, C) token type embeddings (0 elements for MPNet)
    TC_BERT_EMB_LN_W,   // (C)
    TC_BERT_EMB_LN_B,   // (C)
    TC_BERT_QKV_W,      // (L, 3C, C) query, key, value rows
    TC_BERT_QKV_B,      // (L, 3C)
    TC_BERT_ATTPROJ_W,  // (L, C, C)  attention output dense
    TC_BERT_ATTPROJ_B,  // (L, C)
    TC_BERT_LN1_W,      // (L, C)     attention output layer norm
    TC_BERT_LN1_B,      // (L, C)
    TC_BERT_FC_W,       // (L, F, C)  intermediate dense
    TC_BERT_FC_B,       // (L, F)
    TC_BERT_FCPROJ_W,   // (L, C, F)  output dense
    TC_BERT_FCPROJ_B,   // (L, C)
    TC_BERT_LN2_W,      // (L, C)     output layer norm
    TC_BERT_LN2_B,      // (L, C)
    TC_BERT_POOLER_W,   // (C, C)     0 elements without a pooler
    TC_BERT_POOLER_B,   // (C)
    TC_BERT_REL_BIAS,   // (NB, NH)   relative position bias (MPNet), 0 elements for BERT
    TC_BERT_NUM_PARAMS
};

// Pointers into a flat parameter buffer of any element type (f32 on the
// host; the compute type in a backend's memory).
typedef struct {
    void *p[TC_BERT_NUM_PARAMS];
} tc_bert_params;

// Elements of each parameter tensor; returns the total.
size_t tc_bert_param_sizes(const tc_bert_config *cfg, size_t sizes[TC_BERT_NUM_PARAMS]);
// Points params into base, whose elements are elem_bytes wide.
void tc_bert_params_point(tc_bert_params *params, void *base, size_t elem_bytes, const tc_bert_config *cfg);
// Pointer to layer l's slice of a per-layer tensor (elem_bytes wide elements).
void *tc_bert_layer_param(const tc_bert_params *params, int which, int layer, size_t elem_bytes,
                          const tc_bert_config *cfg);

typedef struct {
    char *dir;
    char *name;                 // the directory's base name ("all-MiniLM-L6-v2")
    tc_bert_config cfg;
    size_t n_params;            // elements in params_memory
    float *params_memory;       // f32, laid out as above
    tc_bert_params params;      // pointers into params_memory
    char vocab_fingerprint[17]; // of vocab.txt (common/fingerprint.h)
    char weights_fingerprint[17];
    // sentence-transformers defaults (mean and no normalization without them)
    tc_pooling default_pooling;
    int default_normalize;
    int st_max_seq_length;      // sentence_bert_config.json max_seq_length, 0 if absent
    int st_has_modules;         // modules.json is there (else the defaults above are assumed)
    char st_unsupported_pooling[128]; // a pooling mode of 1_Pooling/config.json we lack, "" if none
    char st_unsupported_module[128];  // a module of modules.json we lack (Dense, ...), "" if none
} tc_bert_model;

// Loads DIR. Errors are one line naming the file: a missing directory or
// file, an unsupported architecture (model_type named), a config.json size
// the weights disagree with (checked before anything is allocated: the
// field and the tensor named, layers beyond or short of num_hidden_layers
// included), a missing or mis-shaped tensor (both shapes named), a NaN or
// infinite weight, a vocab.txt whose line count is not the embedding
// matrix's row count, a modules.json, 1_Pooling/config.json or
// sentence_bert_config.json that is there but unreadable, not JSON or of the
// wrong types (an unknown or all-false pooling mode included). Without
// modules.json the defaults above are assumed (st_has_modules 0).
int tc_bert_model_load(tc_bert_model *model, const char *dir);
void tc_bert_model_free(tc_bert_model *model);

// Parses config.json alone (exposed for tests).
int tc_bert_config_load(tc_bert_config *cfg, const char *path);

// Reads the sentence-transformers files of m->dir (modules.json, the Pooling
// module's config.json, sentence_bert_config.json) into m's defaults, as
// tc_bert_model_load does last; exposed for tests and fuzzing: it needs only
// m->dir and m->cfg.hidden set, the rest of *m zeroed.
int tc_bert_st_settings_load(tc_bert_model *m);

// Checks the attributes tc-tokenize records on `input_ids` (vocab_fingerprint,
// vocab_size) against the model; `where` names the tokens file.
int tc_bert_check_tokens(const tc_bert_model *model, const char *where, const tct_attr *attrs, size_t n_attrs);

#endif
