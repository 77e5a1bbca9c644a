/* Mode names; see mode.h. */
#include "mode.h"

#include <errno.h>
#include <string.h>

const char *vg_mode_name(int mode)
{
    static const char *const names[] = {"learn", "monitor", "protect"};
    return mode >= VG_MODE_LEARN && mode <= VG_MODE_PROTECT ? names[mode] : "unknown";
}

int vg_mode_parse(const char *name)
{
    for (int m = VG_MODE_LEARN; name && m <= VG_MODE_PROTECT; m++)
        if (strcmp(name, vg_mode_name(m)) == 0)
            return m;
    return -EINVAL;
}
