/*
 * The decoder on crafted frames: every link type the engine takes (Ethernet
 * with and without VLAN tags, Linux cooked v1 and v2, BSD loopback in both
 * byte orders, raw IP), IPv6 extension headers, IPv4 and IPv6 fragments out
 * of order, overlapping and oversized fragments, the reassembly bound, and
 * truncated or random frames: counted, dropped, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static recorder R;

static vg_net_engine *engine(const vg_net_config *cfg)
{
    return test_engine(cfg, &R);
}

/* A DNS query for example.com, as UDP payload. */
static const uint8_t dns_query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                                   "\x07"
                                   "example"
                                   "\x03"
                                   "com"
                                   "\x00"
                                   "\x00\x01\x00\x01";
#define DNS_LEN (sizeof(dns_query) - 1)

static uint32_t wrap(uint8_t *out, int dlt, const uint8_t *ip, uint32_t len, int v6)
{
    uint32_t h = 0;
    uint16_t et = v6 ? 0x86dd : 0x0800;
    switch (dlt) {
    case VG_NET_DLT_EN10MB:
        memset(out, 0xaa, 12);
        out[12] = (uint8_t)(et >> 8);
        out[13] = (uint8_t)et;
        h = 14;
        break;
    case VG_NET_DLT_LINUX_SLL:
        memset(out, 0, 16);
        out[14] = (uint8_t)(et >> 8);
        out[15] = (uint8_t)et;
        h = 16;
        break;
    case VG_NET_DLT_LINUX_SLL2:
        memset(out, 0, 20);
        out[0] = (uint8_t)(et >> 8);
        out[1] = (uint8_t)et;
        h = 20;
        break;
    case VG_NET_DLT_NULL: /* host order, written on a little-endian host */
        memcpy(out, v6 ? "\x1e\x00\x00\x00" : "\x02\x00\x00\x00", 4);
        h = 4;
        break;
    case VG_NET_DLT_LOOP:
        memcpy(out, v6 ? "\x00\x00\x00\x18" : "\x00\x00\x00\x02", 4);
        h = 4;
        break;
    default:
        break;
    }
    memcpy(out + h, ip, len);
    return h + len;
}

static void t_link_types(void **st)
{
    static const int dlts[] = {VG_NET_DLT_EN10MB,  VG_NET_DLT_LINUX_SLL, VG_NET_DLT_LINUX_SLL2,
                               VG_NET_DLT_NULL,    VG_NET_DLT_LOOP,      VG_NET_DLT_RAW,
                               VG_NET_DLT_RAW_ALT, VG_NET_DLT_IPV4};
    uint8_t ip[512], frame[600];
    for (int v6 = 0; v6 < 2; v6++)
        for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
            if (v6 && dlts[i] == VG_NET_DLT_IPV4)
                continue;
            vg_net_engine *e = engine(NULL);
            uint32_t n = build_udp(ip, v6 ? "fd00::1" : "10.0.0.1", v6 ? "fd00::2" : "10.0.0.2",
                                   5000, 5353, dns_query, DNS_LEN);
            uint32_t fl = wrap(frame, dlts[i], ip, n, v6);
            assert_int_equal(vg_net_feed(e, dlts[i], 1, frame, fl, fl, 7), 0);
            vg_net_flush(e);
            vg_net_engine_free(e);
            assert_int_equal(R.nflows, 1);
            assert_string_equal(R.flows[0].app, "dns");
            assert_string_equal(R.flows[0].server, v6 ? "[fd00::2]:5353" : "10.0.0.2:5353");
        }
}

static void t_vlan(void **st)
{
    uint8_t ip[512], frame[600];
    uint32_t n = build_udp(ip, "10.0.0.1", "10.0.0.2", 5000, 53, dns_query, DNS_LEN);
    /* 802.1ad outer tag, 802.1Q inner tag */
    memset(frame, 0xaa, 12);
    memcpy(frame + 12, "\x88\xa8\x00\x64\x81\x00\x00\xc8\x08\x00", 10);
    memcpy(frame + 22, ip, n);
    vg_net_engine *e = engine(NULL);
    assert_int_equal(vg_net_feed(e, VG_NET_DLT_EN10MB, 1, frame, 22 + n, 22 + n, 0), 0);
    /* five tags: beyond the depth walked, malformed */
    for (int i = 0; i < 5; i++)
        memcpy(frame + 12 + 4 * i, "\x81\x00\x00\x01", 4);
    assert_int_equal(vg_net_feed(e, VG_NET_DLT_EN10MB, 2, frame, 40, 40, 0), -EPROTO);
    /* ARP: not IP, unsupported, not an anomaly */
    memcpy(frame + 12, "\x08\x06", 2);
    assert_int_equal(vg_net_feed(e, VG_NET_DLT_EN10MB, 3, frame, 60, 60, 0), -EPROTONOSUPPORT);
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.flows, 1);
    assert_int_equal(s.malformed, 1);
    assert_int_equal(s.unsupported, 1);
    assert_int_equal(R.nanomalies, 1);
    assert_int_equal(vg_net_feed(e, 9999, 4, frame, 60, 60, 0), -EPROTONOSUPPORT);
    vg_net_engine_free(e);
}

