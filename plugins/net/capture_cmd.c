/*
 * What the loop thread asks of a capture thread (through net_ns_call):
 * start a bounded capture to a file, tell how it went, list the live
 * sessions. Each function below runs on the capture thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture_int.h"

static uint64_t dump_ids; /* loop thread only: ids of capture requests */

void net_ctx_dump_end(net_ctx *cx)
{
    net_dump_close(cx->dump, &cx->dump_state.result);
    cx->dump = NULL;
    cx->dump_state.running = false;
}

void net_ctx_dump_forget(net_ctx *cx)
{
    if (cx->dump_state.result.fd >= 0)
        close(cx->dump_state.result.fd);
    cx->dump_state.result.fd = -1;
}

typedef struct dump_start {
    net_dump_req *rq;
    uint64_t id;
} dump_start;

static int do_dump_start(net_ctx *cx, void *arg)
{
    dump_start *a = arg;
    if (cx->dump) {
        snprintf(a->rq->error, sizeof(a->rq->error), "a capture of this workload is running");
        return -EBUSY;
    }
    if (!cx->nifs) {
        snprintf(a->rq->error, sizeof(a->rq->error), "no interface is captured in this workload");
        return -ENODEV;
    }
    int rc = net_dump_open(&cx->dump, a->rq, cx->ifs[0].dlt, (int)cx->p->cfg.snaplen);
    if (rc < 0)
        return rc;
    net_ctx_dump_forget(cx); /* the previous capture, read or not */
    memset(&cx->dump_state, 0, sizeof(cx->dump_state));
    cx->dump_state.result.fd = -1;
    cx->dump_state.id = a->id;
    cx->dump_state.running = true;
    return 0;
}

int net_ns_dump_start(net_ns *ns, net_dump_req *rq, uint64_t *id)
{
    dump_start a = {.rq = rq, .id = ++dump_ids};
    int rc = net_ns_call(ns, do_dump_start, &a, 2000);
    if (rc == -ETIMEDOUT && !rq->error[0])
        snprintf(rq->error, sizeof(rq->error), "the capture thread did not answer");
    *id = a.id;
    return rc;
}

typedef struct dump_status {
    uint64_t id;
    bool running;
    net_dump_result res;
} dump_status;

static int do_dump_status(net_ctx *cx, void *arg)
{
    dump_status *a = arg;
    if (cx->dump_state.id != a->id)
        return -ENOENT;
    a->running = cx->dump_state.running;
    a->res = cx->dump_state.result;
    return 0;
}

int net_ns_dump_status(net_ns *ns, uint64_t id, bool *running, net_dump_result *res)
{
    dump_status a = {.id = id};
    int rc = net_ns_call(ns, do_dump_status, &a, 2000);
    *running = a.running;
    *res = a.res;
    return rc;
}

typedef struct dump_read {
    uint64_t id, offset;
    void *buf;
    size_t len;
    ssize_t n;
} dump_read;

static int do_dump_read(net_ctx *cx, void *arg)
{
    dump_read *a = arg;
    net_dump_state *d = &cx->dump_state;
    if (d->id != a->id || d->running)
        return d->id == a->id ? -EAGAIN : -ENOENT;
    if (d->result.fd < 0)
        return -ENOENT; /* read to the end already */
    a->n = pread(d->result.fd, a->buf, a->len, (off_t)a->offset);
    if (a->n < 0)
        return -errno;
    if (a->n == 0 && a->offset >= d->result.size)
        net_ctx_dump_forget(cx); /* all read: the memory goes */
    return 0;
}

ssize_t net_ns_dump_read(net_ns *ns, uint64_t id, uint64_t offset, void *buf, size_t len)
{
    dump_read a = {.id = id, .offset = offset, .buf = buf, .len = len};
    int rc = net_ns_call(ns, do_dump_read, &a, 2000);
    return rc < 0 ? rc : a.n;
}

static int do_sessions(net_ctx *cx, void *arg)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, arg, msgpack_sbuffer_write);
    net_conns_pack_sessions(cx->conns, cx->eng, &pk);
    return 0;
}

int net_ns_sessions(net_ns *ns, msgpack_sbuffer *sb)
{
    return net_ns_call(ns, do_sessions, sb, 2000);
}
