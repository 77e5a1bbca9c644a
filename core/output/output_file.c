/*
 * JSON lines: one event per line, the same object `vigilctl events --json`
 * prints, to a file ("file") or to the daemon's standard output ("stdout",
 * for `make run` and containers, whose runtime collects stdout).
 *
 * The file is opened for appending (created 0640) and reopened on SIGUSR1
 * and on reload, so that logrotate can move it away and signal: the lines
 * after the signal go to the new file. A file whose directory is missing
 * is an error at start-up; a reopen that fails keeps the old descriptor
 * and logs why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mp.h"
#include "output_int.h"

typedef struct file_out {
    char *path; /* NULL: stdout */
    int fd;
} file_out;

static int open_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    return fd < 0 ? -errno : fd;
}

static int file_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    file_out *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    char path[4096];
    if (vg_mp_get_cstr(settings, "path", path, sizeof(path)) < 0 || !(f->path = strdup(path))) {
        free(f);
        return snprintf(err, errlen, "no usable path"), -EINVAL;
    }
    f->fd = open_path(f->path);
    if (f->fd < 0) {
        int rc = f->fd;
        snprintf(err, errlen, "cannot open %s: %s", f->path, strerror(-rc));
        free(f->path);
        free(f);
        return rc;
    }
    *priv = f;
    return 0;
}

static int stdout_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    file_out *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->fd = STDOUT_FILENO;
    *priv = f;
    return 0;
}

/* One line in one write(2) where it fits, so that lines from an O_APPEND
 * file are never interleaved with another writer's. */
static int file_write(void *priv, const msgpack_object *ev, const char *json, size_t len)
{
    file_out *f = priv;
    size_t off = 0, total = len + 1;
    while (off < total) {
        ssize_t n = write(f->fd, json + off, total - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        off += (size_t)n;
    }
    return 0;
}

static void file_reopen(void *priv)
{
    file_out *f = priv;
    if (!f->path)
        return;
    int fd = open_path(f->path);
    if (fd < 0) {
        vg_err("output file %s: cannot reopen (%s); writing on to the old file", f->path,
               strerror(-fd));
        return;
    }
    close(f->fd);
    f->fd = fd;
}

static void file_close(void *priv)
{
    file_out *f = priv;
    if (f->path)
        close(f->fd);
    free(f->path);
    free(f);
}

const vg_output_kind vg__output_file = {
    .name = "file",
    .open = file_open,
    .write = file_write,
    .reopen = file_reopen,
    .close = file_close,
};

const vg_output_kind vg__output_stdout = {
    .name = "stdout",
    .open = stdout_open,
    .write = file_write,
    .close = file_close,
};
