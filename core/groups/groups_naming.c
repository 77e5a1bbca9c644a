/*
 * Service group names (see groups.h). Kubernetes does not record a pod's
 * owner in the container runtime's state, but its controllers name pods in
 * fixed ways, and those are stripped here:
 *
 *   deployment   <name>-<pod-template-hash>-<5 chars>   web-7d9f8b6c5d-x2k4q
 *   daemonset    <name>-<5 chars>                        fluentd-x2k4q
 *   job          <name>-<5 chars>                        migrate-x2k4q
 *   cronjob      <name>-<schedule time>-<5 chars>        backup-28391234-x2k4q
 *   statefulset  <name>-<ordinal>                        db-0
 *
 * The generated parts use Kubernetes' "safe" alphabet (no vowels, no 0, 1,
 * 3), which keeps "web-proxy" from losing its "proxy".
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "groups.h"

static bool k8s_char(char c)
{
    return c && strchr("bcdfghjklmnpqrstvwxz2456789", c) != NULL;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of a "-<part>" suffix of s[0..len) whose part is made of chars
 * accepted by ok and is min..max long; 0 when there is none (or it would
 * leave nothing before it). */
static size_t suffix(const char *s, size_t len, bool (*ok)(char), size_t min, size_t max)
{
    size_t n = 0;
    while (n < len && ok(s[len - 1 - n]))
        n++;
    if (n < min || n > max || n + 1 >= len || s[len - 1 - n] != '-')
        return 0;
    return n + 1;
}

void vg_group_pod_owner(const char *pod, char *buf, size_t size)
{
    size_t len = strlen(pod), cut;
    if ((cut = suffix(pod, len, k8s_char, 5, 5)) != 0) {
        len -= cut;
        /* A deployment's template hash, or a cronjob's schedule time. */
        if ((cut = suffix(pod, len, k8s_char, 6, 10)) != 0 ||
            (cut = suffix(pod, len, digit, 6, 12)) != 0)
            len -= cut;
    } else if ((cut = suffix(pod, len, digit, 1, 5)) != 0) {
        len -= cut;
    }
    snprintf(buf, size, "%.*s", (int)len, pod);
}

/* Compose names its containers <project>-<service>-<n> (v2) or
 * <project>_<service>_<n> (v1). */
static void strip_instance(const char *name, char *buf, size_t size)
{
    size_t len = strlen(name), n = 0;
    while (n < len && digit(name[len - 1 - n]))
        n++;
    if (n > 0 && n + 1 < len && (name[len - 1 - n] == '-' || name[len - 1 - n] == '_'))
        len -= n + 1;
    snprintf(buf, size, "%.*s", (int)len, name);
}

void vg_group_service_name(const vg_workload *w, char *buf, size_t size)
{
    if (w->runtime == VG_RT_HOST) {
        snprintf(buf, size, "%s", VG_GROUP_NODES);
        return;
    }
    char base[VG_GROUP_MAX];
    if (w->pod && *w->pod) {
        vg_group_pod_owner(w->pod, base, sizeof(base));
        if (w->k8s_namespace && *w->k8s_namespace)
            snprintf(buf, size, "%s.%s", base, w->k8s_namespace);
        else
            snprintf(buf, size, "%s", base);
        return;
    }
    if (w->name && *w->name) {
        strip_instance(w->name[0] == '/' ? w->name + 1 : w->name, buf, size);
        return;
    }
    /* No name at all: the short id, as `docker ps` shows it. */
    snprintf(buf, size, "%.12s", w->id);
}
