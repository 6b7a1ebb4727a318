# tc-refine annotate and refine: hand-built cases worked out below, the
# numpy re-statement of TELEClass (tests/golden/refine_reference.py) compared
# row by row, batch and dtype invariance, and every input error.
. "$TC_ROOT/tests/cli/lib.sh"
FX="$TC_HELPERS/refine-fixture"
H="$TC_ROOT/tests/cli/refine"
G="$TC_ROOT/tests/golden/refine"

# ---------------------------------------------------------------- hand-built annotation
# TELEClass's rule (--class-similarity own): a class's similarity is its own
# name's and key terms' best cosine. Taxonomy: animals(0) > dogs(2) > poodles(6), animals > cats(3),
# plants(1) > trees(4), plants > flowers(5). One embedded row per class except
# dogs (two rows). Document x1 = (1,0,0): cosines animals .8, plants 0,
# dogs max(.6,.96) = .96, cats .28, trees 0, flowers -1, poodles .9.
#   level 0: the root keeps its 3 most similar children: animals, plants.
#   level 1: animals passes dogs, cats (path e^(.8+.96), e^(.8+.28)), plants
#            passes trees, flowers (e^0, e^-1); 9 kept: all four, by path score.
#   level 2: dogs passes poodles.
#   candidates: animals plants dogs cats trees flowers poodles.
#   gap rule: top four cosines .96 .9 .8 .28, widest drop after the third:
#   {dogs, poodles, animals}, leaf-most poodles; with ancestors 6,0,2.
# Document x2 = (0,.6,.8): plants .6 > animals .36 at level 0; level 1 ranks
# trees (e^1.4), cats (e^.936), dogs (e^.84), flowers (e^.6); level 2 adds
# poodles. Top four: trees .8, plants .6, cats .576, dogs .48; the widest drop
# is the first: core trees, with plants: 4,1.
"$FX" taxonomy "$H/labels.txt" "$H/label_hierarchy.txt" "$H/keyterms.txt" > taxo.tct
"$FX" terms "$H/term_embeddings.txt" > terms.tct
"$FX" embeddings "$H/doc_embeddings.txt" > docs.tct
expect annotate_hand 0 tc-refine annotate --gpus none --class-similarity own --taxonomy taxo.tct --terms terms.tct \
    --candidates cand.tct docs.tct -o core.tct
check annotate_hand_labels "$FX" check-labels core.tct "$H/expected_annotation.txt" 1e-6
check annotate_hand_candidates "$FX" check-labels cand.tct "$H/expected_candidates.txt" 1e-6
"$FX" show-labels core.tct > core.txt
check annotate_marks_core_classes grep -qx "x1	6,0,2	0.9,0.8,0.96	1,0,0" core.txt
expect annotate_rule_top 0 tc-refine annotate --gpus none --class-similarity own --core top --taxonomy taxo.tct --terms terms.tct docs.tct -o top.tct
"$FX" show-labels top.tct > top.txt
check annotate_rule_top_values grep -q "^x1	2,0	" top.txt
expect annotate_rule_path 0 tc-refine annotate --gpus none --class-similarity own --core path --no-ancestors --taxonomy taxo.tct --terms terms.tct docs.tct -o path.tct
"$FX" show-labels path.tct > path.txt
check annotate_rule_path_values sh -c "grep -q '^x1	6	0.9	1$' path.txt && grep -q '^x2	4	0.8	1$' path.txt"
# training targets from the annotation: the ancestors it lists (label_core 0)
# are not core classes, so the targets equal those of the core classes alone
expect annotate_core_only 0 tc-refine annotate --gpus none --no-ancestors --taxonomy taxo.tct --terms terms.tct docs.tct -o core_only.tct
expect targets_from_annotation 0 tc-taxo targets --taxonomy taxo.tct core.tct -o targets_all.tct
check targets_note_ancestors grep -q "marked as ancestors (label_core 0) left to the taxonomy" err
expect targets_from_core_only 0 tc-taxo targets --taxonomy taxo.tct core_only.tct -o targets_core.tct
check targets_ignore_ancestors sh -c 'tc-dump --json --tensor label_classes --tensor mask_classes --tensor mask_offsets targets_all.tct | sed "s/\"file\": [^,]*,//; s/\"bytes\": [0-9]*,//; s/\"compressed_bytes\": [0-9]*,//g; s/\"provenance\": {[^}]*}//" > a.json &&
    tc-dump --json --tensor label_classes --tensor mask_classes --tensor mask_offsets targets_core.tct | sed "s/\"file\": [^,]*,//; s/\"bytes\": [0-9]*,//; s/\"compressed_bytes\": [0-9]*,//g; s/\"provenance\": {[^}]*}//" > b.json && cmp a.json b.json'
