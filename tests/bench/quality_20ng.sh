#!/bin/sh
# Quality of core-class annotation and refinement on 20 Newsgroups (class
# names only; the gold labels score the result, nothing else uses them).
#
#   1. the taxonomy (tc-taxo build) and the embeddings of its class names;
#   2. the training documents' embeddings;
#   3. tc-refine annotate (no LLM: the rule given by CORE, default gap);
#   4. corpus-based key terms from that annotation (tc-taxo candidates +
#      enrich), as TELEClass does before refinement;
#   5. tc-refine refine with those key terms;
#   6. tc-augment --from-corpus: pseudo-documents per path from the refined
#      documents;
#   7. precision / recall of 3 and 5 against the gold paths, the share of
#      documents refinement keeps, and how often the documents 6 took have
#      the path as their gold path.
#
# Embeddings come from bin/tc-tokenize + bin/tc-encode when they are built;
# otherwise (or with EMBEDDER=reference) from sentence-transformers in Python
# with the same model, the reference tc-encode is checked against.
#
# usage: tests/bench/quality_20ng.sh [DOCS]      (default: all 11,314 training documents)
# environment: EMBEDDER=tc-encode|reference, CORE=gap|path|top, WORK=DIR (kept between runs)
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
docs=${1:-all}
data=${TC_DATA:-$root/../shared/data}/20ng
model=$root/models/all-MiniLM-L6-v2
work=${WORK:-$root/build/bench-20ng}
core=${CORE:-gap}
[ -f "$data/train/corpus.txt" ] || { echo "quality_20ng: $data/train/corpus.txt is missing"; exit 1; }
make -s all tests > /dev/null
fixture=$root/$(ls build/opt-*/tests/helpers/refine-fixture | head -n 1)
export PATH="$root/bin:$PATH"
mkdir -p "$work"
cd "$work"

embedder=${EMBEDDER:-}
if [ -z "$embedder" ]; then
    if [ -x "$root/bin/tc-encode" ] && [ -x "$root/bin/tc-tokenize" ]; then embedder=tc-encode
    elif python3 -c "import sentence_transformers" 2> /dev/null && [ -d "$model" ]; then embedder=reference
    else
        echo "quality_20ng: no way to embed: bin/tc-tokenize and bin/tc-encode are not built, and python3 with"
        echo "sentence-transformers plus $model (make model) are not both there"
        exit 1
    fi
fi
# embed INPUT OUTPUT: id<TAB>text lines -> doc_ids + embeddings
embed() {
    if [ -s "$2" ] && [ "$2" -nt "$1" ]; then return 0; fi
    case $embedder in
    # 256 tokens: the model's max_seq_length, as sentence-transformers cuts
    tc-encode) tc-tokenize --model "$model" --max-len 256 "$1" | tc-encode --model "$model" -o "$2" ;;
    reference)
        python3 "$root/tests/bench/embed_reference.py" "$model" "$1" "$2.ids" "$2.npy"
        "$fixture" from-npy "$2.ids" "$2.npy" > "$2" ;;
    *) echo "quality_20ng: EMBEDDER must be tc-encode or reference"; exit 1 ;;
    esac
}
echo "embeddings: $embedder; core-class rule: $core; work in $work"

# (rewritten only when it changes, so that the embeddings made from it are reused)
if [ "$docs" = all ]; then cp "$data/train/corpus.txt" corpus.new
else head -n "$docs" "$data/train/corpus.txt" > corpus.new; fi
if cmp -s corpus.new corpus.txt; then rm corpus.new; else mv corpus.new corpus.txt; fi
n=$(wc -l < corpus.txt)
t0=$(date +%s)
tc-taxo build -q "$data" -o taxo.tct
tc-taxo texts taxo.tct > names.txt
embed names.txt names.tct
tc-taxo term-embeddings -q --taxonomy taxo.tct names.tct -o names.terms.tct
embed corpus.txt docs.tct
t1=$(date +%s)
tc-refine annotate --core "$core" --taxonomy taxo.tct --terms names.terms.tct --candidates candidates.tct docs.tct -o core.tct
tc-taxo candidates -q --taxonomy taxo.tct --core core.tct corpus.txt > candidates.txt
embed candidates.txt candidates.emb.tct
tc-taxo enrich -q --taxonomy taxo.tct --core core.tct --embeddings candidates.emb.tct corpus.txt > keyterms.txt
tc-taxo build -q "$data" --terms keyterms.txt -o taxo.terms.tct
tc-refine refine --taxonomy taxo.terms.tct --annotation core.tct --corpus corpus.txt docs.tct -o refined.tct
tc-augment -t taxo.tct --from-corpus corpus.txt --refined refined.tct --docs-out augmented.txt --report augmented.tsv \
    -o augmented.tct
t2=$(date +%s)
echo "embedding $((t1 - t0)) s, annotation + enrichment + refinement + augmentation $((t2 - t1)) s, $n documents"
echo "key terms of the first classes:"
head -n 5 keyterms.txt | cut -c1-150
echo
python3 "$root/tests/bench/score_labels.py" "$data/label_hierarchy.txt" "$data/train/doc2labels.txt" "$n" \
    candidates=candidates.tct annotated=core.tct refined=refined.tct
python3 "$root/tests/bench/score_augment.py" "$data/labels.txt" "$data/train/doc2labels.txt" augmented.tsv
