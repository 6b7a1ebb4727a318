#include "common/model/bert_model.h"
#include "common/error.h"
#include "common/fingerprint.h"
#include "common/model/safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *pooling_names[] = {"mean", "cls", "pooler"};

const char *tc_pooling_name(tc_pooling pooling) {
    return (unsigned)pooling < 3 ? pooling_names[pooling] : "?";
}

int tc_pooling_parse(const char *name, tc_pooling *pooling) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, pooling_names[i])) {
            *pooling = (tc_pooling)i;
            return 0;
        }
    return tc_fail("unknown pooling '%s' (mean, cls or pooler)", name);
}

// ---------------------------------------------------------------- layout

size_t tc_bert_param_sizes(const tc_bert_config *c, size_t s[TC_BERT_NUM_PARAMS]) {
    size_t C = (size_t)c->hidden, L = (size_t)c->layers, F = (size_t)c->intermediate;
    s[TC_BERT_WTE] = (size_t)c->vocab_size * C;
    s[TC_BERT_WPE] = (size_t)c->max_positions * C;
    s[TC_BERT_WTT] = (size_t)c->type_vocab_size * C;
    s[TC_BERT_EMB_LN_W] = s[TC_BERT_EMB_LN_B] = C;
    s[TC_BERT_QKV_W] = L * 3 * C * C;
    s[TC_BERT_QKV_B] = L * 3 * C;
    s[TC_BERT_ATTPROJ_W] = L * C * C;
    s[TC_BERT_ATTPROJ_B] = L * C;
    s[TC_BERT_LN1_W] = s[TC_BERT_LN1_B] = L * C;
    s[TC_BERT_FC_W] = L * F * C;
    s[TC_BERT_FC_B] = L * F;
    s[TC_BERT_FCPROJ_W] = L * C * F;
    s[TC_BERT_FCPROJ_B] = L * C;
    s[TC_BERT_LN2_W] = s[TC_BERT_LN2_B] = L * C;
    s[TC_BERT_POOLER_W] = c->has_pooler ? C * C : 0;
    s[TC_BERT_POOLER_B] = c->has_pooler ? C : 0;
    s[TC_BERT_REL_BIAS] = (size_t)c->rel_buckets * (size_t)c->heads;
    size_t total = 0;
    for (int i = 0; i < TC_BERT_NUM_PARAMS; i++) total += s[i];
    return total;
}

void tc_bert_params_point(tc_bert_params *params, void *base, size_t elem_bytes, const tc_bert_config *cfg) {
    size_t sizes[TC_BERT_NUM_PARAMS];
    tc_bert_param_sizes(cfg, sizes);
    char *at = base;
    for (int i = 0; i < TC_BERT_NUM_PARAMS; i++) {
        params->p[i] = at;
        at += sizes[i] * elem_bytes;
    }
}

void *tc_bert_layer_param(const tc_bert_params *params, int which, int layer, size_t elem_bytes,
                          const tc_bert_config *cfg) {
    size_t sizes[TC_BERT_NUM_PARAMS];
    tc_bert_param_sizes(cfg, sizes);
    return (char *)params->p[which] + sizes[which] / (size_t)cfg->layers * (size_t)layer * elem_bytes;
}

