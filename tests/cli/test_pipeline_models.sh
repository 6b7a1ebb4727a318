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
