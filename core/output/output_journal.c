/*
 * The "journal" output: each event as a journal entry with structured
 * fields, so that `journalctl VIGIL_TYPE=proc.violation VIGIL_GROUP=web.prod`
 * finds it:
 *
 *   MESSAGE=vigil: warning proc.violation in group web.prod (workload 3f2a..)
 *   PRIORITY=4                 from the severity (critical 2 ... debug 7)
 *   SYSLOG_IDENTIFIER=vigild   ("identifier" setting)
 *   VIGIL_ID= VIGIL_TYPE= VIGIL_SEVERITY= VIGIL_GROUP= VIGIL_WORKLOAD=
 *   VIGIL_<KEY>=               each other top-level string, number or
 *                              boolean of the event (VIGIL_RULE=, VIGIL_PATH=)
 *   VIGIL_EVENT=               the whole event as JSON
 *
 * Where journald does not run (no /run/systemd/journal/socket: a container,
 * a host with another init), the events go to syslog(3) instead, facility
 * daemon, as "MESSAGE: JSON". Which one is used is decided at start and at
 * each reopen (SIGUSR1, reload).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE= of this file says nothing */
#include <systemd/sd-journal.h>

#include "log.h"
#include "mp.h"
#include "output_int.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define FIELDS_MAX 48
#define FIELD_NAME_MAX 64 /* journald's limit */

typedef struct journal_out {
    char ident[64];
    bool syslog; /* journald absent */
    /* The fields of the entry being sent; reused. */
    struct iovec iov[FIELDS_MAX];
    char *bufs[FIELDS_MAX];
    int n;
} journal_out;

static int priority_of(const char *sev, size_t len)
{
    static const struct {
        const char *name;
        int prio;
    } map[] = {{"critical", LOG_CRIT}, {"error", LOG_ERR},   {"warning", LOG_WARNING},
               {"notice", LOG_NOTICE}, {"info", LOG_INFO},   {"debug", LOG_DEBUG}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].name) == len && memcmp(map[i].name, sev, len) == 0)
            return map[i].prio;
    return LOG_INFO;
}

/* journald or syslog, at start and at each reopen; a change is logged. */
static void choose(journal_out *j, bool first)
{
    bool was = j->syslog;
    j->syslog = access(JOURNAL_SOCKET, W_OK) != 0;
    if (j->syslog && (first || !was)) {
        openlog(j->ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        vg_notice("output journal: journald is not running (no %s); events go to syslog",
                  JOURNAL_SOCKET);
    } else if (!j->syslog && was) {
        closelog();
        vg_notice("output journal: journald is back; events go to it again");
    }
}

static int journal_open(const msgpack_object *settings, void **priv, char *err, size_t errlen)
{
    journal_out *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    if (vg_mp_get_cstr(settings, "identifier", j->ident, sizeof(j->ident)) < 0)
        snprintf(j->ident, sizeof(j->ident), "vigild");
    choose(j, true);
    *priv = j;
    return 0;
}

static void add(journal_out *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(journal_out *j, const char *fmt, ...)
{
    if (j->n >= FIELDS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int len = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    j->bufs[j->n] = s;
    j->iov[j->n++] = (struct iovec){.iov_base = s, .iov_len = (size_t)len};
}

/* VIGIL_ and the key in journald's alphabet: upper case, digits, '_'. */
static bool field_name(const char *key, size_t klen, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "VIGIL_");
    for (size_t i = 0; i < klen && n + 1 < size && n < FIELD_NAME_MAX; i++)
        out[n++] = isalnum((unsigned char)key[i]) ? (char)toupper((unsigned char)key[i]) : '_';
    out[n] = '\0';
    return klen > 0;
}

/* The header's fields have fixed names; the body's scalar ones follow. */
static void add_fields(journal_out *j, const msgpack_object *ev)
{
    for (uint32_t i = 0; i < ev->via.map.size; i++) {
        const msgpack_object *k = &ev->via.map.ptr[i].key, *v = &ev->via.map.ptr[i].val;
        char name[FIELD_NAME_MAX + 1];
        if (k->type != MSGPACK_OBJECT_STR || vg_mp_streq(k, "time") ||
            !field_name(k->via.str.ptr, k->via.str.size, name, sizeof(name)))
            continue;
        if (v->type == MSGPACK_OBJECT_STR && v->via.str.size)
            add(j, "%s=%.*s", name, (int)v->via.str.size, v->via.str.ptr);
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            add(j, "%s=%llu", name, (unsigned long long)v->via.u64);
        else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            add(j, "%s=%lld", name, (long long)v->via.i64);
        else if (v->type == MSGPACK_OBJECT_BOOLEAN)
            add(j, "%s=%s", name, v->via.boolean ? "true" : "false");
    }
}

static int journal_write(void *priv, const msgpack_object *ev, const char *json, size_t len)
{
    journal_out *j = priv;
    const char *sev = "info", *type = "?", *group = "", *wl = "";
    size_t sl = 4, tl = 1, gl = 0, wll = 0;
    vg_mp_get_str(ev, "severity", &sev, &sl);
    vg_mp_get_str(ev, "type", &type, &tl);
    vg_mp_get_str(ev, "group", &group, &gl);
    vg_mp_get_str(ev, "workload", &wl, &wll);
    char msg[512];
    int m = snprintf(msg, sizeof(msg), "vigil: %.*s %.*s", (int)sl, sev, (int)tl, type);
    if (gl)
        m += snprintf(msg + m, sizeof(msg) - (size_t)m, " in group %.*s", (int)gl, group);
    if (wll)
        snprintf(msg + m, sizeof(msg) - (size_t)m, " (workload %.*s)",
                      (int)(wll < 12 ? wll : 12), wl); /* wl: not NUL-terminated */
    int prio = priority_of(sev, sl);
    if (j->syslog) {
        syslog(prio, "%s: %.*s", msg, (int)len, json);
        return 0;
    }
    j->n = 0;
    add(j, "MESSAGE=%s", msg);
    add(j, "PRIORITY=%d", prio);
    add(j, "SYSLOG_IDENTIFIER=%s", j->ident);
    add(j, "VIGIL_EVENT=%.*s", (int)len, json);
    add_fields(j, ev);
    int rc = sd_journal_sendv(j->iov, j->n);
    for (int i = 0; i < j->n; i++)
        free(j->bufs[i]);
    return rc < 0 ? rc : 0;
}

static void journal_reopen(void *priv)
{
    choose(priv, false);
}

static void journal_close(void *priv)
{
    journal_out *j = priv;
    if (j->syslog)
        closelog();
    free(j);
}

const vg_output_kind vg__output_journal = {
    .name = "journal",
    .open = journal_open,
    .write = journal_write,
    .reopen = journal_reopen,
    .close = journal_close,
};