/* Hop-by-hop and destination options before UDP. */
static void t_ipv6_ext_headers(void **st)
{
    uint8_t ip[512], out[600];
    uint32_t n = build_udp(ip, "fd00::1", "fd00::2", 5000, 53, dns_query, DNS_LEN);
    memcpy(out, ip, 40);
    out[6] = 0;                                              /* hop-by-hop */
    memcpy(out + 40, "\x3c\x00\x01\x04\x00\x00\x00\x00", 8); /* next: dest opts */
    memcpy(out + 48, "\x11\x01\x01\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 16);
    memcpy(out + 64, ip + 40, n - 40);
    uint32_t plen = n - 40 + 24;
    out[4] = (uint8_t)(plen >> 8);
    out[5] = (uint8_t)plen;
    vg_net_engine *e = engine(NULL);
    assert_int_equal(feed_raw(e, 1, out, 40 + plen), 0);
    /* an extension header that claims more than the packet has */
    out[41] = 200;
    assert_int_equal(feed_raw(e, 2, out, 40 + plen), -EPROTO);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 1);
    assert_string_equal(R.flows[0].app, "dns");
    assert_int_equal(R.flows[0].sport, 53);
}

/* IPv4 fragment of a UDP datagram: payload bytes [off, off+len) of it. */
static uint32_t frag4(uint8_t *out, const uint8_t *dgram, uint32_t off, uint32_t len, int more,
                      uint16_t id, uint8_t proto)
{
    memset(out, 0, 20);
    out[0] = 0x45;
    out[2] = (uint8_t)((20 + len) >> 8);
    out[3] = (uint8_t)(20 + len);
    out[4] = (uint8_t)(id >> 8);
    out[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
    out[6] = (uint8_t)(fo >> 8);
    out[7] = (uint8_t)fo;
    out[8] = 64;
    out[9] = proto;
    memcpy(out + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    memcpy(out + 20, dgram + off, len);
    return 20 + len;
}

static void t_ipv4_fragments(void **st)
{
    uint8_t ip[512], f[512];
    uint32_t n = build_udp(ip, "10.0.0.1", "10.0.0.2", 5000, 53, dns_query, DNS_LEN);
    const uint8_t *udp = ip + 20;
    uint32_t ul = n - 20; /* 8 + 29 = 37 bytes */
    vg_net_engine *e = engine(NULL);
    /* last first, then the middle, then the first, the middle again */
    assert_int_equal(feed_raw(e, 1, f, frag4(f, udp, 32, ul - 32, 0, 7, 17)), 0);
    assert_int_equal(feed_raw(e, 2, f, frag4(f, udp, 16, 16, 1, 7, 17)), 0);
    assert_int_equal(R.started, 0);
    assert_int_equal(feed_raw(e, 3, f, frag4(f, udp, 0, 16, 1, 7, 17)), 0);
    assert_int_equal(R.started, 1);
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.fragments, 3);
    assert_int_equal(s.reassembled, 1);
    /* teardrop: the second fragment again, with other bytes */
    uint8_t bad[64];
    memcpy(bad, udp, ul);
    bad[10] ^= 0xff; /* inside the part both fragments hold */
    feed_raw(e, 4, f, frag4(f, udp, 0, 16, 1, 8, 17));
    assert_int_equal(feed_raw(e, 5, f, frag4(f, bad, 8, 16, 1, 8, 17)), -EPROTO);
    assert_true(has_anomaly(&R, "ip-teardrop"));
    /* ping of death: an ICMP fragment ending beyond 65,535 bytes */
    uint8_t pod[64];
    uint32_t pl = frag4(pod, udp, 0, 24, 0, 10, 1);
    pod[6] = 0x1f; /* offset 8191 * 8 = 65528, + 24 > 65535 */
    pod[7] = 0xff;
    assert_int_equal(feed_raw(e, 7, pod, pl), -EPROTO);
    assert_true(has_anomaly(&R, "ping-of-death"));
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_string_equal(R.flows[0].app, "dns");
}

static void t_ipv6_fragments(void **st)
{
    uint8_t ip[512], f[512];
    uint32_t n = build_udp(ip, "fd00::1", "fd00::2", 5000, 53, dns_query, DNS_LEN);
    const uint8_t *udp = ip + 40;
    uint32_t ul = n - 40;
    vg_net_engine *e = engine(NULL);
    uint32_t parts[][3] = {{16, ul - 16, 0}, {0, 16, 1}};
    for (int i = 0; i < 2; i++) {
        uint32_t off = parts[i][0], len = parts[i][1];
        memcpy(f, ip, 40);
        f[6] = 44;
        uint32_t plen = 8 + len;
        f[4] = (uint8_t)(plen >> 8);
        f[5] = (uint8_t)plen;
        uint16_t fo = (uint16_t)(off | parts[i][2]);
        uint8_t fh[8] = {17, 0, (uint8_t)(fo >> 8), (uint8_t)fo, 0, 0, 0x12, 0x34};
        memcpy(f + 40, fh, 8);
        memcpy(f + 48, udp + off, len);
        assert_int_equal(feed_raw(e, 1 + (uint64_t)i, f, 48 + len), 0);
    }
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.reassembled, 1);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 1);
    assert_string_equal(R.flows[0].app, "dns");
    assert_string_equal(R.flows[0].client, "[fd00::1]:5000");
}

