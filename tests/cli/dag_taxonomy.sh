#!/bin/sh
# Writes a taxonomy whose root-to-leaf paths multiply: LEVELS levels of
# WIDTH classes, every class of a level a parent of every class of the next,
# so WIDTH^LEVELS paths from LEVELS*WIDTH classes (66 levels of 2: 2^66).
# Names are l<LEVEL>c<INDEX>.
#
# usage: dag_taxonomy.sh LEVELS WIDTH DIR   (writes DIR/labels.txt and
#        DIR/label_hierarchy.txt, the layout 'tc-taxo build DIR' reads)
set -eu
[ $# -eq 3 ] || { echo "usage: dag_taxonomy.sh LEVELS WIDTH DIR" >&2; exit 2; }
mkdir -p "$3"
awk -v levels="$1" -v width="$2" -v dir="$3" 'BEGIN {
    labels = dir "/labels.txt"; hierarchy = dir "/label_hierarchy.txt"
    printf "" > hierarchy
    for (l = 0; l < levels; l++)
        for (i = 0; i < width; i++) {
            printf "%d\tl%dc%d\n", l * width + i, l, i > labels
            if (l + 1 < levels)
                for (j = 0; j < width; j++) printf "%d\t%d\n", l * width + i, (l + 1) * width + j > hierarchy
        }
}'
