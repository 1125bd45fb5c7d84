/* pb_pool: items come back in the order they were submitted, each run
 * exactly once, whatever thread ran it; the window bounds what is in
 * flight; every thread gets its own context, made and freed on the
 * caller's thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pb_pool.h"

typedef struct item {
    long seq;           /* set by the submitter */
    long result;        /* set by run: a function of seq */
    int runs;           /* how many times run saw it */
    void *ctx;          /* which context ran it */
} item;

static int n_ctx_made, n_ctx_freed;
static pthread_t creator;

static void *ctx_new(void)
{
    assert_true(pthread_equal(pthread_self(), creator));
    n_ctx_made++;
    return malloc(1);
}

static void ctx_free(void *c)
{
    assert_true(pthread_equal(pthread_self(), creator));
    n_ctx_freed++;
    free(c);
}

static void run(void *p, void *ctx)
{
    item *it = p;
    /* Uneven work, so that workers finish out of order. */
    volatile long x = 0;
    for (long k = 0; k < (it->seq * 7919) % 3000; k++)
        x += k;
    it->result = it->seq * it->seq + 1;
    it->runs++;
    it->ctx = ctx;
}

static void check_pool(int workers, size_t window, long n)
{
    static const pb_pool_fns fns = {run, ctx_new, ctx_free};
    n_ctx_made = n_ctx_freed = 0;
    creator = pthread_self();
    pb_pool *p = pb_pool_new(workers, window, sizeof(item), &fns);
    assert_int_equal(pb_pool_workers(p), workers);
    assert_int_equal(n_ctx_made, workers + 1);
    long next_taken = 0, in_flight = 0, max_in_flight = 0;
    void *ctx_seen[16] = {0};
    int n_seen = 0;
    for (long s = 0; s < n; s++) {
        item *it;
        while (!(it = pb_pool_reserve(p))) {
            /* Full: exactly `window` items are in flight. */
            assert_int_equal(in_flight, (long)window);
            item *t = pb_pool_take(p);
            assert_non_null(t);
            assert_int_equal(t->seq, next_taken);
            assert_int_equal(t->runs, 1);
            assert_int_equal(t->result, t->seq * t->seq + 1);
            next_taken++, in_flight--;
            pb_pool_release(p);
        }
        assert_int_equal(it->runs, 0);   /* a zeroed slot */
        it->seq = s;
        pb_pool_submit(p);
        if (++in_flight > max_in_flight)
            max_in_flight = in_flight;
    }
    item *t;
    while ((t = pb_pool_take(p))) {
        assert_int_equal(t->seq, next_taken);
        assert_int_equal(t->runs, 1);
        assert_int_equal(t->result, t->seq * t->seq + 1);
        int known = 0;
        for (int k = 0; k < n_seen; k++)
            known |= ctx_seen[k] == t->ctx;
        if (!known && n_seen < 16)
            ctx_seen[n_seen++] = t->ctx;
        next_taken++;
        pb_pool_release(p);
    }
    assert_int_equal(next_taken, n);
    assert_true(max_in_flight <= (long)window);
    assert_true(n_seen <= workers + 1);
    pb_pool_free(p);
    assert_int_equal(n_ctx_freed, workers + 1);
}

static void test_caller_alone(void **st)
{
    (void)st;
    check_pool(0, 4, 100);
}

static void test_workers_in_order(void **st)
{
    (void)st;
    check_pool(1, 64, 2000);
    check_pool(3, 8, 2000);
    check_pool(7, 1, 300);
}

static void test_empty(void **st)
{
    (void)st;
    static const pb_pool_fns fns = {run, NULL, NULL};
    pb_pool *p = pb_pool_new(2, 4, sizeof(item), &fns);
    assert_null(pb_pool_take(p));
    pb_pool_free(p);
    pb_pool_free(NULL);
    assert_true(pb_pool_default_workers(3) >= 0 && pb_pool_default_workers(3) <= 3);
    assert_int_equal(pb_pool_default_workers(0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_alone),
        cmocka_unit_test(test_workers_in_order),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
