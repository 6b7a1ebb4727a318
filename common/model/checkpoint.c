#include "common/model/checkpoint.h"
#include "common/error.h"
#include "common/model/safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// ---------------------------------------------------------------- files

static int copy_file(const char *src, const char *dst, int required) {
    FILE *in = fopen(src, "rb");
    if (!in) return required || errno != ENOENT ? tc_fail("%s: cannot open: %s", src, strerror(errno)) : 0;
    FILE *out = fopen(dst, "wb");
    if (!out) {
        fclose(in);
        return tc_fail("%s: cannot create: %s", dst, strerror(errno));
    }
    char buf[65536];
    size_t n;
    int ok = 1;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fileno(out)) == 0;
    fclose(in);
    if (fclose(out) != 0) ok = 0;
    return ok ? 0 : tc_fail("%s: write failed: %s", dst, strerror(errno));
}

static int sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return tc_fail("%s: cannot open: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    return rc ? tc_fail("%s: cannot sync: %s", dir, strerror(errno)) : 0;
}

// Removes a checkpoint: plain files and directories of plain files (a
// sentence encoder's module folders), no deeper.
static int remove_dir_depth(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : tc_fail("%s: cannot open: %s", dir, strerror(errno));
    struct dirent *e;
    char path[4096];
    struct stat st;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (depth > 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_dir_depth(path, depth - 1);
            else unlink(path);
        }
    closedir(d);
    return rmdir(dir) == 0 || errno == ENOENT ? 0 : tc_fail("%s: cannot remove: %s", dir, strerror(errno));
}

static int remove_flat_dir(const char *dir) { return remove_dir_depth(dir, 1); }

static int make_dir(const char *dir) {
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return 0;
    return tc_fail("%s: cannot create: %s", dir, strerror(errno));
}

static int write_json(const char *path, json_t *obj) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    errno = 0;
    if (json_dump_file(obj, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        int rc = tc_fail("%s: write failed: %s", tmp, strerror(errno ? errno : EIO));
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) return tc_fail("%s: cannot rename: %s", path, strerror(errno));
    return 0;
}

// ---------------------------------------------------------------- tensors

// The encoder's tensors with BertModel's or MPNetModel's names, pointing into host f32
// parameters laid out as common/model/bert_model.h says.
typedef struct {
    tc_st_write_tensor *t;
    char (*names)[96];
    size_t n;
} tensor_list;

static void add_tensor(tensor_list *l, const char *name, const float *data, int64_t d0, int64_t d1) {
    snprintf(l->names[l->n], 96, "%s", name);
    l->t[l->n] = (tc_st_write_tensor){.name = l->names[l->n], .rank = d1 ? 2 : 1, .shape = {d0, d1}, .data = data};
    l->n++;
}

