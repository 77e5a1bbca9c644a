/* msgpack-c helpers; see mp.h. */
#include "mp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const msgpack_object *vg_mp_get(const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
            memcmp(kv->key.via.str.ptr, key, klen) == 0)
            return &kv->val;
    }
    return NULL;
}

bool vg_mp_streq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* Absent and nil read the same: "not set". */
static const msgpack_object *get_set(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = vg_mp_get(map, key);
    return (v && v->type != MSGPACK_OBJECT_NIL) ? v : NULL;
}

int vg_mp_get_str(const msgpack_object *map, const char *key, const char **p, size_t *len)
{
    const msgpack_object *v = get_set(map, key);
    if (!v)
        return -ENOENT;
    if (v->type != MSGPACK_OBJECT_STR)
        return -EINVAL;
    *p = v->via.str.ptr;
    *len = v->via.str.size;
    return 0;
}

int vg_mp_get_cstr(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const char *p;
    size_t len;
    int rc = vg_mp_get_str(map, key, &p, &len);
    if (rc < 0)
        return rc;
    if (len >= size || memchr(p, '\0', len))
        return len >= size ? -ENAMETOOLONG : -EINVAL;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

int vg_mp_get_int(const msgpack_object *map, const char *key, int64_t *out)
{
    const msgpack_object *v = get_set(map, key);
    if (!v)
        return -ENOENT;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 > INT64_MAX)
            return -ERANGE;
        *out = (int64_t)v->via.u64;
        return 0;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = v->via.i64;
        return 0;
    }
    return -EINVAL;
}

int vg_mp_get_bool(const msgpack_object *map, const char *key, bool *out)
{
    const msgpack_object *v = get_set(map, key);
    if (!v)
        return -ENOENT;
    if (v->type != MSGPACK_OBJECT_BOOLEAN)
        return -EINVAL;
    *out = v->via.boolean;
    return 0;
}

int vg_mp_pack_cstr(msgpack_packer *pk, const char *s)
{
    if (!s)
        return msgpack_pack_nil(pk);
    size_t n = strlen(s);
    int rc = msgpack_pack_str(pk, n);
    return rc ? rc : msgpack_pack_str_body(pk, s, n);
}

int vg_mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
    int rc = vg_mp_pack_cstr(pk, key);
    return rc ? rc : vg_mp_pack_cstr(pk, val);
}

int vg_mp_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
    int rc = vg_mp_pack_cstr(pk, key);
    return rc ? rc : msgpack_pack_int64(pk, val);
}

int vg_mp_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val)
{
    int rc = vg_mp_pack_cstr(pk, key);
    return rc ? rc : msgpack_pack_uint64(pk, val);
}

int vg_mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
    int rc = vg_mp_pack_cstr(pk, key);
    if (rc)
        return rc;
    return val ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

int vg_mp_field_str(const msgpack_object *map, const char *key, char *buf, size_t size)
{
    const msgpack_object *v = vg_mp_get(map, key);
    if (!v)
        return -ENOENT;
    switch (v->type) {
    case MSGPACK_OBJECT_STR: {
        /* As snprintf "%.*s" would, without its cost on every event: up to
         * the first NUL, cut to size. */
        const char *nul = memchr(v->via.str.ptr, '\0', v->via.str.size);
        size_t n = nul ? (size_t)(nul - v->via.str.ptr) : v->via.str.size;
        if (size == 0)
            return 0;
        if (n >= size)
            n = size - 1;
        memcpy(buf, v->via.str.ptr, n);
        buf[n] = '\0';
        return 0;
    }
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(buf, size, "%llu", (unsigned long long)v->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(buf, size, "%lld", (long long)v->via.i64);
        return 0;
    case MSGPACK_OBJECT_BOOLEAN:
        snprintf(buf, size, "%s", v->via.boolean ? "true" : "false");
        return 0;
    default:
        return -ENOENT;
    }
}

/* ---- shape check ---- */

/* Reads a big-endian unsigned integer of n bytes at p. */
static uint64_t be_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* For the msgpack type byte b: how many length bytes follow it (*lenbytes),
 * a fixed body size (*fixed, used when *lenbytes is 0), and whether the length
 * counts child objects (*container: 1 array, 2 map) rather than body bytes.
 * Returns false for the one byte that is never used (0xc1). */
static bool mp_type(uint8_t b, unsigned *lenbytes, size_t *fixed, unsigned *container)
{
    *lenbytes = 0;
    *fixed = 0;
    *container = 0;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3))
        return b != 0xc1;
    if (b >= 0x80 && b <= 0x8f) {
        *container = 2;
        *fixed = b & 0x0f;
    } else if (b >= 0x90 && b <= 0x9f) {
        *container = 1;
        *fixed = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
        *fixed = b & 0x1f;
    } else if (b >= 0xc4 && b <= 0xc6) { /* bin 8/16/32 */
        *lenbytes = 1u << (b - 0xc4);
    } else if (b >= 0xc7 && b <= 0xc9) { /* ext 8/16/32: length, then a type byte */
        *lenbytes = 1u << (b - 0xc7);
    } else if (b >= 0xca && b <= 0xd3) { /* float, uint, int */
        static const uint8_t sz[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
        *fixed = sz[b - 0xca];
    } else if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16, plus the type byte */
        *fixed = (1u << (b - 0xd4)) + 1;
    } else if (b >= 0xd9 && b <= 0xdb) { /* str 8/16/32 */
        *lenbytes = 1u << (b - 0xd9);
    } else if (b == 0xdc || b == 0xdd) {
        *container = 1;
        *lenbytes = b == 0xdc ? 2 : 4;
    } else { /* 0xde, 0xdf */
        *container = 2;
        *lenbytes = b == 0xde ? 2 : 4;
    }
    return true;
}

/* See mp.h. */
bool vg_mp_shape_ok(const void *data, size_t len)
{
    const uint8_t *buf = data;
    size_t pos = 0, pending = 1;
    while (pending > 0) {
        if (pos >= len)
            return false;
        uint8_t b = buf[pos++];
        unsigned lenbytes, container;
        size_t n;
        if (!mp_type(b, &lenbytes, &n, &container))
            return false;
        if (lenbytes) {
            if (len - pos < lenbytes)
                return false;
            n = (size_t)be_get(buf + pos, lenbytes);
            pos += lenbytes;
            if (!container && b >= 0xc7 && b <= 0xc9)
                n += 1; /* the ext type byte */
        }
        pending--;
        if (container) {
            /* A map has two objects per entry. */
            if (n > (len - pos) / container || pending + n * container > len - pos)
                return false;
            pending += n * container;
        } else {
            if (n > len - pos)
                return false;
            pos += n;
        }
    }
    return pos == len;
}
