# tc-augment without a model: import of TELEClass's generated documents
# (the real Amazon-531 and DBPedia-298 files), the built-in source on the
# hand-built refinement case of test_refine.sh (worked out below), and
# usage and input errors.
. "$TC_ROOT/tests/cli/lib.sh"
FX="$TC_HELPERS/refine-fixture"
H="$TC_ROOT/tests/cli/refine"

# ---------------------------------------------------------------- import
for set in amazon531:2555:511 dbpedia298:1095:219; do
    ds=${set%%:*} rest=${set#*:}
    count=${rest%%:*} paths=${rest#*:}
    dir="$TC_DATA/$ds"
    if [ ! -f "$dir/train/generated_docs.txt" ]; then
        skip "import_$ds" "$dir/train/generated_docs.txt is missing"
        continue
    fi
    tc-taxo build "$dir" -o "$ds.tct" 2> /dev/null
    expect "import_$ds" 0 tc-augment -t "$ds.tct" --import "$dir/train" --docs-out "$ds.txt" -o "$ds.gen.tct"
    check "import_${ds}_count_$count" test "$(wc -l < "$ds.txt")" -eq "$count"
    check "import_${ds}_note" grep -q "imported $count documents" "$T/err"
    check "import_${ds}_no_warnings" sh -c "! grep -q warning '$T/err'"
    "$FX" show-labels "$ds.gen.tct" > "$ds.labels"
    check "import_${ds}_labels_$count" test "$(wc -l < "$ds.labels")" -eq "$count"
    # ids keep TELEClass's with the prefix; every label set is the JSON's path
    # with its core class marked last; each path has 5 documents
    check "import_${ds}_matches_json" "${PYTHON:-python3}" -c "
import json, sys
labels = json.load(open('$dir/train/generated_doc2label.json'))
texts = dict(l.rstrip('\n').split('\t', 1) for l in open('$dir/train/generated_docs.txt', encoding='utf-8'))
ours = [l.rstrip('\n').split('\t') for l in open('$ds.labels')]
docs = dict(l.rstrip('\n').split('\t', 1) for l in open('$ds.txt', encoding='utf-8'))
assert len(ours) == len(labels)
for doc_id, classes, scores, core in ours:
    want = labels[doc_id[len('aug:'):]]
    assert classes.split(',') == want['with ancestors'], doc_id
    flagged = [c for c, k in zip(classes.split(','), core.split(',')) if k == '1']
    assert flagged == [want['core_classes']], doc_id
    assert docs[doc_id] == ' '.join(texts[doc_id[len('aug:'):]].split()), doc_id
paths = {}
for v in labels.values():
    paths[tuple(v['with ancestors'])] = paths.get(tuple(v['with ancestors']), 0) + 1
assert len(paths) == $paths and set(paths.values()) == {5}, (len(paths), set(paths.values()))
"
done

# ---------------------------------------------------------------- built-in source
# The refined labels of test_refine.sh's hand case: d1 dogs,trees,animals;
# d2 trees,dogs,animals; d4 trees,animals; d5 plants,cats (d3 dropped).
# Paths: 0 animals>dogs>poodles, 1 animals>cats, 2 plants>trees,
# 3 plants>flowers. Leaf cats: d5. Leaf trees: d4 (similarity 1), d2 (.96),
# d1 (.6); with 5 per path, one composed document fills in: sentences of
# d4 then d2 until the average length (3 words) is reached. Other
# compositions repeat a selected text and are skipped. No document for
# poodles or flowers.
"$FX" taxonomy "$H/labels.txt" "$H/label_hierarchy.txt" "$H/keyterms.txt" > taxo.tct
"$FX" embeddings "$H/refine_embeddings.txt" > remb.tct
"$FX" labels "$H/refine_annotation.txt" > rann.tct
tc-refine refine --gpus none --taxonomy taxo.tct --annotation rann.tct --corpus "$H/refine_corpus.txt" remb.tct -o refined.tct 2> /dev/null
expect corpus_source 0 tc-augment -t taxo.tct --from-corpus "$H/refine_corpus.txt" --refined refined.tct \
    --docs-out own.txt --report own.tsv -o own.tct
printf 'aug:1-0\ta leaf falls\naug:2-0\toak leaf\naug:2-1\tmy pet can bark\naug:2-2\ta dog will bark\naug:2-3\toak leaf my pet can bark\n' > own_want.txt
check corpus_source_texts cmp own.txt own_want.txt
"$FX" show-labels own.tct > own.labels
printf 'aug:1-0\t0,3\t\t0,1\naug:2-0\t1,4\t\t0,1\naug:2-1\t1,4\t\t0,1\naug:2-2\t1,4\t\t0,1\naug:2-3\t1,4\t\t0,1\n' > own_labels_want.txt
check corpus_source_labels cmp own.labels own_labels_want.txt
check corpus_source_summary grep -q "5 documents for 4 paths from refined.tct: 0 complete, 2 short of 5, 2 without a confident document" "$T/err"
check corpus_source_report grep -q "^2	plants > trees	3	3	1	d4,d2,d1$" own.tsv
# the same inputs give the same bytes
tc-augment -t taxo.tct --from-corpus "$H/refine_corpus.txt" --refined refined.tct --docs-out own2.txt -o own2.tct 2> /dev/null
"$FX" show-labels own2.tct > own2.labels
check corpus_source_deterministic sh -c "cmp -s own.txt own2.txt && cmp -s own.labels own2.labels"
expect corpus_source_no_compose 0 tc-augment -t taxo.tct --from-corpus "$H/refine_corpus.txt" --refined refined.tct --no-compose --docs-per-path 2 \
    --id-prefix gen- --docs-out own3.txt -o own3.tct
check corpus_source_two_per_path sh -c "cut -f1 own3.txt | tr '\n' ' ' | grep -qx 'gen-1-0 gen-2-0 gen-2-1 '"

# ---------------------------------------------------------------- errors
expect help 0 tc-augment --help
# 2^40 root-to-leaf paths from 80 classes (tests/cli/dag_taxonomy.sh): refused
# before anything is allocated or asked for them, naming the file, the count and the cap
sh "$TC_ROOT/tests/cli/dag_taxonomy.sh" 40 2 dag40
tc-taxo build -q dag40 -o dag40.tct || fail setup "tc-taxo build dag40 failed"
sum=$(cksum < dag40.tct)
expect_error paths_multiplying 1 "^tc-augment: dag40.tct: the taxonomy has 1099511627776 root-to-leaf paths \(43980465111040 classes along them\); path-based augmentation takes at most 16777216 paths and 67108864 classes along them$" \
    tc-augment -t dag40.tct --docs-out dag40.txt --llm http://127.0.0.1:9/v1 -o dag40_aug.tct
check paths_multiplying_no_output test ! -e dag40.txt -a ! -e dag40_aug.tct
check paths_multiplying_input_unchanged test "$(cksum < dag40.tct)" = "$sum"
expect_error no_source 2 "name one source" tc-augment -t taxo.tct --docs-out x.txt
expect_error two_sources 2 "name one source" tc-augment -t taxo.tct --docs-out x.txt --import . --from-corpus "$H/refine_corpus.txt"
expect_error needs_docs_out 2 "--docs-out FILE is required" tc-augment -t taxo.tct --import .
expect_error needs_refined 2 "needs --refined" tc-augment -t taxo.tct --docs-out x.txt --from-corpus "$H/refine_corpus.txt"
expect_error too_many_per_path 2 "--docs-per-path" tc-augment -t taxo.tct --docs-out x.txt --import . --docs-per-path 65
expect_error bad_template 2 "unknown style 'poem'" tc-augment -t taxo.tct --docs-out x.txt --llm http://127.0.0.1:9/v1 --template poem
expect_error missing_import 1 "generated_doc2label.json" tc-augment -t taxo.tct --docs-out x.txt --import nowhere -o x.tct
check missing_import_no_outputs sh -c "test ! -e x.txt && test ! -e x.tct"
mkdir -p bad && printf '0\tsome text\n' > bad/generated_docs.txt
printf '{"0": {"core_classes": "9", "with ancestors": ["0", "9"]}}' > bad/generated_doc2label.json
expect_error import_bad_class 1 "holds 9, which is not a class id \\(0..6\\)" tc-augment -t taxo.tct --docs-out x.txt --import bad
printf '{"0": [1, 2' > bad/generated_doc2label.json
expect_error import_bad_json 1 "generated_doc2label.json: line 1" tc-augment -t taxo.tct --docs-out x.txt --import bad
printf 'aug:7\tcollides\n' > colliding.txt
expect_error prefix_collision 1 "document 'aug:7' starts with the id prefix 'aug:'" tc-augment -t taxo.tct --docs-out x.txt --import bad --corpus colliding.txt
