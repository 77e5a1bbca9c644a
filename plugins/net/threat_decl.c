/*
 * vigil.threat{...} in policies (ABI 1.5 declarations): the same switches
 * and thresholds as plugins.net.threats, one threat of one group pattern
 * per call:
 *
 *   vigil.threat{ group = "web*", id = "syn-flood", rate = 5000 }
 *   vigil.threat{ group = "db", id = "sql-injection", enabled = false }
 *   vigil.threat{ id = "all", enabled = false }      -- every group
 *
 * A declaration becomes a section of the config's grammar (threat_conf.c)
 * ("web*: syn-flood.rate=5000"), so both are checked and applied by the
 * same code; the policies' sections apply after the config's, in the order
 * the files made them. The daemon checks each call at load through
 * net_policy_decls (a refusal is a load error at the call's file:line);
 * start() and reload() read the loaded ones into net_config.policy_threats,
 * whose change restarts the captures as any other setting does.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "threat_conf.h"

#define NAME_MAX_LEN 127

/* Group patterns and names must not hold the grammar's separators. */
static bool plain(const char *s, size_t n, bool glob)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ':' || c == ';' || c == ',' || c == '=' || c == ' ' || c < 0x21 || c > 0x7e)
            return false;
        if (!glob && (c == '*' || c == '?' || c == '['))
            return false;
    }
    return true;
}

#define PARAMS_MAX 8

struct decl {
    char group[NAME_MAX_LEN + 1], id[NAME_MAX_LEN + 1];
    int enabled; /* -1 not given */
    size_t nparams;
    struct {
        char key[32];
        uint64_t value;
    } params[PARAMS_MAX];
};

static int field(struct decl *d, const msgpack_object_kv *kv, char *msg, size_t msglen)
{
    if (kv->key.type != MSGPACK_OBJECT_STR) {
        snprintf(msg, msglen, "fields are named: group, id, enabled, and thresholds");
        return -EINVAL;
    }
    const char *k = kv->key.via.str.ptr;
    size_t kn = kv->key.via.str.size;
    const msgpack_object *v = &kv->val;
    bool is_group = kn == 5 && !memcmp(k, "group", 5), is_id = kn == 2 && !memcmp(k, "id", 2);
    if (is_group || is_id) {
        if (v->type != MSGPACK_OBJECT_STR || !plain(v->via.str.ptr, v->via.str.size, is_group)) {
            snprintf(msg, msglen, "'%s' must be a %s without spaces or ':;,='",
                     is_group ? "group" : "id", is_group ? "group name or pattern" : "threat id");
            return -EINVAL;
        }
        snprintf(is_group ? d->group : d->id, NAME_MAX_LEN + 1, "%.*s", (int)v->via.str.size,
                 v->via.str.ptr);
        return 0;
    }
    if (kn == 7 && !memcmp(k, "enabled", 7)) {
        if (v->type != MSGPACK_OBJECT_BOOLEAN) {
            snprintf(msg, msglen, "'enabled' must be true or false");
            return -EINVAL;
        }
        d->enabled = v->via.boolean;
        return 0;
    }
    if (kn >= sizeof(d->params[0].key) || !plain(k, kn, false) ||
        v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf(msg, msglen, "'%.*s' must be a threshold (a positive integer)",
                 (int)(kn > 60 ? 60 : kn), k);
        return -EINVAL;
    }
    if (d->nparams == PARAMS_MAX) {
        snprintf(msg, msglen, "more than %d thresholds", PARAMS_MAX);
        return -EINVAL;
    }
    snprintf(d->params[d->nparams].key, sizeof(d->params[0].key), "%.*s", (int)kn, k);
    d->params[d->nparams++].value = v->via.u64;
    return 0;
}

/* "GROUP: ID=on|off, ID.PARAM=N, ..." */
static int section(const struct decl *d, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s: ", d->group[0] ? d->group : "*");
    if (d->enabled >= 0 && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "%s=%s", d->id, d->enabled ? "on" : "off");
    for (size_t i = 0; i < d->nparams && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s.%s=%llu", i || d->enabled >= 0 ? ", " : "",
                              d->id, d->params[i].key, (unsigned long long)d->params[i].value);
    return n < cap ? 0 : -ENOSPC;
}

int net_threat_decl_section(const void *decl, size_t len, char *out, size_t cap, char *msg,
                            size_t msglen)
{
    struct decl d = {.enabled = -1};
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = 0;
    if (msgpack_unpack_next(&up, decl, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP) {
        snprintf(msg, msglen, "expected a table with named fields");
        rc = -EINVAL;
    }
    for (uint32_t i = 0; rc == 0 && i < up.data.via.map.size; i++)
        rc = field(&d, &up.data.via.map.ptr[i], msg, msglen);
    msgpack_unpacked_destroy(&up);
    if (rc < 0)
        return rc;
    if (!d.id[0]) {
        snprintf(msg, msglen, "'id' is missing (a threat id, e.g. \"syn-flood\", or \"all\")");
        return -EINVAL;
    }
    if (d.enabled < 0 && d.nparams == 0) {
        snprintf(msg, msglen, "says nothing about %s: give enabled = true|false or a threshold",
                 d.id);
        return -EINVAL;
    }
    char buf[1024];
    if (section(&d, buf, sizeof(buf)) < 0) {
        snprintf(msg, msglen, "too long");
        return -EINVAL;
    }
    vg_net_threat_conf c;
    if (net_threat_conf_for(buf, NULL, &c, msg, msglen) < 0)
        return -EINVAL;
    if (out && (size_t)snprintf(out, cap, "%s", buf) >= cap)
        return -ENOSPC;
    return 0;
}

static int check(const void *decl, size_t len, char *msg, size_t msglen)
{
    return net_threat_decl_section(decl, len, NULL, 0, msg, msglen);
}

const vg_policy_decl_desc net_policy_decls[] = {
    {.name = "threat", .check = check},
    {.name = NULL},
};

struct collect {
    net_plugin *p;
    net_config *c;
    size_t skipped;
};

static void on_decl(void *arg, const void *decl, size_t len)
{
    struct collect *k = arg;
    char buf[1024], msg[200];
    if (net_threat_decl_section(decl, len, buf, sizeof(buf), msg, sizeof(msg)) < 0) {
        k->skipped++; /* checked at load: only a changed plugin gets here */
        return;
    }
    size_t used = strlen(k->c->policy_threats);
    int w = snprintf(k->c->policy_threats + used, sizeof(k->c->policy_threats) - used, "%s%s",
                     used ? "; " : "", buf);
    if (w < 0 || (size_t)w >= sizeof(k->c->policy_threats) - used) {
        k->c->policy_threats[used] = 0;
        k->skipped++;
    }
}

void net_threats_policy(net_plugin *p, net_config *c)
{
    c->policy_threats[0] = 0;
    if (!VG_HOST_HAS(p->api, policy_decls))
        return;
    struct collect k = {.p = p, .c = c};
    int n = p->api->policy_decls(p->h, "threat", on_decl, &k);
    if (k.skipped)
        p->api->log(p->h, VG_LOG_WARN,
                    "%zu vigil.threat declarations skipped (over %zu bytes in all)", k.skipped,
                    sizeof(c->policy_threats));
    if (n > 0)
        p->api->log(p->h, VG_LOG_INFO, "%d vigil.threat declarations from the policies", n);
}
