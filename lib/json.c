/* Rendering msgpack objects as JSON; see json.h. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * One writer, two sinks. The renderer fills a small buffer and hands whole
 * chunks to a sink function, so a FILE and an sbuffer share every line of
 * the rendering code, and a single character costs no call into stdio or
 * realloc(). The first sink error is kept and everything after it skipped.
 */
typedef int (*sink_fn)(void *ctx, const char *p, size_t n);

typedef struct jw {
    sink_fn sink;
    void *ctx;
    int err;
    bool in_key; /* writing a composite key's text: its own composite keys are not expanded */
    size_t len;
    char buf[512];
} jw;

static void jw_flush(jw *w)
{
    if (w->len && !w->err)
        w->err = w->sink(w->ctx, w->buf, w->len);
    w->len = 0;
}

static void jw_put(jw *w, const char *p, size_t n)
{
    if (n == 0) /* p may be NULL then (an empty msgpack string) */
        return;
    if (n > sizeof(w->buf) - w->len) {
        jw_flush(w);
        /* A long run (a big string) goes straight through. */
        if (n > sizeof(w->buf)) {
            if (!w->err)
                w->err = w->sink(w->ctx, p, n);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void jw_puts(jw *w, const char *s)
{
    jw_put(w, s, strlen(s));
}

static void jw_putc(jw *w, char c)
{
    if (w->len == sizeof(w->buf))
        jw_flush(w);
    w->buf[w->len++] = c;
}

static int sink_file(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, (FILE *)ctx) == n ? 0 : -EIO;
}

static int sink_sbuf(void *ctx, const char *p, size_t n)
{
    return msgpack_sbuffer_write(ctx, p, n) == 0 ? 0 : -ENOMEM;
}

/*
 * The length (1..4) of the well-formed UTF-8 sequence at p, per the
 * Unicode table of well-formed byte sequences: no overlong forms, no
 * surrogates (ED A0..BF), nothing above U+10FFFF. For an ill-formed
 * sequence returns 0 and sets *bad to the length of its maximal subpart
 * (the bytes that could still have started a valid sequence, at least 1),
 * so that each such subpart becomes one U+FFFD, as Unicode recommends.
 */
size_t vg_utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t need;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong below U+0800 */
        hi = c == 0xED ? 0x9F : 0xBF; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80; /* overlong below U+10000 */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* above U+10FFFF */
    } else {
        *bad = 1; /* 80..C1 (stray continuation, overlong lead), F5..FF */
        return 0;
    }
    size_t i;
    for (i = 1; i <= need && i < n; i++) {
        if (p[i] < lo || p[i] > hi)
            break;
        lo = 0x80;
        hi = 0xBF;
    }
    if (i > need)
        return need + 1;
    *bad = i;
    return 0;
}

/* The escape for an ASCII byte into out, or false if it stands for itself.
 * DEL is escaped although JSON allows it raw, like the C1 controls below:
 * JSON lines are read on terminals too. */
static bool escape_ascii(unsigned char c, char out[8])
{
    const char *e = NULL;
    switch (c) {
    case '"':
        e = "\\\"";
        break;
    case '\\':
        e = "\\\\";
        break;
    case '\b':
        e = "\\b";
        break;
    case '\f':
        e = "\\f";
        break;
    case '\n':
        e = "\\n";
        break;
    case '\r':
        e = "\\r";
        break;
    case '\t':
        e = "\\t";
        break;
    default:
        if (c >= 0x20 && c != 0x7f)
            return false;
        snprintf(out, 8, "\\u%04x", c);
        return true;
    }
    strcpy(out, e);
    return true;
}

/*
 * How the character at p is written: returns its length in bytes when it
 * stands for itself, or 0 after putting its replacement into esc and the
 * number of bytes that it replaces into *skip.
 */
static size_t char_at(const unsigned char *p, size_t n, char esc[8], size_t *skip)
{
    size_t bad = 1, len;
    if (p[0] < 0x80) {
        *skip = 1;
        return escape_ascii(p[0], esc) ? 0 : 1;
    }
    len = vg_utf8_seq(p, n, &bad);
    if (len == 2 && p[0] == 0xC2 && p[1] < 0xA0) {
        /* U+0080..U+009F, the C1 controls: 0x9B starts an escape sequence
         * on some terminals. */
        snprintf(esc, 8, "\\u%04x", p[1]);
        *skip = 2;
        return 0;
    }
    if (len)
        return len;
    strcpy(esc, "\\ufffd");
    *skip = bad;
    return 0;
}

/* Writes runs of bytes that need no escaping in one piece. */
static void put_str(jw *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0, skip;
    char esc[8];

    jw_putc(w, '"');
    while (i < n) {
        size_t len = char_at(p + i, n - i, esc, &skip);
        if (len) {
            i += len;
            continue;
        }
        jw_put(w, s + start, i - start);
        jw_puts(w, esc);
        i += skip;
        start = i;
    }
    jw_put(w, s + start, i - start);
    jw_putc(w, '"');
}

