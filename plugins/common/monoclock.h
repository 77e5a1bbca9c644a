/*
 * The monotonic clock in nanoseconds, for the plugins' timeouts and
 * answer times (each file had its own copy of these four lines).
 */
#ifndef VG_MONOCLOCK_H
#define VG_MONOCLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t vg_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
