/* A test plugin built for a future, incompatible ABI major: the daemon must
 * refuse it without calling anything in it. */
#include <stdlib.h>
#include <vigil/plugin.h>

static int init(const vg_host_api *api, vg_host *h, void **priv)
{
    abort(); /* must never be called */
}

static const vg_plugin_desc desc = {
    .abi_major = VG_ABI_MAJOR + 1,
    .abi_minor = 7,
    .name = "badabi",
    .version = "9.9.9",
    .init = init,
};

VG_EXPORT const vg_plugin_desc *vigil_plugin(void)
{
    return &desc;
}
