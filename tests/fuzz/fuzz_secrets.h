/*
 * Helpers of the fuzz targets that drive the secret scanner: bytes as a
 * file (a memfd, named by its /proc/self/fd path) and a rule set loaded
 * from Lua text, without the compiled-rules cache.
 */
#ifndef FUZZ_SECRETS_H
#define FUZZ_SECRETS_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secrets.h"

/* A memfd holding data; its path in path. The fd, or -1. */
static inline int fuzz_memfd(const void *data, size_t len, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

/* The rules of the Lua text lua; aborts on an error (the target's own). */
static inline vg_sec_rules *fuzz_sec_rules(const char *lua, size_t len, const char *who)
{
    char path[64], err[256];
    vg_sec_rules *rs = NULL;
    setenv("VIGIL_SECRETS_CACHE", "", 1); /* no cache files from fuzzing */
    int fd = fuzz_memfd(lua, len, path, sizeof(path));
    const char *files[] = {path};
    if (fd < 0 || vg_sec_rules_load(files, 1, &rs, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: rules: %s\n", who, fd < 0 ? "memfd" : err);
        abort();
    }
    close(fd);
    return rs;
}

#endif
