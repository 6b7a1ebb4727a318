# tc-refine on GPUs gives the CPU's labels: annotation and refinement of the
# golden problem (tests/golden/refine) with --gpus 0 and --gpus all against
# --gpus none (batches of 16 rows, so that every GPU gets a share). The
# golden's annotation compares each class with its own key terms
# (--class-similarity own), as tests/cli/test_refine.sh makes it.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/gpu/gpu_lib.sh"
FX="$TC_HELPERS/refine-fixture"
G="$TC_ROOT/tests/golden/refine"
if [ "$NGPU" -lt 1 ]; then skip gpu_refine "no GPU is visible"; exit 0; fi
# the stand-in runs the CPU twice: --gpus all would be every GPU
[ "$STANDIN" = 1 ] && devices="none" || devices="0 all"
"$FX" taxonomy "$G/labels.txt" "$G/label_hierarchy.txt" "$G/keyterms.txt" > taxo.tct
"$FX" terms "$G/term_embeddings.txt" > terms.tct
"$FX" embeddings "$G/doc_embeddings.txt" > docs.tct
tc-refine annotate --gpus none --class-similarity own --taxonomy taxo.tct --terms terms.tct docs.tct -o cpu_core.tct 2> /dev/null
tc-refine refine --gpus none --taxonomy taxo.tct --annotation cpu_core.tct --corpus "$G/corpus.txt" docs.tct -o cpu_ref.tct 2> /dev/null
"$FX" show-labels cpu_core.tct | cut -f1-3 > cpu_core.txt
"$FX" show-labels cpu_ref.tct | cut -f1-3 > cpu_ref.txt
for gpus in $devices; do
    expect "annotate_gpus_$gpus" 0 tc-refine annotate --gpus $gpus --class-similarity own --batch-size 16 --taxonomy taxo.tct --terms terms.tct docs.tct -o core_$gpus.tct
    check "annotate_gpus_${gpus}_equals_cpu" "$FX" check-labels core_$gpus.tct cpu_core.txt 1e-5
    expect "refine_gpus_$gpus" 0 tc-refine refine --gpus $gpus --batch-size 16 --taxonomy taxo.tct --annotation core_$gpus.tct --corpus "$G/corpus.txt" docs.tct -o ref_$gpus.tct
    check "refine_gpus_${gpus}_equals_cpu" "$FX" check-labels ref_$gpus.tct cpu_ref.txt 1e-5
    check "refine_gpus_${gpus}_golden" "$FX" check-labels ref_$gpus.tct "$G/expected_refined_word.txt" 1e-5
done
