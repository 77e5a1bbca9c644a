/*
 * cis.bolt(path): a bbolt database under the root (containerd's metadata
 * store) as nested Lua tables, one per bucket, its pairs as strings. The
 * file and the walker's scratch live in Lua userdata, so that a memory
 * error raised while the tables are built (the sandbox's limit) leaks
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bolt.h"
#include "cis_int.h"

/* containerd's meta.db is a few MiB on a busy node. */
#define BOLT_FILE_MAX (64u << 20)
#define BOLT_ENTRIES_MAX 1000000

typedef struct builder {
    lua_State *L;
    size_t entries;
} builder;

static int count(builder *b)
{
    return ++b->entries > BOLT_ENTRIES_MAX ? -E2BIG : 0;
}

static int enter(void *ud, const unsigned char *key, size_t klen)
{
    builder *b = ud;
    luaL_checkstack(b->L, 2, "bucket nesting");
    lua_pushlstring(b->L, (const char *)key, klen);
    lua_newtable(b->L);
    return count(b);
}

static int leave(void *ud)
{
    builder *b = ud;
    lua_rawset(b->L, -3);
    return 0;
}

static int pair(void *ud, const unsigned char *key, size_t klen, const unsigned char *val,
                size_t vlen)
{
    builder *b = ud;
    lua_pushlstring(b->L, (const char *)key, klen);
    lua_pushlstring(b->L, (const char *)val, vlen);
    lua_rawset(b->L, -3);
    return count(b);
}

static int push_error(lua_State *L, const char *path, const char *msg)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, msg);
    return 2;
}

int cis_push_bolt(lua_State *L, int rootfd, const char *path)
{
    int fd = cis_open(rootfd, path, O_RDONLY);
    if (fd < 0)
        return push_error(L, path, strerror(-fd));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (size_t)st.st_size > BOLT_FILE_MAX) {
        close(fd);
        return push_error(L, path, "not a regular file of at most 64 MiB");
    }
    size_t len = (size_t)st.st_size;
    unsigned char *db = lua_newuserdatauv(L, len, 0);
    int rc = cis_read_at(fd, db, len, 0);
    close(fd);
    if (rc < 0)
        return push_error(L, path, strerror(-rc));
    unsigned char *scratch = lua_newuserdatauv(L, cis_bolt_scratch_size(len), 0);
    lua_newtable(L);
    builder b = {.L = L};
    cis_bolt_visitor v = {.enter = enter, .leave = leave, .pair = pair, .ud = &b};
    char err[160] = "";
    rc = cis_bolt_walk(db, len, scratch, &v, err, sizeof(err));
    if (rc == -E2BIG)
        return push_error(L, path, "more than a million entries");
    if (rc != 0)
        return push_error(L, path, err[0] ? err : strerror(-rc));
    return 1;
}
