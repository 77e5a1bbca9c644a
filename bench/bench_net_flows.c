/*
 * A million flows through the network engine (plugins/net, vgnet):
 *
 * 1. With the session table bounded below that (BOUND, default 100,000):
 *    the memory the engine holds stays that of the bound, every flow beyond
 *    it evicts the oldest and is counted.
 * 2. With room for all of them: memory per live flow, and packets per second.
 * 3. The same packets through nDPI (libndpi 4.2) in the same run, what a
 *    user would otherwise embed: one ndpi_flow_struct per flow, kept (a flow
 *    table would keep them), memory per flow and packets per second. nDPI has
 *    no table of its own: its figure has none, ours has ours.
 *
 * Each flow is one UDP datagram, a DNS query (named, parsed, answerless).
 * Memory is the resident set from /proc/self/statm, before and after.
 *
 *   bench_net_flows [FLOWS [BOUND]]
 */
#include <ndpi/ndpi_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* IPv4/UDP/DNS query for www.example.com; flow i gets its own source. */
static uint8_t pkt[128];
static uint32_t pkt_len;

static void make_packet(void)
{
    static const uint8_t dns[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                                 "\x03www\x07"
                                 "example\x03"
                                 "com\x00\x00\x01\x00\x01";
    uint32_t dl = sizeof(dns) - 1;
    pkt_len = 20 + 8 + dl;
    memset(pkt, 0, 28);
    pkt[0] = 0x45;
    pkt[2] = (uint8_t)(pkt_len >> 8);
    pkt[3] = (uint8_t)pkt_len;
    pkt[8] = 64;
    pkt[9] = 17;
    memcpy(pkt + 16, "\x0a\x63\x00\x35", 4);
    pkt[22] = 0;
    pkt[23] = 53;
    pkt[24] = (uint8_t)((8 + dl) >> 8);
    pkt[25] = (uint8_t)(8 + dl);
    memcpy(pkt + 28, dns, dl);
}

static void set_flow(uint32_t i)
{
    pkt[12] = 10;
    pkt[13] = (uint8_t)(i >> 16);
    pkt[14] = (uint8_t)(i >> 8);
    pkt[15] = (uint8_t)i;
    pkt[20] = (uint8_t)((1024 + (i & 0x3fff)) >> 8); /* sport */
    pkt[21] = (uint8_t)(1024 + (i & 0x3fff));
}

typedef struct run {
    double secs;
    long kib;
    vg_net_stats st;
} run;

static int engine_run(uint32_t flows, uint32_t bound, run *out)
{
    long before = rss_kib();
    vg_net_config cfg = {.max_flows = bound};
    vg_net_engine *e = vg_net_engine_new(&cfg, NULL);
    if (!e)
        return -1;
    double t0 = now_s();
    for (uint32_t i = 0; i < flows; i++) {
        set_flow(i);
        vg_net_feed(e, VG_NET_DLT_RAW, 1000000 + i, pkt, pkt_len, pkt_len, 0);
    }
    out->secs = now_s() - t0;
    out->kib = rss_kib() - before;
    vg_net_stats_get(e, &out->st);
    vg_net_engine_free(e);
    return 0;
}

static int ndpi_run(uint32_t flows, run *out)
{
    struct ndpi_detection_module_struct *nd = ndpi_init_detection_module(ndpi_no_prefs);
    if (!nd)
        return -1;
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(nd, &all);
    ndpi_finalize_initialization(nd);
    struct ndpi_flow_struct **tab = calloc(flows, sizeof(*tab));
    if (!tab)
        return -1;
    long before = rss_kib();
    uint32_t named = 0;
    double t0 = now_s();
    for (uint32_t i = 0; i < flows; i++) {
        set_flow(i);
        tab[i] = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
        if (!tab[i])
            return -1;
        memset(tab[i], 0, SIZEOF_FLOW_STRUCT);
        ndpi_protocol p =
            ndpi_detection_process_packet(nd, tab[i], pkt, (uint16_t)pkt_len, 1000 + i / 1000);
        named +=
            p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN;
    }
    out->secs = now_s() - t0;
    out->kib = rss_kib() - before;
    out->st.identified = named;
    for (uint32_t i = 0; i < flows; i++)
        ndpi_free_flow(tab[i]);
    free(tab);
    ndpi_exit_detection_module(nd);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t flows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
    uint32_t bound = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 100000;
    make_packet();
    run a, b, n;
    if (engine_run(flows, bound, &a) < 0 || engine_run(flows, flows, &b) < 0 ||
        ndpi_run(flows, &n) < 0) {
        fprintf(stderr, "bench_net_flows: out of memory\n");
        return 1;
    }
    printf("%u flows, one DNS query each\n", flows);
    printf("bounded at %u: %lu live, %lu evicted, %lu named; memory %.1f MiB "
           "(%.0f bytes per flow of the bound; tables reserve %.1f MiB); %.0f packets/s\n",
           bound, (unsigned long)a.st.flows, (unsigned long)a.st.evicted,
           (unsigned long)a.st.identified, a.kib / 1024.0, a.kib * 1024.0 / bound,
           a.st.table_bytes / 1048576.0, flows / a.secs);
    printf("room for all: %lu live; memory %.1f MiB, %.0f bytes per flow; %.0f packets/s\n",
           (unsigned long)b.st.flows, b.kib / 1024.0, b.kib * 1024.0 / flows, flows / b.secs);
    printf("nDPI %s, flow structs kept: memory %.1f MiB, %.0f bytes per flow (%u-byte "
           "struct, no table); %lu named; %.0f packets/s\n",
           ndpi_revision(), n.kib / 1024.0, n.kib * 1024.0 / flows, (unsigned)SIZEOF_FLOW_STRUCT,
           (unsigned long)n.st.identified, flows / n.secs);
    printf("ratio vigil/nDPI: memory per flow %.2f, packets/s %.2f\n",
           (double)b.kib / (double)n.kib, n.secs / b.secs);
    /* The bound must hold: a bench that shows otherwise fails. */
    if (a.st.flows != bound || a.st.evicted != flows - bound || b.st.evicted != 0) {
        fprintf(stderr, "bench_net_flows: the table bound did not hold\n");
        return 1;
    }
    return 0;
}