static int encoder_tensors(tensor_list *l, const tc_bert_config *cfg, float *params) {
    int L = cfg->layers;
    size_t cap = 8 + 16 * (size_t)L;
    l->t = tc_calloc(cap, sizeof *l->t);
    l->names = tc_calloc(cap, sizeof *l->names);
    l->n = 0;
    if (!l->t || !l->names) return -1;
    tc_bert_params p;
    tc_bert_params_point(&p, params, sizeof(float), cfg);
    int64_t C = cfg->hidden, F = cfg->intermediate;
    int mpnet = cfg->arch == TC_ARCH_MPNET;
    add_tensor(l, "embeddings.word_embeddings.weight", p.p[TC_BERT_WTE], cfg->vocab_size, C);
    add_tensor(l, "embeddings.position_embeddings.weight", p.p[TC_BERT_WPE], cfg->max_positions, C);
    if (cfg->type_vocab_size)
        add_tensor(l, "embeddings.token_type_embeddings.weight", p.p[TC_BERT_WTT], cfg->type_vocab_size, C);
    add_tensor(l, "embeddings.LayerNorm.weight", p.p[TC_BERT_EMB_LN_W], C, 0);
    add_tensor(l, "embeddings.LayerNorm.bias", p.p[TC_BERT_EMB_LN_B], C, 0);
    static const char *qkv[2][3] = {{"self.query", "self.key", "self.value"}, {"attn.q", "attn.k", "attn.v"}};
    char name[96];
#define LP(which) ((const float *)tc_bert_layer_param(&p, which, i, sizeof(float), cfg))
    for (int i = 0; i < L; i++) {
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "encoder.layer.%d.attention.%s.weight", i, qkv[mpnet][k]);
            add_tensor(l, name, LP(TC_BERT_QKV_W) + (size_t)k * C * C, C, C);
            snprintf(name, sizeof name, "encoder.layer.%d.attention.%s.bias", i, qkv[mpnet][k]);
            add_tensor(l, name, LP(TC_BERT_QKV_B) + (size_t)k * C, C, 0);
        }
        static const struct {
            const char *fmt[2];  // BERT's, MPNet's
            int which, rows_f, cols_f;
        } parts[] = {
            {{"encoder.layer.%d.attention.output.dense.weight", "encoder.layer.%d.attention.attn.o.weight"},
             TC_BERT_ATTPROJ_W, 0, 0},
            {{"encoder.layer.%d.attention.output.dense.bias", "encoder.layer.%d.attention.attn.o.bias"},
             TC_BERT_ATTPROJ_B, 0, -1},
            {{"encoder.layer.%d.attention.output.LayerNorm.weight", "encoder.layer.%d.attention.LayerNorm.weight"},
             TC_BERT_LN1_W, 0, -1},
            {{"encoder.layer.%d.attention.output.LayerNorm.bias", "encoder.layer.%d.attention.LayerNorm.bias"},
             TC_BERT_LN1_B, 0, -1},
            {{"encoder.layer.%d.intermediate.dense.weight", "encoder.layer.%d.intermediate.dense.weight"}, TC_BERT_FC_W, 1, 0},
            {{"encoder.layer.%d.intermediate.dense.bias", "encoder.layer.%d.intermediate.dense.bias"}, TC_BERT_FC_B, 1, -1},
            {{"encoder.layer.%d.output.dense.weight", "encoder.layer.%d.output.dense.weight"}, TC_BERT_FCPROJ_W, 0, 1},
            {{"encoder.layer.%d.output.dense.bias", "encoder.layer.%d.output.dense.bias"}, TC_BERT_FCPROJ_B, 0, -1},
            {{"encoder.layer.%d.output.LayerNorm.weight", "encoder.layer.%d.output.LayerNorm.weight"}, TC_BERT_LN2_W, 0, -1},
            {{"encoder.layer.%d.output.LayerNorm.bias", "encoder.layer.%d.output.LayerNorm.bias"}, TC_BERT_LN2_B, 0, -1},
        };
        for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
            snprintf(name, sizeof name, parts[k].fmt[mpnet], i);
            int64_t rows = parts[k].rows_f ? F : C, cols = parts[k].cols_f < 0 ? 0 : parts[k].cols_f ? F : C;
            add_tensor(l, name, LP(parts[k].which), rows, cols);
        }
    }
#undef LP
    if (cfg->has_pooler) {
        add_tensor(l, "pooler.dense.weight", p.p[TC_BERT_POOLER_W], C, C);
        add_tensor(l, "pooler.dense.bias", p.p[TC_BERT_POOLER_B], C, 0);
    }
    if (cfg->rel_buckets)
        add_tensor(l, "encoder.relative_attention_bias.weight", p.p[TC_BERT_REL_BIAS], cfg->rel_buckets, cfg->heads);
    return 0;
}

static const char *st_metadata[2] = {"format", "pt"};

static int write_encoder(tc_classifier *cl, const char *dir) {
    tc_backend *be = cl->be;
    const tc_bert_model *m = cl->model;
    float *host = m->params_memory;
    // the CPU trains the model's own buffer; a GPU's f32 masters come down first
    if (cl->encoder_master) {
        host = tc_malloc_array(m->n_params, sizeof *host);
        if (!host || be->ops->download(be, host, cl->encoder_master, m->n_params * 4) || be->ops->synchronize(be)) {
            free(host);
            return -1;
        }
    }
    tensor_list l;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = encoder_tensors(&l, &m->cfg, host) || tc_safetensors_write(path, l.t, l.n, st_metadata, 1) ? -1 : 0;
    free(l.t);
    free(l.names);
    if (host != m->params_memory) free(host);
    return rc;
}

