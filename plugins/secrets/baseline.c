/*
 * Baselines, as detect-secrets has them: a team accepts the findings of
 * today (`vigil-scan secrets --write-baseline FILE`), keeps the file in
 * its repository, and later scans (`--baseline FILE`, or the plugin's
 * per-image baselines) report only findings that are not in it.
 *
 * A finding is known by its fingerprint: SHA-256 of rule, path and secret.
 * The line is left out so that edits above a secret do not make it new
 * again; the secret itself never enters the file.
 *
 * File: { "version": 1, "findings": [ { "fingerprint": HEX, "rule": ID,
 * "path": P, "line": N }, ... ] }; only the fingerprints are used, the rest
 * is there for the people who review the file.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

struct vg_sec_baseline {
    char (*fp)[VG_SEC_FINGERPRINT_LEN + 1]; /* sorted */
    size_t n;
};

void vg_sec_fingerprint(const vg_sec_finding *f, char out[VG_SEC_FINGERPRINT_LEN + 1])
{
    unsigned char md[32];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(c, f->rule->id, strlen(f->rule->id) + 1) &&
              EVP_DigestUpdate(c, f->path, strlen(f->path) + 1) &&
              EVP_DigestUpdate(c, f->secret, f->secret_len) && EVP_DigestFinal_ex(c, md, NULL);
    EVP_MD_CTX_free(c);
    if (!ok) {
        /* Cannot happen with a working libcrypto; an empty fingerprint
         * matches no baseline entry, so the finding is reported. */
        out[0] = 0;
        return;
    }
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int cmp_fp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool is_fingerprint(const char *s)
{
    if (strlen(s) != VG_SEC_FINGERPRINT_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return false;
    return true;
}

int vg_sec_baseline_load(const char *file, vg_sec_baseline **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_load_file(file, 0, &je);
    if (!doc) {
        FILE *f = fopen(file, "re");
        if (!f) {
            int e = errno;
            snprintf(err, errlen, "%s: %s", file, strerror(e));
            return -e;
        }
        fclose(f);
        snprintf(err, errlen, "%s:%d: %s", file, je.line, je.text);
        return -EINVAL;
    }
    json_t *items = json_object_get(doc, "findings");
    json_int_t version = json_integer_value(json_object_get(doc, "version"));
    if (!json_is_array(items) || version != 1) {
        snprintf(err, errlen, "%s: not a vigil secrets baseline (version 1, findings)", file);
        json_decref(doc);
        return -EINVAL;
    }
    vg_sec_baseline *b = calloc(1, sizeof(*b));
    size_t n = json_array_size(items);
    if (!b || (n && !(b->fp = calloc(n, sizeof(*b->fp))))) {
        free(b);
        json_decref(doc);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *fp =
            json_string_value(json_object_get(json_array_get(items, i), "fingerprint"));
        if (!fp || !is_fingerprint(fp)) {
            snprintf(err, errlen, "%s: finding %zu: no valid fingerprint", file, i + 1);
            vg_sec_baseline_free(b);
            json_decref(doc);
            return -EINVAL;
        }
        memcpy(b->fp[b->n++], fp, VG_SEC_FINGERPRINT_LEN + 1);
    }
    json_decref(doc);
    if (b->n)
        qsort(b->fp, b->n, sizeof(*b->fp), cmp_fp);
    *out = b;
    return 0;
}

void vg_sec_baseline_free(vg_sec_baseline *b)
{
    if (!b)
        return;
    free(b->fp);
    free(b);
}

size_t vg_sec_baseline_count(const vg_sec_baseline *b)
{
    return b ? b->n : 0;
}

bool vg_sec_baseline_has(const vg_sec_baseline *b, const char *fingerprint)
{
    return b && b->n && *fingerprint &&
           bsearch(fingerprint, b->fp, b->n, sizeof(*b->fp), cmp_fp) != NULL;
}
