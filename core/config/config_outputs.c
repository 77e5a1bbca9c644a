/*
 * The "outputs" and "metrics" settings of the config file, checked where the
 * file is loaded so that `vigild --check` and a reload name the file and
 * line of a bad output. core/output reads them back as msgpack
 * (vg_config_pack_setting) and never touches the config's Lua state.
 *
 *   outputs = {
 *     { kind = "file", path = "/var/log/vigil/events.json" },
 *     { kind = "journal", min_severity = "warning" },
 *     { kind = "falco", url = "http://127.0.0.1:2801/", types = { "*.violation" } },
 *   }
 *   metrics = { listen = "127.0.0.1:9464" }
 *
 * Every output has the common keys (kind, name, types, min_severity, queue)
 * and those of its kind; the table below is the whole schema.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "evtype.h"
#include "luamp.h"

#define TYPE_GLOB_MAX 47 /* an event type name is at most 47 bytes */
#define QUEUE_MIN 16
#define QUEUE_MAX (1 << 20)
#define TIMEOUT_MAX_MS 600000

enum vtype {
    V_STR,     /* a non-empty string */
    V_PATH,    /* an absolute path */
    V_URL,     /* http:// or https:// */
    V_SEV,     /* a severity name */
    V_QUEUE,   /* an integer, QUEUE_MIN..QUEUE_MAX */
    V_TIMEOUT, /* an integer, 1..TIMEOUT_MAX_MS */
    V_GLOBS,   /* a list of event type globs */
    V_STRS,    /* a list of strings */
    V_HEADERS, /* a table of header name = value */
    V_PROPS,   /* a table of name = string */
};

struct key {
    const char *name;
    enum vtype type;
    bool required;
};

struct kind {
    const char *name;
    struct key keys[6];
};

static const struct key common_keys[] = {
    {"kind", V_STR, true},     {"name", V_STR, false},  {"types", V_GLOBS, false},
    {"min_severity", V_SEV, false}, {"queue", V_QUEUE, false},
};

static const struct kind kinds[] = {
    {"file", {{"path", V_PATH, true}}},
    {.name = "stdout"}, /* no keys of its own */
    {"journal", {{"identifier", V_STR, false}}},
    {"falco",
     {{"url", V_URL, true},
      {"timeout_ms", V_TIMEOUT, false},
      {"headers", V_HEADERS, false},
      {"hostname", V_STR, false},
      {"tags", V_STRS, false}}},
    {"kafka",
     {{"brokers", V_STR, true},
      {"topic", V_STR, true},
      {"properties", V_PROPS, false}}},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *const vg_config_output_kinds[] = {"file", "stdout", "journal", "falco", "kafka", NULL};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A list of strings (1..n, no holes); each item checked by `glob`. */
static int check_strings(lua_State *L, int idx, const char *what, bool glob, char *err,
                         size_t errlen)
{
    if (!lua_istable(L, idx))
        return fail(err, errlen, "%s must be a list of strings, got %s", what,
                    luaL_typename(L, idx));
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        int rc = 0;
        if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > n ||
            lua_type(L, -1) != LUA_TSTRING)
            rc = fail(err, errlen, "%s must be a list of strings", what);
        else if (glob) {
            const char *g = lua_tostring(L, -1);
            if (!*g || strlen(g) > TYPE_GLOB_MAX || strpbrk(g, " \t\r\n"))
                rc = fail(err, errlen,
                          "%s item %lld ('%.60s') is not an event type or a glob of one", what,
                          (long long)lua_tointeger(L, -2), g);
        }
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return count == n ? 0 : fail(err, errlen, "%s must be a list of strings", what);
}

/* A table of string = string; headers also refuse what could smuggle
 * another header into a request. */
static int check_map(lua_State *L, int idx, const char *what, bool header, char *err,
                     size_t errlen)
{
    if (!lua_istable(L, idx))
        return fail(err, errlen, "%s must be a table, got %s", what, luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int rc = 0;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
            rc = fail(err, errlen, "%s must map names to strings", what);
        } else {
            const char *k = lua_tostring(L, -2), *v = lua_tostring(L, -1);
            if (!*k || (header && strpbrk(k, ":\r\n \t")) || strpbrk(v, "\r\n"))
                rc = fail(err, errlen, "%s: '%.60s' is not valid", what, k);
        }
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return 0;
}