// Each kind's tensor name in BertModel's and MPNetModel's files; MPNet's
// q, k and v are three tensors stacked into QKV, as BERT's query, key, value.
static const char *const param_names[2][TC_BERT_NUM_PARAMS] = {
    [TC_ARCH_BERT] = {
        [TC_BERT_WTE] = "embeddings.word_embeddings.weight",
        [TC_BERT_WPE] = "embeddings.position_embeddings.weight",
        [TC_BERT_WTT] = "embeddings.token_type_embeddings.weight",
        [TC_BERT_EMB_LN_W] = "embeddings.LayerNorm.weight",
        [TC_BERT_EMB_LN_B] = "embeddings.LayerNorm.bias",
        [TC_BERT_QKV_W] = "encoder.layer.*.attention.self.{query,key,value}.weight",
        [TC_BERT_QKV_B] = "encoder.layer.*.attention.self.{query,key,value}.bias",
        [TC_BERT_ATTPROJ_W] = "encoder.layer.*.attention.output.dense.weight",
        [TC_BERT_ATTPROJ_B] = "encoder.layer.*.attention.output.dense.bias",
        [TC_BERT_LN1_W] = "encoder.layer.*.attention.output.LayerNorm.weight",
        [TC_BERT_LN1_B] = "encoder.layer.*.attention.output.LayerNorm.bias",
        [TC_BERT_FC_W] = "encoder.layer.*.intermediate.dense.weight",
        [TC_BERT_FC_B] = "encoder.layer.*.intermediate.dense.bias",
        [TC_BERT_FCPROJ_W] = "encoder.layer.*.output.dense.weight",
        [TC_BERT_FCPROJ_B] = "encoder.layer.*.output.dense.bias",
        [TC_BERT_LN2_W] = "encoder.layer.*.output.LayerNorm.weight",
        [TC_BERT_LN2_B] = "encoder.layer.*.output.LayerNorm.bias",
        [TC_BERT_POOLER_W] = "pooler.dense.weight",
        [TC_BERT_POOLER_B] = "pooler.dense.bias",
    },
    [TC_ARCH_MPNET] = {
        [TC_BERT_WTE] = "embeddings.word_embeddings.weight",
        [TC_BERT_WPE] = "embeddings.position_embeddings.weight",
        [TC_BERT_EMB_LN_W] = "embeddings.LayerNorm.weight",
        [TC_BERT_EMB_LN_B] = "embeddings.LayerNorm.bias",
        [TC_BERT_QKV_W] = "encoder.layer.*.attention.attn.{q,k,v}.weight",
        [TC_BERT_QKV_B] = "encoder.layer.*.attention.attn.{q,k,v}.bias",
        [TC_BERT_ATTPROJ_W] = "encoder.layer.*.attention.attn.o.weight",
        [TC_BERT_ATTPROJ_B] = "encoder.layer.*.attention.attn.o.bias",
        [TC_BERT_LN1_W] = "encoder.layer.*.attention.LayerNorm.weight",
        [TC_BERT_LN1_B] = "encoder.layer.*.attention.LayerNorm.bias",
        [TC_BERT_FC_W] = "encoder.layer.*.intermediate.dense.weight",
        [TC_BERT_FC_B] = "encoder.layer.*.intermediate.dense.bias",
        [TC_BERT_FCPROJ_W] = "encoder.layer.*.output.dense.weight",
        [TC_BERT_FCPROJ_B] = "encoder.layer.*.output.dense.bias",
        [TC_BERT_LN2_W] = "encoder.layer.*.output.LayerNorm.weight",
        [TC_BERT_LN2_B] = "encoder.layer.*.output.LayerNorm.bias",
        [TC_BERT_POOLER_W] = "pooler.dense.weight",
        [TC_BERT_POOLER_B] = "pooler.dense.bias",
        [TC_BERT_REL_BIAS] = "encoder.relative_attention_bias.weight",
    },
};

const char *tc_bert_param_name(tc_arch arch, int which) {
    return (unsigned)arch < 2 && (unsigned)which < TC_BERT_NUM_PARAMS ? param_names[arch][which] : NULL;
}

// transformers' MPNetEncoder.relative_position_bucket, step for step in f32
// (the boundaries n = 16, 32, 64 land on whole numbers there and here).
int tc_rel_bucket(int distance) {
    const int half = TC_REL_BUCKETS / 2, exact = half / 2;
    int n = -distance, bucket = n < 0 ? half : 0;
    n = abs(n);
    if (n < exact) return bucket + n;
    float scaled = logf((float)n / (float)exact) / (float)log((double)TC_REL_MAX_DISTANCE / exact) * (float)(half - exact);
    int large = exact + (int)scaled;
    return bucket + (large < half - 1 ? large : half - 1);
}

// ---------------------------------------------------------------- config.json

static int json_int(json_t *root, const char *path, const char *key, int required, int fallback, int min,
                    int max, int *out) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        if (required) return tc_fail("%s: '%s' is missing", path, key);
        *out = fallback;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return tc_fail("%s: '%s' must be an integer in %d..%d", path, key, min, max);
    *out = (int)json_integer_value(v);
    return 0;
}

