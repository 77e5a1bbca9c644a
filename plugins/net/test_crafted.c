/*
 * Applications the corpus does not have, on crafted conversations: every
 * one on a port that belongs to another protocol (or to none), so that only
 * content can name it; flows nobody can name stay "unknown". Then TCP
 * ordering (segments out of order, retransmitted, flows picked up
 * mid-stream), the bounds of the session table and of inspection, the
 * per-state timeouts and the anomalies of TCP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#define M(from, lit)                                                                               \
    {                                                                                              \
        from, lit, sizeof(lit) - 1                                                                 \
    }
#define CLI "10.1.0.1"
#define SRV "10.1.0.2"

static recorder R;

static vg_net_engine *engine(const vg_net_config *cfg)
{
    return test_engine(cfg, &R);
}

/* One TCP conversation on sport; its one flow, checked to be named app. */
static const rec_flow *tcp_app(uint16_t sport, const tcp_msg *m, size_t n, const char *app)
{
    vg_net_engine *e = engine(NULL);
    tcp_conversation(e, CLI, SRV, 40000, sport, m, n);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 1);
    if (strcmp(R.flows[0].app, app))
        fail_msg("port %u: named %s, expected %s", sport, R.flows[0].app, app);
    return &R.flows[0];
}

#define TCP_APP(port, app, ...)                                                                    \
    ({                                                                                             \
        static const tcp_msg msgs_[] = {__VA_ARGS__};                                              \
        tcp_app(port, msgs_, sizeof(msgs_) / sizeof(msgs_[0]), app);                               \
    })

/* UDP datagrams alternating from the client (even) and the server (odd). */
static const rec_flow *udp_app(uint16_t sport, const tcp_msg *m, size_t n, const char *app)
{
    vg_net_engine *e = engine(NULL);
    uint8_t pkt[2048];
    for (size_t i = 0; i < n; i++) {
        int d = m[i].from;
        uint32_t len = build_udp(pkt, d ? SRV : CLI, d ? CLI : SRV, d ? sport : 40001,
                                 d ? 40001 : sport, m[i].data, m[i].len);
        feed_raw(e, 1000000 + i, pkt, len);
    }
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 1);
    if (strcmp(R.flows[0].app, app))
        fail_msg("udp port %u: named %s, expected %s", sport, R.flows[0].app, app);
    return &R.flows[0];
}

#define UDP_APP(port, app, ...)                                                                    \
    ({                                                                                             \
        static const tcp_msg msgs_[] = {__VA_ARGS__};                                              \
        udp_app(port, msgs_, sizeof(msgs_) / sizeof(msgs_[0]), app);                               \
    })

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_SETTINGS "\x00\x00\x00\x04\x00\x00\x00\x00\x00"

static void t_http2_grpc(void **st)
{
    /* HEADERS: literal without indexing, new name content-type */
    TCP_APP(8080, "grpc",
            M(0, H2_PREFACE H2_SETTINGS "\x00\x00\x1f\x01\x04\x00\x00\x00\x01"
                                        "\x00\x0c"
                                        "content-type"
                                        "\x10"
                                        "application/grpc"),
            M(1, H2_SETTINGS));
    /* No content-type, but a DATA frame holding one gRPC message. */
    TCP_APP(443, "grpc",
            M(0, H2_PREFACE H2_SETTINGS "\x00\x00\x01\x01\x04\x00\x00\x00\x01\x83"
                                        "\x00\x00\x08\x00\x01\x00\x00\x00\x01"
                                        "\x00\x00\x00\x00\x03"
                                        "abc"),
            M(1, H2_SETTINGS));
    /* Indexed :method GET, :path / ; the answer :status 200 */
    TCP_APP(3306, "http2",
            M(0, H2_PREFACE H2_SETTINGS "\x00\x00\x03\x01\x05\x00\x00\x00\x01\x82\x84\x86"),
            M(1, H2_SETTINGS "\x00\x00\x01\x01\x04\x00\x00\x00\x01\x88"));
}

