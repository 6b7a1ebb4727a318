# Sourced by tests/gpu/device-check.sh: its steps, each bounded in time.
# Set by the caller: KIT_ROOT, BUNDLE_DIR, OUTDIR, SUMMARY, WORK, PYTHON,
# KIT_DEADLINE. The programs the steps run: $KBIN, the tests: $KTEST.

PEER_SCRIPTS="tests/bench/bench_encode_st.py:numpy,torch,sentence_transformers
tests/bench/bench_train_gpu_torch.py:numpy,torch,transformers
tests/bench/bench_predict_torch.py:numpy,torch,safetensors,transformers
tests/bench/make_random_bert.py:torch,transformers
tests/gpu/device_data.py:"
BENCH_SCRIPTS="tests/bench/bench_encode.sh tests/bench/bench_train_gpu.sh tests/bench/bench_predict.sh"

# report_tests LOG PREFIX: one summary line per test of a tests/run.sh log
# (a kernel test binary or a CLI script; a name that is both is the binary
# first, as run.sh runs them).
report_tests() {
    binaries=$(ls "$KTEST" 2> /dev/null | grep '^test_gpu_' | tr '\n' ' ')
    awk -v bins=" $binaries" -v prefix="$2" '
        function flush() {
            if (name == "") return
            status = f > 0 ? "FAIL" : (p == 0 ? "SKIP" : "PASS")
            detail = p " passed, " s " skipped (" t ")"
            if (f > 0) detail = f " failed: " first
            else if (p == 0 && skipreason != "") detail = skipreason
            printf "%s\t%s\t%s\n", status, name, detail
            name = ""
        }
        /^gpu\/[^ ]+ +[0-9]+ passed/ {
            flush()
            n = substr($1, 5)
            kind = (index(bins, " " n " ") && !(n in seen)) ? "kernels/" : "cli/"
            seen[n] = 1
            name = prefix kind n; p = $2; f = $4; s = $6; t = $8; gsub(/[()]/, "", t)
            first = ""; skipreason = ""
            next
        }
        /^    \| FAIL / && first == "" { first = substr($0, 12, 200) }
        /^    SKIP / && skipreason == "" { skipreason = substr($0, 10, 200) }
        END { flush() }' "$1" > "$WORK/report.lines"
    # a test the time bound kept from running is a failure, not a silence
    for t in $binaries; do grep -q "	${2}kernels/$t	" "$WORK/report.lines" || printf 'FAIL\t%skernels/%s\tnot run: %s\n' "$2" "$t" "$(tail -n 1 "$1")" >> "$WORK/report.lines"; done
    for t in "$KIT_ROOT"/tests/gpu/test_*.sh; do
        t=$(basename "$t" .sh)
        grep -q "	${2}cli/$t	" "$WORK/report.lines" || printf 'FAIL\t%scli/%s\tnot run: %s\n' "$2" "$t" "$(tail -n 1 "$1")" >> "$WORK/report.lines"
    done
    while IFS="$(printf '\t')" read -r st nm dt; do summary "$st" "$nm" "$dt"; done < "$WORK/report.lines"
    rm -f "$WORK/report.lines"
}

# run_gpu_tests LOG SECONDS ENV...: tests/run.sh gpu on $KBIN/$KTEST.
run_gpu_tests() {
    log=$1 seconds=$2
    shift 2
    env TC_BIN="$KBIN" TC_TESTBIN="$KTEST" TC_BUILD="$WORK" TC_SANITIZE="${TC_SANITIZE:-0}" TC_HAVE_CUDA=1 PYTHON="$PYTHON" \
        TC_TEST_TIMEOUT=150 "$@" timeout "$seconds" sh "$KIT_ROOT/tests/run.sh" gpu > "$log" 2>&1
    [ $? -eq 124 ] && echo "tests/run.sh gpu: stopped after ${seconds}s" >> "$log"
}

# ------------------------------------------------------------ on the GPU

