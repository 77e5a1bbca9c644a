/* vigilctl: text for terminals, human formats and tables; see vigilctl.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <time.h>

#include "json.h"
#include "mp.h"
#include "vigilctl.h"

void vctl_oom(void)
{
    fputs("vigilctl: out of memory\n", stderr);
    exit(VCTL_ERR);
}

char *vctl_strdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        vctl_oom();
    return d;
}

void vctl_sb_put(msgpack_sbuffer *sb, const char *p, size_t n)
{
    if (n && msgpack_sbuffer_write(sb, p, n) != 0)
        vctl_oom();
}

void vctl_sb_puts(msgpack_sbuffer *sb, const char *s)
{
    vctl_sb_put(sb, s, strlen(s));
}

char *vctl_sb_take(msgpack_sbuffer *sb)
{
    vctl_sb_put(sb, "", 1);
    return msgpack_sbuffer_release(sb);
}

/* ---- escaping ----------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t bad;
    return vg_utf8_seq(p, n, &bad);
}

/* The printable form of the character at p (len bytes, 0 = not UTF-8) in
 * esc, or NULL if it prints as itself. */
static const char *escape_char(const unsigned char *p, size_t len, bool keep_nl, char esc[8])
{
    if (len == 0)
        snprintf(esc, 8, "\\x%02x", p[0]);
    else if (len == 2 && p[0] == 0xC2 && p[1] < 0xA0) /* C1 controls, e.g. CSI */
        snprintf(esc, 8, "\\u%04x", p[1]);
    else if (len > 1 || (p[0] >= 0x20 && p[0] != 0x7F) || (p[0] == '\n' && keep_nl))
        return NULL;
    else if (p[0] == '\n' || p[0] == '\t' || p[0] == '\r')
        snprintf(esc, 8, "\\%c", p[0] == '\n' ? 'n' : p[0] == '\t' ? 't' : 'r');
    else
        snprintf(esc, 8, "\\x%02x", p[0]);
    return esc;
}

void vctl_put_safe(msgpack_sbuffer *out, const char *s, size_t n, size_t max, bool keep_nl)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cols = 0, cut = out->size;
    bool cut_set = false;
    char esc[8];
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        const char *e = escape_char(p + i, len, keep_nl, esc);
        size_t w = e ? strlen(e) : 1;
        if (!cut_set && cols + w > max - 3) {
            cut = out->size; /* where "..." goes if the rest does not fit */
            cut_set = true;
        }
        if (cols + w > max) {
            out->size = cut;
            vctl_sb_puts(out, "...");
            return;
        }
        if (e)
            vctl_sb_puts(out, e);
        else
            vctl_sb_put(out, s + i, len);
        cols = p[i] == '\n' ? 0 : cols + w;
        i += len ? len : 1;
    }
}

void vctl_put_value(msgpack_sbuffer *out, const msgpack_object *v)
{
    if (v->type == MSGPACK_OBJECT_STR && v->via.str.size &&
        !memchr(v->via.str.ptr, ' ', v->via.str.size) &&
        !memchr(v->via.str.ptr, '"', v->via.str.size)) {
        vctl_sb_put(out, v->via.str.ptr, v->via.str.size);
        return;
    }
    if (vg_json_write_sbuf(out, v) < 0)
        vctl_oom();
}

char *vctl_cell(const msgpack_object *o, size_t max)
{
    msgpack_sbuffer sb, js;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&js);
    if (!o || o->type == MSGPACK_OBJECT_NIL ||
        (o->type == MSGPACK_OBJECT_STR && o->via.str.size == 0)) {
        vctl_sb_puts(&sb, "-");
    } else if (o->type == MSGPACK_OBJECT_STR) {
        vctl_put_safe(&sb, o->via.str.ptr, o->via.str.size, max, false);
    } else {
        vctl_put_value(&js, o);
        vctl_put_safe(&sb, js.data, js.size, max, false);
    }
    msgpack_sbuffer_destroy(&js);
    return vctl_sb_take(&sb);
}

