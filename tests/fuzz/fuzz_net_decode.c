/*
 * Fuzzes the network engine end to end: link layers, IPv4/IPv6 and their
 * extension headers, fragment reassembly, the session table (small, so that
 * eviction runs), TCP ordering, and every protocol detector and parser on
 * the streams the frames make.
 *
 * Input: one byte choosing the link type, then frames, each a 2-byte
 * big-endian length, a 1-byte clock step (tenths of a second, so that
 * timeouts fire) and the frame's bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"

static const int dlts[] = {VG_NET_DLT_EN10MB, VG_NET_DLT_LINUX_SLL, VG_NET_DLT_LINUX_SLL2,
                           VG_NET_DLT_NULL,   VG_NET_DLT_LOOP,      VG_NET_DLT_RAW,
                           VG_NET_DLT_IPV4,   VG_NET_DLT_IPV6};

static void on_flow(void *arg, const vg_net_flow *f)
{
    /* Read every field of the view, as a sink would. */
    size_t *n = arg;
    for (size_t i = 0; i < f->nfields; i++)
        *n += f->fields[i].key[0] + (size_t)f->fields[i].value[0];
}

static void on_end(void *arg, const vg_net_flow *f, int reason)
{
    on_flow(arg, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t sum = 0;
    vg_net_config cfg = {.max_flows = 32,
                         .max_inspect = 8,
                         .max_frag_bytes = 1 << 17,
                         .udp_timeout_ms = 2000,
                         .tcp_syn_timeout_ms = 1000};
    vg_net_sink sink = {.arg = &sum, .flow_app = on_flow, .flow_end = on_end};
    vg_net_engine *e = vg_net_engine_new(&cfg, &sink);
    if (!e)
        abort();
    int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    uint64_t ts = 1000000;
    for (size_t i = 1; i + 3 <= size;) {
        uint32_t len = (uint32_t)data[i] << 8 | data[i + 1];
        ts += (uint64_t)data[i + 2] * 100000;
        i += 3;
        if (len > size - i)
            len = (uint32_t)(size - i);
        vg_net_feed(e, dlt, ts, data + i, len, len, 0);
        i += len;
    }
    vg_net_flush(e);
    vg_net_engine_free(e);
    return 0;
}
