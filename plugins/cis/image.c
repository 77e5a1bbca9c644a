/*
 * An image as `docker save` writes it: an outer tar holding manifest.json,
 * the image config (USER, HEALTHCHECK, ENV, history) and one tar per layer.
 * Nothing is extracted: the layer tars are walked in place (pread at their
 * offsets inside the outer file), keeping only each entry's metadata, which
 * is what the CIS image checks need (setuid bits, files added then deleted).
 * Gzip-compressed layers (OCI layouts written by other tools) are walked
 * through zlib as a stream; a layer in another compression (zstd) or that
 * ends early is listed in `unread`, so that no check claims a PASS for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cis_int.h"

#define ENTRIES_MAX 200000
#define META_MAX (4u << 20)

typedef struct tar_entry {
    char *name;
    off_t off; /* of the data */
    off_t size;
    int mode, uid, gid;
    char type;
} tar_entry;

/* A walk reads either the file at offsets (pread) or a gzip stream, whose
 * offsets only grow: a read ahead of the stream skips to it. */
typedef struct tar_walk {
    int fd;
    gzFile gz;   /* NULL: read the file */
    off_t gzpos; /* where the stream is */
    off_t pos, end;
    char longname[4096];
    bool have_long;
} tar_walk;

/* A numeric field: octal, or GNU base-256 (a leading 0x80 byte) for values
 * that do not fit. -1 for a negative base-256 value or one above NUM_MAX
 * (no layer is a terabyte): a damaged or hostile header, which the walk
 * stops at instead of letting the value wrap around (a 12-byte base-256
 * size once overflowed the 64-bit shift). */
#define NUM_MAX ((long long)1 << 40)
static long long num(const unsigned char *p, size_t n)
{
    long long v = 0;
    if (p[0] & 0x80) {
        if (p[0] & 0x40)
            return -1;
        v = p[0] & 0x3f;
        for (size_t i = 1; i < n; i++) {
            if (v > NUM_MAX)
                return -1;
            v = (v << 8) | p[i];
        }
        return v > NUM_MAX ? -1 : v;
    }
    for (size_t i = 0; i < n && p[i]; i++)
        if (p[i] >= '0' && p[i] <= '7' && (v = v * 8 + (p[i] - '0')) > NUM_MAX)
            return -1;
    return v;
}

/* mode, uid, gid: -1 when unreadable, never a wrapped value. */
static int small_num(const unsigned char *p, size_t n)
{
    long long v = num(p, n);
    return v < 0 || v > INT_MAX ? -1 : (int)v;
}

static int w_read(tar_walk *w, void *buf, size_t n, off_t off)
{
    if (!w->gz)
        return cis_read_at(w->fd, buf, n, off);
    if (off < w->gzpos || n > INT_MAX)
        return -EINVAL;
    if (off > w->gzpos && gzseek(w->gz, (z_off_t)(off - w->gzpos), SEEK_CUR) < 0)
        return -EIO;
    w->gzpos = off;
    if (gzread(w->gz, buf, (unsigned)n) != (int)n)
        return -EIO;
    w->gzpos += (off_t)n;
    return 0;
}

/* The "path=" record of a PAX extended header, into w->longname. */
static void pax_path(tar_walk *w, off_t off, off_t size)
{
    if (size <= 0 || size > 65536)
        return;
    char *buf = malloc((size_t)size + 1);
    if (!buf || w_read(w, buf, (size_t)size, off) < 0) {
        free(buf);
        return;
    }
    buf[size] = '\0';
    for (char *p = buf; p < buf + size;) {
        char *sp = strchr(p, ' ');
        long len = strtol(p, NULL, 10);
        if (!sp || len <= 0 || len > buf + size - p)
            break;
        if (!strncmp(sp + 1, "path=", 5)) {
            size_t vlen = (size_t)(p + len - (sp + 6) - 1);
            if (vlen < sizeof(w->longname)) {
                memcpy(w->longname, sp + 6, vlen);
                w->longname[vlen] = '\0';
                w->have_long = true;
            }
        }
        p += len;
    }
    free(buf);
}

