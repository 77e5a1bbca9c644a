/*
 * Findings as the user sees them: text lines, a JSON document, or SARIF
 * 2.1.0 that GitHub code scanning accepts. A report copies the masked
 * secret at the time of the finding, so the raw bytes are never kept
 * (unless the user asked for --reveal).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

struct item {
    const vg_sec_rule_info *rule;
    int kind, context, severity;
    char *path, *layer, *secret;
    unsigned line, column;
    double entropy;
    char fingerprint[VG_SEC_FINGERPRINT_LEN + 1];
};

struct vg_sec_report {
    bool reveal;
    struct item *v;
    size_t n, cap;
};

int vg_sec_report_new(bool reveal, vg_sec_report **out)
{
    if (!(*out = calloc(1, sizeof(**out))))
        return -ENOMEM;
    (*out)->reveal = reveal;
    return 0;
}

void vg_sec_report_free(vg_sec_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].path);
        free(r->v[i].layer);
        if (r->v[i].secret)
            memset(r->v[i].secret, 0, strlen(r->v[i].secret));
        free(r->v[i].secret);
    }
    free(r->v);
    free(r);
}

size_t vg_sec_report_count(const vg_sec_report *r)
{
    return r->n;
}

void vg_sec_report_add(void *report, const vg_sec_finding *f)
{
    vg_sec_report *r = report;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct item *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return;
        r->v = v;
        r->cap = cap;
    }
    struct item *it = &r->v[r->n];
    *it = (struct item){
        .rule = f->rule,
        .kind = f->kind,
        .context = f->context,
        .severity = f->severity,
        .path = strdup(f->path),
        .layer = f->layer ? strdup(f->layer) : NULL,
        .line = f->line,
        .column = f->column,
        .entropy = f->entropy,
    };
    vg_sec_fingerprint(f, it->fingerprint);
    if (r->reveal) {
        /* Whole, but printable: JSON needs valid text and a terminal
         * should not get control bytes. */
        if ((it->secret = strndup(f->secret, f->secret_len)))
            for (char *c = it->secret; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                    *c = '?';
    } else if ((it->secret = malloc(32))) {
        vg_sec_mask(f->secret, f->secret_len, it->secret, 32);
    }
    if (!it->path || !it->secret || (f->layer && !it->layer)) {
        free(it->path);
        free(it->layer);
        free(it->secret);
        return;
    }
    r->n++;
}

static void text_line(const struct item *it, FILE *out)
{
    fprintf(out, "%s:%u:%u: %s %s: %s%s%s [%s%s%s] secret=%s entropy=%.2f\n", it->path, it->line,
            it->column, vg_sec_severity_name(it->severity), it->rule->id, it->rule->description,
            it->layer ? " in layer " : "", it->layer ? it->layer : "", vg_sec_kind_name(it->kind),
            it->context ? ", " : "", vg_sec_context_name(it->context), it->secret, it->entropy);
}

/* Findings in test paths and example data after the others, under a
 * heading each: they are listed, but a reader starts with the rest. */
int vg_sec_report_text(const vg_sec_report *r, FILE *out)
{
    static const char *const heading[] = {NULL, "in test paths", "known example values"};
    for (int ctx = VG_SEC_CTX_NONE; ctx <= VG_SEC_CTX_EXAMPLE; ctx++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n; i++)
            n += r->v[i].context == ctx;
        if (n && heading[ctx])
            fprintf(out, "\n%zu finding(s) %s:\n", n, heading[ctx]);
        for (size_t i = 0; i < r->n; i++)
            if (r->v[i].context == ctx)
                text_line(&r->v[i], out);
    }
    return ferror(out) ? -EIO : 0;
}

static json_t *item_json(const struct item *it)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:f}", "rule", it->rule->id,
                          "description", it->rule->description, "severity",
                          vg_sec_severity_name(it->severity), "kind", vg_sec_kind_name(it->kind),
                          "path", it->path, "line", (int)it->line, "column", (int)it->column,
                          "secret", it->secret, "entropy", it->entropy);
    if (o && it->layer)
        json_object_set_new(o, "layer", json_string(it->layer));
    if (o && it->context)
        json_object_set_new(o, "context", json_string(vg_sec_context_name(it->context)));
    if (o)
        json_object_set_new(o, "fingerprint", json_string(it->fingerprint));
    return o;
}

