# tc-taxo: build from both layouts, every validation error, show, paths,
# key terms, texts and their embeddings, targets, and the real taxonomies
# against counts computed independently (tests/golden/taxonomy_counts.py).
. "$TC_ROOT/tests/cli/lib.sh"
fromtext="$TC_HELPERS/tct-from-text"
golden="$TC_ROOT/tests/golden"

expect help 0 tc-taxo --help
check help_text grep -q "usage: tc-taxo COMMAND" out
expect build_help 0 tc-taxo build --help
check build_help_text grep -q "usage: tc-taxo build" out
expect version 0 tc-taxo --version
expect_error no_command 2 "no command" tc-taxo
expect_error unknown_command 2 "unknown command 'frobnicate'" tc-taxo frobnicate
expect_error unknown_option 2 "unknown option '--nope'" tc-taxo build --nope

# ---------------------------------------------------------------- TELEClass layout, DAG
# a(0) > c(2) > e(4); a > d(3) > e; d > f(5); b(1) > d
mkdir dag
printf '0\ta\n1\tb\n2\tc\n3\td\n4\te\n5\tf\n' > dag/labels.txt
printf '0\t2\n0\t3\n1\t3\n2\t4\n3\t4\n3\t5\n' > dag/label_hierarchy.txt
expect build_dag 0 tc-taxo build dag -o dag.tct
expect dump_dag 0 tc-dump --tsv class_names,depth dag.tct
check dag_depth test "$(tr '\t\n' ': ' < out)" = "a:1 b:1 c:2 d:2 e:3 f:3 "
expect roots_attr 0 tc-dump --tensor roots dag.tct
check roots_virtual grep -q "virtual_root = yes" out
expect paths_dag 0 tc-taxo paths dag.tct
check paths_dag_text test "$(cat out)" = "a > c > e
a > d > e
a > d > f
b > d > e
b > d > f"
expect paths_ids 0 tc-taxo paths --ids dag.tct
check paths_ids_text test "$(head -1 out)" = "0 > 2 > 4"
expect paths_stdin 0 sh -c 'tc-taxo paths < dag.tct'
check paths_stdin_count test "$(wc -l < out)" -eq 5
expect show_dag 0 tc-taxo show dag.tct
check show_tree grep -q "^    e \[4\]  depth 3  terms 0$" out
check show_dag_once grep -q "^  d \[3\]  depth 2  terms 0  (shown above)$" out
expect summary_dag 0 tc-taxo show --summary dag.tct
check summary_dag_values sh -c 'grep -qx "multi_parent	2" out && grep -qx "paths	5" out && grep -qx "leaves	2" out'
printf 'x\t0,4\ny\t3\nz\t4\n' > dag_docs.txt
expect show_counts 0 tc-taxo show --counts dag_docs.txt dag.tct
check show_counts_values sh -c 'grep -q "^a \[0\].*docs 1$" out && grep -q "^    e \[4\].*docs 2$" out'
"$fromtext" labels < dag_docs.txt > dag_docs.tct
expect show_counts_tct 0 tc-taxo show --counts dag_docs.tct dag.tct
check show_counts_tct_values grep -q "^    e \[4\].*docs 2$" out

