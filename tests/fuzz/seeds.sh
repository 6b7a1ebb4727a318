#!/bin/sh
# Seeds each fuzz target's corpus with real files: the repository's golden
# and test inputs, the example config, the default model's small files
# (when fetched), the datasets' taxonomies (when ../shared/data has them)
# and the binary files tests/fuzz/seeds.c writes. Files of one input are
# joined with the separator of tests/fuzz/fuzz_files.h.
# usage: tests/fuzz/seeds.sh OUT_DIR SEEDS_PROGRAM TCT_SAMPLE_PROGRAM
set -eu
out=$1 seeds=$2 sample=$3
root=$(pwd)
data=${TC_DATA:-${TC_SHARED:-$root/../shared}/data}
model=$root/models/all-MiniLM-L6-v2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tc-fuzz-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
for t in tct_reader safetensors model_dir vocab config_yaml taxonomy_text taxonomy_yaml labels keyterms; do
    mkdir -p "$out/$t"
done
sep() { printf '\n--tc-fuzz-file--\n'; }
# join FILE...: the files' bytes with the separator between them
join() {
    first=1
    for f in "$@"; do
        [ $first = 1 ] || sep
        first=0
        cat "$f"
    done
}

# tensor streams
"$sample" dtypes > "$out/tct_reader/dtypes.tct"
"$sample" table 50 > "$out/tct_reader/table.tct"
"$sample" rows 20 3 > "$out/tct_reader/rows.tct"
zstdcat "$out/tct_reader/dtypes.tct" > "$out/tct_reader/dtypes-raw.tct"
"$sample" version 2 > "$out/tct_reader/version.tct"

# model directories: tiny ones, and the default model's own json files
# around a tiny model's weights and vocabulary
st_files="modules.json 1_Pooling/config.json"
for v in 0 1 2 3; do
    d=$tmp/model$v
    "$seeds" model "$d" $v
    printf '{"max_seq_length": 8, "do_lower_case": false}\n' > "$d/sentence_bert_config.json"
    printf '{"do_lower_case": true, "model_max_length": 8}\n' > "$d/tokenizer_config.json"
    cp "$d/model.safetensors" "$out/safetensors/tiny$v.safetensors"
    (cd "$d" && join config.json model.safetensors vocab.txt $st_files sentence_bert_config.json) \
        > "$out/model_dir/tiny$v"
done
(cd "$tmp/model0" && join config.json model.safetensors vocab.txt) > "$out/model_dir/bare"
if [ -f "$model/config.json" ]; then
    d=$tmp/model0
    join "$d/config.json" "$d/model.safetensors" "$d/vocab.txt" "$model/modules.json" \
        "$model/1_Pooling/config.json" "$model/sentence_bert_config.json" > "$out/model_dir/minilm-json"
fi

# tokenizer: vocabularies, tokenizer configs and hard texts
text=$tmp/text.txt
head -c 2000 tests/golden/tokenizer_adversarial.txt > "$text"
printf '{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false, "model_max_length": 16,
 "additional_special_tokens": ["<x>", {"content": "[Y]"}],
 "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}}}\n' > "$tmp/tokcfg.json"
head -n 400 tests/golden/cased_vocab.txt > "$tmp/cased.txt"
join "$tmp/cased.txt" "$tmp/tokcfg.json" "$text" > "$out/vocab/cased"
join "$tmp/model0/vocab.txt" "$tmp/model0/tokenizer_config.json" "$text" > "$out/vocab/tiny"
cp "$tmp/cased.txt" "$out/vocab/vocab-only"
# MPNet's layout: special tokens from tokenizer.json, <unk> matched after normalizing
printf '<s>\n<pad>\n</s>\n<unk>\n[UNK]\na\nb\n<\n>\nun\n##k\nunk\n<mask>\n' > "$tmp/mpnet.txt"
printf '{"model": {"type": "WordPiece", "unk_token": "[UNK]"},
 "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]},
 "padding": {"pad_id": 1, "pad_token": "<pad>"},
 "added_tokens": [{"id": 0, "content": "<s>", "special": true}, {"id": 3, "content": "<unk>", "normalized": true},
  {"id": 12, "content": "<mask>", "lstrip": true}]}\n' > "$tmp/tokenizer.json"
printf 'a<UNK>b <s>x</s> <\xc3\xb9nk> <mask>\n' > "$tmp/mpnet-text.txt"
printf '{"do_lower_case": true}\n' > "$tmp/mpnet-cfg.json"
join "$tmp/mpnet.txt" "$tmp/mpnet-cfg.json" "$tmp/mpnet-text.txt" "$tmp/tokenizer.json" > "$out/vocab/mpnet"
if [ -f "$model/vocab.txt" ]; then
    { head -n 120 "$model/vocab.txt"; sed -n '1997,2400p' "$model/vocab.txt"; } > "$tmp/minilm.txt"
    join "$tmp/minilm.txt" "$model/tokenizer_config.json" "$text" > "$out/vocab/minilm"
fi

# --config files
cp examples/config.yaml "$out/config_yaml/example.yaml"
printf 'tc-encode:\n  batch-size: 64\n  normalize: true\n  gpus: [0, 1]\n  fast: false\ntc-taxo:\n  enrich: {top-k: 5}\n' \
    > "$out/config_yaml/small.yaml"
printf 'encode: &a\n  batch-size: 1\ntc-taxo:\n  enrich: *a\n' > "$out/config_yaml/alias.yaml"

# taxonomies
n=0
for d in tests/golden/enrich tests/golden/eval tests/golden/refine tests/cli/refine "$data"/*; do
    [ -f "$d/labels.txt" ] || continue
    n=$((n + 1))
    if [ -f "$d/label_hierarchy.txt" ]; then
        join "$d/labels.txt" "$d/label_hierarchy.txt" > "$out/taxonomy_text/$n"
    fi
    cp "$d/labels.txt" "$out/taxonomy_text/flat$n"
done
printf 'a:\n  c:\n    e:\n  d:\n    - e\n    - f\nb:\n  d:\n' > "$out/taxonomy_yaml/dag.yaml"
printf -- '- sports:\n    - baseball\n    - hockey: [ice hockey, field hockey]\n- politics\n' > "$out/taxonomy_yaml/list.yaml"
printf 'science:\n  physics: quantum\n  "space shuttle":\n' > "$out/taxonomy_yaml/scalar.yaml"

# label files
cp tests/golden/enrich/doc2labels.txt "$out/labels/enrich.txt"
head -n 50 tests/golden/eval/gold.txt > "$out/labels/gold.txt"
[ -f "$data/20ng/train/doc2labels.txt" ] && head -n 200 "$data/20ng/train/doc2labels.txt" > "$out/labels/20ng.txt"
"$seeds" labels "$out/labels/labels.tct"

# key terms, with the labels of their taxonomy
join tests/golden/refine/labels.txt tests/golden/refine/keyterms.txt > "$out/keyterms/golden"
join tests/cli/refine/labels.txt tests/cli/refine/keyterms.txt > "$out/keyterms/cli"
printf 'sports:ball,team_sport\nBaseball:pitcher,home run\nice-hockey:puck\nSPACE SHUTTLE:orbiter\n' \
    > "$out/keyterms/fixed"