/* Next regular entry: 1 and *e filled, 0 at the end, negative errno. */
static int tar_next(tar_walk *w, tar_entry *e)
{
    unsigned char h[512];
    while (w->pos + 512 <= w->end) {
        int rc = w_read(w, h, 512, w->pos);
        if (rc < 0)
            return rc;
        if (!h[0])
            return 0; /* the zero blocks at the end */
        off_t size = (off_t)num(h + 124, 12);
        if (size < 0)
            return -EINVAL;
        off_t data = w->pos + 512;
        w->pos = data + ((size + 511) / 512) * 512;
        char type = (char)h[156];
        if (type == 'L' && size < (off_t)sizeof(w->longname)) {
            if (w_read(w, w->longname, (size_t)size, data) == 0) {
                w->longname[size] = '\0';
                w->have_long = true;
            }
            continue;
        }
        if (type == 'x') {
            pax_path(w, data, size);
            continue;
        }
        if (type == 'g' || type == 'K')
            continue;
        char name[260];
        if (w->have_long) {
            e->name = strdup(w->longname);
        } else {
            if (h[345] && !memcmp(h + 257, "ustar", 5))
                snprintf(name, sizeof(name), "%.155s/%.100s", (char *)h + 345, (char *)h);
            else
                snprintf(name, sizeof(name), "%.100s", (char *)h);
            e->name = strdup(name);
        }
        w->have_long = false;
        if (!e->name)
            return -ENOMEM;
        e->off = data, e->size = size, e->type = type ? type : '0';
        /* An unreadable mode is no mode (0), not every bit (setuid). */
        int mode = small_num(h + 100, 8);
        e->mode = mode < 0 ? 0 : mode;
        e->uid = small_num(h + 108, 8), e->gid = small_num(h + 116, 8);
        return 1;
    }
    return 0;
}

typedef struct image {
    int fd;
    tar_entry *outer;
    size_t nouter;
    json_t *manifest, *config;
    gzFile gz; /* the layer being walked, if compressed */
} image;

static void image_free(image *im)
{
    for (size_t i = 0; i < im->nouter; i++)
        free(im->outer[i].name);
    free(im->outer);
    json_decref(im->manifest);
    json_decref(im->config);
    if (im->gz)
        gzclose(im->gz);
    if (im->fd >= 0)
        close(im->fd);
}

static const tar_entry *find(const image *im, const char *name)
{
    if (!strncmp(name, "./", 2))
        name += 2;
    for (size_t i = 0; i < im->nouter; i++) {
        const char *n = im->outer[i].name;
        if (!strcmp(n, name) || (!strncmp(n, "./", 2) && !strcmp(n + 2, name)))
            return &im->outer[i];
    }
    return NULL;
}

static json_t *load_json(const image *im, const char *name)
{
    const tar_entry *e = find(im, name);
    if (!e || e->size > META_MAX)
        return NULL;
    char *buf = malloc((size_t)e->size + 1);
    json_t *v = NULL;
    if (buf && cis_read_at(im->fd, buf, (size_t)e->size, e->off) == 0)
        v = json_loadb(buf, (size_t)e->size, 0, NULL);
    free(buf);
    return v;
}

static int index_outer(image *im)
{
    struct stat st;
    if (fstat(im->fd, &st) < 0)
        return -errno;
    tar_walk w = {.fd = im->fd, .end = st.st_size};
    size_t cap = 0;
    tar_entry e;
    int rc;
    while (im->nouter < ENTRIES_MAX && (rc = tar_next(&w, &e)) == 1) {
        if (im->nouter == cap) {
            cap = cap ? cap * 2 : 32;
            tar_entry *nv = realloc(im->outer, cap * sizeof(*nv));
            if (!nv) {
                free(e.name);
                return -ENOMEM;
            }
            im->outer = nv;
        }
        im->outer[im->nouter++] = e;
    }
    return rc < 0 ? rc : 0;
}

static const char *type_name(char t)
{
    switch (t) {
    case '5':
        return "dir";
    case '2':
        return "symlink";
    case '1':
        return "hardlink";
    case '3':
        return "char";
    case '4':
        return "block";
    case '6':
        return "fifo";
    default:
        return "file";
    }
}

/* Walks one layer's tar into the files array on top of the stack; false
 * when it ended in an error rather than at its end. */