# ---------------------------------------------------------------- validation errors, one message each
bad() { # NAME LABELS HIERARCHY REGEX [OPTIONS]
    mkdir -p "bad_$1"
    printf "$2" > "bad_$1/labels.txt"
    printf "$3" > "bad_$1/label_hierarchy.txt"
    case_name=$1 regex=$4
    shift 4
    expect_error "invalid_$case_name" 1 "$regex" tc-taxo build "$@" "bad_$case_name" -o "bad_$case_name.tct"
    check "invalid_${case_name}_no_output" test ! -e "bad_$case_name.tct"
}
bad unknown_id '0\ta\n1\tb\n' '0\t1\n1\t7\n' "label_hierarchy.txt: line 2: unknown class id '7' \(ids are 0..1\)"
bad not_an_id '0\ta\nx\tb\n' '' "labels.txt: line 2: 'x' is not a class id"
bad duplicate_id '0\ta\n1\tb\n1\tc\n' '' "labels.txt: line 3: duplicate class id 1 \(first on line 2\)"
bad duplicate_name '0\ta\n1\tb\n2\ta\n' '' "labels.txt: line 3: duplicate class name 'a' \(first on line 1\)"
bad missing_id '0\ta\n2\tc\n' '' "labels.txt: class ids must be 0..2, but id 1 is missing"
bad empty_name '0\ta\n1\t \n' '' "labels.txt: line 2: class 1 has an empty name"
bad self_loop '0\ta\n1\tb\n' '0\t1\n1\t1\n' "line 2: self-loop: class 'b' \(1\) is its own parent"
bad duplicate_edge '0\ta\n1\tb\n' '0\t1\n0\t1\n' "line 2: duplicate edge 'a' > 'b' \(first on line 1\)"
bad cycle '0\tr\n1\ta\n2\tb\n3\tc\n' '0\t1\n1\t2\n2\t3\n3\t1\n' "label_hierarchy.txt: cycle: a > b > c > a"
bad unreachable '0\tr\n1\ta\n2\tb\n3\tc\n' '0\t3\n1\t2\n2\t1\n2\t3\n' "class 'a' \(1\) is unreachable from a root: it is on or below the cycle b > a > b"
bad no_tab '0\ta\n1 b\n' '' "labels.txt: line 2: expected 'id<TAB>name'"
bad isolated '0\ta\n1\tb\n2\tc\n' '0\t1\n' "class 'c' \(2\) is in no edge of the hierarchy: no root reaches it" --no-isolated
# without --no-isolated, an isolated class is a top-level leaf, with a note
expect isolated_allowed 0 tc-taxo build bad_isolated -o iso.tct
check isolated_note grep -q "class 'c' (2) is in no edge: a top-level class without children" err
expect_error missing_dir 1 "nope/labels.txt: cannot open" tc-taxo build nope -o x.tct
expect_error build_no_input 2 "no taxonomy" tc-taxo build -o x.tct
expect_error load_not_taxonomy 1 "dag_docs.tct: no tensor 'class_names'" tc-taxo paths dag_docs.tct

# ---------------------------------------------------------------- YAML
cat > tree.yaml <<'EOF'
# a DAG: d under a and b
a:
  c:
    - e
  d: [e, f]
b:
  - d
EOF
expect build_yaml 0 tc-taxo build --yaml tree.yaml -o tree.tct
expect yaml_paths 0 tc-taxo paths tree.tct
check yaml_paths_text test "$(tr '\n' ';' < out)" = "a > c > e;a > d > e;a > d > f;b > d > e;b > d > f;"
expect yaml_ids 0 tc-dump --tsv class_names tree.tct
check yaml_ids_order test "$(tr '\n' ' ' < out)" = "a c e d f b "
printf -- '- sports:\n    - baseball\n    - hockey\n- politics\n' > list.yaml
expect build_yaml_list 0 tc-taxo build --yaml list.yaml -o list.tct
expect yaml_list_summary 0 tc-taxo show --summary list.tct
check yaml_list_values sh -c 'grep -qx "classes	4" out && grep -qx "roots	2" out && grep -qx "paths	3" out'
badyaml() { # NAME TEXT REGEX
    printf "$2" > "$1.yaml"
    expect_error "invalid_yaml_$1" 1 "$3" tc-taxo build --yaml "$1.yaml" -o "$1.tct"
}
badyaml cycle 'r:\n  a:\n    b:\n      a:\n' "cycle.yaml: cycle: a > b > a"
badyaml unreachable 'a:\n  b:\n    a:\n' "cycle.yaml|unreachable.yaml: class 'a' \(0\) is unreachable from a root"
badyaml self_loop 'a:\n  - a\n' "self_loop.yaml: line 2: self-loop: class 'a' is listed under itself"
badyaml twice 'a:\n  - b\n  - b\n' "twice.yaml: line 3: 'b' is listed twice under 'a'"
badyaml empty 'a:\n  - ""\n' "empty.yaml: line 2: empty class name"
badyaml syntax 'a: [b\n' "syntax.yaml: line [0-9]+: "
badyaml scalar 'just a name\n' "scalar.yaml: line 1: expected a mapping or a list of classes"
badyaml nested_list 'a:\n  - [b, c]\n' "nested_list.yaml: line 2: a list inside a list"

