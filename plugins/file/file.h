/* Internals shared by the files of the file plugin. */
#ifndef VG_FILE_FILE_H
#define VG_FILE_FILE_H

#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <vigil/plugin.h>

#include "fanotify_engine.h"
#include "watch.h"

typedef struct file_plugin {
    const vg_host_api *api;
    vg_host *h;
    int t_access, t_violation, t_stats;
    int notify_fd, stop_fd;
    fan_engine *fan; /* the permission group; NULL: no protection here */
    fw_table *watch;
    pthread_t notify_thread;
    bool notify_running;
    int64_t guard_threads; /* plugins.file.guard_threads */
    bool watch_host;
    int fail_verdict;          /* 0 allow, 1 deny: plugins.file.fail_mode */
    int64_t rescan_ms;         /* how often guarded files are looked up again */
    int64_t stats_interval_ms; /* 0: no periodic file.stats */
    pid_t self;
    atomic_ulong events, dropped, overflows;
    atomic_ulong answer_ns_sum, answer_ns_max, syscall_ns_sum; /* permission answers */
    atomic_ulong syscall_waits; /* openers still running when first read */
    fw_counts last;             /* loop thread: the counts of the last file.stats */
} file_plugin;

/* Reader threads (notify.c, guard.c). */
void *fp_notify_main(void *arg);
/* The permission side (guard.c): the engine's callbacks, arg the plugin,
 * with a per-thread context of fp_guard_ctx_size bytes. */
extern const size_t fp_guard_ctx_size;
int fp_guard_decide(void *arg, fan_request *req);
void fp_guard_after(void *arg, const fan_request *req, int verdict, int64_t answer_ns);
void fp_guard_ctx_end(void *arg, void *ctx);

/* A file.stats event with the table's counts and the counters (any
 * thread). */
void fp_publish_stats(file_plugin *p);

/* msgpack helpers. */
void fp_kv_str(msgpack_packer *pk, const char *k, const char *v);
void fp_kv_int(msgpack_packer *pk, const char *k, int64_t v);

/* The workload of process pid, which touched a file of owner's root, into
 * *wv. workload_of_pid's answer is checked against mount namespaces: the
 * daemon's table remembers pids between two scans, so its answer may be
 * about an earlier process with the same pid, about a `runc exec` process
 * seen before it joined its container, or about an exited process (whose
 * cgroup reads as the root one). When pid is in the namespace of the
 * workload named, 0. When it is in the namespace of owner's workload
 * instead, or has exited, *wv is the owner's (mode unknown) and 1 is
 * returned. Otherwise -EAGAIN (not known) or workload_of_pid's error; a
 * host answer is trusted when pid is not in owner's namespace. */
int fp_workload_of(file_plugin *p, pid_t pid, const fw_owner *owner, vg_workload_view *wv);

/* The executable of pid as its own mount namespace names it ("" if gone). */
void fp_program(pid_t pid, char *buf, size_t size);

#endif
