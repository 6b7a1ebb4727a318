// libFuzzer target: a Hugging Face model directory as the encoder loads it.
// The input is the directory's files in this order, split on FUZZ_SEP
// (tests/fuzz/fuzz_files.h): config.json, model.safetensors, vocab.txt,
// modules.json, 1_Pooling/config.json, sentence_bert_config.json. Fewer
// parts leave the later files absent. Every load ends in a clean error or
// a model. (The tokenizer's files, vocab.txt and tokenizer_config.json,
// are fuzz_vocab's: opening a tokenizer costs 30 ms, 50 times this load.)
#include "common/model/bert_model.h"
#include "tests/fuzz/fuzz_files.h"

static const char *const files[] = {"config.json",  "model.safetensors",     "vocab.txt",
                                    "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"};
enum { N_FILES = sizeof files / sizeof *files };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_part parts[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, parts, N_FILES);
    char path[512];
    for (int i = 0; i < N_FILES; i++) fuzz_file(path, sizeof path, files[i], i < n ? &parts[i] : NULL);
    tc_bert_model m;
    if (fuzz_note("model", tc_bert_model_load(&m, fuzz_dir())) == 0) {
        if ((unsigned)m.default_pooling > TC_POOL_POOLER || m.n_params == 0) abort();
        tc_bert_model_free(&m);
    }
    return 0;
}
