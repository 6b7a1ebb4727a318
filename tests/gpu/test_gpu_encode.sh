# tc-encode on GPUs: --gpus 0 gives the CPU's embeddings (fp32 within the
# parity limits, bf16/fp16 close), in the same order; several GPUs give the
# one GPU's.
. "$TC_ROOT/tests/cli/lib.sh"
compare="$TC_HELPERS/emb-compare"
golden="$TC_ROOT/tests/golden/encode_minilm.tct"
model="$TC_ROOT/models/all-MiniLM-L6-v2"
n=$(nvidia-smi -L 2> /dev/null | grep -c '^GPU')
if [ "$n" -lt 1 ]; then
    skip gpu_encode "no GPU (nvidia-smi lists none)"
    exit 0
fi
if [ ! -f "$model/model.safetensors" ]; then
    skip gpu_encode "$model missing (make model)"
    exit 0
fi
expect cpu 0 tc-encode --gpus none -m "$model" "$golden" -o cpu.tct
expect gpu_fp32 0 tc-encode --gpus 0 -m "$model" "$golden" -o gpu.tct
expect gpu_fp32_vs_cpu 0 "$compare" gpu.tct cpu.tct 0.99999 1e-4
expect gpu_fp32_vs_golden 0 "$compare" gpu.tct "$golden" 0.99999 1e-4
check gpu_device_attr sh -c 'tc-dump gpu.tct | grep -q "device = 1 GPU"'
expect gpu_fp16 0 tc-encode --gpus 0 --precision fp16 --batch-size 128 -m "$model" "$golden" -o f16.tct
expect gpu_fp16_vs_cpu 0 "$compare" f16.tct cpu.tct 0.9999 5e-3
expect gpu_bf16 0 tc-encode --gpus 0 --precision bf16 -m "$model" "$golden" -o bf16.tct
expect gpu_bf16_vs_cpu 0 "$compare" bf16.tct cpu.tct 0.999 3e-2
expect gpu_small_windows 0 tc-encode --gpus 0 --window 50 --batch-size 7 -m "$model" "$golden" -o win.tct
expect gpu_small_windows_same 0 "$compare" win.tct gpu.tct 0.99999 1e-4
if [ "$n" -ge 2 ]; then
    expect gpu_all 0 tc-encode --gpus all --batch-size 16 -m "$model" "$golden" -o all.tct
    expect gpu_all_same 0 "$compare" all.tct gpu.tct 0.99999 1e-4
else
    skip gpu_all "one GPU: sharding over several is not exercised"
fi
