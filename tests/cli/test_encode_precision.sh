# The CPU's reduced precisions (--precision int8|bf16|auto with --gpus
# none, oneDNN; kernels/cpu/matmul_onednn.c) through tc-encode and
# tc-predict: each agrees with fp32 within its documented bound (min cosine
# 0.99 for int8, 0.9995 for bf16), says in -v what computes it, and records
# it in the output's attributes; a precision this CPU or build lacks is one
# line naming what is missing, exit 1, and the test says so as a skip.
. "$TC_ROOT/tests/cli/lib.sh"
fixture="$TC_HELPERS/encode-fixture"
compare="$TC_HELPERS/emb-compare"
"$fixture" model m st=1 hidden=48 heads=4 || { fail setup "encode-fixture model failed"; exit 1; }
"$fixture" tokens t.tct 200 20 50 fingerprint=model:m || { fail setup "encode-fixture tokens failed"; exit 1; }
cpu="--gpus none"
expect fp32 0 tc-encode $cpu -m m -o fp32.tct t.tct

# reduced P BOUND: the path, or the line saying what this machine lacks
reduced() {
    p=$1 bound=$2
    if ! tc-encode $cpu -m m --precision "$p" -v -o "$p.tct" t.tct > "$p.out" 2> "$p.err"; then
        if [ "${TC_HAVE_DNNL:-0}" != 1 ]; then
            check "${p}_no_onednn_named" grep -q "tc-encode: --precision $p: this build has no oneDNN" "$p.err"
        else
            check "${p}_lack_named" grep -q "tc-encode: --precision $p: this CPU lacks" "$p.err"
        fi
        skip "$p" "$(grep -m 1 -- "--precision" "$p.err")"
        return
    fi
    check "${p}_agrees" "$compare" fp32.tct "$p.tct" "$bound" 1
    check "${p}_verbose" grep -q "precision: $p through oneDNN" "$p.err"
    check "${p}_attribute" sh -c "tc-dump --meta $p.tct | grep -q 'precision = $p'"
}
reduced int8 0.99
reduced bf16 0.9995

expect auto 0 tc-encode $cpu -m m --precision auto -v -o auto.tct t.tct
picked=$(sed -n 's/^tc-encode: precision: \([a-z0-9]*\).*/\1/p' err)
check auto_picked_named test -n "$picked"
check auto_attribute sh -c "tc-dump --meta auto.tct | grep -q 'precision = $picked'"

# tc-predict: the same encoder under its head
"$TC_HELPERS/train-fixture" fx 24 > /dev/null 2>&1 || { fail setup "train-fixture failed"; exit 1; }
if [ -f int8.tct ]; then
    expect train 0 tc-train -q -m fx/model --class-vectors fx/class_vectors.tct --gpus none --threads 1 --max-steps 2 \
        --batch 8 -o run fx/tokens.tct fx/targets.tct
    expect predict_int8 0 tc-predict $cpu -m run/final --precision int8 -v -o p8.tct fx/tokens.tct
    check predict_int8_verbose grep -q "precision: int8 through oneDNN" err
    check predict_int8_attribute sh -c "tc-dump --meta p8.tct | grep -q 'precision = int8'"
fi
expect_error fp16_cpu 1 "--precision fp16: GPUs only" tc-encode $cpu -m m --precision fp16 t.tct
check nothing_written test ! -e fp16.tct
