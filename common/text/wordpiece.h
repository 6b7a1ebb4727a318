// BERT WordPiece tokenization, token for token the same as Hugging Face
// tokenizers' BertTokenizerFast pipeline:
//
//   special tokens ([CLS], [SEP], ... as literal text) are matched first and
//   kept whole; the text between them goes through BertNormalizer (added
//   tokens marked "normalized", such as MPNet's <unk>, are then matched in
//   the normalized text) and
//   BertPreTokenizer (common/text/bert_normalizer.h); each word then becomes the
//   greedy longest-match WordPiece pieces ("##" marks a piece inside a word),
//   or [UNK] when a word has more than 100 characters or some part of it
//   matches nothing.
//
// A tc_wordpiece is read-only once opened and is shared by threads; each
// thread tokenizes with its own tc_wordpiece_scratch.
#ifndef TC_WORDPIECE_H
#define TC_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "common/text/bert_normalizer.h"

#define TC_WORDPIECE_UNSET (-1)
#define TC_WORDPIECE_MAX_WORD_CHARS 100  // longer words become [UNK]
#define TC_WORDPIECE_MAX_LENGTH 512      // BERT's positions, when the model names no limit

typedef struct tc_wordpiece tc_wordpiece;
typedef struct tc_wordpiece_scratch tc_wordpiece_scratch;

// Where the vocabulary and the normalization settings come from. With
// model_dir: model_dir/vocab.txt, model_dir/tokenizer_config.json
// (do_lower_case, strip_accents, tokenize_chinese_chars, the special tokens,
// model_max_length), special_tokens_map.json (the special tokens) and
// tokenizer.json (the tokens its post-processor puts around the text, e.g.
// MPNet's <s> </s>, its padding and unknown tokens, and the added tokens it
// matches in the raw or the normalized text), a later file winning; each is
// optional, their absence means BERT's defaults. With vocab_path: that
// vocabulary and BERT's defaults. Settings that are not TC_WORDPIECE_UNSET
// override both.
typedef struct {
    const char *model_dir;
    const char *vocab_path;
    int lowercase;      // 1, 0, or UNSET (default 1)
    int strip_accents;  // 1, 0, or UNSET: as the config says; null there (the default) follows lowercase
    int chinese_chars;  // 1, 0, or UNSET (default 1)
} tc_wordpiece_settings;

typedef struct {
    size_t vocab_size;            // lines of the vocabulary: ids are 0..vocab_size-1
    int32_t unk_id, cls_id, sep_id, pad_id, mask_id;  // -1 where the vocabulary lacks it (not unk/cls/sep/pad)
    tc_bert_mode mode;            // lowercase, strip_accents (resolved), chinese_chars
    int max_length;               // the model's longest input (model_max_length, else 512)
    char vocab_path[4096];
    char fingerprint[17];         // tc_file_fingerprint of the vocabulary file ("" for a buffer)
    size_t n_special;             // special tokens matched as literal text
} tc_wordpiece_info;

// Opens a vocabulary; the error names the file and the problem.
int tc_wordpiece_open(tc_wordpiece **wp, const tc_wordpiece_settings *settings);

// A vocabulary given as the text of a vocab.txt (for tests and embedding
// programs); special tokens are BERT's defaults.
int tc_wordpiece_open_buffer(tc_wordpiece **wp, const char *text, size_t size, const tc_bert_mode *mode,
                             const char *where);

void tc_wordpiece_close(tc_wordpiece *wp);
const tc_wordpiece_info *tc_wordpiece_info_of(const tc_wordpiece *wp);

// The id of a token, or -1.
int32_t tc_wordpiece_token_id(const tc_wordpiece *wp, const char *token, size_t len);
// The text of an id (NUL-terminated), or NULL.
const char *tc_wordpiece_token(const tc_wordpiece *wp, int32_t id);

tc_wordpiece_scratch *tc_wordpiece_scratch_new(void);
void tc_wordpiece_scratch_free(tc_wordpiece_scratch *s);

// The token ids of text (UTF-8; invalid sequences are removed, as cleaning
// removes the U+FFFD a decoder puts in their place), without [CLS]/[SEP].
// Stops once max_ids ids are out (truncation keeps the first ones, so the
// rest of a long text is never looked at). Returns the count.
size_t tc_wordpiece_tokenize(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                             int32_t *ids, size_t max_ids);

// The words of text as the normalizer and pre-tokenizer make them, before
// WordPiece (for tests and inspection). A word of more than 100 characters
// comes with its first 100 only (chars says how many it has); a special
// token comes whole, with special set.
typedef void tc_wordpiece_word_fn(void *context, const char *word, size_t len, size_t chars, int special);
void tc_wordpiece_words(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                        tc_wordpiece_word_fn *on_word, void *context);

// One model input row: the model's first token ([CLS], MPNet's <s>), the
// first max_len-2 token ids, its last token ([SEP], </s>), then its padding
// token ([PAD], <pad>) up to max_len (>= 2). Returns the length before padding.
int tc_wordpiece_encode(const tc_wordpiece *wp, tc_wordpiece_scratch *s, const char *text, size_t len,
                        int32_t *row, int max_len);

#endif
