/*
 * What the engine's tables cost in memory, as the process's resident set
 * shows it: an engine per captured namespace is sized for the worst case
 * (65,536 flows, 4,096 inspections), so an idle one must cost only what it
 * writes, even after glibc has raised its mmap threshold (a large block
 * freed anywhere in the daemon makes later large callocs come from the
 * heap, zeroed: every page touched); and a burst of flows must give its
 * memory back once its flows have ended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define MB (1024.0 * 1024.0)

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (double)resident * 4096 / MB;
}

/* As in the daemon: some part frees a large block that glibc had mmapped,
 * which raises its mmap threshold to that size (up to 32 MiB). */
static void raise_mmap_threshold(void)
{
    volatile char *big = malloc(31u << 20);
    assert_non_null(big);
    big[0] = 1;
    free((void *)big);
}

#define ENGINES 100

static void idle_engines_cost_little(void **state)
{
    (void)state;
    raise_mmap_threshold();
    static recorder r;
    vg_net_engine *e[ENGINES];
    double before = rss_mb();
    for (int i = 0; i < ENGINES; i++) {
        e[i] = test_engine(NULL, &r); /* default sizes */
        vg_net_expire(e[i], 1000000); /* a second of housekeeping */
    }
    double grown = rss_mb() - before;
    vg_net_stats st;
    vg_net_stats_get(e[0], &st);
    print_message("%d idle engines of %.1f MB of tables each: %.2f MB resident\n", ENGINES,
                  (double)st.table_bytes / MB, grown);
    /* Whole tables would be over 7 GB; what is written is a few KB each. */
    assert_true(grown < ENGINES * 0.1);
    for (int i = 0; i < ENGINES; i++)
        vg_net_engine_free(e[i]);
}

#define BURST 20000

static void burst_memory_goes_back(void **state)
{
    (void)state;
    static recorder r;
    vg_net_engine *e = test_engine(NULL, &r);
    double before = rss_mb();
    uint8_t pkt[256];
    uint64_t t = 1000000;
    for (int i = 0; i < BURST; i++) {
        char src[32];
        snprintf(src, sizeof(src), "10.2.%d.%d", i / 250, 1 + i % 250);
        uint32_t len = build_udp(pkt, src, "10.1.0.2", 40000, 9999, "hello?", 6);
        assert_int_equal(feed_raw(e, t + (uint64_t)i, pkt, len), 0);
    }
    vg_net_stats st;
    vg_net_stats_get(e, &st);
    assert_int_equal(st.flows, BURST);
    double during = rss_mb() - before;
    /* Past every timeout: the flows end, the table is empty. */
    vg_net_expire(e, t + 3ull * 3600 * 1000000);
    vg_net_stats_get(e, &st);
    assert_int_equal(st.flows, 0);
    assert_true(vg_net_idle(e));
    double after = rss_mb() - before;
    print_message("%d flows: %.1f MB resident, %.1f MB once they ended\n", BURST, during, after);
    assert_true(during > 8);
    assert_true(after < 2);
    /* The engine works on as before. */
    uint32_t len = build_udp(pkt, "10.3.0.1", "10.1.0.2", 40000, 9999, "again", 5);
    assert_int_equal(feed_raw(e, t + 3ull * 3600 * 1000000 + 1, pkt, len), 0);
    vg_net_stats_get(e, &st);
    assert_int_equal(st.flows, 1);
    assert_int_equal(st.flows_total, BURST + 1);
    vg_net_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_engines_cost_little),
        cmocka_unit_test(burst_memory_goes_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
