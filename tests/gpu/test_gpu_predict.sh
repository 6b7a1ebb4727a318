# tc-predict on GPUs: --gpus 0 gives the CPU's scores (fp32 within rounding,
# bf16/fp16 close) in the same order, with every output; all GPUs give the
# one GPU's. On the golden checkpoint (tests/golden/predict), whose CPU
# scores are pinned to transformers' in tests/cli/test_predict.sh.
. "$TC_ROOT/tests/cli/lib.sh"
. "$TC_ROOT/tests/gpu/gpu_lib.sh"
g="$TC_ROOT/tests/golden/predict"
if [ "$NGPU" -lt 1 ]; then
    skip gpu_predict "no GPU (nvidia-smi lists none)"
    exit 0
fi
expect cpu 0 tc-predict --gpus none -m "$g/checkpoint" --top-k 3 --scores "$g/golden.tct" -o cpu.tct
tc-dump --tsv scores cpu.tct > cpu.tsv
expect gpu_fp32 0 tc-predict --gpus $G -m "$g/checkpoint" --top-k 3 --scores "$g/golden.tct" -o gpu.tct
gpu_only gpu_device_attr && check gpu_device_attr sh -c 'tc-dump gpu.tct | grep -q "device = 1 GPU" && tc-dump gpu.tct | grep -q "precision = fp32"'
check gpu_order sh -c 'tc-dump --tsv doc_ids gpu.tct > a; tc-dump --tsv doc_ids "$0/golden.tct" > b; cmp a b' "$g"
tc-dump --tsv scores gpu.tct > gpu.tsv
close_tsv gpu_fp32_vs_cpu gpu.tsv cpu.tsv 1e-4
check gpu_fp32_topk sh -c 'tc-dump --tsv topk_classes gpu.tct > a; tc-dump --tsv topk_classes cpu.tct > b; cmp a b'
expect gpu_fp16 0 tc-predict --gpus $G --precision "$(prec fp16)" -m "$g/checkpoint" "$g/golden.tct" -o f16.tct
tc-dump --tsv scores f16.tct > f16.tsv
close_tsv gpu_fp16_vs_cpu f16.tsv cpu.tsv 5e-2
expect gpu_bf16 0 tc-predict --gpus $G --precision "$(prec bf16)" -m "$g/checkpoint" "$g/golden.tct" -o bf16.tct
tc-dump --tsv scores bf16.tct > bf16.tsv
close_tsv gpu_bf16_vs_cpu bf16.tsv cpu.tsv 2e-1
expect gpu_small_windows 0 tc-predict --gpus $G --window 5 --batch-size 1 -m "$g/checkpoint" "$g/golden.tct" -o win.tct
tc-dump --tsv scores win.tct > win.tsv
close_tsv gpu_small_windows_same win.tsv gpu.tsv 1e-4
if [ "$NGPU" -ge 2 ]; then
    expect gpu_all 0 tc-predict --gpus all --batch-size 2 -m "$g/checkpoint" "$g/golden.tct" -o all.tct
    tc-dump --tsv scores all.tct > all.tsv
    close_tsv gpu_all_same all.tsv gpu.tsv 1e-4
    check gpu_all_order sh -c 'tc-dump --tsv doc_ids all.tct > a; tc-dump --tsv doc_ids gpu.tct > b; cmp a b'
else
    skip gpu_all "one GPU: sharding over several is not exercised"
fi