/* One reassembly slot: a second datagram takes it over (counted); an
 * unfinished one is dropped 30 s later. */
static void t_fragment_bounds(void **st)
{
    vg_net_config cfg = {.max_frag_bytes = 1};
    vg_net_engine *e = engine(&cfg);
    uint8_t ip[512], f[512];
    uint32_t n = build_udp(ip, "10.0.0.1", "10.0.0.2", 5000, 53, dns_query, DNS_LEN);
    for (uint16_t id = 1; id <= 3; id++)
        feed_raw(e, id, f, frag4(f, ip + 20, 0, 16, 1, id, 17));
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.frag_dropped, 2);
    vg_net_expire(e, 31 * 1000000ull + 10);
    vg_net_stats_get(e, &s);
    assert_int_equal(s.frag_dropped, 3);
    (void)n;
    vg_net_engine_free(e);
}

/* Every prefix of a frame, and random frames of every link type: the
 * engine counts each one and stays sound. */
static void t_truncated_and_random(void **st)
{
    uint8_t ip[512], frame[600];
    tcp_spec s = {"10.0.0.1", "10.0.0.2", 1234, 80, 1, 0, VG_NET_TCP_ACK, "GET / HTTP/1.1\r\n", 16};
    uint32_t n = build_tcp(ip, &s);
    uint32_t fl = wrap(frame, VG_NET_DLT_EN10MB, ip, n, 0);
    vg_net_engine *e = engine(NULL);
    uint64_t fed = 0;
    for (uint32_t len = 0; len < fl; len++, fed++)
        vg_net_feed(e, VG_NET_DLT_EN10MB, fed, frame, len, fl, 0);
    vg_net_stats st1;
    vg_net_stats_get(e, &st1);
    assert_int_equal(st1.packets, fed);
    /* shorter than Ethernet + IPv4 + TCP headers: all malformed */
    assert_true(st1.malformed >= 14 + 20 + 20);
    srand(42);
    static const int dlts[] = {VG_NET_DLT_EN10MB, VG_NET_DLT_LINUX_SLL, VG_NET_DLT_LINUX_SLL2,
                               VG_NET_DLT_NULL,   VG_NET_DLT_LOOP,      VG_NET_DLT_RAW};
    for (int i = 0; i < 20000; i++, fed++) {
        uint32_t len = (uint32_t)rand() % sizeof(frame);
        for (uint32_t k = 0; k < len; k++)
            frame[k] = (uint8_t)rand();
        if (i % 2) { /* mostly valid IPv4/IPv6 headers with random rest */
            frame[4] = (i % 4) == 1 ? 0x45 : 0x60;
        }
        vg_net_feed(e, dlts[i % 6], fed, frame, len, len, 0);
    }
    vg_net_stats st2;
    vg_net_stats_get(e, &st2);
    assert_int_equal(st2.packets, fed);
    assert_true(st2.malformed + st2.unsupported > st1.malformed);
    vg_net_flush(e);
    vg_net_stats_get(e, &st2);
    assert_int_equal(st2.flows, 0);
    assert_int_equal(st2.identified + st2.unknown, st2.flows_total);
    vg_net_engine_free(e);
    assert_int_equal(vg_net_feed(NULL, 1, 0, frame, 10, 10, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_link_types),           cmocka_unit_test(t_vlan),
        cmocka_unit_test(t_ipv6_ext_headers),     cmocka_unit_test(t_ipv4_fragments),
        cmocka_unit_test(t_ipv6_fragments),       cmocka_unit_test(t_fragment_bounds),
        cmocka_unit_test(t_truncated_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
