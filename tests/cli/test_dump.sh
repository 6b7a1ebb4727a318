# tc-dump: every flag, exports checked against numpy, errors, atomic -o.
. "$TC_ROOT/tests/cli/lib.sh"
sample="$TC_HELPERS/tct-sample"
"$sample" dtypes > d.tct || { fail setup "tct-sample dtypes failed"; exit 1; }
"$sample" table 2500 > t.tct || { fail setup "tct-sample table failed"; exit 1; }

expect help 0 tc-dump --help
check help_text grep -q "usage: tc-dump" out
expect version 0 tc-dump --version
check version_text grep -Eq "^tc-dump \(teleclass-c\) [0-9]+\.[0-9]+\.[0-9]+$" out

expect list 0 tc-dump d.tct
check list_names sh -c 'for n in f32 f16 bf16 i8 u8 i32 i64 str str2d scalar zero_rows empty_rows; do grep -q "^  $n " out || exit 1; done'
check list_shapes sh -c 'grep -q "f32  \[2,3\]" out && grep -q "zero_rows .*\[0,5\]" out && grep -q "scalar .*\[\] " out'
check list_attributes grep -q "note = ünïcode" out
check list_sizes grep -Eq "^  str +str +\[4\] +raw +49 +compressed +[0-9]+" out

expect stats 0 tc-dump --stats d.tct
check stats_values sh -c 'grep -A3 "^  f32 " out | grep -q "min -2.25  max 3.00000001e+38"'
check stats_strings sh -c 'grep -A1 "^  str " out | grep -q "length min 0  max 16"'

expect head 0 tc-dump --head 2 d.tct
check head_rows sh -c 'grep -q "\[1\] \"hello\"" out && ! grep -q "\[2\] \"naïve" out'

expect meta 0 tc-dump --meta d.tct
check meta_program grep -q "program = tct-sample" out

expect tensor_filter 0 tc-dump --tensor i8 --tensor u8 d.tct
check tensor_filter_only sh -c 'grep -q "^  i8 " out && grep -q "^  u8 " out && ! grep -q "^  f32 " out'
expect_error tensor_missing 1 "d.tct: no tensor 'nope'" tc-dump --tensor nope d.tct

expect stdin 0 sh -c 'tc-dump < d.tct'
check stdin_named grep -q "^(stdin): tensor stream" out
expect stdin_dash 0 sh -c 'cat d.tct | tc-dump -'
expect zstdcat 0 sh -c 'zstdcat d.tct | tc-dump --stats -'
check zstdcat_uncompressed sh -c 'grep -q "uncompressed" out && grep -A3 "^  f32 " out | grep -q "min -2.25"'

expect check_ok 0 tc-dump --check d.tct
check check_ok_text grep -q "d.tct: ok, 12 tensors" out
size=$(wc -c < d.tct)
head -c $((size - 7)) d.tct > cut.tct
expect_error check_truncated 1 "cut.tct: byte [0-9]+: truncated" tc-dump --check cut.tct
cp d.tct flip.tct
printf '\377' | dd of=flip.tct bs=1 seek=300 conv=notrunc 2> /dev/null
expect_error check_corrupted 1 "flip.tct: byte [0-9]+: " tc-dump --check flip.tct
printf 'not a tensor file\n' > text.tct
expect_error bad_magic 1 "text.tct: not a tensor stream \(bad magic 6e 6f 74 20\)" tc-dump text.tct
"$sample" version 7 > v7.tct
expect_error bad_version 1 "v7.tct: byte 0: format version 7.0 is not supported" tc-dump v7.tct
expect_error missing_file 1 "nope.tct: cannot open: No such file" tc-dump nope.tct
: > empty.tct
expect_error empty_file 1 "empty.tct: empty file, not a tensor stream" tc-dump empty.tct

expect tsv_one 0 tc-dump --tsv str d.tct
check tsv_one_rows sh -c 'test "$(sed -n 3p out)" = "naïve café" && test "$(sed -n 4p out)" = "tab\\there\\nnewline"'
expect tsv_table 0 tc-dump --tsv doc_ids,lengths,input_ids t.tct
check tsv_table_rows sh -c 'test $(wc -l < out) -eq 2500 && test "$(sed -n 4p out)" = "doc3	3	3	4	5	0	0	0	0	0"'
expect_error tsv_mismatch 1 "different row counts" tc-dump --tsv str,f32 -o mismatch.tsv d.tct
check tsv_mismatch_no_file test ! -e mismatch.tsv

expect json 0 tc-dump --json --stats d.tct
check json_parses python3 -c '
import json
d = json.load(open("out"))
t = {x["name"]: x for x in d["tensors"]}
assert t["f32"]["shape"] == [2, 3] and t["f32"]["data"][1][0] == 3.00000001e38
assert t["str"]["data"] == ["", "hello", "naïve café", "tab\there\nnewline"]
assert t["i64"]["data"] == [-9223372036854775808, 9223372036854775807]
assert t["zero_rows"]["data"] == [] and t["scalar"]["data"] == [1.5]
assert d["provenance"]["program"] == "tct-sample" and t["f32"]["stats"]["min"] == -2.25
'
expect json_head 0 tc-dump --json --head 1 --tensor str d.tct
check json_head_rows python3 -c 'import json; d = json.load(open("out")); assert d["tensors"][0]["data"] == [""]'

