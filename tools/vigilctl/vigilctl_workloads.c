/* vigilctl: workloads, groups, group show, group mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"
#include "timeparse.h"
#include "vigilctl.h"

/* Lists print one JSON object per line, so that `jq` and `grep` can work
 * on them line by line. */
static void print_json_lines(const msgpack_object *arr)
{
    for (uint32_t i = 0; i < arr->via.array.size; i++)
        vctl_print_json(&arr->via.array.ptr[i]);
}

/* A group's time without a member, as "3h05m"; "-" for a group in use. */
static char *unused_cell(const msgpack_object *e)
{
    const msgpack_object *o = vg_mp_get(e, "unused_s");
    char buf[32];
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 == 0)
        return vctl_strdup("-");
    return vctl_strdup(vctl_fmt_duration(o->via.u64, buf));
}

static void table_rows(const msgpack_object *arr, const char *const *heads, const char *const *keys)
{
    vctl_table t;
    vctl_table_init(&t, heads);
    for (uint32_t i = 0; arr && i < arr->via.array.size; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        char *row[VCTL_TABLE_COLS];
        for (size_t k = 0; keys[k]; k++) {
            /* Container ids are 64 hex digits; 12 tell them apart, as in
             * `docker ps`. */
            if (strcmp(keys[k], "unused_s") == 0)
                row[k] = unused_cell(e);
            else
                row[k] = strcmp(keys[k], "id") == 0 ? vctl_cell(vg_mp_get(e, "id"), 12)
                                                    : vctl_cell_get(e, keys[k]);
            if (strcmp(keys[k], "id") == 0 && strlen(row[k]) > 12)
                row[k][12] = '\0'; /* "..." is noise for an id prefix */
        }
        vctl_table_add(&t, row);
    }
    vctl_table_print(&t);
}

/* Calls cmd (args may be NULL) and expects a list. */
static int list_call(vctl_ctx *c, const char *cmd, const char *const *heads,
                     const char *const *keys)
{
    vctl_reply r;
    int rc = vctl_call(c, cmd, NULL, &r, NULL);
    if (rc != VCTL_OK)
        return rc;
    if (r.result->type != MSGPACK_OBJECT_ARRAY) {
        vctl_reply_free(&r);
        return vctl_bad_result(cmd, "a list");
    }
    if (c->json)
        print_json_lines(r.result);
    else
        table_rows(r.result, heads, keys);
    vctl_reply_free(&r);
    return VCTL_OK;
}

/* The quarantine of workload id from the net plugin's list q (NULL: no
 * net plugin): "on", "on (not enforced)" (stored, not attached: the
 * workload is not running in a cgroup of its own) or "off". */
static const char *quarantine_of(const msgpack_object *q, const msgpack_object *id)
{
    for (uint32_t i = 0; q && id && id->type == MSGPACK_OBJECT_STR && i < q->via.array.size; i++) {
        const msgpack_object *e = &q->via.array.ptr[i], *w = vg_mp_get(e, "workload");
        if (!w || w->type != MSGPACK_OBJECT_STR || w->via.str.size != id->via.str.size ||
            memcmp(w->via.str.ptr, id->via.str.ptr, id->via.str.size) != 0)
            continue;
        bool on = false;
        vg_mp_get_bool(e, "enforced", &on);
        return on ? "on" : "on (not enforced)";
    }
    return "off";
}

/* The workloads with the net plugin's quarantine state of each added as
 * "quarantine" (the daemon's workload table does not hold it). */
static void print_workloads(vctl_ctx *c, const msgpack_object *wls, const msgpack_object *q)
{
    static const char *const heads[] = {"ID",    "NAME",       "RUNTIME", "PID",
                                        "GROUP", "MODE",       "IMAGE",   "NAMESPACE",
                                        "POD",   "QUARANTINE", NULL};
    static const char *const keys[] = {"id",    "name",       "runtime", "pid",
                                       "group", "mode",       "image",   "namespace",
                                       "pod",   "quarantine", NULL};
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, wls->via.array.size);
    for (uint32_t i = 0; i < wls->via.array.size; i++) {
        const msgpack_object *w = &wls->via.array.ptr[i];
        if (w->type != MSGPACK_OBJECT_MAP) {
            msgpack_pack_object(&pk, *w);
            continue;
        }
        msgpack_pack_map(&pk, w->via.map.size + 1);
        for (uint32_t k = 0; k < w->via.map.size; k++) {
            msgpack_pack_object(&pk, w->via.map.ptr[k].key);
            msgpack_pack_object(&pk, w->via.map.ptr[k].val);
        }
        vg_mp_pack_kv_str(&pk, "quarantine", quarantine_of(q, vg_mp_get(w, "id")));
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        if (c->json)
            print_json_lines(&u.data);
        else
            table_rows(&u.data, heads, keys);
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

int vctl_cmd_workloads(vctl_ctx *c, int argc, char **argv)
{
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
    if (rc >= 0)
        return rc;
    vctl_reply r, qr;
    if ((rc = vctl_call(c, "workloads", NULL, &r, NULL)) != VCTL_OK)
        return rc;
    if (r.result->type != MSGPACK_OBJECT_ARRAY) {
        vctl_reply_free(&r);
        return vctl_bad_result("workloads", "a list");
    }
    /* Without the net plugin (or an older one) there is no quarantine:
     * every workload shows "off". */
    vctl_ctx quiet = *c;
    quiet.quiet = true;
    bool have_q = vctl_call(&quiet, "quarantine", NULL, &qr, NULL) == VCTL_OK;
    const msgpack_object *q = have_q && qr.result->type == MSGPACK_OBJECT_ARRAY ? qr.result : NULL;
    print_workloads(c, r.result, q);
    if (have_q)
        vctl_reply_free(&qr);
    vctl_reply_free(&r);
    return VCTL_OK;
}

int vctl_cmd_groups(vctl_ctx *c, int argc, char **argv)
{
    static const char *const heads[] = {"NAME", "KIND", "MODE", "MEMBERS", "UNUSED", NULL};
    static const char *const keys[] = {"name", "kind", "mode", "members", "unused_s", NULL};
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
    return rc >= 0 ? rc : list_call(c, "groups", heads, keys);
}

/* group mode NAME learn --for DURATION --then monitor|protect */
typedef struct learn_opts {
    int64_t for_ns;
    const char *then;
} learn_opts;

static int learn_opt(void *arg, int opt, const char *val)
{
    learn_opts *o = arg;
    if (opt == 'f') {
        if (vg_duration_parse(val, &o->for_ns) < 0 || o->for_ns <= 0) {
            fprintf(stderr,
                    "vigilctl group mode: bad DURATION '%s' for --for (want 30s, 10m, "
                    "2h, 7d)\n",
                    val);
            return VCTL_USAGE;
        }
        return VCTL_OK;
    }
    if (opt == 't') {
        o->then = val;
        return VCTL_OK;
    }
    return VCTL_USAGE;
}

static void pack_args(msgpack_sbuffer *sb, const char *name, const char *mode, const learn_opts *lo)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (mode ? 2 : 1) + (lo->for_ns > 0) + !!lo->then);
    vg_mp_pack_kv_str(&pk, "name", name);
    if (mode)
        vg_mp_pack_kv_str(&pk, "mode", mode);
    if (lo->for_ns > 0)
        vg_mp_pack_kv_int(&pk, "for", lo->for_ns);
    if (lo->then)
        vg_mp_pack_kv_str(&pk, "then", lo->then);
}

