/*
 * vigilctl rules: list, add, delete, export and import the rules of the
 * daemon (the "rules" command, core/ctl/ctl_rules.c).
 *
 * A rule's subject is shown in words a reviewer reads ("process curl
 * (/usr/bin/curl) as any user"); --json prints the rule maps as the daemon
 * keeps them, one per line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_proto.h"
#include "mp.h"
#include "timeparse.h"
#include "vigilctl.h"

/* Every plane's field names: an option each. */
static const char *const field_opts[] = {"name", "path", "user",  "program", "access", "direction",
                                         "peer", "port", "proto", "app",     NULL};
#define NFIELDS 10
#define FIELD_OPT0 1000 /* getopt codes of the field options, past any letter */

typedef struct rules_opts {
    const char *group, *plane, *comment, *origin;
    const char *fields[NFIELDS];
    const char *decision; /* accept, reject: the "review" op */
    int64_t since;        /* ns since the epoch; 0: not given */
    bool deny;
} rules_opts;

/* ---- words -------------------------------------------------------------- */

/* map[key] as a C string ("*" when absent), into buf. */
static const char *field(const msgpack_object *rule, const char *key, char *buf, size_t size)
{
    if (vg_mp_get_cstr(rule, key, buf, size) < 0 || !buf[0])
        snprintf(buf, size, "*");
    return buf;
}

static bool any(const char *s)
{
    return strcmp(s, "*") == 0;
}

static void subject_proc(const msgpack_object *r, char *out, size_t size)
{
    char name[256], path[256], user[256];
    field(r, "name", name, sizeof(name));
    field(r, "path", path, sizeof(path));
    field(r, "user", user, sizeof(user));
    int n;
    if (any(name))
        n = any(path) ? snprintf(out, size, "any process")
                      : snprintf(out, size, "any process at %s", path);
    else
        n = any(path) ? snprintf(out, size, "process %s", name)
                      : snprintf(out, size, "process %s (%s)", name, path);
    if (n >= 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, any(user) ? " as any user" : " as user %s", user);
}

static void subject_file(const msgpack_object *r, char *out, size_t size)
{
    char path[256], prog[256], access[256];
    field(r, "path", path, sizeof(path));
    field(r, "program", prog, sizeof(prog));
    field(r, "access", access, sizeof(access));
    snprintf(out, size, "%s of %s by %s", any(access) ? "any access" : access,
             any(path) ? "any file" : path, any(prog) ? "any program" : prog);
}

static void subject_net(const msgpack_object *r, char *out, size_t size)
{
    char dir[256], peer[256], port[256], proto[256], app[256];
    field(r, "direction", dir, sizeof(dir));
    field(r, "peer", peer, sizeof(peer));
    field(r, "port", port, sizeof(port));
    field(r, "proto", proto, sizeof(proto));
    field(r, "app", app, sizeof(app));
    int n = snprintf(out, size, "%s with %s on %s%s%s", any(dir) ? "traffic either way" : dir,
                     any(peer) ? "any peer" : peer, any(port) ? "any port" : "port ",
                     any(port) ? "" : port, "");
    if (n >= 0 && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, any(proto) ? " (any protocol)" : "/%s", proto);
    if (n >= 0 && (size_t)n < size && !any(app))
        snprintf(out + n, size - (size_t)n, ", app %s", app);
}

/* The subject in words, escaped for the terminal. */
static char *subject(const msgpack_object *rule)
{
    char buf[1600] = "?";
    const msgpack_object *p = vg_mp_get(rule, "plane");
    if (vg_mp_streq(p, "proc"))
        subject_proc(rule, buf, sizeof(buf));
    else if (vg_mp_streq(p, "file"))
        subject_file(rule, buf, sizeof(buf));
    else if (vg_mp_streq(p, "net"))
        subject_net(rule, buf, sizeof(buf));
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    vctl_put_safe(&sb, buf, strlen(buf), VCTL_NO_LIMIT, false);
    return vctl_sb_take(&sb);
}

