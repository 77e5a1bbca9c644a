/* vigilctl: the daemon's own commands, status, plugins and reload. */
#include <stdio.h>
#include <stdlib.h>

#include "mp.h"
#include "vigilctl.h"

/* A plugin's DETAIL: why it is not running well, else `fallback`. */
static char *plugin_detail(const msgpack_object *p, const char *fallback)
{
    const msgpack_object *why = vg_mp_get(p, "why");
    if (why && why->type == MSGPACK_OBJECT_STR && why->via.str.size)
        return vctl_cell(why, VCTL_DETAIL_COLS);
    return vctl_cell(vg_mp_get(p, fallback), VCTL_DETAIL_COLS);
}

/* One row per element of arr (a list of maps): the values of `keys`, then,
 * with detail_key, a DETAIL column. Anything else prints as "-". */
static void print_list(const msgpack_object *arr, const char *const *heads, const char *const *keys,
                       const char *detail_key)
{
    vctl_table t;
    vctl_table_init(&t, heads);
    bool is_list = arr && arr->type == MSGPACK_OBJECT_ARRAY;
    for (uint32_t i = 0; is_list && i < arr->via.array.size; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        char *row[VCTL_TABLE_COLS];
        size_t k = 0;
        for (; keys[k]; k++)
            row[k] = vctl_cell_get(e, keys[k]);
        if (detail_key)
            row[k] = plugin_detail(e, detail_key);
        vctl_table_add(&t, row);
    }
    vctl_table_print(&t);
}

static void print_kv(const char *key, char *val)
{
    printf("%-10s %s\n", key, val);
    free(val);
}

/* The "key: value" lines at the top of `status`. */
static void status_lines(const msgpack_object *res)
{
    const msgpack_object *st = vg_mp_get(res, "store"), *bus = vg_mp_get(res, "bus");
    const msgpack_object *ctl = vg_mp_get(res, "ctl"), *rl = vg_mp_get(res, "reloads");
    char a[32], b[32], d[32], e[32];
    int64_t up;
    bool has_up = vg_mp_get_int(res, "uptime_s", &up) == 0 && up >= 0;

    print_kv("version:", vctl_cell_get(res, "version"));
    print_kv("pid:", vctl_cell_get(res, "pid"));
    print_kv("uptime:", vctl_strdup(has_up ? vctl_fmt_duration((uint64_t)up, a) : "-"));
    print_kv("state dir:", vctl_cell_get(res, "state_dir"));
    print_kv("socket:", vctl_cell_get(res, "socket"));
    printf("%-10s %s used of %s (file %s)\n", "store:", vctl_bytes(st, "used_bytes", a),
           vctl_bytes(st, "map_size", b), vctl_bytes(st, "file_bytes", d));
    printf("%-10s %s stored, %s pending, %s commit errors, %s not stored (store_skip)\n",
           "events:", vctl_num(st, "events", a), vctl_num(st, "pending", b),
           vctl_num(st, "commit_errors", d), vctl_num(st, "skipped", e));
    printf("%-10s %s of %s queued\n", "bus:", vctl_num(bus, "queued", a),
           vctl_num(bus, "capacity", b));
    printf("%-10s %s clients, %s requests, %s bad, %s stream drops\n",
           "control:", vctl_num(ctl, "clients", a), vctl_num(ctl, "requests", b),
           vctl_num(ctl, "bad_requests", d), vctl_num(ctl, "stream_drops", e));
    printf("%-10s %s ok, %s failed", "reloads:", vctl_num(rl, "ok", a), vctl_num(rl, "failed", b));
    const msgpack_object *le = vg_mp_get(rl, "last_error");
    if (le && le->type != MSGPACK_OBJECT_NIL) {
        char *s = vctl_cell(le, VCTL_NO_LIMIT);
        printf("; last error: %s", s);
        free(s);
    }
    putchar('\n');
    const msgpack_object *ru = vg_mp_get(res, "rules"), *su = vg_mp_get(res, "suppress");
    const msgpack_object *wh = vg_mp_get(res, "webhooks");
    char f[32];
    printf("%-10s %s\n", "rules:", vctl_num(ru, "count", a));
    printf("%-10s %s active, %s events suppressed\n", "suppress:", vctl_num(su, "active", a),
           vctl_num(su, "suppressed", b));
    printf("%-10s %s delivered, %s failed, %s retries, %s dropped, %s pending\n", "webhooks:",
           vctl_num(wh, "delivered", a), vctl_num(wh, "failed", b), vctl_num(wh, "retries", d),
           vctl_num(wh, "dropped", e), vctl_num(wh, "pending", f));
    /* One line per output: a queue that drops shows here first. */
    const msgpack_object *outs = vg_mp_get(res, "outputs");
    for (uint32_t i = 0; outs && outs->type == MSGPACK_OBJECT_ARRAY && i < outs->via.array.size;
         i++) {
        const msgpack_object *o = &outs->via.array.ptr[i];
        char *name = vctl_cell_get(o, "name"), *kind = vctl_cell_get(o, "kind");
        printf("%-10s %s (%s): %s written, %s failed, %s dropped, queue %s/%s\n",
               i ? "" : "outputs:", name, kind, vctl_num(o, "written", a),
               vctl_num(o, "failed", b), vctl_num(o, "dropped", d), vctl_num(o, "depth", e),
               vctl_num(o, "capacity", f));
        free(name);
        free(kind);
    }
    const msgpack_object *po = vg_mp_get(res, "policy");
    printf("%-10s %s files, %s handlers, %s events, %s errors (%s over budget)\n", "policy:",
           vctl_num(po, "files", a), vctl_num(po, "handlers", b), vctl_num(po, "events", d),
           vctl_num(po, "errors", e), vctl_num(po, "budget_cuts", f));
}

