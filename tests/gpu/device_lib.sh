# Sourced by tests/gpu/device-check.sh: the summary, bounded steps, and the
# carried bundle (binaries built here plus the shared libraries they need
# that a bare GPU machine may lack).

# The programs, test helpers and GPU tests the kit runs; every
# tests/gpu/test_gpu_* binary is taken by pattern.
KIT_PROGRAMS="tc-encode tc-refine tc-train tc-predict tc-dump tc-tokenize tc-taxo"
KIT_HELPERS="emb-compare refine-fixture train-fixture st-diff golden-pack"
# What the GPU machine has or must provide itself: the C library and the
# loader, the CUDA driver and toolkit libraries (found there, never carried).
KIT_NOT_CARRIED='^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libcuda|libnvidia-|libcudart|libcublas|libcublasLt|libnccl)[.-]'
KIT_LIMIT_MIB=64

# summary STATUS CHECK DETAILS: one line of the verdict, on stdout and in
# $SUMMARY (steps running side by side append to it alike).
summary() {
    printf '%-4s %-28s %s\n' "$1" "$2" "$3" | tee -a "$SUMMARY"
}

# budget SECONDS: SECONDS, or less when the kit's deadline is nearer.
budget() {
    left=$((KIT_DEADLINE - $(date +%s)))
    [ "$left" -lt "$1" ] && echo $((left > 5 ? left : 5)) || echo "$1"
}

# enough SECONDS CHECK: whether SECONDS are left before the kit's deadline;
# if not, CHECK is skipped, saying so.
enough() {
    [ $((KIT_DEADLINE - $(date +%s))) -ge "$1" ] && return 0
    summary SKIP "$2" "not started: under $1 s of the kit's time left"
    return 1
}

# mib BYTES: bytes as MiB with one decimal.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# tree_bytes ROOT: what travels of the git tree (tracked and untracked files
# that git does not ignore).
tree_bytes() {
    (cd "$1" && git ls-files -co --exclude-standard -z | xargs -0 -r du -cb 2> /dev/null | awk '$2 == "total" { s += $1 } END { print s + 0 }')
}

# needed_libs FILE...: "name path" of every shared library the files load
# that a GPU machine is not sure to have.
needed_libs() {
    ldd "$@" 2> /dev/null |
        awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u | grep -Ev "$KIT_NOT_CARRIED"
}

