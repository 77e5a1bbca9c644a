/*
 * TFTP (RFC 1350): a read or write request (opcode 1/2, file name, NUL, a
 * mode netascii/octet/mail, NUL, options). The server answers from another
 * port, so the transfer is its own flow: DATA block 1 answered by ACK 1,
 * or an ERROR, names it too. Fields: tftp.op (read/write), tftp.file,
 * tftp.mode.
 */
#include <strings.h>

#include "proto.h"

/* A request: the offset of its mode string, or 0. */
static uint32_t request(const uint8_t *p, uint32_t n)
{
    if (n < 6 || p[0] != 0 || (p[1] != 1 && p[1] != 2))
        return 0;
    const uint8_t *z = memchr(p + 2, 0, n - 2);
    if (!z || z == p + 2)
        return 0;
    for (const uint8_t *q = p + 2; q < z; q++)
        if (*q < 0x20 || *q >= 0x7f)
            return 0;
    uint32_t m = (uint32_t)(z - p) + 1;
    const uint8_t *mz = m < n ? memchr(p + m, 0, n - m) : NULL;
    if (!mz)
        return 0;
    static const char *const modes[] = {"netascii", "octet", "mail"};
    for (int i = 0; i < 3; i++)
        if ((size_t)(mz - p - m) == strlen(modes[i]) &&
            !strncasecmp((const char *)p + m, modes[i], strlen(modes[i])))
            return m;
    return 0;
}

static int detect(vg_pctx *c)
{
    const uint8_t *a = c->data[0], *b = c->data[1];
    uint32_t na = c->len[0], nb = c->len[1];
    if (request(a, na))
        return VG_P_YES;
    /* A transfer flow: DATA 1 (at most 512 bytes) one way, ACK 1 or ERROR back. */
    if (na < 4 || a[0] != 0 || a[1] != 3 || vg_be16(a + 2) != 1 || na > 516)
        return VG_P_NO;
    if (!nb)
        return c->final ? VG_P_NO : VG_P_MORE;
    int ack = nb == 4 && b[0] == 0 && b[1] == 4 && vg_be16(b + 2) == 1;
    int err = nb >= 5 && b[0] == 0 && b[1] == 5 && vg_be16(b + 2) <= 8 && !b[nb - 1];
    return ack || err ? VG_P_YES : VG_P_NO;
}

static int parse(vg_pctx *c)
{
    const uint8_t *p = c->data[0];
    uint32_t m = request(p, c->len[0]);
    if (!m)
        return 1;
    vg_p_field_str(c, "tftp.op", p[1] == 1 ? "read" : "write");
    vg_p_field(c, "tftp.file", p + 2, m - 3);
    vg_p_field(c, "tftp.mode", p + m, strlen((const char *)p + m));
    return 1;
}

VG_NET_PROTO(tftp) = {.name = "tftp", .udp = 1, .prio = 10, .detect = detect, .parse = parse};
