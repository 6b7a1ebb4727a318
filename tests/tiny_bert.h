// Small random BERT models for tests: writes a Hugging Face directory
// (config.json, vocab.txt, model.safetensors and, if asked, the
// sentence-transformers files) from a spec, with weights from a seeded
// generator, so tests need no download. Also a plain reference forward pass
// (double precision, padded batch with an attention mask, the way Hugging
// Face computes it) to check the runtime against.
#ifndef TC_TESTS_TINY_BERT_H
#define TC_TESTS_TINY_BERT_H

#include "common/model/safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    int vocab, positions, types, hidden, layers, heads, intermediate;
    const char *act;         // hidden_act ("gelu" if NULL)
    int pooler;              // write pooler.dense.*
    const char *prefix;      // "" or "bert." (NULL: "")
    int old_ln_names;        // LayerNorm.gamma/beta instead of weight/bias
    tc_st_dtype dtype;       // weights stored as F32 (0), F16 or BF16
    float eps;               // layer_norm_eps (0: 1e-12)
    uint64_t seed;
    const char *model_type;  // NULL: "bert"
    int st_files;            // 0 none; 1 modules.json with mean pooling + Normalize; 2 cls pooling, no Normalize
    int vocab_lines;         // lines in vocab.txt (0: vocab)
    const char *skip;        // leave out the tensors whose name contains this
    const char *nan;         // a NaN at element 1 of the tensors whose name contains this
} tiny_bert_spec;

static inline tiny_bert_spec tiny_bert_default(void) {
    tiny_bert_spec s = {.vocab = 50, .positions = 24, .types = 2, .hidden = 16, .layers = 2, .heads = 4,
                        .intermediate = 40, .seed = 1};
    return s;
}

static inline double tiny_random(uint64_t *state) {  // uniform in [-1, 1)
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (double)(*state >> 11) / (double)(1ull << 52) - 1.0;
}

static inline float *tiny_fill(size_t n, uint64_t *state, float center, float spread) {
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = center + spread * (float)tiny_random(state);
    return p;
}

static inline int tiny_write_text(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

// Adds one tensor to the list; `name` is prefixed. owned[*n] is its data.
static inline void tiny_add(tc_st_write_tensor *t, size_t *n, char names[][160], float **owned,
                            const tiny_bert_spec *s, const char *name, int rank, int64_t d0, int64_t d1) {
    if (s->skip && strstr(name, s->skip)) {
        free(owned[*n]);
        return;
    }
    float *data = owned[*n];
    if (s->nan && strstr(name, s->nan) && (size_t)d0 * (size_t)(rank == 2 ? d1 : 1) > 1) data[1] = NAN;
    snprintf(names[*n], 160, "%s%s", s->prefix ? s->prefix : "", name);
    t[*n] = (tc_st_write_tensor){.name = names[*n], .rank = rank, .shape = {d0, d1}, .data = data, .dtype = s->dtype};
    (*n)++;
}

static inline int tiny_write_weights(const char *dir, const tiny_bert_spec *s) {
    enum { MAX_T = 512 };
    static char names[MAX_T][160];
    tc_st_write_tensor t[MAX_T];
    float *owned[MAX_T];
    size_t n = 0;
    uint64_t st = s->seed * 0x9e3779b97f4a7c15ull + 1;
    int64_t C = s->hidden, F = s->intermediate;
    const char *lw = s->old_ln_names ? "gamma" : "weight", *lb = s->old_ln_names ? "beta" : "bias";
    char name[160];
#define ADD(nm, rank, d0, d1, center, spread) \
    (owned[n] = tiny_fill((size_t)(d0) * (size_t)((rank) == 2 ? (d1) : 1), &st, center, spread), \
     tiny_add(t, &n, names, owned, s, nm, rank, d0, d1))
    ADD("embeddings.word_embeddings.weight", 2, s->vocab, C, 0, 1.0f);
    ADD("embeddings.position_embeddings.weight", 2, s->positions, C, 0, 0.5f);
    ADD("embeddings.token_type_embeddings.weight", 2, s->types, C, 0, 0.5f);
    snprintf(name, sizeof name, "embeddings.LayerNorm.%s", lw), ADD(name, 1, C, 0, 1.0f, 0.2f);
    snprintf(name, sizeof name, "embeddings.LayerNorm.%s", lb), ADD(name, 1, C, 0, 0, 0.2f);
    float ws = 1.5f / sqrtf((float)C), wf = 1.5f / sqrtf((float)F);
    for (int l = 0; l < s->layers; l++) {
        static const char *qkv[3] = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "encoder.layer.%d.attention.self.%s.weight", l, qkv[i]), ADD(name, 2, C, C, 0, ws);
            snprintf(name, sizeof name, "encoder.layer.%d.attention.self.%s.bias", l, qkv[i]), ADD(name, 1, C, 0, 0, 0.1f);
        }
        snprintf(name, sizeof name, "encoder.layer.%d.attention.output.dense.weight", l), ADD(name, 2, C, C, 0, ws);
        snprintf(name, sizeof name, "encoder.layer.%d.attention.output.dense.bias", l), ADD(name, 1, C, 0, 0, 0.1f);
        snprintf(name, sizeof name, "encoder.layer.%d.attention.output.LayerNorm.%s", l, lw), ADD(name, 1, C, 0, 1, 0.2f);
        snprintf(name, sizeof name, "encoder.layer.%d.attention.output.LayerNorm.%s", l, lb), ADD(name, 1, C, 0, 0, 0.2f);
        snprintf(name, sizeof name, "encoder.layer.%d.intermediate.dense.weight", l), ADD(name, 2, F, C, 0, ws);
        snprintf(name, sizeof name, "encoder.layer.%d.intermediate.dense.bias", l), ADD(name, 1, F, 0, 0, 0.1f);
        snprintf(name, sizeof name, "encoder.layer.%d.output.dense.weight", l), ADD(name, 2, C, F, 0, wf);
        snprintf(name, sizeof name, "encoder.layer.%d.output.dense.bias", l), ADD(name, 1, C, 0, 0, 0.1f);
        snprintf(name, sizeof name, "encoder.layer.%d.output.LayerNorm.%s", l, lw), ADD(name, 1, C, 0, 1, 0.2f);
        snprintf(name, sizeof name, "encoder.layer.%d.output.LayerNorm.%s", l, lb), ADD(name, 1, C, 0, 0, 0.2f);
    }
    if (s->pooler) {
        ADD("pooler.dense.weight", 2, C, C, 0, ws);
        ADD("pooler.dense.bias", 1, C, 0, 0, 0.1f);
    }
