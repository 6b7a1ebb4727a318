# The whole pipeline, end to end, on a slice of 20 Newsgroups through
# examples/pipeline.mk: every stage runs, every tensor file it leaves passes
# tc-dump --check, the classifier is in place, and the final metrics beat the
# trivial baseline of predicting, for every test document, the most frequent
# gold path of the training slice (which the pipeline never sees).
# With the default model (make model; `make test` fetches it); without it, a
# tiny random BERT whose vocabulary is the slice's commonest words runs the
# same stages, and the metric check skips, saying why. TC_PIPELINE_MODEL names
# another model directory (a missing one takes the tiny model's path).
. "$TC_ROOT/tests/cli/lib.sh"
data="$TC_DATA/20ng"
if [ ! -f "$data/train/corpus.txt" ]; then
    skip pipeline "$data is missing"
    exit 0
fi
# the sanitizer build is several times slower and looks for memory errors,
# not numbers: a smaller slice, every stage and its files checked, the
# metrics left to the plain build
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    train_docs=60 test_docs=40
    skip pipeline_full_slice "under the sanitizers 60 training and 40 test documents, no comparison with the baseline: the plain build runs 300 and 200 and compares"
else
    train_docs=300 test_docs=200
fi

model="${TC_PIPELINE_MODEL:-$TC_ROOT/models/all-MiniLM-L6-v2}"
real_model=1
if [ ! -f "$model/model.safetensors" ]; then
    real_model=0 model="$T/tiny"
    "$TC_HELPERS/encode-fixture" model "$model" vocab=2000 positions=130 hidden=32 heads=4 ||
        { fail pipeline_tiny_model "encode-fixture failed"; exit 1; }
    # its vocabulary: the special tokens, then the slice's commonest words
    head -n $train_docs "$data/train/corpus.txt" | cut -f2 | tr 'A-Z' 'a-z' | tr -cs 'a-z' '\n' |
        sort | uniq -c | sort -k1,1nr -k2 | awk '$2 != "" { print $2 }' | head -n 1995 > "$T/words"
    { printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; cat "$T/words"; } > "$model/vocab.txt"
    while [ "$(wc -l < "$model/vocab.txt")" -lt 2000 ]; do echo "filler$(wc -l < "$model/vocab.txt")" >> "$model/vocab.txt"; done
fi

w="$T/work"
# one epoch (EPOCHS=1) instead of the default budget of 300 steps: the test
# checks that every stage runs and learns, not the quality at the defaults
# (tests/bench/quality.sh measures that)
expect pipeline_runs 0 make -s -f "$TC_ROOT/examples/pipeline.mk" TOP="$TC_ROOT" BIN="$TC_BIN" DATA="$data" \
    WORK="$w" MODEL="$model" TRAIN_DOCS=$train_docs TEST_DOCS=$test_docs MAX_LEN=64 EPOCHS=1 \
    TRAIN_FLAGS="--gpus none" GPUS="--gpus none" metrics

# every stage's output
for f in taxonomy.tct names.emb.tct classes.emb.tct names.terms.tct train.tokens.tct test.tokens.tct train.emb.tct \
    core.tct taxonomy.enriched.tct refined.tct augmented.tct targets.tct train-all.tokens.tct \
    predictions.tct; do
    expect "pipeline_valid_${f%.tct}" 0 tc-dump --check "$w/$f"
done
check pipeline_enrichment_terms test -s "$w/enrichment.txt"
check pipeline_checkpoint sh -c "test -s '$w/classifier/final/model.safetensors' && test -s '$w/classifier/final/config.json'"
check pipeline_predicts_every_test_document sh -c \
    "[ \$(tc-dump --tsv doc_ids '$w/predictions.tct' | wc -l) -eq $test_docs ]"
check pipeline_metrics sh -c "grep -q '^matched	$test_docs\$' '$w/metrics.tsv'"

# the trivial baseline: the training slice's most frequent gold path for every
# test document, its classes ranked root first (the root is the likelier hit)
path=$(head -n $train_docs "$data/train/doc2labels.txt" | cut -f2 | sort | uniq -c | sort -k1,1nr -k2 |
    awk 'NR == 1 { print $2 }')
cut -f1 "$w/test-gold.txt" | awk -v p="$path" '{ print $1 "\t" p }' > baseline.txt
cut -f1 "$w/test-gold.txt" | awk -v p="$path" '{
    n = split(p, c, ","); s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") (n - i + 1); print $1 "\t" s }' > baseline.scores
check pipeline_baseline_made sh -c "'$TC_HELPERS/tct-from-text' labels baseline.scores < baseline.txt > baseline.tct"
expect pipeline_baseline_scored 0 tc-eval --gold "$w/test-gold.txt" --taxonomy "$w/taxonomy.tct" --tsv \
    -o baseline.tsv baseline.tct
metric() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$2"; }
if [ $real_model = 0 ]; then
    skip pipeline_beats_baseline "the default model is not in models/ (make model): a random tiny model learns nothing to compare"
    exit 0
fi
[ "${TC_SANITIZE:-0}" = 1 ] && exit 0  # said above, with the slice
for k in example_f1 p@1 mrr; do
    ours=$(metric $k "$w/metrics.tsv") base=$(metric $k baseline.tsv)
    echo "  $k: pipeline $ours, most frequent path $base"
    check "pipeline_beats_baseline_$k" awk -v a="$ours" -v b="$base" 'BEGIN { exit !(a != "" && b != "" && a > b + 0.1) }'
done
