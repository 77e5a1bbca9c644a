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

/* The body keys that say most about an event of a kind, shown first in
 * DETAIL (the rest follow in their order): for a violation, what was done
 * and why (the verdict, the mode or rule that decided), then what. */
static const char *const violation_keys[] = {"action", "verdict",   "mode", "rule", "incident",
                                             "reason", "message",   "name", "path", "program",
                                             "access", "direction", "peer", "port", "proto",
                                             "app",    "user",      "pid",  NULL};
static const char *const response_keys[] = {"rule",  "action",     "target", "status",
                                            "error", "event_type", NULL};
static const char *const error_keys[] = {"message", NULL};
static const char *const no_keys[] = {NULL};

static const char *const *first_keys(const msgpack_object *ev)
{
    char type[64];
    if (vg_mp_get_cstr(ev, "type", type, sizeof(type)) < 0)
        return no_keys;
    if (vg_type_glob_match("*.violation", type) || vg_type_glob_match("*.incident", type))
        return violation_keys;
    if (vg_type_glob_match("response.*", type))
        return response_keys;
    if (vg_type_glob_match("*.error", type))
        return error_keys;
    return no_keys;
}

static bool in_list(const msgpack_object *k, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++)
        if (vg_mp_streq(k, keys[i]))
            return true;
    return false;
}

static void put_kv(msgpack_sbuffer *raw, const msgpack_object_kv *kv)
{
    if (raw->size)
        vctl_sb_puts(raw, " ");
    vctl_put_value(raw, &kv->key);
    vctl_sb_puts(raw, "=");
    vctl_put_value(raw, &kv->val);
}

/* The body keys as "k=v k=v", the telling ones first, cut to max columns. */
static char *event_detail(const msgpack_object *ev, size_t max)
{
    msgpack_sbuffer raw, out;
    msgpack_sbuffer_init(&raw);
    msgpack_sbuffer_init(&out);
    const char *const *first = first_keys(ev);
    for (size_t f = 0; first[f]; f++)
        for (uint32_t i = 0; i < ev->via.map.size; i++)
            if (vg_mp_streq(&ev->via.map.ptr[i].key, first[f]))
                put_kv(&raw, &ev->via.map.ptr[i]);
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object_kv *kv = &ev->via.map.ptr[i];
        if (!is_header_key(&kv->key) && !in_list(&kv->key, first))
            put_kv(&raw, kv);
    }
    vctl_put_safe(&out, raw.data, raw.size, max, false);
    msgpack_sbuffer_destroy(&raw);
    return vctl_sb_take(&out);
}

/* The first NCOLS - 1 cells of one event's row; ev is a map. */
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
}

/* DETAIL's room: the terminal's width less the other columns (never under
 * 20), or VCTL_DETAIL_COLS when the output is not a terminal. */
static size_t detail_cols(const size_t *widths)
{
    size_t cols = vctl_term_cols(), used = 0;
    if (!cols)
        return VCTL_DETAIL_COLS;
    for (int i = 0; i < NCOLS - 1; i++)
        used += widths[i] + 2;
    return cols > used + 20 ? cols - used : 20;
}

/* Events from pages (each a list, oldest first; the pages newest first):
 * one JSON line each, or one table as wide as the terminal. */
