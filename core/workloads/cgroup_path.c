/* Container identity from cgroup paths; see cgroup_path.h. */
#include "cgroup_path.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define ID_LEN 64

/* The path of the line whose controller list is `want` ("" for v2). */
static bool line_path(const char *content, const char *want, const char **p, size_t *len)
{
    size_t wl = strlen(want);
    for (const char *line = content; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (c2 && (size_t)(c2 - c1 - 1) == wl && strncmp(c1 + 1, want, wl) == 0) {
            *p = c2 + 1;
            *len = (size_t)(end - c2 - 1);
            return true;
        }
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

/* The first well-formed line's path, whatever its controllers. */
static bool first_path(const char *content, const char **p, size_t *len)
{
    const char *nl = strchr(content, '\n');
    const char *end = nl ? nl : content + strlen(content);
    const char *c1 = memchr(content, ':', (size_t)(end - content));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (!c2)
        return false;
    *p = c2 + 1;
    *len = (size_t)(end - c2 - 1);
    return true;
}

int vg_cgroup_key(const char *content, char *path, size_t size)
{
    static const char *const v1[] = {"name=systemd", "pids", "memory", "cpu", NULL};
    const char *p = NULL;
    size_t len = 0;
    bool found = line_path(content, "", &p, &len) && !(len == 1 && p[0] == '/');
    for (size_t i = 0; !found && v1[i]; i++)
        found = line_path(content, v1[i], &p, &len);
    if (!found && !first_path(content, &p, &len))
        return -EINVAL;
    if (len == 0 || p[0] != '/')
        return -EINVAL;
    if (len >= size)
        return -ENAMETOOLONG;
    memcpy(path, p, len);
    path[len] = '\0';
    return 0;
}

static bool is_hex_id(const char *s, size_t len)
{
    if (len != ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Matches "<prefix><id><suffix>" exactly, copying the id. */
static bool match(const char *comp, size_t len, const char *prefix, const char *suffix, char *id,
                  size_t size)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    if (len != pl + ID_LEN + sl || strncmp(comp, prefix, pl) != 0 ||
        strncmp(comp + len - sl, suffix, sl) != 0 || !is_hex_id(comp + pl, ID_LEN))
        return false;
    snprintf(id, size, "%.*s", ID_LEN, comp + pl);
    return true;
}

/* Whether the component before `comp` (in path) equals name, or starts
 * with it when prefix is set. */
static bool parent_is(const char *path, const char *comp, const char *name, bool prefix)
{
    if (comp - path < 2)
        return false;
    const char *end = comp - 1, *start = end;
    while (start > path && start[-1] != '/')
        start--;
    size_t len = (size_t)(end - start), nl = strlen(name);
    return prefix ? len >= nl && strncmp(start, name, nl) == 0
                  : len == nl && strncmp(start, name, nl) == 0;
}

int vg_cgroup_classify(const char *path, char *id, size_t size)
{
    const char *comp = strrchr(path, '/');
    comp = comp ? comp + 1 : path;
    size_t len = strlen(comp);
    if (match(comp, len, "docker-", ".scope", id, size))
        return VG_RT_DOCKER;
    if (match(comp, len, "cri-containerd-", ".scope", id, size))
        return VG_RT_CONTAINERD;
    if (match(comp, len, "crio-", ".scope", id, size) || match(comp, len, "crio-", "", id, size))
        return VG_RT_CRIO;
    if (match(comp, len, "libpod-", ".scope", id, size) ||
        match(comp, len, "libpod-", "", id, size))
        return VG_RT_PODMAN;
    if (match(comp, len, "", "", id, size)) {
        if (parent_is(path, comp, "docker", false))
            return VG_RT_DOCKER;
        if (parent_is(path, comp, "pod", true) && strstr(path, "kubepods"))
            return VG_RT_CONTAINERD;
    }
    return VG_RT_HOST;
}