static bool walk_layer(lua_State *L, tar_walk *w, int li)
{
    tar_entry e;
    int rc = 0;
    for (long n = 0; n < ENTRIES_MAX && (rc = tar_next(w, &e)) == 1; n++) {
        const char *path = e.name;
        while (!strncmp(path, "./", 2))
            path += 2;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        bool wh = !strncmp(base, ".wh.", 4);
        /* A whiteout is named for the path it deletes. */
        char full[4200];
        if (wh)
            snprintf(full, sizeof(full), "/%.*s%s", (int)(base - path), path, base + 4);
        else
            snprintf(full, sizeof(full), "/%s", path);
        free(e.name);
        lua_createtable(L, 0, 8);
        lua_pushstring(L, full);
        lua_setfield(L, -2, "path");
        lua_pushinteger(L, e.mode & 07777);
        lua_setfield(L, -2, "mode");
        lua_pushinteger(L, e.uid);
        lua_setfield(L, -2, "uid");
        lua_pushinteger(L, e.gid);
        lua_setfield(L, -2, "gid");
        lua_pushinteger(L, e.size);
        lua_setfield(L, -2, "size");
        lua_pushstring(L, type_name(e.type));
        lua_setfield(L, -2, "type");
        lua_pushinteger(L, li);
        lua_setfield(L, -2, "layer");
        lua_pushboolean(L, wh);
        lua_setfield(L, -2, "whiteout");
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    return rc == 0 || rc == 1;
}

/* Appends the entries of layer `li` to the files array on top of the
 * stack. False when the layer could not be walked to its end (another
 * compression, or damaged): the checks must then not claim a PASS for it. */
static bool push_layer_files(lua_State *L, image *im, const tar_entry *layer, int li)
{
    unsigned char magic[2] = {0};
    tar_walk w = {.fd = im->fd, .pos = layer->off, .end = layer->off + layer->size};
    if (layer->size >= 2 && cis_read_at(im->fd, magic, 2, layer->off) == 0 && magic[0] == 0x1f &&
        magic[1] == 0x8b) {
        /* gzdopen reads from the descriptor's offset, and closes it. */
        int fd = dup(im->fd);
        if (fd < 0 || lseek(fd, layer->off, SEEK_SET) < 0 || !(w.gz = gzdopen(fd, "rb"))) {
            if (fd >= 0)
                close(fd);
            return false;
        }
        w.pos = 0, w.end = LLONG_MAX / 2;
        im->gz = w.gz; /* closed by image_free if Lua raises meanwhile */
    }
    bool ok = walk_layer(L, &w, li);
    if (w.gz)
        gzclose(w.gz);
    im->gz = NULL;
    return ok;
}

static int l_push_image(lua_State *L)
{
    image *im = lua_touserdata(L, 1);
    json_t *m0 = json_array_get(im->manifest, 0);
    json_t *layers = json_object_get(m0, "Layers");
    lua_createtable(L, 0, 4);
    cis_push_jvalue(L, im->config);
    lua_setfield(L, -2, "config");
    lua_newtable(L); /* unread: layers whose files are not in files */
    lua_newtable(L); /* files */
    lua_newtable(L); /* layers */
    for (size_t i = 0; i < json_array_size(layers); i++) {
        const char *ln = json_string_value(json_array_get(layers, i));
        const tar_entry *le = ln ? find(im, ln) : NULL;
        lua_pushstring(L, ln ? ln : "?");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        lua_pushvalue(L, -2);
        bool walked = le && push_layer_files(L, im, le, (int)i + 1);
        lua_pop(L, 1);
        if (!walked) {
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_rawseti(L, -4, (lua_Integer)lua_rawlen(L, -4) + 1);
        }
    }
    lua_setfield(L, -4, "layers");
    lua_setfield(L, -3, "files");
    lua_setfield(L, -2, "unread");
    json_t *tags = json_object_get(m0, "RepoTags");
    lua_newtable(L);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        lua_pushstring(L, json_string_value(json_array_get(tags, i)));
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "tags");
    return 1;
}

int cis_push_image(lua_State *L, const char *path)
{
    image im = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
    int rc = im.fd < 0 ? -errno : index_outer(&im);
    if (rc == 0 && !(im.manifest = load_json(&im, "manifest.json")))
        rc = -EINVAL;
    const char *cfg = json_string_value(json_object_get(json_array_get(im.manifest, 0), "Config"));
    if (rc == 0 && (!cfg || !(im.config = load_json(&im, cfg))))
        rc = -EINVAL;
    if (rc < 0) {
        image_free(&im);
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path,
                        rc == -EINVAL ? "not a docker save tarball (manifest.json, config)"
                                      : strerror(-rc));
        return 2;
    }
    lua_pushcfunction(L, l_push_image);
    lua_pushlightuserdata(L, &im);
    rc = lua_pcall(L, 1, 1, 0);
    image_free(&im);
    if (rc != LUA_OK)
        lua_error(L);
    return 1;
}
