#!/bin/sh
# The layering of the source tree: prints every folder-to-folder include
# (a file in folder A that includes "B/x.h") and fails when the folders'
# includes form a cycle, naming the folders in it, or when a folder of
# common/ has no README.md. The order it finds is the build's layering,
# lowest first.
#
# usage: tests/layout.sh [ROOT]   (default: the tree this script is in)
#        tests/layout.sh --edges [ROOT]   prints "from to" per include edge
set -u
edges_only=0
[ "${1:-}" = --edges ] && { edges_only=1; shift; }
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

# One "from to" line per pair of folders; a folder's includes of itself
# make it a node with no edge out.
edges() {
    find common formats kernels tools -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' \) |
        sort | while read -r file; do
        from=$(dirname "$file")
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" | while read -r inc; do
            case "$inc" in */*) echo "$from $(dirname "$inc")" ;; *) echo "$from $from" ;; esac
        done
    done | sort -u
}

list=$(edges)
if [ "$edges_only" = 1 ]; then
    printf '%s\n' "$list" | awk '$1 != $2'
    exit 0
fi
# A depth-first search over the folder graph; the first back edge closes a
# cycle, printed as "a -> b -> ... -> a". Without a cycle: the folders in
# an order where each comes after what it includes (lowest first).
layers() {
    awk '$1 != $2 { out[$1] = out[$1] " " $2 } { node[$1]; node[$2] }
    function visit(v,    parts, n, i, w, k, cycle) {
        state[v] = 1; stack[++depth] = v
        n = split(out[v], parts, " ")
        for (i = 1; i <= n; i++) {
            w = parts[i]
            if (state[w] == 1) {
                for (k = 1; stack[k] != w; k++) ;
                for (cycle = ""; k <= depth; k++) cycle = cycle stack[k] " -> "
                print "cycle " cycle w
                found = 1
                return
            }
            if (!state[w]) { visit(w); if (found) return }
        }
        state[v] = 2; depth--; order = order " " v
    }
    END {
        for (v in node) if (!state[v]) { visit(v); if (found) exit 1 }
        print "order" order
    }'
}
status=0
result=$(printf '%s\n' "$list" | layers)
case "$result" in
cycle*) echo "layout: the folders include each other: ${result#cycle }"; status=1 ;;
esac
for d in common/*/ formats/ kernels/; do
    [ -f "$d/README.md" ] || { echo "layout: ${d%/} has no README.md"; status=1; }
done
[ "$status" = 0 ] && echo "layout: no cycle; lowest first:${result#order}"
exit "$status"
