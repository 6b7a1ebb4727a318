// A fixed pool of worker threads for data-parallel loops: tc_pool_run()
// hands out task numbers 0..n-1 to the workers and the calling thread, and
// returns when all are done. Workers sleep between runs (no spinning), so
// the pool costs nothing while another library (OpenBLAS) computes.
// One run at a time per pool; tasks must not call tc_pool_run on it.
#ifndef TC_THREADPOOL_H
#define TC_THREADPOOL_H

typedef struct tc_pool tc_pool;

// `thread` is 0 for the caller, 1..size-1 for the workers: an index into
// per-thread scratch space.
typedef void (*tc_pool_fn)(void *ctx, int task, int thread);

// A pool of `threads` threads in all, the caller included (at least 1).
tc_pool *tc_pool_create(int threads);
void tc_pool_destroy(tc_pool *pool);
int tc_pool_size(const tc_pool *pool);

void tc_pool_run(tc_pool *pool, int n_tasks, tc_pool_fn fn, void *ctx);

// Splits n items into tasks of at least `grain` items, a few per thread
// so that uneven tasks even out; returns the task count (>= 1 when n > 0).
int tc_pool_tasks(const tc_pool *pool, long n, long grain);
// The items [*begin, *end) of task `task` out of n_tasks.
void tc_pool_range(long n, int n_tasks, int task, long *begin, long *end);

#endif
