# tc-predict: scores as transformers computes them on a checkpoint of
# tc-train's layout (golden, every pooling); on a checkpoint tc-train wrote
# for a tiny random model: output
# tensors, order and attributes; every flag (top-k, scores, sigmoid,
# threshold, paths on a tree and on a DAG checked against a Python
# re-statement of the decoding rule and `tc-taxo paths`, text, windows,
# batches, truncation, config); tc-eval reading what it writes; one test per
# error.
. "$TC_ROOT/tests/cli/lib.sh"
"$TC_HELPERS/train-fixture" fx 48 > /dev/null || { fail setup "train-fixture failed"; exit 1; }
tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --taxonomy fx/taxonomy.tct --max-steps 4 --batch 8 \
    --lr 1e-3 -o run fx/tokens.tct fx/targets.tct || { fail setup "tc-train failed"; exit 1; }
# trained without a taxonomy: class names are the class vectors' ids 0..5
tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --max-steps 1 --batch 8 -o run_ids \
    fx/tokens.tct fx/targets.tct || { fail setup "tc-train failed"; exit 1; }
ck=run/final
cpu="--gpus none"
val=fx/val_tokens.tct
# a DAG with the checkpoint's six classes: biology under science and sports,
# hockey under sports and physics (paths of two and three classes)
printf '0\tscience\n1\tsports\n2\tphysics\n3\tbiology\n4\thockey\n5\ttennis\n' > labels.txt
printf '0\t2\n0\t3\n1\t3\n1\t4\n1\t5\n2\t4\n' > hierarchy.txt
tc-taxo build -q --labels labels.txt --hierarchy hierarchy.txt -o dag.tct || { fail setup "tc-taxo build failed"; exit 1; }
printf '0\tscience\n1\tsports\n2\tphysics\n3\tchemistry\n4\thockey\n5\ttennis\n' > renamed.txt
tc-taxo build -q --labels renamed.txt --hierarchy hierarchy.txt -o renamed.tct || { fail setup "tc-taxo build failed"; exit 1; }

expect help 0 tc-predict --help
check help_text grep -q "usage: tc-predict --model CHECKPOINT" out
expect version 0 tc-predict --version
check man_page sh -c 'for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES; do grep -q "^\.SH \"*$s" "$TC_ROOT/man/man1/tc-predict.1" || exit 1; done'

# ---------------------------------------------------------------- scores
expect default 0 tc-predict $cpu -m $ck $val -o p.tct
check default_quiet test ! -s err
expect list 0 tc-dump p.tct
check list_tensors sh -c 'grep -Eq "^  class_names +str +\[6\]" out && grep -Eq "^  doc_ids +str +\[16\]" out &&
    grep -Eq "^  scores +f32 +\[16,6\]" out && test $(grep -c "^  [a-z]" out) -eq 3'
check list_attributes sh -c 'grep -q "score = logit" out && grep -q "model = run/final" out && grep -q "pooling = mean" out &&
    grep -q "device = cpu" out && grep -q "precision = fp32" out && grep -q "vocab_fingerprint = " out'
tc-dump --tsv doc_ids $val > in_ids.tsv
tc-dump --tsv doc_ids p.tct > out_ids.tsv
check order_kept cmp in_ids.tsv out_ids.tsv
check class_names sh -c 'tc-dump --tsv class_names p.tct | tr "\n" " " | grep -qx "science sports physics biology hockey tennis "'
expect meta 0 tc-dump --meta p.tct
check meta_program sh -c 'grep -q "program = tc-predict" out && grep -q "arguments = .*-m run/final" out'
tc-dump --tsv scores p.tct > scores.tsv