static void print_show(const msgpack_object *res)
{
    static const char *const heads[] = {"ID", "NAME", "RUNTIME", "PID", "MODE", "IMAGE", NULL};
    static const char *const keys[] = {"id", "name", "runtime", "pid", "mode", "image", NULL};
    char *s;
    printf("name:     %s\n", s = vctl_cell_get(res, "name")), free(s);
    printf("kind:     %s\n", s = vctl_cell_get(res, "kind")), free(s);
    printf("mode:     %s\n", s = vctl_cell_get(res, "mode")), free(s);
    printf("members:  %s\n", s = vctl_cell_get(res, "members")), free(s);
    printf("unused:   %s\n", s = unused_cell(res)), free(s);
    const msgpack_object *crit = vg_mp_get(res, "criteria");
    if (crit && crit->type == MSGPACK_OBJECT_MAP)
        printf("criteria: %s\n", s = vctl_cell(crit, VCTL_NO_LIMIT)), free(s);
    const msgpack_object *wl = vg_mp_get(res, "workloads");
    if (wl && wl->type == MSGPACK_OBJECT_ARRAY && wl->via.array.size) {
        putchar('\n');
        table_rows(wl, heads, keys);
    }
}

/* group show NAME | group mode NAME MODE */
int vctl_cmd_group(vctl_ctx *c, int argc, char **argv)
{
    static const struct option lopts[] = {{"for", required_argument, NULL, 'f'},
                                          {"then", required_argument, NULL, 't'},
                                          {NULL, 0, NULL, 0}};
    learn_opts lo = {0};
    int rest = 0;
    int rc = vctl_parse_opts(c, argc, argv, "f:t:", lopts, learn_opt, &lo, &rest);
    if (rc >= 0)
        return rc;
    const char *sub = rest < argc ? argv[rest] : "";
    bool show = strcmp(sub, "show") == 0, mode = strcmp(sub, "mode") == 0;
    if (!(show && argc - rest == 2) && !(mode && argc - rest == 3)) {
        fprintf(stderr, "usage: vigilctl [--json] group show NAME\n"
                        "       vigilctl [--json] group mode NAME learn|monitor|protect\n"
                        "       vigilctl [--json] group mode NAME learn --for DURATION "
                        "--then monitor|protect\n");
        return VCTL_USAGE;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_args(&sb, argv[rest + 1], mode ? argv[rest + 2] : NULL, &lo);
    vctl_reply r;
    rc = vctl_call(c, show ? "group.show" : "group.mode", &sb, &r, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != VCTL_OK)
        return rc;
    if (r.result->type != MSGPACK_OBJECT_MAP) {
        vctl_reply_free(&r);
        return vctl_bad_result(show ? "group.show" : "group.mode", "a map");
    }
    if (c->json) {
        vctl_print_json(r.result);
    } else if (show) {
        print_show(r.result);
    } else {
        char *g = vctl_cell_get(r.result, "group"), *m = vctl_cell_get(r.result, "mode"),
             *p = vctl_cell_get(r.result, "previous");
        printf("group %s: mode %s (was %s)", g, m, p);
        free(g), free(m), free(p);
        int64_t until;
        if (vg_mp_get_int(r.result, "learn_until", &until) == 0 && until > 0) {
            char buf[40], *t = vctl_cell_get(r.result, "then");
            printf(", until %s, then %s", vctl_fmt_time(until, buf), t);
            free(t);
        }
        putchar('\n');
    }
    vctl_reply_free(&r);
    return VCTL_OK;
}
