/*
 * The `cis` Lua namespace: the only way a check sees the system. Every
 * path is resolved under the run's root (fsroot.c); the manifests and the
 * image named on the command line are the only files read from outside it.
 * Functions return nil and a message on failure, as io.open does, so that
 * a check can tell "missing" from "unreadable" and say which in evidence.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cis_int.h"
#include "log.h"
#include "sandbox.h"

/* Bounds what one call may pull into the state: logs and journals can be
 * gigabytes, and no check needs more than their head. */
#define READ_MAX_DEFAULT (1u << 20)
#define READ_MAX_LIMIT (16u << 20)
#define MANIFEST_MAX (8u << 20)
#define LIST_MAX 100000

static cis_env *env_of(lua_State *L)
{
    return vg_sandbox_of(L)->user;
}

static int fail(lua_State *L, const char *path, int err)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(-err));
    return 2;
}

/* cis.read(path [, max]) -> text | nil, message */
static int l_read(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, READ_MAX_DEFAULT);
    if (max <= 0 || max > READ_MAX_LIMIT)
        max = READ_MAX_LIMIT;
    char *buf = NULL;
    size_t len = 0;
    int rc = cis_read(env_of(L)->rootfd, path, (size_t)max, &buf, &len);
    if (rc < 0)
        return fail(L, path, rc);
    lua_pushlstring(L, buf, len);
    free(buf);
    return 1;
}

static const char *type_name(mode_t m)
{
    return S_ISREG(m)    ? "file"
           : S_ISDIR(m)  ? "dir"
           : S_ISLNK(m)  ? "link"
           : S_ISSOCK(m) ? "socket"
           : S_ISFIFO(m) ? "fifo"
           : S_ISCHR(m)  ? "char"
           : S_ISBLK(m)  ? "block"
                         : "other";
}

/* cis.stat(path [, nofollow]) -> {type, mode, uid, gid, size} | nil, message */
static int l_stat(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int flags = O_PATH | (lua_toboolean(L, 2) ? O_NOFOLLOW : 0);
    int fd = cis_open(env_of(L)->rootfd, path, flags);
    if (fd < 0)
        return fail(L, path, fd);
    struct stat st;
    int rc = fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 ? -errno : 0;
    close(fd);
    if (rc < 0)
        return fail(L, path, rc);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, type_name(st.st_mode));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, st.st_mode & 07777);
    lua_setfield(L, -2, "mode");
    lua_pushinteger(L, st.st_uid);
    lua_setfield(L, -2, "uid");
    lua_pushinteger(L, st.st_gid);
    lua_setfield(L, -2, "gid");
    lua_pushinteger(L, st.st_size);
    lua_setfield(L, -2, "size");
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the names of dir (without . and ..), sorted so that reports are
 * stable across runs. */
static int collect(DIR *d, char ***names, size_t *n)
{
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) && *n < LIST_MAX) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(*names, cap * sizeof(*nv));
            if (!nv)
                return -ENOMEM;
            *names = nv;
        }
        if (!((*names)[*n] = strdup(de->d_name)))
            return -ENOMEM;
        (*n)++;
    }
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_str);
    return 0;
}

