/* Finding and syntax-checking policy files; see policy_files.h. */
#include "policy_files.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"

static int is_lua_file(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0;
}

/* Policies decide for a root daemon: a file or directory that anyone but
 * root could have written is refused (lib/trust.h). */
static int check_trusted(const char *path, vg_diag *diag)
{
    char why[300];
    int rc = vg_path_trusted(path, why, sizeof(why));
    if (rc < 0)
        vg_diag_add(diag, "%s: refused: %s", path, why);
    return rc;
}

static int append(char ***files, size_t *n, const char *dir, const char *name, vg_diag *diag)
{
    char **v = realloc(*files, (*n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    *files = v;
    if (asprintf(&v[*n], "%s/%s", dir, name) < 0)
        return -ENOMEM;
    (*n)++;
    return check_trusted(v[*n - 1], diag);
}

static int list_dir(const char *dir, char ***files, size_t *n, vg_diag *diag)
{
    struct dirent **names;
    int count = scandir(dir, &names, is_lua_file, alphasort);
    if (count < 0) {
        if (errno == ENOENT)
            return 0;
        int err = errno;
        vg_diag_add(diag, "%s: cannot read policy directory: %s", dir, strerror(err));
        return -err;
    }
    int rc = check_trusted(dir, diag);
    for (int i = 0; i < count; i++) {
        if (rc == 0)
            rc = append(files, n, dir, names[i]->d_name, diag);
        free(names[i]);
    }
    free(names);
    return rc;
}

int vg_policy_files(char *const *dirs, char ***files, size_t *n, vg_diag *diag)
{
    *files = NULL;
    *n = 0;
    int rc = 0;
    for (size_t i = 0; dirs && dirs[i] && rc == 0; i++)
        rc = list_dir(dirs[i], files, n, diag);
    if (rc < 0) {
        vg_policy_files_free(*files, *n);
        *files = NULL;
        *n = 0;
    }
    return rc;
}

void vg_policy_files_free(char **files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

int vg_policy_files_check(char *const *dirs, vg_diag *diag)
{
    char **files;
    size_t n;
    int rc = vg_policy_files(dirs, &files, &n, diag);
    if (rc < 0)
        return -EINVAL;
    lua_State *L = luaL_newstate();
    if (!L) {
        vg_policy_files_free(files, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        /* Mode "t": precompiled chunks are refused, as the engine will. */
        if (luaL_loadfilex(L, files[i], "t") != LUA_OK) {
            vg_diag_add(diag, "%s", lua_tostring(L, -1));
            rc = -EINVAL;
        }
        lua_settop(L, 0);
    }
    lua_close(L);
    vg_policy_files_free(files, n);
    return rc;
}
