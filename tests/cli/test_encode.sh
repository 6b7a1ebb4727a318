# tc-encode: output shape, order and attributes, batching and windows that
# must not change results, options, model defaults from sentence-transformers
# files, and one test per error.
. "$TC_ROOT/tests/cli/lib.sh"
fixture="$TC_HELPERS/encode-fixture"
compare="$TC_HELPERS/emb-compare"
"$fixture" model m pooler=1 st=1 hidden=24 heads=3 || { fail setup "encode-fixture model failed"; exit 1; }
"$fixture" model plain hidden=20 heads=5 prefix=bert. || { fail setup "encode-fixture model failed"; exit 1; }
"$fixture" model cls st=2 || { fail setup "encode-fixture model failed"; exit 1; }
"$fixture" tokens t.tct 300 20 50 fingerprint=model:m chunk=37 || { fail setup "encode-fixture tokens failed"; exit 1; }
"$fixture" tokens t24.tct 40 24 50 seed=3 || { fail setup "encode-fixture tokens failed"; exit 1; }
cpu="--gpus none"

expect help 0 tc-encode --help
check help_text grep -q "usage: tc-encode" out
expect version 0 tc-encode --version
check man_page test -s "$TC_ROOT/man/man1/tc-encode.1"

expect encode 0 tc-encode $cpu -m m t.tct -o e.tct
check encode_quiet test ! -s err
expect list 0 tc-dump --stats e.tct
check list_shape sh -c 'grep -Eq "^  doc_ids +str +\[300\]" out && grep -Eq "^  embeddings +f32 +\[300,24\]" out'
check list_attributes sh -c 'grep -q "model = m$" out && grep -q "pooling = mean" out && grep -q "normalized = true" out && grep -q "device = cpu" out && grep -q "precision = fp32" out'
check list_no_nan grep -q "nan 0  inf 0" out
tc-dump --tsv doc_ids t.tct > in_ids.tsv
tc-dump --tsv doc_ids e.tct > out_ids.tsv
check order_kept cmp in_ids.tsv out_ids.tsv
expect meta 0 tc-dump --meta e.tct
check meta_program sh -c 'grep -q "program = tc-encode" out && grep -q "arguments = .*-m m" out'

# rows normalized: every row has unit length
expect norms 0 sh -c "tc-dump --tsv embeddings e.tct | awk -F'\t' '{s=0; for(i=1;i<=NF;i++) s+=\$i*\$i; if (s<0.99999||s>1.00001) exit 1}'"

# windows, batches and threads do not change the embeddings
expect small_windows 0 tc-encode $cpu -m m --window 7 --batch-size 3 --threads 1 t.tct -o e2.tct
expect small_windows_same 0 "$compare" e.tct e2.tct 0.9999999 1e-6
expect big_batches 0 tc-encode $cpu -m m --window 100000 --batch-size 300 --threads 3 t.tct -o e3.tct
expect big_batches_same 0 "$compare" e.tct e3.tct 0.9999999 1e-6
expect stdin_stdout 0 sh -c "cat t.tct | tc-encode $cpu -m m - > e4.tct"
expect stdin_same 0 "$compare" e.tct e4.tct 0.9999999 1e-6
expect compressed_input 0 sh -c "zstdcat t.tct | tc-encode $cpu -m m | tc-dump -"

# options
expect dtype_f16 0 tc-encode $cpu -m m --dtype f16 t.tct -o h.tct
check dtype_f16_stored sh -c 'tc-dump h.tct | grep -Eq "embeddings +f16 +\[300,24\]"'
expect dtype_f16_close 0 "$compare" e.tct h.tct 0.99999 1e-3
expect dtype_bf16 0 tc-encode $cpu -m m --dtype bf16 t.tct -o b.tct
expect dtype_bf16_close 0 "$compare" e.tct b.tct 0.9999 8e-3
expect no_normalize 0 tc-encode $cpu -m m --no-normalize t.tct -o n.tct
check no_normalize_attr sh -c 'tc-dump n.tct | grep -q "normalized = false"'
expect no_normalize_differs 1 "$compare" e.tct n.tct 0.99999 1e-4
expect no_normalize_same_direction 0 "$compare" e.tct n.tct 0.999999 100
expect pooling_cls 0 tc-encode $cpu -m m --pooling cls t.tct -o c.tct
check pooling_cls_attr sh -c 'tc-dump c.tct | grep -q "pooling = cls"'
expect pooling_cls_differs 1 "$compare" e.tct c.tct 0.99999 1e-4
expect pooling_pooler 0 tc-encode $cpu -m m --pooling pooler t.tct -o p.tct
check pooling_pooler_attr sh -c 'tc-dump p.tct | grep -q "pooling = pooler"'
expect defaults_cls 0 tc-encode $cpu -m cls t.tct -o d.tct
check defaults_cls_attr sh -c 'tc-dump d.tct | grep -q "pooling = cls" && tc-dump d.tct | grep -q "normalized = false"'
expect defaults_plain 0 tc-encode $cpu -m plain t24.tct -o d2.tct
check defaults_plain_attr sh -c 'tc-dump d2.tct | grep -q "pooling = mean" && tc-dump d2.tct | grep -q "normalized = false" && tc-dump d2.tct | grep -Eq "\[40,20\]"'
expect progress 0 tc-encode $cpu -m m --progress --window 50 t.tct -o pr.tct
expect config 0 sh -c 'printf "tc-encode:\n  pooling: cls\n  gpus: none\n" > c.yaml && tc-encode --config c.yaml -m m t.tct -o cfg.tct'
expect config_same 0 "$compare" c.tct cfg.tct 0.9999999 1e-6