// BERT or MPNet: the architecture is named in model_type (or, in old
// files, architectures[0]); anything else is refused by name.
static int check_architecture(json_t *root, const char *path, tc_arch *arch) {
    json_t *type = json_object_get(root, "model_type");
    if (json_is_string(type)) {
        const char *name = json_string_value(type);
        if (!strcmp(name, "bert")) *arch = TC_ARCH_BERT;
        else if (!strcmp(name, "mpnet")) *arch = TC_ARCH_MPNET;
        else return tc_fail("%s: model_type '%s' is not supported (bert or mpnet)", path, name);
    } else {
        json_t *first = json_array_get(json_object_get(root, "architectures"), 0);
        if (!json_is_string(first)) return tc_fail("%s: no model_type: cannot tell the architecture", path);
        const char *name = json_string_value(first);
        if (!strncmp(name, "Bert", 4)) *arch = TC_ARCH_BERT;
        else if (!strncmp(name, "MPNet", 5)) *arch = TC_ARCH_MPNET;
        else return tc_fail("%s: architecture '%s' is not supported (BERT or MPNet)", path, name);
    }
    json_t *pos = json_object_get(root, "position_embedding_type");
    if (json_is_string(pos) && strcmp(json_string_value(pos), "absolute"))
        return tc_fail("%s: position_embedding_type '%s' is not supported (absolute only)", path,
                       json_string_value(pos));
    return 0;
}

static int parse_activation(json_t *root, const char *path, tc_activation *act) {
    json_t *v = json_object_get(root, "hidden_act");
    const char *name = json_is_string(v) ? json_string_value(v) : "gelu";
    if (!strcmp(name, "gelu")) *act = TC_ACT_GELU;
    else if (!strcmp(name, "gelu_new") || !strcmp(name, "gelu_pytorch_tanh")) *act = TC_ACT_GELU_TANH;
    else if (!strcmp(name, "relu")) *act = TC_ACT_RELU;
    else return tc_fail("%s: hidden_act '%s' is not supported (gelu, gelu_new, relu)", path, name);
    return 0;
}

int tc_bert_config_load(tc_bert_config *cfg, const char *path) {
    memset(cfg, 0, sizeof *cfg);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        struct stat sb;
        if (stat(path, &sb) != 0) return tc_fail("%s: missing (a model directory has config.json)", path);
        return tc_fail("%s: not valid JSON (%s, line %d)", path, err.text, err.line);
    }
    int rc = json_is_object(root) ? check_architecture(root, path, &cfg->arch) : tc_fail("%s: not a JSON object", path);
    int mpnet = cfg->arch == TC_ARCH_MPNET;
    if (!rc)
        rc = json_int(root, path, "vocab_size", 1, 0, 1, 1 << 24, &cfg->vocab_size) ||
             json_int(root, path, "hidden_size", 1, 0, 1, 1 << 16, &cfg->hidden) ||
             json_int(root, path, "num_hidden_layers", 1, 0, 1, 1024, &cfg->layers) ||
             json_int(root, path, "num_attention_heads", 1, 0, 1, 1 << 12, &cfg->heads) ||
             json_int(root, path, "intermediate_size", 1, 0, 1, 1 << 18, &cfg->intermediate) ||
             json_int(root, path, "max_position_embeddings", 1, 0, 1, 1 << 20, &cfg->max_positions) ||
             (!mpnet && json_int(root, path, "type_vocab_size", 0, 2, 1, 1 << 16, &cfg->type_vocab_size)) ||
             json_int(root, path, "pad_token_id", 0, mpnet ? 1 : 0, 0, 1 << 24, &cfg->pad_id) ||
             (mpnet && json_int(root, path, "relative_attention_num_buckets", 0, TC_REL_BUCKETS, TC_REL_BUCKETS, 1 << 16,
                                &cfg->rel_buckets)) ||
             parse_activation(root, path, &cfg->act);
    if (!rc && mpnet) {
        // transformers' MPNetEmbeddings fixes its padding index at 1, whatever
        // pad_token_id says; positions count from it + 1
        // (create_position_ids_from_input_ids)
        cfg->pad_id = 1;
        cfg->pos_offset = cfg->pad_id + 1;
        if (cfg->pos_offset >= cfg->max_positions)
            rc = tc_fail("%s: max_position_embeddings %d leaves no position after the padding one (%d)", path,
                         cfg->max_positions, cfg->pad_id);
    }
    if (!rc && cfg->hidden % cfg->heads)
        rc = tc_fail("%s: hidden_size %d is not a multiple of num_attention_heads %d", path, cfg->hidden, cfg->heads);
    json_t *eps = json_object_get(root, "layer_norm_eps");
    cfg->ln_eps = 1e-12f;
    if (!rc && eps) {
        if (!json_is_number(eps) || json_number_value(eps) <= 0 || json_number_value(eps) >= 1)
            rc = tc_fail("%s: layer_norm_eps must be a number in (0, 1)", path);
        else cfg->ln_eps = (float)json_number_value(eps);
    }
    json_decref(root);
    return rc;
}

