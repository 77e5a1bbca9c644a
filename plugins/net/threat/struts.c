/*
 * struts-rce (CVE-2017-5638, S2-045): Jakarta's multipart parser evaluated
 * an OGNL expression written in Content-Type. Benign content types never
 * hold "%{" or "${" followed by OGNL's marks (#name, @class@member).
 */
#include <string.h>
#include <strings.h>

#include "threat.h"

int vg_struts_ognl(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((v[i] != '%' && v[i] != '$') || v[i + 1] != '{')
            continue;
        const uint8_t *rest = v + i + 2;
        size_t rn = n - i - 2;
        if (memchr(rest, '#', rn) || memchr(rest, '@', rn))
            return 1;
        for (size_t j = 0; j + 4 <= rn; j++)
            if (!strncasecmp((const char *)rest + j, "ognl", 4))
                return 1;
    }
    return 0;
}
