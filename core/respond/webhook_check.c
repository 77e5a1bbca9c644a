/*
 * `vigild --check`: webhook endpoints on a host where libcurl cannot be
 * loaded would fail every delivery, and the daemon would only say so at
 * the first one, in its log. The check says so before the config goes
 * live. The check is a process of its own that exits at once, so loading
 * libcurl here costs the daemon nothing: the daemon itself still loads it
 * at its first delivery (lib/curl_load.h).
 */
#include <errno.h>
#include <stdio.h>

#include "webhook.h"
#include "curl_load.h"

/* How many endpoints cfg's "webhooks" setting has; 0 for none or when it
 * cannot be read (the config check reports that). */
static size_t count_endpoints(const vg_config *cfg)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t n = 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (vg_config_webhooks_pack(cfg, &pk) == 0 &&
        msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        n = up.data.via.map.size;
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

int vg_webhooks_check_curl(const vg_config *cfg, const char *soname, char *why, size_t whylen)
{
    if (count_endpoints(cfg) == 0)
        return 0;
    vg__curl_api api;
    char err[256];
    int rc = vg__curl_load(soname, &api, err, sizeof(err));
    if (rc < 0)
        snprintf(why, whylen, "webhooks are configured, but none can be delivered: %s", err);
    return rc;
}
