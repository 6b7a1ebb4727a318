#!/bin/sh
# tc-tokenize's command line: every flag, every error, the tensors it
# writes. Expected ids come from Hugging Face tokenizers (noted where used);
# most tests use the committed cased test vocabulary, so they run without
# the default model.
. "$TC_ROOT/tests/cli/lib.sh"

cased=$TC_ROOT/tests/golden/cased_vocab.txt
adversarial=$TC_ROOT/tests/golden/tokenizer_adversarial.txt
model=$TC_ROOT/models/all-MiniLM-L6-v2
tok() { tc-tokenize -q --vocab "$cased" "$@"; }
# rows FILE: doc_ids, input_ids and lengths side by side as text
rows() { tc-dump --tsv doc_ids,input_ids,lengths "$1"; }
# attr FILE NAME: an attribute of input_ids (the listing is made once per file)
attr() {
    [ -s "$1.list" ] || tc-dump "$1" > "$1.list"
    sed -n "s/^    $2 = //p" "$1.list"
}

expect tokenize_help 0 tc-tokenize --help
check tokenize_help_text grep -q -- '--max-len' "$T/out"
expect tokenize_version 0 tc-tokenize --version
check tokenize_version_text grep -q '^tc-tokenize (teleclass-c) ' "$T/out"

# Ids from tokenizers: BertWordPieceTokenizer(cased_vocab.txt, lowercase=False)
printf 'a\tHello World!\nb\tCafé naïve\n' > "$T/two.txt"
expect tokenize_basic 0 tok --no-lowercase --max-len 10 "$T/two.txt" -o "$T/two.tct"
rows "$T/two.tct" > "$T/rows"
printf 'a\t2\t6805\t138\t4928\t5\t3\t0\t0\t0\t0\t6\nb\t2\t91\t3255\t2386\t133\t82\t2398\t2750\t3\t0\t9\n' > "$T/want"
check tokenize_basic_ids cmp "$T/rows" "$T/want"
check tokenize_shape sh -c "tc-dump '$T/two.tct' | grep -q 'input_ids *i32  \[2,10\]'"

# stdin, with and without -
expect tokenize_stdin 0 sh -c "tc-tokenize -q --vocab '$cased' --no-lowercase --max-len 10 < '$T/two.txt' > '$T/stdin.tct'"
tc-dump --tsv input_ids "$T/two.tct" > "$T/two.tsv"
check tokenize_stdin_same sh -c "tc-dump --tsv input_ids '$T/stdin.tct' | cmp - '$T/two.tsv'"
expect tokenize_dash 0 sh -c "tc-tokenize -q --vocab '$cased' --no-lowercase --max-len 10 - < '$T/two.txt' > '$T/dash.tct'"
check tokenize_dash_same sh -c "tc-dump --tsv input_ids '$T/dash.tct' | cmp - '$T/two.tsv'"

