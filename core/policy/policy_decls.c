/*
 * Plugins' declarations in policies (ABI 1.5): a plugin names a kind
 * ("threat") with a check function, and policy files call
 * vigil.threat{...} at their top level. The call packs the table, hands it
 * to the plugin's check (a refusal is a load error at the call's file and
 * line, as any other policy mistake) and keeps the bytes with the state;
 * once the state is swapped in, the plugin reads them through
 * vg_policy_decls_each (host api->policy_decls), at start and reload.
 *
 * Which kinds exist is the load's (vg_policy_load.decls): the daemon lists
 * the plugins it loaded, `vigild --check` those of the plugin directory.
 */
#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "sandbox.h"

/* At most this many declarations in one load, and bytes in one. */
#define DECLS_MAX 4096
#define DECL_BYTES_MAX 4096

static int l_decl(lua_State *L)
{
    struct vg__pstate *st = vg_sandbox_of(L)->user;
    size_t kind = (size_t)lua_tointeger(L, lua_upvalueindex(1));
    const vg_policy_decl_desc *d = &st->load.decls[kind];
    char fn[96];
    snprintf(fn, sizeof(fn), "vigil.%s", d->name);
    if (!st->loading)
        return vg_lua_error(L, "%s is for the top level of a policy file, not for handlers", fn);
    if (lua_type(L, 1) != LUA_TTABLE)
        return vg_lua_error(L, "%s: expected a table, e.g. %s{ group = \"web\", ... }", fn, fn);
    const msgpack_sbuffer *sb = NULL;
    vg__to_wire(L, 1, fn, &sb);
    if (sb->size > DECL_BYTES_MAX)
        return vg_lua_error(L, "%s: more than %d bytes", fn, DECL_BYTES_MAX);
    char msg[256] = "refused";
    if (d->check && d->check(sb->data, sb->size, msg, sizeof(msg)) < 0)
        return vg_lua_error(L, "%s: %s", fn, msg);
    if (st->ndecls >= DECLS_MAX)
        return vg_lua_error(L, "%s: more than %d declarations in all", fn, DECLS_MAX);
    struct vg__decl *slot =
        vg__next_slot(L, (void **)&st->decls, st->ndecls, &st->capdecls, sizeof(*slot));
    char *data = malloc(sb->size);
    if (!data)
        return luaL_error(L, "not enough memory");
    memcpy(data, sb->data, sb->size);
    *slot = (struct vg__decl){.kind = kind, .data = data, .len = sb->size};
    st->ndecls++;
    return 0;
}

void vg__decls_open(lua_State *L, int idx)
{
    struct vg__pstate *st = vg_sandbox_of(L)->user;
    idx = lua_absindex(L, idx);
    for (size_t i = 0; i < st->load.ndecls; i++) {
        const char *name = st->load.decls[i].name;
        if (!name || !*name || lua_getfield(L, idx, name) != LUA_TNIL) {
            vg_warn("policy: a plugin's declaration vigil.%s is skipped: the name is taken",
                    name ? name : "(null)");
            lua_pop(L, 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)i);
        lua_pushcclosure(L, l_decl, 1);
        lua_setfield(L, idx, name);
    }
}

void vg__decls_free(struct vg__pstate *st)
{
    for (size_t i = 0; i < st->ndecls; i++)
        free(st->decls[i].data);
    free(st->decls);
    st->decls = NULL;
    st->ndecls = st->capdecls = 0;
}

int vg_policy_decls_each(const vg_policy *p, const char *name,
                         void (*cb)(void *arg, const void *decl, size_t len), void *arg)
{
    const struct vg__pstate *st = p ? p->st : NULL;
    if (!st || !name)
        return 0;
    int n = 0;
    for (size_t i = 0; i < st->ndecls; i++) {
        const vg_policy_decl_desc *d = &st->load.decls[st->decls[i].kind];
        if (strcmp(d->name, name) != 0)
            continue;
        cb(arg, st->decls[i].data, st->decls[i].len);
        n++;
    }
    return n;
}
