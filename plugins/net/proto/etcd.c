/*
 * etcd: its v3 API is gRPC over HTTP/2 on services "etcdserverpb.*" (seen
 * in the :path of the first requests, literal or Huffman-coded), its v2 API and the v3 gateway are
 * HTTP/1 on /v2/keys, /v2/members, /v3/kv/..., and its servers answer with
 * an X-Etcd-Cluster-Id header. Checked before HTTP and HTTP/2.
 */
#include "proto.h"

static const char *const paths[] = {"/v2/keys",  "/v2/members", "/v2/stats",        "/v3/kv/",
                                    "/v3/watch", "/v3/lease/",  "/v3/maintenance/", "/v3/cluster/",
                                    "/v3/auth/", NULL};

static int http1(vg_pctx *c)
{
    int r = vg_http_request(c->data[0], c->len[0]);
    if (r != VG_P_YES)
        return r == VG_P_MORE && c->final ? VG_P_NO : r;
    const uint8_t *sp = memchr(c->data[0], ' ', c->len[0]);
    uint32_t rest = (uint32_t)(c->data[0] + c->len[0] - sp - 1);
    for (int i = 0; paths[i]; i++)
        if (vg_starts(sp + 1, rest, paths[i]))
            return vg_http_confirm(c);
    uint32_t vl;
    if (vg_http_header(c->data[1], c->len[1], "X-Etcd-Cluster-Id", &vl))
        return VG_P_YES;
    /* Without an answer yet, HTTP may still turn out to be etcd. */
    return c->len[1] > 64 || c->final ? VG_P_NO : VG_P_MORE;
}

static int detect(vg_pctx *c)
{
    if (c->len[0] && c->data[0][0] == 'P' &&
        vg_prefix(c->data[0], c->len[0], "PRI * ") != VG_P_NO) {
        if (vg_h2_has(c->data[0], c->len[0], "/etcdser"))
            return VG_P_YES;
        return c->final || c->len[1] > 64 ? VG_P_NO : VG_P_MORE;
    }
    return http1(c);
}

VG_NET_PROTO(etcd) = {
    .name = "etcd",
    .tcp = 1,
    .prio = 5,
    .detect = detect,
    .parse = vg_http_parse,
};
