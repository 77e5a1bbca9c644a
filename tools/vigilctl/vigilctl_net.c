/*
 * vigilctl: capture and net, the control commands of the net plugin.
 *
 *   capture WORKLOAD [--seconds N] [--filter BPF] -w FILE
 *   net stats | sessions [--workload W] | graph [--format dot|json] [--group G]
 *
 * The daemon writes the capture (its capture threads hold the rings) into
 * memory; `capture` opens FILE, asks for the capture, polls until it is
 * complete, then copies it from the daemon into FILE in chunks. The
 * graph is drawn here from two answers of the daemon: the connections the
 * net plugin observed (with their violations) and the learned net rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mp.h"
#include "vigilctl.h"

typedef struct net_opts {
    const char *workload, *group, *filter, *file, *format;
    long seconds;
} net_opts;

static int net_opt(void *arg, int opt, const char *val)
{
    net_opts *o = arg;
    char *end;
    switch (opt) {
    case 'W':
        o->workload = val;
        return VCTL_OK;
    case 'g':
        o->group = val;
        return VCTL_OK;
    case 'f':
        o->filter = val;
        return VCTL_OK;
    case 'w':
        o->file = val;
        return VCTL_OK;
    case 'F':
        if (strcmp(val, "dot") && strcmp(val, "json")) {
            fprintf(stderr, "vigilctl net graph: --format is dot or json, not '%s'\n", val);
            return VCTL_USAGE;
        }
        o->format = val;
        return VCTL_OK;
    case 's':
        o->seconds = strtol(val, &end, 10);
        if (*end || o->seconds <= 0) {
            fprintf(stderr, "vigilctl capture: --seconds wants a positive number, not '%s'\n", val);
            return VCTL_USAGE;
        }
        return VCTL_OK;
    default:
        return VCTL_USAGE;
    }
}

/* The arguments of a call: strings (skipped when NULL) and integers. */
typedef struct net_args {
    const char *const *str; /* key, value, key, value, ... */
    size_t nstr;            /* entries in str (twice the pairs) */
    const char *const *ikey;
    const int64_t *ival;
    size_t nint;
} net_args;

/* Calls "net" with {op, and the arguments}; the result must have type want. */
static int net_call(vctl_ctx *c, const char *op, const net_args *a, vctl_reply *r,
                    msgpack_object_type want)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    size_t n = 1 + (a ? a->nint : 0);
    for (size_t i = 0; a && i < a->nstr; i += 2)
        n += a->str[i + 1] != NULL;
    msgpack_pack_map(&pk, n);
    vg_mp_pack_kv_str(&pk, "op", op);
    for (size_t i = 0; a && i < a->nint; i++)
        vg_mp_pack_kv_int(&pk, a->ikey[i], a->ival[i]);
    for (size_t i = 0; a && i < a->nstr; i += 2)
        if (a->str[i + 1])
            vg_mp_pack_kv_str(&pk, a->str[i], a->str[i + 1]);
    int rc = vctl_call(c, "net", &sb, r, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != VCTL_OK)
        return rc;
    if (r->result->type != want) {
        vctl_reply_free(r);
        return vctl_bad_result("net", want == MSGPACK_OBJECT_MAP ? "a map" : "a list");
    }
    return VCTL_OK;
}

/* ---- capture ---------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits for the end of capture id; returns its status (free it) or the
 * exit status. */
static int capture_wait(vctl_ctx *c, const char *workload, int64_t id, long seconds, vctl_reply *st)
{
    const char *str[] = {"workload", workload};
    const char *ik[] = {"id"};
    net_args a = {str, 2, ik, &id, 1};
    /* The daemon ends the capture on time; give it a few seconds more. */
    for (long waited = 0; waited <= (seconds + 10) * 1000; waited += 200) {
        int rc = net_call(c, "capture_status", &a, st, MSGPACK_OBJECT_MAP);
        if (rc != VCTL_OK)
            return rc;
        const msgpack_object *run = vg_mp_get(st->result, "running");
        if (run && run->type == MSGPACK_OBJECT_BOOLEAN && !run->via.boolean)
            return VCTL_OK;
        vctl_reply_free(st);
        sleep_ms(200);
    }
    fprintf(stderr, "vigilctl capture: the daemon did not finish the capture in time\n");
    return VCTL_ERR;
}