step_env() {
    if ! nvidia-smi -L > /dev/null 2>&1; then
        summary FAIL gpu "nvidia-smi finds no GPU: $(nvidia-smi -L 2>&1 | head -n 1)"
        return 1
    fi
    line=$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader | head -n 1)
    GPU_NAME=$(echo "$line" | cut -d, -f1)
    CAP=$(echo "$line" | cut -d, -f2 | tr -d ' .')
    {
        nvidia-smi
        echo "--- nvcc"; nvcc --version 2>&1 | tail -n 2
        echo "--- python"; $PYTHON -c 'import sys, torch, transformers, sentence_transformers as st
print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "sentence-transformers", st.__version__)' 2>&1 | tail -n 1
        echo "--- compute-sanitizer"; compute-sanitizer --version 2>&1 | tail -n 1
        echo "--- host"; uname -srm; ldd --version 2>&1 | head -n 1; nproc
        grep -m1 'model name' /proc/cpuinfo; grep -m1 -o 'avx2\|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
        echo "--- bundle"; cat "$BUNDLE_DIR/MANIFEST" 2> /dev/null || echo "none carried"
    } > "$OUTDIR/env.txt" 2>&1
    summary PASS gpu "$line"
}

# The binaries: the carried ones when they hold code for this GPU, else a
# build here for it (which needs the libraries' headers).
step_binaries() {
    KBIN="" KTEST=""
    if [ -f "$BUNDLE_DIR/bundle.tar.gz" ] && unpack_bundle "$BUNDLE_DIR" "$WORK/b"; then
        KBIN=$WORK/b/bin KTEST=$WORK/b/tests
        archs=$(cuobjdump --list-elf "$KTEST/test_gpu_smoke" 2> /dev/null | grep -o 'sm_[0-9]*a*' | sort -u | tr '\n' ' ')
        [ -n "$archs" ] || archs=$(sed -n 's/^cubin //p' "$BUNDLE_DIR/MANIFEST")
        if echo "$archs" | grep -qw "sm_$CAP"; then
            summary PASS binaries "carried, GPU code for $(echo $archs) (this GPU: sm_$CAP); $(grep '^commit' "$BUNDLE_DIR/MANIFEST")"
            return 0
        fi
    fi
    echo "building for sm_$CAP" >> "$OUTDIR/setup.log"
    if timeout "$(budget 240)" make -C "$KIT_ROOT" -j"$(nproc)" BUILD="$WORK/build" CUDA=1 CUDA_ARCHS="$CAP" programs tests \
        >> "$OUTDIR/setup.log" 2>&1; then
        KBIN=$WORK/build/bin KTEST=$WORK/build/tests
        summary PASS binaries "built here for sm_$CAP"
    elif [ -n "$KBIN" ]; then
        summary SKIP binaries "no build for sm_$CAP here (setup.log); the carried PTX runs, compiled at load"
    else
        summary FAIL binaries "no bundle carried (build/device-bundle) and no build here: see setup.log"
        return 1
    fi
}