# an empty input gives a valid empty output
"$fixture" tokens empty.tct 0 20 50
expect empty 0 tc-encode $cpu -m m empty.tct -o empty_out.tct
check empty_shape sh -c 'tc-dump empty_out.tct | grep -Eq "embeddings +f32 +\[0,24\]"'

# errors
expect_error no_model 1 "nope: no such model directory" tc-encode $cpu -m nope t.tct
expect_error default_model_missing 1 "models/all-MiniLM-L6-v2: no such model directory" tc-encode $cpu t.tct
"$fixture" model rob model_type=roberta
expect_error roberta 1 "model_type 'roberta' is not supported" tc-encode $cpu -m rob t.tct
expect_error no_pooler 1 "has no pooler" tc-encode $cpu -m cls --pooling pooler t.tct
expect_error bad_pooling 2 "--pooling: unknown pooling 'max'" tc-encode $cpu -m m --pooling max t.tct
expect_error bad_precision 2 "--precision: 'fp8' is not fp32, bf16, fp16, int8 or auto" tc-encode $cpu -m m --precision fp8 t.tct
expect_error cpu_precision 1 "--precision fp16: GPUs only; the CPU computes in fp32, bf16 or int8" tc-encode $cpu -m m --precision fp16 t.tct
expect_error bad_dtype 2 "--dtype: 'i8' is not f32, f16 or bf16" tc-encode $cpu -m m --dtype i8 t.tct
expect_error bad_batch 2 "--batch-size: '0' is not an integer" tc-encode $cpu -m m --batch-size 0 t.tct
expect_error bad_gpus 2 "--gpus x" tc-encode --gpus x -m m t.tct
if [ "${TC_HAVE_CUDA:-0}" = 1 ]; then
    expect_error gpus_absent 2 "--gpus 7: " tc-encode --gpus 7 -m m t.tct
else
    expect_error gpus_absent 2 "no CUDA backend" tc-encode --gpus 0 -m m t.tct
fi
expect_error unknown_option 2 "unknown option '--bogus'" tc-encode --bogus
expect_error two_inputs 2 "one input at most" tc-encode $cpu -m m t.tct t.tct
# a damaged model is refused by name, before any output, and left as it was
sums() { (cd "$1" && find . -type f -exec cksum {} + | sort); }
damaged() { rm -rf "$1" && cp -r m "$1"; }
kept() { sums "$1" > "$1.now"; check "$1_kept" cmp "$1.now" "$1.sum"; }
damaged bad_modules && printf '[{"type": "sentence_transformers.models.Normalize"' > bad_modules/modules.json
sums bad_modules > bad_modules.sum
expect_error damaged_modules 1 "bad_modules/modules.json: not valid JSON" tc-encode $cpu -m bad_modules t.tct -o dm.tct
check damaged_modules_no_output test ! -e dm.tct
kept bad_modules
damaged bad_pool && printf '{"pooling_mode_mean_tokens": "yes"}' > bad_pool/1_Pooling/config.json
sums bad_pool > bad_pool.sum
expect_error damaged_pooling 1 "bad_pool/1_Pooling/config.json: 'pooling_mode_mean_tokens' must be true or false" \
    tc-encode $cpu -m bad_pool t.tct
kept bad_pool
damaged no_pool && rm -r no_pool/1_Pooling
expect_error missing_pooling 1 "no_pool/1_Pooling/config.json: missing \(modules.json lists a Pooling module there\)" \
    tc-encode $cpu -m no_pool t.tct
