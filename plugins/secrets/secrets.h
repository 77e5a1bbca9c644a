/*
 * The secret scanner's engine, shared by `vigil-scan secrets` (no daemon)
 * and the secrets.so plugin.
 *
 * Two objects:
 *  - a rule set (vg_sec_rules): the rules loaded from Lua, their precise
 *    PCRE2 expressions and one vectorscan database holding every rule's
 *    expression in prefilter mode. Immutable once built, so any number of
 *    threads may share it.
 *  - a scanner (vg_sec_scanner): per-thread scratch space, limits, counters
 *    and the finding callback. One thread at a time.
 *
 * A file is scanned in one vectorscan pass for all rules; only where a
 * rule's prefilter matched does the precise expression run, on the lines
 * around the candidate, followed by the entropy bounds and the allow-lists.
 *
 * The engine never logs and never prints a secret: a finding carries the
 * raw bytes for the duration of the callback only, and vg_sec_mask() is the
 * one way to turn them into text.
 */
#ifndef VG_SECRETS_H
#define VG_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Severities of a rule, lowest first. */
enum vg_sec_severity { VG_SEC_LOW = 0, VG_SEC_MEDIUM, VG_SEC_HIGH, VG_SEC_CRITICAL };

/* What a finding was found in. */
enum vg_sec_kind {
    VG_SEC_KIND_FILE = 0, /* a file of a directory, root file system or layer */
    VG_SEC_KIND_ENV,      /* a process environment */
    VG_SEC_KIND_K8S,      /* a decoded value of a Kubernetes Secret's data */
};

/* Where a finding sits, beyond its path: ordinary content, a test path
 * (test/, tests/, testdata/, fixtures/, a file named *example*), or a
 * value published as example data (the AWS documentation key, RFC 6749's
 * tokens...; see `example_values` in lua/secrets/rules.lua). */
enum vg_sec_context { VG_SEC_CTX_NONE = 0, VG_SEC_CTX_TEST, VG_SEC_CTX_EXAMPLE };

typedef struct vg_sec_rules vg_sec_rules;
typedef struct vg_sec_scanner vg_sec_scanner;
typedef struct vg_sec_baseline vg_sec_baseline;

/* One rule as the Lua file describes it (read-only view). */
typedef struct vg_sec_rule_info {
    const char *id;
    const char *description;
    int severity;             /* enum vg_sec_severity */
    const char *tags;         /* comma-separated, "" when none */
    const char *example_hit;  /* NULL when the rule has none */
    const char *example_miss; /* NULL when the rule has none */
    const char *example_path; /* the path the examples are scanned as */
} vg_sec_rule_info;

/* A finding, valid only during the callback. */
typedef struct vg_sec_finding {
    const vg_sec_rule_info *rule;
    int kind;           /* enum vg_sec_kind */
    const char *path;   /* file path relative to the target, or "pid:N" */
    const char *layer;  /* "sha256:..." for an image layer, else NULL */
    unsigned line;      /* 1-based */
    unsigned column;    /* 1-based, in bytes */
    const char *secret; /* the secret's bytes (not NUL-terminated) */
    size_t secret_len;
    double entropy; /* Shannon entropy of the secret, bits per byte */
    int context;    /* enum vg_sec_context */
    int severity;   /* the rule's, or low for example data */
} vg_sec_finding;

typedef void (*vg_sec_finding_cb)(void *arg, const vg_sec_finding *f);

/* Limits of one scanner; zero means the default shown. */
typedef struct vg_sec_limits {
    uint64_t max_file_bytes;  /* larger files are skipped (10 MiB) */
    uint64_t max_total_bytes; /* the scan stops after this much (8 GiB) */
    uint64_t max_ms;          /* the scan stops after this long (0: none) */
    unsigned max_depth;       /* directory depth (64) */
    /* When set and *cancel becomes non-zero (from any thread), the scan
     * stops at the next file, as if a limit had been reached. */
    const _Atomic int *cancel;
    unsigned flags; /* VG_SEC_SKIP_TESTS | VG_SEC_SHOW_EXAMPLES */
} vg_sec_limits;

