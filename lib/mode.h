/* The names of a group's modes (enum vg_mode of the plugin ABI), as the
 * config, the policies, the store and vigilctl spell them. */
#ifndef VG_MODE_H
#define VG_MODE_H

#include <vigil/plugin.h>

const char *vg_mode_name(int mode);  /* "learn", "monitor", "protect"; "unknown" otherwise */
int vg_mode_parse(const char *name); /* a mode, or -EINVAL */

#endif
