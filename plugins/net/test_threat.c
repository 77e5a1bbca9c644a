/*
 * Threat detection (plugins/net/threat/): for each threat a capture file
 * written here with libpcap's pcap_dump from crafted packets at controlled
 * timestamps (floods at their rates, slowloris over a minute), read back
 * through the engine as `vigil-scan pcap` reads files; each must raise its
 * id and nothing else. Benign captures (HTTP, TLS 1.3, DNS, MySQL login and
 * query, SSH-2.0, ping) and the quiet files of the Zeek corpus must raise
 * nothing with every threat on; its labelled files must raise their label.
 * Also: switches and thresholds per source, the report's contents.
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#define T0 1700000000000000ull /* capture clock: microseconds */
#define SEC 1000000ull

/* ---- what the engine reported ---- */

static struct {
    char names[16384]; /* "name\n" lines */
    int n;
    vg_net_threat first; /* the first report, copied */
    char first_detail[128];
    uint8_t first_pkt[VG_NET_THREAT_PKT_MAX];
} T;

static void on_threat(void *arg, const vg_net_threat *t)
{
    if (T.n++ == 0) {
        T.first = *t;
        snprintf(T.first_detail, sizeof(T.first_detail), "%s", t->detail);
        if (t->pkt_len)
            memcpy(T.first_pkt, t->pkt, t->pkt_len);
        T.first.pkt = T.first_pkt;
        T.first.detail = T.first_detail;
    }
    size_t o = strlen(T.names);
    snprintf(T.names + o, sizeof(T.names) - o, "%s\n", t->name);
}

static int count(const char *name)
{
    int n = 0;
    size_t l = strlen(name);
    for (const char *p = T.names; *p;) {
        const char *nl = strchr(p, '\n');
        n += (size_t)(nl - p) == l && !strncmp(p, name, l);
        p = nl + 1;
    }
    return n;
}

/* Every report is name, and there is at least one. */
static void only(const char *name)
{
    if (!count(name) || count(name) != T.n) {
        fprintf(stderr, "expected only %s, got:\n%s", name, T.names);
        fail();
    }
}

static void quiet(const char *what)
{
    if (T.n) {
        fprintf(stderr, "%s: false alarms:\n%s", what, T.names);
        fail();
    }
}

/* ---- capture files ---- */

typedef struct cap {
    pcap_t *p;
    pcap_dumper_t *d;
    char path[256];
} cap;

static void cap_open(cap *c, const char *name)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(c->path, sizeof(c->path), "%s/vg-threat-%d-%s.pcap", tmp, (int)getpid(), name);
    c->p = pcap_open_dead(DLT_RAW, 65535);
    assert_non_null(c->p);
    c->d = pcap_dump_open(c->p, c->path);
    assert_non_null(c->d);
}

static void cap_put(cap *c, uint64_t ts, const uint8_t *pkt, uint32_t len)
{
    struct pcap_pkthdr h = {.caplen = len, .len = len};
    h.ts.tv_sec = (time_t)(ts / SEC);
    h.ts.tv_usec = (suseconds_t)(ts % SEC);
    pcap_dump((u_char *)c->d, &h, pkt);
}

/* Closes the capture and reads it through an engine with conf (NULL: every
 * threat on) and, when given, these external IPs. */
static void cap_scan_ext(cap *c, const vg_net_threat_conf *conf, const char *extip)
{
    pcap_dump_close(c->d);
    pcap_close(c->p);
    memset(&T, 0, sizeof(T));
    static recorder r;
    vg_net_sink sink = recorder_sink(&r);
    sink.threat = on_threat;
    vg_net_engine *e = vg_net_engine_new(NULL, &sink);
    assert_non_null(e);
    vg_net_threat_conf all;
    vg_net_threat_defaults(&all);
    all.enabled = VG_NET_T_ALL;
    assert_int_equal(vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, conf ? conf : &all), 0);
    if (extip) {
        uint8_t a[1][16] = {{0}};
        int fam = AF_INET;
        inet_pton(AF_INET, extip, a[0]);
        assert_int_equal(vg_net_threat_extips(e, (const uint8_t(*)[16])a, &fam, 1), 0);
    }
    assert_true(feed_file(e, c->path) >= 0);
    vg_net_flush(e);
    vg_net_engine_free(e);
    unlink(c->path);
}

static void cap_scan(cap *c, const vg_net_threat_conf *conf)
{
    cap_scan_ext(c, conf, NULL);
}

/* ---- crafted TCP ---- */

typedef struct tconv {
    cap *c;
    const char *ip[2]; /* client, server */
    uint16_t port[2];
    uint32_t seq[2];
    uint64_t ts, step;
    uint16_t window; /* 0: 0xffff */
} tconv;

static const uint8_t syn_opts[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7}; /* MSS 1460, wscale 7 */

/* One segment from side `from`, TCP options first when given. */
static void seg(tconv *t, int from, uint8_t flags, const void *data, uint32_t len,
                const uint8_t *opts, uint32_t olen)
{
    uint8_t body[8192], pkt[9000];
    if (olen)
        memcpy(body, opts, olen);
    if (len)
        memcpy(body + olen, data, len);
    tcp_spec s = {t->ip[from],   t->ip[!from], t->port[from], t->port[!from], t->seq[from],
                  t->seq[!from], flags,        body,          olen + len};
    uint32_t n = build_tcp(pkt, &s);
    uint8_t *th = pkt + ((pkt[0] >> 4) == 4 ? 20 : 40);
    th[12] = (uint8_t)((5 + olen / 4) << 4);
    if (t->window) {
        th[14] = (uint8_t)(t->window >> 8);
        th[15] = (uint8_t)t->window;
    }
    cap_put(t->c, t->ts, pkt, n);
    t->ts += t->step;
    t->seq[from] += len + ((flags & (VG_NET_TCP_SYN | VG_NET_TCP_FIN)) ? 1 : 0);
}

static void t_open(tconv *t, cap *c, const char *cli, const char *srv, uint16_t cport,
                   uint16_t sport, uint64_t ts)
{
    *t = (tconv){.c = c,
                 .ip = {cli, srv},
                 .port = {cport, sport},
                 .seq = {1000, 9000},
                 .ts = ts,
                 .step = 1000};
    seg(t, 0, VG_NET_TCP_SYN, NULL, 0, syn_opts, sizeof(syn_opts));
    seg(t, 1, VG_NET_TCP_SYN | VG_NET_TCP_ACK, NULL, 0, syn_opts, sizeof(syn_opts));
    seg(t, 0, VG_NET_TCP_ACK, NULL, 0, NULL, 0);
}