# --lowercase, --strip-accents, --no-chinese-chars: ids from tokenizers
printf 'Hello World!\nCafé naïve\nx中文y\n' > "$T/three.txt"
want_row() { printf '%s\n' "$@" | tr ' ' '\t'; }
tok --lowercase --no-ids --max-len 9 "$T/three.txt" -o "$T/lower.tct"
want_row "2 6804 138 4927 5 3 0 0 0" "2 89 3255 98 133 2819 2750 3 0" > "$T/want.lower"
check tokenize_lowercase sh -c "tc-dump --tsv input_ids '$T/lower.tct' | head -n 2 | cmp - '$T/want.lower'"
check tokenize_lowercase_attr test "$(attr "$T/lower.tct" lowercase)/$(attr "$T/lower.tct" strip_accents)" = true/true
tok --no-lowercase --strip-accents --no-ids --max-len 9 "$T/three.txt" -o "$T/strip.tct"
want_row "2 91 3255 98 133 2819 2750 3 0" > "$T/want.strip"
check tokenize_strip_accents sh -c "tc-dump --tsv input_ids '$T/strip.tct' | sed -n 2p | cmp - '$T/want.strip'"
check tokenize_strip_attr test "$(attr "$T/strip.tct" lowercase)/$(attr "$T/strip.tct" strip_accents)" = false/true
tok --lowercase --no-strip-accents --no-ids --max-len 9 "$T/three.txt" -o "$T/keep.tct"
check tokenize_no_strip_accents test "$(attr "$T/keep.tct" strip_accents)" = false
check tokenize_no_strip_differs sh -c "! tc-dump --tsv input_ids '$T/keep.tct' | sed -n 2p | cmp -s - '$T/want.lower'"
tok --no-lowercase --no-chinese-chars --no-ids --max-len 9 "$T/three.txt" -o "$T/nocjk.tct"
want_row "2 173 1818 2048 178 3 0 0 0" > "$T/want.nocjk"
check tokenize_no_chinese sh -c "tc-dump --tsv input_ids '$T/nocjk.tct' | sed -n 3p | cmp - '$T/want.nocjk'"
check tokenize_no_chinese_attr test "$(attr "$T/nocjk.tct" chinese_chars)" = false
tok --no-lowercase --chinese-chars --no-ids --max-len 9 "$T/three.txt" -o "$T/cjk.tct"
want_row "2 173 1817 2047 177 3 0 0 0" > "$T/want.cjk"
check tokenize_chinese sh -c "tc-dump --tsv input_ids '$T/cjk.tct' | sed -n 3p | cmp - '$T/want.cjk'"

# --no-ids: ids are line numbers from 0
check tokenize_no_ids sh -c "tc-dump --tsv doc_ids '$T/cjk.tct' | tr '\n' ' ' | grep -qx '0 1 2 '"

# attributes on input_ids
check tokenize_attrs sh -c "test \"$(attr "$T/two.tct" max_len) $(attr "$T/two.tct" pad_id) $(attr "$T/two.tct" cls_id) $(attr "$T/two.tct" sep_id) $(attr "$T/two.tct" unk_id) $(attr "$T/two.tct" vocab_size)\" = '10 0 2 3 1 $(wc -l < "$cased" | tr -d ' ')'"
py=$(python_with 2>/dev/null) || py=""
if [ -n "$py" ]; then
    fnv=$("$py" -c "
import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], 'rb').read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print('%016x' % h)" "$cased")
    check tokenize_fingerprint test "$(attr "$T/two.tct" vocab_fingerprint)" = "$fnv"
else
    skip tokenize_fingerprint "no Python to compute FNV-1a independently"
fi

# --max-len: truncation keeps [CLS] + the first L-2 tokens + [SEP]
tok --no-lowercase --max-len 4 "$T/two.txt" -o "$T/short.tct"
printf 'a\t2\t6805\t138\t3\t4\nb\t2\t91\t3255\t3\t4\n' > "$T/want.short"
check tokenize_truncation sh -c "tc-dump --tsv doc_ids,input_ids,lengths '$T/short.tct' | cmp - '$T/want.short'"
tok --no-lowercase --max-len 2 "$T/two.txt" -o "$T/two2.tct"
check tokenize_max_len_2 sh -c "tc-dump --tsv input_ids,lengths '$T/two2.tct' | tr '\n' ' ' | grep -qx '2	3	2 2	3	2 '"
expect_error tokenize_max_len_too_small 2 "--max-len: '1' is not an integer" tok --no-lowercase --max-len 1 "$T/two.txt"
expect_error tokenize_max_len_too_big 2 "--max-len 513 is above the model's limit of 512" tok --no-lowercase --max-len 513 "$T/two.txt"
expect_error tokenize_max_len_not_number 2 "--max-len: 'x'" tok --no-lowercase --max-len x "$T/two.txt"
expect tokenize_max_len_512 0 tok --no-lowercase --max-len 512 "$T/two.txt" -o "$T/512.tct"

# the default is 128
tok --no-lowercase "$T/two.txt" -o "$T/default.tct"
check tokenize_default_max_len test "$(attr "$T/default.tct" max_len)" = 128

# empty input: a valid file with N = 0
: > "$T/empty.txt"
expect tokenize_empty 0 tok --no-lowercase "$T/empty.txt" -o "$T/empty.tct"
check tokenize_empty_shape sh -c "tc-dump '$T/empty.tct' | grep -q 'input_ids *i32  \[0,128\]' && tc-dump --check '$T/empty.tct' > /dev/null"

