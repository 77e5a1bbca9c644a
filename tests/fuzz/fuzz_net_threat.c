/*
 * Fuzzes the threat detectors (plugins/net/threat/) through the engine:
 * every threat on, thresholds at their lowest so that meters, tunnels and
 * slow heads trip, two capture sources with different sets.
 *
 * Input: one byte choosing the link type, then frames, each a 2-byte
 * big-endian length, a 1-byte clock step (tenths of a second) and the
 * frame's bytes; the frame's source is the low bit of the step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static const int dlts[] = {VG_NET_DLT_EN10MB, VG_NET_DLT_LINUX_SLL, VG_NET_DLT_NULL,
                           VG_NET_DLT_RAW};

static void on_threat(void *arg, const vg_net_threat *t)
{
    /* Read what a sink reads. */
    size_t *n = arg;
    *n += strlen(t->name) + strlen(t->detail) + t->client[0] + t->server[15];
    for (uint32_t i = 0; i < t->pkt_len; i += 64)
        *n += t->pkt[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t sum = 0;
    vg_net_config cfg = {.max_flows = 32, .max_inspect = 8, .max_frag_bytes = 1 << 17};
    vg_net_sink sink = {.arg = &sum, .threat = on_threat};
    vg_net_engine *e = vg_net_engine_new(&cfg, &sink);
    if (!e)
        return 0;
    vg_net_threat_conf c;
    vg_net_threat_defaults(&c);
    c.enabled = VG_NET_T_ALL;
    c.syn_flood_pps = c.icmp_flood_pps = c.session_limit = 2;
    c.slowloris_conns = c.mysql_denied = c.icmp_tunnel_packets = c.dns_tunnel_queries = 1;
    c.slowloris_header_ms = 1;
    c.dns_tunnel_label = 8;
    c.icmp_tunnel_payload = 8;
    vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, &c);
    vg_net_threat_defaults(&c);
    vg_net_threat_set(e, 1, &c);
    uint8_t ext[1][16] = {{10, 0, 0, 2}};
    int fam = 2; /* AF_INET */
    vg_net_threat_extips(e, (const uint8_t(*)[16])ext, &fam, 1);
    int dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
    uint64_t ts = 1000000;
    for (size_t i = 1; i + 3 <= size;) {
        size_t len = (size_t)data[i] << 8 | data[i + 1];
        uint8_t step = data[i + 2];
        i += 3;
        if (len > size - i)
            len = size - i;
        ts += (uint64_t)step * 100000;
        /* a copy of its size, so that reads past the frame are caught */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            break;
        memcpy(frame, data + i, len);
        vg_net_feed(e, dlt, ts, frame, (uint32_t)len, (uint32_t)len, step & 1);
        free(frame);
        i += len;
    }
    vg_net_flush(e);
    vg_net_engine_free(e);
    return (int)(sum & 0);
}