# --scores: every class's cosine (the values worked out above), and the
# ranking it gives agrees with the set's own order (label_scores) on the
# set's classes, so tc-eval ranks every class the way the set is ranked
expect annotate_scores 0 tc-refine annotate --gpus none --class-similarity own --scores --taxonomy taxo.tct --terms terms.tct docs.tct -o scored.tct
check annotate_scores_same_labels "$FX" check-labels scored.tct "$H/expected_annotation.txt" 1e-6
"$FX" show-labels scored.tct > scored.txt
tc-dump --tsv doc_ids,scores scored.tct > scores.tsv
check annotate_scores_every_class awk -F'\t' '
    function near(x, y) { return x - y < 1e-6 && y - x < 1e-6 }
    $1 == "x1" { ok = NF == 8 && near($2, .8) && near($3, 0) && near($4, .96) && near($5, .28) && near($6, 0) &&
                 near($7, -1) && near($8, .9) }
    END { exit !ok }' scores.tsv
# per document: its set's classes ordered by label_scores, then by scores
rank_like_set() { # NAME SCORES.tsv LABELS.txt ROWS
    check "$1" awk -F'\t' -v rows="$4" '
        FNR == NR { for (c = 2; c <= NF; c++) s[$1, c - 2] = $c; next }
        {
            n = split($2, cls, ","); split($3, lab, ",")
            for (i = 1; i <= n; i++) for (j = 1; j <= n; j++)
                if ((lab[i] > lab[j]) != (s[$1, cls[i]] > s[$1, cls[j]])) bad++
            seen++
        }
        END { exit bad || seen != rows }' "$2" "$3"
}
rank_like_set annotate_scores_rank_like_set scores.tsv scored.txt 2
run tc-eval --gold "$H/expected_gold.txt" --taxonomy taxo.tct scored.tct
check eval_ranks_zero_shot_scores grep -q '^ranking from scores$' out
expect_error annotate_scores_refine_only 2 "scores belongs to tc-refine annotate" tc-refine refine --scores \
    --taxonomy taxo.tct --annotation core.tct --corpus x docs.tct

