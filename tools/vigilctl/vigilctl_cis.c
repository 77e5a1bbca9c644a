/*
 * vigilctl: bench run | bench show (also spelt cis), the cis plugin's command "bench".
 *
 * The plugin owns the ops: the op is sent as typed, so that an op the
 * plugin does not know is its error (exit 1), as is a target it does not
 * know. A run is only queued: its results come later, as bench.result
 * events and as the stored report that `bench show` prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "vigilctl.h"

#define TITLE_COLS 70
#define EVIDENCE_COLS 60

typedef struct bench_opts {
    const char *target, *workload, *tag;
} bench_opts;

static int bench_opt(void *arg, int opt, const char *val)
{
    bench_opts *o = arg;
    if (opt == 't')
        o->target = val;
    else if (opt == 'w')
        o->workload = val;
    else if (opt == 'T')
        o->tag = val;
    else
        return VCTL_USAGE;
    return VCTL_OK;
}

static void pack_args(msgpack_sbuffer *sb, const char *op, const bench_opts *o)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1 + !!o->target + !!o->workload + !!o->tag);
    vg_mp_pack_kv_str(&pk, "op", op);
    if (o->target)
        vg_mp_pack_kv_str(&pk, "target", o->target);
    if (o->workload)
        vg_mp_pack_kv_str(&pk, "workload", o->workload);
    if (o->tag)
        vg_mp_pack_kv_str(&pk, "tag", o->tag);
}

static void print_queued(const msgpack_object *res)
{
    char *target = vctl_cell_get(res, "target"), *wl = vctl_cell_get(res, "workload");
    if (strcmp(wl, "-") != 0)
        printf("queued a run (target %s) for %s; see 'vigilctl bench show --workload %s'\n", target,
               wl, wl);
    else
        printf("queued a run (target %s); see 'vigilctl bench show --target %s'\n", target, target);
    free(target), free(wl);
}

/* The first line of the evidence: the table has one line per check. */
static char *evidence_cell(const msgpack_object *x)
{
    const msgpack_object *ev = vg_mp_get(x, "evidence");
    if (!ev || ev->type != MSGPACK_OBJECT_STR)
        return vctl_cell(ev, EVIDENCE_COLS);
    const char *nl = memchr(ev->via.str.ptr, '\n', ev->via.str.size);
    msgpack_object first = *ev;
    if (nl)
        first.via.str.size = (uint32_t)(nl - ev->via.str.ptr);
    return vctl_cell(&first, EVIDENCE_COLS);
}

/* The benchmark editions the results follow, each once ("CIS Docker
 * Benchmark v1.6.0"): an auditor's "5.16" means one edition's 5.16. */
static void print_versions(const msgpack_object *results)
{
    const msgpack_object *seen[8];
    size_t nseen = 0;
    for (uint32_t i = 0; i < results->via.array.size && nseen < 8; i++) {
        const msgpack_object *v = vg_mp_get(&results->via.array.ptr[i], "version");
        if (!v || v->type != MSGPACK_OBJECT_STR || !v->via.str.size)
            continue;
        bool dup = false;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = seen[j]->via.str.size == v->via.str.size &&
                  !memcmp(seen[j]->via.str.ptr, v->via.str.ptr, v->via.str.size);
        if (dup)
            continue;
        printf("%s%.*s", nseen ? ", " : "\nBenchmarks: ", (int)v->via.str.size, v->via.str.ptr);
        seen[nseen++] = v;
    }
    if (nseen)
        putchar('\n');
}

static void print_report(const msgpack_object *res, const msgpack_object *results)
{
    static const char *const heads[] = {"STATUS", "ID", "TITLE", "EVIDENCE", NULL};
    vctl_table t;
    vctl_table_init(&t, heads);
    for (uint32_t i = 0; i < results->via.array.size; i++) {
        const msgpack_object *x = &results->via.array.ptr[i];
        char *row[] = {vctl_cell_get(x, "status"), vctl_cell_get(x, "id"),
                       vctl_cell(vg_mp_get(x, "title"), TITLE_COLS), evidence_cell(x)};
        vctl_table_add(&t, row);
    }
    vctl_table_print(&t);
    print_versions(results);
    /* The counts are of the results shown (the plugin counts after the
     * --tag filter). */
    static const char *const counts[] = {"pass", "warn", "info", "note", "manual", "error"};
    char *report = vctl_cell_get(res, "report"), buf[32];
    printf("\n%u checks:", results->via.array.size);
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        printf("%s %s %s", i ? "," : "", vctl_num(res, counts[i], buf), counts[i]);
    int64_t when = 0;
    vg_mp_get_int(res, "time", &when);
    printf(" (%s report of %s)\n", report, vctl_fmt_time(when * 1000000000LL, buf));
    free(report);
}

/* run: queues a run; show: prints the stored report. */
static int bench_call(vctl_ctx *c, const char *op, const bench_opts *o)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_args(&sb, op, o);
    vctl_reply r;
    int rc = vctl_call(c, "bench", &sb, &r, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != VCTL_OK)
        return rc;
    const msgpack_object *results = vg_mp_get(r.result, "results");
    bool show = strcmp(op, "show") == 0;
    if (r.result->type != MSGPACK_OBJECT_MAP ||
        (show && (!results || results->type != MSGPACK_OBJECT_ARRAY))) {
        vctl_reply_free(&r);
        return vctl_bad_result("bench", show ? "a report" : "a map");
    }
    if (c->json && show) {
        /* One object per check and line, for jq and grep. */
        for (uint32_t i = 0; i < results->via.array.size; i++)
            vctl_print_json(&results->via.array.ptr[i]);
    } else if (c->json) {
        vctl_print_json(r.result);
    } else if (show) {
        print_report(r.result, results);
    } else if (vg_mp_get(r.result, "queued")) {
        print_queued(r.result);
    } else {
        vctl_print_json(r.result); /* an op of a newer plugin */
    }
    vctl_reply_free(&r);
    return VCTL_OK;
}

int vctl_cmd_cis(vctl_ctx *c, int argc, char **argv)
{
    static const struct option own[] = {{"target", required_argument, NULL, 't'},
                                        {"workload", required_argument, NULL, 'w'},
                                        {"tag", required_argument, NULL, 'T'},
                                        {NULL, 0, NULL, 0}};
    bench_opts o = {0};
    int rest = 0;
    int rc = vctl_parse_opts(c, argc, argv, "t:w:", own, bench_opt, &o, &rest);
    if (rc >= 0)
        return rc;
    if (argc - rest != 1) {
        fprintf(stderr, "usage: vigilctl [--json] bench run [--target T] [--workload W]\n"
                        "       vigilctl [--json] bench show [--target T] [--workload W] "
                        "[--tag TAG]\n");
        return VCTL_USAGE;
    }
    return bench_call(c, argv[rest], &o);
}
