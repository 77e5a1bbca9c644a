/*
 * vigilctl events: query the stored events, or follow new ones.
 *
 * An event is one flat map: the header keys (id, time in ns, type,
 * severity, workload, group) and the body's own keys, which make the
 * DETAIL column as "k=v k=v".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mp.h"
#include "evtype.h"
#include "timeparse.h"
#include "vigilctl.h"

#define NCOLS 6
static const char *const heads[] = {"TIME",     "TYPE",   "SEVERITY", "GROUP",
                                    "WORKLOAD", "DETAIL", NULL};
static const char *const header_keys[] = {"id",       "time",  "type", "severity",
                                          "workload", "group", NULL};
/* A stream cannot size its columns to content: these fit most events. */
static const size_t follow_widths[NCOLS] = {19, 16, 8, 16, 12, 0};
/* Container ids are long; their first characters name them, as in docker ps. */
#define WORKLOAD_CHARS 12

static bool is_header_key(const msgpack_object *k)
{
    for (size_t i = 0; header_keys[i]; i++)
        if (vg_mp_streq(k, header_keys[i]))
            return true;
    return false;
}

/* The body keys as "k=v k=v", cut to VCTL_DETAIL_COLS. */
static char *event_detail(const msgpack_object *ev)
{
    msgpack_sbuffer raw, out;
    msgpack_sbuffer_init(&raw);
    msgpack_sbuffer_init(&out);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        if (is_header_key(&kv->key))
            continue;
        if (raw.size)
            vctl_sb_puts(&raw, " ");
        vctl_put_value(&raw, &kv->key);
        vctl_sb_puts(&raw, "=");
        vctl_put_value(&raw, &kv->val);
    }
    vctl_put_safe(&out, raw.data, raw.size, VCTL_DETAIL_COLS, false);
    msgpack_sbuffer_destroy(&raw);
    return vctl_sb_take(&out);
}

/* The NCOLS cells of one event's row; ev is a map. */
static void event_row(const msgpack_object *ev, char **row)
{
    char buf[32];
    int64_t ns;
    row[0] = vctl_strdup(vg_mp_get_int(ev, "time", &ns) == 0 ? vctl_fmt_time(ns, buf) : "-");
    row[1] = vctl_cell_get(ev, "type");
    row[2] = vctl_cell_get(ev, "severity");
    row[3] = vctl_cell_get(ev, "group");
    const msgpack_object *w = vg_mp_get(ev, "workload");
    msgpack_object wl = w ? *w : (msgpack_object){.type = MSGPACK_OBJECT_NIL};
    if (wl.type == MSGPACK_OBJECT_STR && wl.via.str.size > WORKLOAD_CHARS)
        wl.via.str.size = WORKLOAD_CHARS;
    row[4] = vctl_cell(&wl, VCTL_NO_LIMIT);
    row[5] = event_detail(ev);
}

/* A list of events: one JSON line each, or one table. */
static void print_events(const vctl_ctx *c, const msgpack_object *arr)
{
    vctl_table t;
    if (!c->json)
        vctl_table_init(&t, heads);
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *ev = &arr->via.array.ptr[i];
        if (c->json) {
            vctl_print_json(ev);
        } else if (ev->type == MSGPACK_OBJECT_MAP) {
            char *row[NCOLS];
            event_row(ev, row);
            vctl_table_add(&t, row);
        }
    }
    if (!c->json)
        vctl_table_print(&t);
}

/* ---- following ---------------------------------------------------------- */

/* A follower stops on ^C by shutting its socket down: the blocking read
 * (which retries on EINTR) then sees the end of the stream, and the
 * program ends as when the daemon closes. */
static volatile sig_atomic_t stopping;
static int follow_fd = -1;

static void on_stop(int sig)
{
    int saved = errno;
    stopping = 1;
    if (follow_fd >= 0)
        shutdown(follow_fd, SHUT_RDWR);
    errno = saved;
}

/* Prints one frame of the stream; returns VCTL_OK to go on. Frames other
 * than {"event": {...}} are skipped (later daemons may send more kinds),
 * except an error, which ends the stream. */
static int print_frame(const vctl_ctx *c, const msgpack_object *frame)
{
    const msgpack_object *ev = vg_mp_get(frame, "event");
    bool ok = true;
    if (vg_mp_get_bool(frame, "ok", &ok) == 0 && !ok) {
        vctl_print_error(frame);
        return VCTL_ERR;
    }
    if (!ev || ev->type != MSGPACK_OBJECT_MAP)
        return VCTL_OK;
    if (c->json) {
        vctl_print_json(ev);
    } else {
        char *row[NCOLS];
        event_row(ev, row);
        vctl_print_row((const char *const *)row, follow_widths, NCOLS);
        for (int i = 0; i < NCOLS; i++)
            free(row[i]);
    }
    return VCTL_OK;
}

/* Runs until the daemon closes the stream or ^C: both are a normal end. A
 * reader of stdout that has gone away ends it too. */
static int follow(const vctl_ctx *c, int fd)
{
    struct sigaction sa = {.sa_handler = on_stop};
    follow_fd = fd;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!c->json)
        vctl_print_row(heads, follow_widths, NCOLS);
    int rc = VCTL_OK;
    while (rc == VCTL_OK && !stopping && fflush(stdout) == 0) {
        vctl_reply f;
        int err = vctl_read_frame(fd, &f);
        if (err < 0) {
            rc = err == -ECONNRESET || stopping ? VCTL_OK : VCTL_ERR;
            break;
        }
        rc = print_frame(c, &f.up.data);
        vctl_reply_free(&f);
    }
    follow_fd = -1;
    close(fd);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