# the scores transformers computes on a checkpoint of tc-train's layout
# (tests/golden/make_predict_golden.py), for each pooling: documents past
# max_length cut as in training, f32 against float64
g="$TC_ROOT/tests/golden/predict"
for variant in mean:true cls:false pooler:false; do
    pooling=${variant%:*} normalize=${variant#*:}
    mkdir -p "golden_$pooling" && cp "$g"/checkpoint/* "golden_$pooling/"
    sed -e "s/\"pooling\": \"mean\"/\"pooling\": \"$pooling\"/" -e "s/\"normalize\": true/\"normalize\": $normalize/" \
        "$g/checkpoint/classifier.json" > "golden_$pooling/classifier.json"
    expect "golden_$pooling" 0 tc-predict $cpu -m "golden_$pooling" "$g/golden.tct" -o "golden_$pooling.tct"
    tc-dump --tsv scores "golden_$pooling.tct" > "golden_$pooling.got"
    tc-dump --tsv "scores_$pooling" "$g/golden.tct" > "golden_$pooling.want"
    close_tsv "golden_${pooling}_matches_transformers" "golden_$pooling.got" "golden_$pooling.want" 2e-6
done
# without the cut (documents of up to 24 tokens whole) the long ones score otherwise
expect golden_uncut 0 tc-predict $cpu -m golden_mean --max-len 24 "$g/golden.tct" -o golden_uncut.tct
tc-dump --tsv scores golden_uncut.tct > golden_uncut.got
check golden_cut_matters awk -F'\t' -v other=golden_mean.got '
    { getline line < other; split(line, o, "\t"); worst = 0
      for (i = 1; i <= NF; i++) { d = $i - o[i]; if (d < 0) d = -d; if (d > worst) worst = d }
      if (NR <= 11 && worst > 1e-5) { print "row " NR " (12 tokens or fewer) changed"; exit 1 }
      if (NR > 11 && worst > 1e-2) changed++ }
    END { if (changed < 10) { print changed " long rows changed"; exit 1 } }' golden_uncut.got

# windows, batches and threads keep the order and (within rounding) the scores
# (a window holds at least 8 batches per device: here 8 rows, so 2 windows)
expect small_windows 0 tc-predict $cpu -v -m $ck --window 5 --batch-size 1 --threads 1 $val -o w.tct
check small_windows_size grep -q "batches of 1, windows of 8 rows" err
check small_windows_order sh -c 'tc-dump --tsv doc_ids w.tct | cmp - in_ids.tsv'
tc-dump --tsv scores w.tct > w.tsv
close_tsv small_windows_scores w.tsv scores.tsv 1e-5
# every output at once (nine tensors) in two windows: readers follow them all
expect all_outputs 0 tc-predict $cpu -m $ck --window 5 --batch-size 1 --top-k 3 --scores --paths 2 -t dag.tct $val -o all.tct
check all_outputs_read sh -c 'tc-dump --tsv doc_ids all.tct | cmp - in_ids.tsv && test $(tc-dump --tsv scores all.tct | wc -l) -eq 16 &&
    test $(tc-dump --tsv label_offsets all.tct | wc -l) -eq 17'
expect all_outputs_eval 0 tc-eval --gold fx/val_targets.tct -t dag.tct all.tct
expect stdin_stdout 0 sh -c "cat $val | tc-predict $cpu -m $ck > piped.tct"
check stdin_same sh -c 'tc-dump --tsv scores piped.tct | cmp - scores.tsv'
expect compressed_input 0 sh -c "zstdcat $val | tc-predict $cpu -m $ck | tc-dump - > /dev/null"

# ---------------------------------------------------------------- top k
expect topk 0 tc-predict $cpu -m $ck --top-k 3 $val -o k.tct
check topk_tensors sh -c 'tc-dump k.tct > k.list; grep -Eq "^  topk_classes +i32 +\[16,3\]" k.list &&
    grep -Eq "^  topk_scores +f32 +\[16,3\]" k.list && ! grep -q "^  scores " k.list'
tc-dump --tsv topk_classes,topk_scores k.tct > k.tsv
# the k best of the full scores, best first, ties to the lower class
check topk_matches_scores awk -F'\t' -v s=scores.tsv '
    { getline line < s; n = split(line, v, "\t")
      for (j = 1; j <= 3; j++) { c = $j + 1; if (v[c] != $(j + 3)) { print "row " NR ": score"; exit 1 }
        for (x = 1; x <= n; x++) if (v[x] > v[c] || (v[x] == v[c] && x < c)) { r = 0; for (y = 1; y < j; y++) if ($y + 1 == x) r = 1; if (!r) { print "row " NR ": class " x - 1 " beats " c - 1; exit 1 } } } }' k.tsv
expect topk_and_scores 0 tc-predict $cpu -m $ck --top-k 2 --scores $val -o ks.tct
check topk_and_scores_both sh -c 'tc-dump ks.tct | grep -Eq "^  scores +f32 +\[16,6\]" && tc-dump ks.tct | grep -Eq "^  topk_classes +i32 +\[16,2\]"'
expect topk_past_classes 0 tc-predict $cpu -m $ck --top-k 10 $val -o k10.tct
check topk_past_classes_capped sh -c 'grep -q "top-k 10: the checkpoint has 6 classes; writing 6" err && tc-dump k10.tct | grep -Eq "^  topk_classes +i32 +\[16,6\]"'

# ---------------------------------------------------------------- sigmoid
expect sigmoid 0 tc-predict $cpu -m $ck --sigmoid --top-k 2 --scores $val -o sg.tct
check sigmoid_attr sh -c 'tc-dump sg.tct | grep -q "score = probability"'
tc-dump --tsv scores sg.tct > sg.tsv
check sigmoid_values awk -F'\t' -v s=scores.tsv '{ getline line < s; split(line, v, "\t")
    for (i = 1; i <= NF; i++) { d = $i - 1 / (1 + exp(-v[i])); if (d < -1e-6 || d > 1e-6 || $i <= 0 || $i >= 1) exit 1 } }' sg.tsv
check sigmoid_same_ranking sh -c 'tc-dump --tsv topk_classes sg.tct > a; tc-dump --tsv topk_classes ks.tct > b; cmp a b'

# ---------------------------------------------------------------- threshold
expect threshold 0 tc-predict $cpu -m $ck --threshold 0.5 $val -o th.tct
check threshold_tensors sh -c 'tc-dump th.tct > th.list; grep -Eq "^  label_offsets +i64 +\[17\]" th.list &&
    grep -Eq "^  label_classes +i32 +\[[0-9]+\]" th.list && grep -Eq "^  label_scores +f32 +\[[0-9]+\]" th.list &&
    grep -q "decoding = threshold 0.5 on sigmoid" th.list && grep -Eq "^  scores +f32 +\[16,6\]" th.list'
# classes with probability >= 0.5 are those with a logit >= 0, best first
tc-dump --tsv label_offsets th.tct > off.tsv
tc-dump --tsv label_classes th.tct > cls.tsv
tc-dump --tsv label_scores th.tct > lsc.tsv
check threshold_sets awk -v s=scores.tsv -v c=cls.tsv -v ls=lsc.tsv '
    NR == 1 { prev = $1; next }
    { getline line < s; n = split(line, v, "\t"); want = 0; for (x = 1; x <= n; x++) want += v[x] >= 0
      if ($1 - prev != want) { print "row " NR - 1 ": " $1 - prev " classes, want " want; exit 1 }
      last = 1e30
      for (j = prev; j < $1; j++) { getline k < c; getline sc < ls
        if (v[k + 1] < 0 || v[k + 1] > last || sc != v[k + 1]) { print "row " NR - 1 ": class " k; exit 1 } last = v[k + 1] }
      prev = $1 }' off.tsv
expect threshold_sigmoid 0 tc-predict $cpu -m $ck --threshold 0.6 --sigmoid $val -o th6.tct
# tc-eval thresholding the written probabilities finds the sets tc-predict wrote
expect eval_threshold 0 tc-eval --tsv --gold fx/val_targets.tct -t fx/taxonomy.tct --threshold 0.6 th6.tct
cp out eval_threshold.tsv
expect eval_sets 0 tc-eval --tsv --gold fx/val_targets.tct -t fx/taxonomy.tct th6.tct
check eval_threshold_same_sets cmp out eval_threshold.tsv

# ---------------------------------------------------------------- paths
# re-statement: every path of `tc-taxo paths` scored by mean (or sum) of
# log sigmoid, the N best (ties to the earlier path), their classes in order
cat > paths_rule.py << 'EOF'
import json, sys
import numpy as np
name, n_best, rule = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = {x["name"]: x for x in json.load(open(name + ".json"))["tensors"]}
names = t["class_names"]["data"]
paths = [[names.index(c) for c in l.rstrip("\n").split(" > ")] for l in open(name + ".paths")]
s = np.array(t["scores"]["data"], np.float32).astype(np.float64)
off, cls, ps = t["label_offsets"]["data"], t["label_classes"]["data"], np.array(t["path_scores"]["data"], np.float64)
logp = -np.logaddexp(0, -s)
parents = {}
for p in paths:
    for a, b in zip(p, p[1:]):
        parents.setdefault(b, set()).add(a)
for i in range(s.shape[0]):
    sc = [logp[i, p].sum() / (len(p) if rule == "mean" else 1) for p in paths]
    best = sorted(range(len(paths)), key=lambda j: (-sc[j], j))[:n_best]
    want = []
    for j in best:
        want += [c for c in paths[j] if c not in want]
    got = cls[off[i]:off[i + 1]]
    assert got == want, (i, got, want)
    assert np.allclose(ps[i, :len(best)], [sc[j] for j in best], atol=1e-5), (i, ps[i], [sc[j] for j in best])
    assert all(c not in parents or parents[c] & set(got) for c in got), (i, got)
EOF
# The predictions are made whether or not numpy is there (later checks read
# them); only the rule's check needs it, and skips saying so.
py=$(python_with numpy) || py=
paths_check() { # NAME PREDICTIONS TAXONOMY N RULE
    if [ -z "$py" ]; then skip "$1" "python3 with numpy is not installed"; return; fi
    tc-taxo paths "$3" > "$1.paths"
    tc-dump --json --head 1000000 "$2" > "$1.json"
    check "$1" "$py" paths_rule.py "$1" "$4" "$5"
}
expect paths_tree 0 tc-predict $cpu -m $ck --paths -t fx/taxonomy.tct $val -o pt.tct
check paths_tree_tensors sh -c 'tc-dump pt.tct > pt.list; grep -Eq "^  path_scores +f32 +\[16,1\]" pt.list &&
    grep -q "decoding = paths 1, mean of log-sigmoid" pt.list && grep -Eq "^  label_classes +i32 +\[32\]" pt.list'
paths_check paths_tree_rule pt.tct fx/taxonomy.tct 1 mean
expect paths_dag 0 tc-predict $cpu -m $ck --paths -t dag.tct $val -o pd.tct
paths_check paths_dag_rule pd.tct dag.tct 1 mean
expect paths_dag_3 0 tc-predict $cpu -m $ck --paths 3 -t dag.tct $val -o pd3.tct
check paths_dag_3_shape sh -c 'tc-dump pd3.tct | grep -Eq "^  path_scores +f32 +\[16,3\]"'
paths_check paths_dag_3_rule pd3.tct dag.tct 3 mean
expect paths_dag_sum 0 tc-predict $cpu -m $ck --paths=2 --path-score sum -t dag.tct $val -o pds.tct
paths_check paths_dag_sum_rule pds.tct dag.tct 2 sum
expect paths_past_count 0 tc-predict $cpu -m $ck --paths 9 -t dag.tct $val -o pd9.tct
paths_check paths_past_count_rule pd9.tct dag.tct 9 mean
check paths_past_count_all sh -c 'tc-dump --tsv label_offsets pd9.tct | tail -n 1 | grep -qx 96'
expect paths_config 0 sh -c 'printf "tc-predict:\n  paths: 2\n  gpus: none\n  taxonomy: dag.tct\n" > c.yaml &&
    tc-predict --config c.yaml -m run/final fx/val_tokens.tct -o cfg.tct'
check paths_config_two sh -c 'tc-dump cfg.tct | grep -Eq "^  path_scores +f32 +\[16,2\]"'
# a checkpoint named by ids takes the taxonomy's names
expect paths_id_names 0 tc-predict $cpu -m run_ids/final --paths -t dag.tct --top-k 1 $val -o pi.tct
check paths_id_names_used sh -c 'tc-dump --tsv class_names pi.tct | head -n 1 | grep -qx science'
# a taxonomy kept in the checkpoint is found without --taxonomy
mkdir -p ck_taxo && cp run/final/* ck_taxo/ && cp dag.tct ck_taxo/taxonomy.tct
expect paths_inside 0 tc-predict $cpu -m ck_taxo --paths $val -o pin.tct
check paths_inside_same sh -c 'tc-dump --tsv label_classes pin.tct > a; tc-dump --tsv label_classes pd.tct > b; cmp a b'

# ---------------------------------------------------------------- text
expect text 0 tc-predict $cpu -m $ck --text $val
check text_lines sh -c 'test $(wc -l < out) -eq 16 && cut -f1 out | cmp - in_ids.tsv && test $(awk -F"\t" "NF != 2" out | wc -l) -eq 0'
check text_best_class sh -c 'cut -f1 k.tsv | head -n 1 > a; n=$(cat a); want=$(sed -n "$((n + 1))p" labels.txt | cut -f2); test "$(head -n 1 out | cut -f2)" = "$want"'
expect text_topk 0 tc-predict $cpu -m $ck --text --top-k 3 $val
check text_topk_fields sh -c 'test $(awk -F"\t" "NF != 4" out | wc -l) -eq 0'
expect text_paths 0 tc-predict $cpu -m $ck --text --paths -t dag.tct $val -o text_paths.txt
check text_paths_names sh -c 'tc-dump --tsv label_classes pd.tct | while read c; do sed -n "$((c + 1))p" labels.txt | cut -f2; done > want;
    cut -f2- text_paths.txt | tr "\t" "\n" > got; cmp got want'

# ---------------------------------------------------------------- truncation and progress
"$TC_HELPERS/encode-fixture" tokens long.tct 20 40 60 seed=9 fingerprint=model:fx/model
expect long_cut 0 tc-predict $cpu -m $ck -v long.tct -o long_out.tct
check long_cut_said grep -q "documents cut to 32 tokens" err
expect max_len 0 tc-predict $cpu -m $ck --max-len 8 long.tct -o long8.tct
check max_len_changes sh -c 'tc-dump --tsv scores long8.tct > a; tc-dump --tsv scores long_out.tct > b; ! cmp -s a b &&
    tc-dump long8.tct | grep -Eq "^  scores +f32 +\[20,6\]"'
expect progress 0 tc-predict $cpu -m $ck --progress $val -o prog.tct
# on a terminal the progress line ends with the totals
expect progress_terminal 0 sh -c "script -qec 'tc-predict $cpu -m $ck $val -o prog2.tct' /dev/null < /dev/null > progress.txt"
check progress_line grep -q "tc-predict: 16/16 docs (.* docs/s, done)" progress.txt
"$TC_HELPERS/encode-fixture" tokens empty.tct 0 10 60 fingerprint=model:fx/model
expect empty_input 0 tc-predict $cpu -m $ck --top-k 2 --paths -t dag.tct empty.tct -o empty_out.tct
check empty_output sh -c 'tc-dump empty_out.tct > e.list; grep -Eq "^  doc_ids +str +\[0\]" e.list && grep -Eq "^  label_offsets +i64 +\[1\]" e.list'

# ---------------------------------------------------------------- tc-eval reads the predictions
expect eval_topk 0 tc-eval --gold fx/val_targets.tct -t fx/taxonomy.tct k10.tct
check eval_topk_from_topk grep -q "ranking from top-k" out
expect eval_scores 0 tc-eval --tsv --gold fx/val_targets.tct -t fx/taxonomy.tct p.tct
cp out eval_scores.tsv
expect eval_topk_all 0 tc-eval --tsv --gold fx/val_targets.tct -t fx/taxonomy.tct k10.tct
check eval_topk_equals_scores cmp out eval_scores.tsv
expect eval_paths 0 tc-eval --gold fx/val_targets.tct -t fx/taxonomy.tct pt.tct
check eval_paths_sets sh -c 'grep -q "predicted sets: as given in the predictions" out && grep -Eq "^  all +6 +[0-9]+ +32 " out'
expect eval_pipe 0 sh -c "tc-predict $cpu -m $ck --top-k 3 --paths -t dag.tct $val | tc-eval --json --gold fx/val_targets.tct -t dag.tct"
check eval_pipe_json grep -q '"p@1"' out

# ---------------------------------------------------------------- errors
expect_error no_model 2 "--model CHECKPOINT is required" tc-predict $cpu $val
expect_error not_checkpoint 1 "fx/model: not a tc-train checkpoint \(no classifier.json" tc-predict $cpu -m fx/model $val
expect_error missing_checkpoint 1 "nowhere: no such checkpoint directory" tc-predict $cpu -m nowhere $val
expect_error paths_no_taxonomy 2 "--paths needs the taxonomy: --taxonomy FILE" tc-predict $cpu -m $ck --paths $val
expect_error paths_and_threshold 2 "--paths and --threshold exclude each other" tc-predict $cpu -m $ck --paths -t dag.tct --threshold 0.5 $val
expect_error path_score_alone 2 "--path-score needs --paths" tc-predict $cpu -m $ck --path-score sum $val
expect_error path_score_bad 2 "--path-score: 'max' is not mean or sum" tc-predict $cpu -m $ck --paths -t dag.tct --path-score max $val
expect_error paths_zero 2 "--paths" tc-predict $cpu -m $ck --paths 0 -t dag.tct $val
expect_error threshold_range 2 "--threshold: 1 is not a probability strictly between 0 and 1" tc-predict $cpu -m $ck --threshold 1 $val
expect_error threshold_word 2 "--threshold" tc-predict $cpu -m $ck --threshold high $val
expect_error topk_zero 2 "--top-k: '0'" tc-predict $cpu -m $ck --top-k 0 $val
expect_error text_scores 2 "--text prints class names; --scores is for tensor output" tc-predict $cpu -m $ck --text --scores $val
expect_error text_sigmoid 2 "--text prints class names; --sigmoid is for tensor output" tc-predict $cpu -m $ck --text --sigmoid $val
expect_error max_len_small 2 "--max-len: '1'" tc-predict $cpu -m $ck --max-len 1 $val
expect_error max_len_large 2 "--max-len 99: the model has 32 positions" tc-predict $cpu -m $ck --max-len 99 $val
expect_error bad_precision 2 "--precision: 'fp8' is not fp32, bf16, fp16, int8 or auto" tc-predict $cpu -m $ck --precision fp8 $val
expect_error cpu_precision 1 "--precision fp16: GPUs only; the CPU computes in fp32, bf16 or int8" tc-predict $cpu -m $ck --precision fp16 $val
expect_error bad_batch 2 "--batch-size: '0'" tc-predict $cpu -m $ck --batch-size 0 $val
expect_error bad_gpus 2 "--gpus x" tc-predict --gpus x -m $ck $val
if [ "${TC_HAVE_CUDA:-0}" = 1 ]; then
    expect_error gpus_absent 2 "--gpus 7: " tc-predict --gpus 7 -m $ck $val
else
    expect_error gpus_absent 2 "no CUDA backend" tc-predict --gpus 0 -m $ck $val
fi
expect_error unknown_option 2 "unknown option '--bogus'" tc-predict --bogus
expect_error two_inputs 2 "one input at most" tc-predict $cpu -m $ck $val $val
expect_error taxonomy_count 1 "fx/taxonomy7.tct: 7 classes, but the checkpoint run/final has 6" tc-predict $cpu -m $ck --paths -t fx/taxonomy7.tct $val
expect_error taxonomy_names 1 "renamed.tct: class 3 is 'chemistry', but in the checkpoint run/final it is 'biology'" \
    tc-predict $cpu -m $ck --paths -t renamed.tct $val
expect_error taxonomy_missing 1 "nope.tct" tc-predict $cpu -m $ck --paths -t nope.tct $val
expect_error other_vocab 1 "fx/other_vocab.tct: tokens were made with another vocabulary \(vocab_fingerprint 0123456789abcdef" \
    tc-predict $cpu -m $ck fx/other_vocab.tct -o never.tct
check other_vocab_no_output test ! -e never.tct
"$TC_HELPERS/encode-fixture" tokens bad_id.tct 30 20 60 bad_id=17 fingerprint=model:fx/model
expect_error bad_id 1 "bad_id.tct: row 17 \('doc-17'\): token 1 is id 60, outside the vocabulary of 60" tc-predict $cpu -m $ck bad_id.tct
expect_error missing_file 1 "nope.tct: cannot open" tc-predict $cpu -m $ck nope.tct
"$TC_HELPERS/tct-sample" dtypes > d.tct
expect_error not_tokens 1 "d.tct: .*doc_ids" tc-predict $cpu -m $ck d.tct
size=$(wc -c < fx/tokens.tct)
head -c $((size / 2)) fx/tokens.tct > cut.tct
expect_error truncated 1 "cut.tct: .*truncated" tc-predict $cpu -m $ck cut.tct -o cut_out.tct
check truncated_no_output test ! -e cut_out.tct
expect_error terminal_refused 1 "refusing to write binary tensors to a terminal" sh -c "script -qec 'tc-predict $cpu -m $ck $val' /dev/null < /dev/null | grep refusing >&2; exit 1"
# a broken head: one line naming the file
mkdir -p broken && cp run/final/* broken/ && printf 'garbage' > broken/head.safetensors
expect_error broken_head 1 "broken/head.safetensors" tc-predict $cpu -m broken $val

# ---------------------------------------------------------------- paths that multiply, names that reach a terminal
# 2^66 root-to-leaf paths from 132 classes (tests/cli/dag_taxonomy.sh): refused
# before anything is allocated for them, naming the file, the count and the cap
sh "$TC_ROOT/tests/cli/dag_taxonomy.sh" 66 2 dag66
tc-taxo build -q dag66 -o dag66.tct || fail setup "tc-taxo build dag66 failed"
sum=$(cksum < dag66.tct)
expect_error paths_multiplying 1 "^tc-predict: dag66.tct: the taxonomy has >= 9223372036854775807 root-to-leaf paths \(.*\); tc-predict --paths takes at most 16777216 paths and 67108864 classes along them$" \
    tc-predict $cpu -m $ck --paths -t dag66.tct $val -o pm.tct
check paths_multiplying_no_output test ! -e pm.tct
check paths_multiplying_input_unchanged test "$(cksum < dag66.tct)" = "$sum"
# a document id with an escape sequence (it sets a terminal's title) is printed escaped
printf 'd\033]0;x\007\tsome words here\n' | tc-tokenize --model fx/model -o esc_tokens.tct
expect text_escaped 0 tc-predict $cpu -m $ck --text esc_tokens.tct
check text_escaped_id sh -c 'cut -f1 out | grep -qx "d\\\\x1b]0;x\\\\x07" && ! grep -q "$(printf "\033")" out'
# class names in classifier.json follow the taxonomy's rule
mkdir -p esc_ck && cp -rL $ck/. esc_ck/
sed 's/"sports"/"spo\\u001b]0;x\\u0007rts"/' $ck/classifier.json > esc_ck/classifier.json
expect_error checkpoint_name_escape 1 "esc_ck/classifier.json: class name 1 \('spo\\\\x1b]0;x\\\\x07rts'\) has a control character in it" \
    tc-predict $cpu -m esc_ck --text $val
sed 's/"sports"/"spo\\u0000rts"/' $ck/classifier.json > esc_ck/classifier.json
expect_error checkpoint_name_nul 1 "esc_ck/classifier.json: .*u0000 is not allowed" tc-predict $cpu -m esc_ck --text $val

# ---------------------------------------------------------------- the manual's examples run
mkdir -p examples/run && cp -rL run/final examples/run/final && cp $val examples/tokens.tct && cp fx/taxonomy.tct examples/taxonomy.tct
tc-dump --tsv doc_ids fx/val_targets.tct > ex_ids
tc-dump --tsv label_offsets fx/val_targets.tct > ex_off
tc-dump --tsv label_classes fx/val_targets.tct > ex_cls
awk 'NR == FNR { id[NR] = $1; next } FILENAME == ARGV[2] { off[FNR] = $1; next }
     { cls[FNR - 1] = $1 } END { for (i = 1; i < length(off); i++) { line = id[i] "\t"
       for (j = off[i]; j < off[i + 1]; j++) line = line (j > off[i] ? "," : "") cls[j]; print line } }' ex_ids ex_off ex_cls > examples/doc2labels.txt
sed -n '/^\.SH EXAMPLES/,/^\.fi/p' "$TC_ROOT/man/man1/tc-predict.1" | grep '^tc-predict' > examples.sh
n=0
while IFS= read -r line; do
    n=$((n + 1))
    case "$line" in
    *--gpus*) [ "${TC_GPU:-0}" = 1 ] || { skip "man_example_$n" "needs a GPU: $line"; continue; } ;;
    esac
    expect "man_example_$n" 0 sh -c "cd examples && $line > /dev/null"
done < examples.sh
check man_examples_found test "$n" -ge 8

# ---------------------------------------------------------------- a reader that goes away

# `| head` is the normal end of a filter: exit 0, not a word on stderr
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "d%d\thockey tennis physics\n", i }' > many.txt
tc-tokenize -q --vocab fx/model/vocab.txt --lowercase --max-len 8 many.txt -o many.tct
{ tc-predict $cpu -m $ck --text many.tct 2> pipe.err; echo $? > pipe.status; } | head -n 1 > /dev/null
check pipe_text_status test "$(cat pipe.status)" = 0
check pipe_text_quiet test ! -s pipe.err
{ tc-predict $cpu -m $ck many.tct 2> pipe2.err; echo $? > pipe2.status; } | head -c 100 > /dev/null
check pipe_tensors_status test "$(cat pipe2.status)" = 0
check pipe_tensors_quiet test ! -s pipe2.err
expect_error full_text 1 '^tc-predict: /dev/full: write failed: No space left on device$' tc-predict $cpu -m $ck --text $val -o /dev/full
expect_error full_stdout 1 '^tc-predict: \(stdout\): write failed: No space left on device$' sh -c "tc-predict $cpu -m $ck $val > /dev/full"
