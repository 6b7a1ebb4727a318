#!/bin/sh
# Finds the build's dependencies by compiling and linking a tiny program
# against each, the way a user's compiler will see them. Writes make
# assignments to stdout and a human summary to stderr.
#
# usage: probe.sh CC CUDA(auto|0|1) MPI(auto|0|1) NVCC
set -u
CC=${1:-cc}
WANT_CUDA=${2:-auto}
WANT_MPI=${3:-auto}
NVCC=${4:-nvcc}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# probe NAME HEADER CALL LIBS [CFLAGS]: compile-and-link test
probe() {
    printf '#include <%s>\nint main(void) { %s; return 0; }\n' "$2" "$3" > "$tmp/p.c"
    $CC ${5:-} "$tmp/p.c" -o "$tmp/p" $4 > "$tmp/log" 2>&1
}

missing=""
summary=""
check_required() { # NAME HEADER CALL LIBS PACKAGE
    if probe "$1" "$2" "$3" "$4"; then
        summary="$summary  $1: yes ($4)\n"
    else
        summary="$summary  $1: MISSING (Debian package $5)\n"
        missing="$missing $5"
    fi
}

check_required zstd zstd.h 'ZSTD_versionNumber()' -lzstd libzstd-dev
check_required libyaml yaml.h 'yaml_parser_t p; yaml_parser_initialize(&p)' -lyaml libyaml-dev
check_required openblas cblas.h 'cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,0,0,0,1.f,0,1,0,1,0.f,0,1)' -lopenblas libopenblas-dev
check_required utf8proc utf8proc.h 'utf8proc_version()' -lutf8proc libutf8proc-dev
check_required jansson jansson.h 'json_object()' -ljansson libjansson-dev
check_required libcurl curl/curl.h 'curl_version()' -lcurl libcurl4-openssl-dev

echo "MISSING_PACKAGES :=$missing"

# CUDA: nvcc plus cuBLAS, cuBLASLt and NCCL that link (the programs open
# cuBLAS at run time, kernels/cuda/cublas_loader.cu, but need it there).
have_cuda=0
cuda_note="no"
if [ "$WANT_CUDA" != 0 ]; then
    if command -v "$NVCC" > /dev/null 2>&1 || [ -x "$CUDA_HOME/bin/nvcc" ]; then
        command -v "$NVCC" > /dev/null 2>&1 || NVCC="$CUDA_HOME/bin/nvcc"
        cuda_libs="-L$CUDA_HOME/lib64 -lcublasLt -lcublas -lnccl -lcudart"
        if probe cuda cuda_runtime.h 'int n; cudaGetDeviceCount(&n)' "$cuda_libs" "-I$CUDA_HOME/include" &&
           probe cublas cublas_v2.h 'cublasHandle_t h; cublasCreate(&h)' "$cuda_libs" "-I$CUDA_HOME/include" &&
           probe nccl nccl.h 'int v; ncclGetVersion(&v)' "$cuda_libs" "-I$CUDA_HOME/include"; then
            have_cuda=1
            cuda_note="yes ($("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), cuBLAS, cuBLASLt, NCCL)"
        else
            cuda_note="no (nvcc found, but cuBLAS/NCCL do not link: $(head -c 200 "$tmp/log" | tr '\n' ' '))"
        fi
    else
        cuda_note="no (nvcc not found)"
    fi
    if [ "$WANT_CUDA" = 1 ] && [ $have_cuda = 0 ]; then
        echo "probe: CUDA=1 asked for, but $cuda_note" >&2
        exit 1
    fi
else
    cuda_note="no (CUDA=0)"
fi
echo "HAVE_CUDA := $have_cuda"
echo "NVCC := $NVCC"
echo "CUDA_HOME := $CUDA_HOME"

# MPI: only the compile and link flags of the installed Open MPI.
have_mpi=0
mpi_note="no"
if [ "$WANT_MPI" != 0 ]; then
    if command -v mpicc > /dev/null 2>&1; then
        mpi_cflags=$(mpicc --showme:compile 2>/dev/null)
        mpi_libs=$(mpicc --showme:link 2>/dev/null)
        if probe mpi mpi.h 'MPI_Init(0, 0)' "$mpi_libs" "$mpi_cflags"; then
            have_mpi=1
            mpi_note="yes ($(mpirun --version 2>/dev/null | head -n 1))"
            echo "MPI_CFLAGS := $mpi_cflags"
            echo "MPI_LIBS := $mpi_libs"
        fi
    else
        mpi_note="no (mpicc not found; Debian packages libopenmpi-dev openmpi-bin)"
    fi
    if [ "$WANT_MPI" = 1 ] && [ $have_mpi = 0 ]; then
        echo "probe: MPI=1 asked for, but $mpi_note" >&2
        exit 1
    fi
else
    mpi_note="no (MPI=0)"
fi
echo "HAVE_MPI := $have_mpi"

# oneDNN 2.x: the CPU's bf16 and int8 matrix products (--precision). Optional:
# without it the CPU computes in fp32 and those precisions say so.
have_dnnl=0
dnnl_note="no (Debian package libdnnl-dev; make deps)"
if probe dnnl dnnl.h 'dnnl_version()' "-ldnnl -lgomp"; then
    printf '#include <stdio.h>\n#include <dnnl_version.h>\n#if DNNL_VERSION_MAJOR != 2\n#error 2.x\n#endif\nint main(void) { printf("%%d.%%d.%%d", DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR, DNNL_VERSION_PATCH); return 0; }\n' > "$tmp/v.c"
    if $CC "$tmp/v.c" -o "$tmp/v" > /dev/null 2>&1; then
        have_dnnl=1
        dnnl_note="yes ($("$tmp/v"))"
    else
        dnnl_note="no (oneDNN found, but not the 2.x API this code is written against)"
    fi
fi
echo "HAVE_DNNL := $have_dnnl"

printf "configuration:\n%b  CUDA backend: %s\n  MPI (CPU ranks): %s\n  oneDNN (CPU bf16, int8): %s\n" "$summary" "$cuda_note" "$mpi_note" "$dnnl_note" >&2
