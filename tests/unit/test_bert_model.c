// Loading BERT model directories: tiny random models of several shapes and
// layouts (prefix or none, pooler or none, old layer-norm names, F16/BF16
// weights), the sentence-transformers settings, and one test per load error.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "tests/tiny_bert.h"
#include "common/model/bert_model.h"
#include "common/error.h"
#include "common/fingerprint.h"

#include <unistd.h>

static char dir[1024];

static const char *model_dir(const char *name) {
    snprintf(dir, sizeof dir, "%s/%s", harness_tmpdir(), name);
    return dir;
}

// The loaded parameters equal the file's tensors, read back by name.
static int params_match_file(const tc_bert_model *m, const char *prefix) {
    char path[2048], name[256];
    snprintf(path, sizeof path, "%s/model.safetensors", m->dir);
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) return 0;
    const tc_bert_config *c = &m->cfg;
    int64_t C = c->hidden, F = c->intermediate, sq[2] = {C, C}, fc[2] = {F, C}, vc[2] = {c->vocab_size, C};
    float *buf = malloc((size_t)(F > c->vocab_size ? F : c->vocab_size) * (size_t)C * 4);
    int ok = 1;
    snprintf(name, sizeof name, "%sembeddings.word_embeddings.weight", prefix);
    ok &= tc_safetensors_read_f32(&st, name, 2, vc, buf) == 0 &&
          !memcmp(buf, m->params.p[TC_BERT_WTE], (size_t)c->vocab_size * C * 4);
    for (int l = 0; l < c->layers && ok; l++) {
        static const char *qkv[3] = {"query", "key", "value"};
        const float *w = tc_bert_layer_param(&m->params, TC_BERT_QKV_W, l, 4, c);
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "%sencoder.layer.%d.attention.self.%s.weight", prefix, l, qkv[i]);
            ok &= tc_safetensors_read_f32(&st, name, 2, sq, buf) == 0 && !memcmp(buf, w + i * C * C, (size_t)(C * C * 4));
        }
        snprintf(name, sizeof name, "%sencoder.layer.%d.intermediate.dense.weight", prefix, l);
        ok &= tc_safetensors_read_f32(&st, name, 2, fc, buf) == 0 &&
              !memcmp(buf, tc_bert_layer_param(&m->params, TC_BERT_FC_W, l, 4, c), (size_t)(F * C * 4));
    }
    free(buf);
    tc_safetensors_close(&st);
    return ok;
}

