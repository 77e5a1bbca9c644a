/*
 * Kubernetes Secret manifests. Their `data:` values are base64, which no
 * rule can see through, so each value of a YAML document whose kind is
 * Secret is decoded and scanned again as the text "key: value" (the key
 * gives the generic password rules their context). Findings are reported
 * at the line and column of the encoded value, with kind "k8s-secret".
 *
 * This is a line-based reader of the block style kubectl and Helm write
 * (`data:` at the document's top level, one `key: value` per indented
 * line), not a YAML parser, and likewise for the "data" objects of JSON
 * manifests (kubectl get -o json); YAML flow style is only scanned as plain
 * text.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_int.h"

#define MAX_VALUE (1u << 20)

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (padding optional); -EINVAL on a foreign character. */
static int b64decode(const char *in, size_t len, char *out, size_t *outlen)
{
    unsigned acc = 0, bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=')
            break;
        int v = b64val((unsigned char)in[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    *outlen = n;
    return 0;
}

static size_t indent_of(const char *l, size_t len)
{
    size_t i = 0;
    while (i < len && l[i] == ' ')
        i++;
    return i;
}

static bool starts(const char *l, size_t len, const char *p)
{
    size_t pl = strlen(p);
    return len >= pl && !memcmp(l, p, pl);
}

/* Scans one `key: value` line of a data block. */
/* Decodes one data value and scans it as "key: value", reported at
 * (line_no, col) of the encoded value. */
static int decode_scan(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *key, size_t klen,
                       const char *v, size_t vlen, unsigned line_no, unsigned col)
{
    if (!vlen || vlen > MAX_VALUE || klen > 256)
        return 0;
    char *text = malloc(klen + 2 + vlen);
    if (!text)
        return -ENOMEM;
    memcpy(text, key, klen);
    memcpy(text + klen, ": ", 2);
    size_t dl = 0;
    int rc = b64decode(v, vlen, text + klen + 2, &dl);
    if (rc == 0) {
        vg__sec_ctx c = *ctx;
        c.kind = VG_SEC_KIND_K8S;
        c.fixed_line = line_no;
        c.fixed_col = col;
        uint64_t files = s->st.files, bin = s->st.skipped_binary;
        rc = vg__sec_scan_content(s, &c, text, klen + 2 + dl);
        /* The decoded value is not another file, and binary values
         * (certificates in DER) are expected. */
        s->st.files = files;
        s->st.skipped_binary = bin;
    }
    free(text);
    return rc == -EINVAL ? 0 : rc;
}

/* One `key: value` line of a YAML data block. */
static int data_line(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *l, size_t len,
                     unsigned line_no)
{
    size_t ind = indent_of(l, len);
    const char *colon = memchr(l + ind, ':', len - ind);
    if (!colon)
        return 0;
    size_t klen = (size_t)(colon - (l + ind));
    const char *v = colon + 1, *end = l + len;
    while (v < end && (*v == ' ' || *v == '"' || *v == '\''))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '"' || end[-1] == '\'' || end[-1] == '\r'))
        end--;
    return decode_scan(s, ctx, l + ind, klen, v, (size_t)(end - v), line_no, (unsigned)(v - l) + 1);
}

/* A JSON string starting at p (on the opening quote): its contents, without
 * escapes (keys and base64 need none). NULL when it is not one. */
static const char *json_str(const char *p, const char *end, size_t *len)
{
    if (p >= end || *p != '"')
        return NULL;
    const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
    if (!q || memchr(p + 1, '\\', (size_t)(q - p - 1)))
        return NULL;
    *len = (size_t)(q - p - 1);
    return p + 1;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ','))
        p++;
    return p;
}

/* Each "data": { "key": "base64", ... } object of a JSON manifest
 * (kubectl get -o json). */
static int scan_json(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    int rc = 0;
    while (rc == 0 && p < end && (p = memmem(p, (size_t)(end - p), "\"data\"", 6))) {
        p = skip_ws(p + 6, end);
        if (p >= end || *p != ':')
            continue;
        p = skip_ws(p + 1, end);
        if (p >= end || *p != '{')
            continue;
        for (p = skip_ws(p + 1, end); rc == 0 && p < end && *p == '"';) {
            size_t klen, vlen;
            const char *key = json_str(p, end, &klen);
            if (!key)
                break;
            p = skip_ws(key + klen + 1, end);
            if (p >= end || *p != ':')
                break;
            p = skip_ws(p + 1, end);
            const char *v = json_str(p, end, &vlen);
            if (!v)
                break;
            unsigned line = 1;
            const char *ls = buf;
            for (const char *c = buf; c < v; c++)
                if (*c == '\n') {
                    line++;
                    ls = c + 1;
                }
            rc = decode_scan(s, ctx, key, klen, v, vlen, line, (unsigned)(v - ls) + 1);
            p = skip_ws(v + vlen + 1, end);
        }
    }
    return rc;
}

