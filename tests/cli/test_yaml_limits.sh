# YAML files a program reads (--config, tc-taxo build --yaml) cannot make
# unbounded work: nested aliases ("billion laughs"), an alias inside the node
# it names, nesting past the limit, a second document and an oversized config
# are each one line naming the file (and the line), exit 2 for a config (a
# usage error) and 1 for a taxonomy; nothing is dropped silently.
. "$TC_ROOT/tests/cli/lib.sh"

# Memory is bounded: the checks run under a 2 GB address space (not under
# the sanitizers, whose shadow memory needs far more). OpenBLAS is left as it
# comes: the programs pin it to one thread themselves under a limit.
bounded() {
    if [ "${TC_SANITIZE:-0}" = 1 ]; then "$@"; else (ulimit -v 2000000 && exec "$@"); fi
}

# 451 bytes that expand to 9^9 strings when followed naively
laughs() { # TOP-KEY
    printf 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev=a
    for k in b c d e f g h; do
        printf '%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n' $k $k $prev $prev $prev $prev $prev $prev $prev $prev $prev
        prev=$k
    done
    printf '%s: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n' "$1"
}
laughs tc-tokenize > laughs.yaml
expect_error config_laughs 2 "^tc-tokenize: laughs.yaml: line [0-9]+: aliases expand the document by more than 1024 KiB$" \
    bounded tc-tokenize --config laughs.yaml
# the same in a section a program never reads is refused too: the whole file is checked
laughs tc-encode > laughs2.yaml
# a program linking OpenBLAS ends too under the limit (its threads, started
# at load, cannot get their buffers there: without the programs' own pin to
# one thread, the process would hang at exit)
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    skip config_laughs_blas "ulimit -v does not work with the sanitizers"
else
    expect_error config_laughs_blas 2 "^tc-encode: laughs2.yaml: line [0-9]+: aliases expand" \
        sh -c 'ulimit -v 1000000 && exec timeout 60 tc-encode --config laughs2.yaml'
fi
expect_error config_laughs_other_section 2 "^tc-tokenize: laughs2.yaml: line [0-9]+: aliases expand" \
    bounded tc-tokenize --config laughs2.yaml

# 20 levels of nesting: refused with the line where it passes 16
awk 'BEGIN { print "tc-tokenize:"; for (i = 1; i <= 20; i++) { s = ""; for (j = 0; j < i; j++) s = s "  "; print s "k" i ":" } }' > deep.yaml
expect_error config_deep 2 "^tc-tokenize: deep.yaml: line 17: nested more than 16 levels deep$" tc-tokenize --config deep.yaml
# ... also when the depth comes through an alias
{ printf 'x: &x {a: {b: {c: {d: {e: {f: {g: {h: 1}}}}}}}}\n'
  printf 'tc-tokenize: {a: {b: {c: {d: {e: {f: {g: {h: {i: *x}}}}}}}}}\n'; } > deep_alias.yaml
expect_error config_deep_alias 2 "^tc-tokenize: deep_alias.yaml: line 1: nested more than 16 levels deep$" \
    tc-tokenize --config deep_alias.yaml
# sixteen levels are still read (and an unknown setting there is named, not dropped)
awk 'BEGIN { print "tc-tokenize:"; for (i = 1; i <= 14; i++) { s = ""; for (j = 0; j < i; j++) s = s "  "; print s "k" i ":" } }' > deep_ok.yaml
printf '  max-len: nine\n' >> deep_ok.yaml
expect_error config_sixteen_levels_read 2 "^tc-tokenize: --max-len: 'nine' is not an integer" tc-tokenize --config deep_ok.yaml

printf 'tc-tokenize: &s {max-len: *s}\n' > cycle.yaml
expect_error config_alias_cycle 2 "^tc-tokenize: cycle.yaml: line 1: an alias inside the node it names" \
    tc-tokenize --config cycle.yaml
printf 'tc-tokenize: {max-len: 8}\n---\ntc-tokenize: {max-len: nine}\n' > two.yaml
expect_error config_second_document 2 "^tc-tokenize: two.yaml: line 3: a second YAML document; the file must hold one$" \
    tc-tokenize --config two.yaml
{ printf 'tc-tokenize:\n'; head -c 1100000 /dev/zero | tr '\0' '#'; printf '\n'; } > big.yaml
expect_error config_too_long 2 "^tc-tokenize: big.yaml: longer than 1024 KiB$" tc-tokenize --config big.yaml
mkdir -p config_dir
expect_error config_directory 2 "^tc-tokenize: config_dir: read failed: Is a directory$" tc-tokenize --config config_dir
printf 'tc-tokenize: {max-len: 8\n' > broken.yaml
expect_error config_syntax 2 "^tc-tokenize: broken.yaml: line 2: " tc-tokenize --config broken.yaml
# aliases a config may well use still work
printf 'common: &common {max-len: nine}\ntc-tokenize: *common\n' > alias_ok.yaml
expect_error config_alias_used 2 "^tc-tokenize: --max-len: 'nine' is not an integer" tc-tokenize --config alias_ok.yaml

# taxonomies
printf 'top:\n  a: &a {x1: ~, x2: ~}\n  b: *a\n' > shared.yaml
expect taxonomy_alias_ok 0 tc-taxo build --yaml shared.yaml -o shared.tct
printf 'a: &a {b: *a}\n' > tcycle.yaml
expect_error taxonomy_alias_cycle 1 "^tc-taxo: tcycle.yaml: line 1: an alias inside the node it names" \
    tc-taxo build --yaml tcycle.yaml -o t.tct
awk 'BEGIN { for (i = 0; i <= 1001; i++) { s = ""; for (j = 0; j < i; j++) s = s " "; print s "c" i ":" } }' > tdeep.yaml
expect_error taxonomy_deep 1 "^tc-taxo: tdeep.yaml: line 1001: nested more than 1000 levels deep$" \
    tc-taxo build --yaml tdeep.yaml -o t.tct
# 9^10 leaves' worth of aliases, flat lists (no repeated edge stops the walk early)
{ printf 'a: &a [l1,l2,l3,l4,l5,l6,l7,l8,l9]\n'
  prev=a
  for k in b c d e f g h i j; do printf '%s: &%s [{%s1: *%s},{%s2: *%s},{%s3: *%s}]\n' $k $k $k $prev $k $prev $k $prev; prev=$k; done; } > tlaughs.yaml
expect_error taxonomy_laughs 1 "^tc-taxo: tlaughs.yaml: line [0-9]+: (aliases expand the document by more than|.* is listed twice)" \
    bounded tc-taxo build --yaml tlaughs.yaml -o t.tct
check taxonomy_failures_write_nothing test ! -e t.tct
