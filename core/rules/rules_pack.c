/*
 * The names of planes, actions and origins, the check of a rule, and its
 * msgpack form; see rules.h. The index itself is rules.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mp.h"
#include "rules_int.h"

static const char *const plane_names[VG_PLANE_COUNT] = {"proc", "file", "net"};
static const char *const proc_fields[] = {"name", "path", "user", NULL};
static const char *const file_fields[] = {"path", "program", "access", NULL};
static const char *const net_fields[] = {"direction", "peer", "port", "proto", "app", NULL};
static const char *const *const plane_fields[VG_PLANE_COUNT] = {proc_fields, file_fields,
                                                                net_fields};
static const char *const origin_names[] = {"learned", "written", "imported"};
static const char *const action_names[] = {"allow", "deny"};

/* ---- names -------------------------------------------------------------- */

const char *vg_plane_name(int plane)
{
    return plane >= 0 && plane < VG_PLANE_COUNT ? plane_names[plane] : NULL;
}

int vg_plane_parse(const char *name)
{
    for (int i = 0; name && i < VG_PLANE_COUNT; i++)
        if (strcmp(name, plane_names[i]) == 0)
            return i;
    return -EINVAL;
}

const char *vg_rule_origin_name(int origin)
{
    return origin >= 0 && origin <= VG_RULE_IMPORTED ? origin_names[origin] : NULL;
}

const char *vg_rule_action_name(int action)
{
    return action >= 0 && action <= VG_RULE_DENY ? action_names[action] : NULL;
}

const char *const *vg_rule_field_names(int plane)
{
    return plane >= 0 && plane < VG_PLANE_COUNT ? plane_fields[plane] : NULL;
}

int vg__rule_nfields(int plane)
{
    int n = 0;
    while (plane_fields[plane][n])
        n++;
    return n;
}

static int name_index(const char *const *names, int count, const char *p, size_t len)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
            return i;
    return -1;
}

bool vg__rule_is_wild(const char *f)
{
    return f[0] == '\0' || (f[0] == '*' && f[1] == '\0');
}

/* ---- validation --------------------------------------------------------- */

int vg__rule_check(const vg_rule *r, char *err, size_t errlen)
{
    if (!vg_plane_name(r->plane))
        return snprintf(err, errlen, "unknown plane %d", r->plane), -EINVAL;
    if (!vg_rule_action_name(r->action))
        return snprintf(err, errlen, "unknown action %d", r->action), -EINVAL;
    if (!vg_rule_origin_name(r->origin))
        return snprintf(err, errlen, "unknown origin %d", r->origin), -EINVAL;
    if (!memchr(r->group, '\0', sizeof(r->group)) || !r->group[0])
        return snprintf(err, errlen, "a rule needs a group"), -EINVAL;
    const char *const *names = plane_fields[r->plane];
    for (int i = 0; names[i]; i++) {
        const char *f = r->fields[i];
        if (!memchr(f, '\0', VG_RULE_FIELD_MAX))
            return snprintf(err, errlen, "'%s' is too long", names[i]), -EINVAL;
        if (strchr(f, '\x1f'))
            return snprintf(err, errlen, "'%s' contains a \\x1f byte", names[i]), -EINVAL;
    }
    if (!memchr(r->comment, '\0', sizeof(r->comment)))
        return snprintf(err, errlen, "the comment is too long"), -EINVAL;
    return 0;
}

/* ---- pack / unpack ------------------------------------------------------ */

bool vg_rule_filter_match(const vg_rule_filter *f, const vg_rule *rule)
{
    return !f || ((f->origin < 0 || rule->origin == f->origin) &&
                  (!f->since_ns || rule->created_ns >= f->since_ns));
}

int vg_rule_pack(const vg_rule *rule, msgpack_packer *pk)
{
    return vg_rule_pack_warning(rule, NULL, pk);
}

int vg_rule_pack_warning(const vg_rule *rule, const char *warning, msgpack_packer *pk)
{
    const char *plane = vg_plane_name(rule->plane);
    if (!plane || !vg_rule_action_name(rule->action) || !vg_rule_origin_name(rule->origin))
        return -EINVAL;
    int nf = vg__rule_nfields(rule->plane);
    msgpack_pack_map(pk, (size_t)(6 + nf + (warning != NULL)));
    if (warning)
        vg_mp_pack_kv_str(pk, "warning", warning);
    vg_mp_pack_kv_str(pk, "group", rule->group);
    vg_mp_pack_kv_str(pk, "plane", plane);
    vg_mp_pack_kv_str(pk, "action", vg_rule_action_name(rule->action));
    vg_mp_pack_kv_str(pk, "origin", vg_rule_origin_name(rule->origin));
    vg_mp_pack_kv_int(pk, "created", rule->created_ns);
    for (int i = 0; i < nf; i++)
        vg_mp_pack_kv_str(pk, plane_fields[rule->plane][i],
                          vg__rule_is_wild(rule->fields[i]) ? "*" : rule->fields[i]);
    vg_mp_pack_kv_str(pk, "comment", rule->comment);
    return 0;
}

