/*
 * The compliance check engine: CIS benchmark checks written in Lua, run
 * against a root directory (this host "/", a container's /proc/<pid>/root,
 * or a test fixture), Kubernetes manifests and image tarballs, without a
 * daemon. Used by `vigil-scan bench` and by the bench plugin.
 *
 * Checks live in <lua_dir>/<section>/ *.lua (shipped) and <checks_dir>/ *.lua
 * (the user's own). Each file returns one check table or a list of them; the
 * fields are documented in lua/bench/lib.lua. Every check runs in the
 * sandbox of lib/sandbox.h with its own instruction budget, and reads the
 * system only through the C functions of api.c, which never leave the root.
 *
 * One engine run is self-contained (its own Lua state), so runs may happen
 * on several threads at once.
 */
#ifndef VG_BENCH_H
#define VG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What to check; a bit set. */
enum vg_bench_target {
    VG_BENCH_HOST = 1 << 0,       /* CIS Docker 1-3, CIS Linux */
    VG_BENCH_CONTAINERS = 1 << 1, /* CIS Docker 5, from each OCI config */
    VG_BENCH_KUBERNETES = 1 << 2, /* CIS Kubernetes 4 (node) and 5 (manifests) */
    VG_BENCH_IMAGES = 1 << 3,     /* CIS Docker 4, from an image tarball */
    VG_BENCH_ALL = 0xf,
};

/* Result statuses, in the order the report sorts and counts them. */
enum vg_bench_status {
    VG_BENCH_PASS = 0,
    VG_BENCH_WARN,
    VG_BENCH_INFO,
    VG_BENCH_NOTE,
    VG_BENCH_MANUAL,
    VG_BENCH_ERROR, /* the check itself failed: never counted as a PASS */
    VG_BENCH_NSTATUS,
};

typedef struct vg_bench_opts {
    const char *root;       /* NULL: "/" */
    const char *lua_dir;    /* lib.lua, lib_*.lua, compliance.lua, <section>/ *.lua */
    const char *checks_dir; /* the user's checks, or NULL */
    unsigned targets;       /* enum vg_bench_target bits; 0: host */
    const char *manifests;  /* a file or directory of YAML/JSON manifests, or NULL */
    const char *image;      /* a `docker save` tarball, or NULL */
    const char *tag;        /* only checks tagged with this framework ("PCI"), or NULL */
    const char *container;  /* only this container id (containers target), or NULL */
    long insn_budget;       /* per check; 0: 20 million */
} vg_bench_opts;

typedef struct vg_bench_tag {
    char *framework; /* "PCI", "GDPR", "HIPAA", "NIST" */
    char *control;   /* "2.2.4", "800-53: AC-6" */
} vg_bench_tag;

typedef struct vg_bench_result {
    char *id;        /* the benchmark's own numbering, "5.4" */
    char *benchmark; /* "docker", "kubernetes", "linux", or the custom check's */
    char *title;
    char *target; /* "host", "containers", "kubernetes", "images" */
    char *remediation;
    char *evidence;
    char *file; /* the check file, for errors */
    int status; /* enum vg_bench_status */
    int level;
    bool automated, scored;
    vg_bench_tag *tags;
    size_t ntags;
} vg_bench_result;

/* A report owns every string in it. */
typedef struct vg_bench_report {
    vg_bench_result *results;
    size_t n;
    size_t counts[VG_BENCH_NSTATUS];
    double seconds;  /* wall time of the run */
    size_t lua_peak; /* peak bytes of the Lua state */
} vg_bench_report;

/* Loads every check and runs those selected by opts. A check that cannot
 * be loaded or raises an error is an ERROR result, not a failure of the
 * run. Returns 0 and a report (free with vg_bench_report_free), or a
 * negative errno when the engine itself cannot start: -ENOENT (no lua_dir
 * or root), -ENOMEM, -EINVAL (lib.lua broken); *err then says why (static
 * storage of the calling thread is not used: err is the caller's buffer). */
int vg_bench_run(const vg_bench_opts *opts, vg_bench_report **out, char *err, size_t errlen);

void vg_bench_report_free(vg_bench_report *r);

const char *vg_bench_status_name(int status);
/* "host" -> VG_BENCH_HOST, "all" -> VG_BENCH_ALL; 0 when unknown. */
unsigned vg_bench_target_parse(const char *name);

/* Report formats (report.c). Each returns 0 or a negative errno. */
int vg_bench_print_table(FILE *f, const vg_bench_report *r);
int vg_bench_print_text(FILE *f, const vg_bench_report *r); /* docker-bench lines */
int vg_bench_print_json(FILE *f, const vg_bench_report *r);
int vg_bench_print_sarif(FILE *f, const vg_bench_report *r);

#endif