/* Whether the document [p, end) is a Secret. */
static bool doc_is_secret(const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (starts(p, ll, "kind: Secret") || starts(p, ll, "kind: \"Secret\""))
            return true;
        p = nl ? nl + 1 : end;
    }
    return false;
}

/* A block scalar (`key: |`, `key: >-`...): the value is on the following
 * lines indented deeper than the key; base64 split over them is joined.
 * Returns where the block ends and scans the value. */
static const char *block_value(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *l,
                               size_t ind, size_t klen, const char *p, const char *end,
                               unsigned *line_no, int *rc)
{
    char *val = malloc(MAX_VALUE);
    size_t vl = 0;
    unsigned first = *line_no + 1, col = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t li = indent_of(p, ll);
        if (li < ll && li <= ind)
            break;
        if (!col && li < ll)
            col = (unsigned)li + 1;
        for (size_t i = li; val && i < ll && vl < MAX_VALUE; i++)
            if (p[i] != ' ' && p[i] != '\r')
                val[vl++] = p[i];
        (*line_no)++;
        p = nl ? nl + 1 : end;
    }
    if (!val)
        *rc = -ENOMEM;
    else if (vl < MAX_VALUE)
        *rc = decode_scan(s, ctx, l + ind, klen, val, vl, first, col ? col : 1);
    free(val);
    return p;
}

/* `key: |`, `key: >`, with an optional chomping indicator. */
static bool is_block_start(const char *l, size_t len, size_t *ind, size_t *klen)
{
    *ind = indent_of(l, len);
    const char *colon = memchr(l + *ind, ':', len - *ind);
    if (!colon)
        return false;
    *klen = (size_t)(colon - (l + *ind));
    const char *v = colon + 1, *e = l + len;
    while (v < e && *v == ' ')
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\r'))
        e--;
    return e > v && (*v == '|' || *v == '>') && e - v <= 2 && (e - v == 1 || strchr("+-", v[1]));
}

static int doc_data(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *p, const char *end,
                    unsigned line_no)
{
    bool in_data = false;
    int rc = 0;
    for (; p < end && rc == 0; line_no++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p), ind, klen;
        if (ll && p[0] != ' ' && p[0] != '#') {
            in_data = starts(p, ll, "data:") && indent_of(p + 5, ll - 5) == ll - 5;
        } else if (in_data && ll && is_block_start(p, ll, &ind, &klen)) {
            p = block_value(s, ctx, p, ind, klen, nl ? nl + 1 : end, end, &line_no, &rc);
            continue;
        } else if (in_data && ll) {
            rc = data_line(s, ctx, p, ll, line_no);
        }
        p = nl ? nl + 1 : end;
    }
    return rc;
}

/* Splits buf into YAML documents at "---" lines; decodes the data of those
 * of kind Secret. */
int vg__sec_scan_k8s(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *doc = buf;
    unsigned line_no = 1, doc_line = 1;
    int rc = 0;
    while (rc == 0) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        size_t ll = p < end ? (nl ? (size_t)(nl - p) : (size_t)(end - p)) : 0;
        bool sep = p < end && starts(p, ll, "---");
        if (p >= end || sep) {
            if (doc_is_secret(doc, p))
                rc = doc_data(s, ctx, doc, p, doc_line);
            if (p >= end)
                break;
            doc = nl ? nl + 1 : end;
            doc_line = line_no + 1;
        }
        p = nl ? nl + 1 : end;
        line_no++;
    }
    return rc;
}

/* A file: its bytes, then the decoded values of a Secret manifest. */
int vg__sec_scan_file_content(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf,
                              size_t len)
{
    int rc = vg__sec_scan_content(s, ctx, buf, len);
    if (rc < 0 || vg__sec_is_binary(buf, len))
        return rc;
    const char *dot = strrchr(ctx->path, '.');
    if (dot && !strcmp(dot, ".json") && (memmem(buf, len, "\"Secret\"", 8)))
        return scan_json(s, ctx, buf, len);
    if (!dot || (strcmp(dot, ".yaml") && strcmp(dot, ".yml")))
        return 0;
    if (!memmem(buf, len, "kind: Secret", 12) && !memmem(buf, len, "kind: \"Secret\"", 14))
        return 0;
    return vg__sec_scan_k8s(s, ctx, buf, len);
}