if py=$(python_with numpy); then
    for name in f32 f16 bf16 i8 u8 i32 i64 str str2d scalar zero_rows; do
        expect "npy_$name" 0 tc-dump --npy $name -o $name.npy d.tct
    done
    "$sample" rows 3000 7 | tc-dump --npy rows -o rows.npy - ; rows_file=$?
    "$sample" rows 3000 7 | tc-dump --npy rows - > rows_pipe.npy ; rows_pipe=$?
    check npy_stream_status test "$rows_file$rows_pipe" = 00
    check npy_values "$py" -c '
import numpy as np
def load(n): return np.load(n + ".npy")
assert load("f32").dtype == np.float32 and load("f32").shape == (2, 3)
assert load("f32")[1, 0] == np.float32(3e38) and load("f32")[1, 1] == np.float32(-1e-38)
assert load("f16").dtype == np.float16 and list(load("f16")) == [1.0, -0.5, 65504.0, np.float16(6e-5)]
assert load("bf16").dtype == np.float32 and list(load("bf16")[:2]) == [1.0, -0.5]
assert list(load("i8")) == [-128, 0, 127] and load("u8").dtype == np.uint8 and list(load("u8")) == [0, 128, 255]
assert load("i32").shape == (1, 2, 2) and load("i32").ravel().tolist() == [-2**31, -1, 0, 2**31 - 1]
assert load("i64").tolist() == [-2**63, 2**63 - 1]
assert load("str").tolist() == ["", "hello", "naïve café", "tab\there\nnewline"]
assert load("str2d").tolist() == [["a", "b"], ["c", "d"]]
assert load("scalar").shape == () and load("scalar") == 1.5
assert load("zero_rows").shape == (0, 5)
for f in ("rows.npy", "rows_pipe.npy"):
    r = np.load(f)
    assert r.shape == (3000, 7) and (r.ravel() == (np.arange(3000 * 7) % 1000003).astype(np.float32)).all(), f
'
else
    skip npy_values "numpy not installed (make deps installs it in build/venv)"
fi
expect_error npy_missing 1 "d.tct: no tensor 'nope'" tc-dump --npy nope -o x.npy d.tct
check npy_missing_no_file test ! -e x.npy

# usage errors exit 2
expect_error usage_unknown 2 "unknown option '--bogus'" tc-dump --bogus d.tct
expect_error usage_two_inputs 2 "one input at most" tc-dump d.tct d.tct
expect_error usage_head 2 "--head: 'abc' is not an integer" tc-dump --head abc d.tct
expect_error usage_modes 2 "do not go together" tc-dump --json --check d.tct
expect_error usage_output 2 "-o is for the exports" tc-dump -o x d.tct
expect_error usage_missing_value 2 "needs a value" tc-dump d.tct --head

# --config: a section per program, flags override it
printf 'tc-dump:\n  tensor: i8\n  stats: true\n' > cfg.yaml
expect config 0 tc-dump --config cfg.yaml d.tct
check config_applied sh -c 'grep -q "^  i8 " out && ! grep -q "^  u8 " out && grep -q "min -128" out'
printf 'tc-dump:\n  bogus: 1\n' > bad.yaml
expect_error config_unknown 2 "bad.yaml: unknown setting 'bogus'" tc-dump --config bad.yaml d.tct
expect_error config_missing 2 "nope.yaml: cannot open" tc-dump --config nope.yaml d.tct

# binary output refused on a terminal, allowed with -f
script -qec "tc-dump --npy f32 d.tct" /dev/null > tty.txt 2>&1
check refuse_terminal grep -q "refusing to write binary tensors to a terminal" tty.txt
script -qec "tc-dump -f --npy i8 d.tct" /dev/null > tty2.txt 2>&1
check force_terminal grep -q "NUMPY" tty2.txt

# a reader that goes away (| head): the normal end of a filter, exit 0 and
# not a word; the same write error on a named file is an error naming it
{ "$sample" rows 200000 4 | tc-dump --tsv rows - 2> epipe.err; echo $? > epipe.status; } | head -n 1 > /dev/null
check epipe_status test "$(cat epipe.status)" = 0
check epipe_quiet test ! -s epipe.err
{ tc-dump --json t.tct 2> epipe2.err; echo $? > epipe2.status; } | head -c 10 > /dev/null
check epipe_json_status test "$(cat epipe2.status)" = 0
check epipe_json_quiet test ! -s epipe2.err
expect_error full_named 1 '^tc-dump: /dev/full: write failed: No space left on device$' tc-dump --tsv doc_ids t.tct -o /dev/full
expect_error full_npy 1 '^tc-dump: /dev/full: write failed: No space left on device$' tc-dump --npy input_ids t.tct -o /dev/full
expect_error full_stdout 1 '^tc-dump: \(stdout\): write failed: No space left on device$' sh -c 'tc-dump --tsv doc_ids t.tct > /dev/full'
check full_device_kept test -c /dev/full

# atomic -o: interrupted exports leave no file behind
"$sample" rows 3000000 8 > big.tct
tc-dump --tsv rows -o killed.tsv big.tct & pid=$!
sleep 0.3; kill -TERM $pid; wait $pid
check term_no_output sh -c '! ls -A | grep -q "killed.tsv"'
tc-dump --tsv rows -o killed9.tsv big.tct & pid=$!
sleep 0.3; kill -KILL $pid; wait $pid
check kill9_no_output test ! -e killed9.tsv
cp d.tct keep.tct
tc-dump --tsv str -o keep.tct text.tct 2> /dev/null
check failed_run_keeps_old cmp -s keep.tct d.tct