static void print_events(const vctl_ctx *c, const msgpack_object *const *pages, size_t npages)
{
    if (c->json) {
        for (size_t p = npages; p-- > 0;)
            for (uint32_t i = 0; i < pages[p]->via.array.size; i++)
                vctl_print_json(&pages[p]->via.array.ptr[i]);
        return;
    }
    size_t widths[NCOLS] = {0};
    for (int i = 0; i < NCOLS; i++)
        widths[i] = strlen(heads[i]);
    vctl_table t;
    vctl_table_init(&t, heads);
    for (size_t p = npages; p-- > 0;)
        for (uint32_t i = 0; i < pages[p]->via.array.size; i++) {
            const msgpack_object *ev = &pages[p]->via.array.ptr[i];
            if (ev->type != MSGPACK_OBJECT_MAP)
                continue;
            char *row[NCOLS];
            event_row(ev, row);
            row[NCOLS - 1] = NULL;
            for (int k = 0; k < NCOLS - 1; k++) {
                size_t w = vctl_text_width(row[k]);
                widths[k] = w > widths[k] ? w : widths[k];
            }
            vctl_table_add(&t, row);
        }
    size_t max = detail_cols(widths);
    /* The details, now that their room is known. */
    size_t r = 1;
    for (size_t p = npages; p-- > 0;)
        for (uint32_t i = 0; i < pages[p]->via.array.size; i++)
            if (pages[p]->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
                t.cells[r++ * NCOLS + NCOLS - 1] = event_detail(&pages[p]->via.array.ptr[i], max);
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

/* {"gap": {"missed": N}}: the daemon dropped N events for this client,
 * which read too slowly. Said in its place in the stream (a JSON line, or
 * a line between the rows) and on stderr, so that a gap is never taken for
 * a quiet host. */
static void print_gap(const vctl_ctx *c, const msgpack_object *gap)
{
    int64_t missed = 0;
    vg_mp_get_int(gap, "missed", &missed);
    if (c->json) {
        printf("{\"gap\":{\"missed\":%lld}}\n", (long long)missed);
    } else {
        printf("-- %lld events missed here: this client read too slowly --\n", (long long)missed);
    }
    fflush(stdout);
    fprintf(stderr,
            "vigilctl: %lld events missed: this client read too slowly and the daemon does not "
            "wait for a follower (a file output keeps every event)\n",
            (long long)missed);
}

/* Prints one frame of the stream; returns VCTL_OK to go on. Frames other
 * than {"event": {...}} and {"gap": {...}} are skipped (later daemons may
 * send more kinds), except an error, which ends the stream. */
static int print_frame(const vctl_ctx *c, const msgpack_object *frame)
{
    const msgpack_object *ev = vg_mp_get(frame, "event");
    const msgpack_object *gap = vg_mp_get(frame, "gap");
    bool ok = true;
    if (vg_mp_get_bool(frame, "ok", &ok) == 0 && !ok) {
        vctl_print_error(frame);
        return VCTL_ERR;
    }
    if (gap && gap->type == MSGPACK_OBJECT_MAP) {
        print_gap(c, gap);
        return VCTL_OK;
    }
    if (!ev || ev->type != MSGPACK_OBJECT_MAP)
        return VCTL_OK;
    if (c->json) {
        vctl_print_json(ev);
    } else {
        char *row[NCOLS];
        event_row(ev, row);
        row[NCOLS - 1] = event_detail(ev, detail_cols(follow_widths));
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
        if (err < 0 && !stopping) {
            /* Not our ^C: the daemon stopped (or restarted); say so, so
             * that a quiet screen is never mistaken for a quiet host. */
            fflush(stdout);
            fprintf(stderr, "vigilctl: the daemon closed the stream (it stopped or restarted); "
                            "no more events will come\n");
            rc = VCTL_ERR;
        }
        if (err < 0)
            break;
        rc = print_frame(c, &f.up.data);
        vctl_reply_free(&f);
    }
    follow_fd = -1;
    close(fd);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

typedef struct events_opts {
    const char *type, *group, *workload, *severity;
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

static bool is_severity(const char *s)
{
    static const char *const names[] = {"debug", "info", "notice", "warning", "error", "critical"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
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
    case 'L':
        if (!is_severity(val)) {
            fprintf(stderr,
                    "vigilctl events: --severity wants debug, info, notice, warning, error or "
                    "critical, not '%s'\n",
                    val);
            return VCTL_USAGE;
        }
        o->severity = val;
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

/* Only what the user gave is sent: the daemon's defaults stay its own.
 * A query asks for pages ({events, total, more, before}); `before` > 0
 * asks for the page older than that id. */
static void pack_args(const events_opts *o, int64_t limit, int64_t before, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int rc = msgpack_pack_map(&pk, 1 + !!o->type + !!o->group + !!o->workload + !!o->severity +
                                       o->has_since + o->has_until + (limit > 0) + !o->follow +
                                       (before > 0));
    if (o->type)
        rc |= vg_mp_pack_kv_str(&pk, "type", o->type);
    if (o->group)
        rc |= vg_mp_pack_kv_str(&pk, "group", o->group);
    if (o->workload)
        rc |= vg_mp_pack_kv_str(&pk, "workload", o->workload);
    if (o->severity)
        rc |= vg_mp_pack_kv_str(&pk, "severity", o->severity);
    if (o->has_since)
        rc |= vg_mp_pack_kv_int(&pk, "since", o->since);
    if (o->has_until)
        rc |= vg_mp_pack_kv_int(&pk, "until", o->until);
    if (limit > 0)
        rc |= vg_mp_pack_kv_int(&pk, "limit", limit);
    if (!o->follow)
        rc |= vg_mp_pack_kv_bool(&pk, "page", true);
    if (before > 0)
        rc |= vg_mp_pack_kv_int(&pk, "before", before);
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

/* The pages of a query, newest first; a reply larger than a frame comes
 * as several. */
typedef struct pages {
    vctl_reply *replies;
    const msgpack_object **lists;
    size_t n;
    uint64_t total, shown;
    bool total_exact;
} pages;

static void pages_free(pages *p)
{
    for (size_t i = 0; i < p->n; i++)
        vctl_reply_free(&p->replies[i]);
    free(p->replies);
    free(p->lists);
}

/* Asks page after page until `limit` events (the daemon's default 100 when
 * the user gave none) or no more. A daemon that answers with a bare list
 * (one before pages) gives one page. */
static int fetch(const vctl_ctx *c, const events_opts *o, pages *p)
{
    int64_t want = o->limit > 0 ? o->limit : 100, before = 0;
    for (;;) {
        msgpack_sbuffer args;
        msgpack_sbuffer_init(&args);
        pack_args(o, o->limit > 0 || p->n ? want - (int64_t)p->shown : 0, before, &args);
        vctl_reply r;
        int rc = vctl_call(c, "events", &args, &r, NULL);
        msgpack_sbuffer_destroy(&args);
        if (rc != VCTL_OK)
            return rc;
        const msgpack_object *list =
            r.result->type == MSGPACK_OBJECT_ARRAY ? r.result : vg_mp_get(r.result, "events");
        if (!list || list->type != MSGPACK_OBJECT_ARRAY) {
            vctl_reply_free(&r);
            return vctl_bad_result("events", "a list");
        }
        p->replies = realloc(p->replies, (p->n + 1) * sizeof(*p->replies));
        p->lists = realloc(p->lists, (p->n + 1) * sizeof(*p->lists));
        if (!p->replies || !p->lists)
            vctl_oom();
        p->replies[p->n] = r;
        p->lists[p->n++] = list;
        p->shown += list->via.array.size;
        bool more = false;
        int64_t total = 0, next = 0;
        if (list == r.result) /* an older daemon: one page, no total */
            return VCTL_OK;
        vg_mp_get_bool(r.result, "more", &more);
        if (vg_mp_get_int(r.result, "total", &total) == 0 && p->n == 1) {
            p->total = (uint64_t)total;
            p->total_exact = true;
            vg_mp_get_bool(r.result, "total_exact", &p->total_exact);
        }
        vg_mp_get_int(r.result, "before", &next);
        if (!more || (int64_t)p->shown >= want || next <= 1 || !list->via.array.size)
            return VCTL_OK;
        before = next;
    }
}

int vctl_cmd_events(vctl_ctx *c, int argc, char **argv)
{
    static const struct option lopts[] = {{"type", required_argument, NULL, 't'},
                                          {"group", required_argument, NULL, 'g'},
                                          {"workload", required_argument, NULL, 'w'},
                                          {"since", required_argument, NULL, 'S'},
                                          {"until", required_argument, NULL, 'U'},
                                          {"limit", required_argument, NULL, 'n'},
                                          {"severity", required_argument, NULL, 'L'},
                                          {"follow", no_argument, NULL, 'f'},
                                          {NULL, 0, NULL, 0}};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    events_opts o = {.now = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec};
    int rc = vctl_parse_opts(c, argc, argv, "t:g:w:n:f", lopts, events_opt, &o, NULL);
    if (rc >= 0)
        return rc;

    if (o.follow) {
        msgpack_sbuffer args;
        msgpack_sbuffer_init(&args);
        pack_args(&o, o.limit, 0, &args);
        vctl_reply r;
        int fd = -1;
        rc = vctl_call(c, "events", &args, &r, &fd);
        msgpack_sbuffer_destroy(&args);
        if (rc != VCTL_OK)
            return rc;
        vctl_reply_free(&r); /* the result only says that the stream begins */
        return follow(c, fd);
    }
    pages p = {0};
    rc = fetch(c, &o, &p);
    if (rc == VCTL_OK) {
        print_events(c, p.lists, p.n);
        /* On stderr, so that --json stays a pure list. */
        if (p.total > p.shown)
            fprintf(stderr,
                    "vigilctl: showing the last %llu of %s%llu %s events; see more with --limit N "
                    "(or narrow with --since, --type, --severity)\n",
                    (unsigned long long)p.shown, p.total_exact ? "" : "at least ",
                    (unsigned long long)p.total,
                    o.type || o.group || o.workload || o.severity || o.has_since || o.has_until
                        ? "matching stored"
                        : "stored");
        if (p.shown == 0 && o.type)
            hint_not_stored(c, o.type);
    }
    pages_free(&p);
    return rc;
}
