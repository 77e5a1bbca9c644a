/*
 * Image tarballs: `docker save` (old layout: <id>/layer.tar, new layout and
 * OCI: blobs/sha256/<digest>) read with libarchive in one streaming pass.
 *
 * Every member of the outer tar that is itself an archive (tar, gzip or
 * zstd) is a layer: it is opened as a nested archive fed from the outer one,
 * and every file in it is scanned, so a secret that a later layer deletes
 * (a whiteout) is still found, because it is still in the image. Findings
 * of a layer are held back until the layer has been read to its end,
 * because only then is its SHA-256 known; the digest is that of the bytes
 * stored in the tarball, which is the layer's diff id for an uncompressed
 * layer.tar and the blob digest for an OCI blob. Other members (the image
 * config holds the Dockerfile's ENV lines) are scanned as plain files.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_int.h"

#define PEEK 512
#define CHUNK (64 * 1024)

/* A finding held back until its layer's digest is known. */
struct held {
    const vg_sec_rule_info *rule;
    int kind;
    char *path;
    unsigned line, column;
    char *secret;
    size_t secret_len;
    double entropy;
    int context, severity;
};

struct layer {
    vg_sec_scanner *s;
    struct archive *outer;
    EVP_MD_CTX *md;
    char peek[PEEK];
    size_t npeek, peek_off;
    char chunk[CHUNK];
    bool eof;
    bool cancelled; /* a scan limit stopped the layer's reading */
    struct held *held;
    size_t nheld;
    vg_sec_finding_cb cb; /* the scanner's own callback */
    void *arg;
};

static void hold(void *arg, const vg_sec_finding *f)
{
    struct layer *ly = arg;
    struct held *h = realloc(ly->held, (ly->nheld + 1) * sizeof(*h));
    if (!h)
        return;
    ly->held = h;
    h += ly->nheld;
    *h = (struct held){f->rule,       f->kind,    strdup(f->path),
                       f->line,       f->column,  malloc(f->secret_len ? f->secret_len : 1),
                       f->secret_len, f->entropy, f->context,
                       f->severity};
    if (!h->path || !h->secret) {
        free(h->path);
        free(h->secret);
        return;
    }
    memcpy(h->secret, f->secret, f->secret_len);
    ly->nheld++;
}

/* Reports the held findings (with the layer's digest, or none when the
 * layer was not read to its end), or only frees them. */
static void release(struct layer *ly, const char *digest, bool report)
{
    for (size_t i = 0; i < ly->nheld; i++) {
        struct held *h = &ly->held[i];
        vg_sec_finding f = {h->rule,   h->kind,       h->path,    digest,     h->line,    h->column,
                            h->secret, h->secret_len, h->entropy, h->context, h->severity};
        if (ly->cb && report)
            ly->cb(ly->arg, &f);
        /* Wipe the copy: it is a secret. */
        memset(h->secret, 0, h->secret_len);
        free(h->secret);
        free(h->path);
    }
    free(ly->held);
    ly->held = NULL;
    ly->nheld = 0;
}

/* The nested archive's read callback: the peeked bytes, then the rest of
 * the outer member, all of it hashed. */
static la_ssize_t layer_read(struct archive *a, void *arg, const void **buf)
{
    struct layer *ly = arg;
    if (ly->peek_off < ly->npeek) {
        *buf = ly->peek + ly->peek_off;
        size_t n = ly->npeek - ly->peek_off;
        ly->peek_off = ly->npeek;
        return (la_ssize_t)n;
    }
    if (ly->eof)
        return 0;
    /* A large member the nested archive skips is still read through here:
     * the deadline holds there too. */
    if (vg__sec_over_limit(ly->s)) {
        ly->cancelled = true;
        if (a)
            archive_set_error(a, ECANCELED, "scan limit reached");
        return -1;
    }
    la_ssize_t n = archive_read_data(ly->outer, ly->chunk, sizeof(ly->chunk));
    if (n < 0) {
        /* a is NULL when the rest of the member is only hashed (scan_layer). */
        if (a)
            archive_set_error(a, EIO, "outer archive: %s", archive_error_string(ly->outer));
        return -1;
    }
    if (n == 0)
        ly->eof = true;
    EVP_DigestUpdate(ly->md, ly->chunk, (size_t)n);
    *buf = ly->chunk;
    return n;
}

