// libFuzzer target: a tokenizer's files, vocab.txt, tokenizer_config.json
// and tokenizer.json, then a text tokenized with them. The input is split on
// FUZZ_SEP (tests/fuzz/fuzz_files.h) into vocab.txt, tokenizer_config.json,
// the text and tokenizer.json (the last, so that older seeds keep their
// meaning). With a tokenizer_config.json part the files are opened as a
// model directory, else the vocabulary alone as
// the buffer embedding programs use (one open per input: each costs 30 ms
// under the sanitizers). The text then goes through tokenization and
// encoding: every id out must be in the vocabulary.
#include "common/text/wordpiece.h"
#include "tests/fuzz/fuzz_files.h"

enum { MAX_IDS = 64 };

static void tokenize(const tc_wordpiece *wp, const fuzz_part *text) {
    tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
    if (!s) return;
    size_t vocab_size = tc_wordpiece_info_of(wp)->vocab_size;
    int32_t ids[MAX_IDS];
    size_t n = tc_wordpiece_tokenize(wp, s, (const char *)text->data, text->size, ids, MAX_IDS);
    if (n > MAX_IDS) abort();
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= vocab_size) abort();
        if (!tc_wordpiece_token(wp, ids[i])) abort();
    }
    int len = tc_wordpiece_encode(wp, s, (const char *)text->data, text->size, ids, 16);
    if (len < 0 || len > 16) abort();
    tc_wordpiece_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_part parts[4];
    int n = fuzz_split(data, size, parts, 4);
    static const char fallback[] = "unaffable [SEP] héllo 你好";
    fuzz_part text = n > 2 ? parts[2] : (fuzz_part){(const uint8_t *)fallback, sizeof fallback - 1};
    char path[512];
    fuzz_file(path, sizeof path, "vocab.txt", &parts[0]);
    fuzz_file(path, sizeof path, "tokenizer_config.json", n > 1 ? &parts[1] : NULL);
    fuzz_file(path, sizeof path, "tokenizer.json", n > 3 ? &parts[3] : NULL);
    tc_wordpiece *wp;
    int rc;
    if (n > 1) {
        tc_wordpiece_settings settings = {.model_dir = fuzz_dir(), .lowercase = TC_WORDPIECE_UNSET,
                                          .strip_accents = TC_WORDPIECE_UNSET, .chinese_chars = TC_WORDPIECE_UNSET};
        rc = fuzz_note("model_dir", tc_wordpiece_open(&wp, &settings));
    } else {
        tc_bert_mode mode = {.lowercase = 1, .strip_accents = 1, .chinese_chars = 1};
        rc = fuzz_note("buffer", tc_wordpiece_open_buffer(&wp, (const char *)parts[0].data, parts[0].size, &mode,
                                                          "vocab.txt"));
    }
    if (rc == 0) {
        tokenize(wp, &text);
        tc_wordpiece_close(wp);
    }
    return 0;
}
