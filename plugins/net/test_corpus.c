/*
 * The engine on the shared corpus of real captures (Zeek's test traces, by
 * path): each file's flows are named by what they speak, whatever their
 * port, with the fields a policy or a threat detector reads; malformed
 * captures are survived and reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static recorder R;
static vg_net_stats S;

static const rec_flow *only(const char *file, const char *app)
{
    scan_corpus(file, &R, &S);
    assert_int_equal(R.nflows, 1);
    assert_string_equal(R.flows[0].app, app);
    return &R.flows[0];
}

static void t_http_get(void **st)
{
    const rec_flow *f = only("http/get.pcap", "http");
    assert_true(has_field(f, "http.method", "GET"));
    assert_true(has_field(f, "http.host", "bro.org"));
    assert_true(has_field(f, "http.path", "/download/CHANGES.bro-aux.txt"));
    assert_true(has_field(f, "http.status", "200"));
    assert_int_equal(f->sport, 80);
    assert_int_equal(f->pkts[0], 7);
    assert_int_equal(f->pkts[1], 7);
    /* flow_app already had what the request and the status line say */
    assert_non_null(strstr(R.app_fields, "http.host=bro.org\n"));
    assert_non_null(strstr(R.app_fields, "http.status=200\n"));
}

static void t_http_smuggle(void **st)
{
    const rec_flow *f = only("http/smuggle-http-request.pcap", "http");
    assert_true(has_field(f, "http.method", "POST"));
    assert_true(has_field(f, "http.path", "/first"));
}

/* A client speaking HTTP to an SSH server, a TLS client to an HTTP server:
 * neither side's protocol is claimed for the flow. */
static void t_mismatched_sides(void **st)
{
    only("http/get-to-ssh-server.pcap", "unknown");
    only("tls/ssl-to-http-server.pcap", "unknown");
}

static void t_wrong_ports(void **st)
{
    const rec_flow *f = only("postgresql/http-on-port-5432.pcap", "http");
    assert_int_equal(f->sport, 5432);
    f = only("postgresql/mysql-on-port-5432.pcap", "mysql");
    assert_true(has_field(f, "mysql.version", "8.4.2"));
    assert_true(has_field(f, "mysql.user", "root"));
    f = only("ssh/ssh-on-port-80.pcap", "ssh");
    assert_int_equal(f->sport, 80);
    assert_true(has_field(f, "ssh.server", "SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3"));
}

static void t_dns(void **st)
{
    const rec_flow *f = only("dns/dns-binds.pcap", "dns");
    assert_true(has_field(f, "dns.query", "example.net"));
    f = only("dns/dns-corrupt.pcap", "dns");
    assert_true(has_field(f, "dns.query", "zeek.org"));
    assert_true(has_field(f, "dns.answer", "192.0.78.212"));
    assert_non_null(strstr(R.dns, "zeek.org=192.0.78.212\n"));
    f = only("dns/tkey.pcap", "dns");
    assert_int_equal(f->l4, 6);
    assert_true(has_field(f, "dns.qtype", "TKEY"));
    f = only("dns/max-compression-depth.pcap", "dns");
    assert_true(has_field(f, "dns.answer", "127.0.0.7"));
}

/* Three queries with broken names: a truncated label and a name without its
 * end are not DNS; a name that points at itself is, and is reported. */
static void t_dns_invalid_names(void **st)
{
    scan_corpus("dns/dns-invalid-names.pcap", &R, &S);
    assert_int_equal(R.nflows, 3);
    assert_int_equal(count_app(&R, "dns"), 1);
    assert_int_equal(count_app(&R, "unknown"), 2);
    assert_true(has_anomaly(&R, "dns-loop-pointer"));
}

static void t_mysql(void **st)
{
    const rec_flow *f = only("mysql/mysql.pcap", "mysql");
    assert_true(has_field(f, "mysql.version", "5.0.54"));
    assert_true(has_field(f, "mysql.user", "tfoerste"));
    assert_true(has_field(f, "mysql.query", "select @@version_comment limit 1"));
    scan_corpus("mysql/auth.pcap", &R, &S);
    assert_int_equal(R.nflows, 13);
    assert_int_equal(count_app(&R, "mysql"), 13);
    size_t denied = 0;
    for (size_t i = 0; i < R.nflows; i++)
        denied += has_field(&R.flows[i], "mysql.error", "1045");
    assert_true(denied >= 3);
}

