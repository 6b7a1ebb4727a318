# The CUDA build as ptxas reports it (every OBJ.ptxas of the build, written
# by -Xptxas -v; see the Makefile): no kernel or device function spills
# registers or keeps a stack frame (local memory, slow on every GPU), for
# every architecture built; sm_90 (H100, H200) among them; CUDA warnings are
# errors.
. "$TC_ROOT/tests/cli/lib.sh"
if [ "${TC_HAVE_CUDA:-0}" != 1 ]; then
    skip cuda_resources "this build has no CUDA backend (nvcc, cuBLAS or NCCL missing, or CUDA=0)"
    exit 0
fi
flags="$TC_BUILD/nvcc-flags.txt"
find "$TC_BUILD" -name '*.o.ptxas' | sort > reports.txt
if [ ! -s "$flags" ] || [ ! -s reports.txt ]; then
    fail cuda_resources "no nvcc-flags.txt or ptxas reports under $TC_BUILD (objects older than the Makefile's -Xptxas -v: rebuild)"
    exit 0
fi
check cuda_warnings_are_errors grep -q -- '-Werror all-warnings' "$flags"
archs=$(grep -o 'code=sm_[0-9]*a*' "$flags" | cut -d= -f2 | sort -u | tr '\n' ' ')
check cuda_builds_for_hopper sh -c "echo '$archs' | grep -qw sm_90"
# every source compiled for every architecture of the flags
missing=""
while read -r r; do
    grep -q 'Compiling entry' "$r" || continue
    for a in $archs; do grep -q "for '$a'" "$r" || missing="$missing $(basename "$r" .o.ptxas):$a"; done
done < reports.txt
check cuda_every_arch test -z "$missing"
# "Function properties for F" is followed by "N bytes stack frame, S bytes
# spill stores, L bytes spill loads"; the arch is the last "for 'sm_XX'"
xargs awk '
    /Compiling entry function .* for / { arch = $NF; gsub(/\047/, "", arch) }
    /Function properties for / { fn = $NF }
    / bytes stack frame, / {
        if ($1 + 0 > 0 || $5 + 0 > 0 || $9 + 0 > 0) {
            printf "%s %s: %s\n", FILENAME, arch, fn
            printf "    %s\n", $0
        }
    }' < reports.txt > local.txt
if [ -s local.txt ]; then
    fail cuda_no_spills_or_local_memory "$(wc -l < local.txt | awk '{print $1 / 2}') functions: $(head -c 600 local.txt | tr '\n' ' ')"
else
    pass cuda_no_spills_or_local_memory
fi
echo "  $(wc -l < reports.txt) sources, architectures: $archs"
