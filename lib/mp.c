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
    case MSGPACK_OBJECT_STR:
        snprintf(buf, size, "%.*s", (int)v->via.str.size, v->via.str.ptr);
        return 0;
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
