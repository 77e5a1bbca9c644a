/*
 * Redis (RESP 2 and 3): the client sends arrays of bulk strings
 * ("*2\r\n$3\r\nGET\r\n...") or an inline command; the server answers with a
 * RESP type byte. Fields: redis.command (the first commands, upper-cased,
 * repeated; never their arguments, which may be secrets).
 */
#include <ctype.h>
#include <strings.h>

#include "proto.h"

#define COMMANDS_MAX 4

/* Inline commands (telnet style): the common ones, any case. */
static const char *const inline_cmds[] = {
    "PING",     "INFO",      "AUTH",       "SELECT",      "GET",     "SET",     "KEYS",
    "CONFIG",   "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUBLISH", "MONITOR", "HELLO",
    "CLIENT",   "QUIT",      "DEL",        "EXISTS",      "INCR",    "DECR",    "LPUSH",
    "RPUSH",    "LPOP",      "RPOP",       "LRANGE",      "HSET",    "HGET",    "HGETALL",
    "SADD",     "SMEMBERS",  "ZADD",       "ZRANGE",      "EXPIRE",  "TTL",     "MGET",
    "MSET",     "FLUSHALL",  "FLUSHDB",    "DBSIZE",      "SCAN",    "TYPE",    "ECHO",
    "MULTI",    "EXEC",      "EVAL",       "SAVE",        "BGSAVE",  "SLAVEOF", "REPLICAOF",
    "SHUTDOWN", "COMMAND",   "SCRIPT",     NULL,
};

/* A whole inline command line: a known command word, then space or end. */
static int inline_command(const uint8_t *p, uint32_t n)
{
    uint32_t w = 0;
    while (w < n && w < 16 && isalpha(p[w]))
        w++;
    if (w == n)
        return w < 16 ? VG_P_MORE : VG_P_NO;
    if (!w || (p[w] != ' ' && p[w] != '\r' && p[w] != '\n'))
        return VG_P_NO;
    for (int i = 0; inline_cmds[i]; i++)
        if (strlen(inline_cmds[i]) == w && !strncasecmp((const char *)p, inline_cmds[i], w)) {
            int end = vg_line_end(p, n);
            if (end < 0)
                return n < 1024 ? VG_P_MORE : VG_P_NO;
            for (int j = 0; j < end; j++)
                if (p[j] < 0x20 || p[j] >= 0x7f)
                    return VG_P_NO;
            return VG_P_YES;
        }
    return VG_P_NO;
}

/* "*N\r\n$M\r\n": an array of bulk strings. */
static int array_start(const uint8_t *p, uint32_t n)
{
    if (p[0] != '*')
        return VG_P_NO;
    uint32_t i = 1;
    while (i < n && i < 8 && isdigit(p[i]))
        i++;
    if (i == 1)
        return i < n ? VG_P_NO : VG_P_MORE;
    if (i + 3 > n)
        return VG_P_MORE;
    return p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '$' ? VG_P_YES : VG_P_NO;
}

static int client(const uint8_t *p, uint32_t n)
{
    if (!n)
        return VG_P_MORE;
    if (p[0] == '*')
        return array_start(p, n);
    return inline_command(p, n);
}

static int detect(vg_pctx *c)
{
    int a = client(c->data[0], c->len[0]);
    if (a != VG_P_YES)
        return a == VG_P_MORE && c->final ? VG_P_NO : a;
    if (!c->len[1])
        return c->final ? VG_P_YES : VG_P_MORE;
    if (c->len[1] < 3)
        return c->final ? VG_P_NO : VG_P_MORE;
    const uint8_t *s = c->data[1];
    return strchr("+-:$*_%~>,#(!=|", s[0]) && s[0] && vg_line_end(s, c->len[1]) > 0 ? VG_P_YES
                                                                                    : VG_P_NO;
}

static void command(vg_pctx *c, const uint8_t *p, uint32_t n)
{
    char up[32];
    uint32_t i = 0;
    for (; i < n && i < sizeof(up) - 1 && isalpha(p[i]); i++)
        up[i] = (char)toupper(p[i]);
    if (i)
        vg_p_field(c, "redis.command", (const uint8_t *)up, i);
}

/* The commands of the client's first arrays: the first bulk string of each. */
static int parse(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    uint32_t n = c->len[0], off = 0;
    for (int k = 0; k < COMMANDS_MAX && off < n; k++) {
        if (p[off] != '*') {
            command(c, p + off, n - off);
            return 1;
        }
        const uint8_t *d = memchr(p + off, '$', n - off);
        if (!d)
            return 0;
        long nargs = vg_num(p + off + 1, n - off - 1);
        const uint8_t *nl = memchr(d, '\n', (size_t)(p + n - d));
        if (!nl)
            return 0;
        long blen = vg_num(d + 1, (uint32_t)(p + n - d - 1));
        if (blen <= 0 || nargs <= 0 || blen > p + n - nl - 1)
            return 0;
        command(c, nl + 1, (uint32_t)blen);
        /* skip the rest of this array: nargs bulk strings */
        const uint8_t *q = p + off + 1;
        for (long a = 0; a <= nargs * 2 && q < p + n; a++) {
            const uint8_t *e = memchr(q, '\n', (size_t)(p + n - q));
            if (!e)
                return 0;
            q = e + 1;
        }
        off = (uint32_t)(q - p);
    }
    return 1;
}

VG_NET_PROTO(redis) = {.name = "redis", .tcp = 1, .prio = 20, .detect = detect, .parse = parse};