/* Copies the finished capture from the daemon into fd. */
static int capture_fetch(vctl_ctx *c, const char *workload, int64_t id, int fd, const char *file)
{
    const char *str[] = {"workload", workload};
    const char *ik[] = {"id", "offset"};
    for (int64_t offset = 0;;) {
        int64_t iv[] = {id, offset};
        net_args a = {str, 2, ik, iv, 2};
        vctl_reply r;
        int rc = net_call(c, "capture_read", &a, &r, MSGPACK_OBJECT_MAP);
        if (rc != VCTL_OK)
            return rc;
        const msgpack_object *d = vg_mp_get(r.result, "data");
        if (!d || d->type != MSGPACK_OBJECT_BIN) {
            vctl_reply_free(&r);
            return vctl_bad_result("net capture_read", "data");
        }
        uint32_t n = d->via.bin.size;
        for (uint32_t done = 0; done < n;) {
            ssize_t w = write(fd, d->via.bin.ptr + done, n - done);
            if (w < 0) {
                fprintf(stderr, "vigilctl capture: %s: %s\n", file, strerror(errno));
                vctl_reply_free(&r);
                return VCTL_ERR;
            }
            done += (uint32_t)w;
        }
        vctl_reply_free(&r);
        if (!n)
            return VCTL_OK;
        offset += n;
    }
}

static void print_capture(vctl_ctx *c, const char *workload, const msgpack_object *st,
                          const char *file)
{
    if (c->json) {
        vctl_print_json(st);
        return;
    }
    int64_t pkts = 0, bytes = 0;
    vg_mp_get_int(st, "packets", &pkts);
    vg_mp_get_int(st, "bytes", &bytes);
    const msgpack_object *tr = vg_mp_get(st, "truncated");
    printf("%s: %lld packets (%lld bytes) written to %s%s\n", workload, (long long)pkts,
           (long long)bytes, file,
           tr && tr->type == MSGPACK_OBJECT_BOOLEAN && tr->via.boolean
               ? " (stopped at the size limit)"
               : "");
}

int vctl_cmd_capture(vctl_ctx *c, int argc, char **argv)
{
    static const struct option own[] = {{"seconds", required_argument, NULL, 's'},
                                        {"filter", required_argument, NULL, 'f'},
                                        {"write", required_argument, NULL, 'w'},
                                        {NULL, 0, NULL, 0}};
    net_opts o = {.seconds = 10};
    int rest = 0;
    int rc = vctl_parse_opts(c, argc, argv, "s:f:w:", own, net_opt, &o, &rest);
    if (rc >= 0)
        return rc;
    if (argc - rest != 1 || !o.file) {
        fprintf(stderr, "usage: vigilctl capture WORKLOAD [--seconds N] [--filter BPF] -w FILE\n");
        return VCTL_USAGE;
    }
    /* The file first: a path that cannot be written stops here, before
     * the daemon captures anything. */
    int fd = open(o.file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "vigilctl capture: %s: %s\n", o.file, strerror(errno));
        return VCTL_USAGE;
    }
    const char *workload = argv[rest];
    const char *str[] = {"workload", workload, "filter", o.filter};
    const char *ik[] = {"seconds"};
    int64_t secs = o.seconds;
    net_args a = {str, 4, ik, &secs, 1};
    vctl_reply r;
    rc = net_call(c, "capture", &a, &r, MSGPACK_OBJECT_MAP);
    int64_t id = 0;
    if (rc == VCTL_OK) {
        vg_mp_get_int(r.result, "id", &id);
        vctl_reply_free(&r);
        rc = capture_wait(c, workload, id, o.seconds, &r);
    }
    if (rc == VCTL_OK) {
        int64_t err = 0;
        vg_mp_get_int(r.result, "error", &err);
        if (err) {
            fprintf(stderr, "vigilctl capture: the daemon could not write the capture: %s\n",
                    strerror((int)-err));
            rc = VCTL_ERR;
        }
        if (rc == VCTL_OK)
            rc = capture_fetch(c, workload, id, fd, o.file);
        if (rc == VCTL_OK)
            print_capture(c, workload, r.result, o.file);
        vctl_reply_free(&r);
    }
    if (close(fd) < 0 && rc == VCTL_OK) {
        fprintf(stderr, "vigilctl capture: %s: %s\n", o.file, strerror(errno));
        rc = VCTL_ERR;
    }
    if (rc != VCTL_OK)
        unlink(o.file); /* no half file */
    return rc;
}

/* ---- net stats, sessions --------------------------------------------------------- */

