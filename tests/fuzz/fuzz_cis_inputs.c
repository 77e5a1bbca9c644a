/*
 * Fuzzes the decoders of the CIS checks' inputs (plugins/cis/decode.c):
 * the bytes as JSON (daemon.json, the image config) and as YAML (the
 * kubelet's config.yaml, Kubernetes manifests given with --manifests, the
 * control plane's static pods), each turned into Lua values in a sandbox
 * with the engine's memory limit, then every value read, as a check would.
 * Either a value or nil and a message; never a crash, a hang or a leak
 * (YAML aliases that multiply a document included).
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>

#include "cis_int.h"
#include "sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every key and value, as checks do with pairs(). */
static size_t walk(lua_State *L, int idx, int depth)
{
    size_t n = 1;
    if (lua_type(L, idx) != LUA_TTABLE || depth > 200)
        return n;
    luaL_checkstack(L, 3, "walk");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n += walk(L, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    return n;
}

static int decode(lua_State *L)
{
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    int top = lua_gettop(L);
    cis_push_json(L, s, len);
    walk(L, top + 1, 0);
    lua_settop(L, top);
    if (cis_push_yaml(L, s, len) == 1)
        walk(L, top + 1, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = NULL;
    if (vg_sandbox_new("fuzz", 96u << 20, 20000000, &L) < 0)
        abort();
    lua_pushcfunction(L, decode);
    lua_pushlstring(L, (const char *)data, size);
    lua_pcall(L, 1, 0, 0); /* an error (memory) is an answer too */
    vg_sandbox_close(L);
    return 0;
}