#undef ADD
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const char *meta[2] = {"format", "pt"};
    int rc = tc_safetensors_write(path, t, n, meta, 1);
    for (size_t i = 0; i < n; i++) free(owned[i]);
    return rc;
}

static inline int tiny_write_config(const char *dir, const tiny_bert_spec *s) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"architectures\": [\"BertModel\"], \"model_type\": \"%s\", \"vocab_size\": %d,"
             " \"max_position_embeddings\": %d, \"type_vocab_size\": %d, \"hidden_size\": %d,"
             " \"num_hidden_layers\": %d, \"num_attention_heads\": %d, \"intermediate_size\": %d,"
             " \"hidden_act\": \"%s\", \"layer_norm_eps\": %.9g, \"pad_token_id\": 0,"
             " \"position_embedding_type\": \"absolute\"}\n",
             s->model_type ? s->model_type : "bert", s->vocab, s->positions, s->types, s->hidden, s->layers, s->heads,
             s->intermediate, s->act ? s->act : "gelu", s->eps > 0 ? s->eps : 1e-12);
    return tiny_write_text(dir, "config.json", text);
}

static inline int tiny_write_vocab(const char *dir, const tiny_bert_spec *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    static const char *special[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    int lines = s->vocab_lines ? s->vocab_lines : s->vocab;
    for (int i = 0; i < lines; i++) {
        if (i < 5) fprintf(f, "%s\n", special[i]);
        else fprintf(f, "w%d\n", i);
    }
    return fclose(f);
}

static inline int tiny_write_st_files(const char *dir, const tiny_bert_spec *s) {
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) return -1;
    int cls = s->st_files == 2;
    char text[1024];
    snprintf(text, sizeof text,
             "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
             " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}%s]\n",
             cls ? "" : ", {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}");
    if (tiny_write_text(dir, "modules.json", text)) return -1;
    snprintf(text, sizeof text,
             "{\"word_embedding_dimension\": %d, \"pooling_mode_cls_token\": %s, \"pooling_mode_mean_tokens\": %s,"
             " \"pooling_mode_max_tokens\": false, \"pooling_mode_mean_sqrt_len_tokens\": false}\n",
             s->hidden, cls ? "true" : "false", cls ? "false" : "true");
    return tiny_write_text(sub, "config.json", text);
}

// Writes the model directory (created if missing). 0 on success.
static inline int tiny_bert_write(const char *dir, const tiny_bert_spec *s) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
    if (tiny_write_config(dir, s) || tiny_write_vocab(dir, s) || tiny_write_weights(dir, s)) return -1;
    return s->st_files ? tiny_write_st_files(dir, s) : 0;
}

#endif
