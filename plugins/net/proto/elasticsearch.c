/*
 * Elasticsearch (and OpenSearch) REST: HTTP/1 whose request path is an API
 * of theirs (/_search, /_bulk, /_cat/..., /INDEX/_doc...) or whose answer
 * says so (X-elastic-product, "You Know, for Search"). Checked before HTTP;
 * fields as HTTP.
 */
#include "proto.h"

static int api_path(const uint8_t *p, uint32_t n)
{
    static const char *const apis[] = {
        "/_search",   "/_bulk",           "/_doc",      "/_cat/",      "/_cluster/",
        "/_nodes",    "/_mapping",        "/_count",    "/_msearch",   "/_aliases",
        "/_template", "/_index_template", "/_ingest/",  "/_security/", "/_xpack",
        "/_update",   "/_refresh",        "/_snapshot", "/_all",       NULL};
    const uint8_t *end = memchr(p, ' ', n);
    uint32_t len = end ? (uint32_t)(end - p) : n;
    for (uint32_t i = 0; i < len; i++)
        if (p[i] == '/' && i + 1 < len && p[i + 1] == '_')
            for (int k = 0; apis[k]; k++)
                if (vg_starts(p + i, len - i, apis[k]))
                    return 1;
    return 0;
}

static int detect(vg_pctx *c)
{
    int r = vg_http_request(c->data[0], c->len[0]);
    if (r != VG_P_YES)
        return r == VG_P_MORE && c->final ? VG_P_NO : r;
    const uint8_t *sp = memchr(c->data[0], ' ', c->len[0]);
    if (api_path(sp + 1, (uint32_t)(c->data[0] + c->len[0] - sp - 1)))
        return vg_http_confirm(c);
    uint32_t vl;
    if (vg_http_header(c->data[1], c->len[1], "X-elastic-product", &vl) ||
        vg_find(c->data[1], c->len[1], "You Know, for Search"))
        return VG_P_YES;
    return c->len[1] > 512 || c->full[1] || c->final ? VG_P_NO : VG_P_MORE;
}

VG_NET_PROTO(elasticsearch) = {
    .name = "elasticsearch",
    .tcp = 1,
    .prio = 5,
    .detect = detect,
    .parse = vg_http_parse,
};