# errors: one line naming the file and line; no partial output file
printf '1\tok\n2 no tab here\n' > "$T/notab.txt"
expect_error tokenize_missing_tab 1 "notab.txt: line 2: no tab between id and text" tok --no-lowercase "$T/notab.txt" -o "$T/notab.tct"
check tokenize_no_partial_output test ! -e "$T/notab.tct"
printf '1\tok\n\n' > "$T/blank.txt"
expect_error tokenize_blank_line 1 "line 2: no tab" tok --no-lowercase "$T/blank.txt" -o "$T/blank.tct"
expect tokenize_blank_line_no_ids 0 tok --no-lowercase --no-ids "$T/blank.txt" -o "$T/blank.tct"
check tokenize_blank_line_is_empty_doc sh -c "tc-dump --tsv lengths '$T/blank.tct' | sed -n 2p | grep -qx 2"
printf 'a\377\ttext\n' > "$T/badid.txt"
expect_error tokenize_bad_id 1 "line 1: the document id is not valid UTF-8" tok --no-lowercase "$T/badid.txt"
expect_error tokenize_missing_input 1 "nope.txt: cannot open" tok --no-lowercase "$T/nope.txt"
expect_error tokenize_vocab_needs_case 2 "--vocab needs --lowercase or --no-lowercase" tc-tokenize --vocab "$cased" "$T/two.txt"
expect_error tokenize_model_and_vocab 2 "--model and --vocab do not go together" tc-tokenize --model "$T" --vocab "$cased" --lowercase "$T/two.txt"
expect_error tokenize_bad_model 1 "nomodel: not a model directory" tc-tokenize --model "$T/nomodel" "$T/two.txt"
mkdir -p "$T/novocab"
expect_error tokenize_model_without_vocab 1 "novocab/vocab.txt: cannot open" tc-tokenize --model "$T/novocab" "$T/two.txt"
expect_error tokenize_missing_vocab 1 "nope.vocab: cannot open" tc-tokenize --vocab "$T/nope.vocab" --lowercase "$T/two.txt"
printf '[PAD]\n[CLS]\n[SEP]\n' > "$T/nounk.vocab"
expect_error tokenize_vocab_without_unk 1 "nounk.vocab: the vocabulary has no \[UNK\] token" tc-tokenize --vocab "$T/nounk.vocab" --lowercase "$T/two.txt"
expect_error tokenize_two_inputs 2 "one input at most" tok --no-lowercase "$T/two.txt" "$T/two.txt"
expect_error tokenize_unknown_option 2 "unknown option '--frobnicate'" tok --no-lowercase --frobnicate
expect_error tokenize_bad_threads 2 "--threads" tok --no-lowercase --threads 0 "$T/two.txt"
expect_error tokenize_bad_batch 2 "--batch" tok --no-lowercase --batch 0 "$T/two.txt"

# invalid UTF-8, NUL, CR LF: as tokenizers treats the decoded text
printf 'x\tCaf\377\376\303\251 na\000\303\257ve\r\n' > "$T/odd.txt"
printf 'x\tCafé naïve\n' > "$T/plain.txt"
tok --no-lowercase --max-len 12 "$T/odd.txt" -o "$T/odd.tct"
tok --no-lowercase --max-len 12 "$T/plain.txt" -o "$T/plain.tct"
tc-dump --tsv input_ids "$T/plain.tct" > "$T/plain.tsv"
check tokenize_bad_bytes_removed sh -c "tc-dump --tsv input_ids '$T/odd.tct' | cmp - '$T/plain.tsv'"