// ---------------------------------------------------------------- weights

// The prefix in front of "embeddings.word_embeddings.weight": "" or "bert."
// (or any other wrapper's), whichever the file uses.
static int find_prefix(const tc_safetensors *st, char *prefix, size_t size) {
    static const char suffix[] = "embeddings.word_embeddings.weight";
    size_t best = SIZE_MAX, n = strlen(suffix);
    for (size_t i = 0; i < st->n_tensors; i++) {
        size_t len = strlen(st->tensors[i].name);
        if (len >= n && !strcmp(st->tensors[i].name + len - n, suffix) && len - n < best && len - n < size) {
            best = len - n;
            memcpy(prefix, st->tensors[i].name, best);
            prefix[best] = 0;
        }
    }
    if (best == SIZE_MAX) return tc_fail("%s: no tensor '%s' (is this a BERT model?)", st->path, suffix);
    return 0;
}

// config.json decides the sizes the parameters are allocated with; each is
// checked against the tensor that has it before anything is allocated, so
// that a config out of step with its weights fails naming both, not as an
// allocation of the config's size or a shape error deep in the load.
static int check_size(const tc_safetensors *st, const char *prefix, const char *name, int axis, int want,
                      const char *field) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const tc_st_tensor *t = tc_safetensors_find(st, full);
    if (!t) return tc_fail("%s: no tensor '%s'", st->path, full);
    if (t->rank != 2) return 0;  // the read names both shapes
    if (t->shape[axis] != want)
        return tc_fail("%s: tensor '%s' has %lld %s but config.json says %s %d", st->path, full,
                       (long long)t->shape[axis], axis ? "columns" : "rows", field, want);
    return 0;
}

// The encoder layers present: one past the highest N of PREFIXencoder.layer.N.*
// (*name: one of that layer's tensors).
static long layers_present(const tc_safetensors *st, const char *prefix, const char **name) {
    char stem[300];
    snprintf(stem, sizeof stem, "%sencoder.layer.", prefix);
    size_t n = strlen(stem);
    long layers = 0;
    *name = NULL;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const char *s = st->tensors[i].name;
        if (strncmp(s, stem, n) || s[n] < '0' || s[n] > '9') continue;
        char *end;
        long l = strtol(s + n, &end, 10);
        if (*end == '.' && l >= layers && l < 1 << 20) layers = l + 1, *name = s;
    }
    return layers;
}

static int check_config_sizes(const tc_safetensors *st, const char *prefix, const tc_bert_config *c) {
    if (check_size(st, prefix, "embeddings.word_embeddings.weight", 1, c->hidden, "hidden_size") ||
        check_size(st, prefix, "embeddings.word_embeddings.weight", 0, c->vocab_size, "vocab_size") ||
        check_size(st, prefix, "embeddings.position_embeddings.weight", 0, c->max_positions, "max_position_embeddings") ||
        (c->type_vocab_size &&
         check_size(st, prefix, "embeddings.token_type_embeddings.weight", 0, c->type_vocab_size, "type_vocab_size")) ||
        (c->rel_buckets && check_size(st, prefix, "encoder.relative_attention_bias.weight", 0, c->rel_buckets,
                                      "relative_attention_num_buckets")) ||
        check_size(st, prefix, "encoder.layer.0.intermediate.dense.weight", 0, c->intermediate, "intermediate_size"))
        return -1;
    const char *last;
    long present = layers_present(st, prefix, &last);
    if (present > c->layers)
        return tc_fail("%s: tensor '%s' is there but config.json says num_hidden_layers %d: layers would be dropped",
                       st->path, last, c->layers);
    if (present < c->layers)
        return tc_fail("%s: %ld encoder layers but config.json says num_hidden_layers %d (no tensor '%sencoder.layer.%ld.*')",
                       st->path, present, c->layers, prefix, present);
    return 0;
}

