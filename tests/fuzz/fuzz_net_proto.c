/*
 * Fuzzes each protocol's detector and parser directly, on both directions'
 * first bytes as inspection hands them over (plugins/net/proto/).
 *
 * Input: the protocol's name and a NUL (an unknown name picks one by its
 * bytes), a flags byte (bit 0 final), a 2-byte big-endian length of the
 * client's bytes, the client's bytes, then the server's. UDP protocols also
 * get the server's bytes as a later datagram, parsed without detection, as
 * inspection does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/registry.h"
#include "proto/proto.h"

static vg_net_engine *engine;
static vg_flow *flow;
static uint8_t buf[2][VG_INSP_BUF];

static const vg_net_proto *pick(const uint8_t *name, size_t n)
{
    size_t count = vg_proto_count();
    for (size_t i = 0; i < count; i++)
        if (strlen(vg_proto_at(i)->name) == n && !memcmp(vg_proto_at(i)->name, name, n))
            return vg_proto_at(i);
    size_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * 31 + name[i];
    return vg_proto_at(h % count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine) {
        engine = vg_net_engine_new(NULL, NULL);
        flow = calloc(1, sizeof(*flow));
        if (!engine || !flow)
            abort();
    }
    const uint8_t *z = memchr(data, 0, size < 32 ? size : 32);
    if (!z || (size_t)(z - data) + 4 > size)
        return 0;
    const vg_net_proto *p = pick(data, (size_t)(z - data));
    size_t off = (size_t)(z - data) + 1;
    uint8_t flags = data[off];
    size_t clen = (size_t)data[off + 1] << 8 | data[off + 2];
    off += 3;
    if (clen > size - off)
        clen = size - off;
    const uint8_t *cp = data + off, *sp = cp + clen;
    size_t slen = size - off - clen;
    clen = clen < VG_INSP_BUF ? clen : VG_INSP_BUF;
    slen = slen < VG_INSP_BUF ? slen : VG_INSP_BUF;
    memcpy(buf[0], cp, clen);
    memcpy(buf[1], sp, slen);

    memset(flow, 0, sizeof(*flow));
    uint8_t state[64] __attribute__((aligned(8))) = {0};
    vg_pctx c = {.e = engine, .f = flow, .dir = 1, .final = flags & 1, .state = state};
    c.l4 = p->tcp ? IPPROTO_TCP : IPPROTO_UDP;
    if (p->tcp && p->udp && (flags & 2))
        c.l4 = IPPROTO_UDP;
    flow->l4 = c.l4;
    c.data[0] = buf[0];
    c.data[1] = buf[1];
    c.len[0] = (uint32_t)clen;
    c.len[1] = (uint32_t)slen;
    c.full[0] = clen == VG_INSP_BUF;
    c.full[1] = slen == VG_INSP_BUF;
    int r = p->detect(&c);
    if (r == VG_P_YES && p->parse)
        p->parse(&c);
    if (c.l4 == IPPROTO_UDP && p->parse && slen) {
        memset(state, 0, sizeof(state));
        p->parse(&c);
    }
    return 0;
}
