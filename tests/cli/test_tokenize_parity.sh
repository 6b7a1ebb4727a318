#!/bin/sh
# tc-tokenize against Hugging Face tokenizers on every document of the real
# corpora (20 Newsgroups train and test, the generated Amazon-531 and
# DBPedia-298 documents) and the adversarial lines with the uncased default
# model at 128 and 512 tokens; the cased test vocabulary at 512 on the
# generated documents and the adversarial lines; all-mpnet-base-v2 (its
# <s> </s> <pad> special tokens) on 20 Newsgroups and the adversarial lines
# at 128 and 512, when make model NAME=all-mpnet-base-v2 has put it in place
# (tokenizers takes most of this test's time). Token ids, lengths and
# document ids must be identical.
. "$TC_ROOT/tests/cli/lib.sh"

py=$(python_with numpy tokenizers) || { skip tokenize_parity "no Python with numpy and tokenizers (build/venv)"; exit 0; }
model=$TC_ROOT/models/all-MiniLM-L6-v2
[ -f "$model/vocab.txt" ] && [ -f "$model/tokenizer.json" ] || { skip tokenize_parity "$model missing (make model)"; exit 0; }
cased=$TC_ROOT/tests/golden/cased_vocab.txt

corpora=""
for c in 20ng/train/corpus.txt 20ng/test/corpus.txt amazon531/train/generated_docs.txt dbpedia298/train/generated_docs.txt; do
    if [ -f "$TC_DATA/$c" ]; then corpora="$corpora $c"; else skip "tokenize_parity $c" "$TC_DATA/$c missing"; fi
done

: > "$T/manifest"
failed=0
# export NAME PREFIX: the three tensors of $T/tokens.tct as PREFIX.*.npy
export_npy() {
    for t in doc_ids input_ids lengths; do
        tc-dump --npy $t "$T/tokens.tct" -o "$2.$t.npy" 2> "$T/err" || { fail "$1" "tc-dump --npy $t: $(cat "$T/err")"; failed=1; return 1; }
    done
}
# tokenize NAME CORPUS IDS_MODE SETTING MAX_LEN TC-TOKENIZE-ARGS...
tokenize() {
    name=$1 corpus=$2 ids=$3 setting=$4 len=$5
    shift 5
    flag=""
    [ "$ids" = no-ids ] && flag=--no-ids
    if ! tc-tokenize -q $flag --max-len "$len" "$@" "$corpus" -o "$T/tokens.tct" 2> "$T/err"; then
        fail "$name" "tc-tokenize: $(head -c 300 "$T/err")"
        failed=1
        return
    fi
    prefix=$T/$(echo "$name" | tr '/:' '__')
    export_npy "$name" "$prefix" && echo "$name $corpus $ids $setting $len $prefix" >> "$T/manifest"
}

# Under the sanitizers (several times slower, the same code) the corpora go
# through once, at 128 tokens; the adversarial lines in every setting.
adversarial=$TC_ROOT/tests/golden/tokenizer_adversarial.txt
specials=$TC_ROOT/tests/golden/tokenizer_adversarial_specials.txt
lengths="128 512" cased_corpora=$corpora
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    lengths=128 cased_corpora=""
    skip tokenize_parity_corpora_512 "under the sanitizers the corpora are compared at 128 tokens, the cased vocabulary on the adversarial lines only: the plain build compares them all"
fi
for len in $lengths; do
    for c in $corpora; do
        tokenize "uncased$len:$c" "$TC_DATA/$c" ids "model:$model" $len --model "$model"
    done
done
for len in 128 512; do
    tokenize "uncased$len:adversarial" "$adversarial" no-ids "model:$model" $len --model "$model"
    tokenize "uncased$len:specials" "$specials" no-ids "model:$model" $len --model "$model"
done
mpnet=$TC_ROOT/models/all-mpnet-base-v2
if [ -f "$mpnet/vocab.txt" ] && [ -f "$mpnet/tokenizer.json" ]; then
    for len in $lengths; do
        for c in $corpora; do
            case $c in 20ng/*) tokenize "mpnet$len:$c" "$TC_DATA/$c" ids "model:$mpnet" $len --model "$mpnet" ;; esac
        done
    done
    for len in 128 512; do
        tokenize "mpnet$len:adversarial" "$adversarial" no-ids "model:$mpnet" $len --model "$mpnet"
        tokenize "mpnet$len:specials" "$specials" no-ids "model:$mpnet" $len --model "$mpnet"
    done
else
    skip "tokenize_parity mpnet" "$mpnet missing (make model NAME=all-mpnet-base-v2)"
fi
for c in $cased_corpora; do
    case $c in 20ng/*) continue ;; esac
    tokenize "cased512:$c" "$TC_DATA/$c" ids "cased:$cased" 512 --vocab "$cased" --no-lowercase
done
tokenize "cased512:adversarial" "$adversarial" no-ids "cased:$cased" 512 --vocab "$cased" --no-lowercase

# tokenizers' encodings are kept between runs (keyed by the corpus, vocabulary,
# length and tokenizers version): the sanitizer pass reuses the plain pass's,
# its 128 tokens of the large corpora cut from the plain pass's 512. The C side
# always runs; only the reference's encoding is kept.
export TC_PARITY_CACHE="$TC_ROOT/build/tokenize-parity-cache"
if "$py" "$TC_ROOT/tests/cli/tokenize_parity.py" "$T/manifest" > "$T/parity" 2>&1 && [ $failed = 0 ]; then
    sed 's/^/  /' "$T/parity"
    pass "tokenize_parity ($(tail -n 1 "$T/parity" | sed 's/^total: //'))"
else
    sed 's/^/  /' "$T/parity"
    fail tokenize_parity "$(tail -n 1 "$T/parity")"
fi
