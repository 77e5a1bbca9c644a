/* The registration of each command file, for ctl_env.c; not for other files. */
#ifndef VG_CTL_INT_H
#define VG_CTL_INT_H

/* Private to core/ctl/: the build defines VG_CORE_MODULE_CTL for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_CTL
#error "ctl_int.h is private to core/ctl/; use ctl_env.h"
#endif

#include "ctl_env.h"

/* Registers n commands; stops at the first failure (-EEXIST, -ENOMEM).
 * The commands take their env as `arg`, read-only (a cast drops const). */
int vg__ctl_register_each(vg_ctl *ctl, const vg_ctl_cmd *cmds, size_t n);

int vg__ctl_core_register(const vg_ctl_env *env);      /* ctl_core.c */
int vg__ctl_events_register(const vg_ctl_env *env);    /* ctl_events.c */
int vg__ctl_rules_register(const vg_ctl_env *env);     /* ctl_rules.c */
int vg__ctl_workloads_register(const vg_ctl_env *env); /* ctl_workloads.c */

#endif
