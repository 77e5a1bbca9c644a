/*
 * The compiled rule set: one PCRE2 expression per rule for the precise
 * check, and one vectorscan database with every rule's expression in
 * prefilter mode, so that a file is read once for all rules. Prefilter
 * mode accepts a superset of what the expression matches (it drops the
 * constructs vectorscan cannot run, such as look-arounds), which is what a
 * first pass needs; most rules, though, are prefiltered by their literal
 * keywords (see build_patterns()).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_int.h"

#ifndef VIGIL_SECRETS_RULES_INSTALLED
#define VIGIL_SECRETS_RULES_INSTALLED "/usr/share/vigil/secrets/rules.lua"
#endif
#ifndef VIGIL_SECRETS_RULES_SOURCE
#define VIGIL_SECRETS_RULES_SOURCE "lua/secrets/rules.lua"
#endif

#define DEFAULT_WINDOW 512

const char *vg_sec_default_rules_path(void)
{
    const char *env = getenv("VIGIL_SECRETS_RULES");
    if (env && *env)
        return env;
    FILE *f = fopen(VIGIL_SECRETS_RULES_INSTALLED, "re");
    if (f) {
        fclose(f);
        return VIGIL_SECRETS_RULES_INSTALLED;
    }
    return VIGIL_SECRETS_RULES_SOURCE;
}

void vg_sec_rules_free(vg_sec_rules *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        vg__sec_rule_clear(&rs->r[i]);
    free(rs->r);
    if (rs->allow_re)
        for (size_t i = 0; i < rs->allow.n; i++)
            pcre2_code_free(rs->allow_re[i]);
    free(rs->allow_re);
    vg__sec_strv_free(&rs->allow);
    vg__sec_strv_free(&rs->exclude_paths);
    vg__sec_strv_free(&rs->examples);
    hs_free_database(rs->db);
    free(rs->id_rule);
    free(rs->id_kw);
    free(rs->by_path);
    free((void *)rs->jitted);
    free(rs);
}

size_t vg_sec_rules_count(const vg_sec_rules *rs)
{
    return rs->n;
}

const vg_sec_rule_info *vg_sec_rules_info(const vg_sec_rules *rs, size_t i)
{
    return i < rs->n ? &rs->r[i].info : NULL;
}

const char *vg_sec_rules_regex(const vg_sec_rules *rs, size_t i)
{
    return i < rs->n ? rs->r[i].regex : NULL;
}

static pcre2_code *re_compile(const char *pat, uint32_t opts, char *err, size_t errlen,
                              const char *what)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        snprintf(err, errlen, "%s: bad expression at offset %zu: %s", what, (size_t)eo,
                 (char *)msg);
        return NULL;
    }
    /* JIT compiled on first use (jit.c). */
    return re;
}

static int allow_compile(vg__sec_strv *sv, pcre2_code ***out, char *err, size_t errlen,
                         const char *what)
{
    if (!sv->n)
        return 0;
    if (!(*out = calloc(sv->n, sizeof(**out))))
        return -ENOMEM;
    for (size_t i = 0; i < sv->n; i++)
        if (!((*out)[i] = re_compile(sv->v[i], PCRE2_CASELESS, err, errlen, what)))
            return -EINVAL;
    return 0;
}

/* tags is "a,b,c". */
static bool has_tag(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, tag, n))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Sets the info view and the defaults that depend on the expression. */
static int rule_finish(vg__sec_rule *r, char *err, size_t errlen)
{
    char what[96];
    snprintf(what, sizeof(what), "rule '%.64s'", r->id);
    if (!(r->re = re_compile(r->regex, PCRE2_MULTILINE, err, errlen, what)))
        return -EINVAL;
    uint32_t groups = 0;
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (r->secret_group < 0)
        r->secret_group = groups ? 1 : 0;
    if ((uint32_t)r->secret_group > groups || groups >= VG__SEC_MAX_GROUPS - 1) {
        snprintf(err, errlen, "%s: secret_group %d, but %u groups (at most %d)", what,
                 r->secret_group, groups, VG__SEC_MAX_GROUPS - 2);
        return -EINVAL;
    }
    /* A bare number bound was parked in the last slot (rules_lua.c). */
    double bare = r->ent_min[VG__SEC_MAX_GROUPS - 1];
    if (bare > 0 && r->ent_min[r->secret_group] == 0)
        r->ent_min[r->secret_group] = bare;
    r->ent_min[VG__SEC_MAX_GROUPS - 1] = 0;
    /* A rule that names its window may match across lines; the others are
     * checked on the candidate's line only (see scan.c). */
    r->multiline = r->window != 0;
    if (!r->window)
        r->window = DEFAULT_WINDOW;
    int rc = allow_compile(&r->allow, &r->allow_re, err, errlen, what);
    if (rc < 0)
        return rc;
    r->generic = has_tag(r->tags, "generic");
    r->is_key = has_tag(r->tags, "key");
    r->info.id = r->id;
    r->info.description = r->description ? r->description : r->id;
    r->info.tags = r->tags ? r->tags : "";
    r->info.example_hit = r->hit;
    r->info.example_miss = r->miss;
    r->info.example_path = r->expath ? r->expath : "example.txt";
    return 0;
}

