/*
 * The bookkeeping of a captured namespace on the loop thread: the list the
 * plugin keeps, and the workloads that share the namespace (its members),
 * with their groups and init processes. The first member owns the events
 * of the namespace (conns.c); when it leaves, the capture thread is told.
 * Members are written under the namespace's mutex, which the capture thread
 * takes to read them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture_int.h"

net_ns *net_ns_next(net_ns *ns)
{
    return ns->next;
}
void net_ns_set_next(net_ns *ns, net_ns *next)
{
    ns->next = next;
}
bool net_ns_is(const net_ns *ns, uint64_t dev, uint64_t ino)
{
    return ns->dev == dev && ns->ino == ino;
}
const char *net_ns_workload(const net_ns *ns)
{
    return ns->members[0];
}

bool net_ns_member_has(const net_ns *ns, const char *workload)
{
    for (size_t i = 0; i < ns->nmembers; i++)
        if (strcmp(ns->members[i], workload) == 0)
            return true;
    return false;
}

int net_ns_member_add(net_ns *ns, const char *workload, const char *group, int pid)
{
    size_t i = 0;
    while (i < ns->nmembers && strcmp(ns->members[i], workload) != 0)
        i++;
    if (i == NET_MEMBERS_MAX)
        return -ENOSPC;
    if (i < ns->nmembers && ns->member_pids[i] == pid && !strcmp(ns->member_groups[i], group))
        return 0; /* as it was: every sync passes every workload */
    pthread_mutex_lock(&ns->mu);
    snprintf(ns->members[i], VG_WORKLOAD_MAX, "%s", workload);
    snprintf(ns->member_groups[i], VG_GROUP_MAX, "%s", group);
    ns->member_pids[i] = pid;
    if (i == ns->nmembers)
        ns->nmembers++;
    pthread_mutex_unlock(&ns->mu);
    net_ns_members_changed(ns);
    return 0;
}

size_t net_ns_members(const net_ns *ns, const char **ids, size_t max)
{
    size_t n = 0;
    for (; n < ns->nmembers && n < max; n++)
        ids[n] = ns->members[n];
    return n;
}

static bool in(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

static int set_owner(net_ctx *cx, void *arg)
{
    (void)arg;
    net_conns_owner(cx->conns, cx->ns->members[0], cx->ns->group);
    net_threats_apply(cx->p, cx->eng, cx->ns->group);
    cx->next_rescan = 0; /* the address table under the new owner */
    return 0;
}

size_t net_ns_members_keep(net_ns *ns, const char *const *ids, size_t n)
{
    char first[VG_WORKLOAD_MAX];
    snprintf(first, sizeof(first), "%s", ns->members[0]);
    pthread_mutex_lock(&ns->mu);
    size_t k = 0, before = ns->nmembers;
    for (size_t i = 0; i < ns->nmembers; i++) {
        if (!in(ids, n, ns->members[i]))
            continue;
        memmove(ns->members[k], ns->members[i], VG_WORKLOAD_MAX);
        memmove(ns->member_groups[k], ns->member_groups[i], VG_GROUP_MAX);
        ns->member_pids[k++] = ns->member_pids[i];
    }
    ns->nmembers = k;
    pthread_mutex_unlock(&ns->mu);
    if (k && strcmp(first, ns->members[0]) != 0)
        net_ns_call(ns, set_owner, NULL, 1000);
    else if (k && k != before)
        net_ns_members_changed(ns);
    return k;
}

/* The group of the namespace's events (loop thread; the members' group). */
void net_ns_set_group(net_ns *ns, const char *group)
{
    if (strcmp(ns->group, group) == 0)
        return;
    pthread_mutex_lock(&ns->mu);
    snprintf(ns->group, sizeof(ns->group), "%s", group);
    pthread_mutex_unlock(&ns->mu);
    net_ns_call(ns, set_owner, NULL, 1000);
}
