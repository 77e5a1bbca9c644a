/*
 * Fuzzes what the rules index reads from outside: a stored rule record
 * (vg_rule_unpack, as vg_rules_open reads the "rules" table) and a rule put
 * back into an index and matched. A record that unpacks must pack again,
 * unpack to the same rule, and be found by its own subject when it has no
 * wildcard; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const vg_rule *a)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (vg_rule_pack(a, &pk) != 0)
        abort();
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    vg_rule b;
    char err[256];
    if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) != MSGPACK_UNPACK_SUCCESS ||
        vg_rule_unpack(&up.data, &b, err, sizeof(err)) != 0 || memcmp(a, &b, sizeof(b)) != 0)
        abort();
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static void check_match(const vg_rule *a)
{
    vg_rules *r;
    if (vg_rules_open(NULL, &r) != 0)
        abort();
    if (vg_rules_put(r, a, false) != 0)
        abort();
    const char *f[VG_RULE_FIELDS_MAX];
    for (int i = 0; i < VG_RULE_FIELDS_MAX; i++)
        f[i] = a->fields[i];
    int action = -1;
    /* A concrete subject finds its rule; "*" fields match themselves too. */
    if (!vg_rules_match(r, a->group, a->plane, f, &action) || action != a->action)
        abort();
    vg_rules_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* msgpack-c allocates a declared array or map size up front (a 5-byte
     * "map of 4 billion" asks for 128 GiB); that is its behaviour, guarded
     * for untrusted input in ctl_proto.c, and no rule needs 16+ entries. */
    for (size_t i = 0; i < size; i++)
        if (data[i] >= 0xdc && data[i] <= 0xdf)
            return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, (const char *)data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        vg_rule rule;
        char err[256];
        if (vg_rule_unpack(&up.data, &rule, err, sizeof(err)) == 0) {
            check_roundtrip(&rule);
            check_match(&rule);
        } else if (!err[0]) {
            abort(); /* a refusal always says why */
        }
    }
    msgpack_unpacked_destroy(&up);
    return 0;
}