typedef struct {
    const tc_safetensors *st;
    const char *prefix;
    const char *ln_w, *ln_b;   // "LayerNorm.weight"/".bias" or the old ".gamma"/".beta"
} weight_reader;

static int read_tensor(const weight_reader *r, const char *name, int rank, int64_t d0, int64_t d1, float *dst) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", r->prefix, name);
    int64_t shape[2] = {d0, d1};
    return tc_safetensors_read_f32(r->st, full, rank, shape, dst);
}

static int read_layer(const weight_reader *r, tc_bert_model *m, int l) {
    const tc_bert_config *c = &m->cfg;
    int64_t C = c->hidden, F = c->intermediate;
    size_t f = sizeof(float);
    float *qkv_w = tc_bert_layer_param(&m->params, TC_BERT_QKV_W, l, f, c);
    float *qkv_b = tc_bert_layer_param(&m->params, TC_BERT_QKV_B, l, f, c);
    int mpnet = c->arch == TC_ARCH_MPNET;
    static const char *qkv[2][3] = {{"self.query", "self.key", "self.value"}, {"attn.q", "attn.k", "attn.v"}};
    char name[256];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "encoder.layer.%d.attention.%s.weight", l, qkv[mpnet][i]);
        if (read_tensor(r, name, 2, C, C, qkv_w + i * C * C)) return -1;
        snprintf(name, sizeof name, "encoder.layer.%d.attention.%s.bias", l, qkv[mpnet][i]);
        if (read_tensor(r, name, 1, C, 0, qkv_b + i * C)) return -1;
    }
    const char *attproj = mpnet ? "attn.o" : "output.dense", *ln1 = mpnet ? "" : "output.";
    struct {
        int which;
        const char *fmt;
        int rank;
        int64_t d0, d1;
    } parts[] = {
        {TC_BERT_ATTPROJ_W, "encoder.layer.%d.attention.%s.weight", 2, C, C},
        {TC_BERT_ATTPROJ_B, "encoder.layer.%d.attention.%s.bias", 1, C, 0},
        {TC_BERT_LN1_W, "encoder.layer.%d.attention.%s%s", 1, C, 0},
        {TC_BERT_LN1_B, "encoder.layer.%d.attention.%s%s", 1, C, 0},
        {TC_BERT_FC_W, "encoder.layer.%d.intermediate.dense.weight", 2, F, C},
        {TC_BERT_FC_B, "encoder.layer.%d.intermediate.dense.bias", 1, F, 0},
        {TC_BERT_FCPROJ_W, "encoder.layer.%d.output.dense.weight", 2, C, F},
        {TC_BERT_FCPROJ_B, "encoder.layer.%d.output.dense.bias", 1, C, 0},
        {TC_BERT_LN2_W, "encoder.layer.%d.output.%s", 1, C, 0},
        {TC_BERT_LN2_B, "encoder.layer.%d.output.%s", 1, C, 0},
    };
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        int which = parts[i].which, is_w = which == TC_BERT_LN1_W || which == TC_BERT_LN2_W;
        const char *ln = is_w ? r->ln_w : r->ln_b;
        if (which == TC_BERT_ATTPROJ_W || which == TC_BERT_ATTPROJ_B) snprintf(name, sizeof name, parts[i].fmt, l, attproj);
        else if (which == TC_BERT_LN1_W || which == TC_BERT_LN1_B) snprintf(name, sizeof name, parts[i].fmt, l, ln1, ln);
        else snprintf(name, sizeof name, parts[i].fmt, l, ln);
        float *dst = tc_bert_layer_param(&m->params, parts[i].which, l, f, c);
        if (read_tensor(r, name, parts[i].rank, parts[i].d0, parts[i].d1, dst)) return -1;
    }
    return 0;
}