/* One page of rules: JSON lines, or rows of the table t. */
static void print_rules(const vctl_ctx *c, const msgpack_object *arr, vctl_table *t)
{
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *r = &arr->via.array.ptr[i];
        if (c->json) {
            vctl_print_json(r);
            continue;
        }
        char buf[32];
        int64_t ns;
        char *row[6] = {vctl_cell_get(r, "group"),
                        vctl_cell_get(r, "plane"),
                        vctl_cell_get(r, "action"),
                        subject(r),
                        vctl_cell_get(r, "origin"),
                        vctl_strdup(vg_mp_get_int(r, "created", &ns) == 0 && ns > 0
                                        ? vctl_fmt_time(ns, buf)
                                        : "-")};
        vctl_table_add(t, row);
    }
}

/* ---- options ------------------------------------------------------------ */

static int rules_opt(void *arg, int opt, const char *val)
{
    rules_opts *o = arg;
    if (opt >= FIELD_OPT0 && opt < FIELD_OPT0 + NFIELDS) {
        o->fields[opt - FIELD_OPT0] = val;
        return VCTL_OK;
    }
    switch (opt) {
    case 'g':
        o->group = val;
        return VCTL_OK;
    case 'p':
        o->plane = val;
        return VCTL_OK;
    case 'c':
        o->comment = val;
        return VCTL_OK;
    case 'd':
        o->deny = true;
        return VCTL_OK;
    case 'o':
        o->origin = val;
        return VCTL_OK;
    case 'S': {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (vg_time_parse(val, now, &o->since) < 0 || o->since <= 0) {
            fprintf(stderr,
                    "vigilctl rules: bad TIME '%s' for --since (want 10m, 2h, 7d, epoch "
                    "seconds or YYYY-MM-DDTHH:MM:SS[Z])\n",
                    val);
            return VCTL_USAGE;
        }
        return VCTL_OK;
    }
    }
    return VCTL_USAGE;
}

/* Packs {op, and what the user gave}; the daemon checks the rest. */
static void pack_args(const char *op, const rules_opts *o, bool with_action, size_t offset,
                      msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    size_t n = 1 + !!o->group + !!o->plane + !!o->comment + with_action + (offset > 0) +
               !!o->origin + (o->since > 0) + !!o->decision;
    for (int i = 0; i < NFIELDS; i++)
        n += !!o->fields[i];
    int rc = msgpack_pack_map(&pk, n);
    rc |= vg_mp_pack_kv_str(&pk, "op", op);
    if (o->group)
        rc |= vg_mp_pack_kv_str(&pk, "group", o->group);
    if (o->plane)
        rc |= vg_mp_pack_kv_str(&pk, "plane", o->plane);
    if (o->comment)
        rc |= vg_mp_pack_kv_str(&pk, "comment", o->comment);
    if (with_action)
        rc |= vg_mp_pack_kv_str(&pk, "action", o->deny ? "deny" : "allow");
    if (offset)
        rc |= vg_mp_pack_kv_uint(&pk, "offset", offset);
    if (o->origin)
        rc |= vg_mp_pack_kv_str(&pk, "origin", o->origin);
    if (o->since > 0)
        rc |= vg_mp_pack_kv_int(&pk, "since", o->since);
    if (o->decision)
        rc |= vg_mp_pack_kv_str(&pk, "decision", o->decision);
    for (int i = 0; i < NFIELDS; i++)
        if (o->fields[i])
            rc |= vg_mp_pack_kv_str(&pk, field_opts[i], o->fields[i]);
    if (rc)
        vctl_oom();
}

/* ---- ops ---------------------------------------------------------------- */

static int call(vctl_ctx *c, const msgpack_sbuffer *args, vctl_reply *r, msgpack_object_type want)
{
    int rc = vctl_call(c, "rules", args, r, NULL);
    if (rc != VCTL_OK)
        return rc;
    if (r->result->type != want) {
        vctl_reply_free(r);
        return vctl_bad_result("rules", want == MSGPACK_OBJECT_MAP ? "a map" : "a list");
    }
    return VCTL_OK;
}

