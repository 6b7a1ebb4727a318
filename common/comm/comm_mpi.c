// The communicator over MPI ranks started by mpirun (Open MPI). Compiled
// only where the build probe found MPI (TC_HAVE_MPI); the Makefile adds
// MPI's compile flags to this file alone and its libraries to tc-train.
#include "common/comm/comm.h"
#include "common/error.h"

#if TC_HAVE_MPI
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int mpi_fail(const char *what, int rc) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return tc_fail("MPI %s: %.*s", what, len, text);
}

// MPI counts are ints: large buffers go in pieces.
enum { MPI_PIECE = 1 << 28 };

static int mpi_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    size_t size = dtype == TC_COMM_F64 ? 8 : 4;
    for (size_t at = 0; at < count; at += MPI_PIECE) {
        int n = (int)(count - at < MPI_PIECE ? count - at : MPI_PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * size, n, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail("all-reduce", rc);
    }
    return 0;
}

static int mpi_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) {
    for (size_t at = 0; at < bytes; at += MPI_PIECE) {
        int n = (int)(bytes - at < MPI_PIECE ? bytes - at : MPI_PIECE);
        int rc = MPI_Bcast((char *)buf + at, n, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail("broadcast", rc);
    }
    return 0;
}

static int mpi_barrier(tc_comm *comm) {
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail("barrier", rc);
}

static void mpi_destroy(tc_comm *comm) {
    MPI_Finalize();
    free(comm);
}

// The shards of tc_comm_shard as MPI's per-rank counts and offsets.
static int shard_counts(const tc_comm *comm, size_t count, int **counts, int **displs) {
    if (count > INT_MAX) return tc_fail("MPI: %zu values are too many for one sharded collective", count);
    *counts = tc_malloc_array((size_t)comm->size, sizeof **counts);
    *displs = tc_malloc_array((size_t)comm->size, sizeof **displs);
    if (!*counts || !*displs) {
        free(*counts), free(*displs);
        return -1;
    }
    for (int r = 0; r < comm->size; r++) {
        size_t begin, end;
        tc_comm_shard(count, comm->size, r, &begin, &end);
        (*counts)[r] = (int)(end - begin);
        (*displs)[r] = (int)begin;
    }
    return 0;
}

static int mpi_reduce_scatter(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    size_t size = dtype == TC_COMM_F64 ? 8 : 4;
    int *counts = NULL, *displs = NULL;
    if (shard_counts(comm, count, &counts, &displs)) return -1;
    int rc = MPI_Reduce_scatter(MPI_IN_PLACE, buf, counts, type, MPI_SUM, MPI_COMM_WORLD);
    // in place, the rank's sums arrive at the start of buf: move them to its shard
    if (rc == MPI_SUCCESS)
        memmove((char *)buf + (size_t)displs[comm->rank] * size, buf, (size_t)counts[comm->rank] * size);
    free(counts), free(displs);
    return rc == MPI_SUCCESS ? 0 : mpi_fail("reduce-scatter", rc);
}

static int mpi_allgather(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) {
    MPI_Datatype type = dtype == TC_COMM_F64 ? MPI_DOUBLE : MPI_FLOAT;
    int *counts = NULL, *displs = NULL;
    if (shard_counts(comm, count, &counts, &displs)) return -1;
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, type, MPI_COMM_WORLD);
    free(counts), free(displs);
    return rc == MPI_SUCCESS ? 0 : mpi_fail("all-gather", rc);
}

// The CPU backend's memory is the host's: the device collectives are the host ones.
static const tc_comm_ops mpi_ops = {mpi_allreduce, mpi_broadcast, mpi_barrier,        mpi_destroy,
                                    mpi_allreduce, mpi_reduce_scatter, mpi_allgather, NULL,
                                    NULL};

tc_comm *tc_comm_mpi_create(void) {
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        mpi_fail("init", rc);
        return NULL;
    }
    // errors come back as codes, reported as one line, instead of aborting
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    tc_comm *c = tc_calloc(1, sizeof *c);
    if (!c) {
        MPI_Finalize();
        return NULL;
    }
    c->ops = &mpi_ops;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    strcpy(c->name, "mpi");
    return c;
}
#else
typedef int tc_comm_mpi_not_built;  // ISO C wants a translation unit to declare something
#endif
