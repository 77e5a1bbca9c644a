/*
 * The fields of a flow, kept in a small arena inside the flow as
 * "key\0value\0" pairs: no allocation, bounded (VG_FIELDS_MAX), a repeated
 * key+value pair stored once. Values are cut at VG_FIELD_VALUE_MAX and bytes
 * that are not printable ASCII become '.', so that a hostile packet cannot
 * put control characters into logs or JSON.
 */
#include <string.h>

#include "../net_int.h"

static int pair_present(const vg_flow *f, const char *key, const char *val, size_t vlen)
{
    for (size_t i = 0; i < f->flen;) {
        const char *k = f->fields + i;
        size_t kl = strlen(k);
        const char *v = k + kl + 1;
        size_t vl = strlen(v);
        if (!strcmp(k, key) && (!val || (vl == vlen && !memcmp(v, val, vl))))
            return 1;
        i += kl + vl + 2;
    }
    return 0;
}

int vg_field_has(const vg_flow *f, const char *key)
{
    return pair_present(f, key, NULL, 0);
}

void vg_field_add(vg_flow *f, const char *key, const uint8_t *val, size_t len)
{
    char clean[VG_FIELD_VALUE_MAX];
    if (len > sizeof(clean) - 1)
        len = sizeof(clean) - 1;
    for (size_t i = 0; i < len; i++)
        clean[i] = val[i] >= 0x20 && val[i] < 0x7f ? (char)val[i] : '.';
    clean[len] = 0;
    if (pair_present(f, key, clean, len))
        return;
    size_t kl = strlen(key);
    if (f->flen + kl + len + 2 > VG_FIELDS_MAX)
        return;
    memcpy(f->fields + f->flen, key, kl + 1);
    memcpy(f->fields + f->flen + kl + 1, clean, len + 1);
    f->flen = (uint16_t)(f->flen + kl + len + 2);
}

size_t vg_fields_view(const vg_flow *f, vg_net_kv *kv, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < f->flen && n < max; n++) {
        kv[n].key = f->fields + i;
        i += strlen(kv[n].key) + 1;
        kv[n].value = f->fields + i;
        i += strlen(kv[n].value) + 1;
    }
    return n;
}
