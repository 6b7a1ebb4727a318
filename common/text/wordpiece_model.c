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
    int32_t ids[TC_WORDPIECE_MAX_SPECIAL];        // the id tokenizer.json gives it, or -1
    size_t n_names;
    char *normalized[TC_WORDPIECE_MAX_SPECIAL];   // added tokens matched after normalization
    int32_t normalized_ids[TC_WORDPIECE_MAX_SPECIAL];
    size_t n_normalized;
} model_config;

static void config_free(model_config *c) {
    for (size_t i = 0; i < c->n_names; i++) free(c->names[i]);
    for (size_t i = 0; i < c->n_normalized; i++) free(c->normalized[i]);
    c->n_names = c->n_normalized = 0;
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
    c->ids[c->n_names++] = -1;
    return 0;
}

// One of the named tokens (unk, sep, pad, cls, mask), with the id a
// tokenizer.json gives it (or -1).
static int set_named(model_config *c, int which, const char *name, int32_t id, const char *path, const char *key) {
    if (!name || !*name) return tc_fail("%s: \"%s\" is not a token", path, key);
    char *copy = strdup(name);
    if (!copy) return tc_fail("out of memory");
    free(c->names[which]);
    c->names[which] = copy;
    c->ids[which] = id;
    return 0;
}

static int read_bool(json_t *root, const char *key, int *out, int null_ok, const char *path) {
    json_t *v = json_object_get(root, key);
    if (!v || (null_ok && json_is_null(v))) return 0;
    if (!json_is_boolean(v)) return tc_fail("%s: \"%s\" is not true or false", path, key);
    *out = json_is_true(v);
    return 0;
}

// An added token: matched in the raw text, or with "normalized" set in the
// normalized text. Spaces it would eat (lstrip, rstrip) make no tokens
// anyway; single_word (matched only as a whole word) is refused.
static int add_token(model_config *c, json_t *token, int32_t id, const char *path) {
    const char *content = token_text(token);
    if (!content || !*content) return tc_fail("%s: an added token without content", path);
    if (json_is_true(json_object_get(token, "single_word")))
        return tc_fail("%s: added token '%s' is single_word: not supported", path, content);
    if (!json_is_true(json_object_get(token, "normalized"))) {
        size_t before = c->n_names;
        if (add_name(c, content, path)) return -1;
        for (size_t i = 0; i < c->n_names; i++)
            if (!strcmp(c->names[i], content) && (i == before || c->ids[i] < 0)) c->ids[i] = id;
        return 0;
    }
    for (size_t i = 0; i < c->n_normalized; i++)
        if (!strcmp(c->normalized[i], content)) return 0;
    if (c->n_normalized == TC_WORDPIECE_MAX_SPECIAL)
        return tc_fail("%s: more than %d added tokens", path, TC_WORDPIECE_MAX_SPECIAL);
    c->normalized[c->n_normalized] = strdup(content);
    if (!c->normalized[c->n_normalized]) return tc_fail("out of memory");
    c->normalized_ids[c->n_normalized++] = id;
    return 0;
}

static int read_added_tokens(json_t *root, model_config *c, const char *path) {
    json_t *added = json_object_get(root, "added_tokens_decoder");
    if (!added) return 0;
    if (!json_is_object(added)) return tc_fail("%s: \"added_tokens_decoder\" is not an object", path);
    const char *key;
    json_t *token;
    json_object_foreach(added, key, token) {
        char *end;
        long id = strtol(key, &end, 10);
        if (*end || id < 0 || id > INT32_MAX) return tc_fail("%s: added token id '%s' is not a number", path, key);
        if (add_token(c, token, (int32_t)id, path)) return -1;
    }
    return 0;
}

