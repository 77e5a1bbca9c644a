/*
 * The descriptor of one output kind (output_file.c, output_journal.c,
 * output_falco.c, output_kafka.c) and what output.c gives it. Private to
 * core/output/.
 */
#ifndef VG_OUTPUT_INT_H
#define VG_OUTPUT_INT_H

#ifndef VG_CORE_MODULE_OUTPUT
#error "output_int.h is private to core/output/; use output.h"
#endif

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* One kind of output. open runs on the loop thread (at start-up and
 * reload); the others on the output's own thread, one call at a time. */
typedef struct vg_output_kind {
    const char *name; /* the "kind" of the setting */
    /* Reads the output's settings (its map, as checked at load) and
     * prepares it: 0 and *priv, or a negative errno with err set. */
    int (*open)(const msgpack_object *settings, void **priv, char *err, size_t errlen);
    /* Delivers one event: its wire map and the same as one line of JSON
     * (json[len] is '\n', json[len + 1] is '\0'). 0 when delivered, 1 when
     * the outcome comes later through tick (Kafka's delivery reports), or a
     * negative errno (counted as failed; the event is not tried again). */
    int (*write)(void *priv, const msgpack_object *ev, const char *json, size_t len);
    /* Optional: reopens the file written to (SIGUSR1, reload). */
    void (*reopen)(void *priv);
    /* Optional: called about every 100 ms, and at the end with no more to
     * come; adds the outcomes learned since the last call. */
    void (*tick)(void *priv, uint64_t *written, uint64_t *failed);
    /* Optional, on the loop thread: the output is stopping, and a write
     * still running at deadline_ms (CLOCK_MONOTONIC) should give up, so
     * that a stop never waits long for a receiver that does not answer. */
    void (*stopping)(void *priv, uint64_t deadline_ms);
    /* Releases priv after the last write. */
    void (*close)(void *priv);
} vg_output_kind;

extern const vg_output_kind vg__output_file, vg__output_stdout, vg__output_journal,
    vg__output_falco, vg__output_kafka;

#endif
