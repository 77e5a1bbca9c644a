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
#include <msgpack.h>

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

/* A vigil.threat{} table as the policy engine hands it: a msgpack map of
 * n pairs, each "key", then 's' string / 'i' integer / 'b' boolean value. */
static int decl(char *out, size_t cap, char *msg, size_t msglen, int n, ...)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (size_t)n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *k = va_arg(ap, const char *);
        msgpack_pack_str_with_body(&pk, k, strlen(k));
        int t = va_arg(ap, int);
        if (t == 's') {
            const char *v = va_arg(ap, const char *);
            msgpack_pack_str_with_body(&pk, v, strlen(v));
        } else if (t == 'i') {
            msgpack_pack_int64(&pk, va_arg(ap, int));
        } else {
            va_arg(ap, int) ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        }
    }
    va_end(ap);
    out[0] = msg[0] = 0;
    int rc = net_threat_decl_section(sb.data, sb.size, out, cap, msg, msglen);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void t_decl(void **st)
{
    char out[256], msg[160];
    assert_int_equal(decl(out, sizeof(out), msg, sizeof(msg), 3, "group", 's', "web*", "id", 's',
                          "syn-flood", "rate", 'i', 5000),
                     0);
    assert_string_equal(out, "web*: syn-flood.rate=5000");
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "all", "enabled", 'b', 0), 0);
    assert_string_equal(out, "*: all=off");
    assert_int_equal(decl(out, sizeof(out), msg, sizeof(msg), 4, "enabled", 'b', 1, "group", 's',
                          "db", "count", 'i', 3, "id", 's', "mysql-access-denied"),
                     0);
    assert_string_equal(out, "db: mysql-access-denied=on, mysql-access-denied.count=3");
    /* the section gives the group what the config would */
    vg_net_threat_conf c;
    assert_int_equal(net_threat_conf_for("*: all=on", "db", &c, msg, sizeof(msg)), 0);
    assert_int_equal(net_threat_conf_apply(out, "db", &c, msg, sizeof(msg)), 0);
    assert_int_equal(c.mysql_denied, 3);

    static const char *const errs[] = {
        "unknown threat 'syn-flod'",
        "syn-flood has no parameter 'rat'",
        "'rate' must be a threshold (a positive integer)",
        "'group' must be a group name or pattern without spaces or ':;,='",
        "says nothing about syn-flood: give enabled = true|false or a threshold",
        "'id' is missing (a threat id, e.g. \"syn-flood\", or \"all\")",
        "syn-flood.rate wants a number from 1 to 100000000, not '0'",
        "'enabled' must be true or false",
    };
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "syn-flod", "rate", 'i', 5),
        -EINVAL);
    assert_string_equal(msg, errs[0]);
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "syn-flood", "rat", 'i', 5),
        -EINVAL);
    assert_string_equal(msg, errs[1]);
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "syn-flood", "rate", 's', "fast"),
        -EINVAL);
    assert_string_equal(msg, errs[2]);
    assert_int_equal(decl(out, sizeof(out), msg, sizeof(msg), 3, "group", 's', "web: *", "id", 's',
                          "syn-flood", "rate", 'i', 5),
                     -EINVAL);
    assert_string_equal(msg, errs[3]);
    assert_int_equal(decl(out, sizeof(out), msg, sizeof(msg), 1, "id", 's', "syn-flood"), -EINVAL);
    assert_string_equal(msg, errs[4]);
    assert_int_equal(decl(out, sizeof(out), msg, sizeof(msg), 1, "rate", 'i', 5), -EINVAL);
    assert_string_equal(msg, errs[5]);
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "syn-flood", "rate", 'i', 0),
        -EINVAL);
    assert_string_equal(msg, errs[6]);
    assert_int_equal(
        decl(out, sizeof(out), msg, sizeof(msg), 2, "id", 's', "syn-flood", "enabled", 's', "no"),
        -EINVAL);
    assert_string_equal(msg, errs[7]);
    assert_string_equal(out, ""); /* nothing written on a refusal */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_groups),
        cmocka_unit_test(t_errors),
        cmocka_unit_test(t_decl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
