#!/bin/sh
# Installs what the build and the tests need on a Debian or Ubuntu machine:
# the libraries (apt-get) and, in build/venv, the Python packages the tests
# compare against (pip). Safe to run again: it installs only what is missing.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --check   exit 1 if something is missing, installing nothing
#   scripts/deps.sh --peers   also the benchmarks' CPU peers (PyTorch, ONNX
#                             Runtime, OpenVINO: tests/bench/requirements-peers.txt)
#                             in build/peers-venv (make deps PEERS=1); with
#                             --check, count them too
set -u
cd "$(dirname "$0")/.."
check=0 peers=0
for arg in "$@"; do
    case $arg in
    --check) check=1 ;;
    --peers) peers=1 ;;
    *) echo "usage: scripts/deps.sh [--check] [--peers]" >&2; exit 2 ;;
    esac
done

packages="gcc make libzstd-dev zstd libyaml-dev libopenblas-dev libutf8proc-dev libjansson-dev
libcurl4-openssl-dev libdnnl-dev libopenmpi-dev openmpi-bin python3 python3-venv gnuplot-nox"

# clang and its libFuzzer runtime build the fuzz targets (make fuzz-smoke,
# part of make test). Optional: asked for where this system's archive has
# them; without them the fuzz targets skip, saying so.
optional="clang libclang-rt-dev"

missing=""
for p in $packages; do
    dpkg -s "$p" > /dev/null 2>&1 || missing="$missing $p"
done
missing_optional=""
for p in $optional; do
    dpkg -s "$p" > /dev/null 2>&1 || ! apt-cache show "$p" > /dev/null 2>&1 || missing_optional="$missing_optional $p"
done
# python3-venv is only needed where python3 lacks a working venv module
if python3 -c 'import venv, ensurepip' > /dev/null 2>&1; then
    missing=$(echo "$missing" | sed 's/ python3-venv//; s/ python3\( \|$\)/\1/')
fi

venv=build/venv
venv_ok() { [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c 'import numpy, tokenizers, tensorboard' > /dev/null 2>&1; }
# the peers' venv counts as complete when every pinned version is installed
peers_venv=build/peers-venv
peers_requirements=tests/bench/requirements-peers.txt
peers_ok() {
    [ "$peers" = 0 ] && return 0
    [ -x "$peers_venv/bin/python3" ] && "$peers_venv/bin/python3" - "$peers_requirements" > /dev/null 2>&1 << 'EOF'
import sys
from importlib.metadata import version
pins = [l.split("#")[0].strip().split("==") for l in open(sys.argv[1])]
sys.exit(any(version(p[0]) != p[1] for p in pins if len(p) == 2))
EOF
}

if [ "$check" = 1 ]; then
    [ -z "$missing$missing_optional" ] && venv_ok && peers_ok && exit 0
    [ -n "$missing$missing_optional" ] && echo "deps: missing Debian packages:$missing$missing_optional"
    venv_ok || echo "deps: the test Python environment ($venv) is missing"
    peers_ok || echo "deps: the benchmarks' peers ($peers_venv, $peers_requirements) are missing"
    exit 1
fi

if [ -n "$missing$missing_optional" ]; then
    echo "deps: installing$missing$missing_optional"
    if [ "$(id -u)" = 0 ]; then sudo=""
    elif command -v sudo > /dev/null 2>&1; then sudo="sudo"
    elif [ -z "$missing" ]; then
        echo "deps: no root or sudo to install$missing_optional (the fuzz targets will skip)" >&2
        sudo=none
    else
        echo "deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
if [ -n "$missing" ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing > /dev/null ||
        { echo "deps: apt-get install failed" >&2; exit 1; }
    # the package lists are fresh now: ask again which optional ones exist
    missing_optional=""
    for p in $optional; do
        dpkg -s "$p" > /dev/null 2>&1 || ! apt-cache show "$p" > /dev/null 2>&1 || missing_optional="$missing_optional $p"
    done
fi
if [ -n "$missing_optional" ] && [ "${sudo:-}" != none ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_optional > /dev/null ||
        echo "deps: could not install$missing_optional (the fuzz targets will skip)" >&2
fi

if ! venv_ok; then
    echo "deps: creating $venv with the test packages (tests/requirements.txt)"
    mkdir -p build
    python3 -m venv "$venv" && "$venv/bin/python3" -m pip install -q --upgrade pip > /dev/null &&
        "$venv/bin/python3" -m pip install -q -r tests/requirements.txt ||
        { echo "deps: pip install failed (tests that compare with numpy or tokenizers will skip)" >&2; exit 1; }
fi
if ! peers_ok; then
    echo "deps: installing the benchmarks' peers in $peers_venv ($peers_requirements)"
    mkdir -p build
    { [ -x "$peers_venv/bin/python3" ] || python3 -m venv "$peers_venv"; } &&
        "$peers_venv/bin/python3" -m pip install -q --upgrade pip > /dev/null &&
        "$peers_venv/bin/python3" -m pip install -q -r "$peers_requirements" ||
        { echo "deps: pip install of the peers failed (their benchmark rows will skip)" >&2; exit 1; }
fi
echo "deps: everything is installed"