# The default, --class-similarity subtree: a class's similarity is the best
# over it and its descendants. x1: animals max(.8, dogs .96, cats .28,
# poodles .9) = .96, dogs max(.96, .9) = .96, plants max(0, 0, -1) = 0; the
# search keeps the same candidates, the top four .96 .96 .9 .28 are cut after
# the third: core poodles again, its ancestors now scoring .96. x2: animals
# .576 (cats), plants .8 (trees); top four plants .8, trees .8, cats .576,
# animals .576, cut after the second: core trees, plants .8.
# x3 = (.5, -.2, .84) tells the rules apart: its own cosines are trees .842,
# poodles .818, dogs .425, animals .281, plants -.2: the widest drop of the
# top four is after the second, core trees and poodles (with animals, plants,
# dogs). With subtree plants .842 = trees, animals = dogs = poodles .818:
# the widest drop is after the second, {plants, trees}: core trees alone.
expect annotate_subtree 0 tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct docs.tct -o sub.tct
"$FX" show-labels sub.tct > sub.txt
check annotate_subtree_x1 grep -qx "x1	6,0,2	0.9,0.96,0.96	1,0,0" sub.txt
check annotate_subtree_x2 grep -qx "x2	4,1	0.8,0.8	1,0" sub.txt
"$FX" embeddings "$H/doc_embeddings_x3.txt" > x3.tct
expect annotate_x3_own 0 tc-refine annotate --gpus none --class-similarity own --taxonomy taxo.tct --terms terms.tct x3.tct -o x3own.tct
check annotate_x3_own_core sh -c "'$FX' show-labels x3own.tct | grep -q '^x3	4,6,0,1,2	.*	1,1,0,0,0\$'"
expect annotate_x3_subtree 0 tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct x3.tct -o x3sub.tct
check annotate_x3_subtree_core sh -c "'$FX' show-labels x3sub.tct | grep -q '^x3	4,1	0.8418541,0.8418541	1,0\$'"
expect annotate_subtree_scores 0 tc-refine annotate --gpus none --scores --taxonomy taxo.tct --terms terms.tct docs.tct -o subsc.tct
"$FX" show-labels subsc.tct > subsc.txt
tc-dump --tsv doc_ids,scores subsc.tct > subsc.tsv
rank_like_set annotate_subtree_scores_rank_like_set subsc.tsv subsc.txt 2
check annotate_subtree_scores_x1 awk -F'\t' '$1 == "x1" { ok = $2 > .959 && $2 < .961 && $4 > .959 && $4 < .961 } END { exit !ok }' subsc.tsv
expect_error bad_class_similarity 2 "class-similarity: 'best' is not subtree or own" \
    tc-refine annotate --class-similarity best --taxonomy taxo.tct --terms terms.tct docs.tct

# stdin and half-precision embeddings
"$FX" embeddings "$H/doc_embeddings.txt" f16 > docs16.tct
run sh -c "tc-refine annotate --gpus none --class-similarity own --taxonomy taxo.tct --terms terms.tct < docs16.tct > core16.tct"
check annotate_f16_stdin "$FX" check-labels core16.tct "$H/expected_annotation.txt" 2e-3

# ---------------------------------------------------------------- hand-built refinement
# Annotation d1 dogs, d2 dogs, d3 cats, d4 trees, d5 flowers (+ ancestors).
# Key terms found (whole words, any case): dogs in d1 d2 ("bark"), animals in
# d2 d3 ("pet"), cats in d3 ("Meow"), trees in d4 ("oak"), plants in d4 d5
# ("leaf"); flowers and poodles have none and are skipped.
# Class embeddings: dogs (.9,.3), animals (.4,.8), cats (0,1), trees (.6,.8),
# plants (-.1,.7). Top-four gaps give confidences d1 .447 (keeps dogs trees
# animals), d2 .294 (trees dogs animals), d3 .0955 (cats plants), d4 .162
# (trees animals), d5 .421 (plants cats). The 25th percentile of the five is
# the second smallest, .162: d3 is dropped.
"$FX" embeddings "$H/refine_embeddings.txt" > remb.tct
"$FX" labels "$H/refine_annotation.txt" > rann.tct
expect refine_hand 0 tc-refine refine --gpus none --taxonomy taxo.tct --annotation rann.tct \
    --corpus "$H/refine_corpus.txt" remb.tct -o refined.tct
check refine_hand_labels "$FX" check-labels refined.tct "$H/expected_refined.txt" 1e-6
check refine_reports_skipped grep -q "2 of 7 classes .*skipped: flowers, poodles" "$T/err"
check refine_reports_kept grep -q "kept 4 of 5 documents (80.0%)" "$T/err"
tc-dump --tsv doc_confidence refined.tct > conf.tsv 2> /dev/null
check refine_confidences awk 'BEGIN{split(".4472136 .2944272 .1616778 .4211146", w, " ")}
    NR > 0 && $1 ~ /^[0-9.]/ {n++; if ($1 - w[n] > 1e-6 || w[n] - $1 > 1e-6) bad = 1}
    END {exit bad || n != 4}' conf.tsv
# exact matching is case-sensitive: "Meow" no longer counts, cats is skipped
expect refine_exact 0 tc-refine refine --gpus none --match exact --taxonomy taxo.tct --annotation rann.tct \
    --corpus "$H/refine_corpus.txt" remb.tct -o exact.tct
