/*
 * Which workload of a shared network namespace owns a socket.
 *
 * In a namespace shared by workloads of different groups (containers
 * joined with --net=container: across services), a connection belongs to
 * the workload whose process holds the socket. The socket is found in the
 * namespace's socket tables (/proc/<pid>/net/tcp, tcp6, udp, udp6 of any
 * member: they list the whole namespace) by the flow's local and remote
 * ends, or, for a connection already gone, by the listening socket of its
 * local port; its inode is then looked for among the descriptors of each
 * member's processes (the pids of its cgroup, cgroup v2 or the v1 "pids"
 * hierarchy; the init process alone when neither is found).
 *
 * This reads /proc and is done once per flow, and only in such namespaces:
 * the containers of a Kubernetes pod share its group, and for them it would
 * change nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockown.h"

/* "0100007F:1F90" (the kernel's hex of the address words, then the port)
 * into addr (16 bytes) and port. */
static int parse_end(const char *s, int family, uint8_t *addr, uint16_t *port)
{
    size_t words = family == AF_INET ? 1 : 4;
    memset(addr, 0, 16);
    for (size_t i = 0; i < words; i++) {
        unsigned int w;
        if (sscanf(s + i * 8, "%8x", &w) != 1)
            return -EINVAL;
        memcpy(addr + i * 4, &w, 4); /* the kernel printed the word in host order */
    }
    const char *colon = strchr(s, ':');
    unsigned int p;
    if (!colon || sscanf(colon + 1, "%x", &p) != 1)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

static bool any_addr(const uint8_t *a)
{
    static const uint8_t zero[16];
    return memcmp(a, zero, 16) == 0;
}

/* The inode of the socket of the flow, from one table; 0 if none. */
static unsigned long find_inode(int pid, const char *table, int family, const net_sock_query *q)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, table);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    unsigned long exact = 0, listening = 0;
    size_t alen = family == AF_INET ? 4 : 16;
    while (!exact && fgets(line, sizeof(line), f)) {
        char local[64], remote[64];
        unsigned int st;
        unsigned long inode;
        if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &st,
                   &inode) != 4 ||
            !inode)
            continue;
        uint8_t la[16], ra[16];
        uint16_t lp, rp;
        if (parse_end(local, family, la, &lp) < 0 || parse_end(remote, family, ra, &rp) < 0 ||
            lp != q->lport)
            continue;
        bool local_ok = any_addr(la) || memcmp(la, q->laddr, alen) == 0;
        if (local_ok && rp == q->rport && memcmp(ra, q->raddr, alen) == 0)
            exact = inode;
        else if (local_ok && rp == 0 && any_addr(ra))
            listening = inode; /* a listener, or an unconnected UDP socket */
    }
    fclose(f);
    return exact ? exact : listening;
}

/* The pids of the cgroup of pid into out (malloc'ed); their number. */
static size_t cgroup_pids(int pid, int **out)
{
    char path[64], line[512], procs[640] = "";
    snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "0::", 3) && access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0)
            snprintf(procs, sizeof(procs), "/sys/fs/cgroup%.500s/cgroup.procs", line + 3);
        char *c = strstr(line, ":pids:");
        if (c)
            snprintf(procs, sizeof(procs), "/sys/fs/cgroup/pids%.500s/cgroup.procs", c + 6);
    }
    if (f)
        fclose(f);
    size_t n = 0, cap = 0;
    int *v = NULL;
    FILE *p = procs[0] ? fopen(procs, "re") : NULL;
    int one;
    while (p && fscanf(p, "%d", &one) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            int *nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        v[n++] = one;
    }
    if (p)
        fclose(p);
    if (!n) { /* no cgroup found: the init process alone */
        free(v);
        v = malloc(sizeof(*v));
        if (v)
            v[n++] = pid;
    }
    *out = v;
    return n;
}

static bool holds(int pid, const char *want)
{
    char path[64], link[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = '\0';
            found = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return found;
}

int net_sock_owner(const int *pids, size_t n, const net_sock_query *q)
{
    if (!n || (q->l4 != IPPROTO_TCP && q->l4 != IPPROTO_UDP))
        return -ENOENT;
    bool tcp = q->l4 == IPPROTO_TCP;
    unsigned long inode = 0;
    for (size_t i = 0; i < n && !inode; i++) { /* any member that is still there */
        if (q->family == AF_INET6) {
            inode = find_inode(pids[i], tcp ? "tcp6" : "udp6", AF_INET6, q);
            continue;
        }
        inode = find_inode(pids[i], tcp ? "tcp" : "udp", AF_INET, q);
        /* An IPv4 connection on a dual-stack socket is listed in the IPv6
         * table, with IPv4-mapped addresses (::ffff:a.b.c.d). */
        net_sock_query m = *q;
        memset(m.laddr, 0, 16);
        memset(m.raddr, 0, 16);
        m.laddr[10] = m.laddr[11] = m.raddr[10] = m.raddr[11] = 0xff;
        memcpy(m.laddr + 12, q->laddr, 4);
        memcpy(m.raddr + 12, q->raddr, 4);
        if (!inode)
            inode = find_inode(pids[i], tcp ? "tcp6" : "udp6", AF_INET6, &m);
    }
    if (!inode)
        return -ENOENT;
    char want[48];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    for (size_t i = 0; i < n; i++) {
        int *procs;
        size_t np = cgroup_pids(pids[i], &procs);
        bool mine = false;
        for (size_t k = 0; k < np && !mine; k++)
            mine = holds(procs[k], want);
        free(procs);
        if (mine)
            return (int)i;
    }
    return -ENOENT;
}
