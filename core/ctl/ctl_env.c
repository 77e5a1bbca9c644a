/* Registers the core's control commands on one environment; see ctl_env.h. */
#include "ctl_int.h"

int vg__ctl_register_each(vg_ctl *ctl, const vg_ctl_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = vg_ctl_register(ctl, &cmds[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int vg_ctl_env_register(const vg_ctl_env *env)
{
    int (*const files[])(const vg_ctl_env *) = {vg__ctl_core_register, vg__ctl_workloads_register,
                                                vg__ctl_rules_register, vg__ctl_events_register};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int rc = files[i](env);
        if (rc < 0)
            return rc;
    }
    return 0;
}
