# tc-encode on GPUs: --gpus 0 gives the CPU's embeddings (fp32 within the
# parity limits, bf16/fp16 close), in the same order; several GPUs give the
# one GPU's. With a model other than the real all-MiniLM-L6-v2 (the device
# kit's random weights) the golden's embeddings do not apply and that one
# comparison is skipped.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/gpu/gpu_lib.sh"
compare="$TC_HELPERS/emb-compare"
golden="$TC_ROOT/tests/golden/encode_minilm.tct"
model=$GPU_MODEL
if [ "$NGPU" -lt 1 ]; then
    skip gpu_encode "no GPU (nvidia-smi lists none)"
    exit 0
fi
if [ ! -f "$model/model.safetensors" ]; then
    skip gpu_encode "$model missing (make model)"
    exit 0
fi
# the CPU standing in encodes a dozen short documents, not the golden's 534
input=$golden
if [ "$STANDIN" = 1 ]; then
    head -n 12 "$TC_ROOT/tests/golden/refine/corpus.txt" | tc-tokenize -q --model "$model" --max-len 64 -o small.tct
    input=small.tct
fi
expect cpu 0 tc-encode --gpus none -m "$model" "$input" -o cpu.tct
expect gpu_fp32 0 tc-encode --gpus $G -m "$model" "$input" -o gpu.tct
expect gpu_fp32_vs_cpu 0 "$compare" gpu.tct cpu.tct 0.99999 1e-4
if [ "$STANDIN" = 0 ] && [ "$model" = "$TC_ROOT/models/all-MiniLM-L6-v2" ]; then
    expect gpu_fp32_vs_golden 0 "$compare" gpu.tct "$golden" 0.99999 1e-4
else
    skip gpu_fp32_vs_golden "not the golden's documents and model"
fi
gpu_only gpu_device_attr && check gpu_device_attr sh -c 'tc-dump gpu.tct | grep -q "device = 1 GPU"'
expect gpu_fp16 0 tc-encode --gpus $G --precision "$(prec fp16)" --batch-size 128 -m "$model" "$input" -o f16.tct
expect gpu_fp16_vs_cpu 0 "$compare" f16.tct cpu.tct 0.9999 5e-3
expect gpu_bf16 0 tc-encode --gpus $G --precision "$(prec bf16)" -m "$model" "$input" -o bf16.tct
expect gpu_bf16_vs_cpu 0 "$compare" bf16.tct cpu.tct 0.999 3e-2
expect gpu_small_windows 0 tc-encode --gpus $G --window 50 --batch-size 7 -m "$model" "$input" -o win.tct
expect gpu_small_windows_same 0 "$compare" win.tct gpu.tct 0.99999 1e-4
if [ "$NGPU" -ge 2 ]; then
    expect gpu_all 0 tc-encode --gpus all --batch-size 16 -m "$model" "$input" -o all.tct
    expect gpu_all_same 0 "$compare" all.tct gpu.tct 0.99999 1e-4
else
    skip gpu_all "one GPU: sharding over several is not exercised"
fi
