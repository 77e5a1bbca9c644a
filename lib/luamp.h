/*
 * Lua values and msgpack objects, both ways, for every part that hands data
 * to Lua (the policy engine, policy tests, custom CIS checks): one home for
 * the conversion so that all of them see the same tables.
 *
 * All functions run under a protected call: they raise Lua errors (with
 * the position of the nearest Lua caller) instead of returning them.
 */
#ifndef VG_LUAMP_H
#define VG_LUAMP_H

#include <lua.h>
#include <msgpack.h>
#include <stdbool.h>

/* Pushes a msgpack object as Lua values: maps (string keys) and arrays
 * become plain tables, bin becomes a string, nesting past 16 levels nil. */
void vg_lua_push_mp(lua_State *L, const msgpack_object *o, int depth);

/* Packs the Lua value at idx: tables become maps (string keys) or arrays
 * (1..n), a read-only proxy packs as its data. Raises a Lua error on other
 * types or nesting past 16 levels. */
void vg_lua_pack(lua_State *L, int idx, msgpack_packer *pk, int depth);

/* The same, with every map and array below the top a read-only proxy; a
 * map at the top is pushed as a plain table, for the caller to add fields
 * to before it makes it read-only too (vg_lua_make_readonly). */
void vg_lua_push_mp_readonly(lua_State *L, const msgpack_object *o, const char *assign_msg);
/* The same, with room in the top table for `room` fields more: adding
 * them then costs no rehash of the table. */
void vg_lua_push_mp_readonly_room(lua_State *L, const msgpack_object *o, int room,
                                  const char *assign_msg);

/* Replaces the table on top of the stack by a read-only proxy of it: a
 * userdata (rawset() cannot write into it) whose reads go to the table
 * (with the table's own metamethods), whose pairs() and # see the table,
 * and whose assignments raise "<assign_msg> (field 'k')". The table is
 * never handed out again: getmetatable() answers "read-only" and pairs()
 * iterates through a closure. Nested tables are not made read-only by
 * this; see vg_lua_push_mp_readonly. */
void vg_lua_make_readonly(lua_State *L, const char *assign_msg);

/* Whether the value at idx is such a proxy; whether it is a table or one. */
bool vg_lua_is_readonly(lua_State *L, int idx);
bool vg_lua_is_record(lua_State *L, int idx);

/* Raises a Lua error prefixed with "file:line: " of the nearest Lua caller
 * (a C function has no line of its own). Never returns. */
int vg_lua_error(lua_State *L, const char *fmt, ...);

/* Pushes field `key` of the record at idx (a table, or a read-only proxy
 * whose data table is read raw) and returns its type: for C code that
 * reads optional fields of an event, which a policy's read of an absent
 * field would make an error (strict events, core/policy/policy_event.c). */
int vg_lua_getfield_record(lua_State *L, int idx, const char *key);

#endif
