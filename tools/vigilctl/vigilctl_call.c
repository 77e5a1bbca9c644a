/*
 * vigilctl call NAME [KEY=VALUE]...: a control command by name, for the
 * commands that plugins add (vg_host_api.register_command), which vigilctl
 * has no row of its own for. The args map has each KEY with its VALUE as a
 * string; the result is printed as one line of JSON, whatever --json says,
 * since vigilctl knows nothing of its shape.
 */
#include <stdio.h>
#include <string.h>

#include "vigilctl.h"

static int pack_args(int argc, char **argv, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (uint32_t)argc);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "vigilctl call: '%s' is not KEY=VALUE\n", argv[i]);
            return VCTL_USAGE;
        }
        msgpack_pack_str_with_body(&pk, argv[i], (size_t)(eq - argv[i]));
        msgpack_pack_str_with_body(&pk, eq + 1, strlen(eq + 1));
    }
    return VCTL_OK;
}

int vctl_cmd_call(vctl_ctx *c, int argc, char **argv)
{
    int rest;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, &rest);
    if (rc >= 0)
        return rc;
    if (rest >= argc) {
        fputs("usage: vigilctl call NAME [KEY=VALUE]...\n", stderr);
        return VCTL_USAGE;
    }
    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    rc = pack_args(argc - rest - 1, argv + rest + 1, &args);
    vctl_reply r;
    if (rc == VCTL_OK)
        rc = vctl_call(c, argv[rest], &args, &r, NULL);
    msgpack_sbuffer_destroy(&args);
    if (rc != VCTL_OK)
        return rc;
    vctl_print_json(r.result);
    vctl_reply_free(&r);
    return VCTL_OK;
}