static int do_stats(vctl_ctx *c)
{
    vctl_reply r;
    int rc = net_call(c, "stats", NULL, &r, MSGPACK_OBJECT_MAP);
    if (rc != VCTL_OK)
        return rc;
    if (c->json) {
        vctl_print_json(r.result);
        vctl_reply_free(&r);
        return VCTL_OK;
    }
    static const char *const heads[] = {"WORKLOAD",     "INTERFACES", "PACKETS", "BYTES",
                                        "KERNEL_DROPS", "FLOWS",      "EVENTS",  NULL};
    vctl_table t;
    vctl_table_init(&t, heads);
    const msgpack_object *caps = vg_mp_get(r.result, "captures");
    for (uint32_t i = 0; caps && caps->type == MSGPACK_OBJECT_ARRAY && i < caps->via.array.size;
         i++) {
        const msgpack_object *m = &caps->via.array.ptr[i];
        char b[5][32];
        char *w = vctl_cell_get(m, "workload");
        if (!strcmp(w, "-")) {
            free(w);
            w = vctl_strdup("(host)");
        }
        char *row[7] = {w,
                        vctl_strdup(vctl_num(m, "interfaces", b[0])),
                        vctl_strdup(vctl_num(m, "packets", b[1])),
                        vctl_strdup(vctl_bytes(m, "bytes", b[2])),
                        vctl_strdup(vctl_num(m, "kernel_drops", b[3])),
                        vctl_strdup(vctl_num(m, "flows", b[4])),
                        vctl_cell_get(m, "events")};
        vctl_table_add(&t, row);
    }
    vctl_table_print(&t);
    vctl_reply_free(&r);
    return VCTL_OK;
}

static int do_sessions(vctl_ctx *c, const net_opts *o)
{
    const char *kv[] = {"workload", o->workload};
    net_args a = {kv, 2, NULL, NULL, 0};
    vctl_reply r;
    int rc = net_call(c, "sessions", &a, &r, MSGPACK_OBJECT_ARRAY);
    if (rc != VCTL_OK)
        return rc;
    static const char *const heads[] = {"WORKLOAD", "DIRECTION", "PEER", "CLIENT",
                                        "SERVER",   "PROTO",     "APP",  "STATE",
                                        "PKTS",     "BYTES",     NULL};
    vctl_table t;
    if (!c->json)
        vctl_table_init(&t, heads);
    for (uint32_t i = 0; i < r.result->via.array.size; i++) {
        const msgpack_object *ns = &r.result->via.array.ptr[i];
        for (uint32_t k = 0; ns->type == MSGPACK_OBJECT_ARRAY && k < ns->via.array.size; k++) {
            const msgpack_object *s = &ns->via.array.ptr[k];
            if (c->json) {
                vctl_print_json(s);
                continue;
            }
            int64_t up = 0, down = 0;
            vg_mp_get_int(s, "pkts_c2s", &up);
            vg_mp_get_int(s, "pkts_s2c", &down);
            char pk[32], by[32];
            snprintf(pk, sizeof(pk), "%lld", (long long)(up + down));
            char *row[10] = {vctl_cell_get(s, "workload"),
                             vctl_cell_get(s, "direction"),
                             vctl_cell_get(s, "peer"),
                             vctl_cell_get(s, "client"),
                             vctl_cell_get(s, "server"),
                             vctl_cell_get(s, "proto"),
                             vctl_cell_get(s, "app"),
                             vctl_cell_get(s, "state"),
                             vctl_strdup(pk),
                             vctl_strdup(vctl_bytes(s, "bytes", by))};
            vctl_table_add(&t, row);
        }
    }
    if (!c->json)
        vctl_table_print(&t);
    vctl_reply_free(&r);
    return VCTL_OK;
}

/* ---- net graph ----------------------------------------------------------------- */

typedef struct gedge {
    char *from, *to, *from_kind, *to_kind, *port, *proto, *app, *action;
    bool learned, observed;
    int64_t events, violations, flows, bytes;
} gedge;

typedef struct gedges {
    gedge *e;
    size_t n, cap;
} gedges;

static char *str_of(const msgpack_object *m, const char *key, const char *dflt)
{
    char buf[512];
    if (vg_mp_get_cstr(m, key, buf, sizeof(buf)) < 0 || !buf[0])
        return vctl_strdup(dflt);
    return vctl_strdup(buf);
}