char *vctl_cell_get(const msgpack_object *map, const char *key)
{
    return vctl_cell(vg_mp_get(map, key), VCTL_NO_LIMIT);
}

/* ---- human formats ------------------------------------------------------ */

const char *vctl_fmt_duration(uint64_t s, char buf[32])
{
    if (s < 60)
        snprintf(buf, 32, "%" PRIu64 "s", s);
    else if (s < 3600)
        snprintf(buf, 32, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, 32, "%" PRIu64 "h%" PRIu64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, 32, "%" PRIu64 "d%" PRIu64 "h", s / 86400, s % 86400 / 3600);
    return buf;
}

const char *vctl_fmt_bytes(uint64_t b, char buf[32])
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (b < 1024) {
        snprintf(buf, 32, "%" PRIu64 " B", b);
        return buf;
    }
    double v = (double)b / 1024;
    size_t u = 0;
    for (; v >= 1024 && u < 4; u++)
        v /= 1024;
    snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

const char *vctl_fmt_time(int64_t ns, char buf[32])
{
    /* Floor division: an instant before 1970 belongs to the second before. */
    time_t t = (time_t)(ns / 1000000000 - (ns % 1000000000 < 0));
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, 32, "%" PRId64, ns);
    return buf;
}

const char *vctl_num(const msgpack_object *map, const char *key, char buf[32])
{
    const msgpack_object *v = vg_mp_get(map, key);
    if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf(buf, 32, "%" PRIu64, v->via.u64);
    else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf(buf, 32, "%" PRId64, v->via.i64);
    else
        snprintf(buf, 32, "-");
    return buf;
}

const char *vctl_bytes(const msgpack_object *map, const char *key, char buf[32])
{
    const msgpack_object *v = vg_mp_get(map, key);
    if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return vctl_fmt_bytes(v->via.u64, buf);
    return vctl_num(map, key, buf);
}

/* ---- tables ------------------------------------------------------------- */

/* Cells are escaped, so valid UTF-8: one column per character. */
size_t vctl_text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void vctl_table_add(vctl_table *t, char **row)
{
    char **cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*cells));
    if (!cells)
        vctl_oom();
    memcpy(cells + t->nrows * t->ncols, row, t->ncols * sizeof(*cells));
    t->cells = cells;
    t->nrows++;
}

void vctl_table_init(vctl_table *t, const char *const *heads)
{
    char *row[VCTL_TABLE_COLS];
    *t = (vctl_table){0};
    for (; heads[t->ncols] && t->ncols < VCTL_TABLE_COLS; t->ncols++)
        row[t->ncols] = vctl_strdup(heads[t->ncols]);
    vctl_table_add(t, row);
}

void vctl_print_row(const char *const *cells, const size_t *widths, size_t ncols)
{
    /* Empty cells at the end would leave blanks at the end of the line. */
    while (ncols > 1 && !*cells[ncols - 1])
        ncols--;
    for (size_t i = 0; i < ncols; i++) {
        size_t w = vctl_text_width(cells[i]);
        fputs(cells[i], stdout);
        if (i + 1 < ncols)
            printf("%*s", (int)(widths[i] > w ? widths[i] - w + 2 : 2), "");
    }
    putchar('\n');
}

void vctl_table_print(vctl_table *t)
{
    size_t widths[VCTL_TABLE_COLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t w = vctl_text_width(t->cells[r * t->ncols + i]);
            widths[i] = w > widths[i] ? w : widths[i];
        }
    for (size_t r = 0; r < t->nrows; r++)
        vctl_print_row((const char *const *)t->cells + r * t->ncols, widths, t->ncols);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    *t = (vctl_table){0};
}

size_t vctl_term_cols(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 && n < 10000 ? (size_t)n : 0;
}