static void t_send(tconv *t, int from, const void *data, uint32_t len)
{
    seg(t, from, VG_NET_TCP_ACK | VG_NET_TCP_PSH, data, len ? len : (uint32_t)strlen(data), NULL,
        0);
}

static void t_close(tconv *t)
{
    seg(t, 0, VG_NET_TCP_ACK | VG_NET_TCP_FIN, NULL, 0, NULL, 0);
    seg(t, 1, VG_NET_TCP_ACK | VG_NET_TCP_FIN, NULL, 0, NULL, 0);
}

/* A whole conversation: messages alternate from the sides given. */
static void conversation(cap *c, uint16_t cport, uint16_t sport, uint64_t ts, const tcp_msg *m,
                         size_t n)
{
    tconv t;
    t_open(&t, c, "10.1.0.1", "10.1.0.2", cport, sport, ts);
    for (size_t i = 0; i < n; i++)
        t_send(&t, m[i].from, m[i].data, m[i].len);
    t_close(&t);
}

/* ---- crafted UDP, ICMP, fragments ---- */

static void udp(cap *c, uint64_t ts, const char *src, const char *dst, uint16_t sp, uint16_t dp,
                const void *data, uint32_t len)
{
    uint8_t pkt[2048];
    cap_put(c, ts, pkt, build_udp(pkt, src, dst, sp, dp, data, len));
}

static void icmp_echo(cap *c, uint64_t ts, const char *src, const char *dst, int reply, uint16_t id,
                      uint16_t seq, const uint8_t *data, uint32_t len)
{
    uint8_t l4[2048], pkt[2100];
    l4[0] = reply ? 0 : 8;
    l4[1] = 0;
    l4[2] = l4[3] = 0;
    l4[4] = (uint8_t)(id >> 8);
    l4[5] = (uint8_t)id;
    l4[6] = (uint8_t)(seq >> 8);
    l4[7] = (uint8_t)seq;
    memcpy(l4 + 8, data, len);
    cap_put(c, ts, pkt, build_ip(pkt, src, dst, 1, l4, 8 + len));
}

/* An IPv4 fragment of datagram id: l4 bytes at offset off (bytes). */
static void fragment(cap *c, uint64_t ts, uint8_t proto, uint16_t id, uint32_t off, int more,
                     const uint8_t *l4, uint32_t len)
{
    uint8_t pkt[2100];
    uint32_t n = build_ip(pkt, "10.9.0.1", "10.9.0.2", proto, l4, len);
    uint16_t fo = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
    pkt[4] = (uint8_t)(id >> 8);
    pkt[5] = (uint8_t)id;
    pkt[6] = (uint8_t)(fo >> 8);
    pkt[7] = (uint8_t)fo;
    cap_put(c, ts, pkt, n);
}

/* ---- DNS, TLS, MySQL message builders ---- */

/* A DNS query for name (dotted) of qtype; returns its length. */
static uint32_t dns_query(uint8_t *m, uint16_t id, const char *name, uint16_t qtype)
{
    memset(m, 0, 12);
    m[0] = (uint8_t)(id >> 8);
    m[1] = (uint8_t)id;
    m[2] = 0x01; /* RD */
    m[5] = 1;
    uint32_t o = 12;
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        m[o++] = (uint8_t)l;
        memcpy(m + o, p, l);
        o += (uint32_t)l;
        p += l + (dot ? 1 : 0);
    }
    m[o++] = 0;
    m[o++] = (uint8_t)(qtype >> 8);
    m[o++] = (uint8_t)qtype;
    m[o++] = 0;
    m[o++] = 1;
    return o;
}

/* A TLS record of type around body. */
static uint32_t tls_record(uint8_t *out, uint8_t type, uint16_t ver, const uint8_t *body,
                           uint32_t len)
{
    out[0] = type;
    out[1] = (uint8_t)(ver >> 8);
    out[2] = (uint8_t)ver;
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
    memcpy(out + 5, body, len);
    return 5 + len;
}

/* A hello (type 1 or 2) handshake message: version, random, empty session
 * id, cipher suites (client: cs_len claimed, cs given) or the chosen one,
 * no compression, and a supported_versions extension when sv != 0. */
static uint32_t hello(uint8_t *h, int type, uint16_t ver, uint16_t cs_claim, uint16_t sv)
{
    uint32_t o = 4;
    h[o++] = (uint8_t)(ver >> 8);
    h[o++] = (uint8_t)ver;
    for (int i = 0; i < 32; i++)
        h[o++] = (uint8_t)(i * 37 + 11);
    h[o++] = 0; /* session id */
    if (type == 1) {
        h[o++] = (uint8_t)(cs_claim >> 8);
        h[o++] = (uint8_t)cs_claim;
        static const uint8_t cs[] = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x30};
        memcpy(h + o, cs, sizeof(cs));
        o += sizeof(cs);
        h[o++] = 1;
        h[o++] = 0;
    } else {
        h[o++] = 0x13;
        h[o++] = 0x01;
        h[o++] = 0;
    }
    if (sv) {
        uint32_t el = type == 1 ? 7 : 6;
        h[o++] = 0;
        h[o++] = (uint8_t)el;
        h[o++] = 0x00;
        h[o++] = 0x2b;
        h[o++] = 0;
        h[o++] = (uint8_t)(el - 4);
        if (type == 1)
            h[o++] = 2;
        h[o++] = (uint8_t)(sv >> 8);
        h[o++] = (uint8_t)sv;
    }
    h[0] = (uint8_t)type;
    h[1] = 0;
    h[2] = (uint8_t)((o - 4) >> 8);
    h[3] = (uint8_t)(o - 4);
    return o;
}

/* A MySQL packet: 3-byte little-endian length, sequence, payload. */
static uint32_t mysql_pkt(uint8_t *out, uint8_t seq, const void *p, uint32_t len)
{
    out[0] = (uint8_t)len;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)(len >> 16);
    out[3] = seq;
    memcpy(out + 4, p, len);
    return 4 + len;
}

static uint32_t mysql_greeting(uint8_t *out)
{
    uint8_t g[80] = {10};
    uint32_t o = 1;
    memcpy(g + o, "8.0.36", 7);
    o += 7;
    memset(g + o, 0x41, 40);
    o += 40;
    return mysql_pkt(out, 0, g, o);
}

