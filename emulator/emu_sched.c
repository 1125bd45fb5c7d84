/* emu_sched: one-shot events at nanosecond instants on the emulator loop.
 *
 * Why not uv_timer_t: libuv timers have millisecond resolution and fire
 * against a per-iteration cached clock, so a token due at t could leave up
 * to ~1 ms late; the issue asks for p99 lag < 1 ms at 256 streams. Instead
 * we keep our own binary min-heap of due times and one Linux timerfd armed
 * (CLOCK_MONOTONIC, absolute) for the earliest one; libuv polls the fd.
 * uv_hrtime() reads the same CLOCK_MONOTONIC, so due times compare directly. */
#include "emu_internal.h"
#include "pb_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Heap order: due time, then the order of adding. Events due at the same
 * nanosecond (tokens of streams started together, --ideal) then fire in
 * the order they were scheduled, not in one that depends on the heap's
 * history: same seed, same output (libuv's timers break ties the same way,
 * with their start_id). */
static int item_before(const emu_sched_item *a, const emu_sched_item *b)
{
    return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_swap(emu_sched *s, size_t a, size_t b)
{
    emu_sched_item *t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->idx = a;
    s->heap[b]->idx = b;
}

static void heap_up(emu_sched *s, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_before(s->heap[i], s->heap[p]))
            break;
        heap_swap(s, p, i);
        i = p;
    }
}

static void heap_down(emu_sched *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && item_before(s->heap[l], s->heap[m]))
            m = l;
        if (r < s->n && item_before(s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(s, i, m);
        i = m;
    }
}

static void sched_arm(emu_sched *s)
{
    /* While dispatching, callbacks add items at a high rate; one
     * timerfd_settime after the batch is enough (it showed up as 15 % of
     * the emulator's CPU when armed per add). */
    if (s->dispatching)
        return;
    uint64_t due = s->n ? s->heap[0]->due : 0;
    if (due == s->armed)
        return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (due) {
        /* it_value 0 would disarm: an already-past instant becomes 1 ns. */
        its.it_value.tv_sec = (time_t)(due / 1000000000u);
        its.it_value.tv_nsec = (long)(due % 1000000000u);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    timerfd_settime(s->fd, TFD_TIMER_ABSTIME, &its, NULL);
    s->armed = due;
}

static void sched_on_ready(uv_poll_t *p, int status, int events)
{
    emu_sched *s = p->data;
    (void)status;
    (void)events;
    uint64_t expirations;
    /* Drain the fd; EAGAIN only means we were re-armed meanwhile. */
    if (read(s->fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN)
        return;
    s->armed = 0;
    s->dispatching = 1;
    uint64_t now = uv_hrtime();
    while (s->n && s->heap[0]->due <= now) {
        emu_sched_item *it = s->heap[0];
        emu_sched_remove(s, it);
        /* The callback may schedule again (the next token) or free it. */
        it->cb(it, now);
        now = uv_hrtime();
    }
    s->dispatching = 0;
    sched_arm(s);
}

int emu_sched_init(emu_sched *s, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->fd < 0)
        return -errno;
    int rc = uv_poll_init(loop, &s->poll, s->fd);
    if (rc) {
        close(s->fd);
        return rc;
    }
    s->poll.data = s;
    uv_poll_start(&s->poll, UV_READABLE, sched_on_ready);
    return 0;
}

void emu_sched_add(emu_sched *s, emu_sched_item *it, uint64_t due)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->heap = pb_mem_realloc(s->heap, s->cap * sizeof *s->heap);
    }
    it->due = due ? due : 1;
    it->seq = s->next_seq++;
    it->idx = s->n;
    s->heap[s->n++] = it;
    heap_up(s, it->idx);
    sched_arm(s);
}

void emu_sched_remove(emu_sched *s, emu_sched_item *it)
{
    if (it->idx == SIZE_MAX || it->idx >= s->n || s->heap[it->idx] != it)
        return;
    size_t i = it->idx;
    s->n--;
    if (i != s->n) {
        s->heap[i] = s->heap[s->n];
        s->heap[i]->idx = i;
        heap_down(s, i);
        heap_up(s, i);
    }
    it->idx = SIZE_MAX;
    /* No re-arm here: a spurious wake-up is cheaper than a syscall per
     * removal, and sched_on_ready re-arms for the real head. */
}

static void sched_on_close(uv_handle_t *h)
{
    emu_sched *s = h->data;
    close(s->fd);
    free(s->heap);
    s->heap = NULL;
    s->n = s->cap = 0;
}

void emu_sched_close(emu_sched *s)
{
    uv_close((uv_handle_t *)&s->poll, sched_on_close);
}
