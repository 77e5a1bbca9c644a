/*
 * Unit tests of protect mode's own tables: plugins.net.quarantine_allow as
 * the user writes it (quar_allow.c: good forms, and bad ones refused with
 * the item named), and the DNS names table (dnsnames.c: per group, expiry
 * after the TTL or the minimum, a new answer announced once, the oldest
 * entry giving way when it is full, the hash of a name as the kernel's DNS
 * reader computes it).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dnsnames.h"
#include "enforce.h"

static void quar_allow_forms(void **state)
{
    (void)state;
    struct vg_enf_key k[8];
    size_t n = 0;
    char msg[160] = "";
    assert_int_equal(net_quar_allow_parse("10.0.0.1, 10.0.0.2:8080,[fd00::1]:53 fd00::2", k, 8, &n,
                                          msg, sizeof(msg)),
                     0);
    assert_int_equal(n, 4);
    uint8_t a[16];
    inet_pton(AF_INET, "10.0.0.1", a);
    assert_int_equal(k[0].family, VG_ENF_V4);
    assert_int_equal(k[0].port, 0);
    assert_int_equal(k[0].proto, 0);
    assert_memory_equal(k[0].addr, a, 4);
    assert_int_equal(k[1].port, 8080);
    inet_pton(AF_INET6, "fd00::1", a);
    assert_int_equal(k[2].family, VG_ENF_V6);
    assert_int_equal(k[2].port, 53);
    assert_memory_equal(k[2].addr, a, 16);
    assert_int_equal(k[3].family, VG_ENF_V6);
    assert_int_equal(k[3].port, 0);
    assert_int_equal(net_quar_allow_parse("", k, 8, &n, msg, sizeof(msg)), 0);
    assert_int_equal(n, 0);
}

static void quar_allow_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"kubelet",   "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:x",
                                      "[fd00::1]", "[fd00::1]:", "10.0.0.0/8",     "10.0.0.1:80:1",
                                      "[nope]:80", "10.0.0.256"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vg_enf_key k[4];
        size_t n = 0;
        char msg[160] = "";
        assert_int_equal(net_quar_allow_parse(bad[i], k, 4, &n, msg, sizeof(msg)), -EINVAL);
        assert_non_null(strstr(msg, bad[i])); /* the item is named */
    }
    struct vg_enf_key k[2];
    size_t n = 0;
    char msg[160] = "";
    assert_int_equal(net_quar_allow_parse("1.1.1.1,2.2.2.2,3.3.3.3", k, 2, &n, msg, sizeof(msg)),
                     -EINVAL);
    assert_non_null(strstr(msg, "more than 2"));
}

static int announced;
static void on_new(void *arg)
{
    (void)arg;
    announced++;
}

static void dnsnames_expiry(void **state)
{
    (void)state;
    net_dnsnames *t = net_dnsnames_new(8);
    assert_non_null(t);
    net_dnsnames_config(t, on_new, NULL, 60);
    uint8_t a1[16] = {10, 0, 0, 5}, a2[16] = {10, 0, 0, 6};
    const uint64_t s = 1000000;
    announced = 0;
    net_dnsnames_add(t, "web", "api.example.com", AF_INET, a1, 1, 100 * s); /* TTL 1: 60 s */
    net_dnsnames_add(t, "web", "api.example.com", AF_INET, a2, 300, 100 * s);
    net_dnsnames_add(t, "web", "api.example.com", AF_INET, a1, 1, 110 * s); /* refreshed */
    assert_int_equal(announced, 2);
    int fam[4];
    uint8_t got[4][16];
    assert_int_equal(net_dnsnames_addrs(t, "web", "api.example.com", 120 * s, fam, got, 4), 2);
    assert_int_equal(net_dnsnames_addrs(t, "db", "api.example.com", 120 * s, fam, got, 4), 0);
    /* a1 lasts 60 s from its last answer (110 s), a2 its TTL of 300 s. */
    assert_int_equal(net_dnsnames_addrs(t, "web", "api.example.com", 171 * s, fam, got, 4), 1);
    assert_memory_equal(got[0], a2, 4);
    char name[64];
    assert_int_equal(net_dnsnames_name(t, "web", AF_INET, a2, 171 * s, name, sizeof(name)), 0);
    assert_string_equal(name, "api.example.com");
    assert_int_equal(net_dnsnames_name(t, "web", AF_INET, a1, 171 * s, name, sizeof(name)),
                     -ENOENT);
    /* Expired, then answered again: announced again. */
    net_dnsnames_add(t, "web", "api.example.com", AF_INET, a1, 1, 200 * s);
    assert_int_equal(announced, 3);
    net_dnsnames_free(t);
}

static void dnsnames_full(void **state)
{
    (void)state;
    net_dnsnames *t = net_dnsnames_new(4);
    assert_non_null(t);
    net_dnsnames_config(t, NULL, NULL, 0);
    for (uint8_t i = 1; i <= 6; i++) {
        uint8_t a[16] = {10, 0, 0, i};
        net_dnsnames_add(t, "web", "n.example", AF_INET, a, 100, (uint64_t)i * 1000000);
    }
    int fam[8];
    uint8_t got[8][16];
    /* Four kept: the newest (3 to 6). */
    assert_int_equal(net_dnsnames_addrs(t, "web", "n.example", 7000000, fam, got, 8), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(got[i][3] >= 3);
    /* Bad input is ignored, never kept. */
    uint8_t a[16] = {1};
    net_dnsnames_add(t, "", "n.example", AF_INET, a, 100, 7000000);
    net_dnsnames_add(t, "web", "n.example", 99, a, 100, 7000000);
    assert_int_equal(net_dnsnames_addrs(t, "web", "n.example", 7000000, fam, got, 8), 4);
    net_dnsnames_free(t);
}

/* The hash of a name as the kernel reads it from a DNS question (wire
 * form, lowercased): FNV-1a 64 over "\3api\7example\3com". */
static void dns_wire_hash(void **state)
{
    (void)state;
    const char wire[] = "\3api\7example\3com";
    uint64_t h = VG_ENF_FNV_OFFSET;
    for (size_t i = 0; i < sizeof(wire) - 1; i++)
        h = (h ^ (uint8_t)wire[i]) * VG_ENF_FNV_PRIME;
    assert_true(h == net_dns_wire_hash("api.example.com"));
    assert_true(h == net_dns_wire_hash("API.Example.COM."));
    assert_true(h != net_dns_wire_hash("api.example.co"));
    assert_true(net_dns_wire_hash("") == 0);
    assert_true(net_dns_wire_hash("a..b") == 0);
    char longlabel[80];
    memset(longlabel, 'a', 64);
    longlabel[64] = '\0';
    assert_true(net_dns_wire_hash(longlabel) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quar_allow_forms), cmocka_unit_test(quar_allow_refused),
        cmocka_unit_test(dnsnames_expiry),  cmocka_unit_test(dnsnames_full),
        cmocka_unit_test(dns_wire_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