# ---------------------------------------------------------------- key terms
printf 'a:apple, avocado ,apple\nC:cherry,citrus fruit\n\nb:\n' > terms1.txt
printf 'c:citrus_fruit,clementine\nd:date\n' > terms2.txt
expect terms_merge 0 tc-taxo terms -t dag.tct terms1.txt terms2.txt -o dag_terms.tct
check terms_merge_note grep -q "6 key terms (+6)" err
expect export_terms 0 tc-taxo export-terms dag_terms.tct
check export_terms_text test "$(tr '\n' ';' < out)" = "a:apple,avocado;b:;c:cherry,citrus_fruit,clementine;d:date;e:;f:;"
# exported terms import back to the same taxonomy
cp out exported.txt
expect terms_reimport 0 tc-taxo terms --replace -t dag.tct exported.txt -o dag_terms2.tct
expect export_again 0 tc-taxo export-terms dag_terms2.tct
check terms_round_trip cmp out exported.txt
expect terms_replace_none 0 tc-taxo terms --replace -t dag_terms.tct -o dag_none.tct
expect export_none 0 tc-taxo export-terms dag_none.tct
check terms_replaced test "$(head -1 out)" = "a:"
printf 'zebra:stripes\n' > terms_bad.txt
expect_error terms_unknown_class 1 "terms_bad.txt: line 1: unknown class 'zebra'" tc-taxo terms -t dag.tct terms_bad.txt -o x.tct
printf 'a apple\n' > terms_nocolon.txt
expect_error terms_no_colon 1 "terms_nocolon.txt: line 1: expected 'class name:term,term,...'" tc-taxo terms -t dag.tct terms_nocolon.txt -o x.tct
expect build_with_terms 0 tc-taxo build dag --terms terms1.txt --terms terms2.txt -o dag_built_terms.tct
expect show_terms 0 tc-taxo show dag_built_terms.tct
check show_terms_count grep -q "^  c \[2\]  depth 2  terms 3$" out

# texts to embed and the per-class sets of their embeddings
expect texts 0 tc-taxo texts dag_terms.tct
check texts_lines test "$(sed -n '1,4p' out | tr '\t\n' ':;')" = "c0:a;t0:apple;t1:avocado;c1:b;"
check texts_spaces grep -qx "t3	citrus fruit" out
cp out dag_texts.txt
expect texts_names_only 0 tc-taxo texts --names-only dag_terms.tct
check texts_names_only_lines test "$(tr '\t\n' ':;' < out)" = "c0:a;c1:b;c2:c;c3:d;c4:e;c5:f;"
expect_error names_only_texts_only 2 "names-only belongs to tc-taxo texts" tc-taxo export-terms --names-only dag_terms.tct
cp dag_texts.txt out
"$fromtext" hash-embed 16 < out > dag_emb.tct
expect term_embeddings 0 tc-taxo term-embeddings -t dag_terms.tct dag_emb.tct -o dag_sets.tct
expect term_sets_dump 0 tc-dump --tsv class_of_row,row_texts dag_sets.tct
check term_sets_rows test "$(tr '\t\n' ':;' < out)" = "0:a;0:apple;0:avocado;1:b;2:c;2:cherry;2:citrus fruit;2:clementine;3:d;3:date;4:e;5:f;"
expect term_sets_offsets 0 tc-dump --tsv row_offsets dag_sets.tct
check term_sets_offsets_values test "$(tr '\n' ' ' < out)" = "0 3 4 8 10 11 12 "
# the gathered rows equal the rows of the embeddings file, by id
tc-dump --tsv embeddings dag_emb.tct | sed -n 7p > want.txt
tc-dump --tsv embeddings dag_sets.tct | sed -n 7p > got.txt
check term_sets_values cmp want.txt got.txt
tc-taxo texts dag_terms.tct | grep -v "clementine" | "$fromtext" hash-embed 16 > dag_emb_short.tct
expect_error term_embeddings_missing 1 "dag_emb_short.tct: no embedding of key term 'clementine' of class 'c'" \
    tc-taxo term-embeddings -t dag_terms.tct dag_emb_short.tct -o x.tct