static void test_load_shapes_and_layouts(void) {
    struct {
        int hidden, heads, layers, inter, pooler, old_ln;
        const char *prefix, *act;
        tc_activation want_act;
    } cases[] = {
        {16, 4, 2, 40, 0, 0, "bert.", "gelu", TC_ACT_GELU},
        {30, 3, 1, 17, 1, 0, "", "gelu_new", TC_ACT_GELU_TANH},
        {35, 5, 3, 64, 1, 1, "bert.", "relu", TC_ACT_RELU},
        {8, 1, 1, 8, 0, 1, "", "gelu_pytorch_tanh", TC_ACT_GELU_TANH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tiny_bert_spec s = tiny_bert_default();
        s.hidden = cases[i].hidden, s.heads = cases[i].heads, s.layers = cases[i].layers;
        s.intermediate = cases[i].inter, s.pooler = cases[i].pooler, s.old_ln_names = cases[i].old_ln;
        s.prefix = cases[i].prefix, s.act = cases[i].act, s.eps = 1e-5f, s.seed = i + 1;
        ENSURE(tiny_bert_write(model_dir("shapes"), &s) == 0);
        tc_bert_model m;
        ENSURE(tc_bert_model_load(&m, dir) == 0);
        const tc_bert_config *c = &m.cfg;
        CHECK(c->hidden == s.hidden && c->heads == s.heads && c->layers == s.layers && c->intermediate == s.intermediate);
        CHECK(c->vocab_size == 50 && c->max_positions == 24 && c->type_vocab_size == 2);
        CHECK(c->has_pooler == s.pooler && c->act == cases[i].want_act && fabsf(c->ln_eps - 1e-5f) < 1e-12f);
        CHECKF(params_match_file(&m, s.prefix), "case %zu", i);
        CHECK(!strcmp(m.name, "shapes"));
        char fp[17], vocab[1100];
        snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
        CHECK(tc_file_fingerprint(vocab, fp) == 0 && !strcmp(fp, m.vocab_fingerprint));
        CHECK(strlen(m.weights_fingerprint) == 16);
        CHECK(m.default_pooling == TC_POOL_MEAN && m.default_normalize == 0 && m.st_max_seq_length == 0 && !m.st_has_modules);
        tc_bert_model_free(&m);
    }
}

static void test_half_precision_weights(void) {
    tiny_bert_spec s = tiny_bert_default();
    tc_bert_model ref, m;
    ENSURE(tiny_bert_write(model_dir("f32"), &s) == 0);
    ENSURE(tc_bert_model_load(&ref, dir) == 0);
    for (int k = 0; k < 2; k++) {
        s.dtype = k ? TC_ST_BF16 : TC_ST_F16;
        ENSURE(tiny_bert_write(model_dir("half"), &s) == 0);
        ENSURE(tc_bert_model_load(&m, dir) == 0);
        ENSURE(m.n_params == ref.n_params);
        CHECKF(harness_close("half weights", m.params_memory, ref.params_memory, m.n_params, 1e-7, k ? 4e-3 : 5e-4),
               "%s", k ? "bf16" : "f16");
        tc_bert_model_free(&m);
    }
    tc_bert_model_free(&ref);
}

static void write_file(const char *d, const char *name, const char *text) {
    CHECK(tiny_write_text(d, name, text) == 0);
}

static void test_sentence_transformers_settings(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.st_files = 1;
    ENSURE(tiny_bert_write(model_dir("st"), &s) == 0);
    write_file(dir, "sentence_bert_config.json", "{\"max_seq_length\": 256, \"do_lower_case\": false}");
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, dir) == 0);
    CHECK(m.default_pooling == TC_POOL_MEAN && m.default_normalize == 1 && m.st_max_seq_length == 256);
    CHECK(!m.st_unsupported_pooling[0] && !m.st_unsupported_module[0]);
    tc_bert_model_free(&m);
    s.st_files = 2;
    ENSURE(tiny_bert_write(model_dir("st_cls"), &s) == 0);
    ENSURE(tc_bert_model_load(&m, dir) == 0);
    CHECK(m.default_pooling == TC_POOL_CLS && m.default_normalize == 0);
    tc_bert_model_free(&m);
    // what the runtime cannot do is recorded, for tc-encode to refuse
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
    write_file(sub, "config.json", "{\"pooling_mode_max_tokens\": true}");
    write_file(dir, "modules.json",
               "[{\"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
               " {\"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]");
    ENSURE(tc_bert_model_load(&m, dir) == 0);
    // pooling_mode_mean_tokens is true when absent, as in sentence-transformers
    CHECK(!strcmp(m.st_unsupported_pooling, "pooling_mode_mean_tokens and pooling_mode_max_tokens together"));
    CHECK(!strcmp(m.st_unsupported_module, "sentence_transformers.models.Dense"));
    tc_bert_model_free(&m);
}

// Loading `d` fails with a message containing every needle.
static int load_fails(const char *d, const char *needle1, const char *needle2) {
    tc_bert_model m;
    if (tc_bert_model_load(&m, d) == 0) {
        tc_bert_model_free(&m);
        printf("  %s loaded\n", d);
        return 0;
    }
    if (!strstr(tc_error(), needle1) || (needle2 && !strstr(tc_error(), needle2))) {
        printf("  message: %s\n", tc_error());
        return 0;
    }
    CHECK(!strchr(tc_error(), '\n'));
    return 1;
}