static void t_postgresql(void **st)
{
    const rec_flow *f = only("postgresql/psql-login.pcap", "postgresql");
    assert_true(has_field(f, "postgresql.user", "zeek"));
    assert_true(has_field(f, "postgresql.database", "zeek"));
    f = only("postgresql/psql-create-insert-select-delete-drop.pcap", "postgresql");
    assert_true(has_field(f, "postgresql.user", "postgres"));
    assert_true(has_field(f, "postgresql.query", "DROP TABLE IF EXISTS t;"));
}

/* DLT_NULL captures, one of them IPv6. */
static void t_redis(void **st)
{
    const rec_flow *f = only("redis/set.pcap", "redis");
    assert_true(has_field(f, "redis.command", "SET"));
    f = only("redis/pipelining-example.pcap", "redis");
    assert_string_equal(f->client, "[::1]:51122");
    assert_string_equal(f->server, "[::1]:6379");
    scan_corpus("redis/pubsub.pcap", &R, &S);
    assert_int_equal(R.nflows, 4);
    assert_int_equal(count_app(&R, "redis"), 4);
}

static void t_ssh(void **st)
{
    const rec_flow *f = only("ssh/single-conn.pcap", "ssh");
    assert_true(has_field(f, "ssh.client", "SSH-2.0-OpenSSH_3.8.1p1"));
    assert_true(has_field(f, "ssh.server", "SSH-1.99-OpenSSH_3.9p1"));
    scan_corpus("ssh/sshguess.pcap", &R, &S);
    assert_int_equal(count_app(&R, "ssh"), R.nflows);
    assert_true(R.nflows >= 10);
    scan_corpus("ssh/ssh1-ssh2-fingerprints.pcap", &R, &S);
    assert_int_equal(count_app(&R, "ssh"), 2);
    int v1 = 0;
    for (size_t i = 0; i < R.nflows; i++)
        v1 += has_field(&R.flows[i], "ssh.client", "SSH-1.5-OpenSSH_6.6");
    assert_int_equal(v1, 1);
}

static void t_tls_versions(void **st)
{
    const rec_flow *f = only("tls/ssl-v2.pcap", "tls");
    assert_true(has_field(f, "tls.version", "sslv2"));
    f = only("tls/signed_certificate_timestamp_tls1_0.pcap", "tls");
    assert_true(has_field(f, "tls.version", "tls1.0"));
    f = only("tls/tls1_1.pcap", "tls");
    assert_true(has_field(f, "tls.version", "tls1.1"));
    f = only("tls/tls-conn-with-extensions.pcap", "tls");
    assert_true(has_field(f, "tls.sni", "ssl.gstatic.com"));
    f = only("tls/heartbleed-encrypted.pcap", "tls");
    assert_true(has_field(f, "tls.sni", "www.lilawelt.net"));
    assert_non_null(strstr(R.app_fields, "tls.sni=www.lilawelt.net\n"));
    assert_true(has_field(f, "tls.version", "tls1.2"));
    only("tls/heartbleed.pcap", "tls");
    only("tls/heartbleed-success.pcap", "tls");
    /* The server refuses with a fatal handshake_failure alert (40). */
    f = only("tls/tls-1.2-handshake-failure.pcap", "tls");
    assert_true(has_field(f, "tls.client_version", "tls1.2"));
    assert_true(has_field(f, "tls.alert", "40"));
    /* Named "ssl.v3" but the packets say TLS 1.0 (0x0301) in every
     * ServerHello, as tshark shows: the version is the one negotiated. */
    scan_corpus("tls/ssl.v3.pcap", &R, &S);
    assert_int_equal(count_app(&R, "tls"), 3);
    assert_true(has_field(&R.flows[0], "tls.version", "tls1.0"));
}

