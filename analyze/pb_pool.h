/* pb_pool: items worked on by threads, taken back in the order they were
 * given.
 *
 * Why: analyze parses hundreds of small files; the parse of one file is
 * independent of the others, but what it adds to the dataset (runs,
 * skips, their order) must not depend on which thread finished first. So
 * the caller submits items in walk order, workers run them, and the caller
 * takes them back oldest first and applies them itself. The caller's
 * thread also runs items no worker has taken yet, so zero workers is the
 * plain sequential loop, and a worker that never wakes costs nothing.
 *
 * A window bounds the items in flight: when it is full, pb_pool_reserve
 * returns NULL and the caller takes the oldest first. Every pb_pool_* call
 * is made from the thread that created the pool; only `run` runs on the
 * workers, with the worker's own context. */
#ifndef PB_POOL_H
#define PB_POOL_H

#include <stddef.h>

typedef struct pb_pool pb_pool;

typedef struct pb_pool_fns {
    /* Does the work on one item; must touch only the item and ctx. */
    void (*run)(void *item, void *ctx);
    /* A context per thread (the caller's included), made and freed on the
     * caller's thread; may be NULL. */
    void *(*ctx_new)(void);
    void (*ctx_free)(void *ctx);
} pb_pool_fns;

/* workers: threads besides the caller's (0: the caller runs every item).
 * A worker that cannot be started is done without. Out of memory follows
 * pb_mem's policy. */
pb_pool *pb_pool_new(int workers, size_t window, size_t item_size, const pb_pool_fns *fns);

/* The workers actually started. */
int pb_pool_workers(const pb_pool *p);

/* A zeroed slot for the next item, or NULL when the window is full. */
void *pb_pool_reserve(pb_pool *p);

/* Hands the reserved item to the workers. */
void pb_pool_submit(pb_pool *p);

/* The oldest submitted item once it has run (here, if no worker had taken
 * it), or NULL when none is pending. Valid until pb_pool_release. */
void *pb_pool_take(pb_pool *p);

/* Frees the slot of the item pb_pool_take returned. */
void pb_pool_release(pb_pool *p);

/* Stops and joins the workers and frees the pool; the caller has taken
 * every item first. NULL is ignored. */
void pb_pool_free(pb_pool *p);

/* The default number of workers: the CPUs this process may use, minus
 * the caller's, at most max. */
int pb_pool_default_workers(int max);

#endif
