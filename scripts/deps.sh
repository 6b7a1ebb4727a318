#!/bin/sh
# Installs what the build and the tests need on a Debian or Ubuntu machine:
# the libraries (apt-get) and, in build/venv, the Python packages the tests
# compare against (pip). Safe to run again: it installs only what is missing.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --check   exit 1 if something is missing, installing nothing
set -u
cd "$(dirname "$0")/.."

packages="gcc make libzstd-dev zstd libyaml-dev libopenblas-dev libutf8proc-dev libjansson-dev
libcurl4-openssl-dev libopenmpi-dev openmpi-bin python3 python3-venv gnuplot-nox"

missing=""
for p in $packages; do
    dpkg -s "$p" > /dev/null 2>&1 || missing="$missing $p"
done
# python3-venv is only needed where python3 lacks a working venv module
if python3 -c 'import venv, ensurepip' > /dev/null 2>&1; then
    missing=$(echo "$missing" | sed 's/ python3-venv//; s/ python3\( \|$\)/\1/')
fi

venv=build/venv
venv_ok() { [ -x "$venv/bin/python3" ] && "$venv/bin/python3" -c 'import numpy, tokenizers' > /dev/null 2>&1; }

if [ "${1:-}" = --check ]; then
    [ -z "$missing" ] && venv_ok && exit 0
    [ -n "$missing" ] && echo "deps: missing Debian packages:$missing"
    venv_ok || echo "deps: the test Python environment ($venv) is missing"
    exit 1
fi

if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    if [ "$(id -u)" = 0 ]; then sudo=""
    elif command -v sudo > /dev/null 2>&1; then sudo="sudo"
    else
        echo "deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing > /dev/null ||
        { echo "deps: apt-get install failed" >&2; exit 1; }
fi

if ! venv_ok; then
    echo "deps: creating $venv with the test packages (tests/requirements.txt)"
    mkdir -p build
    python3 -m venv "$venv" && "$venv/bin/python3" -m pip install -q --upgrade pip > /dev/null &&
        "$venv/bin/python3" -m pip install -q -r tests/requirements.txt ||
        { echo "deps: pip install failed (tests that compare with numpy or tokenizers will skip)" >&2; exit 1; }
fi
echo "deps: everything is installed"
