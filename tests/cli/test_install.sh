# make install PREFIX=... puts every program and manual page in place.
. "$TC_ROOT/tests/cli/lib.sh"
expect install 0 make -s -C "$TC_ROOT" install PREFIX="$T/prefix"
for prog in "$TC_ROOT"/tools/tc-*.c; do
    p=$(basename "$prog" .c)
    check "install_$p" sh -c "test -x '$T/prefix/bin/$p' && '$T/prefix/bin/$p' --version > /dev/null && test -f '$T/prefix/share/man/man1/$p.1'"
done
check install_man5 test -f "$T/prefix/share/man/man5/tct.5"
check install_man_renders sh -c "MANPATH='$T/prefix/share/man' man -P cat tc-dump 2> /dev/null | grep -q 'show, check and export' || ! command -v man > /dev/null"