// The named special tokens (tokenizer_config.json, special_tokens_map.json).
static int read_named(json_t *root, model_config *c, const char *path) {
    static const char *const keys[N_NAMED] = {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
    for (int i = 0; i < N_NAMED; i++) {
        json_t *v = json_object_get(root, keys[i]);
        if (!v || json_is_null(v)) continue;
        const char *name = token_text(v);
        int32_t id = name && !strcmp(name, c->names[i]) ? c->ids[i] : -1;  // an id given before stays its token's
        if (set_named(c, i, name, id, path, keys[i])) return -1;
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
    return 0;
}

static int read_config_json(json_t *root, model_config *c, const char *path) {
    if (!json_is_object(root)) return tc_fail("%s: not a JSON object", path);
    if (read_bool(root, "do_lower_case", &c->lowercase, 0, path) ||
        read_bool(root, "strip_accents", &c->strip_accents, 1, path) ||
        read_bool(root, "tokenize_chinese_chars", &c->chinese_chars, 0, path) || read_named(root, c, path))
        return -1;
    json_t *limit = json_object_get(root, "model_max_length");
    // Hugging Face writes a huge number (1e30) for "no limit".
    if (json_is_number(limit) && json_number_value(limit) >= 2 && json_number_value(limit) <= 1e6)
        c->max_length = (int)json_number_value(limit);
    return read_added_tokens(root, c, path);
}

// tokenizer.json: the [token, id] pair of BertProcessing and RobertaProcessing.
static int processing_pair(json_t *pp, const char *key, int which, model_config *c, const char *path) {
    json_t *pair = json_object_get(pp, key);
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(json_array_get(pair, 0)) ||
        !json_is_integer(json_array_get(pair, 1)))
        return tc_fail("%s: post_processor \"%s\" is not [token, id]", path, key);
    return set_named(c, which, json_string_value(json_array_get(pair, 0)),
                     (int32_t)json_integer_value(json_array_get(pair, 1)), path, key);
}

// TemplateProcessing: the single-sequence template must be one special
// token, the text, one special token (what tc_wordpiece_encode writes).
static int template_single(json_t *pp, model_config *c, const char *path) {
    json_t *single = json_object_get(pp, "single"), *specials = json_object_get(pp, "special_tokens");
    if (json_array_size(single) != 3 || !json_object_get(json_array_get(single, 1), "Sequence"))
        return tc_fail("%s: post_processor: a template other than a token, the text, a token: not supported", path);
    for (int k = 0; k < 2; k++) {
        json_t *item = json_object_get(json_array_get(single, 2 * (size_t)k), "SpecialToken");
        const char *name = json_string_value(json_object_get(item, "id"));
        json_t *special = name ? json_object_get(specials, name) : NULL;
        json_t *ids = json_object_get(special, "ids"), *tokens = json_object_get(special, "tokens");
        if (json_array_size(ids) != 1 || !json_is_integer(json_array_get(ids, 0)) || json_array_size(tokens) != 1)
            return tc_fail("%s: post_processor: the template's %s item is not one special token", path,
                           k ? "last" : "first");
        if (set_named(c, k ? SEP : CLS, json_string_value(json_array_get(tokens, 0)),
                      (int32_t)json_integer_value(json_array_get(ids, 0)), path, "post_processor"))
            return -1;
    }
    return 0;
}

static int read_post_processor(json_t *pp, model_config *c, const char *path) {
    if (!pp || json_is_null(pp)) return 0;
    const char *type = json_string_value(json_object_get(pp, "type"));
    if (type && (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")))
        return processing_pair(pp, "cls", CLS, c, path) || processing_pair(pp, "sep", SEP, c, path) ? -1 : 0;
    if (type && !strcmp(type, "TemplateProcessing")) return template_single(pp, c, path);
    return tc_fail("%s: post_processor %s: not supported", path, type ? type : "without a type");
}

// What the tokenizer of tokenizer.json does around WordPiece: the tokens its
// post-processor puts before and after the text (BERT's [CLS] [SEP],
// MPNet's <s> </s>), its padding and unknown tokens, and the added tokens it
// matches in the text, each with the id vocab.txt must agree with.
static int read_tokenizer_json(json_t *root, model_config *c, const char *path) {
    json_t *model = json_object_get(root, "model");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (type && strcmp(type, "WordPiece"))
        return tc_fail("%s: a %s tokenizer, not WordPiece: not supported", path, type);
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    if (unk && strcmp(unk, c->names[UNK]) && set_named(c, UNK, unk, -1, path, "unk_token")) return -1;
    if (read_post_processor(json_object_get(root, "post_processor"), c, path)) return -1;
    json_t *padding = json_object_get(root, "padding");
    const char *pad = json_string_value(json_object_get(padding, "pad_token"));
    json_t *pad_id = json_object_get(padding, "pad_id");
    if (pad && set_named(c, PAD, pad, json_is_integer(pad_id) ? (int32_t)json_integer_value(pad_id) : -1, path,
                         "pad_token"))
        return -1;
    json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_array(added)) return tc_fail("%s: \"added_tokens\" is not a list", path);
    size_t i;
    json_t *token;
    json_array_foreach(added, i, token) {
        json_t *id = json_object_get(token, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX)
            return tc_fail("%s: added_tokens[%zu] has no id", path, i);
        if (add_token(c, token, (int32_t)json_integer_value(id), path)) return -1;
    }
    return 0;
}

typedef int config_reader(json_t *root, model_config *c, const char *path);

// dir/name through read, when the file is there.
static int read_json(const char *dir, const char *name, config_reader *read, model_config *c) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return tc_fail("%s: line %d: %s", path, err.line, err.text);
    int rc = json_is_object(root) ? read(root, c, path) : tc_fail("%s: not a JSON object", path);
    json_decref(root);
    return rc;
}

// What transformers reads, in its order (a later file wins): the settings
// and special tokens of tokenizer_config.json, the special tokens of
// special_tokens_map.json, then what tokenizer.json says its tokenizer does
// (common/text/tokenizer_json.c). Without any, BERT's defaults.
static int read_config(const char *dir, model_config *c) {
    if (read_json(dir, "tokenizer_config.json", read_config_json, c) ||
        read_json(dir, "special_tokens_map.json", read_named, c) ||
        read_json(dir, "tokenizer.json", read_tokenizer_json, c))
        return -1;
    return 0;
}

static int config_defaults(model_config *c) {
    memset(c, 0, sizeof *c);
    c->lowercase = c->strip_accents = c->chinese_chars = TC_WORDPIECE_UNSET;
    c->max_length = TC_WORDPIECE_MAX_LENGTH;
    for (int i = 0; i < N_NAMED; i++) {
        c->names[i] = strdup(default_special[i]);
        if (!c->names[i]) return tc_fail("out of memory");
        c->ids[c->n_names++] = -1;
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

// An id the tokenizer files give a token must be that token's line of vocab.txt.
static int check_id(const tc_wordpiece *wp, const char *name, int32_t id, const char *where) {
    if (id < 0) return 0;
    const char *line = tc_wordpiece_token(wp, id);
    if (!line || strcmp(line, name))
        return tc_fail("%s: the model's tokenizer files give '%s' the id %d, but that line is %s%s%s", where, name,
                       (int)id, line ? "'" : "", line ? line : "past the end", line ? "'" : "");
    return 0;
}

static int check_ids(const tc_wordpiece *wp, const model_config *c, const char *where) {
    for (size_t i = 0; i < c->n_names; i++)
        if (check_id(wp, c->names[i], c->ids[i], where)) return -1;
    for (size_t i = 0; i < c->n_normalized; i++)
        if (check_id(wp, c->normalized[i], c->normalized_ids[i], where)) return -1;
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
        rc = check_ids(wp, c, where);
        if (rc == 0) rc = resolve_ids(wp, c, where);
    }
    if (rc == 0) rc = tc_wordpiece_prepare(wp, (const char *const *)c->names, c->n_names, where);
    for (size_t i = 0; rc == 0 && i < c->n_normalized; i++)
        rc = tc_wordpiece_add_normalized(wp, c->normalized[i], c->normalized_ids[i], where);
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
    for (size_t i = 0; i < wp->n_normalized; i++) free(wp->normalized[i].text);
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
        if (strpbrk(text, " \t\n\r")) wp->special_spaces = 1;
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

// The ASCII bytes whose normalized form is the first byte of text (every
// byte outside ASCII may start one: it takes the slow path).
static void mark_trigger(tc_wordpiece *wp, unsigned char first) {
    for (unsigned b = 0; b < 128; b++) {
        int kind = wp->ascii_kind[b] & ~TC_KIND_SPECIAL;
        int normalized = kind == TC_BERT_WORD ? wp->ascii_lower[b] : kind == TC_BERT_SPACE ? ' '
                         : kind == TC_BERT_PUNCT_CHAR                ? (int)b
                                                                     : -1;
        if (normalized == first) wp->normalized_trigger[b] = 1;
    }
    memset(wp->normalized_trigger + 128, 1, 128);
}

int tc_wordpiece_add_normalized(tc_wordpiece *wp, const char *text, int32_t id, const char *where) {
    if (wp->n_normalized == TC_WORDPIECE_MAX_SPECIAL)
        return tc_fail("%s: more than %d added tokens", where, TC_WORDPIECE_MAX_SPECIAL);
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    if (!s) return -1;
    size_t len = 0;
    const unsigned char *norm = tc_wordpiece_normalize(wp, s, text, strlen(text), &len);
    char *copy = norm ? tc_malloc(len + 1) : NULL;
    if (copy) {
        memcpy(copy, norm, len);
        copy[len] = 0;
    }
    tc_wordpiece_scratch_free(s);
    if (!copy) return tc_fail("%s: out of memory", where);
    if (!len) {  // normalizes to nothing: can match nothing
        free(copy);
        return 0;
    }
    if (strpbrk(copy, " \t\n\r")) wp->special_spaces = 1;
    mark_trigger(wp, (unsigned char)copy[0]);
    wp->normalized[wp->n_normalized++] = (tc_wordpiece_special){copy, len, id};
    return 0;
}