# ---------------------------------------------------------------- targets
printf 'd1\t3\nc1\t2\ne1\t4\nae\t0,4\nnone\t\ncf\t2,5\n' > core.txt
printf 'g1\t1,3,5\ng2\t0,2,4\n' > aug.txt
expect targets 0 tc-taxo targets -t dag.tct --augmented aug.txt core.txt -o targets.tct
check targets_note grep -q "5 core documents (some without classes left out), 2 augmented documents (weight 2.5)" err
expect targets_dump 0 tc-dump --tsv doc_ids,doc_weights targets.tct
check targets_docs test "$(tr '\t\n' ':;' < out)" = "d1:1;c1:1;e1:1;ae:1;cf:1;g1:2.5;g2:2.5;"
expect targets_csr 0 tc-dump --tsv label_offsets targets.tct
check targets_offsets test "$(tr '\n' ' ' < out)" = "0 3 5 10 15 20 24 29 "
expect targets_mask 0 tc-dump --tsv mask_classes targets.tct
check targets_mask_values test "$(tr '\n' ' ' < out)" = "4 5 4 5 4 "
expect targets_augmented_weight 0 tc-taxo targets -t dag.tct --augmented aug.txt --augmented-weight 1 core.txt -o targets_w1.tct
check targets_augmented_weight_docs sh -c 'tc-dump --tsv doc_ids,doc_weights targets_w1.tct | tr "\t\n" ":;" | grep -qx "d1:1;c1:1;e1:1;ae:1;cf:1;g1:1;g2:1;"'
expect_error targets_weight_needs_augmented 2 "augmented-weight needs --augmented" \
    tc-taxo targets -t dag.tct --augmented-weight 1 core.txt
# --paths: gold sets list whole paths; their deepest classes are the core,
# so a > c > e masks nothing (without --paths a's other descendants d, f
# would be masked)
printf 'g\t0,2,4\n' > gold.txt
expect targets_paths 0 tc-taxo targets -t dag.tct --paths gold.txt -o gold_paths.tct
check targets_paths_note grep -q "2 classes above a deeper class of their set" err
check targets_paths_no_mask sh -c 'test "$(tc-dump --tsv mask_offsets gold_paths.tct | tr "\n" " ")" = "0 0 "'
check targets_paths_positives sh -c 'test "$(tc-dump --tsv label_classes gold_paths.tct | tr "\n" " ")" = "0 1 2 3 4 "'
expect targets_no_paths 0 tc-taxo targets -t dag.tct gold.txt -o gold_core.tct
check targets_no_paths_masks sh -c 'test "$(tc-dump --tsv mask_classes gold_core.tct | tr "\n" " ")" = "5 "'
"$fromtext" labels < core.txt > core.tct
expect targets_from_tct 0 tc-taxo targets -t dag.tct core.tct -o targets2.tct
expect_error targets_bad_class 1 "core_bad.txt: line 1: class id 9 is outside 0..5" \
    sh -c 'printf "x\t9\n" > core_bad.txt; tc-taxo targets -t dag.tct core_bad.txt -o x.tct'
expect_error targets_no_taxonomy 2 "--taxonomy is required" tc-taxo targets core.txt