static gedge *edge_find(gedges *g, const gedge *k)
{
    for (size_t i = 0; i < g->n; i++) {
        gedge *e = &g->e[i];
        if (!strcmp(e->from, k->from) && !strcmp(e->to, k->to) && !strcmp(e->port, k->port) &&
            !strcmp(e->proto, k->proto) && !strcmp(e->app, k->app))
            return e;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 32;
        g->e = realloc(g->e, g->cap * sizeof(*g->e));
        if (!g->e)
            vctl_oom();
    }
    g->e[g->n] = *k;
    return &g->e[g->n++];
}

static void edge_free(gedge *e)
{
    free(e->from);
    free(e->to);
    free(e->from_kind);
    free(e->to_kind);
    free(e->port);
    free(e->proto);
    free(e->app);
    free(e->action);
}

static void add_observed(gedges *g, const msgpack_object *arr)
{
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *m = &arr->via.array.ptr[i];
        gedge k = {.from = str_of(m, "from", "?"),
                   .to = str_of(m, "to", "?"),
                   .from_kind = str_of(m, "from_kind", "group"),
                   .to_kind = str_of(m, "to_kind", "group"),
                   .port = str_of(m, "port", "*"),
                   .proto = str_of(m, "proto", "*"),
                   .app = str_of(m, "app", "*"),
                   .action = str_of(m, "action", "")};
        gedge *e = edge_find(g, &k);
        if (e->from != k.from)
            edge_free(&k);
        e->observed = true;
        vg_mp_get_int(m, "events", &e->events);
        vg_mp_get_int(m, "violations", &e->violations);
        vg_mp_get_int(m, "flows", &e->flows);
        vg_mp_get_int(m, "bytes", &e->bytes);
    }
}

/* A learned (or written) allow rule of the net plane as an edge. */
static void add_rule(gedges *g, const msgpack_object *m, const char *only)
{
    char group[256], dir[16], action[16];
    if (vg_mp_get_cstr(m, "group", group, sizeof(group)) < 0 ||
        vg_mp_get_cstr(m, "direction", dir, sizeof(dir)) < 0 ||
        vg_mp_get_cstr(m, "action", action, sizeof(action)) < 0 || strcmp(action, "allow"))
        return;
    bool egress = !strcmp(dir, "egress");
    if (!egress && strcmp(dir, "ingress"))
        return;
    char *peer = str_of(m, "peer", "*");
    if (only && strcmp(only, group) && strcmp(only, peer)) {
        free(peer);
        return;
    }
    gedge k = {.from = egress ? vctl_strdup(group) : peer,
               .to = egress ? peer : vctl_strdup(group),
               .from_kind = vctl_strdup(egress ? "group" : "peer"),
               .to_kind = vctl_strdup(egress ? "peer" : "group"),
               .port = str_of(m, "port", "*"),
               .proto = str_of(m, "proto", "*"),
               .app = str_of(m, "app", "*"),
               .action = vctl_strdup("")};
    gedge *e = edge_find(g, &k);
    if (e->from != k.from)
        edge_free(&k);
    e->learned = true;
}

static int learned_rules(vctl_ctx *c, gedges *g, const char *only)
{
    for (size_t offset = 0;;) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2 + (offset > 0));
        vg_mp_pack_kv_str(&pk, "op", "list");
        vg_mp_pack_kv_str(&pk, "plane", "net");
        if (offset)
            vg_mp_pack_kv_uint(&pk, "offset", offset);
        vctl_reply r;
        int rc = vctl_call(c, "rules", &sb, &r, NULL);
        msgpack_sbuffer_destroy(&sb);
        if (rc != VCTL_OK)
            return rc;
        if (r.result->type != MSGPACK_OBJECT_ARRAY) {
            vctl_reply_free(&r);
            return vctl_bad_result("rules", "a list");
        }
        uint32_t n = r.result->via.array.size;
        for (uint32_t i = 0; i < n; i++)
            add_rule(g, &r.result->via.array.ptr[i], only);
        vctl_reply_free(&r);
        if (!n)
            return VCTL_OK;
        offset += n;
    }
}

/* s in double quotes for DOT. */
static void dot_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar((unsigned char)*s < 0x20 ? ' ' : *s);
    }
    putchar('"');
}

static bool node_seen(const gedges *g, size_t upto, bool to_side, const char *name)
{
    for (size_t i = 0; i < upto; i++)
        if (!strcmp(g->e[i].from, name) || (i < upto && !strcmp(g->e[i].to, name)))
            return true;
    (void)to_side;
    return false;
}

