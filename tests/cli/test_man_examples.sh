# Every EXAMPLES block of every manual page runs, as written, so the manuals
# cannot drift from the programs. The blocks run in a small world holding
# the files the manuals name (corpus.txt, tokens.tct, embeddings.tct,
# taxo.tct, run/, ...), made here from a slice of 20 Newsgroups with the
# default model; ../shared/data is a reduced copy of the real one. Examples
# that ask a local LLM server (http://127.0.0.1:8000/v1) talk to the stub
# chat server instead. Blocks that need a GPU, a hosted API or a slow import
# skip, saying so. Under the sanitizers (TC_SANITIZE=1) the examples that
# train the model on the CPU skip too, saying so: they are the slowest of all
# there, the plain build runs them as written, and tests/cli/test_train.sh and
# test_train_parallel.sh train (resume, validation split, class vectors, two
# ranks under mpirun) under the sanitizers.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/llm/stub.sh"
model="$TC_ROOT/models/all-MiniLM-L6-v2"
if [ ! -f "$model/model.safetensors" ]; then
    skip man_examples "the default model is not in models/ (make model)"
    exit 0
fi
if [ ! -f "$TC_DATA/20ng/train/corpus.txt" ] || [ ! -f "$TC_DATA/amazon531/labels.txt" ]; then
    skip man_examples "$TC_DATA/20ng or $TC_DATA/amazon531 is missing"
    exit 0
fi

# ---- the world: ../shared/data reduced, and the files the manuals name
world="$T/world"
mkdir -p "$world/shared/data/20ng/train" "$world/shared/data/20ng/test" "$world/shared/data/amazon531/train" \
    "$world/work/models"
ng="$world/shared/data/20ng"
cp "$TC_DATA/20ng/labels.txt" "$TC_DATA/20ng/label_hierarchy.txt" "$ng/"
for split in train test; do
    head -n 200 "$TC_DATA/20ng/$split/corpus.txt" > "$ng/$split/corpus.txt"
    head -n 200 "$TC_DATA/20ng/$split/doc2labels.txt" > "$ng/$split/doc2labels.txt"
done
am="$world/shared/data/amazon531"
cp "$TC_DATA/amazon531/labels.txt" "$TC_DATA/amazon531/label_hierarchy.txt" "$am/"
cp "$TC_DATA/amazon531/train/generated_docs.txt" "$TC_DATA/amazon531/train/generated_doc2label.json" "$am/train/"
head -n 40 "$TC_DATA/amazon531/train/llm_enrichment.txt" > "$am/train/llm_enrichment.txt"  # fewer texts to embed
w="$world/work"
ln -s "$model" "$w/models/all-MiniLM-L6-v2"
mpnet="$TC_ROOT/models/all-mpnet-base-v2"
[ -f "$mpnet/vocab.txt" ] && ln -s "$mpnet" "$w/models/all-mpnet-base-v2"
cd "$w" || exit 1
q="-q --gpus none"
setup() { # NAME COMMAND: a fixture step that must work
    if ! sh -c "$2" > "$T/setup.out" 2>&1; then
        fail "man_setup_$1" "$2: $(head -c 300 "$T/setup.out" | tr '\n' ' ')"
        exit 1
    fi
}
# The documents are cut to their first 40 words: the examples show that the
# commands run as written, which a document's length does not change, while
# the model's work in tc-encode, tc-train and tc-predict grows with it.
head -n 32 ../shared/data/20ng/train/corpus.txt |
    awk -F '\t' '{ n = split($2, w, " "); t = w[1]; for (i = 2; i <= n && i <= 40; i++) t = t " " w[i]; print $1 "\t" t }' > corpus.txt
setup corpus "test -s corpus.txt && head -n 32 ../shared/data/20ng/train/doc2labels.txt > doc2labels.txt"
setup docs "cut -f2 corpus.txt | head -n 5 > docs_text.txt && cp docs_text.txt docs.txt && cp models/all-MiniLM-L6-v2/vocab.txt vocab.txt"
setup taxonomy "tc-taxo build -q ../shared/data/20ng -o taxonomy.tct && cp taxonomy.tct taxo.tct"
printf '%s\n' 'computer_graphics:graphics,image,images' 'space:space,nasa,orbit' 'hockey:hockey,nhl' \
    'baseball:baseball,pitcher' 'cryptography:encryption,key,clipper' 'medicine:medical,doctor' \
    'christianity:god,jesus,church' 'guns:gun,guns,firearms' 'autos:car,cars,engine' > keyterms.txt
