/*
 * Exits held back until the reader's next exec is published, or the end of
 * its batch (reader thread only).
 *
 * The probe's exits wake nobody; they are read with the next exec's record,
 * which comes right after them in the ring. Published as they are read, an
 * exit woke the daemon's loop, which handled it alone, and the exec
 * published some 20 us later woke it again: two loop wake-ups per exec.
 * Held until the exec is out, both go in one wake-up. Only the publication
 * waits (microseconds): what an exit does to the process table is done
 * when it is read, so every event still says what it said.
 */
#ifndef PROC_EXITQ_H
#define PROC_EXITQ_H

#include <msgpack.h>
#include <stddef.h>
#include <vigil/plugin.h>

#define EXITQ_MAX 256 /* held at most: then they are published at once */

typedef struct exitq exitq;

exitq *exitq_new(void);
void exitq_free(exitq *q);

/* Holds an event of body [body, body + len) for w, to publish with type
 * and severity; publishes everything held first when full. */
void exitq_hold(exitq *q, const vg_host_api *api, vg_host *h, const vg_event_in *ev);

/* Publishes what is held, in the order it came. */
void exitq_flush(exitq *q, const vg_host_api *api, vg_host *h);

#endif