# without modules.json the defaults are assumed, and -v says so
expect plain_defaults_said 0 tc-encode $cpu -v -m plain t24.tct -o d3.tct
check plain_defaults_note grep -q "plain/modules.json: none: assuming mean pooling, not normalized" err
"$fixture" model nan_model nan=layer.1.attention.self.value.weight
expect_error nan_weights 1 "nan_model/model.safetensors: tensor 'encoder.layer.1.attention.self.value.weight' holds NaN at element 1" \
    tc-encode $cpu -m nan_model t24.tct -o nan.tct
check nan_weights_no_output test ! -e nan.tct
"$fixture" model three layers=3
sed 's/"num_hidden_layers": 3/"num_hidden_layers": 2/' three/config.json > three/c && mv three/c three/config.json
expect_error dropped_layers 1 "three/model.safetensors: tensor 'encoder.layer.2.[a-zA-Z.]+' is there but config.json says num_hidden_layers 2" \
    tc-encode $cpu -m three t24.tct
"$fixture" tokens other.tct 10 20 50 fingerprint=0123456789abcdef
expect_error other_vocab 1 "other.tct: tokens were made with another vocabulary \(vocab_fingerprint 0123456789abcdef" tc-encode $cpu -m m other.tct
"$fixture" tokens big_vocab.tct 10 20 50 vocab_size=30522
expect_error vocab_size 1 "vocabulary of 30522 entries; the model has 50" tc-encode $cpu -m m big_vocab.tct
"$fixture" tokens bad_id.tct 30 20 50 bad_id=17
expect_error bad_id 1 "bad_id.tct: row 17 \('doc-17'\): token 1 is id 50, outside the vocabulary of 50" tc-encode $cpu -m m bad_id.tct
"$fixture" tokens long.tct 30 30 50 seed=9
expect_error too_long 1 "long.tct: row [0-9]+ \('doc-[0-9]+'\): [0-9]+ tokens; the model takes at most 24" tc-encode $cpu -m m long.tct
expect_error missing_file 1 "nope.tct: cannot open" tc-encode $cpu -m m nope.tct
printf 'not a tensor file\n' > text.tct
expect_error not_tct 1 "text.tct: not a tensor stream" tc-encode $cpu -m m text.tct
"$TC_HELPERS/tct-sample" dtypes > d.tct
expect_error not_tokens 1 "d.tct: .*doc_ids" tc-encode $cpu -m m d.tct
size=$(wc -c < t.tct)
head -c $((size / 2)) t.tct > cut.tct
expect_error truncated 1 "cut.tct: .*truncated" tc-encode $cpu -m m cut.tct -o cut_out.tct
check truncated_no_output test ! -e cut_out.tct
expect_error terminal_refused 1 "refusing to write binary tensors to a terminal" sh -c "script -qec 'tc-encode $cpu -m m t.tct' /dev/null < /dev/null | grep refusing >&2; exit 1"

# MPNet (model_type mpnet): the tiny MPNetModel transformers wrote takes
# documents of its 26 positions less the two before the first token; an
# unknown model_type or a missing tensor is one line naming the file,
# before anything is computed or written
mp="$TC_ROOT/tests/golden/train_step_mpnet/model"
"$fixture" tokens mp.tct 40 24 40 seed=5
expect mpnet_encode 0 tc-encode $cpu -m "$mp" mp.tct -o mp_out.tct
expect mpnet_list 0 tc-dump --stats mp_out.tct
check mpnet_shape sh -c 'grep -Eq "^  embeddings +f32 +\[40,16\]" out && grep -q "nan 0  inf 0" out'
"$fixture" tokens mp_long.tct 10 25 40 seed=6
expect_error mpnet_too_long 1 "mp_long.tct: row [0-9]+ \('doc-[0-9]+'\): 25 tokens; the model takes at most 24" \
    tc-encode $cpu -m "$mp" mp_long.tct
mkdir -p mp_bad
cp "$mp/model.safetensors" "$mp/vocab.txt" mp_bad/
sed 's/"model_type": "mpnet"/"model_type": "xlnet"/' "$mp/config.json" > mp_bad/config.json
expect_error mpnet_unknown_type 1 "mp_bad/config.json: model_type 'xlnet' is not supported \(bert or mpnet\)" \
    tc-encode $cpu -m mp_bad mp.tct -o mp_bad_out.tct
check mpnet_unknown_type_no_output test ! -e mp_bad_out.tct
