/*
 * Test helper: what lib/log.h would print at warning level or worse,
 * collected instead, so that a test can assert what a user reads in the
 * log. Header only; for the unit tests of the core and of the plugins.
 */
#ifndef VG_TEST_LOG_CAPTURE_H
#define VG_TEST_LOG_CAPTURE_H

#include <stdio.h>
#include <string.h>

#include "log.h"

typedef struct log_capture {
    char msgs[16][1024];
    int n;
} log_capture;

static void log_capture_sink(void *arg, int level, const char *msg)
{
    log_capture *c = arg;
    if (level <= VG_LOG_WARN && c->n < 16)
        snprintf(c->msgs[c->n++], sizeof(c->msgs[0]), "%s", msg);
}

/* Starts collecting into c (emptied first). */
static inline void log_capture_start(log_capture *c)
{
    c->n = 0;
    vg_log_set_sink(log_capture_sink, c);
}

static inline void log_capture_stop(void)
{
    vg_log_set_sink(NULL, NULL);
}

/* How many collected messages contain part. */
static inline int log_captured(const log_capture *c, const char *part)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += strstr(c->msgs[i], part) != NULL;
    return n;
}

#endif
