# tc-eval: metrics against the Python re-statement of TELEClass's evaluation
# (tests/golden/eval_reference.py and its goldens, equal to 1e-9), on random,
# tied and hand-made predictions, from scores and from top-k (K beyond the
# class count included), thresholded sets per level, and the error cases.
. "$TC_ROOT/tests/cli/lib.sh"
fromtext="$TC_HELPERS/tct-from-text"
g="$TC_ROOT/tests/golden/eval"

tc-taxo build -q "$g" -o taxo.tct || { fail setup "tc-taxo build failed"; exit 1; }
"$fromtext" matrix scores < "$g/random.txt" > random.tct
"$fromtext" matrix scores < "$g/ties.txt" > ties.tct
"$fromtext" matrix scores < "$g/hand.txt" > hand.tct
"$fromtext" topk 5 < "$g/random.txt" > random_top5.tct
"$fromtext" topk 15 < "$g/random.txt" > random_top15.tct
"$fromtext" topk 4 < "$g/ties.txt" > ties_top4.tct

# same_values NAME FILE EXPECTED: same keys in order, numbers within 1e-9
same_values() {
    check "$1" awk -F'\t' -v want="$3" '
        { getline line < want; split(line, w, "\t")
          if ($1 != w[1]) { print "key " $1 " vs " w[1]; bad = 1; exit }
          if ($2 == w[2]) next
          d = $2 - w[2]; if (d < 0) d = -d
          if (d > 1e-9 || $2 == "nan" || w[2] == "nan") { print $1 ": " $2 " vs " w[2]; bad = 1; exit } }
        END { if (!bad && (getline line < want) > 0) { print "missing " line; bad = 1 }; exit bad }' "$2"
}

case_eval() { # NAME PREDICTIONS GOLD [OPTIONS]
    case_name=$1 pred=$2 gold=$3
    shift 3
    expect "eval_$case_name" 0 tc-eval --tsv --gold "$gold" -t taxo.tct "$@" "$pred"
    cp out "$case_name.got"
    same_values "eval_${case_name}_matches_reference" "$case_name.got" "$g/$case_name.expected"
}
case_eval random random.tct "$g/gold.txt"
case_eval random_threshold random.tct "$g/gold.txt" --threshold 0.5
case_eval random_top5 random_top5.tct "$g/gold.txt"
case_eval random_top5_threshold random_top5.tct "$g/gold.txt" --threshold 0.7
case_eval random_top15 random_top15.tct "$g/gold.txt"
case_eval ties ties.tct "$g/gold.txt"
case_eval ties_threshold ties.tct "$g/gold.txt" --threshold 0.5
case_eval ties_top4 ties_top4.tct "$g/gold.txt"
case_eval hand hand.tct "$g/hand_gold.txt"

# top-k with K >= the class count ranks exactly like the full scores
check top15_equals_scores sh -c 'cut -f1 random.got > a; cut -f1 random_top15.got > b; cmp a b && cmp random.got random_top15.got'

# gold as a label file, predictions on stdin, the table and JSON forms
"$fromtext" labels < "$g/gold.txt" > gold.tct
expect eval_gold_tct 0 sh -c "tc-eval --tsv --gold gold.tct -t taxo.tct < random.tct"
check eval_gold_tct_same cmp out random.got
expect eval_table 0 tc-eval --gold "$g/gold.txt" -t taxo.tct --threshold 0.5 random.tct
check eval_table_lines sh -c 'grep -q "^documents: 160 predicted, 150 with gold labels (10 not in the gold file, 9 without gold classes)" out &&
    grep -Eq "^  MRR +0\.3310$" out && grep -Eq "^  all +12 +550 +877 +0\.3044 +0\.4855 +0\.3742 +0\.3623$" out'
check eval_matched_note grep -q "150 of 160 predicted documents matched gold labels" err
expect eval_json 0 tc-eval --json --gold "$g/gold.txt" -t taxo.tct --threshold 0.5 random.tct
if py=$(python_with json); then
    check eval_json_values "$py" -c '
import json, sys
j = json.load(open("out"))
want = dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1]))
assert abs(j["mrr"] - float(want["mrr"])) < 1e-9
assert abs(j["sets"]["levels"][2]["macro_f1"] - float(want["level3_macro_f1"])) < 1e-9
assert j["documents"]["matched"] == 150
' "$g/random_threshold.expected"
else
    skip eval_json_values "no python3"
fi
expect eval_output_file 0 tc-eval --tsv --gold "$g/gold.txt" -t taxo.tct -o metrics.tsv random.tct
check eval_output_file_same cmp metrics.tsv random.got

# predicted sets carried in the predictions (label_offsets/label_classes),
# against values worked out by hand: gold h1 {0,3}, h2 {1,5,9}, h3 {};
# predicted h1 {0,3}, h2 {1,4}, h3 {2}: tp 3, fp 2 (4, 2), fn 2 (5, 9)
printf 'h1\t0,3\nh2\t1,4\nh3\t2\n' > hand_sets.txt
"$fromtext" matrix scores hand_sets.txt < "$g/hand.txt" > hand_sets.tct
expect eval_sets 0 tc-eval --tsv --gold "$g/hand_gold.txt" -t taxo.tct hand_sets.tct
cp out hand_sets.got
printf '%s\t%s\n' documents 3 matched 3 without_gold 1 example_f1 0.48888888888888893 \
    p@1 0.33333333333333331 p@2 0.33333333333333331 p@3 0.44444444444444442 mrr 0.6 \
    micro_precision 0.6 micro_recall 0.6 micro_f1 0.6 macro_f1 0.42857142857142855 \
    level1_precision 0.66666666666666663 level1_recall 1 level1_f1 0.8 level1_macro_f1 0.66666666666666663 \
    level2_precision 0.5 level2_recall 0.5 level2_f1 0.5 level2_macro_f1 0.33333333333333331 \
    level3_precision 0 level3_recall 0 level3_f1 0 level3_macro_f1 0 > hand_sets.expected