/* Findings in test paths are dropped, except private keys (rules tagged
 * "key"): a key in a test directory may still be a real one. */
#define VG_SEC_SKIP_TESTS 0x1u
/* Known example values are reported (low severity, context example);
 * by default they are not. */
#define VG_SEC_SHOW_EXAMPLES 0x2u

/* The limit that stopped a scan. */
enum vg_sec_stop { VG_SEC_STOP_NONE = 0, VG_SEC_STOP_BYTES, VG_SEC_STOP_TIME, VG_SEC_STOP_CANCEL };

/* What a scan did, for the report and the tests. */
typedef struct vg_sec_stats {
    uint64_t files; /* files scanned */
    uint64_t bytes; /* bytes scanned */
    uint64_t findings;
    uint64_t skipped_binary;
    uint64_t skipped_large;
    uint64_t skipped_symlink; /* symlinks met (never followed) */
    uint64_t skipped_other;   /* devices, fifos, unreadable files */
    uint64_t skipped_depth;   /* directories below max_depth, not entered */
    uint64_t layers;          /* image layers opened */
    uint64_t baselined;       /* findings left out because the baseline has them */
    uint64_t skipped_tests;   /* findings in test paths left out (VG_SEC_SKIP_TESTS) */
    uint64_t examples;        /* known example values seen (reported or not) */
    bool truncated;           /* a total-bytes or time limit stopped the scan */
    int stopped_by;           /* enum vg_sec_stop: which limit, when truncated */
} vg_sec_stats;

/* ---- rules (rules.c, rules_lua.c) ---------------------------------- */

/* Loads the rule files in order (later files add rules and override
 * earlier ones by id) and compiles them. Each file is Lua run in the
 * sandbox of core/sandbox.h and returns { rules = {...}, allow = {...},
 * disable = {...} } (see lua/secrets/rules.lua). On error returns a
 * negative errno and writes a message naming the file and rule into err.
 * The caller frees *out with vg_sec_rules_free(). */
int vg_sec_rules_load(const char *const *files, size_t nfiles, vg_sec_rules **out, char *err,
                      size_t errlen);
void vg_sec_rules_free(vg_sec_rules *rs);
size_t vg_sec_rules_count(const vg_sec_rules *rs);
const vg_sec_rule_info *vg_sec_rules_info(const vg_sec_rules *rs, size_t i);
/* The precise expression of rule i (for comparisons such as the bench). */
const char *vg_sec_rules_regex(const vg_sec_rules *rs, size_t i);

/* The shipped rules file: $VIGIL_SECRETS_RULES, else the installed copy,
 * else the one in the source tree. Static string. */
const char *vg_sec_default_rules_path(void);

/* ---- scanner (scan.c) ---------------------------------------------- */

/* Creates a scanner over rs (which must outlive it). cb may be NULL. */
int vg_sec_scanner_new(const vg_sec_rules *rs, const vg_sec_limits *lim, vg_sec_finding_cb cb,
                       void *arg, vg_sec_scanner **out);
void vg_sec_scanner_free(vg_sec_scanner *s);
const vg_sec_stats *vg_sec_scanner_stats(const vg_sec_scanner *s);
/* The limits in force, defaults filled in. */
const vg_sec_limits *vg_sec_scanner_limits(const vg_sec_scanner *s);

/* Findings whose fingerprint is in b are counted (stats.baselined) and
 * not reported. b must outlive the scanner; NULL: none. */
void vg_sec_scanner_set_baseline(vg_sec_scanner *s, const vg_sec_baseline *b);

/* Scans bytes already in memory as the content of `path` (used for file
 * contents, environments and decoded values). Binary content is skipped
 * (counted). Returns 0, or -ECANCELED once a limit stopped the scan. */
