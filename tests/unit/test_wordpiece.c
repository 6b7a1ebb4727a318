// WordPiece tokenization: the vocabulary file, the model directory's
// settings, the greedy longest-match algorithm, truncation, and the ids of
// the adversarial lines against Hugging Face tokenizers
// (tests/golden/tokenizer_goldens.txt).
#include "tests/harness.h"
#include "common/error.h"
#include "common/text/wordpiece.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static const tc_bert_mode uncased = {1, 1, 1}, cased = {0, 0, 1};

static tc_wordpiece *open_tokens(const char *text, const tc_bert_mode *mode) {
    tc_wordpiece *wp = NULL;
    if (tc_wordpiece_open_buffer(&wp, text, strlen(text), mode, "vocab")) printf("  %s\n", tc_error());
    return wp;
}

// "[CLS] ... [SEP]" of text as token strings joined by spaces.
static const char *tokens_of(const tc_wordpiece *wp, const char *text) {
    static char out[4096];
    int32_t ids[512];
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    size_t n = tc_wordpiece_tokenize(wp, s, text, strlen(text), ids, 512);
    tc_wordpiece_scratch_free(s);
    size_t at = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && at < sizeof out - 64; i++)
        at += (size_t)snprintf(out + at, sizeof out - at, "%s%s", i ? " " : "", tc_wordpiece_token(wp, ids[i]));
    return out;
}

#define CHECK_TOKENS(wp, text, want)                                                        \
    do {                                                                                    \
        const char *got_ = tokens_of(wp, text);                                             \
        CHECKF(!strcmp(got_, want), "'%s' gave '%s', expected '%s'", text, got_, want);      \
    } while (0)

static const char *small_vocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\nunaff\n##a\na\n##b\nb\n!\n##ing\nrun\nrunning\n"
    "é\n##é\ne\n##s\nthe\ncafe\ncafé\n中\n文\n##x\nx\n";

static void test_greedy_longest_match(void) {
    tc_wordpiece *wp = open_tokens(small_vocab, &uncased);
    REQUIRE(wp);
    CHECK_TOKENS(wp, "unaffable", "unaff ##able");  // longest first piece, not un ##aff ##able
    CHECK_TOKENS(wp, "running runs", "running run ##s");
    CHECK_TOKENS(wp, "Running!", "running !");
    CHECK_TOKENS(wp, "aab bab", "a ##a ##b b ##a ##b");
    CHECK_TOKENS(wp, "unaffablez", "[UNK]");      // one unmatched piece spoils the word
    CHECK_TOKENS(wp, "CAFÉ café", "cafe cafe");   // accents stripped with lowercasing
    CHECK_TOKENS(wp, "x中文x", "x 中 文 x");
    CHECK_TOKENS(wp, "", "");
    CHECK_TOKENS(wp, " \t\r\n ", "");
    tc_wordpiece_close(wp);
    wp = open_tokens(small_vocab, &cased);
    REQUIRE(wp);
    CHECK_TOKENS(wp, "café Café", "café [UNK]");
    CHECK_TOKENS(wp, "e\xcc\x81 é", "[UNK] é");  // no composition: e + U+0301 is not é
    tc_wordpiece_close(wp);
}

static void test_word_length_limit(void) {
    tc_wordpiece *wp = open_tokens("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n##a\né\n##é\n", &cased);
    REQUIRE(wp);
    char text[1024];
    memset(text, 'a', 100);
    text[100] = 0;
    const char *t = tokens_of(wp, text);
    CHECKF(!strncmp(t, "a ##a ##a", 9) && strlen(t) == 1 + 99 * 4, "100 characters: %.40s", t);
    memset(text, 'a', 101);
    text[101] = 0;
    CHECK_TOKENS(wp, text, "[UNK]");
    // characters, not bytes: 100 two-byte characters are fine
    size_t at = 0;
    for (int i = 0; i < 100; i++) at += (size_t)sprintf(text + at, "é");
    t = tokens_of(wp, text);
    CHECKF(!strncmp(t, "é ##é", strlen("é ##é")), "100 x é: %.40s", t);
    at += (size_t)sprintf(text + at, "é");
    CHECK_TOKENS(wp, text, "[UNK]");
    tc_wordpiece_close(wp);
}

