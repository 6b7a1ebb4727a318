# examples/pipeline.mk with a similarity encoder (SIM_MODEL) and a classifier
# encoder (CLS_MODEL) apart: the commands make would run (make -n, nothing
# runs) encode what annotation, enrichment and refinement compare with
# SIM_MODEL, from tokens of its own vocabulary, and tokenize, encode the class
# vectors and train with CLS_MODEL; with one MODEL, the documents are
# tokenized once. (test_pipeline.sh runs the stages themselves.)
. "$TC_ROOT/tests/cli/lib.sh"
for f in labels.txt label_hierarchy.txt train/corpus.txt train/doc2labels.txt test/corpus.txt test/doc2labels.txt; do
    mkdir -p "data/$(dirname "$f")" && : > "data/$f"
done
plan() { # FILE VAR=value...: make -n's commands for the whole pipeline into FILE
    out=$1
    shift
    make -n -f "$TC_ROOT/examples/pipeline.mk" TOP="$TC_ROOT" BIN=/bin-dir DATA="$T/data" WORK="$T/w" "$@" report > "$out"
}
expect pipeline_models_plan 0 plan two SIM_MODEL=/sim-model CLS_MODEL=/cls-model
check pipeline_models_documents_sim sh -c "grep -E 'tc-encode .*--model /sim-model .*train\.sim-tokens\.tct -o .*/train\.emb\.tct' two &&
    grep -E 'tc-encode .*--model /sim-model .*test\.sim-tokens\.tct -o .*/test\.emb\.tct' two &&
    grep -E 'tc-tokenize .*--model /sim-model .*/train\.txt -o .*/train\.sim-tokens\.tct' two"
check pipeline_models_names_sim sh -c "grep -E 'tc-tokenize .*--model /sim-model .*names\.txt \| .*tc-encode .*--model /sim-model .*names\.emb\.tct' two &&
    grep -E 'tc-tokenize .*--model /sim-model .*candidates\.txt \| .*tc-encode .*--model /sim-model' two"
check pipeline_models_class_vectors_cls grep -E \
    'tc-tokenize .*--model /cls-model .*classes\.txt \| .*tc-encode .*--model /cls-model .*classes\.emb\.tct' two
check pipeline_models_train_cls sh -c "grep -E 'tc-train .*--model /cls-model .*--class-vectors .*classes\.emb\.tct' two &&
    grep -E 'tc-tokenize .*--model /cls-model .*/train-all\.txt -o .*/train-all\.tokens\.tct' two &&
    grep -E 'tc-tokenize .*--model /cls-model .*/test\.txt -o .*/test\.tokens\.tct' two"
check pipeline_models_no_crossing sh -c "! grep -E 'tc-train .*--model /sim-model' two &&
    ! grep -E 'tc-tokenize .*--model /cls-model .*sim-tokens' two"
# one model: both roles, the documents tokenized once
expect pipeline_models_plan_one 0 plan one MODEL=/one-model
check pipeline_models_one_tokenizing sh -c "! grep -q sim-tokens one && grep -q 'tc-encode .*--model /one-model .*train\.tokens\.tct' one &&
    ! grep -q -- '-model /sim-model\|--model /cls-model' one"

# The stages themselves, with two tiny random BERTs whose vocabularies (the
# slice's commonest words, in two orders) and widths (48 and 32) differ: the
# similarity embeddings are the one's, the class vectors and the checkpoint
# the other's, and each tokens file passes its encoder's vocabulary check.
data="$TC_DATA/20ng"
if [ ! -f "$data/train/corpus.txt" ]; then
    skip pipeline_models_run "$data is missing"
    exit 0
fi
head -n 60 "$data/train/corpus.txt" | cut -f2 | tr 'A-Z' 'a-z' | tr -cs 'a-z' '\n' | sort | uniq -c |
    sort -k1,1nr -k2 | awk '$2 != "" { print $2 }' | head -n 995 > words
tiny() { # DIR HIDDEN ORDER: a random model over the words
    "$TC_HELPERS/encode-fixture" model "$1" vocab=1000 positions=64 hidden="$2" heads=4 || return 1
    { printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; if [ "$3" = reverse ]; then sort -r words; else cat words; fi; } > "$1/vocab.txt"
    while [ "$(wc -l < "$1/vocab.txt")" -lt 1000 ]; do echo "filler$(wc -l < "$1/vocab.txt")" >> "$1/vocab.txt"; done
}
if ! tiny sim 48 forward || ! tiny cls 32 reverse; then
    fail pipeline_models_run "encode-fixture failed"
    exit 0
fi
expect pipeline_models_run 0 make -s -f "$TC_ROOT/examples/pipeline.mk" TOP="$TC_ROOT" BIN="$TC_BIN" DATA="$data" \
    WORK="$T/run" SIM_MODEL="$T/sim" CLS_MODEL="$T/cls" TRAIN_DOCS=60 TEST_DOCS=40 MAX_LEN=32 EPOCHS=1 \
    TRAIN_FLAGS="--gpus none" GPUS="--gpus none" metrics
width() { tc-dump "$T/run/$1" | awk '$1 == "embeddings" { split($3, d, /[][,]/); print d[3] }'; }
check pipeline_models_run_similarity_width sh -c "[ '$(width train.emb.tct)' = 48 ] && [ '$(width names.emb.tct)' = 48 ]"
check pipeline_models_run_class_vectors_width test "$(width classes.emb.tct)" = 32
check pipeline_models_run_checkpoint grep -q '"hidden_size": *32' "$T/run/classifier/final/config.json"
check pipeline_models_run_metrics grep -q '^matched	40$' "$T/run/metrics.tsv"