/* Escapes a keyword as a literal vectorscan expression. */
static char *literal(const char *kw)
{
    char *out = malloc(strlen(kw) * 4 + 1), *p = out;
    if (!out)
        return NULL;
    for (; *kw; kw++)
        p += sprintf(p, "\\x%02x", (unsigned char)*kw);
    *p = 0;
    return out;
}

static bool hs_accepts(const char *expr, unsigned flags)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_expression_info(expr, flags, &info, &ce) != HS_SUCCESS) {
        hs_free_compile_error(ce);
        return false;
    }
    free(info);
    return true;
}

struct patterns {
    char **expr;
    unsigned *flags, *ids;
    size_t n;
};

static int add_pattern(struct patterns *p, vg_sec_rules *rs, char *expr, unsigned flags,
                       unsigned rule, bool kw)
{
    size_t n = p->n + 1;
    char **e = realloc(p->expr, n * sizeof(*e));
    if (e)
        p->expr = e;
    unsigned *f = realloc(p->flags, n * sizeof(*f));
    if (f)
        p->flags = f;
    unsigned *idr = realloc(rs->id_rule, n * sizeof(*idr));
    if (idr)
        rs->id_rule = idr;
    unsigned *ids = realloc(p->ids, n * sizeof(*ids));
    if (ids)
        p->ids = ids;
    unsigned char *ik = realloc(rs->id_kw, n);
    if (ik)
        rs->id_kw = ik;
    if (!e || !f || !idr || !ids || !ik || !expr) {
        free(expr);
        return -ENOMEM;
    }
    p->expr[p->n] = expr;
    p->flags[p->n] = flags;
    p->ids[p->n] = (unsigned)p->n;
    rs->id_rule[p->n] = rule;
    rs->id_kw[p->n] = kw;
    p->n = n;
    return 0;
}

/* Each rule is prefiltered by its keywords when it has distinctive ones (3
 * characters or more, all of them): vectorscan matches a few hundred
 * literals at memory speed, where the union of 150 expressions in
 * prefilter mode runs at a few hundred MB/s, and a literal is also the one
 * pattern it cannot get wrong (vectorscan 5.4.9 misses some matches of its
 * own prefilter expressions, e.g. `"-----B[^"]*"` over a JSON private key).
 * The other rules are prefiltered by their expression. Either way the
 * precise check is the same, so a keyword must occur (caselessly) in every
 * match of its rule. */
static bool keywords_usable(const vg__sec_rule *r)
{
    if (!r->keywords.n)
        return false;
    for (size_t k = 0; k < r->keywords.n; k++) {
        const char *kw = r->keywords.v[k];
        size_t len = strlen(kw);
        /* Two characters will do when one is punctuation ("Q~"). */
        if (len < 2 || (len == 2 && isalnum((unsigned char)kw[0]) && isalnum((unsigned char)kw[1])))
            return false;
    }
    return true;
}

