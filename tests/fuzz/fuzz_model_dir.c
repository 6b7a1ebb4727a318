// libFuzzer target: a Hugging Face model directory as the encoder and the
// tokenizer load it. The input is the directory's files in this order,
// split on FUZZ_SEP (tests/fuzz/fuzz_files.h): config.json,
// model.safetensors, vocab.txt, modules.json, 1_Pooling/config.json,
// sentence_bert_config.json, tokenizer_config.json. Fewer parts leave the
// later files absent. Every load ends in a clean error or a model.
#include "common/model/bert_model.h"
#include "common/text/wordpiece.h"
#include "tests/fuzz/fuzz_files.h"

static const char *const files[] = {"config.json",           "model.safetensors",         "vocab.txt",
                                    "modules.json",          "1_Pooling/config.json",     "sentence_bert_config.json",
                                    "tokenizer_config.json"};
enum { N_FILES = sizeof files / sizeof *files };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_part parts[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, parts, N_FILES);
    char path[512];
    for (int i = 0; i < N_FILES; i++) fuzz_file(path, sizeof path, files[i], i < n ? &parts[i] : NULL);
    tc_bert_model m;
    if (fuzz_note("model", tc_bert_model_load(&m, fuzz_dir())) == 0) tc_bert_model_free(&m);
    tc_wordpiece *wp;
    tc_wordpiece_settings settings = {.model_dir = fuzz_dir(), .lowercase = TC_WORDPIECE_UNSET,
                                      .strip_accents = TC_WORDPIECE_UNSET, .chinese_chars = TC_WORDPIECE_UNSET};
    if (fuzz_note("tokenizer", tc_wordpiece_open(&wp, &settings)) == 0) {
        tc_wordpiece_scratch *s = tc_wordpiece_scratch_new();
        int32_t row[16];
        static const char text[] = "[CLS] Hello, wörld! 你好 [MASK] unaffable";
        if (s) tc_wordpiece_encode(wp, s, text, sizeof text - 1, row, 16);
        tc_wordpiece_scratch_free(s);
        tc_wordpiece_close(wp);
    }
    return 0;
}
