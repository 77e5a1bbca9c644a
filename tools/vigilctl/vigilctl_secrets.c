/*
 * vigilctl: secrets scan|show, the control command of the secrets plugin.
 *
 *   secrets scan --workload W | --path DIR [--wait [--timeout S]]
 *   secrets show [--workload W | --path DIR]
 *
 * The plugin scans on its own thread, so `scan` returns once the scan is
 * queued; with --wait it then asks for the report until one as new as the
 * request is stored. Secrets are masked by the plugin; this file never sees
 * a whole one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mp.h"
#include "vigilctl.h"

typedef struct secrets_opts {
    const char *workload, *path;
    bool wait;
    long timeout; /* seconds */
} secrets_opts;

static int secrets_opt(void *arg, int opt, const char *val)
{
    secrets_opts *o = arg;
    char *end;
    switch (opt) {
    case 'w':
        o->workload = val;
        return VCTL_OK;
    case 'p':
        o->path = val;
        return VCTL_OK;
    case 'W':
        o->wait = true;
        return VCTL_OK;
    case 't':
        o->timeout = strtol(val, &end, 10);
        if (*end || o->timeout <= 0) {
            fprintf(stderr, "vigilctl secrets: --timeout wants seconds, not '%s'\n", val);
            return VCTL_USAGE;
        }
        return VCTL_OK;
    default:
        return VCTL_USAGE;
    }
}

static void pack_args(msgpack_sbuffer *sb, const char *op, const secrets_opts *o)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1 + !!o->workload + !!o->path);
    vg_mp_pack_kv_str(&pk, "op", op);
    if (o->workload)
        vg_mp_pack_kv_str(&pk, "workload", o->workload);
    if (o->path)
        vg_mp_pack_kv_str(&pk, "path", o->path);
}

/* Calls the daemon's "secrets" command; the result must have type want. */
static int secrets_call(vctl_ctx *c, const char *op, const secrets_opts *o, vctl_reply *r,
                        msgpack_object_type want)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_args(&sb, op, o);
    int rc = vctl_call(c, "secrets", &sb, r, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != VCTL_OK)
        return rc;
    if (r->result->type != want) {
        vctl_reply_free(r);
        return vctl_bad_result("secrets", want == MSGPACK_OBJECT_MAP ? "a map" : "a list");
    }
    return VCTL_OK;
}

static const msgpack_object *report_items(const msgpack_object *rep)
{
    const msgpack_object *items = vg_mp_get(rep, "items");
    return items && items->type == MSGPACK_OBJECT_ARRAY ? items : NULL;
}

/* One line per report: what was scanned, when, and how much. */
static void print_summary(const msgpack_object *rep)
{
    const msgpack_object *who = vg_mp_get(rep, "workload");
    char *target = vctl_cell(who ? who : vg_mp_get(rep, "target"), VCTL_NO_LIMIT);
    char when[32], files[32], bytes[32], found[32];
    int64_t t = 0, err = 0;
    vg_mp_get_int(rep, "time", &t);
    vg_mp_get_int(rep, "error", &err);
    const msgpack_object *tr = vg_mp_get(rep, "truncated");
    printf("%s: scanned %s, %s files, %s, %s findings%s", target,
           vctl_fmt_time(t * 1000000000, when), vctl_num(rep, "files", files),
           vctl_bytes(rep, "bytes", bytes), vctl_num(rep, "findings", found),
           tr && tr->type == MSGPACK_OBJECT_BOOLEAN && tr->via.boolean ? " (truncated)" : "");
    if (err)
        printf(", error: %s", strerror((int)-err));
    putchar('\n');
    free(target);
}

static char *file_line(const msgpack_object *f)
{
    char *path = vctl_cell_get(f, "path"), line[32];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vctl_sb_puts(&sb, path);
    vctl_sb_puts(&sb, ":");
    vctl_sb_puts(&sb, vctl_num(f, "line", line));
    free(path);
    return vctl_sb_take(&sb);
}

static void print_reports(const msgpack_object *arr)
{
    static const char *const heads[] = {"TARGET", "RULE", "SEVERITY", "FILE:LINE", "SECRET", NULL};
    size_t n = 0;
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        print_summary(&arr->via.array.ptr[i]);
        const msgpack_object *items = report_items(&arr->via.array.ptr[i]);
        n += items ? items->via.array.size : 0;
    }
    if (!arr->via.array.size)
        puts("no reports yet");
    if (!n)
        return;
    vctl_table t;
    vctl_table_init(&t, heads);
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *items = report_items(&arr->via.array.ptr[i]);
        for (uint32_t k = 0; items && k < items->via.array.size; k++) {
            const msgpack_object *f = &items->via.array.ptr[k];
            const msgpack_object *who = vg_mp_get(f, "workload");
            char *row[] = {vctl_cell(who ? who : vg_mp_get(f, "target"), VCTL_NO_LIMIT),
                           vctl_cell_get(f, "rule"), vctl_cell_get(f, "level"), file_line(f),
                           vctl_cell_get(f, "secret")};
            if (who && strlen(row[0]) > 12)
                row[0][12] = '\0'; /* a container id's prefix, as in `workloads` */
            vctl_table_add(&t, row);
        }
    }
    putchar('\n');
    vctl_table_print(&t);
}

