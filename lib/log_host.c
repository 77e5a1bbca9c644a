/* Plugin code's log messages to the daemon's log; see log.h. */
#include "log.h"

/* One plugin's host: each .so links its own copy of lib/, so these are
 * per plugin. Set in init (loop thread) before the plugin starts threads. */
static const vg_host_api *host_api;
static vg_host *host;

static void to_host(void *arg, int level, const char *msg)
{
    (void)arg;
    host_api->log(host, level, "%s", msg);
}

void vg_log_to_host(const vg_host_api *api, vg_host *h)
{
    host_api = api;
    host = h;
    vg_log_set_sink(api ? to_host : NULL, NULL);
}
