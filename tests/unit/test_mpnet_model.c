// Loading MPNet model directories (model_type "mpnet"): the tiny random
// MPNetModel of tests/golden/train_step_mpnet/model (written by
// transformers), its sizes and tensors, MPNet's positions, and one test per
// load error (an unknown model_type, a missing or mis-shaped tensor, too few
// buckets), each a one-line message naming the file and the tensor.
#include "tests/harness.h"
#include "tests/ensure.h"
#include "common/error.h"
#include "common/model/bert_forward.h"
#include "common/model/safetensors.h"

#include <sys/stat.h>

static char golden_model[2048], dir[1024];

static const char *tmp_model(const char *name) {
    snprintf(dir, sizeof dir, "%s/%s", harness_tmpdir(), name);
    mkdir(dir, 0777);
    return dir;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void write_text(const char *d, const char *name, const char *text) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", d, name);
    FILE *f = fopen(path, "wb");
    if (f) fputs(text, f), fclose(f);
}

// A copy of the golden model in d: config.json with `from` replaced by
// `to` (when given), the tensors but `drop`, and `reshape` (when given)
// stored with one column less.
static int copy_model(const char *d, const char *from, const char *to, const char *drop, const char *reshape) {
    char path[2048], config[8192];
    snprintf(path, sizeof path, "%s/config.json", golden_model);
    const char *text = slurp(path);
    if (!text) return -1;
    snprintf(config, sizeof config, "%s", text);
    char *at = from ? strstr(config, from) : NULL;
    if (at) {
        char tail[8192];
        snprintf(tail, sizeof tail, "%s", at + strlen(from));
        snprintf(at, sizeof config - (size_t)(at - config), "%s%s", to, tail);
    }
    write_text(d, "config.json", config);
    snprintf(path, sizeof path, "%s/vocab.txt", golden_model);
    write_text(d, "vocab.txt", slurp(path));
    snprintf(path, sizeof path, "%s/model.safetensors", golden_model);
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) return -1;
    tc_st_write_tensor *t = calloc(st.n_tensors, sizeof *t);
    size_t n = 0;
    for (size_t i = 0; t && i < st.n_tensors; i++) {
        const tc_st_tensor *s = &st.tensors[i];
        if (drop && !strcmp(s->name, drop)) continue;
        t[n] = (tc_st_write_tensor){.name = s->name, .rank = s->rank, .data = s->data};
        memcpy(t[n].shape, s->shape, sizeof t[n].shape);
        if (reshape && !strcmp(s->name, reshape)) t[n].shape[s->rank - 1]--;
        n++;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    int rc = t ? tc_safetensors_write(path, t, n, NULL, 0) : -1;
    free(t);
    tc_safetensors_close(&st);
    return rc;
}

static int load_fails(const char *d, const char *needle1, const char *needle2) {
    tc_bert_model m;
    if (tc_bert_model_load(&m, d) == 0) {
        tc_bert_model_free(&m);
        printf("  %s loaded\n", d);
        return 0;
    }
    if (!strstr(tc_error(), needle1) || (needle2 && !strstr(tc_error(), needle2)) || strchr(tc_error(), '\n')) {
        printf("  message: %s\n", tc_error());
        return 0;
    }
    return 1;
}

