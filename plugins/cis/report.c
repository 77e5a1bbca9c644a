/*
 * The forms of a CIS report: a table for people, docker-bench style lines
 * (`[WARN] 5.4 - Ensure ...`), JSON for scripts and SARIF 2.1.0 for code
 * scanning dashboards. Results keep the order the checks ran in.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "cis.h"

static const char *s(const char *v)
{
    return v ? v : "";
}

/* Evidence may span lines; the table shows its first line only. */
static int first_line(const char *ev)
{
    const char *nl = strchr(s(ev), '\n');
    return nl ? (int)(nl - ev) : (int)strlen(s(ev));
}

static void benchmarks_line(FILE *f, const cis_report *r);

/* Which benchmarks (and editions) the results follow, then the counts. */
static void summary(FILE *f, const cis_report *r)
{
    benchmarks_line(f, r);
    fprintf(f, "%zu checks:", r->n);
    for (int i = 0; i < CIS_NSTATUS; i++)
        fprintf(f, "%s %zu %s", i ? "," : "", r->counts[i], cis_status_name(i));
    fprintf(f, " (%.3f s)\n", r->seconds);
}

/* The benchmarks the results follow, each once, in the order met:
 * "CIS Docker Benchmark v1.6.0 (docker)". Custom checks name none. */
static void benchmarks_line(FILE *f, const cis_report *r)
{
    int shown = 0;
    for (size_t i = 0; i < r->n; i++) {
        const cis_result *x = &r->results[i];
        bool seen = !x->version;
        for (size_t j = 0; j < i && !seen; j++)
            seen = r->results[j].version && !strcmp(r->results[j].version, x->version);
        if (seen)
            continue;
        fprintf(f, "%s%s (%s)", shown++ ? ", " : "Benchmarks: ", x->version, s(x->benchmark));
    }
    if (shown)
        fputc('\n', f);
}

/* {"docker": "CIS Docker Benchmark v1.6.0", ...} */
static json_t *benchmarks_json(const cis_report *r)
{
    json_t *b = json_object();
    for (size_t i = 0; i < r->n; i++)
        if (r->results[i].version && r->results[i].benchmark)
            json_object_set_new(b, r->results[i].benchmark, json_string(r->results[i].version));
    return b;
}

int cis_print_table(FILE *f, const cis_report *r)
{
    fprintf(f, "%-6s  %-10s  %-10s  %-60s  %s\n", "STATUS", "ID", "TARGET", "TITLE", "EVIDENCE");
    for (size_t i = 0; i < r->n; i++) {
        const cis_result *x = &r->results[i];
        const char *ev = s(x->evidence);
        fprintf(f, "%-6s  %-10s  %-10s  %-60.60s  %.*s\n", cis_status_name(x->status), s(x->id),
                s(x->target), s(x->title), first_line(ev) > 100 ? 100 : first_line(ev), ev);
    }
    summary(f, r);
    return ferror(f) ? -EIO : 0;
}

int cis_print_text(FILE *f, const cis_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const cis_result *x = &r->results[i];
        fprintf(f, "[%s] %s - %s\n", cis_status_name(x->status), s(x->id), s(x->title));
        /* docker-bench prints the offending objects below the line. */
        for (const char *p = s(x->evidence); *p && x->status != CIS_PASS;) {
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            fprintf(f, "      * %.*s\n", len, p);
            p += len + (nl ? 1 : 0);
        }
    }
    summary(f, r);
    return ferror(f) ? -EIO : 0;
}

static json_t *tags_json(const cis_result *x)
{
    json_t *t = json_object();
    for (size_t i = 0; i < x->ntags; i++) {
        json_t *a = json_object_get(t, x->tags[i].framework);
        if (!a)
            json_object_set_new(t, x->tags[i].framework, a = json_array());
        json_array_append_new(a, json_string(x->tags[i].control));
    }
    return t;
}

static json_t *result_json(const cis_result *x)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:s, s:o, s:s}", "id",
                          s(x->id), "benchmark", s(x->benchmark), "title", s(x->title), "target",
                          s(x->target), "status", cis_status_name(x->status), "evidence",
                          s(x->evidence), "level", x->level, "automated", x->automated, "scored",
                          x->scored, "remediation", s(x->remediation), "tags", tags_json(x),
                          "file", s(x->file));
    if (o && x->version)
        json_object_set_new(o, "version", json_string(x->version));
    if (o && x->description)
        json_object_set_new(o, "description", json_string(x->description));
    return o;
}

static int dump(FILE *f, json_t *doc)
{
    if (!doc)
        return -ENOMEM;
    int rc = json_dumpf(doc, f, JSON_INDENT(2)) < 0 ? -EIO : 0;
    fputc('\n', f);
    json_decref(doc);
    return rc;
}

int cis_print_json(FILE *f, const cis_report *r)
{
    json_t *res = json_array(), *sum = json_object();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(res, result_json(&r->results[i]));
    for (int i = 0; i < CIS_NSTATUS; i++)
        json_object_set_new(sum, cis_status_name(i), json_integer((json_int_t)r->counts[i]));
    return dump(f, json_pack("{s:o, s:o, s:o, s:f}", "benchmarks", benchmarks_json(r), "summary",
                             sum, "results", res, "seconds", r->seconds));
}

/* SARIF: one rule per check, one result per WARN (warning) or ERROR. */
int cis_print_sarif(FILE *f, const cis_report *r)
{
    json_t *rules = json_array(), *results = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const cis_result *x = &r->results[i];
        char rule[160];
        snprintf(rule, sizeof(rule), "%s/%s", x->benchmark ? x->benchmark : "custom", s(x->id));
        json_array_append_new(
            rules, json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:o, s:i, s:s}}", "id", rule,
                             "shortDescription", "text", s(x->title), "help", "text",
                             s(x->remediation), "properties", "tags", tags_json(x), "level",
                             x->level, "benchmarkVersion", s(x->version)));
        if (x->status != CIS_WARN && x->status != CIS_ERROR)
            continue;
        json_array_append_new(
            results, json_pack("{s:s, s:I, s:s, s:{s:s}}", "ruleId", rule, "ruleIndex",
                               (json_int_t)i, "level", x->status == CIS_WARN ? "warning" : "error",
                               "message", "text", *s(x->evidence) ? s(x->evidence) : s(x->title)));
    }
    return dump(f, json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}", "$schema",
                             "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0",
                             "runs", "tool", "driver", "name", "vigil-scan bench", "version",
                             VIGIL_VERSION, "rules", rules, "results", results));
}