static int read_weights(tc_bert_model *m, const tc_safetensors *st) {
    char prefix[256];
    if (find_prefix(st, prefix, sizeof prefix)) return -1;
    char probe[512];
    snprintf(probe, sizeof probe, "%sembeddings.LayerNorm.gamma", prefix);
    int old_ln = tc_safetensors_find(st, probe) != NULL;
    weight_reader r = {st, prefix, old_ln ? "LayerNorm.gamma" : "LayerNorm.weight",
                       old_ln ? "LayerNorm.beta" : "LayerNorm.bias"};
    // vocab.txt is checked against the embedding matrix later
    snprintf(probe, sizeof probe, "%spooler.dense.weight", prefix);
    m->cfg.has_pooler = tc_safetensors_find(st, probe) != NULL;
    if (check_config_sizes(st, prefix, &m->cfg)) return -1;
    const tc_bert_config *c = &m->cfg;
    m->n_params = tc_bert_param_sizes(c, (size_t[TC_BERT_NUM_PARAMS]){0});
    // every weight comes from the file at 2 bytes or more (F16, BF16, F32):
    // sizes it cannot hold are refused before they are allocated
    if (m->n_params > st->map_size / 2)
        return tc_fail("%s: config.json's sizes make %zu weights, more than this %zu-byte file holds: not this "
                       "model's weights", st->path, m->n_params, st->map_size);
    m->params_memory = tc_malloc_array(m->n_params, sizeof(float));
    if (!m->params_memory) return -1;
    tc_bert_params_point(&m->params, m->params_memory, sizeof(float), c);
    float **p = (float **)m->params.p;
    char ln_w[64], ln_b[64];
    snprintf(ln_w, sizeof ln_w, "embeddings.%s", r.ln_w);
    snprintf(ln_b, sizeof ln_b, "embeddings.%s", r.ln_b);
    if (read_tensor(&r, "embeddings.word_embeddings.weight", 2, c->vocab_size, c->hidden, p[TC_BERT_WTE]) ||
        read_tensor(&r, "embeddings.position_embeddings.weight", 2, c->max_positions, c->hidden, p[TC_BERT_WPE]) ||
        (c->type_vocab_size && read_tensor(&r, "embeddings.token_type_embeddings.weight", 2, c->type_vocab_size,
                                           c->hidden, p[TC_BERT_WTT])) ||
        (c->rel_buckets && read_tensor(&r, "encoder.relative_attention_bias.weight", 2, c->rel_buckets, c->heads,
                                       p[TC_BERT_REL_BIAS])) ||
        read_tensor(&r, ln_w, 1, c->hidden, 0, p[TC_BERT_EMB_LN_W]) ||
        read_tensor(&r, ln_b, 1, c->hidden, 0, p[TC_BERT_EMB_LN_B]))
        return -1;
    for (int l = 0; l < c->layers; l++)
        if (read_layer(&r, m, l)) return -1;
    if (c->has_pooler &&
        (read_tensor(&r, "pooler.dense.weight", 2, c->hidden, c->hidden, p[TC_BERT_POOLER_W]) ||
         read_tensor(&r, "pooler.dense.bias", 1, c->hidden, 0, p[TC_BERT_POOLER_B])))
        return -1;
    uint64_t h = tc_hash64_words(st->map, st->map_size);
    snprintf(m->weights_fingerprint, sizeof m->weights_fingerprint, "%016llx", (unsigned long long)h);
    return 0;
}

// ---------------------------------------------------------------- vocab.txt

static int check_vocab(tc_bert_model *m, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return tc_fail("%s: %s", path, errno == ENOENT ? "missing (a model directory has vocab.txt)" : strerror(errno));
    long lines = 0;
    int c, last = '\n';
    while ((c = getc(f)) != EOF) {
        if (c == '\n') lines++;
        last = c;
    }
    if (last != '\n') lines++;
    int failed = ferror(f);
    fclose(f);
    if (failed) return tc_fail("%s: read failed", path);
    if (lines != m->cfg.vocab_size)
        return tc_fail("%s: %ld lines but the word embeddings have %d rows: not this model's vocabulary", path, lines,
                       m->cfg.vocab_size);
    return tc_file_fingerprint(path, m->vocab_fingerprint);
}

// ---------------------------------------------------------------- sentence-transformers

// A JSON file of the model directory. An optional one that is absent gives
// *out NULL and no error; one that is there must be readable and JSON.
static int load_json(const char *path, int optional, json_t **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && optional) return 0;
        return tc_fail("%s: %s", path, errno == ENOENT ? "missing" : strerror(errno));
    }
    json_error_t err;
    *out = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (!*out) return tc_fail("%s: not valid JSON (%s, line %d)", path, err.text, err.line);
    return 0;
}

