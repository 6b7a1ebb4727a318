# OpenBLAS starts a thread per core as a program loads, each spinning ~0.1 s:
# tc_cli_init starts the program again at once with OpenBLAS on one thread,
# then gives the environment back as it was; a value the user set is left
# alone, and under an address-space limit the pin stays (more threads would
# hang the process at exit there).
. "$TC_ROOT/tests/cli/lib.sh"
helper="$TC_HELPERS/blas-threads"
expect default 0 env -u OPENBLAS_NUM_THREADS "$helper"
check default_one_thread grep -qx "openblas 1, tasks 1, OPENBLAS_NUM_THREADS unset" out
two=$(($(nproc) >= 2 ? 2 : 1))  # OpenBLAS starts no more threads than cores
expect user_set 0 env OPENBLAS_NUM_THREADS=2 "$helper"
check user_set_kept grep -qx "openblas $two, tasks $two, OPENBLAS_NUM_THREADS 2" out
if [ "${TC_SANITIZE:-0}" = 1 ]; then
    skip limited "ulimit -v does not work with the sanitizers"
else
    expect limited 0 sh -c 'ulimit -v 2000000 && exec env -u OPENBLAS_NUM_THREADS "$1"' sh "$helper"
    check limited_stays_pinned grep -qx "openblas 1, tasks 1, OPENBLAS_NUM_THREADS 1" out
fi