/* --json: one object per finding per line (jq and grep work line by line). */
static void print_findings_json(const msgpack_object *arr)
{
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *items = report_items(&arr->via.array.ptr[i]);
        for (uint32_t k = 0; items && k < items->via.array.size; k++)
            vctl_print_json(&items->via.array.ptr[k]);
    }
}

static int do_show(vctl_ctx *c, const secrets_opts *o)
{
    vctl_reply r;
    int rc = secrets_call(c, "show", o, &r, MSGPACK_OBJECT_ARRAY);
    if (rc != VCTL_OK)
        return rc;
    if (c->json)
        print_findings_json(r.result);
    else
        print_reports(r.result);
    vctl_reply_free(&r);
    return VCTL_OK;
}

/* Whether the show reply holds a report for the request `req`. */
static bool has_report(const msgpack_object *arr, int64_t req)
{
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        int64_t got = 0;
        if (vg_mp_get_int(&arr->via.array.ptr[i], "requested", &got) == 0 && got >= req)
            return true;
    }
    return false;
}

/* Asks for the report every 200 ms until it is as new as the request. */
static int wait_report(vctl_ctx *c, const secrets_opts *o, int64_t req)
{
    struct timespec nap = {0, 200 * 1000000L};
    for (long i = 0; i < o->timeout * 5; i++) {
        vctl_reply r;
        int rc = secrets_call(c, "show", o, &r, MSGPACK_OBJECT_ARRAY);
        if (rc != VCTL_OK)
            return rc;
        bool done = has_report(r.result, req);
        vctl_reply_free(&r);
        if (done)
            return do_show(c, o);
        nanosleep(&nap, NULL);
    }
    fprintf(stderr, "vigilctl secrets scan: no report within %ld s (the scan goes on)\n",
            o->timeout);
    return VCTL_ERR;
}

static int do_scan(vctl_ctx *c, const secrets_opts *o)
{
    vctl_reply r;
    int rc = secrets_call(c, "scan", o, &r, MSGPACK_OBJECT_MAP);
    if (rc != VCTL_OK)
        return rc;
    int64_t req = 0;
    vg_mp_get_int(r.result, "requested", &req);
    if (!o->wait) {
        if (c->json) {
            vctl_print_json(r.result);
        } else {
            char *who = vctl_cell_get(r.result, o->workload ? "workload" : "target");
            printf("scan of %s queued; see `vigilctl secrets show`\n", who);
            free(who);
        }
    }
    vctl_reply_free(&r);
    return o->wait ? wait_report(c, o, req) : VCTL_OK;
}

int vctl_cmd_secrets(vctl_ctx *c, int argc, char **argv)
{
    static const struct option lopts[] = {{"workload", required_argument, NULL, 'w'},
                                          {"path", required_argument, NULL, 'p'},
                                          {"wait", no_argument, NULL, 'W'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {NULL, 0, NULL, 0}};
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
            return vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
        fprintf(stderr, "vigilctl secrets: which one: scan or show?\n");
        return VCTL_USAGE;
    }
    const char *op = argv[1];
    secrets_opts o = {.timeout = 300};
    int rest = 0;
    /* getopt sees "secrets" as argv[0] and the op as the first operand. */
    int rc = vctl_parse_opts(c, argc, argv, "w:p:", lopts, secrets_opt, &o, &rest);
    if (rc >= 0)
        return rc;
    bool scan = strcmp(op, "scan") == 0;
    if (argc - rest != 1 || (!scan && strcmp(op, "show") != 0)) {
        fprintf(stderr, "vigilctl secrets: scan or show, then options only\n");
        return VCTL_USAGE;
    }
    if (o.workload && o.path) {
        fprintf(stderr, "vigilctl secrets %s: --workload or --path, not both\n", op);
        return VCTL_USAGE;
    }
    if (scan && !o.workload && !o.path) {
        fprintf(stderr, "vigilctl secrets scan: which one: --workload W or --path DIR?\n");
        return VCTL_USAGE;
    }
    /* The daemon wants an absolute path; the user's cwd is not its own. */
    char abs[PATH_MAX];
    if (o.path && realpath(o.path, abs))
        o.path = abs;
    if (!scan && o.wait) {
        fprintf(stderr, "vigilctl secrets show: --wait is for scan\n");
        return VCTL_USAGE;
    }
    return scan ? do_scan(c, &o) : do_show(c, &o);
}
