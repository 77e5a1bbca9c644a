/* A test plugin whose init fails: the daemon must log it, mark it failed,
 * never start or stop it, and run on. */
#include <errno.h>
#include <stdlib.h>
#include <vigil/plugin.h>

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    api->log(h, VG_LOG_ERR, "cannot work on this machine (test)");
    return -EIO;
}

static int start(void *priv)
{
    abort(); /* must never be called after a failed init */
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR,
    .abi_minor = VG_ABI_MINOR,
    .name = "initfail",
    .version = "0.0.1",
    .init = init,
    .start = start,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