/* Login request (protocol 41, secure connection) for user. */
static uint32_t mysql_login(uint8_t *out, const char *user)
{
    uint8_t l[128] = {0};
    uint32_t caps = 0x200 | 0x8000;
    memcpy(l, &caps, 4); /* little-endian host */
    l[8] = 33;
    uint32_t o = 32;
    memcpy(l + o, user, strlen(user) + 1);
    o += (uint32_t)strlen(user) + 1;
    l[o++] = 20;
    memset(l + o, 0x5a, 20);
    o += 20;
    return mysql_pkt(out, 1, l, o);
}

static uint32_t mysql_error(uint8_t *out, uint16_t code, const char *msg)
{
    uint8_t e[128] = {0xff, (uint8_t)code, (uint8_t)(code >> 8), '#'};
    memcpy(e + 4, "28000", 5);
    memcpy(e + 9, msg, strlen(msg));
    return mysql_pkt(out, 2, e, 9 + (uint32_t)strlen(msg));
}

static uint32_t mysql_query(uint8_t *out, const char *q)
{
    uint8_t b[1024] = {3};
    memcpy(b + 1, q, strlen(q));
    return mysql_pkt(out, 0, b, 1 + (uint32_t)strlen(q));
}

/* ---- one capture per threat ---- */

static void t_syn_flood(void **st)
{
    cap c;
    /* 300 SYNs a second for 2 s from many clients to one server */
    cap_open(&c, "syn-flood");
    for (int i = 0; i < 600; i++) {
        char src[32];
        snprintf(src, sizeof(src), "10.2.%d.%d", i / 200, i % 200 + 1);
        tconv t = {.c = &c,
                   .ip = {src, "10.1.0.2"},
                   .port = {(uint16_t)(20000 + i), 80},
                   .seq = {1, 1},
                   .ts = T0 + (uint64_t)i * SEC / 300,
                   .step = 1};
        seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, syn_opts, sizeof(syn_opts));
    }
    cap_scan(&c, NULL);
    only("syn-flood");
    assert_int_equal(T.first.severity, VG_NET_SEV_CRITICAL);
    /* 100 a second: below NeuVector's 200 */
    cap_open(&c, "syn-busy");
    for (int i = 0; i < 200; i++) {
        char src[32];
        snprintf(src, sizeof(src), "10.2.0.%d", i + 1);
        tconv t = {.c = &c,
                   .ip = {src, "10.1.0.2"},
                   .port = {(uint16_t)(20000 + i), 80},
                   .seq = {1, 1},
                   .ts = T0 + (uint64_t)i * SEC / 100,
                   .step = 1};
        seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, syn_opts, sizeof(syn_opts));
    }
    cap_scan(&c, NULL);
    quiet("100 SYN/s");
}

static void t_icmp_flood(void **st)
{
    cap c;
    uint8_t pl[56] = {0};
    cap_open(&c, "icmp-flood");
    for (int i = 0; i < 400; i++)
        icmp_echo(&c, T0 + (uint64_t)i * SEC / 200, "10.3.0.1", "10.1.0.2", 0, 7, (uint16_t)i, pl,
                  sizeof(pl));
    cap_scan(&c, NULL);
    only("icmp-flood");
}

static void t_session_limit(void **st)
{
    cap c;
    /* 2100 connections from one client over 21 s (100/s, no SYN flood) */
    cap_open(&c, "session-limit");
    for (int i = 0; i < 2100; i++) {
        tconv t = {.c = &c,
                   .ip = {"10.4.0.1", "10.1.0.2"},
                   .port = {(uint16_t)(10000 + i), 443},
                   .seq = {1, 1},
                   .ts = T0 + (uint64_t)i * SEC / 100,
                   .step = 1};
        seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, syn_opts, sizeof(syn_opts));
    }
    cap_scan(&c, NULL);
    only("ip-session-limit");
    assert_non_null(strstr(T.first.detail, "2001 sessions"));
}

static void t_bad_packet(void **st)
{
    cap c;
    cap_open(&c, "bad-packet");
    tconv t;
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 40000, 80, T0);
    seg(&t, 0, 0, "x", 1, NULL, 0); /* no flags at all */
    cap_scan(&c, NULL);
    only("bad-packet");
}

static void t_teardrop(void **st)
{
    cap c;
    uint8_t a[64], b[64];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    cap_open(&c, "teardrop");
    fragment(&c, T0, 17, 77, 0, 1, a, 48);
    fragment(&c, T0 + 1, 17, 77, 24, 0, b, 40); /* rewrites bytes 24..47 */
    cap_scan(&c, NULL);
    only("ip-teardrop");
}

static void t_ping_of_death(void **st)
{
    cap c;
    uint8_t d[1480];
    memset(d, 0x55, sizeof(d));
    d[0] = 8;
    cap_open(&c, "ping-of-death");
    for (uint32_t off = 0; off < 65536; off += 1480)
        fragment(&c, T0 + off, 1, 99, off, off + 1480 < 66600, d, 1480);
    cap_scan(&c, NULL);
    assert_true(count("ping-of-death") >= 1);
    only("ping-of-death");
}

static void t_syn_data_split(void **st)
{
    cap c;
    cap_open(&c, "syn-data");
    tconv t = {.c = &c,
               .ip = {"10.1.0.1", "10.1.0.2"},
               .port = {40001, 80},
               .seq = {1, 1},
               .ts = T0,
               .step = 1};
    seg(&t, 0, VG_NET_TCP_SYN, "hello", 5, NULL, 0);
    cap_scan(&c, NULL);
    only("tcp-syn-data");

    cap_open(&c, "split-handshake");
    t = (tconv){.c = &c,
                .ip = {"10.1.0.1", "10.1.0.2"},
                .port = {40002, 80},
                .seq = {1, 1},
                .ts = T0,
                .step = 1};
    seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, NULL, 0);
    seg(&t, 1, VG_NET_TCP_SYN, NULL, 0, NULL, 0);
    cap_scan(&c, NULL);
    only("tcp-split-handshake");
}