# make_bundle BIN TESTBIN MODEL_DIR DEST GZIP_LEVEL [ARCHS]: DEST/bundle.tar.gz
# and DEST/MANIFEST from a build's programs and tests (ARCHS: the GPU code
# it was built for, when cuobjdump is not here to read it). Debug sections are
# stripped; the model directory goes without its weights (the GPU machine
# makes random ones of the same shape).
make_bundle() {
    src_bin=$1 src_tests=$2 model_dir=$3 dest=$4 level=$5 built_for=${6:-}
    stage=$(mktemp -d "${TMPDIR:-/tmp}/tc-bundle.XXXXXX")
    mkdir -p "$stage/bin" "$stage/tests/helpers" "$stage/lib" "$stage/model" "$dest"
    copy_bin() { strip --strip-debug -o "$2" "$1" 2> /dev/null || cp "$1" "$2"; }
    for p in $KIT_PROGRAMS; do copy_bin "$src_bin/$p" "$stage/bin/$p" || return 1; done
    for h in $KIT_HELPERS; do copy_bin "$src_tests/helpers/$h" "$stage/tests/helpers/$h" || return 1; done
    for t in "$src_tests"/test_gpu_*; do
        case $t in *.o | *.d) continue ;; esac
        [ -x "$t" ] && { copy_bin "$t" "$stage/tests/$(basename "$t")" || return 1; }
    done
    bundle_mpi "$stage/mpi" || rm -rf "$stage/mpi"
    needed_libs "$stage"/bin/* "$stage"/tests/test_gpu_* "$stage"/tests/helpers/* $(mpi_files "$stage") |
        while read -r name path; do cp -L "$path" "$stage/lib/$name" || exit 1; done || return 1
    if [ -f "$model_dir/vocab.txt" ]; then
        (cd "$model_dir" && find . -type f ! -name '*.safetensors' ! -name '*.bin' ! -name '*.onnx' ! -name '*.h5' \
            ! -path './onnx/*' ! -path './openvino/*' -size -2M | tar -cf - -T -) | tar -C "$stage/model" -xf - || return 1
    fi
    smoke=$stage/tests/test_gpu_smoke
    archs=$(cuobjdump --list-elf "$smoke" 2> /dev/null | grep -o 'sm_[0-9]*a*' | sort -u | tr '\n' ' ')
    ptx=$(cuobjdump --list-ptx "$smoke" 2> /dev/null | grep -o 'sm_[0-9]*a*' | sort -u | tr '\n' ' ')
    glibc=$(for f in "$stage"/bin/* "$stage"/tests/test_gpu_* "$stage"/lib/*; do objdump -T "$f" 2> /dev/null; done |
        grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n 1)
    {
        echo "commit $(git -C "$KIT_ROOT" rev-parse --short HEAD 2> /dev/null || echo unknown)"
        echo "made $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -m) from $src_bin"
        echo "cubin ${archs:-${built_for:-unknown (no cuobjdump here)}}"
        if command -v cuobjdump > /dev/null 2>&1; then echo "ptx ${ptx:-none}"; else echo "ptx unknown (no cuobjdump here)"; fi
        echo "glibc ${glibc:-unknown}"
        echo "programs $(ls "$stage/bin" | tr '\n' ' ')"
        echo "tests $(ls "$stage/tests" | grep test_gpu_ | tr '\n' ' ')"
        echo "libs $(ls "$stage/lib" | tr '\n' ' ')"
        echo "model $(ls "$stage/model" | tr '\n' ' ')"
        echo "mpi $([ -d "$stage/mpi" ] && echo "Open MPI's mpirun, components and PMIx" || echo none)"
    } > "$dest/MANIFEST"
    tar -C "$stage" -cf - . | gzip "-$level" > "$dest/bundle.tar.gz.tmp" && mv "$dest/bundle.tar.gz.tmp" "$dest/bundle.tar.gz"
    status=$?
    rm -rf "$stage"
    return $status
}

# bundle_mpi DEST: Open MPI's launcher with its components, help texts and
# settings, and PMIx's, so that tc-train's one-rank run under mpirun needs
# no MPI on the GPU machine (mpi_env relocates them). Fails where this is
# no Open MPI 4.
bundle_mpi() {
    command -v ompi_info > /dev/null 2>&1 && command -v mpirun > /dev/null 2>&1 || return 1
    mpirun --version 2>&1 | grep -q 'Open MPI.* 4\.' || return 1
    path_of() { ompi_info --path all 2> /dev/null | sed -n "s/^ *$1: //p" | head -n 1; }
    pkglib=$(path_of Pkglibdir) pkgdata=$(path_of Pkgdatadir) sysconf=$(path_of Sysconfdir)
    pmix_lib=$(ldd "$pkglib"/mca_pmix_ext*.so 2> /dev/null | awk '$1 ~ /^libpmix/ { print $3; exit }')
    pmix_dir=$(dirname "$(readlink -f "$pmix_lib")")
    [ -d "$pkglib" ] && [ -d "$pkgdata" ] && [ -d "$pmix_dir/pmix" ] || return 1
    mkdir -p "$1/bin" "$1/lib" "$1/share" "$1/etc" "$1/pmix" &&
        cp -L "$(command -v mpirun)" "$1/bin/mpirun" &&
        cp -RL "$pkglib" "$1/lib/components" && cp -RL "$pkgdata" "$1/share/openmpi" &&
        cp -RL "$sysconf/." "$1/etc/" && cp -RL "$pmix_dir/pmix" "$1/pmix/lib" &&
        cp -RL "$pmix_dir/../share" "$1/pmix/share"
}

# mpi_files ROOT: the carried MPI's programs and components, if any.
mpi_files() {
    [ -d "$1/mpi" ] && ls "$1"/mpi/bin/* "$1"/mpi/lib/components/*.so "$1"/mpi/pmix/lib/*.so 2> /dev/null
}

# mpi_env ROOT: the environment that makes the carried Open MPI (ROOT/mpi)
# find its components, texts and settings where it was unpacked, and its
# mpirun first on the PATH.
mpi_env() {
    m=$1/mpi
    export OPAL_PREFIX="$m" OPAL_EXEC_PREFIX="$m" OPAL_BINDIR="$m/bin" OPAL_LIBDIR="$m/lib" \
        OPAL_PKGLIBDIR="$m/lib/components" OPAL_DATAROOTDIR="$m/share" OPAL_DATADIR="$m/share" \
        OPAL_PKGDATADIR="$m/share/openmpi" OPAL_SYSCONFDIR="$m/etc" \
        PMIX_PREFIX="$m/pmix" PMIX_EXEC_PREFIX="$m/pmix" PMIX_LIBDIR="$m/pmix" PMIX_PKGLIBDIR="$m/pmix/lib" \
        PMIX_DATAROOTDIR="$m/pmix/share" PMIX_DATADIR="$m/pmix/share" PMIX_PKGDATADIR="$m/pmix/share/pmix" \
        PMIX_SYSCONFDIR="$m/pmix/share" PMIX_MCA_mca_base_component_path="$m/pmix/lib"
    export PATH="$m/bin:$PATH"
}

# unpack_bundle BUNDLE_DIR DEST: the bundle's files under DEST (python's
# tarfile where tar or gzip is missing).
unpack_bundle() {
    mkdir -p "$2"
    if command -v gzip > /dev/null 2>&1; then
        gzip -dc "$1/bundle.tar.gz" | tar -C "$2" -xf -
    else
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1/bundle.tar.gz" "$2"
    fi
}

# cuda_lib_dirs: folders holding the CUDA libraries the binaries link
# (toolkit, then the Python wheels' nvidia/*/lib), colon-separated.
cuda_lib_dirs() {
    dirs=""
    for d in "${CUDA_HOME:-/usr/local/cuda}/lib64" /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
        [ -d "$d" ] && dirs="$dirs:$d"
    done
    py_dirs=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d + "/*/lib/lib*.so*")})))' 2> /dev/null)
    echo "${dirs#:}${py_dirs:+:$py_dirs}"
}

