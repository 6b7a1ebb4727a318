// Opening a WordPiece tokenizer: the vocabulary, the settings of a model
// directory's tokenizer_config.json, and the tables the hot path reads.
#include "common/error.h"
#include "common/fingerprint.h"
#include "common/text/wordpiece_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// The special tokens BertTokenizerFast registers, in its order.
static const char *const default_special[] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};
enum { UNK, SEP, PAD, CLS, MASK, N_NAMED };

typedef struct {
    int lowercase, strip_accents, chinese_chars;  // TC_WORDPIECE_UNSET where the file says nothing
    int max_length;
    char *names[TC_WORDPIECE_MAX_SPECIAL];        // [0..N_NAMED) are unk, sep, pad, cls, mask
    size_t n_names;
} model_config;

static void config_free(model_config *c) {
    for (size_t i = 0; i < c->n_names; i++) free(c->names[i]);
    c->n_names = 0;
}

static int read_file(const char *path, char **text, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return tc_fail("%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            char *grown = tc_realloc(buf, cap);
            if (!grown) break;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int failed = ferror(f) || n == cap;  // n == cap here only when the buffer could not grow
    fclose(f);
    if (failed) {
        free(buf);
        return tc_fail("%s: read failed", path);
    }
    *text = buf;
    *size = n;
    return 0;
}

// A token setting is a string or an object with "content" (an AddedToken).
static const char *token_text(json_t *value) {
    if (json_is_string(value)) return json_string_value(value);
    if (json_is_object(value) && json_is_string(json_object_get(value, "content")))
        return json_string_value(json_object_get(value, "content"));
    return NULL;
}

static int add_name(model_config *c, const char *name, const char *path) {
    for (size_t i = 0; i < c->n_names; i++)
        if (!strcmp(c->names[i], name)) return 0;
    if (c->n_names == TC_WORDPIECE_MAX_SPECIAL) return tc_fail("%s: more than %d special tokens", path, TC_WORDPIECE_MAX_SPECIAL);
    if (!*name) return tc_fail("%s: an empty special token", path);
    c->names[c->n_names] = strdup(name);
    if (!c->names[c->n_names]) return tc_fail("out of memory");
    c->n_names++;
    return 0;
}

static int read_bool(json_t *root, const char *key, int *out, int null_ok, const char *path) {
    json_t *v = json_object_get(root, key);
    if (!v || (null_ok && json_is_null(v))) return 0;
    if (!json_is_boolean(v)) return tc_fail("%s: \"%s\" is not true or false", path, key);
    *out = json_is_true(v);
    return 0;
}

// Added tokens other than plain special ones (matched after normalization,
// or eating the spaces around them) would change the output; refuse them.
static int read_added_tokens(json_t *root, model_config *c, const char *path) {
    json_t *added = json_object_get(root, "added_tokens_decoder");
    if (!added) return 0;
    if (!json_is_object(added)) return tc_fail("%s: \"added_tokens_decoder\" is not an object", path);
    const char *key;
    json_t *token;
    json_object_foreach(added, key, token) {
        const char *content = token_text(token);
        if (!content) return tc_fail("%s: added token %s has no content", path, key);
        int plain = json_is_true(json_object_get(token, "special")) &&
                    !json_is_true(json_object_get(token, "normalized")) &&
                    !json_is_true(json_object_get(token, "lstrip")) && !json_is_true(json_object_get(token, "rstrip")) &&
                    !json_is_true(json_object_get(token, "single_word"));
        if (!plain)
            return tc_fail("%s: added token '%s' is not a plain special token (normalized, lstrip, rstrip or "
                           "single_word set, or special unset): not supported",
                           path, content);
        if (add_name(c, content, path)) return -1;
    }
    return 0;
}

static int read_config_json(json_t *root, model_config *c, const char *path) {
    if (!json_is_object(root)) return tc_fail("%s: not a JSON object", path);
    if (read_bool(root, "do_lower_case", &c->lowercase, 0, path) ||
        read_bool(root, "strip_accents", &c->strip_accents, 1, path) ||
        read_bool(root, "tokenize_chinese_chars", &c->chinese_chars, 0, path))
        return -1;
    static const char *const keys[N_NAMED] = {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
    for (int i = 0; i < N_NAMED; i++) {
        json_t *v = json_object_get(root, keys[i]);
        if (!v || json_is_null(v)) continue;
        const char *name = token_text(v);
        if (!name || !*name) return tc_fail("%s: \"%s\" is not a token", path, keys[i]);
        free(c->names[i]);
        c->names[i] = strdup(name);
        if (!c->names[i]) return tc_fail("out of memory");
    }
    json_t *extra = json_object_get(root, "additional_special_tokens");
    if (extra && !json_is_null(extra)) {
        if (!json_is_array(extra)) return tc_fail("%s: \"additional_special_tokens\" is not a list", path);
        size_t i;
        json_t *v;
        json_array_foreach(extra, i, v) {
            const char *name = token_text(v);
            if (!name) return tc_fail("%s: additional_special_tokens[%zu] is not a token", path, i);
            if (add_name(c, name, path)) return -1;
        }
    }
    json_t *limit = json_object_get(root, "model_max_length");
    // Hugging Face writes a huge number (1e30) for "no limit".
    if (json_is_number(limit) && json_number_value(limit) >= 2 && json_number_value(limit) <= 1e6)
        c->max_length = (int)json_number_value(limit);
    return read_added_tokens(root, c, path);
}

static int read_config(const char *dir, model_config *c) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    struct stat st;
    if (stat(path, &st) != 0) return 0;  // BERT's defaults
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return tc_fail("%s: line %d: %s", path, err.line, err.text);
    int rc = read_config_json(root, c, path);
    json_decref(root);
    return rc;
}

static int config_defaults(model_config *c) {
    memset(c, 0, sizeof *c);
    c->lowercase = c->strip_accents = c->chinese_chars = TC_WORDPIECE_UNSET;
    c->max_length = TC_WORDPIECE_MAX_LENGTH;
    for (int i = 0; i < N_NAMED; i++) {
        c->names[i] = strdup(default_special[i]);
        if (!c->names[i]) return tc_fail("out of memory");
        c->n_names++;
    }
    return 0;
}

static int pick(int setting, int configured, int fallback) {
    return setting != TC_WORDPIECE_UNSET ? setting : configured != TC_WORDPIECE_UNSET ? configured : fallback;
}

static int resolve_ids(tc_wordpiece *wp, const model_config *c, const char *where) {
    tc_wordpiece_info *info = &wp->info;
    int32_t *ids[N_NAMED] = {&info->unk_id, &info->sep_id, &info->pad_id, &info->cls_id, &info->mask_id};
    for (int i = 0; i < N_NAMED; i++) {
        *ids[i] = tc_wordpiece_token_id(wp, c->names[i], strlen(c->names[i]));
        if (*ids[i] < 0 && i != MASK) return tc_fail("%s: the vocabulary has no %s token", where, c->names[i]);
    }
    return 0;
}

static int open_text(tc_wordpiece **out, char *text, size_t size, model_config *c, const tc_bert_mode *mode,
                     const char *where) {
    *out = NULL;
    tc_wordpiece *wp = tc_calloc(1, sizeof *wp);
    if (!wp) return -1;
    wp->piece_seed = tc_vocab_hash_step(tc_vocab_hash_step(TC_VOCAB_HASH_INIT, '#'), '#');
    int rc = tc_vocab_parse(&wp->vocab, text, size, where);
    if (rc == 0) {
        wp->info.vocab_size = wp->vocab.n;
        wp->info.mode = *mode;
        wp->info.max_length = c->max_length;
        snprintf(wp->info.vocab_path, sizeof wp->info.vocab_path, "%s", where);
        rc = resolve_ids(wp, c, where);
    }
    if (rc == 0) rc = tc_wordpiece_prepare(wp, (const char *const *)c->names, c->n_names, where);
    if (rc) {
        tc_wordpiece_close(wp);
        return -1;
    }
    *out = wp;
    return 0;
}

int tc_wordpiece_open(tc_wordpiece **out, const tc_wordpiece_settings *settings) {
    *out = NULL;
    model_config c;
    if (config_defaults(&c)) {
        config_free(&c);
        return -1;
    }
    char path[4200];
    int rc = 0;
    if (settings->model_dir) {
        struct stat st;
        if (stat(settings->model_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = tc_fail("%s: not a model directory", settings->model_dir);
        else rc = read_config(settings->model_dir, &c);
        snprintf(path, sizeof path, "%s/vocab.txt", settings->model_dir);
    } else {
        snprintf(path, sizeof path, "%s", settings->vocab_path ? settings->vocab_path : "");
    }
    char *text = NULL;
    size_t size = 0;
    if (rc == 0) rc = read_file(path, &text, &size);
    if (rc == 0) {
        tc_bert_mode mode;
        mode.lowercase = pick(settings->lowercase, c.lowercase, 1);
        // null strip_accents (the default) means: strip when lowercasing
        mode.strip_accents = pick(settings->strip_accents, c.strip_accents, mode.lowercase);
        mode.chinese_chars = pick(settings->chinese_chars, c.chinese_chars, 1);
        rc = open_text(out, text, size, &c, &mode, path);
    }
    if (rc == 0 && tc_file_fingerprint(path, (*out)->info.fingerprint)) {
        tc_wordpiece_close(*out);
        *out = NULL;
        rc = -1;
    }
    free(text);
    config_free(&c);
    return rc;
}

int tc_wordpiece_open_buffer(tc_wordpiece **out, const char *text, size_t size, const tc_bert_mode *mode,
                             const char *where) {
    model_config c;
    int rc = config_defaults(&c);
    if (rc == 0) rc = open_text(out, (char *)text, size, &c, mode, where);
    config_free(&c);
    return rc;
}

void tc_wordpiece_close(tc_wordpiece *wp) {
    if (!wp) return;
    tc_vocab_free(&wp->vocab);
    free(wp->bmp_kind);
    for (size_t i = 0; i < wp->n_special; i++) free(wp->special[i].text);
    free(wp);
}

const tc_wordpiece_info *tc_wordpiece_info_of(const tc_wordpiece *wp) { return &wp->info; }

int32_t tc_wordpiece_token_id(const tc_wordpiece *wp, const char *token, size_t len) {
    int piece = len >= 2 && token[0] == '#' && token[1] == '#';  // "##" tokens are keyed without it
    uint64_t h = piece ? wp->piece_seed : TC_VOCAB_HASH_INIT;
    if (piece) token += 2, len -= 2;
    for (size_t i = 0; i < len; i++) h = tc_vocab_hash_step(h, (unsigned char)token[i]);
    if (len >= 8) return tc_vocab_find(&wp->vocab, h, (const unsigned char *)token, len, piece);
    unsigned char key[8] = {0};  // the lookup reads 8 bytes
    memcpy(key, token, len);
    return tc_vocab_find_short(&wp->vocab, h, key, len, piece);
}

const char *tc_wordpiece_token(const tc_wordpiece *wp, int32_t id) {
    if (id < 0 || (size_t)id >= wp->vocab.n) return NULL;
    return wp->vocab.bytes + wp->vocab.offsets[id];
}

static void prepare_ascii(tc_wordpiece *wp) {
    const tc_bert_mode *mode = &wp->info.mode;
    for (unsigned b = 0; b < 128; b++) {
        int kind = tc_bert_removed(b) ? TC_BERT_DROP
                   : tc_bert_whitespace(b) ? TC_BERT_SPACE
                   : tc_bert_punct(b)      ? TC_BERT_PUNCT_CHAR
                                           : TC_BERT_WORD;
        wp->ascii_kind[b] = (uint8_t)kind;
        wp->ascii_lower[b] = (unsigned char)(mode->lowercase && b >= 'A' && b <= 'Z' ? b + 32 : b);
        wp->ascii_word[b] = kind == TC_BERT_WORD;
        char c = (char)b;
        int32_t id = tc_wordpiece_token_id(wp, &c, 1);
        wp->ascii_punct_id[b] = id >= 0 ? id : wp->info.unk_id;
    }
}

int tc_wordpiece_prepare(tc_wordpiece *wp, const char *const *names, size_t n_names, const char *where) {
    prepare_ascii(wp);
    wp->bmp_kind = tc_malloc(0x10000);
    if (!wp->bmp_kind) return -1;
    for (uint32_t cp = 0; cp < 0x10000; cp++) wp->bmp_kind[cp] = (uint8_t)tc_bert_kind(cp, &wp->info.mode);
    // Special tokens the vocabulary holds are matched in the text; the others
    // are ordinary text (tokenizers' BertWordPieceTokenizer registers only
    // special tokens of the vocabulary).
    for (size_t i = 0; i < n_names; i++) {
        int32_t id = tc_wordpiece_token_id(wp, names[i], strlen(names[i]));
        if (id < 0) continue;
        char *text = strdup(names[i]);
        if (!text) return tc_fail("%s: out of memory", where);
        wp->special[wp->n_special].text = text;
        wp->special[wp->n_special].len = strlen(text);
        wp->special[wp->n_special].id = id;
        wp->n_special++;
        unsigned char first = (unsigned char)text[0];
        wp->special_first[first] = 1;
        if (first < 128) {
            wp->ascii_kind[first] |= TC_KIND_SPECIAL;
            wp->ascii_word[first] = 0;
        }
    }
    wp->info.n_special = wp->n_special;
    return 0;
}