/* A string value into buf, with the key's name in the error. */
static int get_str(const msgpack_object *v, const char *key, char *buf, size_t size, char *err,
                   size_t errlen)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return snprintf(err, errlen, "'%s' must be a string", key), -EINVAL;
    if (v->via.str.size >= size)
        return snprintf(err, errlen, "'%s' is longer than %zu bytes", key, size - 1), -EINVAL;
    if (memchr(v->via.str.ptr, '\0', v->via.str.size))
        return snprintf(err, errlen, "'%s' contains a NUL byte", key), -EINVAL;
    memcpy(buf, v->via.str.ptr, v->via.str.size);
    buf[v->via.str.size] = '\0';
    return 0;
}

/* A value naming one of `names` (e.g. "allow"), into *out. */
static int get_enum(const msgpack_object *o, const char *key, const char *const *names, int n,
                    int *out, char *err, size_t errlen)
{
    const msgpack_object *v = vg_mp_get(o, key);
    if (!v)
        return snprintf(err, errlen, "'%s' is missing", key), -EINVAL;
    int i =
        v->type == MSGPACK_OBJECT_STR ? name_index(names, n, v->via.str.ptr, v->via.str.size) : -1;
    if (i < 0)
        return snprintf(err, errlen, "'%s' must be one of %s, %s%s%s", key, names[0], names[1],
                        n > 2 ? ", " : "", n > 2 ? names[2] : ""),
               -EINVAL;
    *out = i;
    return 0;
}

/* Reads one key-value pair other than the enums into rule. */
static int unpack_kv(const msgpack_object_kv *kv, vg_rule *rule, char *err, size_t errlen)
{
    if (kv->key.type != MSGPACK_OBJECT_STR)
        return snprintf(err, errlen, "a rule's keys must be strings"), -EINVAL;
    const char *k = kv->key.via.str.ptr;
    size_t kl = kv->key.via.str.size;
    char key[32];
    snprintf(key, sizeof(key), "%.*s", (int)(kl < 31 ? kl : 31), k);
    if (name_index((const char *const[]){"plane", "action", "origin"}, 3, k, kl) >= 0)
        return 0;
    if (vg_mp_streq(&kv->key, "group"))
        return get_str(&kv->val, "group", rule->group, sizeof(rule->group), err, errlen);
    if (vg_mp_streq(&kv->key, "comment"))
        return get_str(&kv->val, "comment", rule->comment, sizeof(rule->comment), err, errlen);
    if (vg_mp_streq(&kv->key, "created")) {
        if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
            kv->val.type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return snprintf(err, errlen, "'created' must be an integer"), -EINVAL;
        rule->created_ns = kv->val.via.i64;
        return 0;
    }
    int f = name_index(plane_fields[rule->plane], vg__rule_nfields(rule->plane), k, kl);
    if (f < 0)
        return snprintf(err, errlen, "unknown key '%s' for a %s rule", key,
                        plane_names[rule->plane]),
               -EINVAL;
    return get_str(&kv->val, key, rule->fields[f], VG_RULE_FIELD_MAX, err, errlen);
}

int vg_rule_unpack(const msgpack_object *o, vg_rule *rule, char *err, size_t errlen)
{
    memset(rule, 0, sizeof(*rule));
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return snprintf(err, errlen, "a rule must be a map"), -EINVAL;
    int rc = get_enum(o, "plane", plane_names, VG_PLANE_COUNT, &rule->plane, err, errlen);
    if (rc == 0)
        rc = get_enum(o, "action", action_names, 2, &rule->action, err, errlen);
    if (rc == 0)
        rc = get_enum(o, "origin", origin_names, 3, &rule->origin, err, errlen);
    if (rc < 0)
        return rc;
    if (o->via.map.size > (uint32_t)(6 + vg__rule_nfields(rule->plane)))
        return snprintf(err, errlen, "too many keys for a %s rule", plane_names[rule->plane]),
               -EINVAL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        /* A key given twice would make "which one counts" a question. */
        for (uint32_t j = 0; j < i; j++)
            if (msgpack_object_equal(o->via.map.ptr[i].key, o->via.map.ptr[j].key))
                return snprintf(err, errlen, "a key is given twice"), -EINVAL;
        if ((rc = unpack_kv(&o->via.map.ptr[i], rule, err, errlen)) < 0)
            return rc;
    }
    for (int i = 0; i < vg__rule_nfields(rule->plane); i++)
        if (vg__rule_is_wild(rule->fields[i]))
            strcpy(rule->fields[i], "*");
    return vg__rule_check(rule, err, errlen);
}