static void t_small_window_mss(void **st)
{
    cap c;
    cap_open(&c, "small-window");
    tconv t;
    static const uint8_t noscale[] = {2, 4, 0x05, 0xb4};
    t = (tconv){.c = &c,
                .ip = {"10.1.0.1", "10.1.0.2"},
                .port = {40003, 80},
                .seq = {1, 1},
                .ts = T0,
                .step = 1000};
    seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, noscale, sizeof(noscale));
    seg(&t, 1, VG_NET_TCP_SYN | VG_NET_TCP_ACK, NULL, 0, noscale, sizeof(noscale));
    seg(&t, 0, VG_NET_TCP_ACK, NULL, 0, NULL, 0);
    t_send(&t, 0, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    t.window = 8;
    seg(&t, 0, VG_NET_TCP_ACK, NULL, 0, NULL, 0);
    cap_scan(&c, NULL);
    only("tcp-small-window");

    cap_open(&c, "small-mss");
    static const uint8_t tiny[] = {2, 4, 0, 48};
    t = (tconv){.c = &c,
                .ip = {"10.1.0.1", "10.1.0.2"},
                .port = {40004, 80},
                .seq = {1, 1},
                .ts = T0,
                .step = 1};
    seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, tiny, sizeof(tiny));
    cap_scan(&c, NULL);
    only("tcp-small-mss");
    assert_string_equal(T.first.detail, "mss 48 < 256");
}

static void t_dns_attacks(void **st)
{
    cap c;
    uint8_t m[1024];
    uint32_t n;

    cap_open(&c, "dns-loop");
    n = dns_query(m, 1, "x", 1);
    m[12] = 0xc0; /* the name points at itself */
    m[13] = 12;
    m[14] = 0;
    udp(&c, T0, "10.1.0.1", "10.1.0.53", 5353, 53, m, n);
    cap_scan(&c, NULL);
    only("dns-loop-pointer");

    cap_open(&c, "dns-overflow");
    char big[400] = "";
    for (int i = 0; i < 5; i++)
        strcat(big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(big, "com");
    n = dns_query(m, 2, big, 1);
    udp(&c, T0, "10.1.0.1", "10.1.0.53", 5353, 53, m, n);
    cap_scan(&c, NULL);
    only("dns-overflow");

    /* AXFR over TCP: a length-prefixed query */
    cap_open(&c, "dns-axfr");
    m[0] = 0;
    n = dns_query(m + 2, 3, "example.com", 252);
    m[0] = (uint8_t)(n >> 8);
    m[1] = (uint8_t)n;
    tconv t;
    t_open(&t, &c, "10.1.0.1", "10.1.0.53", 40005, 53, T0);
    t_send(&t, 0, m, n + 2);
    t_close(&t);
    cap_scan(&c, NULL);
    only("dns-zone-transfer");

    cap_open(&c, "dns-null");
    n = dns_query(m, 4, "www.example.com", 10);
    udp(&c, T0, "10.1.0.1", "10.1.0.53", 5353, 53, m, n);
    cap_scan(&c, NULL);
    only("dns-null-type");
}

static void t_dns_tunnel(void **st)
{
    cap c;
    uint8_t m[512];
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    cap_open(&c, "dns-tunnel");
    unsigned seed = 7;
    for (int i = 0; i < 20; i++) {
        char name[160];
        int o = 0;
        for (int k = 0; k < 52; k++) {
            seed = seed * 1103515245u + 12345u;
            name[o++] = b32[(seed >> 16) & 31];
        }
        o += snprintf(name + o, sizeof(name) - (size_t)o, ".t.tunnel-example.net");
        uint32_t n = dns_query(m, (uint16_t)i, name, 16);
        udp(&c, T0 + (uint64_t)i * SEC / 2, "10.1.0.1", "10.1.0.53", (uint16_t)(30000 + i), 53, m,
            n);
    }
    cap_scan(&c, NULL);
    only("dns-tunnel");

    cap_open(&c, "dnscat");
    uint32_t n = dns_query(m, 9, "dnscat.8a3f01.example.org", 16);
    udp(&c, T0, "10.1.0.1", "10.1.0.53", 30001, 53, m, n);
    cap_scan(&c, NULL);
    only("dns-tunnel");
}

static void t_ssh_v1(void **st)
{
    cap c;
    cap_open(&c, "ssh1");
    const tcp_msg m[] = {{1, "SSH-1.5-OpenSSH_6.6\r\n", 0}, {0, "SSH-1.5-PuTTY\r\n", 0}};
    conversation(&c, 40006, 22, T0, m, 2);
    cap_scan(&c, NULL);
    only("ssh-v1");
}

static void t_tls_attacks(void **st)
{
    cap c;
    uint8_t h[512], r[600];
    uint32_t n;
    tconv t;

    /* heartbleed: a heartbeat asking 16384 bytes back in a record of 3 */
    cap_open(&c, "heartbleed");
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 40007, 443, T0);
    n = hello(h, 1, 0x0303, 8, 0);
    t_send(&t, 0, r, tls_record(r, 0x16, 0x0301, h, n));
    n = hello(h, 2, 0x0303, 0, 0);
    t_send(&t, 1, r, tls_record(r, 0x16, 0x0303, h, n));
    const uint8_t hb[] = {1, 0x40, 0x00};
    t_send(&t, 0, r, tls_record(r, 0x18, 0x0303, hb, sizeof(hb)));
    t_close(&t);
    cap_scan(&c, NULL);
    only("tls-heartbleed");

    /* a cipher-suite list longer than the hello */
    cap_open(&c, "cipher-overflow");
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 40008, 443, T0);
    n = hello(h, 1, 0x0303, 0x4000, 0);
    t_send(&t, 0, r, tls_record(r, 0x16, 0x0301, h, n));
    t_close(&t);
    cap_scan(&c, NULL);
    only("tls-cipher-overflow");

    /* SSL 2.0 client hello: 2-byte header, type 1, version 0.2 */
    cap_open(&c, "sslv2");
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 40009, 443, T0);
    const uint8_t v2[] = {0x80, 0x1c, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,
                          0x10, 0x07, 0x00, 0xc0, 0x03, 0x00, 0x80, 0x01, 0x00, 0x80,
                          0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa};
    t_send(&t, 0, v2, sizeof(v2));
    t_close(&t);
    cap_scan(&c, NULL);
    only("tls-sslv2");

    /* versions negotiated by the ServerHello */
    const struct {
        uint16_t v;
        const char *id;
    } vers[] = {{0x0300, "tls-sslv3"}, {0x0301, "tls-old-version"}, {0x0302, "tls-old-version"}};
    for (size_t i = 0; i < 3; i++) {
        cap_open(&c, "tls-version");
        t_open(&t, &c, "10.1.0.1", "10.1.0.2", 40010, 443, T0);
        n = hello(h, 1, 0x0303, 8, 0);
        t_send(&t, 0, r, tls_record(r, 0x16, 0x0301, h, n));
        n = hello(h, 2, vers[i].v, 0, 0);
        t_send(&t, 1, r, tls_record(r, 0x16, vers[i].v, h, n));
        t_close(&t);
        cap_scan(&c, NULL);
        only(vers[i].id);
    }
}

