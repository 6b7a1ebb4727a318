# scripts/pipeline-report.sh: the three rows side by side in both blocks, and
# a share of the gap only where the supervised ceiling stands at least 0.02
# above the zero-shot floor.
. "$TC_ROOT/tests/cli/lib.sh"
report=$TC_ROOT/scripts/pipeline-report.sh

metrics() { # FILE VALUE: every metric at VALUE
    printf 'documents\t10\nmatched\t10\n' > "$1"
    for k in example_f1 p@1 p@2 p@3 mrr micro_f1 macro_f1 level1_f1 level2_f1; do printf '%s\t%s\n' $k "$2" >> "$1"; done
}

rows() { # DIR ZEROSHOT PIPELINE SUPERVISED: a run's three metrics files
    mkdir -p "$1"
    metrics "$1/zeroshot.metrics.tsv" "$2"
    metrics "$1/metrics.tsv" "$3"
    metrics "$1/supervised.metrics.tsv" "$4"
}

# a ceiling above the floor: (0.6 - 0.4) / (0.8 - 0.4) = 50% everywhere
rows up 0.4 0.6 0.8
expect report_runs 0 sh "$report" up
cp out up.txt
check report_three_rows_twice sh -c 'test $(grep -c "^zero-shot" up.txt) = 2 && test $(grep -c "^TELEClass pipeline" up.txt) = 2 &&
    test $(grep -c "^supervised" up.txt) = 2'
check report_levels grep -q 'level-1 *level-2$' up.txt
check report_gap_ranked grep -Eq '^gap closed by the pipeline( +50%){5}$' up.txt
check report_gap_sets grep -Eq '^gap closed by the pipeline( +50%){4}$' up.txt
check report_no_note sh -c '! grep -q "under-trained" up.txt'

# a ceiling below the floor (an under-trained reference): no percentage
rows down 0.5 0.6 0.3
expect report_runs_below 0 sh "$report" down
cp out down.txt
check report_no_percentage_below sh -c '! grep "^gap closed" down.txt | grep -q "%"'
check report_says_under_trained grep -q 'under-trained' down.txt

# a ceiling within the margin of the floor: no percentage either
rows near 0.5 0.6 0.51
expect report_runs_near 0 sh "$report" near
check report_no_percentage_near sh -c '! grep "^gap closed" out | grep -q "%"'

rm near/metrics.tsv
expect_error report_missing_file 1 'near/metrics.tsv is missing' sh "$report" near
