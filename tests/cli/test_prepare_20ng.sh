# The preparation of the public 20 Newsgroups archive gives, post for post,
# the texts and labels of the prepared data in ../shared/data/20ng.
. "$TC_ROOT/tests/cli/lib.sh"
archive="$TC_DATA/20news-bydate.tar.gz"
if [ ! -f "$archive" ] || [ ! -d "$TC_DATA/20ng" ]; then
    skip prepare_20ng "$archive or $TC_DATA/20ng is missing"
    exit 0
fi
expect prepare 0 python3 "$TC_ROOT/scripts/prepare_20ng.py" "$archive" ng
check prepare_counts sh -c 'test $(wc -l < ng/train/corpus.txt) -eq 11314 && test $(wc -l < ng/test/corpus.txt) -eq 7532'
check prepare_classes cmp -s ng/labels.txt "$TC_DATA/20ng/labels.txt"
check prepare_same_posts python3 - "$TC_DATA/20ng" ng <<'PY'
import sys
def load(root, split):
    def table(name):
        return dict(l.rstrip("\n").split("\t", 1) for l in open(f"{root}/{split}/{name}", encoding="utf-8"))
    src, text, lab = table("sources.txt"), table("corpus.txt"), table("doc2labels.txt")
    return {src[i]: (text[i], lab[i]) for i in src}
for split in ("train", "test"):
    a, b = load(sys.argv[1], split), load(sys.argv[2], split)
    assert a.keys() == b.keys(), split
    diff = [k for k in a if a[k] != b[k]]
    assert not diff, f"{split}: {len(diff)} posts differ, e.g. {diff[0]}"
PY
check prepare_is_deterministic sh -c 'python3 "$TC_ROOT/scripts/prepare_20ng.py" "$1" ng2 > /dev/null && diff -r ng ng2' _ "$archive"
expect_error prepare_bad_archive 1 "prepare_20ng: .*" python3 "$TC_ROOT/scripts/prepare_20ng.py" /dev/null out