static void test_special_tokens_in_text(void) {
    tc_wordpiece *wp = open_tokens(small_vocab, &uncased);
    REQUIRE(wp);
    CHECK_TOKENS(wp, "a[SEP]b", "a [SEP] b");
    CHECK_TOKENS(wp, "[CLS][MASK] [cls]", "[CLS] [MASK] [UNK] [UNK] [UNK]");
    CHECK_TOKENS(wp, "[[SEP]]", "[UNK] [SEP] [UNK]");
    CHECK_TOKENS(wp, "[SE\xffP]", "[UNK] [UNK] [UNK]");  // an invalid byte breaks the match, then vanishes
    tc_wordpiece_close(wp);
}

static void test_invalid_utf8_removed(void) {
    tc_wordpiece *wp = open_tokens(small_vocab, &uncased);
    REQUIRE(wp);
    CHECK_TOKENS(wp, "ru\xffnning", "running");
    CHECK_TOKENS(wp, "ru\xe2\x82nning", "running");
    CHECK_TOKENS(wp, "the\xc0\xaf \xed\xa0\x80the", "the the");
    char nul[] = "the\0the";
    int32_t ids[8];
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    CHECK(tc_wordpiece_tokenize(wp, s, nul, 7, ids, 8) == 1);  // U+0000 removed: one word
    tc_wordpiece_scratch_free(s);
    tc_wordpiece_close(wp);
}

static void test_truncation_and_padding(void) {
    tc_wordpiece *wp = open_tokens(small_vocab, &uncased);
    REQUIRE(wp);
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    int32_t row[8];
    int n = tc_wordpiece_encode(wp, s, "aab the", 7, row, 8);
    int32_t a = tc_wordpiece_token_id(wp, "a", 1), ha = tc_wordpiece_token_id(wp, "##a", 3);
    int32_t hb = tc_wordpiece_token_id(wp, "##b", 3), the = tc_wordpiece_token_id(wp, "the", 3);
    int32_t want[8] = {info->cls_id, a, ha, hb, the, info->sep_id, info->pad_id, info->pad_id};
    CHECK(n == 6 && !memcmp(row, want, sizeof want));
    n = tc_wordpiece_encode(wp, s, "aab the", 7, row, 4);  // a word cut in the middle
    int32_t cut[4] = {info->cls_id, a, ha, info->sep_id};
    CHECK(n == 4 && !memcmp(row, cut, sizeof cut));
    n = tc_wordpiece_encode(wp, s, "aab the", 7, row, 2);
    CHECK(n == 2 && row[0] == info->cls_id && row[1] == info->sep_id);
    tc_wordpiece_scratch_free(s);
    tc_wordpiece_close(wp);
}

static void test_vocabulary_file(void) {
    // trailing whitespace trimmed (\r, U+3000), empty lines keep their ids,
    // a later duplicate wins
    const char *text = "[PAD]\r\n[UNK]\n[CLS]\n[SEP]\n\nhello\xe3\x80\x80\nhello\n##x \n";
    tc_wordpiece *wp = open_tokens(text, &uncased);
    REQUIRE(wp);
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    CHECK(info->vocab_size == 8);
    CHECK(info->pad_id == 0 && info->unk_id == 1 && info->cls_id == 2 && info->sep_id == 3 && info->mask_id == -1);
    CHECK(tc_wordpiece_token_id(wp, "hello", 5) == 6);
    CHECK(tc_wordpiece_token_id(wp, "##x", 3) == 7);
    CHECK(!strcmp(tc_wordpiece_token(wp, 5), "hello") && !strcmp(tc_wordpiece_token(wp, 4), ""));
    CHECK(tc_wordpiece_token(wp, 8) == NULL && tc_wordpiece_token(wp, -1) == NULL);
    CHECK_TOKENS(wp, "hellox", "hello ##x");
    tc_wordpiece_close(wp);

    tc_wordpiece *bad = NULL;
    CHECK(tc_wordpiece_open_buffer(&bad, "[CLS]\n[SEP]\n[PAD]\n", 18, &uncased, "v.txt") == -1);
    CHECK(strstr(tc_error(), "v.txt") && strstr(tc_error(), "[UNK]"));
    CHECK(tc_wordpiece_open_buffer(&bad, "[UNK]\n\xff\n", 8, &uncased, "v.txt") == -1);
    CHECK(strstr(tc_error(), "UTF-8") != NULL);
    CHECK(tc_wordpiece_open_buffer(&bad, "", 0, &uncased, "v.txt") == -1);
    CHECK(strstr(tc_error(), "empty") != NULL);
}

