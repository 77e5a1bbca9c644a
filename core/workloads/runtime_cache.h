/*
 * What discovery read of each runc-style container state (state.json and
 * its bundle's config.json), kept between scans: a rescan every second of
 * 100 idle containers parsed 200 JSON files a second to find the same
 * answers. A file is parsed again only when it changed (its inode, size,
 * modification or change time), which runc's state writes (a new file
 * renamed over the old) always do. Owned by discovery.c; loop thread only.
 */
#ifndef VG_RUNTIME_CACHE_H
#define VG_RUNTIME_CACHE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>

#include "hmap.h"

typedef struct vg__file_key {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} vg__file_key;

/* The fields discovery uses of one state.json and its config.json. */
typedef struct vg__oci_state {
    char *path;    /* state.json's, the key */
    uint64_t seen; /* the last scan that asked for it */
    vg__file_key state_key, config_key;
    long long pid, start; /* init_process_pid, init_process_start */
    uint64_t init_ino;    /* /proc/<pid>'s inode when its start time last
                             matched (proc_memo.h), or 0 */
    int64_t created_ns;
    char *bundle;        /* from config.labels "bundle=", or NULL */
    json_t *annotations; /* the bundle's config.json annotations, or NULL */
} vg__oci_state;

typedef struct vg__oci_cache {
    vg_hmap by_path;
    vg__oci_state **v;
    size_t n, cap;
    uint64_t scan;
} vg__oci_cache;

vg__oci_cache *vg__oci_cache_new(void);
void vg__oci_cache_free(vg__oci_cache *c);
/* Before and after a scan: entries no scan asked for are dropped. */
void vg__oci_cache_begin(vg__oci_cache *c);
void vg__oci_cache_sweep(vg__oci_cache *c);

/* The state at path (bundle paths are read under root), from the cache
 * when neither file changed. NULL when state.json is unreadable or bad;
 * without a cache (c NULL) the result is the caller's to free with
 * vg__oci_state_free. */
vg__oci_state *vg__oci_state_read(vg__oci_cache *c, const char *root, const char *path,
                                  vg__oci_state **owned);
void vg__oci_state_free(vg__oci_state *st);

#endif