static void test_load_errors(void) {
    tiny_bert_spec s = tiny_bert_default();
    char path[1100];
    CHECK(load_fails(model_dir("absent"), "no such model directory", "absent"));
    ENSURE(tiny_bert_write(model_dir("e_files"), &s) == 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(load_fails(path, "not a directory", NULL));
    remove(path);
    CHECK(load_fails(dir, "config.json: missing", NULL));
    write_file(dir, "config.json", "{\"model_type\": \"bert\", oops");
    CHECK(load_fails(dir, "config.json: not valid JSON", NULL));
    ENSURE(tiny_bert_write(dir, &s) == 0);
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    remove(path);
    CHECK(load_fails(dir, "vocab.txt: missing", NULL));
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    CHECK(load_fails(dir, "model.safetensors: missing", NULL));

    s.model_type = "roberta";
    ENSURE(tiny_bert_write(model_dir("e_arch"), &s) == 0);
    CHECK(load_fails(dir, "model_type 'roberta' is not supported", "config.json"));
    s.model_type = NULL;
    write_file(dir, "config.json", "{\"architectures\": [\"GPT2LMHeadModel\"], \"vocab_size\": 50}");
    CHECK(load_fails(dir, "architecture 'GPT2LMHeadModel' is not supported", NULL));
    write_file(dir, "config.json",
               "{\"model_type\": \"bert\", \"vocab_size\": 50, \"hidden_size\": 16, \"num_hidden_layers\": 2,"
               " \"num_attention_heads\": 4, \"max_position_embeddings\": 24}");
    CHECK(load_fails(dir, "'intermediate_size' is missing", NULL));
    write_file(dir, "config.json",
               "{\"model_type\": \"bert\", \"vocab_size\": 50, \"hidden_size\": 16, \"num_hidden_layers\": 2,"
               " \"num_attention_heads\": 4, \"max_position_embeddings\": 24, \"intermediate_size\": 40,"
               " \"position_embedding_type\": \"relative_key\"}");
    CHECK(load_fails(dir, "position_embedding_type 'relative_key'", NULL));

    s.heads = 3;
    ENSURE(tiny_bert_write(model_dir("e_heads"), &s) == 0);
    CHECK(load_fails(dir, "hidden_size 16 is not a multiple of num_attention_heads 3", NULL));
    s.heads = 4;
    s.act = "swish";
    ENSURE(tiny_bert_write(model_dir("e_act"), &s) == 0);
    CHECK(load_fails(dir, "hidden_act 'swish' is not supported", NULL));
    s.act = NULL;

    s.skip = "layer.1.attention.self.key.weight";
    ENSURE(tiny_bert_write(model_dir("e_missing"), &s) == 0);
    CHECK(load_fails(dir, "no tensor 'encoder.layer.1.attention.self.key.weight'", "model.safetensors"));
    s.skip = NULL;
    s.prefix = "bert.";
    ENSURE(tiny_bert_write(model_dir("e_shape"), &s) == 0);
    s.intermediate = 41;  // the config now disagrees with the weights
    ENSURE(tiny_write_config(dir, &s) == 0);
    CHECK(load_fails(dir,
                     "tensor 'bert.encoder.layer.0.intermediate.dense.weight' has 40 rows but config.json says "
                     "intermediate_size 41",
                     "model.safetensors"));
    s.intermediate = 40;
    s.skip = "word_embeddings";
    ENSURE(tiny_bert_write(model_dir("e_noemb"), &s) == 0);
    CHECK(load_fails(dir, "no tensor 'embeddings.word_embeddings.weight'", NULL));
    s.skip = NULL;

    s.vocab_lines = 49;
    ENSURE(tiny_bert_write(model_dir("e_vocab"), &s) == 0);
    CHECK(load_fails(dir, "vocab.txt: 49 lines but the word embeddings have 50 rows", NULL));
    s.vocab_lines = 0;
    ENSURE(tiny_bert_write(model_dir("e_vsize"), &s) == 0);
    s.vocab = 60;  // config.json's vocab_size disagrees with the embedding matrix
    ENSURE(tiny_write_config(dir, &s) == 0);
    CHECK(load_fails(dir, "has 50 rows but config.json says vocab_size 60", NULL));
    s.vocab = 50;

    ENSURE(tiny_bert_write(model_dir("e_trunc"), &s) == 0);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct stat sb;
    ENSURE(stat(path, &sb) == 0);
    CHECK(truncate(path, sb.st_size - 100) == 0);
    CHECK(load_fails(dir, "outside the file", "model.safetensors"));
}

// Every size config.json gives is checked against the weights before
// anything is allocated; the layer count both ways.
static void test_config_against_weights(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.layers = 3;
    ENSURE(tiny_bert_write(model_dir("c_layers"), &s) == 0);
    s.layers = 2;  // would silently drop layer 2
    ENSURE(tiny_write_config(dir, &s) == 0);
    CHECK(load_fails(dir, "model.safetensors: tensor 'encoder.layer.2.", "is there but config.json says num_hidden_layers 2"));
    s.layers = 5;
    ENSURE(tiny_write_config(dir, &s) == 0);
    CHECK(load_fails(dir, "3 encoder layers but config.json says num_hidden_layers 5 (no tensor 'encoder.layer.3.*')",
                     NULL));
    s = tiny_bert_default();
    s.prefix = "bert.";
    ENSURE(tiny_bert_write(model_dir("c_sizes"), &s) == 0);
    struct {
        int *field, value;
        const char *needle;
    } cases[] = {
        {&s.hidden, 32, "tensor 'bert.embeddings.word_embeddings.weight' has 16 columns but config.json says hidden_size 32"},
        {&s.positions, 512, "'bert.embeddings.position_embeddings.weight' has 24 rows but config.json says max_position_embeddings 512"},
        {&s.types, 1, "'bert.embeddings.token_type_embeddings.weight' has 2 rows but config.json says type_vocab_size 1"},
        {&s.vocab, 1 << 24, "has 50 rows but config.json says vocab_size 16777216"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int saved = *cases[i].field;
        *cases[i].field = cases[i].value;
        tiny_bert_spec bad = s;
        *cases[i].field = saved;
        ENSURE(tiny_write_config(dir, &bad) == 0);
        CHECKF(load_fails(dir, cases[i].needle, "c_sizes/model.safetensors"), "case %zu", i);
    }
}

// A NaN weight would make every embedding NaN: refused, naming the tensor.
static void test_non_finite_weights(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.nan = "layer.1.output.dense.bias";
    ENSURE(tiny_bert_write(model_dir("nan"), &s) == 0);
    CHECK(load_fails(dir, "model.safetensors: tensor 'encoder.layer.1.output.dense.bias' holds NaN at element 1", NULL));
    s.nan = "word_embeddings";
    s.dtype = TC_ST_F16;
    ENSURE(tiny_bert_write(model_dir("nan16"), &s) == 0);
    CHECK(load_fails(dir, "tensor 'embeddings.word_embeddings.weight' holds NaN", NULL));
}

// A sentence-transformers file that is there but damaged is refused, naming
// it: reading past it would drop the normalization or pooling it asks for.
static void test_damaged_st_files(void) {
    tiny_bert_spec s = tiny_bert_default();
    s.st_files = 1;
    ENSURE(tiny_bert_write(model_dir("st_bad"), &s) == 0);
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
    static const struct {
        const char *modules, *pooling, *sbert, *needle;
    } cases[] = {
        {"[{\"type\": \"sentence_transformers.models.Normalize\"", NULL, NULL, "st_bad/modules.json: not valid JSON"},
        {"{\"type\": \"sentence_transformers.models.Normalize\"}", NULL, NULL, "modules.json: not a JSON array"},
        {"[{\"path\": \"2_Normalize\"}]", NULL, NULL, "modules.json: module 0 has no \"type\" string"},
        {"[{\"type\": 7}]", NULL, NULL, "modules.json: module 0 has no \"type\""},
        {"[\"sentence_transformers.models.Normalize\"]", NULL, NULL, "modules.json: module 0 has no \"type\""},
        {"[{\"type\": \"sentence_transformers.models.Pooling\"}]", NULL, NULL, "module 0 (Pooling) has no \"path\""},
        {"[{\"type\": \"sentence_transformers.models.Pooling\", \"path\": \"9_Gone\"}]", NULL, NULL,
         "st_bad/9_Gone/config.json: missing (modules.json lists a Pooling module there)"},
        {"[{\"type\": \"a\"}, {\"type\": \"a\", \"type\": \"b\"}]", NULL, NULL, "modules.json: not valid JSON (duplicate"},
        {NULL, "{\"pooling_mode_mean_tokens\": true", NULL, "1_Pooling/config.json: not valid JSON"},
        {NULL, "[true]", NULL, "1_Pooling/config.json: not a JSON object"},
        {NULL, "{\"pooling_mode_mean_tokens\": \"yes\"}", NULL, "'pooling_mode_mean_tokens' must be true or false"},
        {NULL, "{\"pooling_mode_mean_tokens\": false, \"pooling_mode_median_tokens\": true}", NULL,
         "1_Pooling/config.json: unknown pooling mode 'pooling_mode_median_tokens'"},
        {NULL, "{\"pooling_mode\": \"median\"}", NULL, "pooling_mode must be one of"},
        {NULL, "{\"pooling_mode_mean_tokens\": false, \"pooling_mode_cls_token\": false}", NULL,
         "1_Pooling/config.json: every pooling mode is false"},
        {NULL, "{\"word_embedding_dimension\": 384, \"pooling_mode_mean_tokens\": true}", NULL,
         "word_embedding_dimension is not config.json's hidden_size 16"},
        {NULL, NULL, "{\"max_seq_length\": \"256\"}", "sentence_bert_config.json: max_seq_length must be an integer"},
        {NULL, NULL, "{\"max_seq_length\": 0}", "max_seq_length must be an integer in 1.."},
        {NULL, NULL, "[256]", "sentence_bert_config.json: not a JSON object"},
    };
    char sbert[1200];
    snprintf(sbert, sizeof sbert, "%s/sentence_bert_config.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ENSURE(tiny_bert_write(dir, &s) == 0);
        remove(sbert);
        if (cases[i].modules) write_file(dir, "modules.json", cases[i].modules);
        if (cases[i].pooling) write_file(sub, "config.json", cases[i].pooling);
        if (cases[i].sbert) write_file(dir, "sentence_bert_config.json", cases[i].sbert);
        CHECKF(load_fails(dir, cases[i].needle, NULL), "case %zu", i);
    }
    // what sentence-transformers reads: pooling_mode by name, mean when no flag says otherwise
    struct {
        const char *pooling;
        tc_pooling want;
        const char *unsupported;
    } ok[] = {
        {"{\"pooling_mode\": \"cls\"}", TC_POOL_CLS, ""},
        {"{\"word_embedding_dimension\": 16}", TC_POOL_MEAN, ""},
        {"{\"pooling_mode_mean_tokens\": false, \"pooling_mode_lasttoken\": true}", TC_POOL_MEAN, "pooling_mode_lasttoken"},
        {"{\"pooling_mode_max_tokens\": true}", TC_POOL_MEAN,
         "pooling_mode_mean_tokens and pooling_mode_max_tokens together"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        ENSURE(tiny_bert_write(dir, &s) == 0);
        remove(sbert);
        write_file(sub, "config.json", ok[i].pooling);
        tc_bert_model m;
        CHECKF(tc_bert_model_load(&m, dir) == 0, "%s", tc_error());
        CHECKF(m.default_pooling == ok[i].want && !strcmp(m.st_unsupported_pooling, ok[i].unsupported) &&
                   m.default_normalize == 1 && m.st_has_modules == 1,
               "ok %zu: %s", i, m.st_unsupported_pooling);
        tc_bert_model_free(&m);
    }
    // the settings alone, as a fuzzer calls them: only the directory and the hidden size are needed
    tc_bert_model bare = {.dir = dir, .cfg = {.hidden = 16}};
    CHECKF(tc_bert_st_settings_load(&bare) == 0 && bare.default_normalize == 1 && bare.st_has_modules, "%s", tc_error());
    bare.cfg.hidden = 8;
    write_file(sub, "config.json", "{\"word_embedding_dimension\": 16}");
    CHECK(tc_bert_st_settings_load(&bare) == -1 && strstr(tc_error(), "hidden_size 8"));
    // a Normalize module needs no directory of its own (the real models have none)
    char path[1200];
    snprintf(path, sizeof path, "%s/2_Normalize", dir);
    CHECK(access(path, F_OK) != 0);
}

// A config.json whose sizes the weights cannot hold is refused before the
// parameters are allocated (1024 layers of 2^18 were a 35 GB allocation
// for a 4 KB directory).
static void test_sizes_beyond_file(void) {
    tiny_bert_spec s = tiny_bert_default();
    ENSURE(tiny_bert_write(model_dir("e_huge"), &s) == 0);
    s.layers = 1024;
    s.intermediate = 1 << 18;
    ENSURE(tiny_write_config(dir, &s) == 0);
    // the sizes are checked against the tensors first; the weights' count
    // against the file's size stays behind it as a second guard
    CHECK(load_fails(dir, "has 40 rows but config.json says intermediate_size 262144", "e_huge/model.safetensors"));
}

static void test_token_checks(void) {
    tiny_bert_spec s = tiny_bert_default();
    ENSURE(tiny_bert_write(model_dir("tokens"), &s) == 0);
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, dir) == 0);
    tct_attr same[2] = {{"vocab_fingerprint", m.vocab_fingerprint}, {"vocab_size", "50"}};
    CHECK(tc_bert_check_tokens(&m, "t.tct", same, 2) == 0);
    CHECK(tc_bert_check_tokens(&m, "t.tct", NULL, 0) == 0);
    tct_attr other[1] = {{"vocab_fingerprint", "0123456789abcdef"}};
    CHECK(tc_bert_check_tokens(&m, "t.tct", other, 1) == -1);
    CHECKF(strstr(tc_error(), "t.tct: tokens were made with another vocabulary") && strstr(tc_error(), "0123456789abcdef") &&
               strstr(tc_error(), m.vocab_fingerprint),
           "%s", tc_error());
    tct_attr size[1] = {{"vocab_size", "30522"}};
    CHECK(tc_bert_check_tokens(&m, "t.tct", size, 1) == -1 && strstr(tc_error(), "30522"));
    tc_bert_model_free(&m);
}

static void test_parameter_layout(void) {
    tc_bert_config c = {.vocab_size = 10, .max_positions = 7, .type_vocab_size = 2, .hidden = 4, .layers = 3,
                        .heads = 2, .intermediate = 5, .has_pooler = 1};
    size_t sizes[TC_BERT_NUM_PARAMS];
    size_t total = tc_bert_param_sizes(&c, sizes);
    CHECK(total == 40 + 28 + 8 + 4 + 4 + 3 * (48 + 12 + 16 + 4 + 4 + 4 + 20 + 5 + 20 + 4 + 4 + 4) + 16 + 4);
    float *base = calloc(total, 4);
    tc_bert_params p;
    tc_bert_params_point(&p, base, 4, &c);
    CHECK((float *)p.p[TC_BERT_WPE] == base + 40 && (float *)p.p[TC_BERT_POOLER_B] == base + total - 4);
    CHECK((float *)tc_bert_layer_param(&p, TC_BERT_FC_W, 2, 4, &c) == (float *)p.p[TC_BERT_FC_W] + 40);
    c.has_pooler = 0;
    CHECK(tc_bert_param_sizes(&c, sizes) == total - 20 && sizes[TC_BERT_POOLER_W] == 0);
    free(base);
}

int main(void) {
    RUN(test_parameter_layout);
    RUN(test_load_shapes_and_layouts);
    RUN(test_half_precision_weights);
    RUN(test_sentence_transformers_settings);
    RUN(test_load_errors);
    RUN(test_config_against_weights);
    RUN(test_non_finite_weights);
    RUN(test_damaged_st_files);
    RUN(test_sizes_beyond_file);
    RUN(test_token_checks);
    HARNESS_EXIT();
}