# The libraries the carried binaries need and this machine lacks, from the
# bundle; python keeps the machine's own.
step_libraries() {
    export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    link_missing_libs "$(dirname "$KBIN")" "$WORK/lib" "$(cuda_lib_dirs)"
    missing=$(for f in "$KBIN"/* "$KTEST"/test_gpu_* "$KTEST"/helpers/* $(ls "$WORK"/b/mpi/bin/* 2> /dev/null); do ldd "$f" 2>&1; done |
        grep 'not found' | sort -u | head -n 5 | tr '\n' ' ')
    if [ -n "$missing" ]; then
        summary FAIL libraries "$missing"
        return 1
    fi
    "$KBIN/tc-dump" --version > "$WORK/version.txt" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        summary FAIL libraries "tc-dump --version: exit $status $( [ $status -eq 132 ] && echo '(illegal instruction: the CPU lacks x86-64-v3)') $(head -c 200 "$WORK/version.txt")"
        return 1
    fi
    # the carried Open MPI for tc-train's one-rank run, unless the machine has its own
    if [ -x "$WORK/b/mpi/bin/mpirun" ] && ! mpirun --version 2>&1 | grep -q 'Open MPI.* 4\.'; then
        mpi_env "$WORK/b"
    fi
    summary PASS libraries "$(ls "$WORK/lib" | wc -l) this machine lacks, taken from the bundle or CUDA's folders: $(ls "$WORK/lib" | tr '\n' ' ')"
}

# A random-weight model of all-MiniLM-L6-v2's shape, with its tokenizer
# and sentence-transformers files (mean pooling, normalized).
step_models() {
    m=$WORK/models/minilm
    if [ ! -f "$WORK/b/model/vocab.txt" ]; then
        summary FAIL models "the bundle carries no model files (vocab.txt): make model, then --bundle"
        return 1
    fi
    start=$(date +%s)
    if ! timeout "$(budget 90)" $PYTHON "$KIT_ROOT/tests/bench/make_random_bert.py" "$m" "$WORK/b/model" 384 6 12 1536 \
        >> "$OUTDIR/setup.log" 2>&1; then
        summary FAIL models "make_random_bert.py failed: see setup.log"
        return 1
    fi
    (cd "$WORK/b/model" && find . -type f ! -path ./config.json | tar -cf - -T -) | tar -C "$m" -xf -
    summary PASS models "random all-MiniLM-L6-v2 shape (384 x 6 layers) in $(($(date +%s) - start)) s"
}

step_tests() {
    mpi=0
    mpirun --version 2>&1 | grep -q 'Open MPI.* 4\.' && mpi=1
    run_gpu_tests "$OUTDIR/tests.log" "$(budget 240)" TC_HAVE_MPI=$mpi TC_GPU_MODEL="$WORK/models/minilm"
    report_tests "$OUTDIR/tests.log" ""
}

# compute-sanitizer's memcheck, racecheck and synccheck over every kernel
# test, all side by side (each run bounded).
step_sanitizer() {
    if ! command -v compute-sanitizer > /dev/null 2>&1; then
        summary SKIP sanitizer "compute-sanitizer is not on the PATH"
        return 0
    fi
    seconds=$(budget 220)
    for tool in memcheck racecheck synccheck; do
        for t in "$KTEST"/test_gpu_*; do
            (
                log=$WORK/san.$tool.$(basename "$t")
                timeout "$seconds" compute-sanitizer --tool "$tool" --error-exitcode 99 --print-limit 10 "$t" > "$log" 2>&1
                echo $? > "$log.rc"
            ) &
        done
    done
    wait
    : > "$OUTDIR/sanitizer.log"
    for tool in memcheck racecheck synccheck; do
        clean="" bad="" slow=""
        for t in "$KTEST"/test_gpu_*; do
            name=$(basename "$t") log=$WORK/san.$tool.$(basename "$t")
            rc=$(cat "$log.rc" 2> /dev/null || echo 1)
            { echo "=== $tool $name: exit $rc"; tail -n 40 "$log"; } >> "$OUTDIR/sanitizer.log"
            case $rc in
            0) clean="$clean $name" ;;
            124) slow="$slow $name" ;;
            99) bad="$bad $name($(grep -m1 -o 'ERROR SUMMARY: [0-9]* error' "$log" | grep -o '[0-9]*' || echo '?') errors)" ;;
            *) bad="$bad $name(exit $rc)" ;;
            esac
        done
        if [ -n "$bad" ]; then summary FAIL "sanitizer/$tool" "errors in:$bad${slow:+; not finished in ${seconds}s:$slow}"
        elif [ -n "$slow" ]; then summary SKIP "sanitizer/$tool" "clean:$clean; not finished in ${seconds}s:$slow"
        else summary PASS "sanitizer/$tool" "clean:$clean"; fi
    done
}

# bench NAME SECONDS SCRIPT MODE ENV...: one benchmark script (MODE its
# argument, "" for none), its output in bench.log.
bench() {
    name=$1 seconds=$2 script=$3 mode=$4
    shift 4
    echo "=== $name: $* $script $mode" >> "$OUTDIR/bench.log"
    env TC_BIN="$KBIN" TC_HELPERS="$KTEST/helpers" PYTHON="$PYTHON" "$@" timeout "$seconds" sh "$KIT_ROOT/$script" $mode \
        > "$WORK/bench.$name" 2>&1
    status=$?
    cat "$WORK/bench.$name" >> "$OUTDIR/bench.log"
    [ $status -eq 0 ] && return 0
    summary FAIL "bench/$name" "exit $status$( [ $status -eq 124 ] && echo ": not done in ${seconds}s"): $(tail -n 1 "$WORK/bench.$name" | head -c 200)"
    return 1
}

# The figures against the goals: tc-encode >= 2x sentence-transformers fp16
# docs/s; tc-train >= 1.5x transformers + AMP tokens/s at no more memory.
step_bench() {
    m=$WORK/models/minilm data=$WORK/data/20ng
    $PYTHON "$KIT_ROOT/tests/gpu/device_data.py" "$WORK/b/model/vocab.txt" "$data" 2000 ||
        { summary FAIL bench "device_data.py failed"; return 1; }
    for p in fp16 bf16; do
        enough 40 "bench/encode_$p" || continue
        bench "encode_$p" "$(budget 80)" tests/bench/bench_encode.sh gpu MODEL="$m" CORPUS="$data/test/corpus.txt" \
            N=2000 REPEAT=2 PRECISION=$p || continue
        out=$WORK/bench.encode_$p
        ratio=$(sed -n 's/^tc-encode vs encode(): \([0-9.]*\)x.*/\1/p' "$out")
        tc=$(awk '$1 == "tc-encode" && $2 ~ /^[0-9.]+$/ { print $3 }' "$out")
        st=$(awk '$1 == "sentence-transformers" && $2 == "encode" { print $4 }' "$out")
        figures="tc-encode $tc docs/s, sentence-transformers $st docs/s: ${ratio}x; $(grep -m1 '% of the' "$out"); $(grep -m1 '^parity' "$out")"
        if [ "$p" = fp16 ] && awk -v r="${ratio:-0}" 'BEGIN { exit !(r < 2) }'; then
            summary FAIL "bench/encode_$p" "goal 2x missed: $figures"
        else
            summary PASS "bench/encode_$p" "$figures"
        fi
    done
    if enough 60 bench/train && bench train "$(budget 150)" tests/bench/bench_train_gpu.sh "" MINILM="$m" STEPS=30 WARMUP=10 TC_DATA="$WORK/data"; then
        # model tc torch ratio tcMiB torchMiB tcTF (share) torchTF (share)
        awk '$1 == "minilm" || $1 == "bert-base"' "$WORK/bench.train" | while read -r model tc torch ratio tcm torchm rest; do
            figures="tokens/s $tc vs $torch (${ratio}x), peak MiB $tcm vs $torchm, TFLOP/s tc torch: $rest"
            if awk -v r="$ratio" -v a="$tcm" -v b="$torchm" 'BEGIN { exit !(r >= 1.5 && a <= b) }'; then
                summary PASS "bench/train_$model" "$figures"
            else
                summary FAIL "bench/train_$model" "goal 1.5x at no more memory missed: $figures"
            fi
        done
    fi
    if enough 40 bench/predict && bench predict "$(budget 90)" tests/bench/bench_predict.sh gpu MODEL="$m" DATA="$data" N=2000 REPEAT=2; then
        out=$WORK/bench.predict
        tc=$(awk '$1 == "tc-predict" { print $(NF - 2) " docs/s (" $NF ")" }' "$out")
        peer=$(awk '$1 == "transformers" { print $(NF - 2) }' "$out")
        summary PASS bench/predict "tc-predict $tc vs transformers + head $peer docs/s; $(grep -m1 '^parity' "$out")"
    fi
}

device_run() {
    step_env || return 0
    step_binaries || return 0
    step_libraries || return 0
    step_models
    # correctness does not need the GPU alone: the tests and the sanitizer
    # share it; the benchmarks come after, with the GPU to themselves
    step_tests &
    step_sanitizer &
    wait
    step_bench
    summary_tail
}

summary_tail() {
    echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - KIT_START)) s; logs in $OUTDIR" >> "$SUMMARY"
}

