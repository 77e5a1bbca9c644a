/*
 * Internals of the secret scanner shared between its files. Not installed,
 * not used outside plugins/secrets.
 */
#ifndef VG_SECRETS_INT_H
#define VG_SECRETS_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <time.h>

#include "secrets.h"

#define VG__SEC_MAX_GROUPS 8
#define VG__SEC_SPANS 256  /* specific findings remembered per buffer */
#define VG__SEC_PENDING 64 /* generic findings held per buffer */

/* A NULL-terminated growable array of owned strings. */
typedef struct vg__sec_strv {
    char **v;
    size_t n;
} vg__sec_strv;

int vg__sec_strv_push(vg__sec_strv *sv, const char *s);
void vg__sec_strv_free(vg__sec_strv *sv);

/* One rule: the specification read from Lua and, once compiled, its
 * expressions. Everything is owned by the rule. */
typedef struct vg__sec_rule {
    vg_sec_rule_info info; /* strings below point into the owned fields */
    char *id, *description, *tags, *hit, *miss, *expath;
    char *regex;
    char *pre_regex; /* prefilter_regex: what vectorscan looks for, if set */
    vg__sec_strv keywords;
    vg__sec_strv paths;         /* fnmatch globs the path must match, if any */
    vg__sec_strv exclude_paths; /* fnmatch globs that exclude a path */
    vg__sec_strv allow;         /* allow-list expressions (caseless) */
    int secret_group;           /* -1: the first group, else 0..n */
    double ent_min[VG__SEC_MAX_GROUPS];
    double ent_max[VG__SEC_MAX_GROUPS]; /* 0: no upper bound */
    unsigned window;                    /* bytes looked at around a candidate */
    bool multiline;                     /* matches may span lines (window given) */
    int prefilter;                      /* 0 auto, 1 keywords, 2 expression */
    bool generic;                       /* tagged "generic": yields to specific rules */
    bool literal;                       /* value = "literal": see value.c */
    bool is_key;                        /* tagged "key": reported in test paths too */
    int kind_only;                      /* kind = "k8s-secret": 1 + that kind, else 0 */

    pcre2_code *re;
    pcre2_code **allow_re;
    bool by_keywords; /* prefiltered by its keywords, not its expression */
    bool whole_file;  /* not prefiltered: run on every file its paths match */
} vg__sec_rule;

struct vg_sec_rules {
    vg__sec_rule *r;
    size_t n, cap;
    vg__sec_strv allow;         /* allow-list for every rule */
    vg__sec_strv exclude_paths; /* paths no rule looks at */
    vg__sec_strv examples;      /* example_values: published example data */
    pcre2_code **allow_re;
    hs_database_t *db;
    /* Vectorscan pattern id -> rule index (one rule may own several ids
     * when it is prefiltered by keywords). */
    unsigned *id_rule;
    unsigned char *id_kw; /* the id is a keyword (a secret may follow it) */
    size_t nids;
    /* The rules that depend on the path (path globs, or checked whole),
     * so that a file costs a loop over these few, not over every rule. */
    unsigned *by_path;
    size_t nby_path;
    /* Per rule, and one more slot for the global allow-list: which of its
     * expressions are JIT compiled (VG__SEC_JIT_*; jit.c). */
    _Atomic unsigned char *jitted;
};

#define VG__SEC_JIT_EXPR 1u
#define VG__SEC_JIT_ALLOW 2u

/* JIT compiles re[0..n) of slot's bit on its first use, once per rule set,
 * safely from several threads (jit.c). */
void vg__sec_jit(const vg_sec_rules *rs, size_t slot, unsigned bit, pcre2_code *const *re,
                 size_t n);

/* Frees the fields of one rule (not the rule itself). */
void vg__sec_rule_clear(vg__sec_rule *r);

/* Runs one Lua rule file and merges its rules into rs (rules_lua.c). */
int vg__sec_rules_read_lua(vg_sec_rules *rs, const char *file, char *err, size_t errlen);

/* Compiles every rule and the vectorscan database (rules.c). */
int vg__sec_rules_compile(vg_sec_rules *rs, char *err, size_t errlen);

/* The cache of compiled databases (rules_cache.c): the key of a rule set,
 * loading (0, or a negative errno: compile instead) and storing (best
 * effort). */
uint64_t vg__sec_cache_key(const vg_sec_rules *rs);
int vg__sec_cache_load(vg_sec_rules *rs, uint64_t key);
void vg__sec_cache_store(const vg_sec_rules *rs, uint64_t key);

/* The context of the content being scanned. */
typedef struct vg__sec_ctx {
    const char *path;
    const char *layer;
    int kind;
    /* For decoded values: the line in the original file that every
     * finding is reported at (0: compute from the buffer). */
    unsigned fixed_line;
    unsigned fixed_col;
} vg__sec_ctx;