/* Reads the current entry of a into the scanner's buffer. */
static int read_entry(vg_sec_scanner *s, struct archive *a, struct archive_entry *e, size_t *len)
{
    int64_t size = archive_entry_size(e);
    if (size < 0 || (uint64_t)size > s->lim.max_file_bytes)
        return -EFBIG;
    if ((size_t)size + 1 > s->bufcap) {
        char *nb = realloc(s->buf, (size_t)size + 1);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->bufcap = (size_t)size + 1;
    }
    size_t n = 0;
    while (n < (size_t)size) {
        la_ssize_t r = archive_read_data(a, s->buf + n, (size_t)size - n);
        if (r < 0)
            return -EIO;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return 0;
}

/* The source of a large member: the entry's data, from an archive. */
static long archive_cb(void *arg, char *buf, size_t n)
{
    la_ssize_t r = archive_read_data(arg, buf, n);
    return r < 0 ? -EIO : (long)r;
}

static const char *clean_name(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while (*name == '/')
        name++;
    return name;
}

/* Scans the files of the nested archive a. */
static int scan_layer_files(vg_sec_scanner *s, struct archive *a)
{
    struct archive_entry *e;
    int rc = 0, ar;
    while (rc == 0 && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        const char *name = clean_name(archive_entry_pathname(e));
        const char *base = strrchr(name, '/');
        if (!strncmp(base ? base + 1 : name, ".wh.", 4))
            continue;
        int64_t size = archive_entry_size(e);
        if (size > (int64_t)VG__SEC_SEGMENT && (uint64_t)size <= s->lim.max_file_bytes) {
            vg__sec_ctx ctx = {.path = name, .kind = VG_SEC_KIND_FILE};
            rc = vg__sec_scan_stream(s, &ctx, archive_cb, a, NULL, 0);
            continue;
        }
        size_t len = 0;
        int r = read_entry(s, a, e, &len);
        if (r == -EFBIG) {
            s->st.skipped_large++;
            continue;
        }
        if (r < 0)
            return r;
        vg__sec_ctx ctx = {.path = name, .kind = VG_SEC_KIND_FILE};
        rc = vg__sec_scan_file_content(s, &ctx, s->buf, len);
    }
    if (rc == 0 && ar != ARCHIVE_EOF && ar != ARCHIVE_OK)
        rc = -EIO;
    return rc;
}

static void hex_digest(EVP_MD_CTX *md, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    int n = sprintf(out, "sha256:");
    for (unsigned i = 0; i < dl; i++)
        n += sprintf(out + n, "%02x", d[i]);
}

/* Scans the current outer member as a layer; ly->peek holds its start. */
static int scan_layer(struct layer *ly)
{
    vg_sec_scanner *s = ly->s;
    struct archive *a = archive_read_new();
    if (!a || !(ly->md = EVP_MD_CTX_new())) {
        archive_read_free(a);
        return -ENOMEM;
    }
    EVP_DigestInit_ex(ly->md, EVP_sha256(), NULL);
    EVP_DigestUpdate(ly->md, ly->peek, ly->npeek);
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    ly->cb = s->cb;
    ly->arg = s->arg;
    s->cb = hold;
    s->arg = ly;
    int rc = archive_read_open(a, ly, NULL, layer_read, NULL) == ARCHIVE_OK ? 0 : -EIO;
    if (rc == 0)
        rc = scan_layer_files(s, a);
    archive_read_free(a);
    s->cb = ly->cb;
    s->arg = ly->arg;
    const void *p;
    /* Hash what the nested archive did not need (tar end padding). */
    while (rc == 0 && !ly->eof && layer_read(NULL, ly, &p) > 0)
        ;
    if (ly->cancelled)
        rc = -ECANCELED;
    /* A layer cut short by a limit has no digest to name (its hash covers
     * part of it): its findings are reported without one. */
    char digest[80];
    hex_digest(ly->md, digest);
    release(ly, rc == 0 ? digest : NULL, rc == 0 || rc == -ECANCELED);
    EVP_MD_CTX_free(ly->md);
    ly->md = NULL;
    s->st.layers++;
    return rc;
}

static bool looks_archive(const char *p, size_t n)
{
    if (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b)
        return true;
    if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
        return true;
    return n >= 262 && !memcmp(p + 257, "ustar", 5);
}

/* Handles one member of the outer tar. */
static int outer_member(struct layer *ly, struct archive_entry *e)
{
    vg_sec_scanner *s = ly->s;
    la_ssize_t n = 0, r;
    while ((size_t)n < PEEK &&
           (r = archive_read_data(ly->outer, ly->peek + n, PEEK - (size_t)n)) > 0)
        n += r;
    ly->npeek = (size_t)n;
    ly->peek_off = 0;
    ly->eof = false;
    ly->cancelled = false;
    if (looks_archive(ly->peek, ly->npeek))
        return scan_layer(ly);
    /* A plain member: the peeked start, then the rest. */
    int64_t size = archive_entry_size(e);
    if (size < 0 || (uint64_t)size > s->lim.max_file_bytes) {
        s->st.skipped_large++;
        return 0;
    }
    vg__sec_ctx ctx = {.path = clean_name(archive_entry_pathname(e)), .kind = VG_SEC_KIND_FILE};
    if (size > (int64_t)VG__SEC_SEGMENT)
        return vg__sec_scan_stream(s, &ctx, archive_cb, ly->outer, ly->peek, ly->npeek);
    if ((size_t)size + 1 > s->bufcap) {
        char *nb = realloc(s->buf, (size_t)size + 1);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->bufcap = (size_t)size + 1;
    }
    memcpy(s->buf, ly->peek, ly->npeek);
    size_t len = ly->npeek;
    while (len < (size_t)size &&
           (r = archive_read_data(ly->outer, s->buf + len, (size_t)size - len)) > 0)
        len += (size_t)r;
    return vg__sec_scan_file_content(s, &ctx, s->buf, len);
}

int vg_sec_scan_image(vg_sec_scanner *s, const char *tarball)
{
    struct layer *ly = calloc(1, sizeof(*ly));
    struct archive *a = archive_read_new();
    if (!ly || !a) {
        free(ly);
        archive_read_free(a);
        return -ENOMEM;
    }
    ly->s = s;
    ly->outer = a;
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    int rc = archive_read_open_filename(a, tarball, CHUNK) == ARCHIVE_OK ? 0 : -EINVAL;
    struct archive_entry *e;
    int ar = ARCHIVE_OK;
    while (rc == 0 && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (vg__sec_over_limit(s))
            rc = -ECANCELED;
        else if (archive_entry_filetype(e) == AE_IFREG)
            rc = outer_member(ly, e);
    }
    if (rc == 0 && ar != ARCHIVE_EOF)
        rc = -EIO;
    archive_read_free(a);
    free(ly);
    return rc == -ECANCELED ? 0 : rc;
}
