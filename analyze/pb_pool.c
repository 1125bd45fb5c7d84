/* sched_getaffinity and CPU_COUNT: the CPUs this process may run on (taskset,
 * cpusets), not the machine's. */
#define _GNU_SOURCE
#include "pb_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_mem.h"

enum { SLOT_FREE, SLOT_QUEUED, SLOT_TAKEN, SLOT_DONE };

/* Items queued before a sleeping worker is woken: a wake-up per item cost
 * more than the parse it handed over (a futex call and a context switch
 * each, on a 2-CPU virtual machine). */
#define POOL_WAKE_BATCH 4

struct pb_pool {
    pb_pool_fns fns;
    unsigned char *items;     /* window slots of size bytes */
    unsigned char *state;     /* SLOT_* per slot, under mu */
    size_t size, window;
    /* Monotonic counters, slot = counter % window: head is the oldest item
     * not released, next the next one a thread takes, tail the next one
     * submitted. head <= next <= tail. Under mu. */
    size_t head, next, tail;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int sleeping;             /* workers waiting on work, under mu */
    int caller_waits;         /* the caller waits on done, under mu */
    pthread_t *th;
    void **ctx;               /* ctx[0]: the caller's; ctx[1..]: workers' */
    int n_th, quit;
};

typedef struct worker_arg {
    pb_pool *p;
    void *ctx;
} worker_arg;

static void *item_at(pb_pool *p, size_t i)
{
    return p->items + (i % p->window) * p->size;
}

static void *worker_main(void *arg)
{
    worker_arg *w = arg;
    pb_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->next == p->tail && !p->quit) {
            p->sleeping++;
            pthread_cond_wait(&p->work, &p->mu);
            p->sleeping--;
        }
        if (p->next == p->tail)
            break;
        size_t i = p->next++;
        p->state[i % p->window] = SLOT_TAKEN;
        pthread_mutex_unlock(&p->mu);
        p->fns.run(item_at(p, i), w->ctx);
        pthread_mutex_lock(&p->mu);
        p->state[i % p->window] = SLOT_DONE;
        if (p->caller_waits)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    free(w);
    return NULL;
}

pb_pool *pb_pool_new(int workers, size_t window, size_t item_size, const pb_pool_fns *fns)
{
    pb_pool *p = pb_mem_calloc(1, sizeof *p);
    p->fns = *fns;
    p->window = window ? window : 1;
    p->size = item_size;
    p->items = pb_mem_calloc(p->window, item_size);
    p->state = pb_mem_calloc(p->window, 1);
    if (workers < 0)
        workers = 0;
    p->th = pb_mem_calloc((size_t)workers + 1, sizeof *p->th);
    p->ctx = pb_mem_calloc((size_t)workers + 1, sizeof *p->ctx);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->ctx[0] = fns->ctx_new ? fns->ctx_new() : NULL;
    for (int k = 0; k < workers; k++) {
        worker_arg *w = pb_mem_alloc(sizeof *w);
        w->p = p;
        w->ctx = fns->ctx_new ? fns->ctx_new() : NULL;
        if (pthread_create(&p->th[p->n_th], NULL, worker_main, w) != 0) {
            /* Fewer threads, same results: the caller runs what is left. */
            if (fns->ctx_free)
                fns->ctx_free(w->ctx);
            free(w);
            break;
        }
        p->ctx[++p->n_th] = w->ctx;
    }
    return p;
}

int pb_pool_workers(const pb_pool *p)
{
    return p->n_th;
}

void *pb_pool_reserve(pb_pool *p)
{
    if (p->tail - p->head == p->window)
        return NULL;
    void *it = item_at(p, p->tail);
    memset(it, 0, p->size);
    return it;
}

void pb_pool_submit(pb_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->state[p->tail % p->window] = SLOT_QUEUED;
    p->tail++;
    if (p->sleeping && p->tail - p->next >= POOL_WAKE_BATCH)
        pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

void *pb_pool_take(pb_pool *p)
{
    if (p->head == p->tail)
        return NULL;
    size_t s = p->head % p->window;
    void *it = item_at(p, p->head);
    pthread_mutex_lock(&p->mu);
    /* What is queued behind this item is worth a worker's time now. */
    if (p->sleeping && p->tail - p->next > 1)
        pthread_cond_signal(&p->work);
    if (p->state[s] == SLOT_QUEUED) {
        /* Items are taken in order, so no thread has reached this one:
         * waiting would only idle this thread. */
        p->next++;
        p->state[s] = SLOT_TAKEN;
        pthread_mutex_unlock(&p->mu);
        p->fns.run(it, p->ctx[0]);
        pthread_mutex_lock(&p->mu);
        p->state[s] = SLOT_DONE;
    }
    p->caller_waits = 1;
    while (p->state[s] != SLOT_DONE)
        pthread_cond_wait(&p->done, &p->mu);
    p->caller_waits = 0;
    pthread_mutex_unlock(&p->mu);
    return it;
}

void pb_pool_release(pb_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->state[p->head % p->window] = SLOT_FREE;
    p->head++;
    pthread_mutex_unlock(&p->mu);
}

void pb_pool_free(pb_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int k = 0; k < p->n_th; k++)
        pthread_join(p->th[k], NULL);
    if (p->fns.ctx_free)
        for (int k = 0; k <= p->n_th; k++)
            p->fns.ctx_free(p->ctx[k]);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p->ctx);
    free(p->items);
    free(p->state);
    free(p);
}

int pb_pool_default_workers(int max)
{
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                          : sysconf(_SC_NPROCESSORS_ONLN);
    n = n > 1 ? n - 1 : 0;
    return n > max ? max : (int)n;
}