// The modes of sentence-transformers' Pooling module; the runtime has two.
static const struct {
    const char *key, *name;  // 1_Pooling/config.json's flag, and its `pooling_mode` name
    int supported;
    tc_pooling pooling;
} pooling_modes[] = {
    {"pooling_mode_cls_token", "cls", 1, TC_POOL_CLS},
    {"pooling_mode_mean_tokens", "mean", 1, TC_POOL_MEAN},
    {"pooling_mode_max_tokens", "max", 0, TC_POOL_MEAN},
    {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens", 0, TC_POOL_MEAN},
    {"pooling_mode_weightedmean_tokens", "weightedmean", 0, TC_POOL_MEAN},
    {"pooling_mode_lasttoken", "lasttoken", 0, TC_POOL_MEAN},
};
enum { N_POOLING_MODES = sizeof pooling_modes / sizeof pooling_modes[0] };

static int pooling_mode_index(const char *key, int by_name) {
    for (int i = 0; i < N_POOLING_MODES; i++)
        if (!strcmp(key, by_name ? pooling_modes[i].name : pooling_modes[i].key)) return i;
    return -1;
}

// The modes a Pooling config turns on (on[i] for pooling_modes[i]), as
// sentence-transformers reads it: a `pooling_mode` name, else the flags,
// pooling_mode_mean_tokens true when absent. Anything else is refused.
static int pooling_flags(json_t *root, const char *path, int on[N_POOLING_MODES]) {
    on[1] = 1;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strncmp(key, "pooling_mode", 12)) continue;
        int i = pooling_mode_index(key, 0);
        if (!strcmp(key, "pooling_mode")) {
            if (!json_is_string(v) || (i = pooling_mode_index(json_string_value(v), 1)) < 0)
                return tc_fail("%s: pooling_mode must be one of cls, mean, max, mean_sqrt_len_tokens, weightedmean, "
                               "lasttoken",
                               path);
            memset(on, 0, N_POOLING_MODES * sizeof *on);
            on[i] = 1;
            return 0;
        }
        if (i < 0) return tc_fail("%s: unknown pooling mode '%s'", path, key);
        if (!json_is_boolean(v)) return tc_fail("%s: '%s' must be true or false", path, key);
        on[i] = json_is_true(v);
    }
    return 0;
}

static int read_st_pooling(tc_bert_model *m, const char *path) {
    json_t *root;
    if (load_json(path, 1, &root)) return -1;
    if (!root) return tc_fail("%s: missing (modules.json lists a Pooling module there)", path);
    int on[N_POOLING_MODES] = {0}, rc = json_is_object(root) ? pooling_flags(root, path, on)
                                                             : tc_fail("%s: not a JSON object", path);
    json_t *dim = json_object_get(root, "word_embedding_dimension");
    if (!rc && dim && (!json_is_integer(dim) || json_integer_value(dim) != m->cfg.hidden))
        rc = tc_fail("%s: word_embedding_dimension is not config.json's hidden_size %d", path, m->cfg.hidden);
    json_decref(root);
    if (rc) return -1;
    int n = 0, first = -1;
    for (int i = 0; i < N_POOLING_MODES; i++)
        if (on[i]) {
            if (n++ == 1)
                snprintf(m->st_unsupported_pooling, sizeof m->st_unsupported_pooling, "%s and %s together",
                         pooling_modes[first].key, pooling_modes[i].key);
            if (first < 0) first = i;
        }
    if (n == 0) return tc_fail("%s: every pooling mode is false", path);
    if (n == 1 && !pooling_modes[first].supported)
        snprintf(m->st_unsupported_pooling, sizeof m->st_unsupported_pooling, "%s", pooling_modes[first].key);
    m->default_pooling = pooling_modes[first].pooling;
    return 0;
}