# link_missing_libs BUNDLE LIBDIR SEARCH_DIRS: into LIBDIR (which the caller
# has put first on LD_LIBRARY_PATH), links to the libraries the bundle's
# binaries need and this machine does not resolve (or has too old): the
# carried ones, and CUDA's from SEARCH_DIRS (colon-separated: the toolkit,
# torch's nvidia wheels). Nothing else goes on the path, so python and
# torch keep the machine's own libraries. Repeated: a library found only
# now can need more.
link_missing_libs() {
    for _ in 1 2 3 4 5; do
        mkdir -p "$2"
        before=$(ls "$2" | wc -l)
        for f in "$1"/bin/* "$1"/tests/test_gpu_* "$1"/tests/helpers/* $(mpi_files "$1"); do ldd "$f" 2>&1; done |
            awk '/=> not found/ { print $1 }
                 /version .* not found/ { gsub(/[():]/, ""); for (i = 1; i <= NF; i++) if ($i ~ /^\/.*\.so/) print $i }' |
            sort -u | while read -r name; do
                name=$(basename "$name")
                if [ -e "$1/lib/$name" ]; then
                    ln -sf "$1/lib/$name" "$2/$name"
                    continue
                fi
                for d in $(echo "$3" | tr ':' ' '); do
                    [ -e "$d/$name" ] && { ln -sf "$d/$name" "$2/$name"; break; }
                done
            done
        [ "$(ls "$2" | wc -l)" -eq "$before" ] && return 0
    done
}
