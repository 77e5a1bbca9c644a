/* Reading a process's details from /proc; see procinfo.h. */
#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads a small /proc file whole; returns its length or a negative errno. */
static ssize_t slurp(const char *root, pid_t pid, const char *file, char *buf, size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    buf[n] = '\0';
    return n;
}

static void read_link(const char *root, pid_t pid, const char *file, char *buf, size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, file);
    ssize_t n = readlink(path, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static int read_status(const char *root, pid_t pid, procinfo *pi)
{
    char buf[4096];
    ssize_t n = slurp(root, pid, "status", buf, sizeof(buf));
    if (n < 0)
        return -ESRCH;
    for (char *line = buf; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        unsigned a, b;
        if (sscanf(line, "PPid: %u", &a) == 1)
            pi->ppid = (pid_t)a;
        else if (sscanf(line, "Uid: %u %u", &a, &b) == 2)
            pi->uid = a, pi->euid = b;
        else if (sscanf(line, "Gid: %u %u", &a, &b) == 2)
            pi->gid = a, pi->egid = b;
    }
    return 0;
}

int64_t procinfo_read_suid(const char *proc_root, pid_t pid, uid_t ruid, uid_t euid)
{
    char buf[4096];
    if (slurp(proc_root, pid, "status", buf, sizeof(buf)) < 0)
        return -1;
    const char *line = strstr(buf, "\nUid:");
    unsigned r, e, s;
    if (!line || sscanf(line + 1, "Uid: %u %u %u", &r, &e, &s) != 3 || r != ruid || e != euid)
        return -1;
    return s;
}

void procinfo_set_args(procinfo *pi, const char *args, size_t len)
{
    if (len >= sizeof(pi->cmdline))
        len = sizeof(pi->cmdline) - 1;
    memcpy(pi->cmdline, args, len);
    pi->cmdline[len] = '\0';
    ssize_t n = (ssize_t)len;
    /* The name is argv[0]'s last component: what a multi-call binary
     * (busybox) goes by to choose its applet, and what a shell passes.
     * comm would say "exe" for busybox's sh running an applet through
     * /proc/self/exe. */
    if (pi->cmdline[0]) {
        const char *slash = strrchr(pi->cmdline, '/');
        const char *base = slash ? slash + 1 : pi->cmdline;
        size_t blen = strnlen(base, sizeof(pi->name) - 1);
        memcpy(pi->name, base, blen);
        pi->name[blen] = '\0';
    }
    for (ssize_t i = 0; i < n; i++)
        if (pi->cmdline[i] == '\0')
            pi->cmdline[i] = ' ';
    while (n > 0 && pi->cmdline[n - 1] == ' ')
        pi->cmdline[--n] = '\0';
}

static void read_cmdline(const char *root, pid_t pid, procinfo *pi)
{
    char buf[sizeof(pi->cmdline)];
    ssize_t n = slurp(root, pid, "cmdline", buf, sizeof(buf));
    if (n <= 0) {
        pi->cmdline[0] = '\0';
        return;
    }
    procinfo_set_args(pi, buf, (size_t)n);
}

/* The unified hierarchy's line ("0::/path") names the container on cgroup
 * v2 hosts; on v1 hosts (no such line) the first controller's line does. */
void procinfo_read_cgroup(const char *root, pid_t pid, procinfo *pi)
{
    char buf[4096];
    pi->cgroup[0] = '\0';
    if (slurp(root, pid, "cgroup", buf, sizeof(buf)) <= 0)
        return;
    const char *chosen = NULL;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        char *path = colon ? strchr(colon + 1, ':') : NULL;
        if (!path)
            continue;
        if (strncmp(line, "0::", 3) == 0) {
            chosen = path + 1;
            break;
        }
        if (!chosen)
            chosen = path + 1;
    }
    if (chosen)
        snprintf(pi->cgroup, sizeof(pi->cgroup), "%s", chosen);
}

/* Whether socket inode `ino` is in one of the process's TCP/UDP tables:
 * the slow answer, when the socket itself cannot be borrowed. */
static bool inode_in_net_tables(const char *root, pid_t pid, unsigned long ino)
{
    static const char *const tables[] = {"net/tcp", "net/tcp6", "net/udp", "net/udp6"};
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        char path[128], line[512];
        snprintf(path, sizeof(path), "%s/%d/%s", root, (int)pid, tables[t]);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
            unsigned long inode;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &inode) == 1 &&
                inode == ino) {
                fclose(f);
                return true;
            }
        }
        if (f)
            fclose(f);
    }
    return false;
}

/* A network (TCP/UDP) socket on `fd` of the process: the mark of a reverse
 * shell. A unix socket is not one: services under systemd have their
 * stdout on journald's socket. The socket is borrowed with pidfd_getfd to
 * ask its domain; without that, the process's socket tables are read. */
static bool fd_is_net_socket(const char *root, pid_t pid, int fd)
{
    char file[16], target[64];
    snprintf(file, sizeof(file), "fd/%d", fd);
    read_link(root, pid, file, target, sizeof(target));
    unsigned long ino;
    if (sscanf(target, "socket:[%lu]", &ino) != 1)
        return false;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int sock = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0) : -1;
    if (pidfd >= 0)
        close(pidfd);
    if (sock < 0)
        return inode_in_net_tables(root, pid, ino);
    int domain = 0;
    socklen_t len = sizeof(domain);
    int rc = getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    close(sock);
    return rc == 0 && (domain == AF_INET || domain == AF_INET6);
}

int procinfo_read(const char *root, pid_t pid, procinfo *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->pid = pid;
    pi->parent_euid = -1;
    if (read_status(root, pid, pi) < 0)
        return -ESRCH;
    if (slurp(root, pid, "comm", pi->name, sizeof(pi->name)) > 0)
        pi->name[strcspn(pi->name, "\n")] = '\0';
    procinfo_read_exe(root, pid, pi);
    read_cmdline(root, pid, pi); /* argv[0] for the name, comm if none */
    procinfo_read_cgroup(root, pid, pi);
    procinfo_read_stdio(root, pid, pi);
    return 0;
}

void procinfo_read_exe(const char *root, pid_t pid, procinfo *pi)
{
    read_link(root, pid, "exe", pi->path, sizeof(pi->path));
    /* A program is never a directory: "/" is a file that is the root of a
     * mount outside the daemon's namespace, which d_path can name no
     * better. runc 1.1 runs `runc init` from such a file (a read-only bind
     * mount of its own binary, detached, against CVE-2019-5736). Not a
     * path to learn: unknown. */
    if (strcmp(pi->path, "/") == 0)
        pi->path[0] = '\0';
}

void procinfo_read_stdio(const char *root, pid_t pid, procinfo *pi)
{
    pi->stdio_socket = fd_is_net_socket(root, pid, 0) || fd_is_net_socket(root, pid, 1);
}