# ------------------------------------------------------------ --dry-run (no GPU)

dry_presence() {
    src_bin=$1 src_tests=$2 missing=""
    for p in $KIT_PROGRAMS; do [ -x "$src_bin/$p" ] || missing="$missing $p"; done
    for h in $KIT_HELPERS; do [ -x "$src_tests/helpers/$h" ] || missing="$missing helpers/$h"; done
    for c in "$KIT_ROOT"/tests/gpu/test_*.c; do
        [ -x "$src_tests/$(basename "$c" .c)" ] || missing="$missing $(basename "$c" .c)"
    done
    for s in $BENCH_SCRIPTS tests/gpu/device_lib.sh tests/gpu/device_steps.sh tests/gpu/gpu_lib.sh; do
        [ -f "$KIT_ROOT/$s" ] || missing="$missing $s"
    done
    for s in $PEER_SCRIPTS; do [ -f "$KIT_ROOT/${s%%:*}" ] || missing="$missing ${s%%:*}"; done
    if [ -n "$missing" ]; then
        summary FAIL presence "missing:$missing (build with CUDA: make all tests)"
        return 1
    fi
    summary PASS presence "$(echo $KIT_PROGRAMS | wc -w) programs, $(echo $KIT_HELPERS | wc -w) helpers, $(ls "$KIT_ROOT"/tests/gpu/test_*.c | wc -l) kernel tests, $(ls "$KIT_ROOT"/tests/gpu/test_*.sh | wc -l) CLI tests, every script, in $src_bin"
}

