/*
 * Unit tests of the live side's own tables: the flow-id map (conns.c keeps
 * one per capture thread; deletion by backward shift must never lose an
 * entry of a probe run), the address table of the workloads, and the named
 * networks of the config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowmap.h"
#include "net.h"

/* Insert many ids, delete every third, check that exactly the others are
 * found, with their data; then delete all. */
static void flowmap_insert_delete(void **state)
{
    (void)state;
    net_flowmap m = {0};
    const uint64_t n = 50000;
    for (uint64_t id = 1; id <= n; id++) {
        net_flowrec *r = net_flowmap_put(&m, id * 7919);
        assert_non_null(r);
        r->pkts[0] = id;
    }
    assert_int_equal(m.n, n);
    for (uint64_t id = 1; id <= n; id += 3)
        net_flowmap_del(&m, id * 7919);
    for (uint64_t id = 1; id <= n; id++) {
        net_flowrec *r = net_flowmap_get(&m, id * 7919);
        if ((id - 1) % 3 == 0) {
            assert_null(r);
        } else {
            assert_non_null(r);
            assert_int_equal(r->pkts[0], id);
        }
    }
    for (uint64_t id = 1; id <= n; id++)
        net_flowmap_del(&m, id * 7919);
    assert_int_equal(m.n, 0);
    assert_null(net_flowmap_get(&m, 7919));
    /* id 0 is no flow */
    assert_null(net_flowmap_put(&m, 0));
    net_flowmap_free(&m);
}

static void a4(uint8_t *out, const char *s)
{
    memset(out, 0, 16);
    assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

static void peers_by_owner(void **state)
{
    (void)state;
    net_peers *t = net_peers_new();
    assert_non_null(t);
    int fam[3] = {AF_INET, AF_INET, AF_INET6};
    uint8_t addrs[3][16];
    a4(addrs[0], "10.1.0.5");
    a4(addrs[1], "127.0.0.1"); /* every namespace has it: names no one */
    memset(addrs[2], 0, 16);
    inet_pton(AF_INET6, "fd00::5", addrs[2]);
    int owner_a, owner_b;
    assert_int_equal(net_peers_set(t, &owner_a, "wa", "ga", fam, (const uint8_t(*)[16])addrs, 3),
                     0);
    uint8_t b[1][16];
    a4(b[0], "10.1.0.6");
    assert_int_equal(net_peers_set(t, &owner_b, "wb", "gb", fam, (const uint8_t(*)[16])b, 1), 0);

    char group[VG_GROUP_MAX], wl[VG_WORKLOAD_MAX];
    assert_int_equal(net_peers_group(t, AF_INET, addrs[0], group, wl), 0);
    assert_string_equal(group, "ga");
    assert_string_equal(wl, "wa");
    assert_int_equal(net_peers_group(t, AF_INET6, addrs[2], group, NULL), 0);
    assert_string_equal(group, "ga");
    assert_int_equal(net_peers_group(t, AF_INET, addrs[1], group, NULL), -ENOENT);
    assert_int_equal(net_peers_group(t, AF_INET, b[0], group, NULL), 0);
    assert_string_equal(group, "gb");
    /* A rescan of a replaces only a's addresses. */
    assert_int_equal(net_peers_set(t, &owner_a, "", "", NULL, NULL, 0), 0);
    assert_int_equal(net_peers_group(t, AF_INET, addrs[0], group, NULL), -ENOENT);
    assert_int_equal(net_peers_group(t, AF_INET, b[0], group, NULL), 0);
    net_peers_free(t);
}

static void networks(void **state)
{
    (void)state;
    net_config c = {0};
    char msg[200] = "";
    assert_int_equal(
        net_networks_parse(&c, "corp=10.0.0.0/8, db=10.1.2.0/24,v6=fd00::/8", msg, sizeof(msg)), 0);
    assert_int_equal(c.nnetworks, 3);
    uint8_t a[16];
    a4(a, "10.1.2.3");
    assert_string_equal(net_network_of(&c, AF_INET, a)->name, "db"); /* most specific */
    a4(a, "10.9.9.9");
    assert_string_equal(net_network_of(&c, AF_INET, a)->name, "corp");
    a4(a, "192.168.1.1");
    assert_null(net_network_of(&c, AF_INET, a));
    memset(a, 0, 16);
    inet_pton(AF_INET6, "fd12::1", a);
    assert_string_equal(net_network_of(&c, AF_INET6, a)->name, "v6");

    static const char *const bad[] = {"corp",       "=10.0.0.0/8",  "x=10.0.0.0",   "x=10.0.0.0/33",
                                      "x=10.0.0/8", "x=fd00::/129", "x=10.0.0.0/8x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = '\0';
        assert_int_equal(net_networks_parse(&c, bad[i], msg, sizeof(msg)), -EINVAL);
        assert_true(msg[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flowmap_insert_delete),
        cmocka_unit_test(peers_by_owner),
        cmocka_unit_test(networks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
