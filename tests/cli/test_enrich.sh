# tc-taxo candidates / enrich: the scoring against a Python re-statement of
# TELEClass's taxonomy_enrichment.py on a small corpus (tests/golden/
# enrich_reference.py), phrases, stop words, errors, and on 20 Newsgroups
# with gold labels as core classes: no term shared by siblings, at most k
# terms per class, the same output twice, importable as key terms.
. "$TC_ROOT/tests/cli/lib.sh"
fromtext="$TC_HELPERS/tct-from-text"
e="$TC_ROOT/tests/golden/enrich"

tc-taxo build -q "$e" -o small.tct || { fail setup "tc-taxo build failed"; exit 1; }
"$fromtext" matrix embeddings < "$e/embeddings.txt" > small_emb.tct
expect enrich_small 0 tc-taxo enrich -t small.tct --core "$e/doc2labels.txt" --embeddings small_emb.tct \
    --top-k 3 --min-freq 2 "$e/corpus.txt"
check enrich_small_matches_reference cmp out "$e/expected.txt"
check enrich_small_note grep -q "3 sibling sets, 34 candidate terms" err
expect candidates_small 0 tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" --min-freq 2 "$e/corpus.txt"
check candidates_names_first test "$(head -2 out | tr '\t\n' ':;')" = "animals:animals;plants:plants;"
check candidates_no_stopwords sh -c '! grep -Eq "^(the|and|of|is)	" out'
check candidates_count test "$(wc -l < out)" -eq 42
cp out cand_small.txt
expect candidates_stdin 0 sh -c "tc-taxo candidates -t small.tct --core '$e/doc2labels.txt' --min-freq 2 < '$e/corpus.txt'"
check candidates_stdin_same cmp out cand_small.txt

# stop words from a file replace the built-in list
printf 'cat\nkitten\n' > stop.txt
expect enrich_stopwords 0 tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" --min-freq 2 --stopwords stop.txt "$e/corpus.txt"
check enrich_stopwords_used sh -c '! grep -q "^cat	" out && grep -q "^the	" out'

# phrases: "puppy food" as one term; with a phrase list only listed terms are candidates
printf '0.9\tpuppy food\n0.8\tpuppy\n0.7\tbark\n0.2\tkitten\n' > phrases.txt
expect candidates_phrases 0 tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" --min-freq 1 --phrases phrases.txt "$e/corpus.txt"
check candidates_phrase_terms sh -c 'grep -qx "puppy_food	puppy food" out && grep -qx "puppy	puppy" out && ! grep -q "^kitten" out && ! grep -q "^dog	" out'
printf 'x0.9\tleash\n' > bad_phrases.txt
expect_error phrases_bad_score 1 "bad_phrases.txt: line 1: 'x0.9' is not a score" \
    tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" --phrases bad_phrases.txt "$e/corpus.txt"

# errors
grep -v "^meow	" "$e/embeddings.txt" | "$fromtext" matrix embeddings > short_emb.tct
expect_error enrich_missing_embedding 1 "short_emb.tct: no embedding of 'meow' \(embed the output of 'tc-taxo candidates'" \
    tc-taxo enrich -q -t small.tct --core "$e/doc2labels.txt" --embeddings short_emb.tct --min-freq 2 "$e/corpus.txt"
expect_error enrich_no_embeddings 2 "--embeddings is required" tc-taxo enrich -t small.tct --core "$e/doc2labels.txt" "$e/corpus.txt"
expect_error candidates_no_core 2 "--core is required" tc-taxo candidates -t small.tct "$e/corpus.txt"
expect_error candidates_top_k 2 "--top-k belongs to 'tc-taxo enrich'" tc-taxo candidates --top-k 3 -t small.tct --core x "$e/corpus.txt"
printf 'no tab here\n' > bad_corpus.txt
expect_error enrich_bad_corpus 1 "bad_corpus.txt: line 1: expected 'id<TAB>text'" \
    tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" bad_corpus.txt
# a NUL byte would cut a document short: refused with its line (phrase lists alike)
{ head -2 "$e/corpus.txt"; printf 'dx\tcut here\000 and the rest\n'; } > nul_corpus.txt
expect_error enrich_nul_corpus 1 "nul_corpus.txt: line 3: a NUL byte \(byte 12 of the line\)" \
    tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" nul_corpus.txt
printf '0.9\tpuppy\000 food\n' > nul_phrases.txt
expect_error enrich_nul_phrases 1 "nul_phrases.txt: line 1: a NUL byte" \
    tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" --phrases nul_phrases.txt "$e/corpus.txt"
printf 'zz\tcat cat\n' > other_corpus.txt
expect_error enrich_no_docs 1 "other_corpus.txt: no document of the corpus has core classes" \
    tc-taxo candidates -t small.tct --core "$e/doc2labels.txt" other_corpus.txt

# ---------------------------------------------------------------- 20 Newsgroups
ng=$TC_DATA/20ng
if [ ! -f "$ng/train/corpus.txt" ]; then
    skip enrich_20ng "$ng/train/corpus.txt not found"
    exit 0
fi
head -n 4000 "$ng/train/corpus.txt" > corpus.txt
tc-taxo build -q "$ng" -o 20ng.tct
expect candidates_20ng 0 tc-taxo candidates -t 20ng.tct --core "$ng/train/doc2labels.txt" corpus.txt -o cand.txt
"$fromtext" hash-embed 64 < cand.txt > cand.tct
k=8
expect enrich_20ng 0 tc-taxo enrich -t 20ng.tct --core "$ng/train/doc2labels.txt" --embeddings cand.tct --top-k $k corpus.txt -o terms.txt
check enrich_20ng_every_class test "$(wc -l < terms.txt)" -eq 27
check enrich_20ng_at_most_k awk -F: -v k=$k '{ n = split($2, t, ","); if (n > k) { print $1 " has " n; bad = 1 } } END { exit bad }' terms.txt
# siblings: children of one parent, or the top-level classes ("root")
awk -F'\t' 'NR == FNR { id[$1] = $2; next } { parent[id[$2]] = id[$1] } END { for (c in id) print id[c] "\t" (id[c] in parent ? parent[id[c]] : "root") }' \
    "$ng/labels.txt" "$ng/label_hierarchy.txt" > parents.txt
check enrich_20ng_no_term_shared_by_siblings awk -F'\t' '
    NR == FNR { parent[$1] = $2; next }
    { split($0, kv, ":"); n = split(kv[2], t, ",")
      for (i = 1; i <= n; i++) { key = parent[kv[1]] SUBSEP t[i]
          if (key in owner) { print t[i] " in " owner[key] " and " kv[1]; bad = 1 }
          owner[key] = kv[1] } }
    END { exit bad }' parents.txt terms.txt
expect enrich_20ng_again 0 tc-taxo enrich -t 20ng.tct --core "$ng/train/doc2labels.txt" --embeddings cand.tct --top-k $k corpus.txt -o terms2.txt
check enrich_20ng_deterministic cmp terms.txt terms2.txt
check enrich_20ng_found_terms grep -Eq "^hockey:.*(nhl|hockey)" terms.txt
expect enrich_20ng_importable 0 tc-taxo terms -t 20ng.tct terms.txt -o 20ng_terms.tct
expect enrich_20ng_export 0 tc-taxo export-terms 20ng_terms.tct
check enrich_20ng_round_trip cmp out terms.txt