/* cis.list(dir) -> {names...} | nil, message */
static int l_list(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = cis_open(env_of(L)->rootfd, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return fail(L, path, fd);
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return fail(L, path, rc);
    }
    char **names = NULL;
    size_t n = 0;
    int rc = collect(d, &names, &n);
    closedir(d);
    /* Copies into Lua only after the C side is done, so that a memory
     * error raised by Lua cannot leak the names. */
    if (rc == 0 && lua_checkstack(L, 2))
        lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            lua_pushstring(L, names[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        free(names[i]);
    }
    free(names);
    return rc < 0 ? fail(L, path, rc) : 1;
}

/* cis.readlink(path) -> target | nil, message */
static int l_readlink(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = cis_open(env_of(L)->rootfd, path, O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return fail(L, path, fd);
    char buf[4096];
    ssize_t n = readlinkat(fd, "", buf, sizeof(buf) - 1);
    int rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc < 0)
        return fail(L, path, rc);
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* Splitting in C: the sandbox charges Lua patterns for their worst case,
 * which for a file of a few kilobytes split by "[^\n]+" is far past any
 * budget, while the work itself is linear. */

/* cis.split(s, sep) -> {fields...}: plain separator, empty fields kept. */
static int l_split(lua_State *L)
{
    size_t len, slen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *sep = luaL_checklstring(L, 2, &slen);
    luaL_argcheck(L, slen > 0, 2, "empty separator");
    lua_newtable(L);
    lua_Integer i = 1;
    const char *end = s + len;
    for (const char *p = s;;) {
        const char *q = memmem(p, (size_t)(end - p), sep, slen);
        lua_pushlstring(L, p, (size_t)((q ? q : end) - p));
        lua_rawseti(L, -2, i++);
        if (!q)
            break;
        p = q + slen;
    }
    return 1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* cis.words(s) -> {words...}: split at runs of white space. */
static int l_words(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_newtable(L);
    lua_Integer i = 1;
    for (size_t a = 0; a < len;) {
        while (a < len && is_space(s[a]))
            a++;
        size_t b = a;
        while (b < len && !is_space(s[b]))
            b++;
        if (b > a) {
            lua_pushlstring(L, s + a, b - a);
            lua_rawseti(L, -2, i++);
        }
        a = b;
    }
    return 1;
}

/* cis.lines(path [, max]) -> {lines...} without the newlines and without
 * empty lines | nil, message */
static int l_lines(lua_State *L)
{
    int n = l_read(L);
    if (n == 2)
        return 2;
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    lua_newtable(L);
    lua_Integer i = 1;
    for (const char *p = s, *end = s + len; p < end;) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        size_t l = (size_t)((q ? q : end) - p);
        if (l > 0 && p[l - 1] == '\r')
            l--;
        if (l > 0) {
            lua_pushlstring(L, p, l);
            lua_rawseti(L, -2, i++);
        }
        p = q ? q + 1 : end;
    }
    return 1;
}

static int l_json(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return cis_push_json(L, s, len);
}

static int l_yaml(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    return cis_push_yaml(L, s, len);
}

static void set_opt(lua_State *L, const char *k, const char *v)
{
    if (!v)
        return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

/* cis.options() -> {root, manifests, image, container} as given. */
static int l_options(lua_State *L)
{
    const cis_opts *o = env_of(L)->opts;
    lua_createtable(L, 0, 4);
    set_opt(L, "root", o->root ? o->root : "/");
    set_opt(L, "manifests", o->manifests);
    set_opt(L, "image", o->image);
    set_opt(L, "container", o->container);
    return 1;
}

/* Appends {file=, docs=} for one manifest file to the table on top. */
static void add_manifest(lua_State *L, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    /* Named by the user, so read as given, not under the root. */
    int rc = cis_read_path(path, MANIFEST_MAX, &buf, &len);
    if (rc < 0) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, path);
        lua_setfield(L, -2, "file");
        lua_pushstring(L, strerror(-rc));
        lua_setfield(L, -2, "error");
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        return;
    }
    /* Into Lua first, so that an error while parsing cannot leak it. */
    lua_pushlstring(L, buf, len);
    free(buf);
    const char *text = lua_tolstring(L, -1, &len);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "file");
    if (cis_push_yaml(L, text, len) == 2) {
        lua_setfield(L, -3, "error");
        lua_pop(L, 1);
    } else {
        lua_setfield(L, -2, "docs");
    }
    lua_remove(L, -2); /* the text */
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static bool is_manifest(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

/* cis.manifests() -> {{file=, docs={...}} or {file=, error=}...} */
static int l_manifests(lua_State *L)
{
    const char *path = env_of(L)->opts->manifests;
    lua_newtable(L);
    struct stat st;
    if (!path)
        return 1;
    if (stat(path, &st) < 0) {
        add_manifest(L, path); /* records the error */
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_manifest(L, path);
        return 1;
    }
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0;
    int rc = d ? collect(d, &names, &n) : -errno;
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++) {
        char full[4096];
        if (rc == 0 && is_manifest(names[i]) &&
            snprintf(full, sizeof(full), "%s/%s", path, names[i]) < (int)sizeof(full))
            add_manifest(L, full);
        free(names[i]);
    }
    free(names);
    return 1;
}

/* cis.bolt(path) -> {bucket = {key = value, bucket = {...}}} | nil, message */
static int l_bolt(lua_State *L)
{
    return cis_push_bolt(L, env_of(L)->rootfd, luaL_checkstring(L, 1));
}

static int l_image(lua_State *L)
{
    const char *path = env_of(L)->opts->image;
    if (!path) {
        lua_pushnil(L);
        lua_pushliteral(L, "no image given");
        return 2;
    }
    return cis_push_image(L, path);
}

/* __cis_warn_old(name, new): a check used an old name (lib.lua's
 * cis_compat); said once per name and run, with where it was used: level 2
 * is the check's code (level 1 is lib.lua's __index). */
static int l_warn_old(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *now = luaL_checkstring(L, 2);
    luaL_where(L, 2);
    vg_warn("%s%s is an old name of the CIS checks' API: use %s", lua_tostring(L, -1), name, now);
    return 0;
}

void cis_open_api(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"read", l_read},           {"stat", l_stat},
        {"list", l_list},           {"readlink", l_readlink},
        {"json", l_json},           {"yaml", l_yaml},
        {"split", l_split},         {"words", l_words},
        {"lines", l_lines},         {"options", l_options},
        {"manifests", l_manifests}, {"image", l_image},
        {"bolt", l_bolt},           {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_setglobal(L, "cis");
    lua_register(L, "__cis_warn_old", l_warn_old);
}