// modules.json lists the pipeline: Transformer, Pooling (its config in a
// sub-directory), Normalize. Without it: mean pooling, not normalized, as
// sentence-transformers does for a bare Hugging Face model. A list that is
// there but damaged is refused: reading past it would silently drop the
// normalization or the pooling it asks for.
static int read_st_modules(tc_bert_model *m, const char *path) {
    json_t *root;
    if (load_json(path, 1, &root)) return -1;
    if (!root) return 0;
    m->st_has_modules = 1;
    int rc = json_is_array(root) ? 0 : tc_fail("%s: not a JSON array of modules", path);
    size_t i;
    json_t *module;
    json_array_foreach(root, i, module) {
        if (rc) break;
        const char *type = json_string_value(json_object_get(module, "type"));
        json_t *sub = json_object_get(module, "path");
        if (!type) {
            rc = tc_fail("%s: module %zu has no \"type\" string", path, i);
        } else if (!strcmp(type, "sentence_transformers.models.Normalize")) {
            m->default_normalize = 1;
        } else if (!strcmp(type, "sentence_transformers.models.Pooling")) {
            char sub_path[4096];
            if (!json_is_string(sub)) rc = tc_fail("%s: module %zu (Pooling) has no \"path\" string", path, i);
            else snprintf(sub_path, sizeof sub_path, "%s/%s/config.json", m->dir, json_string_value(sub));
            if (!rc) rc = read_st_pooling(m, sub_path);
        } else if (strcmp(type, "sentence_transformers.models.Transformer")) {
            snprintf(m->st_unsupported_module, sizeof m->st_unsupported_module, "%s", type);
        }
    }
    json_decref(root);
    return rc;
}

int tc_bert_st_settings_load(tc_bert_model *m) {
    char path[4096];
    m->default_pooling = TC_POOL_MEAN;
    m->default_normalize = 0;
    snprintf(path, sizeof path, "%s/modules.json", m->dir);
    if (read_st_modules(m, path)) return -1;
    snprintf(path, sizeof path, "%s/sentence_bert_config.json", m->dir);
    json_t *root;
    if (load_json(path, 1, &root)) return -1;
    json_t *len = json_object_get(root, "max_seq_length");
    int rc = 0;
    if (root && !json_is_object(root)) rc = tc_fail("%s: not a JSON object", path);
    else if (len && (!json_is_integer(len) || json_integer_value(len) < 1 || json_integer_value(len) > 1 << 20))
        rc = tc_fail("%s: max_seq_length must be an integer in 1..%d", path, 1 << 20);
    else if (len) m->st_max_seq_length = (int)json_integer_value(len);
    json_decref(root);
    return rc;
}

int tc_bert_model_load(tc_bert_model *m, const char *dir) {
    memset(m, 0, sizeof *m);
    struct stat sb;
    if (stat(dir, &sb) != 0) return tc_fail("%s: no such model directory", dir);
    if (!S_ISDIR(sb.st_mode)) return tc_fail("%s: not a directory (a model is a directory)", dir);
    m->dir = strdup(dir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    const char *base = dir + len;
    while (base > dir && base[-1] != '/') base--;
    m->name = strndup(base, (size_t)(dir + len - base));
    if (!m->dir || !m->name) return tc_fail("out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (tc_bert_config_load(&m->cfg, path)) goto fail;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (stat(path, &sb) != 0) {
        tc_fail("%s: missing (a model directory has model.safetensors)", path);
        goto fail;
    }
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) goto fail;
    int rc = read_weights(m, &st);
    tc_safetensors_close(&st);
    if (rc) goto fail;
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    if (check_vocab(m, path) || tc_bert_st_settings_load(m)) goto fail;
    return 0;
fail:
    tc_bert_model_free(m);
    return -1;
}

void tc_bert_model_free(tc_bert_model *m) {
    free(m->dir);
    free(m->name);
    free(m->params_memory);
    memset(m, 0, sizeof *m);
}

int tc_bert_check_tokens(const tc_bert_model *m, const char *where, const tct_attr *attrs, size_t n_attrs) {
    const char *fp = tct_attr_get(attrs, n_attrs, "vocab_fingerprint");
    if (fp && strcmp(fp, m->vocab_fingerprint))
        return tc_fail("%s: tokens were made with another vocabulary (vocab_fingerprint %s; %s/vocab.txt is %s)",
                       where, fp, m->dir, m->vocab_fingerprint);
    const char *size = tct_attr_get(attrs, n_attrs, "vocab_size");
    if (size && atol(size) != m->cfg.vocab_size)
        return tc_fail("%s: tokens were made with a vocabulary of %s entries; the model has %d", where, size,
                       m->cfg.vocab_size);
    return 0;
}
