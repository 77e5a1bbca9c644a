/* The watch list and path helpers; see fpath.h. */
#include "fpath.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The list. Globs cover the names the loader and libc have on
 * glibc (Debian and Red Hat layouts) and musl systems. */
const fp_entry fp_defaults[] = {
    {"/etc/passwd", FP_FILE},
    {"/etc/shadow", FP_FILE},
    {"/etc/group", FP_FILE},
    {"/etc/gshadow", FP_FILE},
    {"/etc/sudoers", FP_FILE},
    {"/etc/sudoers.d", FP_DIR},
    {"/etc/hosts", FP_FILE},
    {"/etc/resolv.conf", FP_FILE},
    {"/etc/ld.so.preload", FP_FILE},
    {"/etc/crontab", FP_FILE},
    {"/etc/cron.d", FP_DIR},
    {"/etc/cron.hourly", FP_DIR},
    {"/etc/cron.daily", FP_DIR},
    {"/etc/cron.weekly", FP_DIR},
    {"/etc/cron.monthly", FP_DIR},
    {"/var/spool/cron", FP_DIR},
    {"/var/spool/cron/crontabs", FP_DIR},
    {"/root/.ssh", FP_DIR},
    {"/home/*/.ssh", FP_DIR},
    {"/var/lib/dpkg/status", FP_FILE},
    {"/var/lib/rpm", FP_DIR},
    {"/lib/apk/db/installed", FP_FILE},
    {"/lib/ld-*.so*", FP_FILE},
    {"/lib64/ld-*.so*", FP_FILE},
    {"/lib/*-linux-gnu/libc.so.6", FP_FILE},
    {"/usr/lib/*-linux-gnu/libc.so.6", FP_FILE},
    {"/lib64/libc.so.6", FP_FILE},
    {"/usr/lib64/libc.so.6", FP_FILE},
    {"/bin", FP_BINDIR},
    {"/sbin", FP_BINDIR},
    {"/usr/bin", FP_BINDIR},
    {"/usr/sbin", FP_BINDIR},
    {"/usr/local/bin", FP_BINDIR},
    {"/usr/local/sbin", FP_BINDIR},
    {NULL, 0},
};

const char *fp_strip_root(const char *full, const char *root)
{
    if (!root || !root[0] || strcmp(root, "/") == 0)
        return full;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(full, root, n) != 0)
        return NULL;
    if (full[n] == '\0')
        return "/";
    return full[n] == '/' ? full + n : NULL;
}

int fp_split(const char *path, char *dir, size_t dsize, char *name, size_t nsize)
{
    if (!path || path[0] != '/')
        return -EINVAL;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *slash = path + len;
    while (slash > path && *(slash - 1) != '/')
        slash--;
    size_t nlen = (size_t)(path + len - slash);
    size_t dlen = (size_t)(slash - path);
    if (nlen == 0)
        return -EINVAL;
    if (dlen > 1)
        dlen--; /* the slash before the name, but not the root's */
    if (dlen + 1 > dsize || nlen + 1 > nsize)
        return -ENAMETOOLONG;
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    memcpy(name, slash, nlen);
    name[nlen] = '\0';
    return 0;
}

bool fp_plain(const char *path)
{
    if (!path || path[0] != '/' || strcmp(path, "/") == 0)
        return false;
    const char *p = path + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 && end) /* "//" */
            return false;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!end)
            break;
        p = end + 1;
    }
    return true;
}

int fp_each_item(const char *list, int (*cb)(void *arg, const char *item), void *arg)
{
    int count = 0;
    const char *p = list ? list : "";
    while (*p) {
        size_t n = strcspn(p, ":,");
        const char *s = p, *e = p + n;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        if (e > s) {
            char item[4096];
            if ((size_t)(e - s) >= sizeof(item))
                return -ENAMETOOLONG;
            memcpy(item, s, (size_t)(e - s));
            item[e - s] = '\0';
            int rc = cb(arg, item);
            if (rc < 0)
                return rc;
            count++;
        }
        p += n;
        if (*p)
            p++;
    }
    return count;
}
