/*
 * Fuzzes what the core does with an event body a plugin hands it (bytes
 * that come from containers: command lines, paths, packet fields): the
 * event is made and encoded as the store and the socket see it, rendered
 * as JSON as vigilctl and the webhooks do, and handed to Lua as the policy
 * engine does (read-only proxies at every level) and packed back. Nothing
 * may crash, and a body that reaches Lua packs back into a map.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>

#include "event.h"
#include "json.h"
#include "luamp.h"
#include "mp.h"
#include "sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One buffer for the whole run: vg_lua_pack raises Lua errors (a longjmp)
 * on what it cannot pack, which would leak a buffer of the call's own. */
static msgpack_sbuffer packed;

static int l_roundtrip(lua_State *L)
{
    const msgpack_object *o = lua_touserdata(L, 1);
    vg_lua_push_mp_readonly(L, o, "events are read-only");
    if (lua_istable(L, -1))
        vg_lua_make_readonly(L, "events are read-only");
    packed.size = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &packed, msgpack_sbuffer_write);
    vg_lua_pack(L, lua_gettop(L), &pk, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int type = -1;
    if (type < 0)
        type = vg_event_type_id("fuzz.event");
    vg_event_in in = {.type = type,
                      .severity = VG_SEV_INFO,
                      .workload = "w",
                      .group = "g",
                      .body = data,
                      .body_len = size};
    vg_event *ev = NULL;
    if (vg_event_new(&in, &ev) == 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        if (vg_event_encode(ev, &sb) == 0) {
            msgpack_unpacked up;
            msgpack_unpacked_init(&up);
            if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS) {
                msgpack_sbuffer js;
                msgpack_sbuffer_init(&js);
                vg_json_write_sbuf(&js, &up.data);
                msgpack_sbuffer_destroy(&js);
            }
            msgpack_unpacked_destroy(&up);
        }
        msgpack_sbuffer_destroy(&sb);
        free(ev);
    }
    /* The body alone, as Lua sees it, once the core took it (vg_event_new
     * refuses what does not pass vg_mp_shape_ok). */
    if (!vg_mp_shape_ok(data, size))
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, (const char *)data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        lua_State *L;
        if (vg_sandbox_new("the fuzzer", 64u << 20, 1000000, &L) == 0) {
            lua_pushcfunction(L, l_roundtrip);
            lua_pushlightuserdata(L, &up.data);
            lua_pcall(L, 1, 0, 0); /* errors (nesting, keys) are fine; crashes are not */
            vg_sandbox_close(L);
        }
    }
    msgpack_unpacked_destroy(&up);
    return 0;
}