static int write_head(tc_classifier *cl, const char *dir) {
    size_t C = (size_t)cl->C, D = (size_t)cl->D, K = (size_t)cl->K;
    float *W = tc_malloc_array(C * D, sizeof *W), *E = tc_malloc_array(K * D, sizeof *E);
    int rc = !W || !E || tc_classifier_get_head(cl, W, E) ? -1 : 0;
    if (rc == 0) {
        tc_st_write_tensor t[2] = {
            {.name = "interaction.weight", .rank = 2, .shape = {(int64_t)C, (int64_t)D}, .data = W},
            {.name = "label_embedding_weights", .rank = 2, .shape = {(int64_t)K, (int64_t)D}, .data = E},
        };
        char path[4096];
        snprintf(path, sizeof path, "%s/head.safetensors", dir);
        rc = tc_safetensors_write(path, t, 2, st_metadata, 1);
    }
    free(W);
    free(E);
    return rc;
}

static int write_classifier_json(tc_classifier *cl, const char *dir, const tc_checkpoint_info *info) {
    json_t *names = json_array();
    for (int k = 0; k < cl->K; k++) json_array_append_new(names, json_string(info->class_names[k]));
    json_t *o = json_pack("{s:s, s:i, s:s, s:b, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:o}", "format",
                          "teleclass-c classifier", "version", 1, "pooling", tc_pooling_name(cl->opt.pooling),
                          "normalize", cl->opt.normalize, "max_length", info->max_len, "hidden_size", cl->C,
                          "class_dim", cl->D, "num_classes", cl->K, "head", "head.safetensors", "score",
                          "doc . interaction.weight . label_embedding_weights[c]; probability sigmoid(score)",
                          "loss_reduction", info->loss_reduction, "class_names", names);
    if (!o) return tc_fail("out of memory");
    char path[4096];
    snprintf(path, sizeof path, "%s/classifier.json", dir);
    int rc = write_json(path, o);
    json_decref(o);
    return rc;
}

// The sentence-transformers modules of an encoder (checkpoint.h).
static int write_st_modules(tc_classifier *cl, const char *dir, const tc_checkpoint_info *info) {
    char path[4096];
    int normalize = cl->opt.normalize, mean = cl->opt.pooling == TC_POOL_MEAN;
    if (cl->opt.pooling == TC_POOL_POOLER)
        return tc_fail("%s: sentence-transformers has no pooler pooling; train with mean or cls", dir);
    json_t *modules = json_pack("[{s:i, s:s, s:s, s:s}, {s:i, s:s, s:s, s:s}]", "idx", 0, "name", "0", "path", "",
                                "type", "sentence_transformers.models.Transformer", "idx", 1, "name", "1", "path",
                                "1_Pooling", "type", "sentence_transformers.models.Pooling");
    json_t *pooling = json_pack("{s:i, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "word_embedding_dimension", cl->C,
                                "pooling_mode_cls_token", !mean, "pooling_mode_mean_tokens", mean,
                                "pooling_mode_max_tokens", 0, "pooling_mode_mean_sqrt_len_tokens", 0,
                                "pooling_mode_weightedmean_tokens", 0, "pooling_mode_lasttoken", 0,
                                "include_prompt", 1);
    json_t *st = json_pack("{s:i, s:b}", "max_seq_length", info->max_len, "do_lower_case", 0);
    if (normalize && modules)
        json_array_append_new(modules, json_pack("{s:i, s:s, s:s, s:s}", "idx", 2, "name", "2", "path", "2_Normalize",
                                                 "type", "sentence_transformers.models.Normalize"));
    int rc = modules && pooling && st ? 0 : tc_fail("out of memory");
    if (rc == 0) snprintf(path, sizeof path, "%s/modules.json", dir), rc = write_json(path, modules);
    if (rc == 0) snprintf(path, sizeof path, "%s/sentence_bert_config.json", dir), rc = write_json(path, st);
    if (rc == 0) snprintf(path, sizeof path, "%s/1_Pooling", dir), rc = make_dir(path);
    if (rc == 0) snprintf(path, sizeof path, "%s/1_Pooling/config.json", dir), rc = write_json(path, pooling);
    if (rc == 0 && normalize) snprintf(path, sizeof path, "%s/2_Normalize", dir), rc = make_dir(path);
    json_decref(modules), json_decref(pooling), json_decref(st);
    return rc;
}

