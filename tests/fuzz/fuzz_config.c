/*
 * Fuzzes the config loader (vg_config_load): arbitrary text run in the
 * config's sandbox and every setting's checks. It must load or refuse with
 * diagnostics; never crash, hang past the sandbox's limits, or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/vg-fuzz-config-%d.lua", (int)getpid());
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    vg_config *cfg = NULL;
    vg_diag diag = {0};
    if (vg_config_load(path, &cfg, &diag) == 0)
        vg_config_free(cfg);
    else if (diag.n == 0)
        abort(); /* a refusal always says why */
    vg_diag_free(&diag);
    unlink(path);
    return 0;
}