// ---------------------------------------------------------------- model directories

static char model_dir[4096];

static void write_file(const char *name, const char *text) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", model_dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int open_model(tc_wordpiece **wp, const char *config) {
    snprintf(model_dir, sizeof model_dir, "%s/model-%d", harness_tmpdir(), (int)getpid());
    mkdir(model_dir, 0755);
    write_file("vocab.txt", small_vocab);
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", model_dir);
    unlink(path);
    if (config) write_file("tokenizer_config.json", config);
    tc_wordpiece_settings settings = {model_dir, NULL, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET};
    return tc_wordpiece_open(wp, &settings);
}

static void test_model_settings(void) {
    tc_wordpiece *wp;
    int rc = open_model(&wp, NULL);  // REQUIRE evaluates its condition twice
    REQUIRE(rc == 0);  // no tokenizer_config.json: BERT's defaults
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    CHECK(info->mode.lowercase && info->mode.strip_accents && info->mode.chinese_chars && info->max_length == 512);
    CHECK(strlen(info->fingerprint) == 16 && info->n_special == 5);
    tc_wordpiece_close(wp);

    rc = open_model(&wp, "{\"do_lower_case\": false, \"model_max_length\": 256}");
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(!info->mode.lowercase && !info->mode.strip_accents && info->max_length == 256);  // null follows lowercase
    CHECK_TOKENS(wp, "café", "café");
    tc_wordpiece_close(wp);

    rc = open_model(&wp, "{\"do_lower_case\": true, \"strip_accents\": false, \"tokenize_chinese_chars\": false,"
                            " \"model_max_length\": 1e30}");
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(info->mode.lowercase && !info->mode.strip_accents && !info->mode.chinese_chars && info->max_length == 512);
    CHECK_TOKENS(wp, "CAFÉ x中", "café [UNK]");
    tc_wordpiece_close(wp);

    // special tokens named in the config, as strings or AddedToken objects
    rc = open_model(&wp, "{\"unk_token\": {\"content\": \"!\", \"__type\": \"AddedToken\"},"
                            " \"additional_special_tokens\": [\"run\"]}");
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(info->unk_id == tc_wordpiece_token_id(wp, "!", 1));
    CHECK_TOKENS(wp, "xrunx zzz", "x run x !");
    tc_wordpiece_close(wp);

    // explicit settings beat the config
    snprintf(model_dir, sizeof model_dir, "%s/model-%d", harness_tmpdir(), (int)getpid());
    tc_wordpiece_settings settings = {model_dir, NULL, 0, 1, TC_WORDPIECE_UNSET};
    rc = tc_wordpiece_open(&wp, &settings);
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(!info->mode.lowercase && info->mode.strip_accents);
    tc_wordpiece_close(wp);
}

static void test_model_errors(void) {
    tc_wordpiece *wp = NULL;
    CHECK(open_model(&wp, "{\"do_lower_case\": ") == -1);
    CHECK(strstr(tc_error(), "tokenizer_config.json: line") != NULL);
    CHECK(open_model(&wp, "{\"do_lower_case\": \"yes\"}") == -1);
    CHECK(strstr(tc_error(), "do_lower_case") != NULL);
    CHECK(open_model(&wp, "{\"unk_token\": \"<unk>\"}") == -1);
    CHECK(strstr(tc_error(), "no <unk> token") != NULL);
    CHECK(open_model(&wp, "{\"added_tokens_decoder\": {\"5\": {\"content\": \"un\", \"special\": true, "
                          "\"single_word\": true}}}") == -1);
    CHECK(strstr(tc_error(), "'un' is single_word: not supported") != NULL);
    CHECK(open_model(&wp, "{\"added_tokens_decoder\": {\"6\": {\"content\": \"un\", \"special\": true}}}") == -1);
    CHECK(strstr(tc_error(), "give 'un' the id 6, but that line is '##aff'") != NULL);
    tc_wordpiece_settings settings = {"/nonexistent/model", NULL, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET,
                                      TC_WORDPIECE_UNSET};
    CHECK(tc_wordpiece_open(&wp, &settings) == -1 && strstr(tc_error(), "/nonexistent/model"));
    settings.model_dir = NULL;
    settings.vocab_path = "/nonexistent/vocab.txt";
    CHECK(tc_wordpiece_open(&wp, &settings) == -1 && strstr(tc_error(), "/nonexistent/vocab.txt: cannot open"));
    CHECK(wp == NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/vocab.txt", model_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", model_dir);
    unlink(path);
    rmdir(model_dir);
}