check refine_exact_skips_cats grep -q "skipped: cats, flowers, poodles" "$T/err"
expect refine_keep_all 0 tc-refine refine --gpus none --keep-percentile 0 --taxonomy taxo.tct --annotation rann.tct \
    --corpus "$H/refine_corpus.txt" remb.tct -o all.tct
check refine_keep_all_count grep -q "kept 5 of 5" "$T/err"

# ---------------------------------------------------------------- against the reference re-statement
"$FX" taxonomy "$G/labels.txt" "$G/label_hierarchy.txt" "$G/keyterms.txt" > gtaxo.tct
"$FX" terms "$G/term_embeddings.txt" > gterms.tct
"$FX" embeddings "$G/doc_embeddings.txt" > gdocs.tct
expect golden_annotate 0 tc-refine annotate --gpus none --class-similarity own --taxonomy gtaxo.tct --terms gterms.tct \
    --candidates gcand.tct gdocs.tct -o gcore.tct
check golden_candidates "$FX" check-labels gcand.tct "$G/expected_candidates.txt" 1e-5
check golden_annotation "$FX" check-labels gcore.tct "$G/expected_annotation.txt" 1e-5
expect golden_refine_exact 0 tc-refine refine --gpus none --match exact --taxonomy gtaxo.tct --annotation gcore.tct \
    --corpus "$G/corpus.txt" gdocs.tct -o gexact.tct
check golden_refined_exact "$FX" check-labels gexact.tct "$G/expected_refined_exact.txt" 1e-5
expect golden_refine_word 0 tc-refine refine --gpus none --taxonomy gtaxo.tct --annotation gcore.tct \
    --corpus "$G/corpus.txt" gdocs.tct -o gword.tct
check golden_refined_word "$FX" check-labels gword.tct "$G/expected_refined_word.txt" 1e-5
# batches of 7 rows and 3 threads give the same bytes of labels
tc-refine annotate --gpus none --class-similarity own --batch-size 7 --threads 3 --taxonomy gtaxo.tct --terms gterms.tct gdocs.tct -o gcore7.tct 2> /dev/null
tc-refine refine --gpus none --batch-size 7 --taxonomy gtaxo.tct --annotation gcore7.tct --corpus "$G/corpus.txt" gdocs.tct -o gword7.tct 2> /dev/null
# (the same classes; scores within BLAS's rounding of other block shapes)
"$FX" show-labels gcore.tct | cut -f1-3 > a1
"$FX" show-labels gword.tct | cut -f1-3 > w1
check batch_size_invariant sh -c "'$FX' check-labels gcore7.tct a1 1e-6 && '$FX' check-labels gword7.tct w1 1e-6"