# ---------------------------------------------------------------- the real taxonomies
for d in amazon531 dbpedia298 20ng; do
    if [ ! -f "$TC_DATA/$d/labels.txt" ]; then
        skip "real_$d" "$TC_DATA/$d not found"
        continue
    fi
    expect "real_${d}_build" 0 tc-taxo build "$TC_DATA/$d" -o "$d.tct"
    tc-taxo show --summary "$d.tct" | grep -v '^terms' > "$d.summary"
    sed -n "/^# $d\$/,/^#/p" "$golden/taxonomy_counts.txt" | grep -v '^#' > "$d.golden"
    check "real_${d}_counts_match_committed" cmp "$d.summary" "$d.golden"
    if py=$(python_with); then
        "$py" "$golden/taxonomy_counts.py" "$TC_DATA/$d" > "$d.python"
        check "real_${d}_counts_match_script" cmp "$d.summary" "$d.python"
    else
        skip "real_${d}_counts_match_script" "no python3"
    fi
    tc-taxo paths "$d.tct" > "$d.paths"
    check "real_${d}_paths_listed" test "$(wc -l < "$d.paths")" -eq "$(grep '^paths' "$d.golden" | cut -f2)"
done
if [ -f "$TC_DATA/amazon531/train/llm_enrichment.txt" ]; then
    a=$TC_DATA/amazon531/train
    expect real_terms_import 0 tc-taxo terms -t amazon531.tct "$a/llm_enrichment.txt" "$a/enrichment.txt" -o am_terms.tct
    check real_terms_count sh -c "grep -q '11778 key terms' err"
    expect real_terms_export 0 tc-taxo export-terms am_terms.tct
    check real_terms_first test "$(head -1 out | cut -d, -f1-3)" = "grocery_gourmet_food:snacks,condiments,beverages"
    check real_terms_classes test "$(wc -l < out)" -eq 531
    expect real_targets 0 tc-taxo targets -t amazon531.tct "$a/doc2labels.txt" -o am_targets.tct
    check real_targets_docs grep -q "29487 core documents, 0 augmented" err
else
    skip real_terms "$TC_DATA/amazon531/train not found"
fi
if [ -f 20ng.tct ]; then
    # names written with spaces, hyphens or capitals find their class; terms keep underscores
    printf 'computer graphics:opengl, ray tracing\nMac-Hardware:powerbook\n' > ng_terms.txt
    expect terms_loose_names 0 tc-taxo terms -t 20ng.tct ng_terms.txt -o ng_terms.tct
    expect terms_loose_export 0 tc-taxo export-terms ng_terms.tct
    check terms_loose_values sh -c 'grep -qx "computer_graphics:opengl,ray_tracing" out && grep -qx "mac_hardware:powerbook" out'
    expect texts_loose 0 tc-taxo texts ng_terms.tct
    check texts_loose_spaces sh -c 'grep -qx "c1	computer graphics" out && grep -qx "t1	ray tracing" out'
fi
# settings from --config, one nested section per command
printf 'tc-taxo:\n  build:\n    no-isolated: true\n' > config.yaml
expect_error config_section 1 "class 'c' \(2\) is in no edge of the hierarchy" tc-taxo build --config config.yaml bad_isolated -o x.tct

# ---------------------------------------------------------------- paths that multiply
# every class of a level a parent of every class of the next (tests/cli/dag_taxonomy.sh):
# 66 levels of two give 2^66 paths from 132 classes, 40 levels 2^40. Counts
# saturate instead of wrapping; what lists the paths refuses before it starts.
sh "$TC_ROOT/tests/cli/dag_taxonomy.sh" 66 2 dag66
sh "$TC_ROOT/tests/cli/dag_taxonomy.sh" 40 2 dag40
expect build_dag66 0 tc-taxo build dag66 -o dag66.tct
expect build_dag40 0 tc-taxo build dag40 -o dag40.tct
expect summary_dag66 0 tc-taxo show --summary dag66.tct
check summary_dag66_saturated grep -qx "paths	>= 9223372036854775807" out
expect summary_dag40 0 tc-taxo show --summary dag40.tct
check summary_dag40_exact grep -qx "paths	1099511627776" out
expect show_dag66 0 tc-taxo show dag66.tct
check show_dag66_each_edge_once test "$(wc -l < out)" -eq 262
sum66=$(cksum < dag66.tct)
expect_error paths_dag66 1 "^tc-taxo: dag66.tct: the taxonomy has >= 9223372036854775807 root-to-leaf paths \(>= 9223372036854775807 classes along them\); tc-taxo paths takes at most 16777216 paths and 67108864 classes along them$" \
    tc-taxo paths dag66.tct -o p66.txt