static int build_patterns(vg_sec_rules *rs, struct patterns *p, char *err, size_t errlen)
{
    const unsigned pre = HS_FLAG_PREFILTER | HS_FLAG_MULTILINE;
    for (size_t i = 0; i < rs->n; i++) {
        vg__sec_rule *r = &rs->r[i];
        int rc = 0;
        /* A rule for a few named files (.pgpass) without good keywords is
         * checked in full on those files only (scan.c), not prefiltered. */
        r->whole_file = (r->paths.n || r->kind_only) && !keywords_usable(r) && !r->pre_regex;
        if (r->whole_file)
            continue;
        /* The rule's own cheaper superset of its expression: like a
         * keyword, it only tells where a match may be (id_kw). */
        if (r->pre_regex) {
            r->by_keywords = false;
            if (!hs_accepts(r->pre_regex, pre)) {
                snprintf(err, errlen, "rule '%.64s': vectorscan cannot compile prefilter_regex",
                         r->id);
                return -EINVAL;
            }
            rc = add_pattern(p, rs, strdup(r->pre_regex), pre, (unsigned)i, true);
            if (rc < 0)
                return rc;
            continue;
        }
        /* A rule may choose: frequent keywords ("key", "token") cost more
         * precise checks than the expression costs vectorscan. */
        bool kw = r->prefilter == 1 ? r->keywords.n > 0 : r->prefilter == 0 && keywords_usable(r);
        r->by_keywords = kw || !hs_accepts(r->regex, pre);
        if (!r->by_keywords) {
            rc = add_pattern(p, rs, strdup(r->regex), pre, (unsigned)i, false);
        } else if (!r->keywords.n) {
            snprintf(err, errlen,
                     "rule '%.64s': vectorscan cannot prefilter the expression; give it keywords",
                     r->id);
            return -EINVAL;
        }
        for (size_t k = 0; r->by_keywords && k < r->keywords.n && rc == 0; k++)
            rc = add_pattern(p, rs, literal(r->keywords.v[k]), HS_FLAG_CASELESS, (unsigned)i, true);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Once whole_file is known (built or read from the cache). */
static int index_by_path(vg_sec_rules *rs)
{
    rs->nby_path = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const vg__sec_rule *r = &rs->r[i];
        if (r->paths.n || r->exclude_paths.n || r->whole_file || r->kind_only)
            rs->by_path[rs->nby_path++] = (unsigned)i;
    }
    return 0;
}

int vg__sec_rules_compile(vg_sec_rules *rs, char *err, size_t errlen)
{
    for (size_t i = 0; i < rs->n; i++) {
        int rc = rule_finish(&rs->r[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    int rc = allow_compile(&rs->allow, &rs->allow_re, err, errlen, "global allow-list");
    if (rc < 0)
        return rc;
    if (!rs->n) {
        snprintf(err, errlen, "no rules");
        return -EINVAL;
    }
    if (!(rs->by_path = calloc(rs->n, sizeof(*rs->by_path))) ||
        !(rs->jitted = calloc(rs->n + 1, sizeof(*rs->jitted))))
        return -ENOMEM;
    uint64_t key = vg__sec_cache_key(rs);
    if (vg__sec_cache_load(rs, key) == 0)
        return index_by_path(rs);
    struct patterns p = {0};
    rc = build_patterns(rs, &p, err, errlen);
    if (rc == 0) {
        hs_compile_error_t *ce = NULL;
        if (hs_compile_multi((const char *const *)p.expr, p.flags, p.ids, (unsigned)p.n,
                             HS_MODE_BLOCK, NULL, &rs->db, &ce) != HS_SUCCESS) {
            unsigned at = ce && ce->expression >= 0 ? (unsigned)ce->expression : 0;
            snprintf(err, errlen, "rule '%.64s': vectorscan: %s",
                     at < p.n ? rs->r[rs->id_rule[at]].id : "?", ce ? ce->message : "error");
            hs_free_compile_error(ce);
            rc = -EINVAL;
        }
        rs->nids = p.n;
        if (rc == 0)
            vg__sec_cache_store(rs, key);
    }
    if (rc == 0)
        rc = index_by_path(rs);
    for (size_t i = 0; i < p.n; i++)
        free(p.expr[i]);
    free(p.expr);
    free(p.flags);
    free(p.ids);
    return rc;
}

int vg_sec_rules_load(const char *const *files, size_t nfiles, vg_sec_rules **out, char *err,
                      size_t errlen)
{
    vg_sec_rules *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < nfiles && rc == 0; i++)
        rc = vg__sec_rules_read_lua(rs, files[i], err, errlen);
    if (rc == 0)
        rc = vg__sec_rules_compile(rs, err, errlen);
    if (rc < 0) {
        vg_sec_rules_free(rs);
        return rc;
    }
    *out = rs;
    return 0;
}