int vg_sec_scan_buffer(vg_sec_scanner *s, const char *path, const char *buf, size_t len);

/* Scans everything under the directory `root` (a container's root may be
 * given as /proc/PID/root). Symlinks are never followed; special file
 * systems (proc, sysfs) are skipped. Returns 0 or a negative errno. */
int vg_sec_scan_dir(vg_sec_scanner *s, const char *root);

/* Scans one regular file. */
int vg_sec_scan_file(vg_sec_scanner *s, const char *path);

/* Scans an image tarball (`docker save` or OCI layout): every layer,
 * findings carrying the layer's digest, plus the other blobs (config
 * files hold the image's environment). Returns 0 or a negative errno
 * (-EINVAL when the file is not a tar archive). */
int vg_sec_scan_image(vg_sec_scanner *s, const char *tarball);

/* Scans the environment of process pid (kind VG_SEC_KIND_ENV). An
 * environment identical to one this scanner already scanned (a child's,
 * inherited) is skipped. */
int vg_sec_scan_environ(vg_sec_scanner *s, int pid);

/* Scans any path: an image tarball when it is a tar archive, a directory,
 * else a file. */
int vg_sec_scan_path(vg_sec_scanner *s, const char *path);

/* ---- reports (report.c) ------------------------------------------ */

/* Findings collected for output. A report keeps the masked secret only,
 * unless it was created with reveal. */
typedef struct vg_sec_report vg_sec_report;

int vg_sec_report_new(bool reveal, vg_sec_report **out);
void vg_sec_report_free(vg_sec_report *r);
/* A vg_sec_finding_cb: arg is the report. Copies what it needs. */
void vg_sec_report_add(void *report, const vg_sec_finding *f);
size_t vg_sec_report_count(const vg_sec_report *r);
/* Human lines: path:line:col: severity rule: description, masked secret. */
int vg_sec_report_text(const vg_sec_report *r, FILE *out);
/* One JSON document: { "findings": [...], "stats": {...} }. */
int vg_sec_report_json(const vg_sec_report *r, const vg_sec_stats *st, FILE *out);
/* SARIF 2.1.0 for GitHub code scanning; rs provides the rule metadata. */
int vg_sec_report_sarif(const vg_sec_report *r, const vg_sec_rules *rs, FILE *out);

/* A finding's fingerprint: SHA-256 (hex) of its rule, path and secret, so
 * that it stays the same when lines move and never reveals the secret. */
#define VG_SEC_FINGERPRINT_LEN 64
void vg_sec_fingerprint(const vg_sec_finding *f, char out[VG_SEC_FINGERPRINT_LEN + 1]);

/* Writes the report's findings as a baseline file (JSON: fingerprint,
 * rule, path, line of each; never a secret). */
int vg_sec_report_baseline(const vg_sec_report *r, FILE *out);

/* ---- baselines (baseline.c) --------------------------------------- */

/* Reads a baseline file written by vg_sec_report_baseline() (or by
 * `vigil-scan secrets --write-baseline`). -ENOENT when missing, -EINVAL
 * with a message in err when it is not one. */
int vg_sec_baseline_load(const char *file, vg_sec_baseline **out, char *err, size_t errlen);
void vg_sec_baseline_free(vg_sec_baseline *b);
size_t vg_sec_baseline_count(const vg_sec_baseline *b);
bool vg_sec_baseline_has(const vg_sec_baseline *b, const char *fingerprint);

/* ---- helpers (mask.c) ---------------------------------------------- */

/* Writes a masked form of the secret into out (at most a few leading
 * characters, then "*****"); never the whole secret. */
void vg_sec_mask(const char *secret, size_t len, char *out, size_t outlen);

/* Shannon entropy in bits per byte. */
double vg_sec_entropy(const char *s, size_t len);

const char *vg_sec_severity_name(int severity);
const char *vg_sec_kind_name(int kind);
const char *vg_sec_context_name(int context); /* "", "test", "example" */

#endif