static int write_state(tc_classifier *cl, const char *dir, const tc_checkpoint_info *info) {
    char path[4096];
    int64_t n = (int64_t)cl->n_total;
    tc_st_write_tensor t[2] = {
        {.name = "exp_avg", .rank = 1, .shape = {n}, .data = info->adam_m},
        {.name = "exp_avg_sq", .rank = 1, .shape = {n}, .data = info->adam_v},
    };
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    if (tc_safetensors_write(path, t, 2, st_metadata, 1)) return -1;
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    return write_json(path, info->trainer_state);
}

// ---------------------------------------------------------------- save

static void checkpoint_name(char *buf, size_t size, long step) { snprintf(buf, size, "checkpoint-%06ld", step); }

int tc_checkpoint_link(const char *out_dir, long step, const char *link) {
    char target[64], tmp[4096], path[4096];
    checkpoint_name(target, sizeof target, step);
    snprintf(tmp, sizeof tmp, "%s/.%s.link-%ld", out_dir, link, (long)getpid());
    snprintf(path, sizeof path, "%s/%s", out_dir, link);
    unlink(tmp);
    if (symlink(target, tmp) != 0) return tc_fail("%s: cannot create a link: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return tc_fail("%s: cannot replace: %s", path, strerror(errno));
    }
    return sync_dir(out_dir);
}

static int write_all(tc_classifier *cl, const char *dir, const tc_checkpoint_info *info) {
    static const char *copied[] = {"config.json", "vocab.txt", "tokenizer_config.json", "tokenizer.json",
                                   "special_tokens_map.json"};
    char src[4096], dst[4096];
    for (int i = 0; i < 5; i++) {
        snprintf(src, sizeof src, "%s/%s", info->source_dir, copied[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, copied[i]);
        if (copy_file(src, dst, i < 2)) return -1;
    }
    int head_written = info->sentence_encoder ? write_st_modules(cl, dir, info)
                                              : write_head(cl, dir) || write_classifier_json(cl, dir, info);
    return write_encoder(cl, dir) || head_written ||
                   (info->trainer_state && write_state(cl, dir, info)) || sync_dir(dir)
               ? -1
               : 0;
}

int tc_checkpoint_save(tc_classifier *cl, const char *out_dir, long step, const char *link,
                       const tc_checkpoint_info *info) {
    char name[64], tmp[4096], final[4096], trash[4096];
    checkpoint_name(name, sizeof name, step);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", out_dir, name, (long)getpid());
    snprintf(final, sizeof final, "%s/%s", out_dir, name);
    snprintf(trash, sizeof trash, "%s/.%s.old-%ld", out_dir, name, (long)getpid());
    if (make_dir(out_dir) || remove_flat_dir(tmp) || make_dir(tmp)) return -1;
    if (write_all(cl, tmp, info)) {
        int saved = errno;
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", tc_error());
        remove_flat_dir(tmp);
        errno = saved;
        return tc_fail("%s", msg);
    }
    // a checkpoint of the same step (a resumed run saving it again) goes aside first
    struct stat st;
    if (lstat(final, &st) == 0 && (rename(final, trash) != 0 || remove_flat_dir(trash)))
        return tc_fail("%s: cannot replace: %s", final, strerror(errno));
    if (rename(tmp, final) != 0) return tc_fail("%s: cannot rename into place: %s", final, strerror(errno));
    if (sync_dir(out_dir) || tc_checkpoint_link(out_dir, step, "latest")) return -1;
    if (link && strcmp(link, "latest") && tc_checkpoint_link(out_dir, step, link)) return -1;
    return tc_checkpoint_prune(out_dir);
}

int tc_checkpoint_prune(const char *out_dir) {
    static const char *links[] = {"latest", "best", "final"};
    char keep[3][256] = {"", "", ""}, path[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, links[i]);
        ssize_t n = readlink(path, keep[i], sizeof keep[i] - 1);
        keep[i][n > 0 ? n : 0] = 0;
    }
    DIR *d = opendir(out_dir);
    if (!d) return errno == ENOENT ? 0 : tc_fail("%s: cannot open: %s", out_dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        int temporary = !strncmp(e->d_name, ".checkpoint-", 12);
        int checkpoint = !strncmp(e->d_name, "checkpoint-", 11);
        // a link being replaced when a run was killed
        if (e->d_name[0] == '.' && strstr(e->d_name, ".link-")) {
            snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
            if (unlink(path) != 0 && errno != ENOENT) rc = tc_fail("%s: cannot remove: %s", path, strerror(errno));
            continue;
        }
        if (!temporary && !checkpoint) continue;
        if (checkpoint && (!strcmp(e->d_name, keep[0]) || !strcmp(e->d_name, keep[1]) || !strcmp(e->d_name, keep[2])))
            continue;
        snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
        if (remove_flat_dir(path)) rc = -1;
    }
    closedir(d);
    return rc;
}

