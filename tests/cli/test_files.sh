# The files of a run, checked before any work (common/cli/files.h): every
# program refuses an output that is the same file as one of its inputs or as
# another of its outputs, whatever the names (./x, a hard link, a symlink,
# stdin or stdout redirected), and an output that cannot be created (a
# directory, a missing or read-only directory): exit 1, one line naming the
# file(s), no input changed, and nothing read first (a FIFO input that
# nobody writes would hang a program that opened it).
. "$TC_ROOT/tests/cli/lib.sh"
H=$TC_HELPERS
"$H/train-fixture" fx 48 > /dev/null 2>&1 || { fail setup "train-fixture failed"; exit 0; }
printf 'a\tsome text\n' > corpus.txt
mkdir imp d
printf 'g0\ttext\n' > imp/generated_docs.txt
printf '{}\n' > imp/generated_doc2label.json
ln fx/tokens.tct hard.tct
ln -s fx/tokens.tct sym.tct
mkfifo never.fifo
sums() { cksum fx/*.tct fx/model/* corpus.txt imp/*; }
sums > before.sum

# refused NAME REGEX CMD...: exit 1, one line matching REGEX, no input changed
refused() {
    name=$1 regex=$2
    shift 2
    expect_error "$name" 1 "$regex" "$@"
    sums > after.sum
    check "${name}_inputs_kept" cmp before.sum after.sum
}

# ---------------------------------------------------------------- the same file, by any name

refused dump_o_input '^tc-dump: -o fx/tokens.tct is the same file as the input fx/tokens.tct$' \
    tc-dump --tsv doc_ids fx/tokens.tct -o fx/tokens.tct
refused dump_o_dot 'tc-dump: -o ./fx/tokens.tct is the same file as the input fx/tokens.tct' \
    tc-dump --tsv doc_ids fx/tokens.tct -o ./fx/tokens.tct
refused dump_o_hard_link 'tc-dump: -o hard.tct is the same file as the input fx/tokens.tct' \
    tc-dump --tsv doc_ids fx/tokens.tct -o hard.tct
refused dump_o_symlink 'tc-dump: -o sym.tct is the same file as the input fx/tokens.tct' \
    tc-dump --tsv doc_ids fx/tokens.tct -o sym.tct
refused dump_o_stdin 'tc-dump: -o fx/tokens.tct is the same file as stdin' \
    sh -c 'tc-dump --tsv doc_ids -o fx/tokens.tct < fx/tokens.tct'
refused dump_stdout_input 'tc-dump: stdout is the same file as the input fx/tokens.tct' \
    sh -c 'tc-dump --tsv doc_ids fx/tokens.tct >> fx/tokens.tct'
expect dump_o_inputs_may_share 0 tc-dump --tsv doc_ids hard.tct -o dump.tsv
expect dump_o_device 0 tc-dump --tsv doc_ids fx/tokens.tct -o /dev/null
check dump_o_device_kept test -c /dev/null

refused tokenize_o_input 'tc-tokenize: -o corpus.txt is the same file as the input corpus.txt' \
    tc-tokenize --vocab fx/model/vocab.txt --lowercase corpus.txt -o corpus.txt
refused tokenize_o_vocab 'tc-tokenize: -o fx/model/vocab.txt is the same file as --vocab fx/model/vocab.txt' \
    tc-tokenize --vocab fx/model/vocab.txt --lowercase corpus.txt -o fx/model/vocab.txt
refused encode_o_model 'tc-encode: -o fx/model/model.safetensors is the same file as --model fx/model/model.safetensors' \
    tc-encode --gpus none -m fx/model fx/tokens.tct -o fx/model/model.safetensors
refused encode_o_input 'tc-encode: -o fx/tokens.tct is the same file as the input fx/tokens.tct' \
    tc-encode --gpus none -m fx/model fx/tokens.tct -o fx/tokens.tct
refused predict_o_input 'tc-predict: -o fx/tokens.tct is the same file as the input fx/tokens.tct' \
    tc-predict --gpus none -m fx/model fx/tokens.tct -o fx/tokens.tct
refused predict_o_taxonomy 'tc-predict: -o fx/taxonomy.tct is the same file as --taxonomy fx/taxonomy.tct' \
    tc-predict --gpus none -m fx/model -t fx/taxonomy.tct fx/tokens.tct -o fx/taxonomy.tct
refused eval_o_gold 'tc-eval: -o corpus.txt is the same file as --gold corpus.txt' \
    tc-eval --gold corpus.txt -t fx/taxonomy.tct fx/tokens.tct -o corpus.txt

train="-q -m fx/model --class-vectors fx/class_vectors.tct --gpus none"
refused train_log_tokens 'tc-train: --log fx/tokens.tct is the same file as TOKENS fx/tokens.tct' \
    tc-train $train --log fx/tokens.tct -o run fx/tokens.tct fx/targets.tct
refused train_log_class_vectors 'tc-train: --log ./fx/class_vectors.tct is the same file as --class-vectors fx/class_vectors.tct' \
    tc-train $train --log ./fx/class_vectors.tct -o run fx/tokens.tct fx/targets.tct
check train_refused_no_directory test ! -e run
refused train_o_file 'tc-train: -o corpus.txt: not a directory' tc-train $train -o corpus.txt fx/tokens.tct fx/targets.tct
refused train_plot_over_log 'tc-train: -o corpus.txt is the same file as --plot corpus.txt' \
    tc-train --plot corpus.txt -o corpus.txt

refused taxo_build_labels 'tc-taxo: -o corpus.txt is the same file as --labels corpus.txt' \
    tc-taxo build --labels corpus.txt -o corpus.txt
refused taxo_show 'tc-taxo: -o fx/taxonomy.tct is the same file as the input fx/taxonomy.tct' \
    tc-taxo show fx/taxonomy.tct -o fx/taxonomy.tct
refused taxo_show_counts 'tc-taxo: -o corpus.txt is the same file as --counts corpus.txt' \
    tc-taxo show --counts corpus.txt fx/taxonomy.tct -o corpus.txt
refused taxo_terms 'tc-taxo: -o fx/taxonomy.tct is the same file as --taxonomy fx/taxonomy.tct' \
    tc-taxo terms -t fx/taxonomy.tct corpus.txt -o fx/taxonomy.tct
refused taxo_targets 'tc-taxo: -o fx/targets.tct is the same file as the input fx/targets.tct' \
    tc-taxo targets -t fx/taxonomy.tct fx/targets.tct -o fx/targets.tct
refused taxo_enrich 'tc-taxo: -o corpus.txt is the same file as the input corpus.txt' \
    tc-taxo enrich -t fx/taxonomy.tct --core fx/targets.tct --embeddings fx/class_vectors.tct corpus.txt -o corpus.txt

refused augment_docs_over_corpus 'tc-augment: --docs-out corpus.txt is the same file as --corpus corpus.txt' \
    tc-augment -t fx/taxonomy.tct --docs-out corpus.txt --corpus corpus.txt --import imp
refused augment_docs_over_import 'tc-augment: --docs-out imp/generated_docs.txt is the same file as --import imp/generated_docs.txt' \
    tc-augment -t fx/taxonomy.tct --docs-out imp/generated_docs.txt --import imp
refused augment_docs_over_labels 'tc-augment: --docs-out aug.txt is the same file as -o ./aug.txt' \
    tc-augment -t fx/taxonomy.tct --docs-out aug.txt --import imp -o ./aug.txt
check augment_refused_wrote_nothing test ! -e aug.txt
refused augment_report_over_taxonomy 'tc-augment: --report fx/taxonomy.tct is the same file as --taxonomy fx/taxonomy.tct' \
    tc-augment -t fx/taxonomy.tct --docs-out aug.txt --import imp --report fx/taxonomy.tct
refused augment_two_stdouts 'tc-augment: --report - and -o - both write to stdout' \
    tc-augment -t fx/taxonomy.tct --docs-out aug.txt --import imp --report -

refused refine_candidates_over_labels 'tc-refine: --candidates c.tct is the same file as -o ./c.tct' \
    tc-refine annotate --taxonomy fx/taxonomy.tct --terms fx/class_vectors.tct --candidates c.tct -o ./c.tct fx/tokens.tct
refused refine_o_terms 'tc-refine: -o fx/class_vectors.tct is the same file as --terms fx/class_vectors.tct' \
    tc-refine annotate --taxonomy fx/taxonomy.tct --terms fx/class_vectors.tct -o fx/class_vectors.tct fx/tokens.tct
refused refine_o_corpus 'tc-refine: -o corpus.txt is the same file as --corpus corpus.txt' \
    tc-refine refine --taxonomy fx/taxonomy.tct --annotation fx/targets.tct --corpus corpus.txt -o corpus.txt fx/tokens.tct

# ---------------------------------------------------------------- outputs that cannot be created

refused dump_o_directory '^tc-dump: -o d: is a directory$' timeout 10 tc-dump --tsv doc_ids never.fifo -o d
refused dump_o_missing_directory '^tc-dump: -o nowhere/x.tsv: cannot create: nowhere: No such file or directory$' \
    timeout 10 tc-dump --tsv doc_ids never.fifo -o nowhere/x.tsv
refused dump_o_under_a_file '^tc-dump: -o corpus.txt/x.tsv: Not a directory$' \
    timeout 10 tc-dump --tsv doc_ids never.fifo -o corpus.txt/x.tsv
refused tokenize_o_directory '^tc-tokenize: -o d: is a directory$' \
    timeout 10 tc-tokenize --vocab fx/model/vocab.txt --lowercase never.fifo -o d
refused augment_docs_directory '^tc-augment: --docs-out d: is a directory$' \
    tc-augment -t fx/taxonomy.tct --docs-out d --import imp
refused train_o_missing_parent '^tc-train: -o nowhere/run: cannot create: nowhere: No such file or directory$' \
    tc-train $train -o nowhere/run fx/tokens.tct fx/targets.tct
if [ "$(id -u)" = 0 ]; then
    skip dump_o_read_only_directory "root writes into any directory"
else
    mkdir ro && chmod 555 ro
    refused dump_o_read_only_directory '^tc-dump: -o ro/x.tsv: cannot create: ro: Permission denied$' \
        timeout 10 tc-dump --tsv doc_ids never.fifo -o ro/x.tsv
    chmod 755 ro
fi