/* The daemon answers in pages (core/ctl/ctl_rules.c): asks again from the
 * number of rules it has until a page comes back empty. */
static int do_list(vctl_ctx *c, const rules_opts *o)
{
    static const char *const heads[] = {"GROUP",  "PLANE",   "ACTION", "SUBJECT",
                                        "ORIGIN", "CREATED", NULL};
    vctl_table t;
    if (!c->json)
        vctl_table_init(&t, heads);
    size_t offset = 0;
    int rc = VCTL_OK;
    for (;;) {
        msgpack_sbuffer args;
        msgpack_sbuffer_init(&args);
        pack_args("list", o, false, offset, &args);
        vctl_reply r;
        rc = call(c, &args, &r, MSGPACK_OBJECT_ARRAY);
        msgpack_sbuffer_destroy(&args);
        if (rc != VCTL_OK)
            break;
        uint32_t n = r.result->via.array.size;
        print_rules(c, r.result, &t);
        vctl_reply_free(&r);
        if (n == 0)
            break;
        offset += n;
    }
    if (!c->json && rc == VCTL_OK) {
        vctl_table_print(&t); /* also frees it */
    } else if (!c->json) {
        for (size_t i = 0; i < t.ncols * t.nrows; i++) /* the header row included */
            free(t.cells[i]);
        free(t.cells);
    }
    return rc;
}

static int do_change(vctl_ctx *c, const msgpack_sbuffer *args, bool add)
{
    vctl_reply r;
    int rc = call(c, args, &r, MSGPACK_OBJECT_MAP);
    if (rc != VCTL_OK)
        return rc;
    if (c->json) {
        vctl_print_json(r.result);
    } else if (add) {
        char *g = vctl_cell_get(r.result, "group"), *a = vctl_cell_get(r.result, "action");
        char *s = subject(r.result);
        printf("added: group %s: %s %s\n", g, a, s);
        free(g), free(a), free(s);
        const msgpack_object *w = vg_mp_get(r.result, "warning");
        if (w && w->type == MSGPACK_OBJECT_STR)
            fprintf(stderr, "warning: %.*s\n", (int)w->via.str.size, w->via.str.ptr);
    } else {
        puts("deleted");
    }
    vctl_reply_free(&r);
    return VCTL_OK;
}

static int do_export(vctl_ctx *c, const rules_opts *o)
{
    size_t offset = 0;
    for (;;) {
        msgpack_sbuffer args;
        msgpack_sbuffer_init(&args);
        pack_args("export", o, false, offset, &args);
        vctl_reply r;
        int rc = call(c, &args, &r, MSGPACK_OBJECT_MAP);
        msgpack_sbuffer_destroy(&args);
        if (rc != VCTL_OK)
            return rc;
        const char *text;
        size_t len;
        int64_t n = 0;
        if (vg_mp_get_str(r.result, "text", &text, &len) < 0 ||
            vg_mp_get_int(r.result, "rules", &n) < 0 || n < 0) {
            vctl_reply_free(&r);
            return vctl_bad_result("rules export", "a map with the text");
        }
        if (c->json)
            vctl_print_json(r.result);
        else
            fwrite(text, 1, len, stdout); /* a Lua file, written as the daemon made it */
        vctl_reply_free(&r);
        if (n == 0)
            return VCTL_OK;
        offset += (size_t)n;
    }
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "vigilctl rules import: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.size <= VG_CTL_MAX_FRAME)
        vctl_sb_put(&sb, buf, n);
    bool err = ferror(f);
    fclose(f);
    /* The whole file travels in one request frame. */
    if (err || sb.size > VG_CTL_MAX_FRAME - 4096) {
        fprintf(stderr, "vigilctl rules import: %s: %s\n", path,
                err ? "read error" : "larger than one request can carry (about 1 MiB); split it");
        msgpack_sbuffer_destroy(&sb);
        return NULL;
    }
    *len = sb.size;
    return vctl_sb_take(&sb);
}