static int dump(json_t *doc, FILE *out)
{
    if (!doc)
        return -ENOMEM;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : -EIO;
    fputc('\n', out);
    json_decref(doc);
    return rc;
}

int vg_sec_report_json(const vg_sec_report *r, const vg_sec_stats *st, FILE *out)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n; i++)
        json_array_append_new(arr, item_json(&r->v[i]));
    json_t *stats = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "files",
        (json_int_t)st->files, "bytes", (json_int_t)st->bytes, "findings", (json_int_t)st->findings,
        "skipped_binary", (json_int_t)st->skipped_binary, "skipped_large",
        (json_int_t)st->skipped_large, "skipped_symlink", (json_int_t)st->skipped_symlink,
        "skipped_other", (json_int_t)st->skipped_other, "skipped_depth",
        (json_int_t)st->skipped_depth, "layers", (json_int_t)st->layers, "baselined",
        (json_int_t)st->baselined, "skipped_tests", (json_int_t)st->skipped_tests, "examples",
        (json_int_t)st->examples, "truncated", st->truncated);
    return dump(json_pack("{s:o, s:o}", "findings", arr, "stats", stats), out);
}

static const char *sarif_level(int sev)
{
    return sev >= VG_SEC_HIGH ? "error" : sev == VG_SEC_MEDIUM ? "warning" : "note";
}

/* GitHub ranks security results by this property (0.0 - 10.0). */
static const char *security_severity(int sev)
{
    static const char *const s[] = {"3.0", "5.5", "8.0", "9.5"};
    return sev >= 0 && sev < 4 ? s[sev] : "5.0";
}

static json_t *sarif_rules(const vg_sec_rules *rs)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < vg_sec_rules_count(rs); i++) {
        const vg_sec_rule_info *ri = vg_sec_rules_info(rs, i);
        json_t *tags = json_array();
        json_array_append_new(tags, json_string("security"));
        json_array_append_new(tags, json_string("secret"));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}, s:{s:o, s:s}}", "id",
                                             ri->id, "name", ri->id, "shortDescription", "text",
                                             ri->description, "defaultConfiguration", "level",
                                             sarif_level(ri->severity), "properties", "tags", tags,
                                             "security-severity", security_severity(ri->severity)));
    }
    return arr;
}

static json_t *sarif_result(const struct item *it)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "%s (%s%s%s): %s", it->rule->description, vg_sec_kind_name(it->kind),
             it->layer ? ", layer " : "", it->layer ? it->layer : "", it->secret);
    json_t *res = json_pack("{s:s, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:{s:i, s:i}}}]}", "ruleId",
                            it->rule->id, "level", sarif_level(it->severity), "message", "text",
                            msg, "locations", "physicalLocation", "artifactLocation", "uri",
                            it->path, "region", "startLine", (int)(it->line ? it->line : 1),
                            "startColumn", (int)(it->column ? it->column : 1));
    if (res && it->layer)
        json_object_set_new(res, "properties", json_pack("{s:s}", "layer", it->layer));
    return res;
}

int vg_sec_report_sarif(const vg_sec_report *r, const vg_sec_rules *rs, FILE *out)
{
    json_t *results = json_array();
    for (size_t i = 0; results && i < r->n; i++)
        json_array_append_new(results, sarif_result(&r->v[i]));
    json_t *doc =
        json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "version", "2.1.0",
                  "$schema", SARIF_SCHEMA, "runs", "tool", "driver", "name", "vigil-scan",
                  "version", VIGIL_VERSION, "informationUri", "https://github.com/vigil/vigil",
                  "rules", sarif_rules(rs), "results", results);
    return dump(doc, out);
}

int vg_sec_report_baseline(const vg_sec_report *r, FILE *out)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n; i++) {
        const struct item *it = &r->v[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i}", "fingerprint", it->fingerprint,
                                             "rule", it->rule->id, "path", it->path, "line",
                                             (int)it->line));
    }
    return dump(json_pack("{s:i, s:o}", "version", 1, "findings", arr), out);
}
