/*
 * The notification side: changes to watched paths become file.access
 * events. The group reports the directory's file handle and the entry's
 * name (FAN_REPORT_DFID_NAME); the watch table turns them into the path in
 * the owner's terms, so nothing is opened or resolved per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <time.h>
#include <unistd.h>

#include "file.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The accesses an event mask stands for, in the order they happened. A
 * write is reported once, whether the kernel said "modified", "closed after
 * writing", or both: the policy learns and asks about "write". */
static const struct {
    uint64_t mask;
    const char *access;
} accesses[] = {
    {FAN_CREATE, "create"}, {FAN_MODIFY | FAN_CLOSE_WRITE, "write"},
    {FAN_ATTRIB, "attrib"}, {FAN_MOVED_FROM | FAN_MOVED_TO, "rename"},
    {FAN_DELETE, "delete"},
};

typedef struct last_event {
    pid_t pid;
    char path[PATH_MAX];
    const char *access;
    int64_t at_ms;
} last_event;

/* The same access by the same process to the same path within half a
 * second is one access (a write is "modified" while writing and "closed
 * after writing"; a loop of small writes is one). */
static bool repeated(last_event *last, pid_t pid, const char *path, const char *access)
{
    int64_t now = now_ms();
    if (last->pid == pid && last->access == access && now - last->at_ms < 500 &&
        strcmp(last->path, path) == 0)
        return true;
    last->pid = pid;
    last->access = access;
    last->at_ms = now;
    snprintf(last->path, sizeof(last->path), "%s", path);
    return false;
}

static void publish_access(file_plugin *p, pid_t pid, const char *path, const char *access,
                           const fw_owner *owner, msgpack_sbuffer *sb)
{
    vg_workload_view wv;
    /* The process's own workload; when it is gone already or not known
     * for sure, the workload whose file it was. */
    if (fp_workload_of(p, pid, owner, &wv) < 0) {
        memset(&wv, 0, sizeof(wv));
        snprintf(wv.id, sizeof(wv.id), "%s", owner->id);
        snprintf(wv.group, sizeof(wv.group), "%s", owner->group);
    }
    char program[PATH_MAX], comm[64] = "", cpath[64];
    fp_program(pid, program, sizeof(program));
    /* A process that exited before its event was read has no executable
     * to read. "" would be learned as "any program": "?" matches none. */
    if (!program[0])
        snprintf(program, sizeof(program), "?");
    snprintf(cpath, sizeof(cpath), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(cpath, "re");
    if (f) {
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    msgpack_packer pk;
    sb->size = 0;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    fp_kv_int(&pk, "pid", pid);
    fp_kv_str(&pk, "name", comm);
    fp_kv_str(&pk, "program", program);
    fp_kv_str(&pk, "path", path);
    fp_kv_str(&pk, "access", access);
    vg_event_in ev = {.type = p->t_access,
                      .severity = VG_SEV_NOTICE,
                      .workload = wv.id,
                      .group = wv.group,
                      .body = sb->data,
                      .body_len = sb->size};
    if (p->api->publish(p->h, &ev) < 0)
        atomic_fetch_add(&p->dropped, 1);
    else
        atomic_fetch_add(&p->events, 1);
}

static void handle(file_plugin *p, const struct fanotify_event_metadata *m, last_event *last,
                   msgpack_sbuffer *sb, bool *reguard)
{
    if (m->mask & FAN_Q_OVERFLOW) {
        atomic_fetch_add(&p->overflows, 1);
        return;
    }
    if (m->pid == p->self)
        return;
    const char *end = (const char *)m + m->event_len;
    const char *rec = (const char *)m + m->metadata_len;
    while (rec + sizeof(struct fanotify_event_info_header) <= end) {
        const struct fanotify_event_info_header *hdr = (const void *)rec;
        if (hdr->len < sizeof(*hdr) || rec + hdr->len > end)
            return;
        if (hdr->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
            const struct fanotify_event_info_fid *fid = (const void *)rec;
            const struct file_handle *fh = (const void *)fid->handle;
            size_t hlen = hdr->len - sizeof(*fid);
            if (hlen < sizeof(*fh) + fh->handle_bytes)
                return;
            const char *name = (const char *)fh->f_handle + fh->handle_bytes;
            char path[PATH_MAX];
            fw_owner owner;
            int32_t fsid[2];
            memcpy(fsid, &fid->fsid, sizeof(fsid));
            if (fw_lookup_dir(p->watch, fsid, fh, hlen, name, path, sizeof(path), &owner) < 0)
                return;
            for (size_t i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++)
                if ((m->mask & accesses[i].mask) &&
                    !repeated(last, m->pid, path, accesses[i].access))
                    publish_access(p, m->pid, path, accesses[i].access, &owner, sb);
            /* A guarded file replaced by a new one (written aside and
             * renamed over, as useradd and sed -i do) is guarded again
             * within 50 ms: soon, but once for a burst of new files. */
            if (m->mask & (FAN_CREATE | FAN_MOVED_TO))
                *reguard = true;
            return;
        }
        rec += hdr->len;
    }
}

void *fp_notify_main(void *arg)
{
    file_plugin *p = arg;
    char buf[16384];
    char ev[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
    struct pollfd fds[2] = {{.fd = p->notify_fd, .events = POLLIN},
                            {.fd = p->stop_fd, .events = POLLIN}};
    last_event last = {0};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int64_t next_rescan = now_ms() + p->rescan_ms;
    int64_t next_stats = p->stats_interval_ms > 0 ? now_ms() + p->stats_interval_ms : INT64_MAX;
    for (;;) {
        int64_t now = now_ms(), wake = next_rescan < next_stats ? next_rescan : next_stats;
        int timeout = wake - now > 0 ? (int)(wake - now) : 0;
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        now = now_ms();
        if (now >= next_rescan) {
            fw_reguard(p->watch);
            next_rescan = now + p->rescan_ms;
        }
        if (now >= next_stats) {
            fp_publish_stats(p);
            next_stats = now + p->stats_interval_ms;
        }
        if (n <= 0 || !(fds[0].revents & POLLIN))
            continue;
        bool reguard = false;
        ssize_t len = read(p->notify_fd, buf, sizeof(buf));
        if (len <= 0)
            continue;
        /* Events with a name are not padded to the alignment of the next
         * one: each is copied to an aligned place before it is read. */
        for (ssize_t off = 0; off + (ssize_t)FAN_EVENT_METADATA_LEN <= len;) {
            struct fanotify_event_metadata head;
            memcpy(&head, buf + off, sizeof(head));
            if (head.event_len < FAN_EVENT_METADATA_LEN || off + (ssize_t)head.event_len > len ||
                head.event_len > sizeof(ev))
                break;
            memcpy(ev, buf + off, head.event_len);
            if (head.vers == FANOTIFY_METADATA_VERSION)
                handle(p, (const void *)ev, &last, &sb, &reguard);
            off += head.event_len;
        }
        if (reguard && next_rescan > now_ms() + 50)
            next_rescan = now_ms() + 50;
    }
    msgpack_sbuffer_destroy(&sb);
    return NULL;
}