// ---------------------------------------------------------------- load

static int file_exists(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

int tc_checkpoint_resolve(const char *dir, char **resolved) {
    *resolved = NULL;
    char path[4096];
    if (file_exists(dir, "trainer_state.json")) snprintf(path, sizeof path, "%s", dir);
    else snprintf(path, sizeof path, "%s/latest", dir);
    if (!file_exists(path, "trainer_state.json"))
        return tc_fail("%s: not a resumable checkpoint (no trainer_state.json, no latest/)", dir);
    *resolved = strdup(path);
    return *resolved ? 0 : tc_fail("out of memory");
}

int tc_checkpoint_load_head(const char *dir, int *K, int *D, int C, float **W, float **E) {
    *W = *E = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/head.safetensors", dir);
    tc_safetensors st;
    if (tc_safetensors_open(&st, path)) return -1;
    const tc_st_tensor *w = tc_safetensors_find(&st, "interaction.weight"),
                       *e = tc_safetensors_find(&st, "label_embedding_weights");
    int rc = 0;
    if (!w || !e || w->rank != 2 || e->rank != 2 || w->shape[0] != C || e->shape[1] != w->shape[1] ||
        e->shape[0] < 1)
        rc = tc_fail("%s: expected interaction.weight (%d, D) and label_embedding_weights (K, D)", path, C);
    if (rc == 0) {
        *D = (int)w->shape[1];
        *K = (int)e->shape[0];
        int64_t ws[2] = {C, *D}, es[2] = {*K, *D};
        *W = tc_malloc_array((size_t)C * (size_t)*D, sizeof **W);
        *E = tc_malloc_array((size_t)*K * (size_t)*D, sizeof **E);
        rc = !*W || !*E || tc_safetensors_read_f32(&st, "interaction.weight", 2, ws, *W) ||
                     tc_safetensors_read_f32(&st, "label_embedding_weights", 2, es, *E)
                 ? -1
                 : 0;
    }
    tc_safetensors_close(&st);
    if (rc) {
        free(*W), free(*E);
        *W = *E = NULL;
    }
    return rc;
}

int tc_checkpoint_load_state(const char *dir, size_t n, json_t **state, float *m, float *v) {
    char path[4096];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    json_error_t err;
    *state = json_load_file(path, 0, &err);
    if (!*state || !json_is_object(*state)) {
        json_decref(*state);
        *state = NULL;
        return tc_fail("%s: line %d: %s", path, err.line, err.text);
    }
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    tc_safetensors st;
    int64_t shape[1] = {(int64_t)n};
    int rc = tc_safetensors_open(&st, path);
    if (rc == 0) {
        rc = tc_safetensors_read_f32(&st, "exp_avg", 1, shape, m) || tc_safetensors_read_f32(&st, "exp_avg_sq", 1, shape, v)
                 ? -1
                 : 0;
        tc_safetensors_close(&st);
    }
    if (rc) {
        json_decref(*state);
        *state = NULL;
    }
    return rc;
}

int tc_checkpoint_class_names(const char *dir, char ***names, int *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/classifier.json", dir);
    json_error_t err;
    json_t *o = json_load_file(path, 0, &err);
    json_t *a = o ? json_object_get(o, "class_names") : NULL;
    *names = NULL;
    *n = 0;
    if (!json_is_array(a)) {
        json_decref(o);
        return tc_fail("%s: no class_names", path);
    }
    *n = (int)json_array_size(a);
    *names = tc_calloc((size_t)*n + 1, sizeof **names);
    for (int i = 0; *names && i < *n; i++) {
        const char *s = json_string_value(json_array_get(a, (size_t)i));
        (*names)[i] = strdup(s ? s : "");
    }
    json_decref(o);
    return *names ? 0 : -1;
}