check paths_dag66_no_output test ! -e p66.txt
expect_error paths_dag40 1 "dag40.tct: the taxonomy has 1099511627776 root-to-leaf paths \(43980465111040 classes along them\)" \
    tc-taxo paths --ids dag40.tct
check paths_dag66_input_unchanged test "$(cksum < dag66.tct)" = "$sum66"
# targets never list paths: a set along one whole path, on the same DAG
printf 'd1\t0,2,4,131\nd2\t1\n' > core66.txt
expect targets_paths_dag66 0 tc-taxo targets --paths -t dag66.tct core66.txt -o t66.tct
check targets_paths_dag66_rows sh -c 'tc-dump --tsv label_offsets t66.tct | tr "\n" " " | grep -qx "0 131 132 "'

# a chain of 50000 classes is as deep as it is long: show walks it without
# recursion (on a 1 MiB stack here)
mkdir -p chain
awk 'BEGIN { for (i = 0; i < 50000; i++) { print i "\tc" i > "chain/labels.txt"; if (i) print i - 1 "\t" i > "chain/label_hierarchy.txt" } }'
expect build_chain 0 tc-taxo build chain -o chain.tct
expect show_chain 0 sh -c 'ulimit -s 1024 && tc-taxo show chain.tct'
check show_chain_deepest grep -q "^ *c49999 \[49999\]  depth 50000  terms 0$" out

# ---------------------------------------------------------------- control characters and NUL bytes
# a name or key term with a control character (here an escape sequence that
# sets the terminal's title, or a tab) is refused with its line, shown
# escaped; a NUL byte, which would cut a line short, is refused with its line
esc=$(printf '\033')
bad esc_name '0\ta\n1\tb\033]0;x\007\n' '' "labels.txt: line 2: the class name 'b\\\\x1b]0;x\\\\x07' has a control character \(\\\\x1b\) in it"
check esc_name_not_raw sh -c "! grep -q '$esc' err"
bad tab_name '0\ta\n1\tb\tx\n' '' "labels.txt: line 2: the class name 'b\\\\tx' has a control character \(\\\\t\) in it"
bad nul_name '0\ta\n1\tb\000x\n' '' "labels.txt: line 2: a NUL byte \(byte 4 of the line\); text files hold none"
bad nul_edge '0\ta\n1\tb\n' '0\t1\000 junk\n' "label_hierarchy.txt: line 1: a NUL byte \(byte 4 of the line\)"
badyaml esc 'a:\n  - "b\\e]0;x\\a"\n' "esc.yaml: line 2: the class name 'b\\\\x1b]0;x\\\\x07' has a control character \(\\\\x1b\) in it"
badyaml tab 'a:\n  - "b\\tx"\n' "tab.yaml: line 2: the class name 'b\\\\tx' has a control character \(\\\\t\) in it"
printf 'a:apple,bad\033[2J\n' > terms_esc.txt
expect_error terms_esc 1 "terms_esc.txt: line 1: key term 'bad\\\\x1b\[2J' has a control character in it" \
    tc-taxo terms -t dag.tct terms_esc.txt -o x.tct
printf 'a:apple\000,dropped\n' > terms_nul.txt
expect_error terms_nul 1 "terms_nul.txt: line 1: a NUL byte \(byte 8 of the line\)" tc-taxo terms -t dag.tct terms_nul.txt -o x.tct
check terms_no_output test ! -e x.tct
printf 'x\t0\ny\000z\t3\n' > docs_nul.txt
sum=$(cksum < docs_nul.txt)
expect_error counts_nul 1 "docs_nul.txt: line 2: a NUL byte \(byte 2 of the line\)" tc-taxo show --counts docs_nul.txt dag.tct
expect_error targets_nul 1 "docs_nul.txt: line 2: a NUL byte" tc-taxo targets -t dag.tct docs_nul.txt -o x.tct
check nul_input_unchanged test "$(cksum < docs_nul.txt)" = "$sum"