static void test_load_tiny_mpnet(void) {
    tc_bert_model m;
    ENSURE(tc_bert_model_load(&m, golden_model) == 0 || (printf("  %s\n", tc_error()), 0));
    const tc_bert_config *c = &m.cfg;
    CHECK(c->arch == TC_ARCH_MPNET && c->type_vocab_size == 0 && c->pad_id == 1 && c->pos_offset == 2);
    CHECK(c->rel_buckets == 32 && c->max_positions == 26 && tc_bert_max_len(c) == 24 && c->has_pooler);
    CHECK(fabsf(c->ln_eps - 1e-5f) < 1e-12f);
    size_t sizes[TC_BERT_NUM_PARAMS];
    tc_bert_param_sizes(c, sizes);
    CHECK(sizes[TC_BERT_WTT] == 0 && sizes[TC_BERT_REL_BIAS] == 32 * 4);
    // q, k, v stacked in that order; the bias table as stored
    char path[2048];
    snprintf(path, sizeof path, "%s/model.safetensors", golden_model);
    tc_safetensors st;
    ENSURE(tc_safetensors_open(&st, path) == 0);
    float buf[32 * 16];
    int64_t sq[2] = {16, 16}, rel[2] = {32, 4};
    CHECK(tc_safetensors_read_f32(&st, "encoder.layer.1.attention.attn.k.weight", 2, sq, buf) == 0 &&
          !memcmp(buf, (float *)tc_bert_layer_param(&m.params, TC_BERT_QKV_W, 1, 4, c) + 16 * 16, sizeof buf / 2));
    CHECK(tc_safetensors_read_f32(&st, "encoder.relative_attention_bias.weight", 2, rel, buf) == 0 &&
          !memcmp(buf, m.params.p[TC_BERT_REL_BIAS], 32 * 4 * 4));
    CHECK(!strcmp(tc_bert_param_name(TC_ARCH_MPNET, TC_BERT_REL_BIAS), "encoder.relative_attention_bias.weight") &&
          !tc_bert_param_name(TC_ARCH_MPNET, TC_BERT_WTT) && !tc_bert_param_name(TC_ARCH_BERT, TC_BERT_REL_BIAS));
    tc_safetensors_close(&st);
    // sequences are as long as the positions after the padding one allow
    tc_backend *be = tc_backend_cpu_create(1);
    tc_bert_forward *fw = NULL;
    tc_bert_run_options o = {1, 25, 25, TC_POOL_MEAN, 0, 0, 0};
    CHECK(tc_bert_forward_create(&fw, be, &m, &o) == -1 && strstr(tc_error(), "the model has 24 positions"));
    o.max_len = o.max_tokens = 24;
    ENSURE(tc_bert_forward_create(&fw, be, &m, &o) == 0);
    // token types are ignored (MPNet has none); a <pad> inside a text changes the result
    int32_t ids[5] = {0, 7, 8, 9, 2}, types[5] = {0, 1, 1, 1, 1}, len = 5;
    const int32_t *rows[1] = {ids}, *type_rows[1] = {types};
    float a[16], b[16], p[16];
    CHECK(tc_bert_forward_submit(fw, rows, NULL, &len, 1) == 0 && tc_bert_forward_collect(fw, a) == 0);
    CHECK(tc_bert_forward_submit(fw, rows, type_rows, &len, 1) == 0 && tc_bert_forward_collect(fw, b) == 0);
    CHECK(!memcmp(a, b, sizeof a));
    ids[2] = 1;
    CHECK(tc_bert_forward_submit(fw, rows, NULL, &len, 1) == 0 && tc_bert_forward_collect(fw, p) == 0);
    CHECK(memcmp(a, p, sizeof a) != 0);
    tc_bert_forward_free(fw);
    tc_backend_destroy(be);
    tc_bert_model_free(&m);
}

static void test_mpnet_load_errors(void) {
    ENSURE(copy_model(tmp_model("unknown_type"), "\"model_type\": \"mpnet\"", "\"model_type\": \"xlnet\"", NULL,
                      NULL) == 0);
    CHECK(load_fails(dir, "config.json: model_type 'xlnet' is not supported (bert or mpnet)", dir));
    ENSURE(copy_model(tmp_model("few_buckets"), "\"relative_attention_num_buckets\": 32",
                      "\"relative_attention_num_buckets\": 16", NULL, NULL) == 0);
    CHECK(load_fails(dir, "config.json: 'relative_attention_num_buckets' must be an integer in 32..", NULL));
    ENSURE(copy_model(tmp_model("no_bias"), NULL, NULL, "encoder.relative_attention_bias.weight", NULL) == 0);
    CHECK(load_fails(dir, "model.safetensors: no tensor 'encoder.relative_attention_bias.weight'", dir));
    ENSURE(copy_model(tmp_model("bias_shape"), NULL, NULL, NULL, "encoder.relative_attention_bias.weight") == 0);
    CHECK(load_fails(dir, "model.safetensors: tensor 'encoder.relative_attention_bias.weight' has shape [32,3], "
                          "expected [32,4]", dir));
    ENSURE(copy_model(tmp_model("no_q"), NULL, NULL, "encoder.layer.1.attention.attn.q.weight", NULL) == 0);
    CHECK(load_fails(dir, "model.safetensors", "'encoder.layer.1.attention.attn.q.weight'"));
    ENSURE(copy_model(tmp_model("o_shape"), NULL, NULL, NULL, "encoder.layer.0.attention.attn.o.weight") == 0);
    CHECK(load_fails(dir, "model.safetensors", "'encoder.layer.0.attention.attn.o.weight'"));
    ENSURE(copy_model(tmp_model("no_ln1"), NULL, NULL, "encoder.layer.0.attention.LayerNorm.bias", NULL) == 0);
    CHECK(load_fails(dir, "model.safetensors", "'encoder.layer.0.attention.LayerNorm.bias'"));
    ENSURE(copy_model(tmp_model("positions"), "\"max_position_embeddings\": 26", "\"max_position_embeddings\": 2",
                      NULL, NULL) == 0);
    CHECK(load_fails(dir, "max_position_embeddings 2 leaves no position after the padding one (1)", "config.json"));
}

int main(void) {
    const char *root = getenv("TC_ROOT");
    snprintf(golden_model, sizeof golden_model, "%s/tests/golden/train_step_mpnet/model", root && *root ? root : ".");
    RUN(test_load_tiny_mpnet);
    RUN(test_mpnet_load_errors);
    HARNESS_EXIT();
}
