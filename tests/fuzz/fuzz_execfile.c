/*
 * Fuzzes the proc plugin's reading of an executable's head (execfile_parse):
 * the first bytes of any file a container runs, attacker's choice. The
 * result must be one of the kinds, with a NUL-terminated interpreter name
 * that is empty unless a script or a dynamic ELF program names one, and
 * the parse must never read outside the buffer (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes: ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    execfile ef;
    execfile_parse(buf, size, &ef);
    if (ef.kind < EXECFILE_OTHER || ef.kind > EXECFILE_SCRIPT)
        abort();
    if (memchr(ef.interp, '\0', sizeof(ef.interp)) == NULL)
        abort();
    if (ef.interp[0] && !execfile_wants_interp(&ef))
        abort();
    (void)execfile_is_loader(&ef, "/lib64/ld-linux-x86-64.so.2");
    free(buf);
    return 0;
}