setup taxonomy_terms "tc-taxo terms -q --taxonomy taxonomy.tct keyterms.txt -o taxo.tct"
setup tokens "tc-tokenize -q --model models/all-MiniLM-L6-v2 corpus.txt -o tokens.tct"
setup embeddings "tc-encode $q --model models/all-MiniLM-L6-v2 tokens.tct -o embeddings.tct && cp embeddings.tct docs.tct"
setup names "tc-taxo texts -q taxonomy.tct | tc-tokenize -q --model models/all-MiniLM-L6-v2 > names.tct && tc-encode $q --model models/all-MiniLM-L6-v2 names.tct -o classes.tct"
setup terms "tc-taxo texts -q taxo.tct | tc-tokenize -q | tc-encode $q | tc-taxo term-embeddings -q -t taxo.tct -o terms.tct"
setup targets "tc-taxo targets -q -t taxonomy.tct doc2labels.txt -o targets.tct"
setup core "tc-refine annotate $q --taxonomy taxo.tct --terms terms.tct docs.tct -o core.tct"
setup refined "tc-refine refine $q --taxonomy taxo.tct --annotation core.tct --corpus corpus.txt docs.tct -o refined.tct"
setup run "tc-train $q --epochs 1 --batch 16 --class-vectors classes.tct --taxonomy taxonomy.tct -o run tokens.tct targets.tct"
setup predictions "tc-predict $q --model run/final tokens.tct -o predictions.tct"
cd "$T" || exit 1

# ---- the manuals' blocks
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
have_gpu=0
"$TC_HELPERS/devices" --gpus all > /dev/null 2>&1 && have_gpu=1
stub_start || { fail man_stub "the stub chat server did not start"; exit 1; }

# why_skip BLOCK: a reason this block cannot run here, or nothing
why_skip() {
    if grep -Eq -- '--gpus +(0|all|[0-9],)' "$1" && [ $have_gpu = 0 ]; then echo "needs a GPU"
    elif grep -q 'https://api\.' "$1"; then echo "needs a hosted API and its key"
    elif grep -q '^mpirun' "$1" && { ! command -v mpirun > /dev/null || [ "${TC_HAVE_MPI:-0}" != 1 ]; }; then
        echo "needs mpirun and an MPI build"
    elif grep -q 'models/all-mpnet-base-v2' "$1" && [ ! -e "$w/models/all-mpnet-base-v2" ]; then
        echo "needs all-mpnet-base-v2 (make model NAME=all-mpnet-base-v2)"
    elif grep -q 'from transformers' "$1" && [ "${TC_SLOW_TESTS:-0}" != 1 ]; then
        echo "imports transformers (slow): set TC_SLOW_TESTS=1"
    elif [ "${TC_SANITIZE:-0}" = 1 ] && grep -Eq '^(mpirun [^|]*)?tc-train ' "$1" && ! grep -q -- '--plot' "$1"; then
        echo "trains on the CPU: run by the plain build; under the sanitizers test_train*.sh train"
    fi
}

for page in "$TC_ROOT"/man/man1/*.1; do
    name=$(basename "$page" .1)
    grep -q '^\.SH EXAMPLES' "$page" || { fail "man_${name}_has_examples" "no EXAMPLES section"; continue; }
    # the .nf ... .fi blocks of the EXAMPLES section, one file each
    rm -f "$T"/block.*
    awk -v dir="$T" '
        /^\.SH / { in_examples = ($0 ~ /^\.SH EXAMPLES/) }
        in_examples && /^\.nf/ { n++; file = dir "/block." n; next }
        in_examples && /^\.fi/ { file = ""; next }
        file != "" { print > file }
    ' "$page"
    for block in "$T"/block.*; do
        [ -f "$block" ] || continue
        b=${block##*.}
        # roff escapes back to shell text; the local LLM server is the stub here
        sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e "s|http://127.0.0.1:8000/v1|$STUB_URL|g" "$block" > "$block.sh"
        # one file per command: continued lines (trailing \) and here-documents join it
        rm -f "$T"/cmd.*
        awk -v dir="$T" '
            function start() { n++; file = dir "/cmd." sprintf("%03d", n) }
            heredoc != "" { print > file; if ($0 == heredoc) heredoc = ""; next }
            !continued { start() }
            { print > file }
            match($0, /<<-?'"'"'?[A-Za-z_]+'"'"'?/) {
                heredoc = substr($0, RSTART, RLENGTH); gsub(/[<'"'"'-]/, "", heredoc)
            }
            { continued = ($0 ~ /\\$/) }
        ' "$block.sh"
        rm -rf "$T/run_world" && cp -a "$world" "$T/run_world"
        for cmd in "$T"/cmd.*; do
            [ -f "$cmd" ] || continue
            label="man_${name}_example_${b}_$(basename "$cmd" | cut -d. -f2 | sed 's/^0*//')"
            reason=$(why_skip "$cmd")
            if [ -n "$reason" ]; then
                skip "$label" "$reason: $(head -n 1 "$cmd")"
                continue
            fi
            # Open MPI's own start-up leaks: leaks are checked in the one-rank examples
            asan="${ASAN_OPTIONS:-}"
            grep -q '^mpirun' "$cmd" && asan="$asan:detect_leaks=0"
            (cd "$T/run_world/work" && ASAN_OPTIONS="$asan" PATH="$TC_BIN:$PATH" sh -e "$cmd") > "$T/cmd.out" 2>&1
            status=$?
            if [ $status -eq 0 ]; then pass "$label"
            else fail "$label" "exit $status: $(head -n 1 "$cmd"): $(tail -c 300 "$T/cmd.out" | tr '\n' ' ')"
            fi
        done
    done
done
stub_stop
