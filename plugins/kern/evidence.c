/* Evidence about a process from /proc (see evidence.h). */
#include "evidence.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ev_cmdline(const char *proc_root, pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        snprintf(buf, size, "?");
        return;
    }
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
}

static void program(const char *proc_root, pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "%s/%d/exe", proc_root, (int)pid);
    ssize_t n = readlink(path, buf, size - 1);
    if (n <= 0)
        snprintf(buf, size, "?");
    else
        buf[n] = '\0';
}

void ev_read(const vg_host_api *api, vg_host *h, const char *proc_root, pid_t pid, pid_t ppid,
             ev_proc *out)
{
    program(proc_root, pid, out->program, sizeof(out->program));
    ev_cmdline(proc_root, pid, out->cmdline, sizeof(out->cmdline));
    memset(&out->wv, 0, sizeof(out->wv));
    /* An exited process's cgroup reads as the root one (the host): ask
     * about its parent first then. */
    bool gone = strcmp(out->program, "?") == 0;
    pid_t first = gone && ppid > 0 ? ppid : pid, second = first == pid ? ppid : pid;
    out->known = api->workload_of_pid(h, first, &out->wv) == 0 ||
                 (second > 0 && api->workload_of_pid(h, second, &out->wv) == 0);
    if (!out->known)
        memset(&out->wv, 0, sizeof(out->wv));
}
