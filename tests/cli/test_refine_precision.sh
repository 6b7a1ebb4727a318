# tc-refine --precision (the similarities of annotate and refine on the
# CPU; oneDNN for int8 and bf16): on the reference problem of
# tests/golden/refine, int8's cosines stay within 0.02 of fp32's and the
# refined documents keep their first class for at least 90% of them; -v
# names what computes them and the labels record it; fp32 and auto write
# what the default writes; a precision this CPU or build lacks is one line
# naming what is missing (exit 1, nothing written), and the test says so as
# a skip.
. "$TC_ROOT/tests/cli/lib.sh"
FX="$TC_HELPERS/refine-fixture"
G="$TC_ROOT/tests/golden/refine"
"$FX" taxonomy "$G/labels.txt" "$G/label_hierarchy.txt" "$G/keyterms.txt" > taxo.tct
"$FX" terms "$G/term_embeddings.txt" > terms.tct
"$FX" embeddings "$G/doc_embeddings.txt" > docs.tct
cpu="--gpus none"
ann="annotate $cpu --scores --taxonomy taxo.tct --terms terms.tct"
ref="refine $cpu --taxonomy taxo.tct --annotation core.tct --corpus $G/corpus.txt"

expect annotate_fp32 0 tc-refine $ann docs.tct -o core.tct
expect refine_fp32 0 tc-refine $ref docs.tct -o refined.tct
"$FX" show-labels core.tct > core.txt
"$FX" show-labels refined.tct > refined.txt
tc-dump --tsv scores core.tct > scores.tsv
check fp32_no_attribute sh -c "! tc-dump --meta core.tct | grep -q 'precision ='"

# fp32 and auto (fp32 for tc-refine) give the default's labels and scores
for p in fp32 auto; do
    expect "annotate_$p" 0 tc-refine $ann --precision $p docs.tct -o "core_$p.tct"
    expect "refine_$p" 0 tc-refine $ref --precision $p -v docs.tct -o "refined_$p.tct"
    check "${p}_verbose" grep -q "precision: fp32 through OpenBLAS" err
    check "${p}_same_labels" sh -c "'$FX' show-labels core_$p.tct | cmp -s - core.txt &&
        '$FX' show-labels refined_$p.tct | cmp -s - refined.txt"
done

# reduced P: the path, or the line saying what this machine lacks
reduced() {
    p=$1
    if ! tc-refine $ann --precision "$p" -v docs.tct -o "core_$p.tct" > "$p.out" 2> "$p.err"; then
        if [ "${TC_HAVE_DNNL:-0}" != 1 ]; then
            check "${p}_no_onednn_named" grep -q "tc-refine: --precision $p: this build has no oneDNN" "$p.err"
        else
            check "${p}_lack_named" grep -q "tc-refine: --precision $p: this CPU lacks" "$p.err"
        fi
        check "${p}_one_line" test "$(wc -l < "$p.err")" -eq 1
        check "${p}_nothing_written" test ! -e "core_$p.tct"
        skip "$p" "$(cat "$p.err")"
        return
    fi
    check "${p}_verbose" grep -q "precision: $p through oneDNN" "$p.err"
    check "${p}_backend" grep -q "similarities on CPU (oneDNN $p" "$p.err"
    check "${p}_attribute" sh -c "tc-dump --meta core_$p.tct | grep -q 'precision = $p'"
    tc-dump --tsv scores "core_$p.tct" > "scores_$p.tsv"
    close_tsv "${p}_scores_within_0.02" "scores_$p.tsv" scores.tsv 0.02
    # refinement from the same (fp32) annotation: only its similarities differ
    expect "refine_$p" 0 tc-refine $ref --precision "$p" -v docs.tct -o "refined_$p.tct"
    check "${p}_refine_verbose" grep -q "precision: $p through oneDNN" err
    check "${p}_refine_attribute" sh -c "tc-dump --meta refined_$p.tct | grep -q 'precision = $p'"
    "$FX" show-labels "refined_$p.tct" > "refined_$p.txt"
    # documents kept by both whose first refined class is the same
    check "${p}_top1_agrees_90pct" awk -F'\t' '
        NR == FNR { split($2, c, ","); first[$1] = c[1]; next }
        $1 in first { both++; split($2, c, ","); same += c[1] == first[$1] }
        END { print same " of " both; exit !(both >= 60 && same >= 0.9 * both) }' refined.txt "refined_$p.txt"
}
reduced int8
reduced bf16

expect_error unknown_precision 2 "--precision: 'int4' is not" tc-refine $ann --precision int4 docs.tct
expect_error fp16_refused 1 "--precision fp16: tc-refine computes similarities in fp32" \
    tc-refine $ref --precision fp16 docs.tct -o fp16.tct
check fp16_nothing_written test ! -e fp16.tct