typedef struct events_opts {
    const char *type, *group, *workload;
    int64_t since, until, limit, now;
    bool has_since, has_until, follow;
} events_opts;

static int parse_time(const char *opt, const char *val, int64_t now, int64_t *out, bool *has)
{
    if (vg_time_parse(val, now, out) < 0) {
        fprintf(stderr,
                "vigilctl events: bad TIME '%s' for --%s (want 10m, 2h, 7d, "
                "epoch seconds or YYYY-MM-DDTHH:MM:SS[Z])\n",
                val, opt);
        return VCTL_USAGE;
    }
    *has = true;
    return VCTL_OK;
}

static int events_opt(void *arg, int opt, const char *val)
{
    events_opts *o = arg;
    char *end;
    switch (opt) {
    case 't':
        o->type = val;
        return VCTL_OK;
    case 'g':
        o->group = val;
        return VCTL_OK;
    case 'w':
        o->workload = val;
        return VCTL_OK;
    case 'f':
        o->follow = true;
        return VCTL_OK;
    case 'S':
        return parse_time("since", val, o->now, &o->since, &o->has_since);
    case 'U':
        return parse_time("until", val, o->now, &o->until, &o->has_until);
    case 'n':
        errno = 0;
        o->limit = strtoll(val, &end, 10);
        if (!errno && end != val && !*end && o->limit > 0)
            return VCTL_OK;
        fprintf(stderr, "vigilctl events: --limit wants a positive integer, not '%s'\n", val);
        return VCTL_USAGE;
    }
    return VCTL_USAGE;
}

/* Only what the user gave is sent: the daemon's defaults stay its own. */
static void pack_args(const events_opts *o, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, 1 + !!o->type + !!o->group + !!o->workload + o->has_since +
                                       o->has_until + (o->limit > 0));
    if (o->type)
        rc |= vg_mp_pack_kv_str(&pk, "type", o->type);
    if (o->group)
        rc |= vg_mp_pack_kv_str(&pk, "group", o->group);
    if (o->workload)
        rc |= vg_mp_pack_kv_str(&pk, "workload", o->workload);
    if (o->has_since)
        rc |= vg_mp_pack_kv_int(&pk, "since", o->since);
    if (o->has_until)
        rc |= vg_mp_pack_kv_int(&pk, "until", o->until);
    if (o->limit > 0)
        rc |= vg_mp_pack_kv_int(&pk, "limit", o->limit);
    rc |= vg_mp_pack_kv_bool(&pk, "follow", o->follow);
    if (rc) /* packing into memory fails only for want of it */
        vctl_oom();
}

/* An empty history of one type may be the store_skip setting's doing: the
 * daemon's status says which patterns are skipped, and the hint goes to
 * stderr so that --json output stays a pure list. */
static void hint_not_stored(const vctl_ctx *c, const char *type)
{
    if (vg_type_always_stored(type))
        return; /* always stored */
    vctl_reply r;
    if (vctl_call(c, "status", NULL, &r, NULL) != VCTL_OK)
        return;
    const msgpack_object *skip = vg_mp_get(vg_mp_get(r.result, "store"), "skip");
    for (uint32_t i = 0; skip && skip->type == MSGPACK_OBJECT_ARRAY && i < skip->via.array.size;
         i++) {
        const msgpack_object *p = &skip->via.array.ptr[i];
        if (p->type != MSGPACK_OBJECT_STR)
            continue;
        char pat[256];
        snprintf(pat, sizeof(pat), "%.*s", (int)p->via.str.size, p->via.str.ptr);
        if (vg_type_glob_match(pat, type)) {
            fprintf(stderr,
                    "vigilctl: events of type %s are not stored (store_skip \"%s\"); "
                    "see them live with --follow\n",
                    type, pat);
            break;
        }
    }
    vctl_reply_free(&r);
}

int vctl_cmd_events(vctl_ctx *c, int argc, char **argv)
{
    static const struct option lopts[] = {
        {"type", required_argument, NULL, 't'},     {"group", required_argument, NULL, 'g'},
        {"workload", required_argument, NULL, 'w'}, {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},    {"limit", required_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'f'},         {NULL, 0, NULL, 0}};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    events_opts o = {.now = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec};
    int rc = vctl_parse_opts(c, argc, argv, "t:g:w:n:f", lopts, events_opt, &o, NULL);
    if (rc >= 0)
        return rc;

    msgpack_sbuffer args;
    msgpack_sbuffer_init(&args);
    pack_args(&o, &args);
    vctl_reply r;
    int fd = -1;
    rc = vctl_call(c, "events", &args, &r, o.follow ? &fd : NULL);
    msgpack_sbuffer_destroy(&args);
    if (rc != VCTL_OK)
        return rc;
    if (o.follow) {
        vctl_reply_free(&r); /* the result only says that the stream begins */
        return follow(c, fd);
    }
    if (r.result->type != MSGPACK_OBJECT_ARRAY) {
        vctl_reply_free(&r);
        return vctl_bad_result("events", "a list");
    }
    print_events(c, r.result);
    bool empty = r.result->via.array.size == 0;
    vctl_reply_free(&r);
    if (empty && o.type)
        hint_not_stored(c, o.type);
    return VCTL_OK;
}