static void t_http_attacks(void **st)
{
    cap c;
    const struct {
        const char *req, *id;
    } cases[] = {
        {"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "http-negative-length"},
        {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
         "\r\n0\r\n\r\n",
         "http-smuggling"},
        {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd",
         "http-smuggling"},
        {"GET /item?id=1%27%20OR%20%271%27%3D%271 HTTP/1.1\r\nHost: shop\r\n\r\n", "sql-injection"},
        {"POST /login HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded"
         "\r\nContent-Length: 29\r\n\r\nuser=admin%27--&password=x123",
         "sql-injection"},
        {"GET /index.action HTTP/1.1\r\nHost: a\r\nContent-Type: %{(#_='multipart/form-data')."
         "(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#cmd='id')}\r\n\r\n",
         "struts-rce"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cap_open(&c, "http");
        const tcp_msg m[] = {{0, cases[i].req, 0},
                             {1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0}};
        conversation(&c, 40020, 8080, T0, m, 2);
        cap_scan(&c, NULL);
        only(cases[i].id);
    }
}

/* Six clients each open a request head and feed it a header line every 10
 * seconds for a minute, never ending it. */
static void t_slowloris(void **st)
{
    cap c;
    cap_open(&c, "slowloris");
    tconv t[6];
    static char ips[6][32];
    for (int i = 0; i < 6; i++) {
        snprintf(ips[i], sizeof(ips[i]), "10.5.0.%d", i + 1);
        t_open(&t[i], &c, ips[i], "10.1.0.2", (uint16_t)(41000 + i), 80, T0 + (uint64_t)i * 1000);
        t_send(&t[i], 0, "GET / HTTP/1.1\r\nHost: victim\r\n", 0);
    }
    for (int s = 1; s <= 6; s++)
        for (int i = 0; i < 6; i++) {
            char line[32];
            t[i].ts = T0 + (uint64_t)s * 10 * SEC + (uint64_t)i * 1000;
            snprintf(line, sizeof(line), "X-a%d: %d\r\n", s, s);
            t_send(&t[i], 0, line, 0);
        }
    cap_scan(&c, NULL);
    only("http-slowloris");
    /* one slow client (a bad link) is not an attack */
    cap_open(&c, "slow-one");
    t_open(&t[0], &c, "10.5.0.1", "10.1.0.2", 41000, 80, T0);
    t_send(&t[0], 0, "GET / HTTP/1.1\r\nHost: victim\r\n", 0);
    t[0].ts = T0 + 5 * SEC;
    t_send(&t[0], 0, "Accept: */*\r\n\r\n", 0);
    cap_scan(&c, NULL);
    quiet("one slow head");
}

static void t_mysql(void **st)
{
    cap c;
    uint8_t a[256], b[256], e[256];
    cap_open(&c, "mysql-denied");
    for (int i = 0; i < 6; i++) {
        tconv t;
        t_open(&t, &c, "10.6.0.1", "10.1.0.3", (uint16_t)(42000 + i), 3306, T0 + (uint64_t)i * SEC);
        t_send(&t, 1, a, mysql_greeting(a));
        t_send(&t, 0, b, mysql_login(b, "root"));
        t_send(&t, 1, e, mysql_error(e, 1045, "Access denied for user 'root'"));
        t_close(&t);
    }
    cap_scan(&c, NULL);
    only("mysql-access-denied");

    cap_open(&c, "mysql-sqli");
    tconv t;
    t_open(&t, &c, "10.6.0.1", "10.1.0.3", 42100, 3306, T0);
    t_send(&t, 1, a, mysql_greeting(a));
    t_send(&t, 0, b, mysql_login(b, "app"));
    const uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
    t_send(&t, 1, e, mysql_pkt(e, 2, ok, sizeof(ok)));
    t_send(&t, 0, b, mysql_query(b, "SELECT * FROM users WHERE name = '' OR '1'='1' -- '"));
    t_close(&t);
    cap_scan(&c, NULL);
    only("sql-injection");
}

/* PostgreSQL: startup, AuthenticationOk, then a simple Query. */
static void t_pgsql(void **st)
{
    cap c;
    uint8_t m[512];
    cap_open(&c, "pgsql-sqli");
    tconv t;
    t_open(&t, &c, "10.6.0.1", "10.1.0.5", 42200, 5432, T0);
    static const char params[] = "user\0app\0database\0shop\0";
    uint32_t n = 8 + sizeof(params); /* the string's NUL ends the list */
    m[0] = 0;
    m[1] = 0;
    m[2] = (uint8_t)(n >> 8);
    m[3] = (uint8_t)n;
    m[4] = 0;
    m[5] = 3;
    m[6] = 0;
    m[7] = 0;
    memcpy(m + 8, params, sizeof(params));
    t_send(&t, 0, m, n);
    static const uint8_t auth_ok[] = {'R', 0, 0, 0, 8, 0, 0, 0, 0};
    t_send(&t, 1, auth_ok, sizeof(auth_ok));
    const char *q = "SELECT * FROM items WHERE id = 1 OR 1=1";
    n = (uint32_t)strlen(q) + 1;
    m[0] = 'Q';
    m[1] = 0;
    m[2] = 0;
    m[3] = (uint8_t)((n + 4) >> 8);
    m[4] = (uint8_t)(n + 4);
    memcpy(m + 5, q, n);
    t_send(&t, 0, m, n + 5);
    t_close(&t);
    cap_scan(&c, NULL);
    only("sql-injection");
}

/* SQL Server: PRELOGIN, a tabular answer, then a SQL batch in UTF-16LE
 * after its ALL_HEADERS. */
static void t_tds(void **st)
{
    cap c;
    uint8_t m[1024];
    cap_open(&c, "tds-sqli");
    tconv t;
    t_open(&t, &c, "10.6.0.1", "10.1.0.6", 42300, 1433, T0);
    static const uint8_t prelogin[] = {0x12, 1, 0, 19,   0,  0, 1,    0,    0, 0,
                                       6,    0, 6, 0xff, 16, 0, 0x07, 0xd0, 0, 0};
    t_send(&t, 0, prelogin, sizeof(prelogin) - 1);
    static const uint8_t answer[] = {0x04, 1, 0, 8, 0, 0, 1, 0};
    t_send(&t, 1, answer, sizeof(answer));
    const char *q = "SELECT * FROM users WHERE name = 'x' OR 'a'='a'";
    uint32_t o = 8;
    static const uint8_t all[] = {22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0,
                                  0,  0, 0, 0, 0,  0, 0, 1, 0, 0, 0};
    memcpy(m + o, all, sizeof(all));
    o += sizeof(all);
    for (const char *p = q; *p; p++) {
        m[o++] = (uint8_t)*p;
        m[o++] = 0;
    }
    m[0] = 0x01;
    m[1] = 1;
    m[2] = (uint8_t)(o >> 8);
    m[3] = (uint8_t)o;
    m[4] = m[5] = 0;
    m[6] = 1;
    m[7] = 0;
    t_send(&t, 0, m, o);
    t_close(&t);
    cap_scan(&c, NULL);
    only("sql-injection");
}

/* `vigil-scan pcap --json` on a capture: the threat line a user reads. */
static void t_cli_json(void **st)
{
    cap c;
    cap_open(&c, "cli");
    const tcp_msg m[] = {{0,
                          "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                          0},
                         {1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 0}};
    conversation(&c, 40050, 8080, T0, m, 2);
    pcap_dump_close(c.d);
    pcap_close(c.p);
    char cmd[600], line[8192];
    snprintf(cmd, sizeof(cmd), "%s pcap --json %s 2>/dev/null", VIGIL_SCAN, c.path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    int threats = 0, flows = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "\"type\":\"flow\""))
            flows++;
        if (!strstr(line, "\"type\":\"threat\""))
            continue;
        threats++;
        assert_non_null(strstr(line, "\"name\":\"http-smuggling\",\"severity\":\"high\""));
        assert_non_null(strstr(line, "\"client\":\"10.1.0.1:40050\",\"server\":\"10.1.0.2:8080\""));
        assert_non_null(strstr(line, "\"time\":\"2023-11-14T22:13:20.003000Z\""));
        assert_non_null(strstr(line, "\"detail\":\"Content-Length with Transfer-Encoding\""));
        /* base64 of the frame: it starts with the IPv4 header 0x45 0x00 */
        assert_non_null(strstr(line, "\"packet\":\"RQ"));
    }
    int st_ = pclose(f);
    unlink(c.path);
    assert_int_equal(threats, 1);
    assert_int_equal(flows, 1);
    assert_int_equal(WEXITSTATUS(st_), 1); /* threats seen */
}

static void t_icmp_tunnel(void **st)
{
    cap c;
    uint8_t d[1200];
    unsigned seed = 99;
    cap_open(&c, "icmp-tunnel");
    for (int i = 0; i < 12; i++) {
        uint32_t len = 200 + (uint32_t)(i * 37 % 700);
        for (uint32_t k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            d[k] = (uint8_t)(seed >> 16);
        }
        icmp_echo(&c, T0 + (uint64_t)i * SEC, "10.7.0.1", "10.7.0.2", 0, 1, (uint16_t)i, d, len);
        d[0] ^= 0xff; /* the tunnel's answer is other data */
        icmp_echo(&c, T0 + (uint64_t)i * SEC + 500, "10.7.0.2", "10.7.0.1", 1, 1, (uint16_t)i, d,
                  len / 2);
    }
    cap_scan(&c, NULL);
    only("icmp-tunnel");
}

static void t_k8s_extip(void **st)
{
    cap c;
    cap_open(&c, "extip");
    const tcp_msg m[] = {{0, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0},
                         {1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0}};
    conversation(&c, 40030, 80, T0, m, 2); /* to 10.1.0.2 */
    cap_scan_ext(&c, NULL, "10.1.0.2");
    only("k8s-extip-mitm");
    cap_open(&c, "extip-other");
    conversation(&c, 40030, 80, T0, m, 2);
    cap_scan_ext(&c, NULL, "10.1.0.99");
    quiet("another address");
}

/* ---- benign traffic raises nothing, every threat on ---- */

static void t_benign(void **st)
{
    cap c;
    uint8_t a[1024], b[1024], r[1200];
    uint32_t n;
    tconv t;
    cap_open(&c, "benign");
    /* HTTP: a page, a search, a form, a JSON API call, keep-alive */
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 43000, 80, T0);
    t_send(&t, 0,
           "GET /search?q=O%27Brien+and+sons&page=2&sort=price-desc HTTP/1.1\r\n"
           "Host: shop\r\nUser-Agent: curl/8.5\r\nAccept: */*\r\n\r\n",
           0);
    t_send(&t, 1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0);
    t_send(&t, 0,
           "POST /login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/"
           "x-www-form-urlencoded\r\nContent-Length: 34\r\n\r\nuser=anna&password=it%27s+1%3D1+ok",
           0);
    t_send(&t, 1, "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n", 0);
    t_send(&t, 0,
           "POST /api/v1/items HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json"
           "\r\nContent-Length: 25\r\n\r\n{\"name\":\"a;b\",\"select\":1}",
           0);
    t_send(&t, 1, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 0);
    t_send(&t, 0, "GET /wiki/Union_(SQL)?title=select+union+join HTTP/1.1\r\nHost: w\r\n\r\n", 0);
    t_send(&t, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0);
    t_close(&t);

    /* TLS 1.3: hellos with supported_versions, CCS, application data */
    t_open(&t, &c, "10.1.0.1", "10.1.0.2", 43001, 443, T0 + SEC);
    n = hello(a, 1, 0x0303, 8, 0x0304);
    t_send(&t, 0, r, tls_record(r, 0x16, 0x0301, a, n));
    n = hello(a, 2, 0x0303, 0, 0x0304);
    n = tls_record(r, 0x16, 0x0303, a, n);
    const uint8_t ccs[] = {1};
    n += tls_record(r + n, 0x14, 0x0303, ccs, 1);
    memset(b, 0x3c, 300);
    n += tls_record(r + n, 0x17, 0x0303, b, 300);
    t_send(&t, 1, r, n);
    n = tls_record(r, 0x14, 0x0303, ccs, 1);
    n += tls_record(r + n, 0x17, 0x0303, b, 80);
    t_send(&t, 0, r, n);
    t_close(&t);

    /* DNS: ordinary names, a CDN's, a Kubernetes service's, AAAA, TXT */
    const char *names[] = {"www.example.com",
                           "d3k4l5m6n7o8p9.cloudfront.net",
                           "my-service.my-namespace.svc.cluster.local",
                           "ec2-54-210-33-12.compute-1.amazonaws.com",
                           "_dmarc.example.org",
                           "e3158.a.akamaiedge.net"};
    for (int i = 0; i < 6; i++) {
        n = dns_query(a, (uint16_t)(100 + i), names[i], i == 4 ? 16 : i == 3 ? 28 : 1);
        udp(&c, T0 + 2 * SEC + (uint64_t)i, "10.1.0.1", "10.1.0.53", (uint16_t)(50000 + i), 53, a,
            n);
    }

    /* MySQL: login, OK, a query and its answer */
    t_open(&t, &c, "10.1.0.1", "10.1.0.3", 43002, 3306, T0 + 3 * SEC);
    t_send(&t, 1, a, mysql_greeting(a));
    t_send(&t, 0, b, mysql_login(b, "app"));
    const uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
    t_send(&t, 1, a, mysql_pkt(a, 2, ok, sizeof(ok)));
    t_send(&t, 0, b,
           mysql_query(b, "/* ApplicationName=DBeaver */ SELECT id, name FROM users "
                          "WHERE 1=1 AND name = 'it''s' UNION ALL SELECT id, name "
                          "FROM admins WHERE id IN (1,2) -- list"));
    t_send(&t, 1, a, mysql_pkt(a, 1, "\x02", 1));
    t_send(&t, 0, b, mysql_query(b, "SET NAMES utf8mb4; SELECT @@version_comment LIMIT 1"));
    t_close(&t);

    /* SSH-2.0 both ways */
    t_open(&t, &c, "10.1.0.1", "10.1.0.4", 43003, 22, T0 + 4 * SEC);
    t_send(&t, 1, "SSH-2.0-OpenSSH_9.6\r\n", 0);
    t_send(&t, 0, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 0);
    t_close(&t);

    /* ping: ten echoes a second apart, Linux's payload, answered in kind;
     * and a large MTU probe */
    uint8_t pl[1400];
    for (int i = 0; i < 10; i++) {
        for (int k = 0; k < 56; k++)
            pl[k] = k < 8 ? (uint8_t)(i * 3 + k) : (uint8_t)(0x10 + k - 8);
        icmp_echo(&c, T0 + 5 * SEC + (uint64_t)i * SEC, "10.1.0.1", "10.1.0.2", 0, 42, (uint16_t)i,
                  pl, 56);
        icmp_echo(&c, T0 + 5 * SEC + (uint64_t)i * SEC + 300, "10.1.0.2", "10.1.0.1", 1, 42,
                  (uint16_t)i, pl, 56);
    }
    for (int k = 0; k < 1400; k++)
        pl[k] = (uint8_t)(0x10 + k);
    for (int i = 0; i < 10; i++)
        icmp_echo(&c, T0 + 20 * SEC + (uint64_t)i * SEC, "10.1.0.1", "10.1.0.9", 0, 43, (uint16_t)i,
                  pl, (uint32_t)(1000 + i * 40));
    cap_scan(&c, NULL);
    quiet("benign capture");
}

