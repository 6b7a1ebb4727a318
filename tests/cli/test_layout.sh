# The source tree's layering (tests/layout.sh): no two folders include each
# other, every folder of common/ has a README; and the check itself fails on
# a cycle and on a missing README, in a copy of the tree.
. "$TC_ROOT/tests/cli/lib.sh"
layout=$TC_ROOT/tests/layout.sh

run sh "$layout" "$TC_ROOT"
if [ $status -eq 0 ] && grep -q '^layout: no cycle; lowest first: ' "$T/out"; then pass layout_no_cycle
else fail layout_no_cycle "$(cat "$T/out" "$T/err" | head -c 400 | tr '\n' ' ')"; fi
check layout_tools_on_top sh -c "tail -n 1 '$T/out' | grep -q ' tools\$'"

# A copy of the tree's sources with one include turned back up: embeddings
# (below refine) including refine closes a cycle.
mkdir -p copy
(cd "$TC_ROOT" && tar cf - common formats kernels tools) | (cd copy && tar xf -)
check layout_copy_clean sh "$layout" copy
printf '#include "common/refine/refine.h"\n' >> copy/common/embeddings/similarity.h
run sh "$layout" copy
if [ $status -ne 0 ] && grep -Eq 'include each other: .*common/embeddings -> .*common/refine' "$T/out"; then
    pass layout_cycle_found
else fail layout_cycle_found "exit $status: $(head -c 300 "$T/out")"; fi

# Two folders that include each other directly.
sed -i '$d' copy/common/embeddings/similarity.h
check layout_copy_restored sh "$layout" copy
printf '#include "common/predict/metrics.h"\n' >> copy/common/taxonomy/taxonomy.h
run sh "$layout" copy
if [ $status -ne 0 ] && grep -q 'common/taxonomy' "$T/out" && grep -q 'common/predict' "$T/out"; then
    pass layout_pair_cycle_found
else fail layout_pair_cycle_found "exit $status: $(head -c 300 "$T/out")"; fi
sed -i '$d' copy/common/taxonomy/taxonomy.h

rm copy/common/llm/README.md
run sh "$layout" copy
if [ $status -ne 0 ] && grep -q 'common/llm has no README.md' "$T/out"; then pass layout_readme_missing
else fail layout_readme_missing "exit $status: $(head -c 300 "$T/out")"; fi