int vctl_cmd_status(vctl_ctx *c, int argc, char **argv)
{
    static const char *const pheads[] = {"NAME", "VERSION", "STATE", "DETAIL", NULL};
    static const char *const pkeys[] = {"name", "version", "state", NULL};
    static const char *const eheads[] = {"TYPE", "PUBLISHED", "DROPPED", "NOT STORED", NULL};
    static const char *const ekeys[] = {"type", "published", "dropped", "skipped", NULL};
    vctl_reply r;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
    if (rc < 0)
        rc = vctl_simple_call(c, &r, MSGPACK_OBJECT_MAP);
    if (rc >= 0)
        return rc;
    status_lines(r.result);
    printf("\nPLUGINS\n");
    print_list(vg_mp_get(r.result, "plugins"), pheads, pkeys, "file");
    printf("\nEVENTS\n");
    print_list(vg_mp_get(r.result, "events"), eheads, ekeys, NULL);
    vctl_reply_free(&r);
    return VCTL_OK;
}

int vctl_cmd_plugins(vctl_ctx *c, int argc, char **argv)
{
    static const char *const heads[] = {"NAME", "VERSION", "STATE", "ABI", "DETAIL", NULL};
    static const char *const keys[] = {"name", "version", "state", "abi", NULL};
    vctl_reply r;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
    if (rc < 0)
        rc = vctl_simple_call(c, &r, MSGPACK_OBJECT_ARRAY);
    if (rc >= 0)
        return rc;
    print_list(r.result, heads, keys, "description");
    vctl_reply_free(&r);
    return VCTL_OK;
}

/* A refused reload is an error reply, whose message lists each problem on
 * its own line with file and line; vctl_call prints it whole. */
int vctl_cmd_reload(vctl_ctx *c, int argc, char **argv)
{
    vctl_reply r;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
    if (rc < 0)
        rc = vctl_simple_call(c, &r, MSGPACK_OBJECT_MAP);
    if (rc >= 0)
        return rc;
    const msgpack_object *m = vg_mp_get(r.result, "message");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (m && m->type == MSGPACK_OBJECT_STR)
        vctl_put_safe(&sb, m->via.str.ptr, m->via.str.size, VCTL_NO_LIMIT, true);
    else
        vctl_sb_puts(&sb, "reloaded");
    char *s = vctl_sb_take(&sb);
    puts(s);
    free(s);
    vctl_reply_free(&r);
    return VCTL_OK;
}
