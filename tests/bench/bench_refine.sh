#!/bin/sh
# The similarity step of tc-refine, documents per second, side by side with
# numpy doing the same on the same shapes: the per-class maximum of cosines
# with the embedded names and key terms (annotate), and the top 4 of the
# cosines with the class embeddings (refine). On the CPU (OpenBLAS, all
# threads, and every --precision oneDNN has here: int8, bf16) and, where
# there is one, the GPUs (cuBLAS, every visible GPU).
#
# Shapes: D = 384 (all-MiniLM-L6-v2); annotate: 531 classes (Amazon-531)
# with 21 embedded strings each (name + 20 key terms), refine: 531 classes.
#
# usage: tests/bench/bench_refine.sh [DOCS]      (default 100000)
# environment: THREADS=N (default: every core)
set -eu
cd "$(dirname "$0")/../.."
n=${1:-100000}
d=384 classes=531 rows=$((531 * 21)) k=4 batch=4096
threads=${THREADS:-$(nproc)}
[ "$threads" = 1 ] && tn="1 thread" || tn="$threads threads"
make -s tests > /dev/null
bench=$(ls build/opt-*/tests/helpers/similarity-bench | head -n 1)
py=python3
[ -x build/venv/bin/python3 ] && build/venv/bin/python3 -c "import numpy" 2> /dev/null && py=build/venv/bin/python3

echo "similarity step, $n documents, D=$d; annotate: $rows term rows in $classes classes; refine: top $k of $classes"
printf '%-34s %16s %16s\n' "" "annotate docs/s" "refine docs/s"
line() { printf '%-34s %16s %16s\n' "$1" "$2" "$3"; }
set -- $("$bench" "$n" "$rows" "$d" "$classes" "$k" none "$threads" "$batch")
line "tc-refine CPU fp32 ($tn)" "$2" "$4"
for p in int8 bf16; do
    if out=$("$bench" "$n" "$rows" "$d" "$classes" "$k" none "$threads" "$batch" $p 2>&1); then
        set -- $out
        line "tc-refine CPU $p ($tn)" "$2" "$4"
    else
        echo "tc-refine CPU $p: skipped (${out#similarity-bench: })"
    fi
done
if "$py" -c "import numpy" 2> /dev/null; then
    set -- $(OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$py" tests/bench/similarity_numpy.py "$n" "$rows" "$d" "$classes" "$k" "$batch")
    line "numpy $($py -c 'import numpy; print(numpy.__version__)') ($tn)" "$2" "$4"
else
    echo "numpy: skipped ($py has no numpy; make deps)"
fi
if [ -x bin/tc-refine ] && nvidia-smi -L > /dev/null 2>&1; then
    gpus=$(nvidia-smi -L | wc -l)
    list=$(seq -s, 0 $((gpus - 1)))
    set -- $("$bench" "$n" "$rows" "$d" "$classes" "$k" 0 "$threads" "$batch")
    line "tc-refine GPU 0" "$2" "$4"
    if [ "$gpus" -gt 1 ]; then
        set -- $("$bench" "$n" "$rows" "$d" "$classes" "$k" "$list" "$threads" "$batch")
        line "tc-refine GPUs $list" "$2" "$4"
    fi
else
    echo "(no GPU here: GPU rows skipped)"
fi