static void t_dtls(void **st)
{
    const rec_flow *f = only("tls/dtls1_0.pcap", "dtls");
    assert_int_equal(f->l4, 17);
    assert_true(has_field(f, "tls.version", "dtls1.0"));
}

/* A SYN in two fragments: reassembled, one flow to port 80. */
static void t_fragmented_syn(void **st)
{
    scan_corpus("ipv4/fragmented-syn.pcap", &R, &S);
    assert_int_equal(S.fragments, 2);
    assert_int_equal(S.reassembled, 1);
    assert_int_equal(R.nflows, 1);
    assert_int_equal(R.flows[0].sport, 80);
}

/* Fragment anomalies: overlaps that rewrite bytes, datagrams never
 * completed. Nothing crashes, nothing is made up, every fragment counted. */
static void t_fragment_anomalies(void **st)
{
    scan_corpus("ipv4/fragmented-1.pcap", &R, &S);
    assert_int_equal(S.fragments, 3);
    assert_int_equal(S.reassembled, 0);
    assert_true(has_anomaly(&R, "ip-teardrop"));
    scan_corpus("ipv4/fragmented-3.pcap", &R, &S);
    assert_int_equal(S.fragments, 5);
    assert_int_equal(S.reassembled, 0);
    assert_int_equal(R.nflows, 0);
    scan_corpus("ipv4/fragmented-2.pcap", &R, &S);
    assert_int_equal(S.fragments, 3);
    scan_corpus("ipv4/fragmented-4.pcap", &R, &S);
    assert_int_equal(S.fragments, 4);
}

/* Every file: every packet is accounted for (decoded, fragment, malformed
 * or unsupported), every flow ends once. */
static void t_every_file_accounted(void **st)
{
    static const char *const files[] = {
        "dns/dns-binds.pcap",
        "dns/dns-corrupt.pcap",
        "dns/dns-invalid-names.pcap",
        "dns/max-compression-depth.pcap",
        "dns/tkey.pcap",
        "http/get.pcap",
        "http/smuggle-http-request.pcap",
        "http/get-to-ssh-server.pcap",
        "ipv4/fragmented-1.pcap",
        "ipv4/fragmented-2.pcap",
        "ipv4/fragmented-3.pcap",
        "ipv4/fragmented-4.pcap",
        "ipv4/fragmented-syn.pcap",
        "mysql/mysql.pcap",
        "mysql/auth.pcap",
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
        "ssh/ssh1-ssh2-fingerprints.pcap",
        "tls/heartbleed.pcap",
        "tls/heartbleed-success.pcap",
        "tls/heartbleed-encrypted.pcap",
        "tls/ssl-v2.pcap",
        "tls/ssl.v3.pcap",
        "tls/signed_certificate_timestamp_tls1_0.pcap",
        "tls/tls1_1.pcap",
        "tls/tls-conn-with-extensions.pcap",
        "tls/tls-1.2-handshake-failure.pcap",
        "tls/ssl-to-http-server.pcap",
        "tls/dtls1_0.pcap",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        scan_corpus(files[i], &R, &S);
        assert_int_equal(R.started, R.nflows);
        assert_int_equal(R.named, R.nflows);
        assert_int_equal(S.flows, 0);
        assert_int_equal(S.flows_total, R.nflows);
        assert_int_equal(S.identified + S.unknown, R.nflows);
        /* whole packets reach the packet observer; fragments wait */
        assert_true(R.npackets + S.fragments + S.malformed + S.unsupported >= S.packets);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_http_get),
        cmocka_unit_test(t_http_smuggle),
        cmocka_unit_test(t_mismatched_sides),
        cmocka_unit_test(t_wrong_ports),
        cmocka_unit_test(t_dns),
        cmocka_unit_test(t_dns_invalid_names),
        cmocka_unit_test(t_mysql),
        cmocka_unit_test(t_postgresql),
        cmocka_unit_test(t_redis),
        cmocka_unit_test(t_ssh),
        cmocka_unit_test(t_tls_versions),
        cmocka_unit_test(t_dtls),
        cmocka_unit_test(t_fragmented_syn),
        cmocka_unit_test(t_fragment_anomalies),
        cmocka_unit_test(t_every_file_accounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