/* ---- switches and thresholds ---- */

static void write_syn_flood(cap *c)
{
    cap_open(c, "switch");
    for (int i = 0; i < 600; i++) {
        char src[32];
        snprintf(src, sizeof(src), "10.2.%d.%d", i / 200, i % 200 + 1);
        tconv t = {.c = c,
                   .ip = {src, "10.1.0.2"},
                   .port = {(uint16_t)(20000 + i), 80},
                   .seq = {1, 1},
                   .ts = T0 + (uint64_t)i * SEC / 300,
                   .step = 1};
        seg(&t, 0, VG_NET_TCP_SYN, NULL, 0, NULL, 0);
    }
}

static void t_switches(void **st)
{
    cap c;
    vg_net_threat_conf conf;
    vg_net_threat_defaults(&conf);
    conf.enabled &= ~VG_NET_T_BIT(VG_NET_T_SYN_FLOOD);
    write_syn_flood(&c);
    cap_scan(&c, &conf);
    quiet("syn-flood switched off");

    vg_net_threat_defaults(&conf);
    conf.syn_flood_pps = 1000;
    write_syn_flood(&c);
    cap_scan(&c, &conf);
    quiet("threshold raised to 1000/s");

    /* NeuVector's default set: slowloris and tls-old-version are off */
    vg_net_threat_defaults(&conf);
    assert_false(conf.enabled & VG_NET_T_BIT(VG_NET_T_HTTP_SLOWLORIS));
    assert_true(conf.enabled & VG_NET_T_BIT(VG_NET_T_SQL_INJECTION));
    assert_int_equal(conf.syn_flood_pps, 200);
    assert_int_equal(conf.small_mss, 256);
}

