/*
 * The compliance check engine: CIS benchmark checks written in Lua, run
 * against a root directory (this host "/", a container's /proc/<pid>/root,
 * or a test fixture), Kubernetes manifests and image tarballs, without a
 * daemon. Used by `vigil-scan bench` and by the cis plugin.
 *
 * Checks live in <lua_dir>/<section>/ *.lua (shipped) and <checks_dir>/ *.lua
 * (the user's own). Each file returns one check table or a list of them; the
 * fields are documented in lua/cis/lib.lua. Every check runs in the
 * sandbox of lib/sandbox.h with its own instruction budget, and reads the
 * system only through the C functions of api.c, which never leave the root.
 *
 * One engine run is self-contained (its own Lua state), so runs may happen
 * on several threads at once.
 */
#ifndef VG_CIS_H
#define VG_CIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What to check; a bit set. */
enum cis_target {
    CIS_HOST = 1 << 0,       /* CIS Docker 1-3, CIS Linux */
    CIS_CONTAINERS = 1 << 1, /* CIS Docker 5, from each OCI config */
    CIS_KUBERNETES = 1 << 2, /* CIS Kubernetes 4 (node) and 5 (manifests) */
    CIS_IMAGES = 1 << 3,     /* CIS Docker 4, from an image tarball */
    CIS_ALL = 0xf,
};

/* Result statuses, in the order the report sorts and counts them. */
enum cis_status {
    CIS_PASS = 0,
    CIS_WARN,
    CIS_INFO,
    CIS_NOTE,
    CIS_MANUAL,
    CIS_ERROR, /* the check itself failed: never counted as a PASS */
    CIS_NSTATUS,
};

typedef struct cis_opts {
    const char *root;       /* NULL: "/" */
    const char *lua_dir;    /* lib.lua, lib_*.lua, compliance.lua, <section>/ *.lua */
    const char *checks_dir; /* the user's checks, or NULL */
    unsigned targets;       /* enum cis_target bits; 0: host */
    const char *manifests;  /* a file or directory of YAML/JSON manifests, or NULL */
    const char *image;      /* a `docker save` tarball, or NULL */
    const char *tag;        /* only checks tagged with this framework ("PCI"), or NULL */
    const char *container;  /* only this container id (containers target), or NULL */
    long insn_budget;       /* per check; 0: 20 million */
} cis_opts;

typedef struct cis_tag {
    char *framework; /* "PCI", "GDPR", "HIPAA", "NIST" */
    char *control;   /* "2.2.4", "800-53: AC-6" */
} cis_tag;

typedef struct cis_result {
    char *id;        /* the benchmark's own numbering, "5.4" */
    char *benchmark; /* "docker", "kubernetes", "linux", or the custom check's */
    char *version;   /* "CIS Docker Benchmark v1.6.0", or NULL (a custom check's) */
    char *description; /* where and why vigil differs from the benchmark, or NULL */
    char *title;
    char *target; /* "host", "containers", "kubernetes", "images" */
    char *remediation;
    char *evidence;
    char *file; /* the check file, for errors */
    int status; /* enum cis_status */
    int level;
    bool automated, scored;
    cis_tag *tags;
    size_t ntags;
} cis_result;

/* A report owns every string in it. */
typedef struct cis_report {
    cis_result *results;
    size_t n;
    size_t counts[CIS_NSTATUS];
    double seconds;  /* wall time of the run */
    size_t lua_peak; /* peak bytes of the Lua state */
} cis_report;

/* Loads every check and runs those selected by opts. A check that cannot
 * be loaded or raises an error is an ERROR result, not a failure of the
 * run. Returns 0 and a report (free with cis_report_free), or a
 * negative errno when the engine itself cannot start: -ENOENT (no lua_dir
 * or root), -ENOMEM, -EINVAL (lib.lua broken); *err then says why (static
 * storage of the calling thread is not used: err is the caller's buffer). */
int cis_run(const cis_opts *opts, cis_report **out, char *err, size_t errlen);

void cis_report_free(cis_report *r);

const char *cis_status_name(int status);
/* "host" -> CIS_HOST, "all" -> CIS_ALL; 0 when unknown. */
unsigned cis_target_parse(const char *name);

/* The shipped checks: the installed copy when there is one, else the
 * source tree this binary was built from. With `env`, $VIGIL_CIS_DIR (or
 * its old name $VIGIL_BENCH_DIR) first: the tools honour it, the daemon
 * does not (its setting is plugins.cis.lua_dir). */
const char *cis_shipped_dir(bool env);

/* Report formats (report.c). Each returns 0 or a negative errno. */
int cis_print_table(FILE *f, const cis_report *r);
int cis_print_text(FILE *f, const cis_report *r); /* docker-bench lines */
int cis_print_json(FILE *f, const cis_report *r);
int cis_print_sarif(FILE *f, const cis_report *r);

#endif
