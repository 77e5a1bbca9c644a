/*
 * plugins.net.threats: the set each group gets (threat_conf.c), and the
 * messages of a wrong setting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "threat_conf.h"

static const char spec[] = "*: tls-old-version=on, syn-flood.rate=500;"
                           " web*: sql-injection=off, http-slowloris=on,"
                           " http-slowloris.connections=20;"
                           " db: mysql-access-denied.count=3, all=off, mysql-access-denied=on";

static void t_groups(void **st)
{
    vg_net_threat_conf c, d;
    char msg[160];
    vg_net_threat_defaults(&d);

    assert_int_equal(net_threat_conf_for(spec, "cache", &c, msg, sizeof(msg)), 0);
    assert_true(c.enabled & VG_NET_T_BIT(VG_NET_T_TLS_OLD_VERSION));
    assert_int_equal(c.syn_flood_pps, 500);
    assert_true(c.enabled & VG_NET_T_BIT(VG_NET_T_SQL_INJECTION));
    assert_int_equal(c.slowloris_conns, d.slowloris_conns);

    assert_int_equal(net_threat_conf_for(spec, "web-front", &c, msg, sizeof(msg)), 0);
    assert_false(c.enabled & VG_NET_T_BIT(VG_NET_T_SQL_INJECTION));
    assert_true(c.enabled & VG_NET_T_BIT(VG_NET_T_HTTP_SLOWLORIS));
    assert_int_equal(c.slowloris_conns, 20);
    assert_int_equal(c.syn_flood_pps, 500); /* "*" applies first */

    assert_int_equal(net_threat_conf_for(spec, "db", &c, msg, sizeof(msg)), 0);
    assert_true(c.enabled == VG_NET_T_BIT(VG_NET_T_MYSQL_ACCESS_DENIED));
    assert_int_equal(c.mysql_denied, 3);

    /* no spec: NeuVector's defaults */
    assert_int_equal(net_threat_conf_for("", "x", &c, msg, sizeof(msg)), 0);
    assert_memory_equal(&c, &d, sizeof(c));
}

static void t_errors(void **st)
{
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"*: no-such=on", "unknown threat 'no-such'"},
        {"*: syn-flood=maybe", "syn-flood wants on or off, not 'maybe'"},
        {"*: syn-flood.rate=0", "syn-flood.rate wants a number from 1 to 100000000, not '0'"},
        {"*: syn-flood.burst=5", "syn-flood has no parameter 'burst'"},
        {"syn-flood=on", "section 'syn-flood=on' wants GROUP: SETTINGS"},
        {"web: sql-injection", "'sql-injection' is not KEY=VALUE"},
        /* a section of another group is checked all the same */
        {"*: syn-flood=on; other: icmp-flood.rate=x",
         "icmp-flood.rate wants a number from 1 to 100000000, not 'x'"},
    };
    vg_net_threat_conf c;
    char msg[160];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = 0;
        assert_int_equal(net_threat_conf_for(bad[i].spec, NULL, &c, msg, sizeof(msg)), -EINVAL);
        assert_string_equal(msg, bad[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_groups),
        cmocka_unit_test(t_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
