/*
 * Fuzzes the TIME and DURATION arguments vigilctl takes (lib/timeparse.c):
 * "1h", "2026-12-07T10:00:00Z", "@1700000000", ... Any text parses or is
 * refused; a duration that parses is not negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    if (size >= sizeof(s))
        size = sizeof(s) - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t d = 0, t = 0;
    if (vg_duration_parse(s, &d) == 0 && d < 0)
        abort();
    vg_time_parse(s, 1700000000000000000LL, &t);
    return 0;
}
