/*
 * Memory that bursts of work freed, handed back to the kernel at rest.
 * glibc keeps what a thread freed in that thread's arena for its next
 * allocation and returns only a free top of the heap: after the CIS run at
 * start (on libuv's four pool threads) or a secrets scan, an idle daemon
 * kept about 5 MB it no longer used spread over the threads' arenas.
 * malloc_trim(0) releases the free pages of every arena; once a period of
 * the sync timer, on the loop thread, it costs tens of microseconds.
 */
#include <malloc.h>

#include "daemon_int.h"

#define TRIM_EVERY_S 30

void vg__trim_tick(vg_daemon *d)
{
    static unsigned ticks;
    (void)d;
    if (++ticks % TRIM_EVERY_S == 0)
        malloc_trim(0);
}