/* One engine, two capture sources (two workloads' namespaces): each gets
 * its group's set. */
static void t_per_source(void **st)
{
    memset(&T, 0, sizeof(T));
    vg_net_sink sink = {.threat = on_threat};
    vg_net_engine *e = vg_net_engine_new(NULL, &sink);
    vg_net_threat_conf on, off;
    vg_net_threat_defaults(&on);
    vg_net_threat_defaults(&off);
    off.enabled = 0;
    assert_int_equal(vg_net_threat_set(e, 1, &off), 0);
    assert_int_equal(vg_net_threat_set(e, 2, &on), 0);
    assert_int_equal(vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, &off), 0);
    uint8_t pkt[256];
    static const uint8_t tiny[] = {2, 4, 0, 40};
    uint8_t body[8];
    memcpy(body, tiny, 4);
    for (uint32_t src = 0; src < 3; src++) {
        tcp_spec s = {"10.1.0.1", "10.1.0.2", (uint16_t)(1000 + src), 80, 1, 0, VG_NET_TCP_SYN,
                      body,       4};
        uint32_t n = build_tcp(pkt, &s);
        pkt[20 + 12] = 6 << 4;
        vg_net_feed(e, VG_NET_DLT_RAW, T0, pkt, n, n, src);
    }
    assert_int_equal(T.n, 1);
    assert_string_equal(T.first.name, "tcp-small-mss");
    assert_int_equal(T.first.source, 2);
    /* removing source 2's own set gives it the default (off) */
    assert_int_equal(vg_net_threat_set(e, 2, NULL), 0);
    tcp_spec s = {"10.1.0.1", "10.1.0.2", 2000, 80, 1, 0, VG_NET_TCP_SYN, body, 4};
    uint32_t n = build_tcp(pkt, &s);
    pkt[20 + 12] = 6 << 4;
    vg_net_feed(e, VG_NET_DLT_RAW, T0, pkt, n, n, 2);
    assert_int_equal(T.n, 1);
    vg_net_engine_free(e);
}

