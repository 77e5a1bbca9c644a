/*
 * Internals of the CIS check engine shared between its files.
 */
#ifndef VG_CIS_INT_H
#define VG_CIS_INT_H

#include <lua.h>
#include <stddef.h>
#include <sys/types.h>

#include "cis.h"

/* What the Lua-callable functions see (the sandbox's user pointer). */
typedef struct cis_env {
    int rootfd; /* O_PATH descriptor of the root; owned by the engine */
    const cis_opts *opts;
} cis_env;

/* fsroot.c: opens `path` (absolute or relative, always taken as under the
 * root) so that neither "..", nor an absolute symlink, nor a magic link can
 * leave the root (openat2 RESOLVE_IN_ROOT). Returns an fd or a negative
 * errno. `flags` as for open(2); O_CLOEXEC is added. */
int cis_open(int rootfd, const char *path, int flags);
/* Opens the root directory itself: an O_PATH fd or a negative errno. */
int cis_open_root(const char *root);
/* Reads at most `max` bytes of the file into a malloc()ed buffer (NUL
 * terminated, *len without it). 0 or a negative errno. */
int cis_read(int rootfd, const char *path, size_t max, char **out, size_t *len);
/* The same for a path named by the user (a manifest), not under the root. */
int cis_read_path(const char *path, size_t max, char **out, size_t *len);
/* Reads exactly n bytes at offset off (pread, EINTR retried): 0, -EIO at
 * the file's end, or a negative errno. */
int cis_read_at(int fd, void *buf, size_t n, off_t off);

/* api.c: installs the global `cis` table of C functions. Raises on
 * memory errors (call under pcall). */
void cis_open_api(lua_State *L);

/* decode.c: pushes the JSON text as a Lua value (null becomes nil); on a
 * parse error pushes nil and a message and returns 2, else returns 1. */
int cis_push_json(lua_State *L, const char *buf, size_t len);
/* Pushes a jansson value (json_t *; void * keeps jansson out of this
 * header). Raises on memory errors. */
struct json_t;
void cis_push_jvalue(lua_State *L, const struct json_t *v);
/* Pushes an array of the YAML documents in buf, or nil and a message. */
int cis_push_yaml(lua_State *L, const char *buf, size_t len);

/* image.c: pushes a table describing a `docker save` tarball (manifest,
 * config, and every file of every layer with its mode), or nil and a
 * message. */
int cis_push_image(lua_State *L, const char *path);

/* api_bolt.c: pushes the bbolt database at `path` under the root as nested
 * tables (one per bucket, pairs as strings), or nil and a message. Raises
 * on memory errors. */
int cis_push_bolt(lua_State *L, int rootfd, const char *path);

#endif
