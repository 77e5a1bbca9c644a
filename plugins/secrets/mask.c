/*
 * Presentation helpers: the masked form of a secret, its entropy, and the
 * names of severities and kinds. The mask keeps a few leading characters
 * so that a reader can tell which key it is (an "AKIA" or "ghp_" prefix)
 * without being able to use it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "secrets.h"

void vg_sec_mask(const char *secret, size_t len, char *out, size_t outlen)
{
    if (!outlen)
        return;
    size_t keep = len >= 24 ? 6 : len >= 12 ? 4 : len >= 8 ? 2 : 0;
    if (keep > outlen - 1)
        keep = outlen - 1;
    size_t n = 0;
    for (size_t i = 0; i < keep; i++)
        out[n++] = (secret[i] >= 0x20 && secret[i] < 0x7f) ? secret[i] : '?';
    for (int i = 0; i < 5 && n + 1 < outlen; i++)
        out[n++] = '*';
    out[n] = 0;
}

double vg_sec_entropy(const char *s, size_t len)
{
    if (!len)
        return 0;
    unsigned cnt[256] = {0};
    for (size_t i = 0; i < len; i++)
        cnt[(unsigned char)s[i]]++;
    double e = 0;
    for (int i = 0; i < 256; i++) {
        if (cnt[i]) {
            double p = (double)cnt[i] / (double)len;
            e -= p * log2(p);
        }
    }
    return e;
}

const char *vg_sec_severity_name(int severity)
{
    static const char *const names[] = {"low", "medium", "high", "critical"};
    return severity >= 0 && severity < 4 ? names[severity] : "unknown";
}

const char *vg_sec_kind_name(int kind)
{
    static const char *const names[] = {"file", "env", "k8s-secret"};
    return kind >= 0 && kind < 3 ? names[kind] : "unknown";
}

const char *vg_sec_context_name(int context)
{
    return context == VG_SEC_CTX_TEST ? "test" : context == VG_SEC_CTX_EXAMPLE ? "example" : "";
}