# line ends: no newline at the end, CR LF, a line longer than a read block
printf 'a\tHello World!\nb\tCafé naïve' > "$T/nofinal.txt"
tok --no-lowercase --max-len 10 "$T/nofinal.txt" -o "$T/nofinal.tct"
check tokenize_no_final_newline sh -c "tc-dump --tsv doc_ids,input_ids,lengths '$T/nofinal.tct' | cmp - '$T/want'"
printf 'a\tHello World!\r\nb\tCafé naïve\r\n' > "$T/crlf.txt"
tok --no-lowercase --max-len 10 "$T/crlf.txt" -o "$T/crlf.tct"
check tokenize_crlf sh -c "tc-dump --tsv doc_ids,input_ids,lengths '$T/crlf.tct' | cmp - '$T/want'"
awk 'BEGIN { printf "long\t"; for (i = 0; i < 300000; i++) printf "word%d ", i % 97; printf "\nb\tCafé naïve\n" }' > "$T/long.txt"
tok --no-lowercase --max-len 10 "$T/long.txt" -o "$T/long.tct"
check tokenize_long_line sh -c "tc-dump --tsv doc_ids,lengths '$T/long.tct' | tr '\n' ' ' | grep -qx 'long	10 b	9 '"
printf '\n\n' > "$T/newlines.txt"
tok --no-lowercase --no-ids "$T/newlines.txt" -o "$T/newlines.tct"
check tokenize_empty_lines sh -c "tc-dump --tsv doc_ids,lengths '$T/newlines.tct' | tr '\n' ' ' | grep -qx '0	2 1	2 '"

# threads and batches change nothing, order included
tok --no-lowercase --no-ids --max-len 64 --threads 1 "$adversarial" -o "$T/t1.tct"
rows "$T/t1.tct" > "$T/t1.tsv"
for args in "--threads 2 --batch 7" "--threads 3 --batch 1" "--threads 8 --batch 1000"; do
    tok --no-lowercase --no-ids --max-len 64 $args "$adversarial" -o "$T/tn.tct"
    check "tokenize_threads ($args)" sh -c "tc-dump --tsv doc_ids,input_ids,lengths '$T/tn.tct' | cmp - '$T/t1.tsv'"
done
check tokenize_adversarial_rows test "$(wc -l < "$T/t1.tsv")" -eq "$(wc -l < "$adversarial")"

# a stream of many batches: chunks arrive as rows are made
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%d\tdocument number %d, with words.\n", i, i }' > "$T/many.txt"
tok --no-lowercase --max-len 16 --batch 100 --threads 2 "$T/many.txt" -o "$T/many.tct"
check tokenize_many_rows sh -c "tc-dump '$T/many.tct' | grep -q 'input_ids *i32  \[3000,16\]'"
check tokenize_many_order sh -c "tc-dump --tsv doc_ids '$T/many.tct' | awk '\$1 != NR - 1 { exit 1 }'"

# --config: settings from YAML, the command line overriding them
printf 'tc-tokenize:\n  max-len: 6\n  lowercase: false\n  vocab: %s\n' "$cased" > "$T/config.yaml"
expect tokenize_config 0 tc-tokenize -q --config "$T/config.yaml" "$T/two.txt" -o "$T/config.tct"
check tokenize_config_applied test "$(attr "$T/config.tct" max_len)/$(attr "$T/config.tct" lowercase)" = 6/false
expect tokenize_config_override 0 tc-tokenize -q --config "$T/config.yaml" --max-len 7 "$T/two.txt" -o "$T/config2.tct"
check tokenize_config_overridden test "$(attr "$T/config2.tct" max_len)" = 7

# the progress line: on a terminal (the final line; in a pipe, --progress
# prints every few seconds of a long run), and never with -q
if command -v script > /dev/null 2>&1; then
    script -qec "tc-tokenize --vocab '$cased' --no-lowercase '$T/many.txt' -o '$T/p.tct'" /dev/null > "$T/tty" 2>&1
    check tokenize_progress_line grep -q 'tc-tokenize: 3000 docs (.*docs/s, done)' "$T/tty"
    script -qec "tc-tokenize --vocab '$cased' --no-lowercase '$T/two.txt'; echo status \$?" /dev/null > "$T/tty" 2>&1
    check tokenize_refuses_terminal grep -q 'refusing to write binary tensors to a terminal' "$T/tty"
    check tokenize_refuses_terminal_status grep -q 'status 1' "$T/tty"
    script -qec "tc-tokenize -f -q --vocab '$cased' --no-lowercase '$T/two.txt'; echo status \$?" /dev/null > "$T/tty" 2>&1
    check tokenize_force_terminal sh -c "grep -q 'status 0' '$T/tty' && ! grep -q refusing '$T/tty'"