/* What a report carries: ids, both ends, the flow, the packet. */
static void t_report(void **st)
{
    cap c;
    cap_open(&c, "report");
    const tcp_msg m[] = {{0, "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 0}};
    conversation(&c, 40040, 8080, T0, m, 1);
    cap_scan(&c, NULL);
    only("http-negative-length");
    const vg_net_threat *t = &T.first;
    assert_int_equal(t->id, VG_NET_T_HTTP_NEGATIVE_LENGTH);
    assert_int_equal(vg_net_threat_lookup("http-negative-length"), t->id);
    assert_string_equal(vg_net_severity_name(t->severity), "high");
    assert_int_equal(t->family, AF_INET);
    char a[64];
    assert_string_equal(vg_net_endpoint(a, sizeof(a), t->family, t->client, t->client_port),
                        "10.1.0.1:40040");
    assert_string_equal(vg_net_endpoint(a, sizeof(a), t->family, t->server, t->server_port),
                        "10.1.0.2:8080");
    assert_true(t->from_client);
    assert_true(t->flow_id > 0);
    assert_int_equal(t->ts_us, T0 + 3000);
    /* the packet is the request's segment, IP header first (DLT_RAW) */
    assert_true(t->pkt_len > 40);
    assert_int_equal(t->pkt[0] >> 4, 4);
    assert_non_null(memmem(t->pkt, t->pkt_len, "Content-Length: -5", 18));
    assert_null(vg_net_threat_name(VG_NET_T_COUNT));
    assert_int_equal(vg_net_threat_lookup("no-such"), -1);
}

/* ---- the Zeek corpus ---- */

static void scan_zeek(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", NET_CORPUS_DIR, rel);
    memset(&T, 0, sizeof(T));
    vg_net_sink sink = {.threat = on_threat};
    vg_net_engine *e = vg_net_engine_new(NULL, &sink);
    vg_net_threat_conf all;
    vg_net_threat_defaults(&all);
    all.enabled = VG_NET_T_ALL;
    vg_net_threat_set(e, VG_NET_SOURCE_DEFAULT, &all);
    assert_true(feed_file(e, path) >= 0);
    vg_net_flush(e);
    vg_net_engine_free(e);
}

static void t_corpus_labelled(void **st)
{
    static const struct {
        const char *file, *id;
    } cases[] = {
        {"tls/heartbleed.pcap", "tls-heartbleed"},
        {"tls/heartbleed-success.pcap", "tls-heartbleed"},
        {"tls/heartbleed-encrypted.pcap", "tls-heartbleed"},
        {"tls/ssl-v2.pcap", "tls-sslv2"},
        /* Named "ssl.v3", labelled SSLv3: every ServerHello says 0x0301
         * (tshark agrees), so TLS 1.0 was negotiated: tls-old-version. */
        {"tls/ssl.v3.pcap", "tls-old-version"},
        {"tls/signed_certificate_timestamp_tls1_0.pcap", "tls-old-version"},
        {"tls/tls1_1.pcap", "tls-old-version"},
        /* Labelled "TLS 1.2, nothing", but its ServerHello chose 0x0301
         * with no supported_versions extension (tshark agrees): TLS 1.0. */
        {"tls/tls-conn-with-extensions.pcap", "tls-old-version"},
        {"http/smuggle-http-request.pcap", "http-smuggling"},
        {"dns/max-compression-depth.pcap", "dns-loop-pointer"},
        {"ssh/ssh1-ssh2-fingerprints.pcap", "ssh-v1"},
        {"ipv4/fragmented-4.pcap", "ip-teardrop"},
        /* six wrong passwords in half a minute (tshark: Error 1045 x6) */
        {"mysql/auth.pcap", "mysql-access-denied"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        scan_zeek(cases[i].file);
        if (!count(cases[i].id)) {
            fprintf(stderr, "%s: no %s; got:\n%s", cases[i].file, cases[i].id, T.names);
            fail();
        }
        only(cases[i].id);
    }
    /* the fragment files: overlaps (teardrop) and a fragment off the 8-byte
     * grid (bad-packet), nothing else */
    scan_zeek("ipv4/fragmented-1.pcap");
    assert_int_equal(count("ip-teardrop") + count("bad-packet"), T.n);
    assert_true(count("ip-teardrop") >= 1);
}

static void t_corpus_quiet(void **st)
{
    static const char *const files[] = {
        "dns/dns-binds.pcap",
        "dns/tkey.pcap",
        "http/get.pcap",
        "http/get-to-ssh-server.pcap",
        "mysql/mysql.pcap",
        "postgresql/psql-login.pcap",
        "postgresql/psql-create-insert-select-delete-drop.pcap",
        "postgresql/mysql-on-port-5432.pcap",
        "postgresql/http-on-port-5432.pcap",
        "redis/set.pcap",
        "redis/pubsub.pcap",
        "redis/pipelining-example.pcap",
        "ssh/single-conn.pcap",
        "ssh/sshguess.pcap",
        "ssh/ssh-on-port-80.pcap",
        "tls/tls-1.2-handshake-failure.pcap",
        "tls/ssl-to-http-server.pcap",
        "tls/dtls1_0.pcap",
        "dns/dns-corrupt.pcap",
        "ipv4/fragmented-3.pcap",
        "ipv4/fragmented-syn.pcap",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        scan_zeek(files[i]);
        quiet(files[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_syn_flood),       cmocka_unit_test(t_icmp_flood),
        cmocka_unit_test(t_session_limit),   cmocka_unit_test(t_bad_packet),
        cmocka_unit_test(t_teardrop),        cmocka_unit_test(t_ping_of_death),
        cmocka_unit_test(t_syn_data_split),  cmocka_unit_test(t_small_window_mss),
        cmocka_unit_test(t_dns_attacks),     cmocka_unit_test(t_dns_tunnel),
        cmocka_unit_test(t_ssh_v1),          cmocka_unit_test(t_tls_attacks),
        cmocka_unit_test(t_http_attacks),    cmocka_unit_test(t_slowloris),
        cmocka_unit_test(t_mysql),           cmocka_unit_test(t_icmp_tunnel),
        cmocka_unit_test(t_pgsql),           cmocka_unit_test(t_tds),
        cmocka_unit_test(t_cli_json),        cmocka_unit_test(t_k8s_extip),
        cmocka_unit_test(t_benign),          cmocka_unit_test(t_switches),
        cmocka_unit_test(t_per_source),      cmocka_unit_test(t_report),
        cmocka_unit_test(t_corpus_labelled), cmocka_unit_test(t_corpus_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
