/*
 * Fuzzes the Falco form of events (core/output/output_falco.c): any msgpack
 * value stands for an event's wire map, as a plugin could publish it (names
 * and paths are whatever processes chose), with a "k8s" map or not. The
 * result must be one JSON object that starts and ends as such.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "falco_json.h"
#include "mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msgpack_zone zone;
    msgpack_zone_init(&zone, 4096);
    msgpack_object ev;
    size_t off = 0;
    static const char *const tags[] = {"site-a", NULL};
    /* As the falco output's thread does (core/output/output.c): bytes that
     * announce more than they hold are refused before msgpack-c allocates. */
    if (vg_mp_shape_ok(data, size) &&
        msgpack_unpack((const char *)data, size, &off, &zone, &ev) == MSGPACK_UNPACK_SUCCESS) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        int rc = vg_falco_json(&ev, "node-7", tags, &sb);
        if (rc == 0 && (sb.size < 2 || sb.data[0] != '{' || sb.data[sb.size - 1] != '}'))
            abort();
        if (rc != 0 && ev.type == MSGPACK_OBJECT_MAP && rc != -ENOMEM)
            abort();
        msgpack_sbuffer_destroy(&sb);
    }
    msgpack_zone_destroy(&zone);
    return 0;
}