// ---------------------------------------------------------------- tokenizer.json

static const char *mpnet_vocab = "<s>\n<pad>\n</s>\n<unk>\n[UNK]\na\nb\n<\n>\nun\n##k\nunk\n<mask>\n[CLS]\n";
static const char *mpnet_added =
    "\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true, \"normalized\": false},"
    " {\"id\": 1, \"content\": \"<pad>\", \"special\": true}, {\"id\": 2, \"content\": \"</s>\", \"special\": true},"
    " {\"id\": 3, \"content\": \"<unk>\", \"special\": true, \"normalized\": true},"
    " {\"id\": 4, \"content\": \"[UNK]\", \"special\": true},"
    " {\"id\": 12, \"content\": \"<mask>\", \"special\": true, \"lstrip\": true}]";

// A model directory of vocab.txt and tokenizer.json (MPNet's layout: the
// special tokens come from tokenizer.json alone).
static int open_json_model(tc_wordpiece **wp, const char *json) {
    snprintf(model_dir, sizeof model_dir, "%s/model-json-%d", harness_tmpdir(), (int)getpid());
    mkdir(model_dir, 0755);
    write_file("vocab.txt", mpnet_vocab);
    write_file("tokenizer.json", json);
    tc_wordpiece_settings settings = {model_dir, NULL, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET};
    return tc_wordpiece_open(wp, &settings);
}