# ---------------------------------------------------------------- errors
expect_error no_job 2 "name a job" tc-refine
expect_error unknown_job 2 "unknown job 'refin'" tc-refine refin
expect help 0 tc-refine --help
check help_text grep -q "tc-refine annotate" "$T/out"
expect_error annotate_needs_terms 2 "needs --terms" tc-refine annotate --taxonomy taxo.tct docs.tct
expect_error wrong_job_option 2 "--annotation belongs to tc-refine refine" tc-refine annotate --annotation x --taxonomy taxo.tct --terms terms.tct
expect_error refine_stdin 2 "reads the embeddings twice" tc-refine refine --taxonomy taxo.tct --annotation rann.tct --corpus "$H/refine_corpus.txt" -
expect_error refine_needs_corpus 2 "needs --corpus" tc-refine refine --taxonomy taxo.tct --annotation rann.tct remb.tct
expect_error llm_needs_corpus 2 "needs --corpus" tc-refine annotate --llm http://127.0.0.1:9/v1 --taxonomy taxo.tct --terms terms.tct docs.tct
expect_error bad_core_rule 2 "unknown core-class rule" tc-refine annotate --core best --taxonomy taxo.tct --terms terms.tct docs.tct
expect_error bad_prompt 2 "must contain \\{classes\\}" tc-refine annotate --prompt "pick one" --taxonomy taxo.tct --terms terms.tct docs.tct
expect_error width_mismatch 1 "width 2, but the class terms" tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct remb.tct -o bad.tct
check no_partial_output test ! -e bad.tct
expect_error missing_taxonomy 1 "nowhere.tct" tc-refine annotate --gpus none --taxonomy nowhere.tct --terms terms.tct docs.tct
expect_error not_a_tensor_file 1 "labels.txt" tc-refine annotate --gpus none --taxonomy "$H/labels.txt" --terms terms.tct docs.tct
printf '0\t1 0 0\n' > few_terms.txt
"$FX" terms few_terms.txt > few_terms.tct
expect_error class_without_terms 1 "class 1 \\(plants\\) has no embedded name or term" tc-refine annotate --gpus none --taxonomy taxo.tct --terms few_terms.tct docs.tct
printf 'x1\tnan 0 0\n' > nan.txt
"$FX" embeddings nan.txt > nan.tct
expect_error non_finite_embedding 1 "row 0 holds a value that is not a finite number" tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct nan.tct -o nan_out.tct
sed 's/^d2/dX/' "$H/refine_corpus.txt" > shuffled.txt
expect_error corpus_out_of_step 1 "line 2 holds document 'dX'" tc-refine refine --gpus none --taxonomy taxo.tct --annotation rann.tct --corpus shuffled.txt remb.tct -o bad.tct
check no_partial_refine_output test ! -e bad.tct
{ cat "$H/refine_corpus.txt"; printf 'd6\tone more\n'; } > long_corpus.txt
expect_error corpus_too_long 1 "long_corpus.txt: holds more documents than the 5 embeddings" tc-refine refine --gpus none --taxonomy taxo.tct --annotation rann.tct --corpus long_corpus.txt remb.tct
head -3 "$H/refine_annotation.txt" > short_ann.txt
"$FX" labels short_ann.txt > short_ann.tct
expect_error annotation_too_short 1 "more documents than the 3 of the annotation" tc-refine refine --gpus none --taxonomy taxo.tct --annotation short_ann.tct --corpus "$H/refine_corpus.txt" remb.tct
printf 'd1\nd2\nd3\nd4\nd5\n' > noterms_ann.txt
"$FX" labels noterms_ann.txt > noterms_ann.tct
expect_error nothing_to_refine 1 "nothing to refine" tc-refine refine --gpus none --taxonomy taxo.tct --annotation noterms_ann.tct --corpus "$H/refine_corpus.txt" remb.tct
expect_error gpus_without_cuda_or_gpu 1 "--gpus 7" tc-refine annotate --gpus 7 --taxonomy taxo.tct --terms terms.tct docs.tct
# input that is not embeddings leaves nothing on stdout
expect_error not_embeddings 1 "labels.txt: not a tensor stream" tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct "$H/labels.txt"
expect_error not_embeddings_stdin 1 "\\(stdin\\): not a tensor stream" sh -c "tc-refine annotate --gpus none --taxonomy taxo.tct --terms terms.tct < '$H/labels.txt'"
# the annotation may also be TELEClass text (doc2labels.txt)
expect refine_text_annotation 0 tc-refine refine --gpus none --taxonomy taxo.tct --annotation "$H/refine_annotation.txt" \
    --corpus "$H/refine_corpus.txt" remb.tct -o refined_text.tct
check refine_text_annotation_same "$FX" check-labels refined_text.tct "$H/expected_refined.txt" 1e-6
# settings from a YAML file, one section per job
printf 'tc-refine:\n  batch-size: 1\n  annotate:\n    core: top\n    class-similarity: own\n  refine:\n    keep-percentile: 0\n' > refine.yaml
expect config_annotate 0 tc-refine annotate --config refine.yaml --gpus none --taxonomy taxo.tct --terms terms.tct docs.tct -o cfg_top.tct
"$FX" show-labels cfg_top.tct > cfg_top.txt
check config_annotate_section cmp cfg_top.txt top.txt
expect config_refine 0 tc-refine refine --config refine.yaml --gpus none --taxonomy taxo.tct --annotation rann.tct --corpus "$H/refine_corpus.txt" remb.tct -o cfg_all.tct
check config_refine_section grep -q "kept 5 of 5" "$T/err"
