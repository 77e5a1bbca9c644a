/*
 * Small helpers over msgpack-c objects and packers, shared by the daemon and
 * vigilctl: looking up keys in maps, reading typed values, packing C strings,
 * and rendering an object as JSON (for --json and the JSON outputs).
 */
#ifndef VG_MP_H
#define VG_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

/* The value of `key` in a map object, or NULL (absent, or o not a map). */
const msgpack_object *vg_mp_get(const msgpack_object *o, const char *key);

/* True if o is a string equal to s. */
bool vg_mp_streq(const msgpack_object *o, const char *s);

/* Typed reads of map[key]: 0, -ENOENT (absent or nil), -EINVAL (other type).
 * Strings are not NUL-terminated in msgpack: get_str gives pointer + length,
 * get_cstr copies into buf (-ENAMETOOLONG if it does not fit). */
int vg_mp_get_str(const msgpack_object *map, const char *key, const char **p, size_t *len);
int vg_mp_get_cstr(const msgpack_object *map, const char *key, char *buf, size_t size);
int vg_mp_get_int(const msgpack_object *map, const char *key, int64_t *out);
int vg_mp_get_bool(const msgpack_object *map, const char *key, bool *out);
/* Copies map[key] as text into buf (integers in decimal, booleans as
 * true/false): 0 or -ENOENT for a missing key or another type. */
int vg_mp_field_str(const msgpack_object *map, const char *key, char *buf, size_t size);

/* Packs a NUL-terminated string (NULL packs nil). */
int vg_mp_pack_cstr(msgpack_packer *pk, const char *s);
/* Packs "key" then the string value: for building maps. */
int vg_mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
int vg_mp_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val);
int vg_mp_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val);
int vg_mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool val);

/* Whether buf holds exactly one msgpack object whose announced array and
 * map sizes fit in the bytes that are actually there. msgpack-c allocates a
 * container's element array before reading its elements, so without this a
 * five-byte "map of 4 billion entries" would ask its zone for 128 GiB. Since
 * every element takes at least one byte, passing the check bounds the zone
 * to a small multiple of the input. Call it before unpacking bytes that
 * come from outside (control requests, event bodies). */
bool vg_mp_shape_ok(const void *buf, size_t len);

#endif
