// The one-rank communicator and the checks every implementation shares.
#include "common/comm/comm.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static int single_allreduce(tc_comm *comm, void *buf, size_t count, tc_comm_dtype dtype) { return 0; }
static int single_broadcast(tc_comm *comm, void *buf, size_t bytes, int root) { return 0; }
static int single_barrier(tc_comm *comm) { return 0; }
static void single_destroy(tc_comm *comm) { free(comm); }

static const tc_comm_ops single_ops = {single_allreduce, single_broadcast, single_barrier, single_destroy,
                                       single_allreduce, single_allreduce, single_allreduce, NULL,
                                       NULL,             NULL};

tc_comm *tc_comm_single_create(void) {
    tc_comm *c = tc_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->ops = &single_ops;
    c->rank = 0;
    c->size = 1;
    strcpy(c->name, "single");
    return c;
}

int tc_comm_launched(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1) return 1;
    }
    return 0;
}

static int env_int(const char *const *vars, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return -1;
}

int tc_comm_launcher_size(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    int n = env_int(vars, sizeof vars / sizeof *vars);
    return n > 0 ? n : 0;
}

int tc_comm_local_rank(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"};
    int r = env_int(vars, sizeof vars / sizeof *vars);
    return r > 0 ? r : 0;
}

int tc_comm_any(tc_comm *comm, int failed) {
    double flag = failed ? 1.0 : 0.0;
    if (comm->ops->allreduce_sum(comm, &flag, 1, TC_COMM_F64)) return 1;
    return flag > 0;
}

int tc_comm_check_same(tc_comm *comm, uint64_t value, const char *what) {
    uint64_t root = value;
    if (comm->ops->broadcast(comm, &root, sizeof root, 0)) return -1;
    if (tc_comm_any(comm, root != value))
        return tc_fail("ranks disagree on %s (rank %d differs from rank 0, or another rank does)", what, comm->rank);
    return 0;
}