static int do_import(vctl_ctx *c, const char *path)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        return VCTL_USAGE;
    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &args, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    vg_mp_pack_kv_str(&pk, "op", "import");
    vg_mp_pack_kv_str(&pk, "name", path);
    vg_mp_pack_cstr(&pk, "text");
    msgpack_pack_str_with_body(&pk, text, len);
    free(text);
    vctl_reply r;
    int rc = call(c, &args, &r, MSGPACK_OBJECT_MAP);
    msgpack_sbuffer_destroy(&args);
    if (rc != VCTL_OK)
        return rc;
    char buf[32];
    if (c->json)
        vctl_print_json(r.result);
    else
        printf("imported %s rules from %s\n", vctl_num(r.result, "imported", buf), path);
    vctl_reply_free(&r);
    return VCTL_OK;
}

/* accept / reject: the learned rules the options select, in bulk. */
static int do_review(vctl_ctx *c, rules_opts *o, const char *decision)
{
    o->decision = decision;
    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    pack_args("review", o, false, 0, &args);
    vctl_reply r;
    int rc = call(c, &args, &r, MSGPACK_OBJECT_MAP);
    msgpack_sbuffer_destroy(&args);
    if (rc != VCTL_OK)
        return rc;
    char buf[32];
    bool accept = strcmp(decision, "accept") == 0;
    if (c->json)
        vctl_print_json(r.result);
    else
        printf("%s %s learned rules\n", accept ? "accepted" : "rejected",
               vctl_num(r.result, accept ? "accepted" : "rejected", buf));
    vctl_reply_free(&r);
    return VCTL_OK;
}

int vctl_cmd_rules(vctl_ctx *c, int argc, char **argv)
{
    struct option lopts[8 + NFIELDS] = {
        {"group", required_argument, NULL, 'g'},   {"plane", required_argument, NULL, 'p'},
        {"comment", required_argument, NULL, 'c'}, {"deny", no_argument, NULL, 'd'},
        {"origin", required_argument, NULL, 'o'},  {"since", required_argument, NULL, 'S'}};
    for (int i = 0; i < NFIELDS; i++)
        lopts[6 + i] = (struct option){field_opts[i], required_argument, NULL, FIELD_OPT0 + i};
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
            return vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, NULL);
        fprintf(stderr, "vigilctl rules: which one: list, add, delete, export, import, accept "
                        "or reject?\n");
        return VCTL_USAGE;
    }
    const char *op = argv[1];
    rules_opts o = {0};
    int rest = 0;
    /* getopt sees "rules" as argv[0] and the op as the first operand. */
    int rc = vctl_parse_opts(c, argc, argv, "g:p:c:do:S:", lopts, rules_opt, &o, &rest);
    if (rc >= 0)
        return rc;
    bool is_import = strcmp(op, "import") == 0;
    if (argc - rest != (is_import ? 2 : 1)) {
        fprintf(stderr, "vigilctl rules %s: %s\n", op,
                is_import ? "wants one FILE" : "takes no operands besides the options");
        return VCTL_USAGE;
    }
    if (is_import)
        return do_import(c, argv[rest + 1]);
    if (strcmp(op, "accept") == 0 || strcmp(op, "reject") == 0)
        return do_review(c, &o, op);
    bool add = strcmp(op, "add") == 0, del = strcmp(op, "delete") == 0;
    if (!add && !del && strcmp(op, "list") != 0 && strcmp(op, "export") != 0) {
        fprintf(stderr, "vigilctl rules: unknown operation '%s'\n", op);
        return VCTL_USAGE;
    }
    if (strcmp(op, "list") == 0)
        return do_list(c, &o);
    if (strcmp(op, "export") == 0)
        return do_export(c, &o);
    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    pack_args(op, &o, add, 0, &args);
    rc = do_change(c, &args, add);
    msgpack_sbuffer_destroy(&args);
    return rc;
}
