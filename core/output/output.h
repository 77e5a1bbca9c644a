/*
 * Outputs: where events go besides the store and the control socket. The
 * config's "outputs" setting lists them (config_outputs.c checks it):
 *
 *   outputs = {
 *     { kind = "file", path = "/var/log/vigil/events.json" },  -- JSON lines
 *     { kind = "stdout" },                                      -- JSON lines
 *     { kind = "journal" },           -- structured fields; syslog without journald
 *     { kind = "falco", url = "http://falcosidekick:2801/" },  -- Falco's JSON
 *     { kind = "kafka", brokers = "k1:9092", topic = "vigil" },
 *   }
 *
 * Each output has a filter (types: event type globs; min_severity) and a
 * bounded queue drained by a thread of its own, so that a slow disk, a
 * journald under pressure or a dead HTTP receiver never delays the loop: an
 * event that finds its output's queue full is dropped and counted.
 *
 * The daemon subscribes vg_outputs_on_event to the bus for every type. A
 * reload calls vg_outputs_configure again: an output whose settings did not
 * change keeps its queue and reopens its file; the others are stopped
 * (what they hold is still written) and new ones started. SIGUSR1 reopens
 * every file (vg_outputs_reopen), for logrotate.
 *
 * Loop thread only, except where said.
 */
#ifndef VG_OUTPUT_H
#define VG_OUTPUT_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "workloads.h"

typedef struct vg_outputs vg_outputs;

typedef struct vg_output_stats {
    const char *name, *kind; /* valid until the next configure */
    uint64_t accepted;       /* matched the filter and queued */
    uint64_t written;        /* delivered (a 2xx, a write, a produce acknowledged) */
    uint64_t failed;         /* could not be delivered */
    uint64_t dropped;        /* found the queue full */
    size_t depth, capacity;  /* the queue now */
} vg_output_stats;

int vg_outputs_new(vg_outputs **out);

/* Stops every output after it has written what it holds (at most
 * VG_OUTPUT_FLUSH_MS more), joins the threads and frees the set. NULL ok. */
#define VG_OUTPUT_FLUSH_MS 2000
void vg_outputs_close(vg_outputs *o);

/* Applies cfg's "outputs" (start-up, reload). An output that cannot be
 * opened (a directory that does not exist, no libcurl) is logged and left
 * out; the others run. Returns how many could not be opened, or -ENOMEM. */
int vg_outputs_configure(vg_outputs *o, const vg_config *cfg);

/* Events of workloads in pods get a "k8s" key ({namespace, pod,
 * container, labels}) from this registry (output_k8s.c). */
void vg_outputs_set_workloads(vg_outputs *o, vg_workloads *reg);

/* The bus callback (subscribe it for every type, arg = the set). */
void vg_outputs_on_event(const vg_event *ev, void *arg);

/* Asks every output to reopen what it writes to (SIGUSR1). */
void vg_outputs_reopen(vg_outputs *o);

size_t vg_outputs_count(const vg_outputs *o);
void vg_outputs_stats_at(const vg_outputs *o, size_t i, vg_output_stats *out);
/* An array of {name, kind, accepted, written, failed, dropped, depth,
 * capacity}, for `vigilctl status`. */
int vg_outputs_pack_stats(const vg_outputs *o, msgpack_packer *pk);

#endif