static void t_etcd(void **st)
{
    const rec_flow *f =
        TCP_APP(80, "etcd", M(0, "GET /v2/keys/message HTTP/1.1\r\nHost: db\r\n\r\n"),
                M(1, "HTTP/1.1 200 OK\r\nX-Etcd-Cluster-Id: cdf818194e3a8c32\r\n\r\n"));
    assert_true(has_field(f, "http.path", "/v2/keys/message"));
    TCP_APP(2380, "etcd",
            M(0, H2_PREFACE H2_SETTINGS "\x00\x00\x1e\x01\x04\x00\x00\x00\x01"
                                        "\x04\x16"
                                        "/etcdserverpb.KV/Range"
                                        "\x83\x86"),
            M(1, H2_SETTINGS));
}

static void t_elasticsearch(void **st)
{
    const rec_flow *f =
        TCP_APP(8080, "elasticsearch", M(0, "GET /_cluster/health HTTP/1.1\r\nHost: es\r\n\r\n"),
                M(1, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{}"));
    assert_true(has_field(f, "http.path", "/_cluster/health"));
    TCP_APP(80, "elasticsearch", M(0, "GET / HTTP/1.1\r\nHost: es\r\n\r\n"),
            M(1, "HTTP/1.1 200 OK\r\n\r\n{\"name\":\"n1\",\"tagline\":\"You Know, for Search\"}"));
    /* The same request to a web server is HTTP. */
    f = TCP_APP(9200, "http", M(0, "GET / HTTP/1.1\r\nHost: www\r\n\r\n"),
                M(1, "HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\nhello"));
    assert_true(has_field(f, "http.server", "nginx"));
}

/* Long values are cut, and they do not push the host or the status out of
 * the flow's bounded fields. */
static void t_http_long_fields(void **st)
{
    char req[1024], path[201], ua[301];
    memset(path, 'p', 200);
    path[0] = '/';
    path[200] = 0;
    memset(ua, 'u', 300);
    ua[300] = 0;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nUser-Agent: %s\r\nHost: h.example\r\n\r\n", path,
             ua);
    tcp_msg m[] = {{0, req, 0}, M(1, "HTTP/1.1 503 Busy\r\nServer: x\r\n\r\n")};
    const rec_flow *f = tcp_app(80, m, 2, "http");
    assert_true(has_field(f, "http.host", "h.example"));
    assert_true(has_field(f, "http.status", "503"));
    char cut[128];
    memcpy(cut, path, 127);
    cut[127] = 0;
    assert_true(has_field(f, "http.path", cut));
}

static void t_mongodb(void **st)
{
    const rec_flow *f =
        TCP_APP(5432, "mongodb",
                M(0, "\x1a\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00"
                     "\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00"),
                M(1, "\x1a\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\xdd\x07\x00\x00"
                     "\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00"));
    assert_true(has_field(f, "mongodb.op", "msg"));
}

static void t_kafka(void **st)
{
    const rec_flow *f = TCP_APP(
        80, "kafka", M(0, "\x00\x00\x00\x11\x00\x12\x00\x03\x00\x00\x00\x07\x00\x07rdkafka"),
        M(1, "\x00\x00\x00\x06\x00\x00\x00\x07\x00\x00"));
    assert_true(has_field(f, "kafka.client_id", "rdkafka"));
    assert_true(has_field(f, "kafka.api", "18"));
}

static void t_cassandra(void **st)
{
    TCP_APP(6379, "cassandra", M(0, "\x04\x00\x00\x01\x05\x00\x00\x00\x00"),
            M(1, "\x84\x00\x00\x01\x06\x00\x00\x00\x02\x00\x00"));
}

static void t_zookeeper(void **st)
{
    TCP_APP(8000, "zookeeper",
            M(0, "\x00\x00\x00\x2c\x00\x00\x00\x00"
                 "\x00\x00\x00\x00\x00\x00\x00\x00"
                 "\x00\x00\x75\x30"
                 "\x00\x00\x00\x00\x00\x00\x00\x00"
                 "\x00\x00\x00\x10"
                 "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
            M(1, "\x00\x00\x00\x24\x00\x00\x00\x00"
                 "\x00\x00\x75\x30"
                 "\x01\x02\x03\x04\x05\x06\x07\x08"
                 "\x00\x00\x00\x10"
                 "\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11"));
    const rec_flow *f = TCP_APP(2181, "zookeeper", M(0, "ruok"), M(1, "imok"));
    assert_true(has_field(f, "zookeeper.command", "ruok"));
}

static void t_memcached_couchbase(void **st)
{
    const rec_flow *f =
        TCP_APP(6379, "memcached", M(0, "set k 0 0 5\r\nhello\r\n"), M(1, "STORED\r\n"));
    assert_true(has_field(f, "memcached.command", "set"));
    /* binary GET */
    TCP_APP(11211, "memcached",
            M(0, "\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00"
                 "\x00\x00\x00\x00\x00\x00\x00\x00k"),
            M(1, "\x81\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"
                 "\x00\x00\x00\x00\x00\x00\x00\x00"));
    UDP_APP(53, "memcached", M(0, "\x00\x01\x00\x00\x00\x01\x00\x00get k\r\n"),
            M(1, "\x00\x01\x00\x00\x00\x01\x00\x00"
                 "END\r\n"));
    /* Couchbase: HELLO with the agent as key, two features */
    f = TCP_APP(11211, "couchbase",
                M(0, "\x80\x1f\x00\x05\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x01"
                     "\x00\x00\x00\x00\x00\x00\x00\x00"
                     "sdk/3"
                     "\x00\x01\x00\x02"),
                M(1, "\x81\x1f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x01"
                     "\x00\x00\x00\x00\x00\x00\x00\x00"
                     "\x00\x01\x00\x02"));
    assert_true(has_field(f, "couchbase.agent", "sdk/3"));
}

static void t_mssql(void **st)
{
    /* PRELOGIN: VERSION at 11 (6 bytes), ENCRYPTION at 17 (1 byte: on) */
    const rec_flow *f = TCP_APP(1521, "mssql",
                                M(0, "\x12\x01\x00\x1a\x00\x00\x01\x00"
                                     "\x00\x00\x0b\x00\x06"
                                     "\x01\x00\x11\x00\x01"
                                     "\xff"
                                     "\x0f\x00\x07\xd0\x00\x00"
                                     "\x01"),
                                M(1, "\x04\x01\x00\x1a\x00\x00\x01\x00"
                                     "\x00\x00\x0b\x00\x06"
                                     "\x01\x00\x11\x00\x01"
                                     "\xff"
                                     "\x0f\x00\x07\xd0\x00\x00"
                                     "\x01"));
    assert_true(has_field(f, "mssql.encryption", "on"));
}

static void t_oracle(void **st)
{
    const rec_flow *f =
        TCP_APP(1433, "oracle",
                M(0, "\x00\x5a\x00\x00\x01\x00\x00\x00"
                     "\x01\x3a\x01\x2c\x00\x00\x08\x00"
                     "(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=ORCLPDB1))"
                     "(ADDRESS=(PROTOCOL=TCP)(HOST=db)(PORT=1521)))"),
                M(1, "\x00\x20\x00\x00\x02\x00\x00\x00"
                     "\x01\x3a\x00\x00\x08\x00\x7f\xff"
                     "\x01\x00\x00\x00\x00\x20\x61\x61\x00\x00\x00\x00\x00\x00\x00\x00"));
    assert_true(has_field(f, "oracle.service", "ORCLPDB1"));
}

static void t_tcp_wrong_ports(void **st)
{
    TCP_APP(22, "http", M(0, "GET /x HTTP/1.0\r\n\r\n"), M(1, "HTTP/1.0 404 Not Found\r\n\r\n"));
    TCP_APP(443, "ssh", M(1, "SSH-2.0-dropbear\r\n"), M(0, "SSH-2.0-OpenSSH_9.6\r\n"));
    TCP_APP(3306, "redis", M(0, "*1\r\n$4\r\nPING\r\n"), M(1, "+PONG\r\n"));
    TCP_APP(6379, "echo", M(0, "hello there\r\n"), M(1, "hello there\r\n"));
    /* nothing anybody speaks: not guessed from the port */
    TCP_APP(80, "unknown", M(0, "\x17\x42\x99 some bytes"), M(1, "\x01\x02\x03 other bytes"));
    TCP_APP(53, "unknown", M(0, "hello"), M(1, "world"));
}

static void t_udp_apps(void **st)
{
    static uint8_t dhcp[300];
    memset(dhcp, 0, sizeof(dhcp));
    dhcp[0] = 1;
    dhcp[1] = 1;
    dhcp[2] = 6;
    memcpy(dhcp + 236, "\x63\x82\x53\x63\x35\x01\x01\x0c\x04node\xff", 14);
    tcp_msg dm[] = {{0, (const char *)dhcp, sizeof(dhcp)}};
    const rec_flow *f = udp_app(5353, dm, 1, "dhcp");
    assert_true(has_field(f, "dhcp.type", "DISCOVER"));
    assert_true(has_field(f, "dhcp.hostname", "node"));

    /* NTP: the answer's origin timestamp is the request's transmit one */
    static uint8_t req[48], rep[48];
    memset(req, 0, 48);
    memset(rep, 0, 48);
    req[0] = 0x23; /* v4, client */
    memcpy(req + 40, "\xe9\x00\x00\x01\x02\x03\x04\x05", 8);
    rep[0] = 0x24; /* v4, server */
    rep[1] = 2;
    memcpy(rep + 24, req + 40, 8);
    tcp_msg nm[] = {{0, (const char *)req, 48}, {1, (const char *)rep, 48}};
    f = udp_app(9999, nm, 2, "ntp");
    assert_true(has_field(f, "ntp.version", "4"));

    f = UDP_APP(69, "tftp", M(0, "\x00\x01pxelinux.0\x00octet\x00"));
    assert_true(has_field(f, "tftp.file", "pxelinux.0"));
    assert_true(has_field(f, "tftp.op", "read"));
    UDP_APP(40999, "tftp",
            M(1, "\x00\x03\x00\x01"
                 "data"),
            M(0, "\x00\x04\x00\x01"));
    UDP_APP(123, "echo", M(0, "ping 12345"), M(1, "ping 12345"));
    UDP_APP(69, "unknown", M(0, "\x01\x02\x03\x04\x05\x06\x07"));
    f = UDP_APP(4433, "dtls",
                M(0, "\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c"
                     "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
}

/* An HTTP request in three segments sent 3rd, 1st, 2nd, one of them twice:
 * named from the stream as written, every byte in place. */
static void t_tcp_out_of_order(void **st)
{
    vg_net_engine *e = engine(NULL);
    uint8_t pkt[2048];
    const char *parts[] = {"GET /a/very/long", "/path HTTP/1.1\r\nHost: ", "example.org\r\n\r\n"};
    uint32_t seq[3] = {101, 0, 0};
    seq[1] = seq[0] + (uint32_t)strlen(parts[0]);
    seq[2] = seq[1] + (uint32_t)strlen(parts[1]);
    uint32_t end = seq[2] + (uint32_t)strlen(parts[2]);
    tcp_spec s = {CLI, SRV, 40000, 8080, 100, 0, VG_NET_TCP_SYN, NULL, 0};
    feed_raw(e, 1, pkt, build_tcp(pkt, &s));
    s = (tcp_spec){SRV, CLI, 8080, 40000, 900, 101, VG_NET_TCP_SYN | VG_NET_TCP_ACK, NULL, 0};
    feed_raw(e, 2, pkt, build_tcp(pkt, &s));
    int order[] = {2, 0, 0, 1};
    for (int i = 0; i < 4; i++) {
        int k = order[i];
        s = (tcp_spec){CLI,
                       SRV,
                       40000,
                       8080,
                       seq[k],
                       901,
                       VG_NET_TCP_ACK,
                       parts[k],
                       (uint32_t)strlen(parts[k])};
        feed_raw(e, 3 + (uint64_t)i, pkt, build_tcp(pkt, &s));
    }
    const char *resp = "HTTP/1.1 204 No Content\r\n\r\n";
    s = (tcp_spec){SRV, CLI, 8080, 40000, 901, end, VG_NET_TCP_ACK, resp, (uint32_t)strlen(resp)};
    feed_raw(e, 10, pkt, build_tcp(pkt, &s));
    vg_net_stats stt;
    vg_net_stats_get(e, &stt);
    assert_true(stt.tcp_out_of_order >= 1);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 1);
    assert_string_equal(R.flows[0].app, "http");
    assert_true(has_field(&R.flows[0], "http.path", "/a/very/long/path"));
    assert_true(has_field(&R.flows[0], "http.host", "example.org"));
    assert_true(has_field(&R.flows[0], "http.status", "204"));
}

/* Picked up after the handshake, or first seen at the SYN-ACK: the client is
 * still the side that opened. */
static void t_tcp_midstream(void **st)
{
    vg_net_engine *e = engine(NULL);
    uint8_t pkt[2048];
    tcp_spec s = {SRV, CLI, 6379, 40000, 900, 101, VG_NET_TCP_SYN | VG_NET_TCP_ACK, NULL, 0};
    feed_raw(e, 1, pkt, build_tcp(pkt, &s));
    s = (tcp_spec){CLI, SRV, 40000, 6379, 101, 901, VG_NET_TCP_ACK, "PING\r\n", 6};
    feed_raw(e, 2, pkt, build_tcp(pkt, &s));
    s = (tcp_spec){SRV, CLI, 6379, 40000, 901, 107, VG_NET_TCP_ACK, "+PONG\r\n", 7};
    feed_raw(e, 3, pkt, build_tcp(pkt, &s));
    /* another flow: data only, never a SYN */
    s = (tcp_spec){CLI, SRV, 40002, 22, 5000, 7000, VG_NET_TCP_ACK, "SSH-2.0-x\r\n", 11};
    feed_raw(e, 4, pkt, build_tcp(pkt, &s));
    s = (tcp_spec){SRV, CLI, 22, 40002, 7000, 5011, VG_NET_TCP_ACK, "SSH-2.0-y\r\n", 11};
    feed_raw(e, 5, pkt, build_tcp(pkt, &s));
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 2);
    const rec_flow *f = flow_by_app(&R, "redis");
    assert_non_null(f);
    assert_string_equal(f->client, CLI ":40000");
    assert_string_equal(f->server, SRV ":6379");
    assert_int_equal(f->pkts[0], 1);
    assert_int_equal(f->pkts[1], 2);
    f = flow_by_app(&R, "ssh");
    assert_non_null(f);
    assert_true(has_field(f, "ssh.client", "SSH-2.0-x"));
}

/* A table of 16: 100 flows evict 84, the oldest first; all end once. */
static void t_table_bound(void **st)
{
    vg_net_config cfg = {.max_flows = 16};
    vg_net_engine *e = engine(&cfg);
    uint8_t pkt[256];
    for (int i = 0; i < 100; i++) {
        uint32_t len = build_udp(pkt, CLI, SRV, (uint16_t)(1000 + i), 9, "x", 1);
        feed_raw(e, 1000 + (uint64_t)i, pkt, len);
    }
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.flows, 16);
    assert_int_equal(s.evicted, 84);
    assert_int_equal(s.flows_total, 100);
    assert_int_equal(R.nflows, 84);
    for (int i = 0; i < 84; i++) {
        assert_int_equal(R.flows[i].reason, VG_NET_END_EVICTED);
        assert_int_equal(R.flows[i].cport, 1000 + i);
    }
    vg_net_flush(e);
    assert_int_equal(R.nflows, 100);
    assert_int_equal(R.flows[99].reason, VG_NET_END_FLUSH);
    vg_net_engine_free(e);
}

static void t_timeouts(void **st)
{
    vg_net_config cfg = {.udp_timeout_ms = 5000,
                         .tcp_syn_timeout_ms = 2000,
                         .tcp_closed_timeout_ms = 1000,
                         .tcp_established_timeout_ms = 60000};
    vg_net_engine *e = engine(&cfg);
    uint8_t pkt[256];
    const uint64_t s = 1000000;
    feed_raw(e, 1 * s, pkt, build_udp(pkt, CLI, SRV, 1000, 9, "x", 1));
    tcp_spec syn = {CLI, SRV, 2000, 80, 1, 0, VG_NET_TCP_SYN, NULL, 0};
    feed_raw(e, 1 * s, pkt, build_tcp(pkt, &syn));
    tcp_msg m[] = {M(0, "hello"), M(1, "world")};
    tcp_conversation(e, CLI, SRV, 3000, 81, m, 2); /* at 1 s, closed by FIN both ways */
    tcp_spec est = {CLI, SRV, 4000, 82, 1, 0, VG_NET_TCP_ACK, "x", 1};
    feed_raw(e, 1 * s, pkt, build_tcp(pkt, &est));
    vg_net_expire(e, 2 * s + 500000); /* closed (1 s) ends */
    assert_int_equal(R.nflows, 1);
    assert_int_equal(R.flows[0].sport, 81);
    assert_int_equal(R.flows[0].reason, VG_NET_END_CLOSED);
    vg_net_expire(e, 3 * s + 500000); /* SYN-only (2 s) */
    assert_int_equal(R.nflows, 2);
    assert_int_equal(R.flows[1].sport, 80);
    assert_int_equal(R.flows[1].reason, VG_NET_END_TIMEOUT);
    vg_net_expire(e, 6 * s + 500000); /* UDP (5 s) */
    assert_int_equal(R.nflows, 3);
    assert_int_equal(R.flows[2].sport, 9);
    vg_net_expire(e, 60 * s); /* established: 60 s idle not yet */
    assert_int_equal(R.nflows, 3);
    vg_net_expire(e, 62 * s);
    assert_int_equal(R.nflows, 4);
    vg_net_stats stt;
    vg_net_stats_get(e, &stt);
    assert_int_equal(stt.timed_out, 3);
    assert_int_equal(stt.flows, 0);
    vg_net_engine_free(e);
}

/* One inspection slot: a second flow inspected at once is given up and
 * counted; once the first is named the slot serves again. */
static void t_inspect_bound(void **st)
{
    vg_net_config cfg = {.max_inspect = 1};
    vg_net_engine *e = engine(&cfg);
    uint8_t pkt[512];
    tcp_spec a = {CLI, SRV, 1000, 80, 1, 0, VG_NET_TCP_ACK, "GET / HTTP/1.1\r\n\r\n", 18};
    feed_raw(e, 1, pkt, build_tcp(pkt, &a));
    tcp_spec b = {CLI, SRV, 1001, 80, 1, 0, VG_NET_TCP_ACK, "GET / HTTP/1.1\r\n\r\n", 18};
    feed_raw(e, 2, pkt, build_tcp(pkt, &b));
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.inspect_full, 1);
    tcp_spec ra = {SRV, CLI, 80, 1000, 1, 19, VG_NET_TCP_ACK, "HTTP/1.1 200 OK\r\n\r\n", 19};
    feed_raw(e, 3, pkt, build_tcp(pkt, &ra));
    tcp_spec c = {CLI, SRV, 1002, 80, 1, 0, VG_NET_TCP_ACK, "SSH-2.0-a\r\n", 11};
    feed_raw(e, 4, pkt, build_tcp(pkt, &c));
    tcp_spec rc = {SRV, CLI, 80, 1002, 1, 12, VG_NET_TCP_ACK, "SSH-2.0-b\r\n", 11};
    feed_raw(e, 5, pkt, build_tcp(pkt, &rc));
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 3);
    assert_int_equal(count_app(&R, "http"), 1);
    assert_int_equal(count_app(&R, "ssh"), 1);
    assert_int_equal(count_app(&R, "unknown"), 1);
}