static int check_int(lua_State *L, int idx, const char *what, long min, long max, char *err,
                     size_t errlen)
{
    if (!lua_isinteger(L, idx) || lua_tointeger(L, idx) < min || lua_tointeger(L, idx) > max)
        return fail(err, errlen, "%s must be an integer from %ld to %ld", what, min, max);
    return 0;
}

static bool is_severity(const char *s)
{
    static const char *const names[] = {"debug", "info", "notice", "warning", "error", "critical"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i], s) == 0)
            return true;
    return false;
}

static int check_value(lua_State *L, int idx, const struct key *k, const char *what, char *err,
                       size_t errlen)
{
    if (k->type <= V_SEV) {
        const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
        if (!s)
            return fail(err, errlen, "%s must be a string, got %s", what, luaL_typename(L, idx));
        if (!*s)
            return fail(err, errlen, "%s must not be empty", what);
        if (k->type == V_PATH && s[0] != '/')
            return fail(err, errlen, "%s must be an absolute path, got '%.80s'", what, s);
        if (k->type == V_URL && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
            return fail(err, errlen, "%s must be an http:// or https:// URL", what);
        if (k->type == V_SEV && !is_severity(s))
            return fail(err, errlen,
                        "%s must be one of debug, info, notice, warning, error, critical, got "
                        "'%.40s'",
                        what, s);
        return 0;
    }
    switch (k->type) {
    case V_QUEUE:
        return check_int(L, idx, what, QUEUE_MIN, QUEUE_MAX, err, errlen);
    case V_TIMEOUT:
        return check_int(L, idx, what, 1, TIMEOUT_MAX_MS, err, errlen);
    case V_GLOBS:
    case V_STRS:
        return check_strings(L, idx, what, k->type == V_GLOBS, err, errlen);
    case V_HEADERS:
    case V_PROPS:
        return check_map(L, idx, what, k->type == V_HEADERS, err, errlen);
    default:
        return 0;
    }
}

static const struct key *find_key(const struct key *keys, size_t n, const char *name)
{
    for (size_t i = 0; i < n && keys[i].name; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void list_keys(const struct kind *kd, char *buf, size_t size)
{
    size_t off = 0;
    for (size_t i = 0; i < sizeof(common_keys) / sizeof(common_keys[0]); i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%s", i ? ", " : "", common_keys[i].name);
    for (size_t i = 0; i < 6 && kd->keys[i].name && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, ", %s", kd->keys[i].name);
}

static const struct kind *find_kind(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

/* One output, outputs[i] at idx. */
static int check_output(lua_State *L, int idx, lua_Integer i, char *err, size_t errlen)
{
    char what[96];
    if (!lua_istable(L, idx))
        return fail(err, errlen, "outputs[%lld] must be a table, got %s", (long long)i,
                    luaL_typename(L, idx));
    lua_getfield(L, idx, "kind");
    const char *kn = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    const struct kind *kd = kn ? find_kind(kn) : NULL;
    lua_pop(L, 1);
    if (!kd)
        return fail(err, errlen,
                    "outputs[%lld].kind must be one of file, stdout, journal, falco, kafka%s",
                    (long long)i, kn ? "" : " (it is missing)");
    const size_t ncommon = sizeof(common_keys) / sizeof(common_keys[0]);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        const struct key *key = find_key(common_keys, ncommon, k);
        if (!key)
            key = find_key(kd->keys, 6, k);
        int rc;
        if (!key) {
            char keys[200];
            list_keys(kd, keys, sizeof(keys));
            rc = fail(err, errlen, "outputs[%lld]: unknown key '%.40s' for kind %s (%s)",
                      (long long)i, k, kd->name, keys);
        } else {
            snprintf(what, sizeof(what), "outputs[%lld].%s", (long long)i, k);
            rc = check_value(L, lua_gettop(L), key, what, err, errlen);
        }
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    for (size_t k = 0; k < 6 && kd->keys[k].name; k++) {
        int t = lua_getfield(L, idx, kd->keys[k].name);
        lua_pop(L, 1);
        if (kd->keys[k].required && t == LUA_TNIL)
            return fail(err, errlen, "outputs[%lld].%s is required for kind %s", (long long)i,
                        kd->keys[k].name, kd->name);
    }
    return 0;
}

/* Names must tell outputs apart in metrics and `vigilctl status`. */
static int check_names(lua_State *L, int idx, lua_Integer n, char *err, size_t errlen)
{
    for (lua_Integer i = 1; i <= n; i++) {
        char a[64];
        lua_rawgeti(L, idx, i);
        int t = lua_getfield(L, -1, "name");
        if (t != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_getfield(L, -1, "kind");
        }
        snprintf(a, sizeof(a), "%s", lua_tostring(L, -1));
        lua_pop(L, 2);
        for (lua_Integer j = 1; j < i; j++) {
            lua_rawgeti(L, idx, j);
            if (lua_getfield(L, -1, "name") != LUA_TSTRING) {
                lua_pop(L, 1);
                lua_getfield(L, -1, "kind");
            }
            bool same = strcmp(a, lua_tostring(L, -1)) == 0;
            lua_pop(L, 2);
            if (same)
                return fail(err, errlen,
                            "outputs[%lld] and outputs[%lld] are both named '%s'; give one a "
                            "'name'",
                            (long long)j, (long long)i, a);
        }
    }
    return 0;
}

int vg_config_outputs_check(lua_State *L, int idx, char *err, size_t errlen)
{
    if (!lua_checkstack(L, 8))
        return fail(err, errlen, "out of memory");
    idx = lua_absindex(L, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        int rc = !lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > n
                     ? fail(err, errlen, "outputs must be a list of tables ({ kind = ... })")
                     : check_output(L, lua_gettop(L), lua_tointeger(L, -2), err, errlen);
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    if (count != n)
        return fail(err, errlen, "outputs must be a list of tables, without holes");
    return check_names(L, idx, n, err, errlen);
}

/* "HOST:PORT", "[V6]:PORT" or "PORT"; HOST an IP address. */
static int check_listen(const char *s, char *err, size_t errlen)
{
    char host[64] = "127.0.0.1";
    const char *port = s, *colon = strrchr(s, ':');
    if (colon) {
        size_t hl = (size_t)(colon - s);
        if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']')
            s++, hl -= 2;
        if (hl == 0 || hl >= sizeof(host))
            return fail(err, errlen, "metrics.listen: '%.80s' has no address before the port", s);
        memcpy(host, s, hl);
        host[hl] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    unsigned char buf[16];
    if (!*port || *end || p < 1 || p > 65535)
        return fail(err, errlen, "metrics.listen: the port must be from 1 to 65535");
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
        return fail(err, errlen, "metrics.listen: '%s' is not an IP address", host);
    return 0;
}

int vg_config_metrics_check(lua_State *L, int idx, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        int rc = 0;
        if (strcmp(k, "listen") != 0)
            rc = fail(err, errlen, "metrics: unknown key '%.40s' (listen)", k);
        else if (lua_type(L, -1) != LUA_TSTRING)
            rc = fail(err, errlen, "metrics.listen must be a string such as \"127.0.0.1:9464\"");
        else
            rc = check_listen(lua_tostring(L, -1), err, errlen);
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return 0;
}

static int l_pack_value(lua_State *L)
{
    vg_lua_pack(L, 1, lua_touserdata(L, 2), 0);
    return 0;
}

int vg_config_pack_setting(const vg_config *cfg, const char *key, msgpack_packer *pk)
{
    int t = vg_config_push_setting(cfg, key);
    if (t == -ENOMEM)
        return t;
    if (t < 0 || t == LUA_TNIL) {
        if (t >= 0)
            lua_pop(cfg->L, 1);
        return msgpack_pack_nil(pk) ? -ENOMEM : 0;
    }
    lua_State *L = cfg->L;
    /* vg_lua_pack raises on failure: run it protected, on the value. */
    lua_pushcfunction(L, l_pack_value);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, pk);
    int rc = lua_pcall(L, 2, 0, 0);
    if (rc != LUA_OK)
        lua_pop(L, 1);
    return rc == LUA_OK ? 0 : -ENOMEM;
}

int vg_config_unpack_setting(const vg_config *cfg, const char *key, msgpack_sbuffer *sb,
                             msgpack_unpacked *up)
{
    msgpack_sbuffer_init(sb);
    msgpack_unpacked_init(up);
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int rc = vg_config_pack_setting(cfg, key, &pk);
    if (rc == 0 && msgpack_unpack_next(up, sb->data, sb->size, NULL) != MSGPACK_UNPACK_SUCCESS)
        rc = -ENOMEM;
    return rc;
}
