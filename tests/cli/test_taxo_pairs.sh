#!/bin/sh
# tc-taxo pairs: sentence-encoder training pairs from the pipeline's outputs
# (common/taxonomy/pairs.h): a confident document with each of its core
# classes' name and key terms; ancestors (label_core 0) left out; one line
# per pair in the corpus's order; errors (a document not in the corpus, a
# class outside the taxonomy, missing options) in one line, no output
# written, inputs unchanged. The pairs then train: cut -f1,2 / -f1,3,
# tc-tokenize, tc-train --objective contrastive.
. "$TC_ROOT/tests/cli/lib.sh"

mkdir tx
printf '0\tscience\n1\tsports\n2\tcomputer_science\n' > tx/labels.txt
printf '0\t2\n' > tx/label_hierarchy.txt
printf 'computer_science:algorithms,data_structures\nsports:hockey\n' > terms.txt
tc-taxo build -q tx -o taxo0.tct && tc-taxo terms -q -t taxo0.tct terms.txt -o taxo.tct || fail pairs_setup "taxonomy"
printf 'd1\tQuick sort beats bubble sort on large arrays.\nd2\tThe game went to overtime.\nd3\tNothing confident here.\n' > corpus.txt
# refine's output lists core classes; a text label file stands in (every entry core)
printf 'd1\t2\nd2\t1,0\n' > confident.txt

expect_error pairs_needs_options 2 '--taxonomy and --corpus are required' tc-taxo pairs -t taxo.tct confident.txt
expect pairs_run 0 tc-taxo pairs -q -t taxo.tct --corpus corpus.txt -o pairs.tsv confident.txt
printf 'd1#0\tcomputer science: algorithms, data structures\tQuick sort beats bubble sort on large arrays.\nd2#0\tsports: hockey\tThe game went to overtime.\nd2#1\tscience\tThe game went to overtime.\n' > want.tsv
check pairs_lines cmp pairs.tsv want.tsv

printf 'd9\t1\n' > missing.txt
cp corpus.txt corpus_before.txt
expect_error pairs_missing_doc 1 "missing.txt: document 'd9' \\(row 0\\) is not in corpus.txt, or not in its order" \
    tc-taxo pairs -t taxo.tct --corpus corpus.txt -o bad.tsv missing.txt
printf 'd2\t1\nd1\t2\n' > disordered.txt
expect_error pairs_order 1 "disordered.txt: document 'd1' \\(row 1\\) is not in corpus.txt, or not in its order" \
    tc-taxo pairs -t taxo.tct --corpus corpus.txt -o bad.tsv disordered.txt
printf 'd1\t7\n' > outside.txt
expect_error pairs_class_outside 1 'outside.txt' tc-taxo pairs -t taxo.tct --corpus corpus.txt -o bad.tsv outside.txt
check pairs_no_output test ! -e bad.tsv
check pairs_corpus_kept cmp corpus.txt corpus_before.txt

# the two sides tokenize into pairs tc-train takes
model="$TC_ROOT/models/all-MiniLM-L6-v2"
if [ -f "$model/vocab.txt" ]; then
    cut -f1,2 pairs.tsv > a.txt && cut -f1,3 pairs.tsv > p.txt
    expect pairs_tokenize_anchors 0 tc-tokenize -q --model "$model" --max-len 32 -o a.tct a.txt
    expect pairs_tokenize_positives 0 tc-tokenize -q --model "$model" --max-len 32 -o p.tct p.txt
    expect pairs_train 0 tc-train -q --objective contrastive -m "$model" --gpus none --threads 2 --batch 3 \
        --max-steps 1 --no-tensorboard -o st a.tct p.tct
else
    skip pairs_train "the default model is not in models/ (make model)"
fi