/* A flow that closes gives its inspection slot back at once (decided on
 * what it had: a request nobody answered is HTTP all the same), not at its
 * closed timeout, so the next flow is inspected. */
static void t_close_frees_inspection(void **st)
{
    vg_net_config cfg = {.max_inspect = 1};
    vg_net_engine *e = engine(&cfg);
    tcp_msg a[] = {M(0, "GET /only HTTP/1.1\r\nHost: h\r\n\r\n")};
    tcp_conversation(e, CLI, SRV, 1000, 80, a, 1);
    assert_int_equal(R.named, 1);
    tcp_msg b[] = {M(1, "SSH-2.0-s\r\n"), M(0, "SSH-2.0-c\r\n")};
    tcp_conversation(e, CLI, SRV, 1001, 22, b, 2);
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.inspect_full, 0);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(R.nflows, 2);
    assert_string_equal(R.flows[0].app, "http");
    assert_true(has_field(&R.flows[0], "http.path", "/only"));
    assert_string_equal(R.flows[1].app, "ssh");
}

/* All slots taken: one held 5 s by a flow whose server never answers goes
 * to the next flow; the idle one is decided on what it had. */
static void t_idle_inspection_reclaimed(void **st)
{
    vg_net_config cfg = {.max_inspect = 1};
    vg_net_engine *e = engine(&cfg);
    uint8_t pkt[512];
    tcp_spec a = {CLI, SRV, 1000, 80, 1, 0, VG_NET_TCP_ACK, "GET /slow HTTP/1.1\r\n", 20};
    feed_raw(e, 1000000, pkt, build_tcp(pkt, &a));
    tcp_spec b = {CLI, SRV, 1001, 22, 1, 0, VG_NET_TCP_ACK, "SSH-2.0-c\r\n", 11};
    feed_raw(e, 2000000, pkt, build_tcp(pkt, &b)); /* 1 s later: not yet */
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.inspect_full, 1);
    tcp_spec c = {CLI, SRV, 1002, 22, 1, 0, VG_NET_TCP_ACK, "SSH-2.0-c\r\n", 11};
    feed_raw(e, 7000000, pkt, build_tcp(pkt, &c)); /* 6 s later: reclaimed */
    tcp_spec d = {SRV, CLI, 22, 1002, 1, 12, VG_NET_TCP_ACK, "SSH-2.0-s\r\n", 11};
    feed_raw(e, 7000001, pkt, build_tcp(pkt, &d));
    vg_net_stats_get(e, &s);
    assert_int_equal(s.inspect_reclaimed, 1);
    assert_int_equal(s.inspect_full, 1);
    vg_net_flush(e);
    vg_net_engine_free(e);
    assert_int_equal(count_app(&R, "http"), 1); /* the request alone, decided */
    assert_int_equal(count_app(&R, "ssh"), 1);
    assert_int_equal(count_app(&R, "unknown"), 1);
}

