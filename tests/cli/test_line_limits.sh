# Lines are read in bounded pieces: a corpus line that never ends is cut to
# its first 1 MiB by tc-tokenize (memory bounded, the document tokenized, a
# note), and any other text file (labels, hierarchy, doc2labels) refuses a
# line over 1 MiB on one line naming the file and the line.
. "$TC_ROOT/tests/cli/lib.sh"

cased=$TC_ROOT/tests/golden/cased_vocab.txt
tok() { tc-tokenize --vocab "$cased" --no-lowercase --max-len 8 "$@"; }
rows() { tc-dump --tsv doc_ids,input_ids,lengths "$1"; }
# Memory is bounded: 250 MB of address space, less than a 200 MB line would
# take (not under the sanitizers, whose shadow memory needs far more; two
# threads, as more threads' stacks would not fit; OpenBLAS is pinned to one
# thread by the programs themselves under a limit).
bounded() {
    if [ "${TC_SANITIZE:-0}" = 1 ]; then "$@"; else (ulimit -v 250000 && exec "$@"); fi
}
letters() { head -c "$1" /dev/zero | tr '\0' a; }

# 200 MB on one line without a newline, after a short document
{ printf 'd0\tHello world\nd1\tHello world '; letters 200000000; } > endless.txt
expect_error tokenize_endless_line 0 "^tc-tokenize: 1 document longer than 1024 KiB: tokenized from its first 1024 KiB$" \
    bounded tc-tokenize --threads 2 --vocab "$cased" --no-lowercase --max-len 8 endless.txt -o endless.tct
# the document as its first MiB gives (here: the same tokens as the whole)
{ printf 'd0\tHello world\nd1\tHello world '; letters $((1048576 - 15)); printf '\n'; } > first_mib.txt
expect tokenize_first_mib 0 tok -q first_mib.txt -o first_mib.tct
rows endless.tct > endless.rows
rows first_mib.tct > first_mib.rows
check tokenize_endless_rows cmp endless.rows first_mib.rows
check tokenize_endless_two_docs test "$(wc -l < endless.rows)" -eq 2
# ... and in the middle of a corpus, from stdin: the documents after it are all there
{ printf 'Hello\n'; letters 200000000; printf ' world\nworld\n'; } > middle.txt
expect tokenize_long_line_stdin 0 bounded sh -c "tc-tokenize -q --threads 2 --vocab '$cased' --no-lowercase --max-len 8 --no-ids < middle.txt > middle.tct"
{ printf 'Hello\n'; letters 200; printf '\nworld\n'; } > middle_want.txt
expect tokenize_long_line_want 0 tok -q --no-ids middle_want.txt -o middle_want.tct
check tokenize_long_line_rows sh -c "tc-dump --tsv doc_ids,input_ids middle.tct > a && tc-dump --tsv doc_ids,input_ids middle_want.tct > b && cmp a b && test \$(wc -l < a) -eq 3"
rm -f endless.txt middle.txt first_mib.txt endless.tct

# text files other than a corpus: one line naming the file and the line
printf '0\ta\n1\t' > labels.txt
letters 1100000 >> labels.txt
printf '\n' >> labels.txt
expect_error labels_long_line 1 "^tc-taxo: labels.txt: line 2: a line longer than 1024 KiB$" \
    bounded tc-taxo build --labels labels.txt -o t.tct
printf '0\ta\n1\tb\n' > labels2.txt
{ printf '0\t1\n'; letters 2000000; } > hierarchy.txt
expect_error hierarchy_long_line 1 "^tc-taxo: hierarchy.txt: line 2: a line longer than 1024 KiB$" \
    bounded tc-taxo build --labels labels2.txt --hierarchy hierarchy.txt -o t.tct
check long_lines_write_nothing test ! -e t.tct
expect build_small 0 tc-taxo build --labels labels2.txt --hierarchy /dev/null -o small.tct
{ printf 'doc1\t0\ndoc2\t'; letters 1048577; printf '\n'; } > doc2labels.txt
expect_error doc2labels_long_line 1 "^tc-taxo: doc2labels.txt: line 2: a line longer than 1024 KiB$" \
    tc-taxo show --counts doc2labels.txt small.tct
# a line of exactly 1 MiB (and its CR) is read
{ printf 'doc1\t0\ndoc2\t'; head -c $((1048576 - 5)) /dev/zero | tr '\0' ' '; printf '\r\n'; } > doc2labels_max.txt
expect doc2labels_max_line 0 tc-taxo show --counts doc2labels_max.txt small.tct
check doc2labels_max_read grep -q "doc2labels_max.txt: 2 documents" err
