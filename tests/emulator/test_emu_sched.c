/* emu_sched: events due at the same nanosecond fire in the order they were
 * scheduled (issue 22 §6: "same seed, same output" must not depend on the
 * heap's history), and events fire in due order otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu_internal.h"

enum { N = 40 };

typedef struct ev {
    emu_sched_item item; /* first member: item -> ev by cast */
    int id;
} ev;

static int fired[N], n_fired;
static emu_sched *g_sched;

static void on_fire(emu_sched_item *it, uint64_t now)
{
    (void)now;
    fired[n_fired++] = ((ev *)it)->id;
    if (n_fired == N)
        emu_sched_close(g_sched);
}

/* Schedules evs[i] at due[i] in index order (some removed and added again,
 * which makes them the latest of their instant), runs the loop until all
 * fired, and checks the order against a stable sort by due time. */
static void run_case(const uint64_t *due, const int *readd, int n_readd)
{
    uv_loop_t loop;
    emu_sched s;
    static ev evs[N];
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(emu_sched_init(&s, &loop), 0);
    g_sched = &s;
    n_fired = 0;
    int order[N], m = 0;
    for (int i = 0; i < N; i++) {
        evs[i] = (ev){.item = {.idx = SIZE_MAX, .cb = on_fire}, .id = i};
        emu_sched_add(&s, &evs[i].item, due[i]);
    }
    for (int j = 0; j < n_readd; j++) {
        emu_sched_remove(&s, &evs[readd[j]].item);
        emu_sched_add(&s, &evs[readd[j]].item, due[readd[j]]);
    }
    /* Expected: by due time; among equals, by when they were (last) added. */
    int added[N];
    for (int i = 0; i < N; i++)
        added[i] = i;
    for (int j = 0; j < n_readd; j++)
        added[readd[j]] = N + j;
    for (int i = 0; i < N; i++)
        order[m++] = i;
    for (int i = 1; i < N; i++) /* insertion sort: stable, small N */
        for (int k = i; k > 0; k--) {
            int a = order[k - 1], b = order[k];
            if (due[a] > due[b] || (due[a] == due[b] && added[a] > added[b])) {
                order[k - 1] = b;
                order[k] = a;
            }
        }
    /* Bounded: every due time is in the past or within 2 ms. */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(n_fired, N);
    for (int i = 0; i < N; i++)
        if (fired[i] != order[i])
            fail_msg("event %d fired as #%d; expected event %d there (same due: %s)", fired[i], i,
                     order[i], due[fired[i]] == due[order[i]] ? "yes" : "no");
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_ties_fire_in_insertion_order(void **state)
{
    (void)state;
    uint64_t due[N], t = uv_hrtime();
    for (int i = 0; i < N; i++)
        due[i] = t; /* all at one instant, already due */
    run_case(due, NULL, 0);
}

static void test_mixed_instants(void **state)
{
    (void)state;
    uint64_t due[N], t = uv_hrtime();
    /* Four instants, interleaved: 0, 1 ms, 2 ms, 0.5 ms, 0, ... */
    static const uint64_t step[4] = {0, 1000000, 2000000, 500000};
    for (int i = 0; i < N; i++)
        due[i] = t + step[i % 4];
    const int readd[] = {0, 5, 4, 17};
    run_case(due, readd, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ties_fire_in_insertion_order),
        cmocka_unit_test(test_mixed_instants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
