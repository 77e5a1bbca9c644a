/*
 * vigilctl quarantine WORKLOAD on|off: the net plugin's "quarantine"
 * command (plugins/net/protect.c). On, every packet in and out of the
 * workload is dropped in the kernel until off; the daemon keeps the state
 * across restarts.
 */
#include <stdio.h>
#include <string.h>

#include "mp.h"
#include "vigilctl.h"

int vctl_cmd_quarantine(vctl_ctx *c, int argc, char **argv)
{
    int rest = 0;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, &rest);
    if (rc >= 0)
        return rc;
    if (argc - rest != 2 || (strcmp(argv[rest + 1], "on") && strcmp(argv[rest + 1], "off"))) {
        fprintf(stderr, "usage: vigilctl quarantine WORKLOAD on|off [--json]\n");
        return VCTL_USAGE;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    vg_mp_pack_kv_str(&pk, "workload", argv[rest]);
    msgpack_pack_str_with_body(&pk, "on", 2);
    if (!strcmp(argv[rest + 1], "on"))
        msgpack_pack_true(&pk);
    else
        msgpack_pack_false(&pk);
    vctl_reply r;
    rc = vctl_call(c, "quarantine", &sb, &r, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != VCTL_OK)
        return rc;
    if (r.result->type != MSGPACK_OBJECT_MAP) {
        vctl_reply_free(&r);
        return vctl_bad_result("quarantine", "a map");
    }
    if (c->json) {
        vctl_print_json(r.result);
    } else {
        const msgpack_object *q = vg_mp_get(r.result, "quarantined");
        bool on = q && q->type == MSGPACK_OBJECT_BOOLEAN && q->via.boolean;
        printf("%s: %s\n", argv[rest],
               on ? "quarantined (every packet in and out is dropped)" : "released");
    }
    vctl_reply_free(&r);
    return VCTL_OK;
}