static void print_dot(const gedges *g)
{
    puts("digraph vigil {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];");
    for (size_t i = 0; i < g->n; i++) {
        const gedge *e = &g->e[i];
        if (!node_seen(g, i, false, e->from)) {
            printf("  ");
            dot_str(e->from);
            printf(" [shape=%s];\n", !strcmp(e->from_kind, "group") ? "box" : "ellipse");
        }
        if (strcmp(e->to, e->from) && !node_seen(g, i, true, e->to)) {
            printf("  ");
            dot_str(e->to);
            printf(" [shape=%s];\n", !strcmp(e->to_kind, "group") ? "box" : "ellipse");
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        const gedge *e = &g->e[i];
        char label[256], size[32] = "";
        if (e->bytes)
            snprintf(size, sizeof(size), ", %s", vctl_fmt_bytes((uint64_t)e->bytes, (char[32]){0}));
        snprintf(label, sizeof(label), "%s/%s %s%s%s", e->port, e->proto, e->app, size,
                 e->violations ? " (violation)" : "");
        printf("  ");
        dot_str(e->from);
        printf(" -> ");
        dot_str(e->to);
        printf(" [label=");
        dot_str(label);
        printf(", style=%s, color=%s];\n", e->learned ? "solid" : "dashed",
               e->violations ? "red" : "black");
    }
    puts("}");
}

static void print_json_graph(const gedges *g)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "edges", 5);
    msgpack_pack_array(&pk, (uint32_t)g->n);
    for (size_t i = 0; i < g->n; i++) {
        const gedge *e = &g->e[i];
        msgpack_pack_map(&pk, 14);
        vg_mp_pack_kv_str(&pk, "from", e->from);
        vg_mp_pack_kv_str(&pk, "from_kind", e->from_kind);
        vg_mp_pack_kv_str(&pk, "to", e->to);
        vg_mp_pack_kv_str(&pk, "to_kind", e->to_kind);
        vg_mp_pack_kv_str(&pk, "port", e->port);
        vg_mp_pack_kv_str(&pk, "proto", e->proto);
        vg_mp_pack_kv_str(&pk, "app", e->app);
        vg_mp_pack_kv_bool(&pk, "learned", e->learned);
        vg_mp_pack_kv_bool(&pk, "observed", e->observed);
        vg_mp_pack_kv_int(&pk, "events", e->events);
        vg_mp_pack_kv_int(&pk, "violations", e->violations);
        vg_mp_pack_kv_int(&pk, "flows", e->flows);
        vg_mp_pack_kv_int(&pk, "bytes", e->bytes);
        vg_mp_pack_kv_str(&pk, "action", e->action);
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS)
        vctl_print_json(&up.data);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

static int do_graph(vctl_ctx *c, const net_opts *o)
{
    const char *kv[] = {"group", o->group};
    net_args a = {kv, 2, NULL, NULL, 0};
    vctl_reply r;
    int rc = net_call(c, "graph", &a, &r, MSGPACK_OBJECT_ARRAY);
    if (rc != VCTL_OK)
        return rc;
    gedges g = {0};
    add_observed(&g, r.result);
    vctl_reply_free(&r);
    rc = learned_rules(c, &g, o->group);
    if (rc == VCTL_OK) {
        if (c->json || (o->format && !strcmp(o->format, "json")))
            print_json_graph(&g);
        else
            print_dot(&g);
    }
    for (size_t i = 0; i < g.n; i++)
        edge_free(&g.e[i]);
    free(g.e);
    return rc;
}

int vctl_cmd_net(vctl_ctx *c, int argc, char **argv)
{
    static const struct option own[] = {{"workload", required_argument, NULL, 'W'},
                                        {"group", required_argument, NULL, 'g'},
                                        {"format", required_argument, NULL, 'F'},
                                        {NULL, 0, NULL, 0}};
    net_opts o = {0};
    int rest = 0;
    int rc = vctl_parse_opts(c, argc, argv, "", own, net_opt, &o, &rest);
    if (rc >= 0)
        return rc;
    const char *op = argc - rest == 1 ? argv[rest] : "";
    if (!strcmp(op, "stats"))
        return do_stats(c);
    if (!strcmp(op, "sessions"))
        return do_sessions(c, &o);
    if (!strcmp(op, "graph"))
        return do_graph(c, &o);
    fprintf(stderr, "usage: vigilctl [--json] net stats\n"
                    "       vigilctl [--json] net sessions [--workload W]\n"
                    "       vigilctl net graph [--format dot|json] [--group G]\n");
    return VCTL_USAGE;
}