else
    skip tokenize_progress_line "no script(1) to give the program a terminal"
fi
expect tokenize_quiet 0 tc-tokenize -q --progress --vocab "$cased" --no-lowercase "$T/many.txt" -o "$T/p.tct"
check tokenize_quiet_silent test ! -s "$T/err"

# --level: another compression, the same rows
tok --no-lowercase --max-len 10 --level 19 "$T/two.txt" -o "$T/level.tct"
check tokenize_level sh -c "tc-dump --tsv doc_ids,input_ids,lengths '$T/level.tct' | cmp - '$T/want'"
expect_error tokenize_bad_level 2 "--level" tok --no-lowercase --level 99 "$T/two.txt"

# -v: the vocabulary and settings, and the counts
expect tokenize_verbose 0 tc-tokenize -v --vocab "$cased" --no-lowercase "$T/two.txt" -o "$T/v.tct"
check tokenize_verbose_settings grep -q "cased_vocab.txt: $(wc -l < "$cased" | tr -d ' ') tokens, lowercase off, strip accents off, CJK splitting on" "$T/err"
check tokenize_verbose_counts grep -q '2 documents, .* bytes, 15 tokens' "$T/err"

# provenance
check tokenize_provenance sh -c "tc-dump --meta '$T/two.tct' | grep -q 'program = tc-tokenize'"

# the default model, where it is present
if [ -f "$model/vocab.txt" ]; then
    printf '1\tHello World!\n' > "$T/hello.txt"
    expect tokenize_model 0 tc-tokenize -q --model "$model" --max-len 8 "$T/hello.txt" -o "$T/hello.tct"
    # ids from tokenizers: Tokenizer.from_file(tokenizer.json)
    check tokenize_model_ids sh -c "tc-dump --tsv input_ids '$T/hello.tct' | grep -qx '101	7592	2088	999	102	0	0	0'"
    check tokenize_model_attrs test "$(attr "$T/hello.tct" lowercase)/$(attr "$T/hello.tct" vocab_size)" = true/30522
    expect tokenize_model_no_lowercase 0 tc-tokenize -q --model "$model" --no-lowercase --max-len 8 "$T/hello.txt" -o "$T/hello2.tct"
    check tokenize_model_override test "$(attr "$T/hello2.tct" lowercase)/$(attr "$T/hello2.tct" strip_accents)" = false/false
else
    skip tokenize_model "$model missing (make model)"
fi

# the manual's examples run as written (in a directory holding the files they name)
man_page=$TC_ROOT/man/man1/tc-tokenize.1
check tokenize_man_sections sh -c "for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES; do grep -q \"^.SH \$s\" '$man_page' || exit 1; done"
if [ -f "$model/vocab.txt" ]; then
    mkdir -p "$T/examples/models"
    ln -s "$model" "$T/examples/models/all-MiniLM-L6-v2"
    mpnet=$TC_ROOT/models/all-mpnet-base-v2
    [ -f "$mpnet/vocab.txt" ] && ln -s "$mpnet" "$T/examples/models/all-mpnet-base-v2"
    cp "$T/two.txt" "$T/examples/corpus.txt"
    cp "$T/three.txt" "$T/examples/docs.txt"
    cp "$cased" "$T/examples/vocab.txt"
    sed -n '/^\.SH EXAMPLES/,/^\.fi/p' "$man_page" | sed '1,2d;$d' > "$T/examples.sh"
    n=0
    while IFS= read -r command; do
        n=$((n + 1))
        case $command in *models/all-mpnet-base-v2*)
            [ -e "$T/examples/models/all-mpnet-base-v2" ] ||
                { skip "tokenize_man_example_$n" "$mpnet missing (make model NAME=all-mpnet-base-v2)"; continue; } ;;
        esac
        (cd "$T/examples" && sh -c "$command" > out 2> err)
        check "tokenize_man_example_$n ($command)" test $? -eq 0
    done < "$T/examples.sh"
    check tokenize_man_examples_found test "$n" -ge 4
else
    skip tokenize_man_examples "$model missing (make model)"
fi
