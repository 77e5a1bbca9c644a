/*
 * Scanning one buffer: a single vectorscan pass reports, for every rule,
 * the end offsets where its prefilter matched; at each, the rule's precise
 * expression runs over the lines around the candidate (never the whole
 * buffer again), and a match is a finding only when its groups pass the
 * entropy bounds and the secret matches no allow-list expression.
 *
 * Vectorscan reports matches in order of their end offset, so remembering
 * per rule how far the precise check already looked keeps a burst of
 * candidates (a long line of them) from being checked twice.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secrets_int.h"

#define DEFAULT_MAX_FILE (10ull << 20)
#define DEFAULT_MAX_TOTAL (8ull << 30)
#define DEFAULT_MAX_DEPTH 64
/* How far a long line (minified code) is followed from a candidate. */
#define LINE_MAX_SCAN 4096
/* The entropy floor of a hex value of a keyword rule (see value.c). */
#define HEX_ENTROPY 3.0

int vg_sec_scanner_new(const vg_sec_rules *rs, const vg_sec_limits *lim, vg_sec_finding_cb cb,
                       void *arg, vg_sec_scanner **out)
{
    vg_sec_scanner *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->rs = rs;
    if (lim)
        s->lim = *lim;
    if (!s->lim.max_file_bytes)
        s->lim.max_file_bytes = DEFAULT_MAX_FILE;
    if (!s->lim.max_total_bytes)
        s->lim.max_total_bytes = DEFAULT_MAX_TOTAL;
    if (!s->lim.max_depth)
        s->lim.max_depth = DEFAULT_MAX_DEPTH;
    s->cb = cb;
    s->arg = arg;
    s->own_to = SIZE_MAX;
    s->line_base = 1;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    s->scanned_to = calloc(rs->n * 2, sizeof(*s->scanned_to));
    s->reported_to = s->scanned_to + rs->n;
    s->epoch_of = calloc(rs->n, sizeof(*s->epoch_of));
    s->md = pcre2_match_data_create(VG__SEC_MAX_GROUPS, NULL);
    s->amd = pcre2_match_data_create(1, NULL);
    if (!s->scanned_to || !s->epoch_of || !s->md || !s->amd ||
        hs_alloc_scratch(rs->db, &s->scratch) != HS_SUCCESS) {
        vg_sec_scanner_free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void vg_sec_scanner_free(vg_sec_scanner *s)
{
    if (!s)
        return;
    hs_free_scratch(s->scratch);
    pcre2_match_data_free(s->md);
    pcre2_match_data_free(s->amd);
    free(s->scanned_to);
    free(s->epoch_of);
    free(s->buf);
    free(s);
}

void vg_sec_scanner_set_baseline(vg_sec_scanner *s, const vg_sec_baseline *b)
{
    s->baseline = b;
}

const vg_sec_stats *vg_sec_scanner_stats(const vg_sec_scanner *s)
{
    return &s->st;
}

const vg_sec_limits *vg_sec_scanner_limits(const vg_sec_scanner *s)
{
    return &s->lim;
}

bool vg__sec_over_limit(vg_sec_scanner *s)
{
    if (s->st.truncated)
        return true;
    int by = VG_SEC_STOP_NONE;
    if (s->st.bytes >= s->lim.max_total_bytes)
        by = VG_SEC_STOP_BYTES;
    else if (s->lim.cancel && atomic_load(s->lim.cancel))
        by = VG_SEC_STOP_CANCEL;
    else if (s->lim.max_ms) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms =
            (int64_t)(now.tv_sec - s->t0.tv_sec) * 1000 + (now.tv_nsec - s->t0.tv_nsec) / 1000000;
        if (ms >= (int64_t)s->lim.max_ms)
            by = VG_SEC_STOP_TIME;
    }
    if (by != VG_SEC_STOP_NONE) {
        s->st.truncated = true;
        s->st.stopped_by = by;
    }
    return s->st.truncated;
}

bool vg__sec_is_binary(const char *buf, size_t len)
{
    return memchr(buf, 0, len < 8192 ? len : 8192) != NULL;
}

/* slot: the rule's index, or the number of rules for the global list. */
static bool allowed(vg_sec_scanner *s, size_t slot, pcre2_code *const *re, size_t n,
                    const char *sec, size_t len)
{
    if (n)
        vg__sec_jit(s->rs, slot, VG__SEC_JIT_ALLOW, re, n);
    for (size_t i = 0; i < n; i++)
        if (pcre2_match(re[i], (PCRE2_SPTR)sec, len, 0, 0, s->amd, NULL) >= 0)
            return true;
    return false;
}

/* The sum of the eight byte lanes of v. */
static unsigned lane_sum(uint64_t v)
{
    const uint64_t even = 0x00ff00ff00ff00ffull;
    v = (v & even) + ((v >> 8) & even);
    return (unsigned)((v * 0x0001000100010001ull) >> 48);
}

/* The number of newlines in [p, p + n), eight bytes at a time (plain
 * integer operations, no library call): a finding deep in a file of short
 * lines would otherwise cost a memchr() call per line before it, more than
 * the vectorscan pass over those lines. */
unsigned vg__sec_count_newlines(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, low7 = 0x7f7f7f7f7f7f7f7full;
    uint64_t acc = 0; /* per byte lane: newlines seen, flushed before 256 */
    unsigned c = 0, words = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= ones * '\n';
        /* The high bit of each byte that was '\n' (now zero), exactly. */
        acc += ~(((w & low7) + low7) | w | low7) >> 7;
        if (++words == 255) {
            c += lane_sum(acc);
            acc = 0;
            words = 0;
        }
    }
    c += lane_sum(acc);
    for (; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* 1-based line and column of offset off in the current buffer. Findings of
 * one rule come in order, those of different rules need not (generic ones
 * are emitted at the buffer's end, after specific ones further on): asked
 * about an earlier offset, the cache counts back from where it is, not
 * again from the beginning (a restart per finding cost a count over the
 * whole file each). */
static void line_col(vg_sec_scanner *s, size_t off, unsigned *line, unsigned *col)
{
    if (off < s->line_off) {
        s->line_no -= vg__sec_count_newlines(s->data + off, s->line_off - off);
        const char *nl = memrchr(s->data, '\n', off);
        s->line_off = nl ? (size_t)(nl + 1 - s->data) : 0;
    }
    const char *p = s->data + s->line_off;
    size_t n = off - s->line_off;
    unsigned nl = vg__sec_count_newlines(p, n);
    if (nl) {
        s->line_no += nl;
        s->line_off = (size_t)((const char *)memrchr(p, '\n', n) + 1 - s->data);
    }
    *line = s->ctx->fixed_line ? s->ctx->fixed_line : s->line_no;
    *col = s->ctx->fixed_line ? s->ctx->fixed_col : (unsigned)(off - s->line_off) + 1;
}

/* The entropy bounds of every group that has one. */
static bool entropy_ok(const vg__sec_rule *r, const char *subj, const PCRE2_SIZE *ov, int nm)
{
    for (int g = 0; g < nm && g < VG__SEC_MAX_GROUPS - 1; g++) {
        if (!r->ent_min[g] && !r->ent_max[g])
            continue;
        if (ov[2 * g] == PCRE2_UNSET)
            return false;
        const char *v = subj + ov[2 * g];
        size_t n = ov[2 * g + 1] - ov[2 * g];
        double e = vg_sec_entropy(v, n), min = r->ent_min[g];
        /* A keyword rule's value in hex can never reach a base64 floor. */
        if (r->literal && g == r->secret_group && min > HEX_ENTROPY && vg__sec_is_hex(v, n))
            min = HEX_ENTROPY;
        if (e < min || (r->ent_max[g] > 0 && e > r->ent_max[g]))
            return false;
    }
    return true;
}

static bool overlaps(size_t (*spans)[2], unsigned n, size_t off, size_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (off < spans[i][1] && spans[i][0] < off + len)
            return true;
    return false;
}

/* A published example value (the AWS documentation key...) inside the
 * secret. */
static bool example_value(const vg_sec_scanner *s, const char *sec, size_t len)
{
    const vg__sec_strv *ex = &s->rs->examples;
    for (size_t i = 0; i < ex->n; i++)
        if (memmem(sec, len, ex->v[i], strlen(ex->v[i])))
            return true;
    return false;
}

/* A finding that passed every check of its rule, to the callback (unless
 * the options or the baseline leave it out). */
static void emit(vg_sec_scanner *s, const vg__sec_rule *r, size_t off, size_t len, bool example)
{
    if (off < s->own_from || off >= s->own_to)
        return; /* the neighbouring segment's, which sees it whole */
    const char *sec = s->data + off;
    vg_sec_finding f = {
        .rule = &r->info,
        .kind = s->ctx->kind,
        .path = s->ctx->path,
        .layer = s->ctx->layer,
        .secret = sec,
        .secret_len = len,
        .entropy = vg_sec_entropy(sec, len),
        .context = VG_SEC_CTX_EXAMPLE,
        .severity = example ? VG_SEC_LOW : r->info.severity,
    };
    if (!example) {
        if (s->path_ctx < 0)
            s->path_ctx = vg__sec_path_context(s->ctx->path);
        f.context = s->path_ctx;
    }
    if (example) {
        s->st.examples++;
        if (!(s->lim.flags & VG_SEC_SHOW_EXAMPLES))
            return;
    }
    if (f.context == VG_SEC_CTX_TEST && (s->lim.flags & VG_SEC_SKIP_TESTS) && !r->is_key) {
        s->st.skipped_tests++;
        return;
    }
    if (s->baseline) {
        char fp[VG_SEC_FINGERPRINT_LEN + 1];
        vg_sec_fingerprint(&f, fp);
        if (vg_sec_baseline_has(s->baseline, fp)) {
            s->st.baselined++;
            return;
        }
    }
    line_col(s, off, &f.line, &f.column);
    s->st.findings++;
    if (s->cb)
        s->cb(s->arg, &f);
}

/* One secret, one finding: a generic rule (a password in key=value)
 * reports nothing that a specific rule reports at the same place, in
 * whichever order the two matched, so generic findings wait for the end
 * of the buffer (flush_generic). */
static void report(vg_sec_scanner *s, const vg__sec_rule *r, const char *sec, size_t len,
                   bool example)
{
    size_t off = (size_t)(sec - s->data);
    unsigned nspec = s->nspans < VG__SEC_SPANS ? s->nspans : VG__SEC_SPANS;
    if (!r->generic) {
        s->spans[s->nspans % VG__SEC_SPANS][0] = off;
        s->spans[s->nspans % VG__SEC_SPANS][1] = off + len;
        s->nspans++;
        emit(s, r, off, len, example);
        return;
    }
    if (overlaps(s->spans, nspec, off, len))
        return;
    for (unsigned i = 0; i < s->npend; i++)
        if (off < s->pend[i].off + s->pend[i].len && s->pend[i].off < off + len)
            return;
    if (s->npend == VG__SEC_PENDING) {
        emit(s, r, off, len, example);
        return;
    }
    s->pend[s->npend++] = (struct vg__sec_pending){r, off, len, example};
}

static void flush_generic(vg_sec_scanner *s)
{
    unsigned nspec = s->nspans < VG__SEC_SPANS ? s->nspans : VG__SEC_SPANS;
    for (unsigned i = 0; i < s->npend; i++)
        if (!overlaps(s->spans, nspec, s->pend[i].off, s->pend[i].len))
            emit(s, s->pend[i].r, s->pend[i].off, s->pend[i].len, s->pend[i].example);
    s->npend = 0;
}

/* The checks after a match: entropy, the value filters of keyword rules,
 * example data, the allow-lists. */
static void check_match(vg_sec_scanner *s, const vg__sec_rule *r, const char *subj,
                        const PCRE2_SIZE *ov, int nm)
{
    int g = r->secret_group;
    if (g >= nm || ov[2 * g] == PCRE2_UNSET || ov[2 * g + 1] == ov[2 * g])
        return;
    const char *sec = subj + ov[2 * g];
    size_t sl = ov[2 * g + 1] - ov[2 * g];
    if (!entropy_ok(r, subj, ov, nm))
        return;
    if (r->literal &&
        !vg__sec_value_is_literal(s->data, s->len, (size_t)(sec - s->data), sl, s->ctx->path))
        return;
    /* Example data is recognised before the allow-lists, which drop most
     * of it as placeholders ("EXAMPLE"). */
    if (example_value(s, sec, sl)) {
        report(s, r, sec, sl, true);
        return;
    }
    if (!allowed(s, (size_t)(r - s->rs->r), r->allow_re, r->allow.n, sec, sl) &&
        !allowed(s, s->rs->n, s->rs->allow_re, s->rs->allow.n, sec, sl))
        report(s, r, sec, sl, false);
}

/* Rule ri's progress in the current buffer, reset on first use: clearing
 * the arrays of every rule for every file cost more than scanning a small
 * file. */
static void rule_state(vg_sec_scanner *s, size_t ri)
{
    if (s->epoch_of[ri] != s->epoch) {
        s->epoch_of[ri] = s->epoch;
        s->scanned_to[ri] = 0;
        s->reported_to[ri] = 0;
    }
}

/* Runs the precise expression of rule r over [from, to) of the buffer. */
static void precise(vg_sec_scanner *s, const vg__sec_rule *r, size_t from, size_t to)
{
    const char *subj = s->data + from;
    size_t len = to - from, at = 0;
    rule_state(s, (size_t)(r - s->rs->r));
    vg__sec_jit(s->rs, (size_t)(r - s->rs->r), VG__SEC_JIT_EXPR, &r->re, 1);
    while (at <= len) {
        int nm = pcre2_match(r->re, (PCRE2_SPTR)subj, len, at, 0, s->md, NULL);
        if (nm < 0)
            return;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        size_t next = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
        size_t ri = (size_t)(r - s->rs->r);
        /* Regions of one rule overlap; a match is reported once. */
        if (from + ov[0] < s->reported_to[ri]) {
            at = next;
            continue;
        }
        s->reported_to[ri] = from + ov[1];
        check_match(s, r, subj, ov, nm);
        at = next;
    }
}

static size_t line_start(const char *d, size_t off, size_t floor)
{
    while (off > floor && d[off - 1] != '\n')
        off--;
    return off;
}

static size_t line_end(const char *d, size_t off, size_t len, size_t max)
{
    size_t lim = off + max < len ? off + max : len;
    const char *nl = memchr(d + off, '\n', lim - off);
    return nl ? (size_t)(nl - d) : lim;
}

static int on_candidate(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                        void *ctx)
{
    vg_sec_scanner *s = ctx;
    /* The deadline holds inside a file: a file dense with candidates can
     * take longer than any --timeout (non-zero stops hs_scan). */
    if ((++s->ncand & 255) == 0 && vg__sec_over_limit(s))
        return 1;
    unsigned ri = s->rs->id_rule[id];
    const vg__sec_rule *r = &s->rs->r[ri];
    rule_state(s, ri);
    if (to <= s->scanned_to[ri] && s->scanned_to[ri])
        return 0;
    size_t w = r->window, start, end;
    if (r->multiline) {
        /* A match may have started before the region already looked at
         * (the prefilter of a multi-line expression can end early), so the
         * region reaches back a window; reported_to keeps findings unique. */
        start = to > w ? (size_t)to - w : 0;
        start = line_start(s->data, start, start > w ? start - w : 0);
        /* A keyword only tells where a secret may be, on either side. */
        end = (size_t)to;
        if (s->rs->id_kw[id])
            end = end + w < s->len ? end + w : s->len;
        end = line_end(s->data, end, s->len, LINE_MAX_SCAN);
    } else {
        /* Single-line rules: the candidate's line (a long one bounded), so
         * that dense candidates never make the precise check rescan. */
        size_t last = to ? (size_t)to - 1 : 0;
        start = line_start(s->data, last, last > LINE_MAX_SCAN ? last - LINE_MAX_SCAN : 0);
        if (start < s->scanned_to[ri])
            start = s->scanned_to[ri];
        end = line_end(s->data, (size_t)to, s->len, LINE_MAX_SCAN);
    }
    s->scanned_to[ri] = end;
    precise(s, r, start, end);
    return 0;
}

/* fnmatch(glob, path, 0), with the usual shapes of path globs ("*.min.js",
 * "*pgpass*": a star, plain text, maybe a star) answered by comparing
 * bytes: every file meets the global excludes, and fnmatch() costs more
 * than reading a small file. Without FNM_PATHNAME a star matches any
 * bytes, '/' included, so the comparisons mean the same. */
static bool glob_match(const char *glob, const char *path)
{
    size_t gl = strlen(glob);
    if (gl < 2 || glob[0] != '*' || strpbrk(glob + 1, "?[\\") || memchr(glob + 1, '*', gl - 2))
        return fnmatch(glob, path, 0) == 0;
    if (glob[gl - 1] == '*') {
        if (gl == 2)
            return true;
        return memmem(path, strlen(path), glob + 1, gl - 2) != NULL;
    }
    size_t pl = strlen(path), tl = gl - 1;
    return pl >= tl && !memcmp(path + pl - tl, glob + 1, tl);
}

/* Path filters: global excludes, the rule's excludes and includes. Rules
 * with path filters are rare, so they are applied per finding rather than
 * by building a database per file. */
static bool path_excluded(const vg__sec_strv *globs, const char *path)
{
    for (size_t i = 0; i < globs->n; i++)
        if (glob_match(globs->v[i], path))
            return true;
    return false;
}

/* Scans buf (a whole file, or one segment of a large one: see the
 * ownership fields of the scanner). 1 when the file is not to be scanned
 * (excluded path, binary), 0, or a negative errno. */
static int scan_buf(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len,
                    bool first)
{
    if (vg__sec_over_limit(s))
        return -ECANCELED;
    if (path_excluded(&s->rs->exclude_paths, ctx->path))
        return 1;
    if (len > UINT32_MAX) {
        s->st.skipped_large++;
        return 1;
    }
    if (first && vg__sec_is_binary(buf, len)) {
        s->st.skipped_binary++;
        return 1;
    }
    s->ctx = ctx;
    s->data = buf;
    s->len = len;
    s->line_off = 0;
    s->line_no = s->line_base;
    s->nspans = 0;
    s->npend = 0;
    s->path_ctx = -1;      /* computed at the first finding (value.c) */
    if (++s->epoch == 0) { /* wrapped: no stale state may look current */
        memset(s->epoch_of, 0, s->rs->n * sizeof(*s->epoch_of));
        s->epoch = 1;
    }
    /* Per-rule path filters: a rule that does not apply to this path has
     * its candidates muted by pretending it already looked at everything. */
    for (size_t j = 0; j < s->rs->nby_path; j++) {
        size_t i = s->rs->by_path[j];
        const vg__sec_rule *r = &s->rs->r[i];
        bool in = !r->paths.n;
        for (size_t k = 0; k < r->paths.n && !in; k++)
            in = glob_match(r->paths.v[k], ctx->path);
        if (r->kind_only && r->kind_only != 1 + ctx->kind)
            in = false;
        rule_state(s, i);
        if (!in || path_excluded(&r->exclude_paths, ctx->path))
            s->scanned_to[i] = (size_t)-1;
    }
    hs_error_t he =
        len ? hs_scan(s->rs->db, buf, (unsigned)len, 0, s->scratch, on_candidate, s) : HS_SUCCESS;
    /* Rules checked whole come last: a generic one among them (the value
     * of any key of a Kubernetes Secret) yields to the keyword rules. */
    for (size_t j = 0; j < s->rs->nby_path && he == HS_SUCCESS; j++) {
        size_t i = s->rs->by_path[j];
        if (s->rs->r[i].whole_file && s->scanned_to[i] != (size_t)-1)
            precise(s, &s->rs->r[i], 0, len);
    }
    flush_generic(s);
    s->ctx = NULL;
    s->data = NULL;
    s->st.files += first;
    s->st.bytes += (s->own_to < len ? s->own_to : len) - (s->own_from < len ? s->own_from : len);
    if (he == HS_SCAN_TERMINATED)
        return -ECANCELED;
    return he == HS_SUCCESS ? 0 : -EIO;
}

int vg__sec_scan_content(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len)
{
    s->own_from = 0;
    s->own_to = SIZE_MAX;
    s->line_base = 1;
    int rc = scan_buf(s, ctx, buf, len, true);
    return rc > 0 ? 0 : rc;
}

int vg__sec_scan_segment(vg_sec_scanner *s, const vg__sec_ctx *ctx, const char *buf, size_t len,
                         size_t own_from, size_t own_to, unsigned line_base, bool first)
{
    s->own_from = own_from;
    s->own_to = own_to;
    s->line_base = line_base;
    int rc = scan_buf(s, ctx, buf, len, first);
    s->own_from = 0;
    s->own_to = SIZE_MAX;
    s->line_base = 1;
    return rc;
}

int vg_sec_scan_buffer(vg_sec_scanner *s, const char *path, const char *buf, size_t len)
{
    vg__sec_ctx ctx = {.path = path, .kind = VG_SEC_KIND_FILE};
    return vg__sec_scan_file_content(s, &ctx, buf, len);
}
