/* Ownership and mode checks of loaded files; see trust.h. */
#include "trust.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uid_t extra_owner = (uid_t)-1;

int vg_trust_set_owner(const char *user)
{
    char *end;
    unsigned long n = strtoul(user, &end, 10);
    if (*user && !*end) {
        extra_owner = (uid_t)n;
        return 0;
    }
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return -ENOENT;
    extra_owner = pw->pw_uid;
    return 0;
}

/* One path component: 0, or -EPERM with why. */
static int check_one(const char *p, char *err, size_t errlen)
{
    struct stat st;
    if (stat(p, &st) < 0) {
        int rc = -errno;
        snprintf(err, errlen, "%s: %s", p, strerror(-rc));
        return rc;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != extra_owner) {
        snprintf(err, errlen, "%s is owned by uid %u, not by root", p, (unsigned)st.st_uid);
        return -EPERM;
    }
    bool sticky_root_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && st.st_uid == 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_root_dir) {
        snprintf(err, errlen, "%s is writable by group or others (mode %04o)", p,
                 (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

int vg_path_trusted(const char *path, char *err, size_t errlen)
{
    char *real = realpath(path, NULL);
    if (!real) {
        int rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    /* The file, then each directory up to "/". */
    int rc = check_one(real, err, errlen);
    for (char *slash = strrchr(real, '/'); rc == 0 && slash; slash = strrchr(real, '/')) {
        if (slash == real) {
            rc = check_one("/", err, errlen);
            break;
        }
        *slash = '\0';
        rc = check_one(real, err, errlen);
    }
    free(real);
    return rc;
}