static void test_tokenizer_json(void) {
    char json[4096];
    snprintf(json, sizeof json,
             "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\"}, \"post_processor\": {\"type\": "
             "\"RobertaProcessing\", \"sep\": [\"</s>\", 2], \"cls\": [\"<s>\", 0]}, \"padding\": {\"pad_id\": 1, "
             "\"pad_token\": \"<pad>\"}, %s}",
             mpnet_added);
    tc_wordpiece *wp;
    int rc = open_json_model(&wp, json);
    REQUIRE(rc == 0);
    const tc_wordpiece_info *info = tc_wordpiece_info_of(wp);
    CHECK(info->cls_id == 0 && info->sep_id == 2 && info->pad_id == 1 && info->unk_id == 4);
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    int32_t row[8], want[8] = {0, 5, 0, 6, 12, 2, 1, 1};
    CHECK(tc_wordpiece_encode(wp, s, "a<s>b <mask>", 12, row, 8) == 6 && !memcmp(row, want, sizeof want));
    tc_wordpiece_scratch_free(s);
    // <unk> is matched in the normalized text: lowercased, accents stripped,
    // but not across a space; [CLS] is no special token of this model
    CHECK_TOKENS(wp, "a<UNK>b <ùnk> <un k> [CLS]", "a <unk> b <unk> < un [UNK] > [UNK] [UNK] [UNK]");
    CHECK_TOKENS(wp, "<s><unk></s>unk<<unk>>", "<s> <unk> </s> unk < <unk> >");
    tc_wordpiece_close(wp);

    // a template that puts one token before the text and one after
    snprintf(json, sizeof json,
             "{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": "
             "\"<s>\"}}, {\"Sequence\": {\"id\": \"A\"}}, {\"SpecialToken\": {\"id\": \"</s>\"}}], \"special_tokens\": "
             "{\"<s>\": {\"ids\": [0], \"tokens\": [\"<s>\"]}, \"</s>\": {\"ids\": [2], \"tokens\": [\"</s>\"]}}}, "
             "\"padding\": {\"pad_id\": 1, \"pad_token\": \"<pad>\"}, %s}",
             mpnet_added);
    rc = open_json_model(&wp, json);
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(info->cls_id == 0 && info->sep_id == 2 && info->pad_id == 1 && info->unk_id == 4);
    tc_wordpiece_close(wp);

    static const struct {
        const char *json, *error;
    } bad[] = {
        {"{\"model\": {\"type\": \"BPE\"}}", "tokenizer.json: a BPE tokenizer, not WordPiece: not supported"},
        {"{\"post_processor\": {\"type\": \"ByteLevel\"}}", "post_processor ByteLevel: not supported"},
        {"{\"post_processor\": {\"type\": \"BertProcessing\", \"cls\": [\"<s>\", 0], \"sep\": [\"</s>\", 3]}}",
         "give '</s>' the id 3, but that line is '<unk>'"},
        {"{\"post_processor\": {\"type\": \"BertProcessing\", \"cls\": \"<s>\"}}", "\"cls\" is not [token, id]"},
        {"{\"added_tokens\": [{\"id\": 99, \"content\": \"x\"}]}", "give 'x' the id 99, but that line is past the end"},
        {"{\"added_tokens\": [{\"content\": \"x\"}]}", "added_tokens[0] has no id"},
        {"{\"added_tokens\": [{\"id\": 5, \"content\": \"a\", \"single_word\": true}]}", "single_word: not supported"},
        {"[1]", "tokenizer.json: not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wp = NULL;
        CHECKF(open_json_model(&wp, bad[i].json) == -1 && strstr(tc_error(), bad[i].error) && !wp,
               "%s: got '%s'", bad[i].json, tc_error());
        tc_wordpiece_close(wp);
    }
    // without tokenizer.json: special_tokens_map.json over tokenizer_config.json
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer.json", model_dir);
    unlink(path);
    write_file("tokenizer_config.json", "{\"cls_token\": \"[CLS]\", \"sep_token\": \"</s>\", \"pad_token\": \"<pad>\", "
                                        "\"unk_token\": \"[UNK]\"}");
    write_file("special_tokens_map.json", "{\"cls_token\": {\"content\": \"<s>\", \"lstrip\": false}}");
    tc_wordpiece_settings settings = {model_dir, NULL, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET, TC_WORDPIECE_UNSET};
    rc = tc_wordpiece_open(&wp, &settings);
    REQUIRE(rc == 0);
    info = tc_wordpiece_info_of(wp);
    CHECK(info->cls_id == 0 && info->sep_id == 2 && info->pad_id == 1 && info->unk_id == 4);
    tc_wordpiece_close(wp);
    for (const char *const *f = (const char *const[]){"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", NULL};
         *f; f++) {
        snprintf(path, sizeof path, "%s/%s", model_dir, *f);
        unlink(path);
    }
    rmdir(model_dir);
}

// ---------------------------------------------------------------- goldens from tokenizers

typedef struct {
    char **lines;
    size_t *lengths;
    size_t n;
} line_set;

// The adversarial lines, read as tc-tokenize reads lines.
static int read_lines(const char *path, line_set *set) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    memset(set, 0, sizeof *set);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') n--;
        if (n > 0 && line[n - 1] == '\r') n--;
        set->lines = realloc(set->lines, (set->n + 1) * sizeof *set->lines);
        set->lengths = realloc(set->lengths, (set->n + 1) * sizeof *set->lengths);
        set->lines[set->n] = malloc((size_t)n + 1);
        memcpy(set->lines[set->n], line, (size_t)n);
        set->lengths[set->n++] = (size_t)n;
    }
    free(line);
    fclose(f);
    return 0;
}

// Checks one line's ids, untruncated and truncated to a few lengths.
static int check_line(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                      const int32_t *want, size_t n_want) {
    int32_t *got = malloc((n_want + 8) * sizeof *got);
    size_t n = tc_wordpiece_tokenize(wp, s, text, len, got + 1, n_want + 4);
    int ok = n + 2 == n_want && !memcmp(got + 1, want + 1, n * sizeof *got);
    int lengths[] = {2, 3, 5, 16, 128, 512};
    for (size_t k = 0; k < sizeof lengths / sizeof *lengths && ok; k++) {
        int L = lengths[k];
        int32_t row[512];
        int len_out = tc_wordpiece_encode(wp, s, text, len, row, L);
        size_t keep = n_want - 2 < (size_t)L - 2 ? n_want - 2 : (size_t)L - 2;
        ok &= len_out == (int)keep + 2 && !memcmp(row, want, (keep + 1) * sizeof *row) && row[keep + 1] == want[n_want - 1];
        for (int i = (int)keep + 2; i < L; i++) ok &= row[i] == tc_wordpiece_info_of(wp)->pad_id;
    }
    free(got);
    return ok;
}

