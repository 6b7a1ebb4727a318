#include "common/threadpool.h"
#include "common/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct tc_pool {
    int size;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    unsigned long generation;   // bumped for each run
    int stop;
    int active;                 // workers still in the current run
    tc_pool_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next;
};

typedef struct {
    tc_pool *pool;
    int index;
} worker_arg;

static void run_tasks(tc_pool *p, int thread) {
    for (;;) {
        int task = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (task >= p->n_tasks) return;
        p->fn(p->ctx, task, thread);
    }
}

static void *worker_main(void *arg) {
    worker_arg *w = arg;
    tc_pool *p = w->pool;
    int index = w->index;
    free(w);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->lock);
        if (p->stop) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        run_tasks(p, index);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->lock);
    }
}

tc_pool *tc_pool_create(int threads) {
    tc_pool *p = tc_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->size = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = tc_calloc((size_t)p->size, sizeof *p->workers);
    if (!p->workers) {
        tc_pool_destroy(p);
        return NULL;
    }
    for (int i = 1; i < p->size; i++) {
        worker_arg *w = malloc(sizeof *w);
        if (w) *w = (worker_arg){p, i};
        if (!w || pthread_create(&p->workers[i], NULL, worker_main, w) != 0) {
            free(w);
            p->size = i;  // the threads started so far are joined by destroy
            tc_pool_destroy(p);
            tc_fail("cannot start thread %d", i);
            return NULL;
        }
    }
    return p;
}

void tc_pool_destroy(tc_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; p->workers && i < p->size; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int tc_pool_size(const tc_pool *p) { return p ? p->size : 1; }

void tc_pool_run(tc_pool *p, int n_tasks, tc_pool_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
    if (!p || p->size == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->active = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    run_tasks(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->active > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

int tc_pool_tasks(const tc_pool *p, long n, long grain) {
    if (n <= 0) return 0;
    if (grain < 1) grain = 1;
    long by_grain = (n + grain - 1) / grain, wanted = 4L * tc_pool_size(p);
    return (int)(by_grain < wanted ? by_grain : wanted);
}

void tc_pool_range(long n, int n_tasks, int task, long *begin, long *end) {
    *begin = n * task / n_tasks;
    *end = n * (task + 1) / n_tasks;
}