static void put_bin(jw *w, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jw_putc(w, '"');
    for (size_t i = 0; i < n; i++) {
        jw_putc(w, hex[(unsigned char)p[i] >> 4]);
        jw_putc(w, hex[(unsigned char)p[i] & 15]);
    }
    jw_putc(w, '"');
}

/*
 * The shortest "%.*g" that reads back as the same value: 0.1 prints as
 * "0.1" rather than "0.10000000000000001", and nothing is ever lost (17
 * significant digits always round-trip a double). A float32 is judged as a
 * float, so 0.1f is "0.1" too. JSON has no NaN or infinity: those are null.
 */
static void put_double(jw *w, double d, bool single)
{
    char buf[40];
    if (!isfinite(d)) {
        jw_puts(w, "null");
        return;
    }
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (single ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
            break;
    }
    /* A locale with a decimal comma would make invalid JSON. */
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '.';
    jw_puts(w, buf);
}

static void put_obj(jw *w, const msgpack_object *o);

/*
 * JSON keys are strings. A key of another type is rendered as its JSON
 * text and that text is written as the key string (1 -> "1", [1] -> "[1]"),
 * so that nothing is lost; a bin key is its hex string, as a value would be.
 * Inside such a text, a map or array key is only named ("{map}", "[array]"):
 * each level of keys within keys escapes the level below again, and a
 * hundred-byte body of maps keyed by maps grew to gigabytes.
 */
static void put_key(jw *w, const msgpack_object *k)
{
    if (k->type == MSGPACK_OBJECT_STR) {
        put_str(w, k->via.str.ptr, k->via.str.size);
        return;
    }
    if (k->type == MSGPACK_OBJECT_BIN) {
        put_bin(w, k->via.bin.ptr, k->via.bin.size);
        return;
    }
    if (w->in_key && (k->type == MSGPACK_OBJECT_MAP || k->type == MSGPACK_OBJECT_ARRAY)) {
        jw_puts(w, k->type == MSGPACK_OBJECT_MAP ? "\"{map}\"" : "\"[array]\"");
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    jw kw = {.sink = sink_sbuf, .ctx = &sb, .in_key = true};
    put_obj(&kw, k);
    jw_flush(&kw);
    if (kw.err == 0)
        put_str(w, sb.data ? sb.data : "", sb.size);
    else if (!w->err)
        w->err = -ENOMEM;
    msgpack_sbuffer_destroy(&sb);
}

static void put_array(jw *w, const msgpack_object_array *a)
{
    jw_putc(w, '[');
    for (uint32_t i = 0; i < a->size; i++) {
        if (i)
            jw_putc(w, ',');
        put_obj(w, &a->ptr[i]);
    }
    jw_putc(w, ']');
}

static void put_map(jw *w, const msgpack_object_map *m)
{
    jw_putc(w, '{');
    for (uint32_t i = 0; i < m->size; i++) {
        if (i)
            jw_putc(w, ',');
        put_key(w, &m->ptr[i].key);
        jw_putc(w, ':');
        put_obj(w, &m->ptr[i].val);
    }
    jw_putc(w, '}');
}

/* Recursion depth is bounded by the input: msgpack-c's unpacker refuses
 * nesting deeper than MSGPACK_EMBED_STACK_SIZE (32). */
static void put_obj(jw *w, const msgpack_object *o)
{
    char num[32];
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        jw_puts(w, o->via.boolean ? "true" : "false");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
        jw_puts(w, num);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(num, sizeof(num), "%" PRId64, o->via.i64);
        jw_puts(w, num);
        break;
    case MSGPACK_OBJECT_FLOAT32:
        put_double(w, o->via.f64, true);
        break;
    case MSGPACK_OBJECT_FLOAT64:
        put_double(w, o->via.f64, false);
        break;
    case MSGPACK_OBJECT_STR:
        put_str(w, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        put_bin(w, o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        put_array(w, &o->via.array);
        break;
    case MSGPACK_OBJECT_MAP:
        put_map(w, &o->via.map);
        break;
    default: /* nil, ext: JSON has no counterpart */
        jw_puts(w, "null");
        break;
    }
}

static int render(sink_fn sink, void *ctx, const msgpack_object *o)
{
    jw w = {.sink = sink, .ctx = ctx};
    put_obj(&w, o);
    jw_flush(&w);
    return w.err;
}

int vg_json_write(FILE *out, const msgpack_object *o)
{
    return render(sink_file, out, o) ? -EIO : 0;
}

int vg_json_write_sbuf(msgpack_sbuffer *sb, const msgpack_object *o)
{
    return render(sink_sbuf, sb, o);
}