static void test_adversarial_goldens(void) {
    const char *root = getenv("TC_ROOT") ? getenv("TC_ROOT") : ".";
    char path[4200];
    line_set set;
    snprintf(path, sizeof path, "%s/tests/golden/tokenizer_adversarial.txt", root);
    int rc = read_lines(path, &set);
    REQUIRE(rc == 0);
    snprintf(path, sizeof path, "%s/tests/golden/tokenizer_goldens.txt", root);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char *line = NULL;
    size_t cap = 0, compared = 0, bad = 0, configs = 0, skipped = 0;
    tc_wordpiece *wp = NULL;
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    char name[64] = "";
    int32_t *ids = malloc(4096 * sizeof *ids);
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#') continue;
        char vocab[512];
        int lower, strip, chinese;
        if (sscanf(line, "config %63s vocab=%511s lowercase=%d strip_accents=%d chinese_chars=%d", name, vocab, &lower,
                   &strip, &chinese) == 5) {
            tc_wordpiece_close(wp);
            wp = NULL;
            snprintf(path, sizeof path, "%s/%s", root, vocab);
            tc_wordpiece_settings settings = {NULL, path, lower, strip, chinese};
            if (access(path, R_OK) != 0) {
                printf("  config %s skipped: %s missing (make model)\n", name, vocab);
                skipped++;
            } else if (tc_wordpiece_open(&wp, &settings)) {
                CHECKF(0, "%s", tc_error());
            }
            configs++;
            continue;
        }
        if (!wp) continue;
        size_t index = strtoul(line, NULL, 10), n = 0;
        for (char *p = strchr(line, '\t'); p && *p && n < 4096;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) break;
            ids[n++] = (int32_t)v;
            p = end;
        }
        REQUIRE(index < set.n);
        if (!check_line(wp, s, set.lines[index], set.lengths[index], ids, n)) {
            if (bad < 5) printf("  %s: line %zu differs from tokenizers\n", name, index);
            bad++;
        }
        compared++;
    }
    CHECK(configs == 5);
    CHECKF(bad == 0, "%zu of %zu lines differ", bad, compared);
    CHECK(compared >= (configs - skipped) * set.n && set.n >= 70);
    if (skipped) printf("  %zu configurations skipped\n", skipped);
    tc_wordpiece_close(wp);
    tc_wordpiece_scratch_free(s);
    free(ids);
    free(line);
    fclose(f);
    for (size_t i = 0; i < set.n; i++) free(set.lines[i]);
    free(set.lines);
    free(set.lengths);
}

// ---------------------------------------------------------------- threads share one tokenizer

typedef struct {
    const tc_wordpiece *wp;
    int32_t sum;
} thread_job;

static void *tokenize_many(void *arg) {
    thread_job *job = arg;
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    int32_t ids[64];
    const char *text = "Unaffable running CAFÉ 中文 a[SEP]b!";
    job->sum = 0;
    for (int i = 0; i < 2000; i++) {
        size_t n = tc_wordpiece_tokenize(job->wp, s, text, strlen(text), ids, 64);
        for (size_t k = 0; k < n; k++) job->sum += ids[k];
    }
    tc_wordpiece_scratch_free(s);
    return NULL;
}

static void test_threads_share_a_tokenizer(void) {
    tc_wordpiece *wp = open_tokens(small_vocab, &uncased);
    REQUIRE(wp);
    thread_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].wp = wp;
        pthread_create(&threads[i], NULL, tokenize_many, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    for (int i = 1; i < 4; i++) CHECK(jobs[i].sum == jobs[0].sum);
    CHECK(jobs[0].sum != 0);
    tc_wordpiece_close(wp);
}

int main(void) {
    RUN(test_greedy_longest_match);
    RUN(test_word_length_limit);
    RUN(test_special_tokens_in_text);
    RUN(test_invalid_utf8_removed);
    RUN(test_truncation_and_padding);
    RUN(test_vocabulary_file);
    RUN(test_model_settings);
    RUN(test_model_errors);
    RUN(test_tokenizer_json);
    RUN(test_adversarial_goldens);
    RUN(test_threads_share_a_tokenizer);
    HARNESS_EXIT();
}
