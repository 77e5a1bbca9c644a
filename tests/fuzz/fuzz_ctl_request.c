/*
 * Fuzzes what a control-socket client can make the daemon parse: the frame
 * headers (walked as the server walks a read buffer) and each request
 * payload, decoded into a fresh zone and then read the way command handlers
 * read their args. The whole input is also decoded as one bare payload, so
 * that mutations reach the msgpack decoder without first having to keep a
 * frame header consistent.
 */
#include "ctl_proto.h"
#include "mp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads of every byte go here, so that the compiler cannot skip them. */
static volatile size_t sink;

/* Reads args like a handler would: typed lookups of likely keys, and a walk
 * over every entry. Invariants that the decoder promises abort on failure. */
static void touch_args(const msgpack_object *args)
{
    if (args->type == MSGPACK_OBJECT_NIL)
        return;
    if (args->type != MSGPACK_OBJECT_MAP)
        abort();
    const char *p;
    size_t n;
    char buf[64];
    int64_t i;
    bool b;
    (void)vg_mp_get(args, "group");
    (void)vg_mp_get_str(args, "group", &p, &n);
    (void)vg_mp_get_cstr(args, "name", buf, sizeof(buf));
    (void)vg_mp_get_int(args, "limit", &i);
    (void)vg_mp_get_bool(args, "follow", &b);
    (void)vg_mp_streq(vg_mp_get(args, "mode"), "protect");
    for (uint32_t k = 0; k < args->via.map.size; k++) {
        const msgpack_object_kv *kv = &args->via.map.ptr[k];
        if (kv->key.type == MSGPACK_OBJECT_STR)
            for (uint32_t j = 0; j < kv->key.via.str.size; j++)
                sink += (uint8_t)kv->key.via.str.ptr[j];
        sink += kv->val.type;
    }
}

static void decode_one(const uint8_t *payload, size_t len)
{
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 2048))
        return;
    const char *cmd = NULL;
    msgpack_object args;
    int rc = vg_ctl_request_decode(payload, len, &zone, &cmd, &args);
    if (rc == 0) {
        size_t n = strlen(cmd);
        if (n == 0 || n > 63)
            abort();
        touch_args(&args);
    } else if (rc != -EBADMSG && rc != -ENOMEM) {
        abort();
    }
    msgpack_zone_destroy(&zone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        size_t n = 0;
        int rc = vg_ctl_frame_check(data + off, size - off, VG_CTL_MAX_FRAME, &n);
        if (rc <= 0) {
            if (rc < 0 && rc != -EMSGSIZE && rc != -EBADMSG)
                abort();
            break;
        }
        if (n == 0 || n > VG_CTL_MAX_FRAME || n > size - off - VG_CTL_HDR)
            abort();
        decode_one(data + off + VG_CTL_HDR, n);
        off += VG_CTL_HDR + n;
    }
    if (size > 0)
        decode_one(data, size);
    return 0;
}