same_values eval_sets_by_hand hand_sets.got hand_sets.expected
# a threshold replaces the sets the predictions carry
expect eval_sets_threshold 0 tc-eval --tsv --threshold 0.5 --gold "$g/hand_gold.txt" -t taxo.tct hand_sets.tct
# threshold 0.5: h1 {0,3,4}, h2 {1,2,9}, h3 {}: tp 4, fp 2
check eval_sets_threshold_used grep -qx "micro_precision	0.66666666666666663" out
printf 'doc0\t0,3\ndoc1\t1\n' > sets.txt
"$fromtext" labels < sets.txt > sets_labels.tct
expect_error eval_sets_without_scores 1 "no 'scores', no 'topk_classes'/'topk_scores' and no predicted sets with 'label_scores'" \
    tc-eval --gold "$g/gold.txt" -t taxo.tct sets_labels.tct
# sets with label_scores (core classes from tc-refine annotate) rank their own
# members: gold h1 {0,3}, h2 {1,5,9}, h3 {}; sets h1 {3:0.9, 0:0.2, 7:0.9},
# h2 {4:0.5, 1:0.8}, h3 {2:0.1}. Ranked: h1 3,7,0 (tie 0.9: lower id first);
# h2 1,4; h3 2. P@1 = (1 + 1 + 0) / 3; P@2 = (1/2 + 1/2 + 0) / 3;
# P@3 = (2/3 + 1/3 + 0) / 3; Example-F1 = (2*2/5 + 2*1/5 + 0) / 3;
# MRR over 5 gold pairs, rank = 1 + non-gold classes scoring at least as
# high: h1: 3 -> 2 (7 ties it), 0 -> 2; h2: 1 -> 1, 5 and 9 outside -> 0.
printf 'h1\t3,0,7\nh2\t4,1\nh3\t2\n' > ranked_sets.txt
printf 'h1\t0.9,0.2,0.9\nh2\t0.5,0.8\nh3\t0.1\n' > ranked_scores.txt
"$fromtext" labels ranked_scores.txt < ranked_sets.txt > ranked_sets.tct
expect eval_ranked_sets 0 tc-eval --tsv --gold "$g/hand_gold.txt" -t taxo.tct ranked_sets.tct
check eval_ranked_sets_values python3 -c '
got = dict(l.rstrip("\n").split("\t") for l in open("out"))
want = {"p@1": 2 / 3, "p@2": 1 / 3, "p@3": 1 / 3, "example_f1": (4 / 5 + 2 / 5) / 3, "mrr": (1 / 2 + 1 / 2 + 1) / 5}
bad = [(k, got[k], v) for k, v in want.items() if abs(float(got[k]) - v) > 1e-9]
assert not bad, bad
' 

# errors
printf 'nobody\t0.1 0.2 0.3 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1 0.1\n' | "$fromtext" matrix scores > nobody.tct
expect_error eval_no_match 1 "nobody.tct: none of the 1 predicted documents is in" \
    tc-eval --gold "$g/gold.txt" -t taxo.tct nobody.tct
printf 'doc0\t0.1 0.2\n' | "$fromtext" matrix scores > narrow.tct
expect_error eval_wrong_width 1 "narrow.tct: 'scores' has 2 classes, the taxonomy 12" \
    tc-eval --gold "$g/gold.txt" -t taxo.tct narrow.tct
expect_error eval_no_gold 2 "--gold is required" tc-eval -t taxo.tct random.tct
expect_error eval_no_taxonomy 2 "--taxonomy is required" tc-eval --gold "$g/gold.txt" random.tct
expect_error eval_both_formats 2 "exclude each other" tc-eval --tsv --json --gold "$g/gold.txt" -t taxo.tct random.tct
expect_error eval_bad_threshold 2 "--threshold: 'x' is not a number" tc-eval --threshold x --gold "$g/gold.txt" -t taxo.tct random.tct
printf 'doc0\t13\n' > gold_bad.txt
expect_error eval_gold_out_of_range 1 "gold_bad.txt: line 1: class id 13 is outside 0..11" \
    tc-eval --gold gold_bad.txt -t taxo.tct random.tct
head -c 200 random.tct > cut.tct
expect_error eval_truncated 1 "cut.tct: " tc-eval --gold "$g/gold.txt" -t taxo.tct cut.tct
expect help 0 tc-eval --help
check help_text grep -q "usage: tc-eval --gold LABELS --taxonomy TAXONOMY" out
# a pipe that cannot be read twice is spooled
expect eval_pipe 0 sh -c "cat random.tct | tc-eval --tsv --gold '$g/gold.txt' -t taxo.tct"
check eval_pipe_same cmp out random.got
