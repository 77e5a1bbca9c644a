/* The event bus with a real libuv loop and real producer threads. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"

typedef struct seen {
    uint64_t n;
    uint64_t last_id;
    int ordered;
    int last_type;
} seen;

static void count_cb(const vg_event *ev, void *arg)
{
    seen *s = arg;
    if (ev->id <= s->last_id)
        s->ordered = 0;
    s->last_id = ev->id;
    s->last_type = ev->type;
    s->n++;
}

static vg_event_in make(int type)
{
    return (vg_event_in){.type = type, .severity = VG_SEV_INFO, .group = "g"};
}

static void test_publish_dispatch_in_order(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    assert_int_equal(vg_bus_new(&loop, 1024, &bus), 0);
    vg_bus_set_next_id(bus, 500);
    seen all = {.ordered = 1}, only_b = {.ordered = 1};
    int a = vg_event_type_id("t.a"), b = vg_event_type_id("t.b");
    assert_true(vg_bus_subscribe(bus, -1, count_cb, &all) >= 0);
    assert_true(vg_bus_subscribe(bus, b, count_cb, &only_b) >= 0);
    for (int i = 0; i < 10; i++) {
        vg_event_in in = make(i % 2 ? b : a);
        assert_int_equal(vg_bus_publish(bus, &in), 0);
    }
    assert_int_equal(all.n, 0); /* nothing before the loop runs */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(all.n, 10);
    assert_true(all.ordered);
    assert_int_equal(all.last_id, 509);
    assert_int_equal(only_b.n, 5);
    assert_int_equal(only_b.last_type, b);
    vg_bus_type_stats st;
    vg_bus_stats(bus, a, &st);
    assert_int_equal(st.published, 5);
    assert_int_equal(st.dropped, 0);
    vg_bus_close(bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_full_queue_drops_and_counts(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    assert_int_equal(vg_bus_new(&loop, 4, &bus), 0);
    seen s = {.ordered = 1};
    vg_bus_subscribe(bus, -1, count_cb, &s);
    int t = vg_event_type_id("t.drop");
    int rc[6];
    for (int i = 0; i < 6; i++) {
        vg_event_in in = make(t);
        rc[i] = vg_bus_publish(bus, &in);
    }
    assert_int_equal(rc[3], 0);
    assert_int_equal(rc[4], -ENOBUFS);
    assert_int_equal(rc[5], -ENOBUFS);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s.n, 4);
    vg_bus_type_stats st;
    vg_bus_stats(bus, t, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.published, 4);
    vg_bus_close(bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

typedef struct republisher {
    vg_bus *bus;
    int from, to;
    int depth, max_depth;
    uint64_t got_to;
} republisher;

static void republish_cb(const vg_event *ev, void *arg)
{
    republisher *r = arg;
    if (ev->type == r->to) {
        r->got_to++;
        return;
    }
    r->depth++;
    if (r->depth > r->max_depth)
        r->max_depth = r->depth;
    vg_event_in in = make(r->to);
    vg_bus_publish(r->bus, &in);
    r->depth--;
}

static void test_publish_from_subscriber_is_queued(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    republisher r = {.from = vg_event_type_id("t.from"), .to = vg_event_type_id("t.to")};
    assert_int_equal(vg_bus_new(&loop, 64, &r.bus), 0);
    vg_bus_subscribe(r.bus, -1, republish_cb, &r);
    vg_event_in in = make(r.from);
    vg_bus_publish(r.bus, &in);
    assert_int_equal(vg_bus_drain(r.bus), 1);
    assert_int_equal(r.got_to, 0); /* not dispatched recursively */
    assert_int_equal(vg_bus_queued(r.bus), 1);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(r.got_to, 1);
    vg_bus_close(r.bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

static void test_unsubscribe(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    vg_bus_new(&loop, 16, &bus);
    seen s = {.ordered = 1};
    int sub = vg_bus_subscribe(bus, -1, count_cb, &s);
    vg_event_in in = make(vg_event_type_id("t.u"));
    vg_bus_publish(bus, &in);
    vg_bus_drain(bus);
    vg_bus_unsubscribe(bus, sub);
    vg_bus_publish(bus, &in);
    vg_bus_drain(bus);
    assert_int_equal(s.n, 1);
    vg_bus_close(bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

/* The enricher completes each event once, with its id, before every
 * subscriber: each sees the group it wrote. */
static int enriched;
static void enrich_cb(vg_event *ev, void *arg)
{
    (void)arg;
    enriched++;
    snprintf(ev->group, sizeof(ev->group), "g%llu", (unsigned long long)ev->id);
}

static void group_cb(const vg_event *ev, void *arg)
{
    char want[32];
    snprintf(want, sizeof(want), "g%llu", (unsigned long long)ev->id);
    assert_string_equal(ev->group, want);
    (*(int *)arg)++;
}

static void test_enricher_runs_once_before_subscribers(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    assert_int_equal(vg_bus_new(&loop, 16, &bus), 0);
    int first = 0, second = 0;
    enriched = 0;
    vg_bus_set_enrich(bus, enrich_cb, NULL);
    assert_true(vg_bus_subscribe(bus, -1, group_cb, &first) >= 0);
    assert_true(vg_bus_subscribe(bus, -1, group_cb, &second) >= 0);
    vg_event_in in = make(vg_event_type_id("t.e"));
    for (int i = 0; i < 3; i++)
        assert_int_equal(vg_bus_publish(bus, &in), 0);
    vg_bus_drain(bus);
    assert_int_equal(enriched, 3);
    assert_int_equal(first, 3);
    assert_int_equal(second, 3);
    vg_bus_close(bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

#define PER_THREAD 50000

static void *producer(void *arg)
{
    vg_bus *bus = arg;
    vg_event_in in = make(vg_event_type_id("t.thread"));
    for (int i = 0; i < PER_THREAD; i++)
        while (vg_bus_publish(bus, &in) == -ENOBUFS)
            ; /* this test wants every event; the drops are counted too */
    return NULL;
}

static void test_two_producer_threads(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    vg_bus_new(&loop, 4096, &bus);
    seen s = {.ordered = 1};
    vg_bus_subscribe(bus, -1, count_cb, &s);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, producer, bus);
    pthread_create(&t2, NULL, producer, bus);
    /* The loop is woken by uv_async from the producer threads. */
    while (s.n < 2 * PER_THREAD)
        uv_run(&loop, UV_RUN_ONCE);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(s.n, 2 * PER_THREAD);
    assert_true(s.ordered);
    vg_bus_type_stats st;
    vg_bus_stats(bus, vg_event_type_id("t.thread"), &st);
    assert_int_equal(st.published, 2 * PER_THREAD);
    vg_bus_close(bus);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

static void test_close_dispatches_queued(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    vg_bus *bus;
    vg_bus_new(&loop, 16, &bus);
    seen s = {.ordered = 1};
    vg_bus_subscribe(bus, -1, count_cb, &s);
    vg_event_in in = make(vg_event_type_id("t.close"));
    vg_bus_publish(bus, &in);
    vg_bus_publish(bus, &in);
    vg_bus_close(bus);
    assert_int_equal(s.n, 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_dispatch_in_order),
        cmocka_unit_test(test_full_queue_drops_and_counts),
        cmocka_unit_test(test_publish_from_subscriber_is_queued),
        cmocka_unit_test(test_unsubscribe),
        cmocka_unit_test(test_enricher_runs_once_before_subscribers),
        cmocka_unit_test(test_two_producer_threads),
        cmocka_unit_test(test_close_dispatches_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