struct vg_sec_scanner {
    const vg_sec_rules *rs;
    vg_sec_limits lim;
    vg_sec_stats st;
    vg_sec_finding_cb cb;
    void *arg;
    hs_scratch_t *scratch;
    pcre2_match_data *md;
    pcre2_match_data *amd; /* for allow-lists, so md stays intact */
    struct timespec t0;
    size_t *scanned_to;  /* per rule, during one buffer: checked up to */
    size_t *reported_to; /* per rule: end of the last match */
    unsigned *epoch_of;  /* per rule: the buffer its two values are of */
    unsigned epoch;      /* the current buffer's number */
    char *buf;           /* file read buffer */
    size_t bufcap;
    /* During one buffer. */
    const vg__sec_ctx *ctx;
    const char *data;
    size_t len;
    uint64_t env_seen[64]; /* hashes of environments scanned (inherited ones
                            * are identical: scanned once) */
    unsigned nenv;
    size_t spans[VG__SEC_SPANS][2]; /* the last specific secrets of this buffer */
    unsigned nspans;
    struct vg__sec_pending {
        const vg__sec_rule *r;
        size_t off, len;
        bool example;
    } pend[VG__SEC_PENDING]; /* generic findings waiting for the buffer's end */
    unsigned npend;
    size_t line_off; /* line-count cache: offset and its line */
    unsigned line_no;
    int path_ctx; /* enum vg_sec_context of the current path, -1: not yet known */
    /* A large file is scanned as overlapping segments (stream.c): only
     * findings starting in [own_from, own_to) of the current buffer are
     * its own, and its first line is line_base of the file. A whole
     * buffer owns everything from line 1. */
    size_t own_from, own_to;
    unsigned line_base;
    unsigned ncand; /* candidates seen: the deadline is checked every 256 */
    const vg_sec_baseline *baseline;
};

/* Scans content with its context; the one entry every target goes
 * through. Returns 0 or -ECANCELED (limit). */
int vg__sec_scan_content(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len);

/* Scans one segment of a large file: findings are reported only when
 * they start in [own_from, own_to), at lines counted from line_base;
 * `first` says whether this is the file's first segment (the binary check
 * and the file count happen there). 0, 1 when the rest of the file is not
 * to be read (its path is excluded, it is binary), -ECANCELED (limit) or
 * -EIO. */
int vg__sec_scan_segment(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len,
                         size_t own_from, size_t own_to, unsigned line_base, bool first);

/* A source of a file's bytes: fills buf with at most n bytes and returns
 * how many, 0 at the end, or a negative errno. */
typedef long (*vg__sec_read_fn)(void *arg, char *buf, size_t n);

/* Files above this size are streamed through a buffer of this size (plus
 * the overlap) instead of being read whole (stream.c). */
#define VG__SEC_SEGMENT ((size_t)4 << 20)

/* Scans a file of `size` bytes (above VG__SEC_SEGMENT) from rd in
 * segments, holding at most one segment in memory; `head` is what the
 * caller already read of it (at most VG__SEC_SEGMENT bytes). Stops at
 * max_file_bytes. 0, -ECANCELED, or a negative errno of rd. */
int vg__sec_scan_stream(vg_sec_scanner *s, const vg__sec_ctx *ctx, vg__sec_read_fn rd, void *arg,
                        const char *head, size_t nhead);

/* True once a total-bytes or time limit was reached (sets truncated). */
bool vg__sec_over_limit(vg_sec_scanner *s);

/* Reads a whole file from fd into the scanner's buffer, at most
 * max_file_bytes (-EFBIG beyond). st: fd's fstat() when the caller has it
 * (saves a system call per file), else NULL. */
struct stat;
int vg__sec_read_fd(vg_sec_scanner *s, int fd, const struct stat *st, size_t *len);

/* Scans the content of a file: the bytes, then, for a Kubernetes Secret
 * manifest, its decoded data values (k8s.c). */
int vg__sec_scan_file_content(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf,
                              size_t len);

/* Decodes the data values of Kubernetes Secret manifests in buf and scans
 * each as "key: value" (k8s.c). */
int vg__sec_scan_k8s(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len);

/* Value filters of keyword rules and path contexts (value.c). */
bool vg__sec_value_is_literal(const char *data, size_t len, size_t off, size_t n, const char *path);
bool vg__sec_is_hex(const char *v, size_t n);
bool vg__sec_path_is_code(const char *path);
int vg__sec_path_context(const char *path);

/* The number of newlines in [p, p + n) (scan.c). */
unsigned vg__sec_count_newlines(const char *p, size_t n);

/* Binary content: a NUL byte in the first 8 KiB (as git decides). */
bool vg__sec_is_binary(const char *buf, size_t len);

#endif
