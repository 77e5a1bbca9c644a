/*
 * Fuzzes the text detectors of plugins/net/threat/: the SQL injection
 * tokenizer (as a parameter value and as a whole query), URL decoding and
 * the OGNL check of Content-Type. Input: any bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "threat/threat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    char dec[512];
    if (!s)
        return 0;
    memcpy(s, data, size);
    int r = vg_sqli(s, size, 0) + vg_sqli(s, size, 1) + vg_struts_ognl(data, size);
    size_t n = vg_url_decode(data, size, dec, sizeof(dec));
    r += vg_sqli(dec, n, 0);
    free(s);
    return r & 0;
}