dry_sizes() {
    tree=$(tree_bytes "$KIT_ROOT")
    bundle=$(du -cb "$WORK/bundle"/* | tail -n 1 | cut -f1)
    limit=$((KIT_LIMIT_MIB * 1048576))
    echo "sizes: git tree $(mib "$tree") MiB; bundle packed from this build $(mib "$bundle") MiB (gzip -1)"
    carried=$bundle what="this build's bundle"
    if [ -f "$BUNDLE_DIR/bundle.tar.gz" ]; then
        carried=$(du -cb "$BUNDLE_DIR"/* | tail -n 1 | cut -f1) what="build/device-bundle"
        echo "sizes: build/device-bundle (to carry) $(mib "$carried") MiB: $(grep -E '^(commit|cubin|glibc)' "$BUNDLE_DIR/MANIFEST" | tr '\n' ' ')"
    fi
    total=$((tree + carried))
    if [ "$total" -le "$limit" ]; then
        summary PASS sizes "tree $(mib "$tree") + $what $(mib "$carried") = $(mib "$total") MiB of $KIT_LIMIT_MIB"
    else
        summary FAIL sizes "tree $(mib "$tree") + $what $(mib "$carried") = $(mib "$total") MiB, over $KIT_LIMIT_MIB"
    fi
}

# The unpacked bundle alone (LD_LIBRARY_PATH its lib/ and CUDA's) resolves
# every library outside the C library and CUDA, and its programs start.
dry_bundle_self_contained() {
    b=$WORK/b
    unpack_bundle "$WORK/bundle" "$b" || { summary FAIL bundle "cannot unpack"; return 1; }
    outside=$(for f in "$b"/bin/* "$b"/tests/test_gpu_* "$b"/tests/helpers/*; do
        LD_LIBRARY_PATH="$b/lib:$(cuda_lib_dirs)" ldd "$f"; done |
        awk '$2 == "=>" { print $1, $3 }' | grep -Ev "$KIT_NOT_CARRIED" | grep -v " $b/lib/" | sort -u | tr '\n' ' ')
    if [ -n "$outside" ]; then
        summary FAIL bundle "libraries not carried: $outside"
        return 1
    fi
    if ! LD_LIBRARY_PATH="$b/lib:$(cuda_lib_dirs)" "$b/bin/tc-dump" --version > /dev/null 2>&1; then
        summary FAIL bundle "the carried tc-dump does not start"
        return 1
    fi
    if [ -x "$b/mpi/bin/mpirun" ]; then
        root_flags=""
        [ "$(id -u)" = 0 ] && root_flags="--allow-run-as-root"
        if (mpi_env "$b" && LD_LIBRARY_PATH="$b/lib" mpirun $root_flags -np 1 "$b/bin/tc-dump" --version) > "$WORK/mpi.out" 2>&1; then
            summary PASS bundle/mpi "the carried mpirun, relocated, runs one rank"
        else
            summary FAIL bundle/mpi "the carried mpirun fails: $(head -c 300 "$WORK/mpi.out" | tr '\n' ' ')"
        fi
    else
        summary SKIP bundle/mpi "no Open MPI 4 here: tc-train's one-rank check runs only where the GPU machine has mpirun"
    fi
    summary PASS bundle "$(ls "$b/lib" | wc -l) libraries carried, the rest is libc and CUDA; $(grep -E '^(cubin|ptx|glibc)' "$WORK/bundle/MANIFEST" | tr '\n' ';')"
    if [ -f "$b/model/vocab.txt" ]; then
        summary PASS bundle/model "tokenizer and sentence-transformers files: $(ls "$b/model" | tr '\n' ' ')"
    else
        summary SKIP bundle/model "models/all-MiniLM-L6-v2 is not here (make model): a bundle made now would carry no tokenizer"
    fi
}

# The CLI comparisons of tests/gpu with the CPU standing in for the GPU, on
# the bundle's programs: the harness, its tolerances and its parsing.
dry_standin() {
    KBIN=$WORK/b/bin KTEST=$WORK/standin-tests
    mkdir -p "$KTEST" && ln -s "$WORK/b/tests/helpers" "$KTEST/helpers"
    mpi=0
    [ -x "$WORK/b/mpi/bin/mpirun" ] && mpi=1
    (
        [ $mpi = 1 ] && mpi_env "$WORK/b"
        LD_LIBRARY_PATH="$WORK/b/lib:$(cuda_lib_dirs)" run_gpu_tests "$OUTDIR/tests.log" "$(budget 120)" \
            TC_HAVE_MPI=$mpi TC_GPU_STANDIN=cpu TC_GPU_MODEL="$KIT_ROOT/models/all-MiniLM-L6-v2"
    )
    report_tests "$OUTDIR/tests.log" "standin/"
}

dry_peers() {
    for s in $PEER_SCRIPTS; do
        script=${s%%:*} modules=${s#*:}
        if ! $PYTHON -m py_compile "$KIT_ROOT/$script" 2> "$WORK/pyc.err"; then
            summary FAIL "peer/$(basename "$script")" "does not compile: $(head -c 200 "$WORK/pyc.err")"
            continue
        fi
        lacking=""
        for mod in $(echo "$modules" | tr ',' ' '); do $PYTHON -c "import $mod" 2> /dev/null || lacking="$lacking $mod"; done
        if [ -n "$lacking" ]; then
            summary SKIP "peer/$(basename "$script")" "compiles; imports not tried: $PYTHON lacks$lacking here"
        else
            summary PASS "peer/$(basename "$script")" "compiles and its imports load"
        fi
    done
    for s in $BENCH_SCRIPTS tests/gpu/device-check.sh; do
        sh -n "$KIT_ROOT/$s" || summary FAIL "peer/$(basename "$s")" "sh -n finds a syntax error"
    done
    vocab=$KIT_ROOT/models/all-MiniLM-L6-v2/vocab.txt
    if [ -f "$vocab" ] && $PYTHON "$KIT_ROOT/tests/gpu/device_data.py" "$vocab" "$WORK/data" 50 &&
        "$WORK/b/bin/tc-taxo" build -q "$WORK/data" -o "$WORK/taxonomy.tct" 2> "$WORK/taxo.err"; then
        summary PASS bench/data "device_data.py's dataset reads back (tc-taxo build)"
    else
        summary SKIP bench/data "no vocabulary here (make model) or tc-taxo refused it: $(head -c 200 "$WORK/taxo.err" 2> /dev/null)"
    fi
}

dry_run() {
    src_bin=${TC_BIN:-$KIT_ROOT/build/opt-cudaauto-mpiauto/bin}
    src_tests=${TC_TESTBIN:-$KIT_ROOT/build/opt-cudaauto-mpiauto/tests}
    dry_presence "$src_bin" "$src_tests" || return 0
    make_bundle "$src_bin" "$src_tests" "$KIT_ROOT/models/all-MiniLM-L6-v2" "$WORK/bundle" 1 ||
        { summary FAIL bundle "cannot pack a bundle from $src_bin"; return 0; }
    dry_sizes
    dry_bundle_self_contained || return 0
    dry_standin
    summary SKIP kernels "tests/gpu/test_gpu_* binaries need a GPU ($(ls "$KIT_ROOT"/tests/gpu/test_gpu_*.c | wc -l) of them, bundled)"
    summary SKIP sanitizer "compute-sanitizer needs a GPU$(command -v compute-sanitizer > /dev/null 2>&1 || echo '; not on the PATH here')"
    dry_peers
    summary_tail
    echo "device command: here, sh tests/gpu/device-check.sh --bundle; then on the GPU machine, from the repository root:"
    echo "  run(command=\"$DEVICE_COMMAND\", carry=[\"build/device-bundle\"], timeout_s=$RUN_TIMEOUT)"
}
