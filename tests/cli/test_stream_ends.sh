# Every program that reads a tensor stream reads it to its end record and
# refuses what tc-dump --check refuses: a stream cut inside its last record,
# bytes after the end, two streams concatenated (`cat a.tct b.tct`, whose
# second stream used to be dropped without a word), and an empty file. Each:
# exit 1, one line naming the file once with the byte offset, no output file,
# the input unchanged.
. "$TC_ROOT/tests/cli/lib.sh"
H=$TC_HELPERS
cpu="--gpus none"
R="$TC_ROOT/tests/cli/refine"

"$H/encode-fixture" model m hidden=24 heads=3 > /dev/null || { fail setup "encode-fixture model failed"; exit 1; }
"$H/encode-fixture" tokens tokens.tct 30 20 50 chunk=7 > /dev/null || { fail setup "encode-fixture tokens failed"; exit 1; }
"$H/train-fixture" fx 48 > /dev/null 2>&1 || { fail setup "train-fixture failed"; exit 1; }
tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --taxonomy fx/taxonomy.tct --max-steps 1 --batch 8 \
    --gpus none -o run fx/tokens.tct fx/targets.tct || { fail setup "tc-train failed"; exit 1; }
"$H/refine-fixture" taxonomy "$R/labels.txt" "$R/label_hierarchy.txt" "$R/keyterms.txt" > taxo.tct &&
    "$H/refine-fixture" terms "$R/term_embeddings.txt" > terms.tct &&
    "$H/refine-fixture" embeddings "$R/doc_embeddings.txt" > docs.tct &&
    "$H/refine-fixture" embeddings "$R/refine_embeddings.txt" > remb.tct &&
    "$H/refine-fixture" labels "$R/refine_annotation.txt" > rann.tct || { fail setup "refine-fixture failed"; exit 1; }
tc-refine refine -q $cpu --taxonomy taxo.tct --annotation rann.tct --corpus "$R/refine_corpus.txt" remb.tct \
    -o refined.tct || { fail setup "tc-refine refine failed"; exit 1; }
e="$TC_ROOT/tests/golden/enrich"
tc-taxo build -q "$e" -o small.tct && "$H/tct-from-text" matrix embeddings < "$e/embeddings.txt" > small_emb.tct ||
    { fail setup "enrich fixtures failed"; exit 1; }
g="$TC_ROOT/tests/golden/eval"
tc-taxo build -q "$g" -o eval_taxo.tct && "$H/tct-from-text" matrix scores < "$g/random.txt" > scores.tct ||
    { fail setup "eval fixtures failed"; exit 1; }

# damage NAME FILE: NAME.cut.tct (the last record cut), NAME.junk.tct (bytes
# after the end), NAME.twice.tct (the stream twice), NAME.empty.tct (0 bytes)
damage() {
    size=$(wc -c < "$2")
    head -c $((size - 5)) "$2" > "$1.cut.tct"
    { cat "$2"; printf 'junk\n'; } > "$1.junk.tct"
    cat "$2" "$2" > "$1.twice.tct"
    : > "$1.empty.tct"
}

# refused NAME PROGRAM OUTPUT CMD-WITH-@...: for each damage of the input
# named NAME, CMD (with @ standing for the damaged file) exits 1 with one
# line "PROGRAM: FILE: byte N: ..." (the file named once), leaves no OUTPUT
# and does not touch the input.
refused() {
    stem=$1 program=$2 output=$3  # not $name: lib.sh's helpers set it
    shift 3
    for kind in cut junk twice empty; do
        file=$stem.$kind.tct
        case $kind in
        cut) why="byte [0-9]+: truncated" ;;
        junk) why="byte [0-9]+: trailing data after the end of the stream$" ;;
        twice) why="byte [0-9]+: trailing data after the end of the stream: another stream" ;;
        empty) why="empty file, not a tensor stream" ;;
        esac
        sum=$(cksum < "$file")
        args=""
        for a in "$@"; do [ "$a" = @ ] && args="$args $file" || args="$args $a"; done
        # shellcheck disable=SC2086
        expect_error "${stem}_$kind" 1 "^$program: $file: $why" $args || continue
        check "${stem}_${kind}_names_file_once" test "$(grep -o "$file" "$T/err" | wc -l)" -eq 1
        check "${stem}_${kind}_no_output" test ! -e "$output"
        check "${stem}_${kind}_input_unchanged" test "$(cksum < "$file")" = "$sum"
    done
}

damage tokens tokens.tct
refused tokens tc-encode e.tct tc-encode $cpu -m m @ -o e.tct
damage val fx/val_tokens.tct
refused val tc-predict p.tct tc-predict $cpu -m run/final @ -o p.tct
damage train fx/tokens.tct
refused train tc-train trained tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --max-steps 1 --batch 8 \
    $cpu -o trained @ fx/targets.tct
damage targets fx/targets.tct
refused targets tc-train trained tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --max-steps 1 --batch 8 \
    $cpu -o trained fx/tokens.tct @
damage docs docs.tct
refused docs tc-refine core.tct tc-refine annotate $cpu --taxonomy taxo.tct --terms terms.tct @ -o core.tct
damage taxo taxo.tct
refused taxo tc-refine core.tct tc-refine annotate $cpu --taxonomy @ --terms terms.tct docs.tct -o core.tct
damage refined refined.tct
refused refined tc-augment aug.tct tc-augment -t taxo.tct --from-corpus "$R/refine_corpus.txt" --refined @ \
    --docs-out aug.txt -o aug.tct
check refined_no_docs_out test ! -e aug.txt
damage emb small_emb.tct
refused emb tc-taxo terms.txt tc-taxo enrich -q -t small.tct --core "$e/doc2labels.txt" --embeddings @ --min-freq 2 \
    -o terms.txt "$e/corpus.txt"
damage scores scores.tct
refused scores tc-eval metrics.tsv tc-eval --tsv --gold "$g/gold.txt" -t eval_taxo.tct -o metrics.tsv @
refused tokens tc-dump ids.tsv tc-dump --tsv doc_ids -o ids.tsv @

# through a pipe the same: `cat a b | tc-encode` used to encode a only
expect_error pipe_twice 1 "^tc-encode: \(stdin\): byte [0-9]+: trailing data after the end of the stream: another stream" \
    sh -c "cat tokens.tct tokens.tct | tc-encode $cpu -m m"
expect_error pipe_empty 1 "^tc-encode: \(stdin\): empty file, not a tensor stream$" sh -c "tc-encode $cpu -m m < /dev/null"

# the undamaged inputs still read
expect whole_encode 0 tc-encode $cpu -m m tokens.tct -o e.tct
expect whole_dump 0 tc-dump --tsv doc_ids tokens.tct
check whole_dump_rows test "$(wc -l < out)" -eq 30