/* A flow of bytes nobody speaks is given up after the inspection budget,
 * not at its end. */
static void t_inspect_budget(void **st)
{
    vg_net_config cfg = {.inspect_packets = 4};
    vg_net_engine *e = engine(&cfg);
    uint8_t pkt[512];
    for (uint32_t i = 0; i < 4; i++) {
        tcp_spec a = {CLI, SRV, 1000, 80, 1 + i * 4, 0, VG_NET_TCP_ACK, "\x01\x02zz", 4};
        feed_raw(e, 1 + i, pkt, build_tcp(pkt, &a));
    }
    assert_int_equal(R.named, 1);
    vg_net_stats s;
    vg_net_stats_get(e, &s);
    assert_int_equal(s.unknown, 1);
    vg_net_engine_free(e);
}

static void t_tcp_anomalies(void **st)
{
    vg_net_engine *e = engine(NULL);
    uint8_t pkt[512];
    tcp_spec a = {CLI, SRV, 1000, 80, 1, 0, VG_NET_TCP_SYN, "data", 4};
    feed_raw(e, 1, pkt, build_tcp(pkt, &a));
    tcp_spec b = {CLI, SRV, 1001, 80, 1, 0, VG_NET_TCP_SYN | VG_NET_TCP_FIN, NULL, 0};
    feed_raw(e, 2, pkt, build_tcp(pkt, &b));
    tcp_spec c = {CLI, SRV, 1002, 80, 1, 0, VG_NET_TCP_SYN, NULL, 0};
    feed_raw(e, 3, pkt, build_tcp(pkt, &c));
    tcp_spec d = {SRV, CLI, 80, 1002, 1, 0, VG_NET_TCP_SYN, NULL, 0};
    feed_raw(e, 4, pkt, build_tcp(pkt, &d));
    assert_true(has_anomaly(&R, "tcp-syn-data"));
    assert_true(has_anomaly(&R, "bad-packet"));
    assert_true(has_anomaly(&R, "tcp-split-handshake"));
    vg_net_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_http2_grpc),
        cmocka_unit_test(t_etcd),
        cmocka_unit_test(t_elasticsearch),
        cmocka_unit_test(t_http_long_fields),
        cmocka_unit_test(t_mongodb),
        cmocka_unit_test(t_kafka),
        cmocka_unit_test(t_cassandra),
        cmocka_unit_test(t_zookeeper),
        cmocka_unit_test(t_memcached_couchbase),
        cmocka_unit_test(t_mssql),
        cmocka_unit_test(t_oracle),
        cmocka_unit_test(t_tcp_wrong_ports),
        cmocka_unit_test(t_udp_apps),
        cmocka_unit_test(t_tcp_out_of_order),
        cmocka_unit_test(t_tcp_midstream),
        cmocka_unit_test(t_table_bound),
        cmocka_unit_test(t_timeouts),
        cmocka_unit_test(t_inspect_bound),
        cmocka_unit_test(t_inspect_budget),
        cmocka_unit_test(t_close_frees_inspection),
        cmocka_unit_test(t_idle_inspection_reclaimed),
        cmocka_unit_test(t_tcp_anomalies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
