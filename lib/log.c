/* Logging to stderr or to a sink; see log.h. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int threshold = VG_LOG_INFO;
static vg_log_sink_fn sink;
static void *sink_arg;

static const char *const level_names[] = {
    [VG_LOG_ERR] = "error", [VG_LOG_WARN] = "warning", [VG_LOG_NOTICE] = "notice",
    [VG_LOG_INFO] = "info", [VG_LOG_DEBUG] = "debug",
};

void vg_log_set_level(int level)
{
    threshold = level;
}

int vg_log_get_level(void)
{
    return threshold;
}

int vg_log_parse_level(const char *name)
{
    for (int l = VG_LOG_ERR; l <= VG_LOG_DEBUG; l++)
        if (name && strcmp(name, level_names[l]) == 0)
            return l;
    if (name && strcmp(name, "warn") == 0)
        return VG_LOG_WARN;
    return -EINVAL;
}

const char *vg_log_level_name(int level)
{
    if (level < VG_LOG_ERR || level > VG_LOG_DEBUG)
        return "?";
    return level_names[level];
}

void vg_log_set_sink(vg_log_sink_fn fn, void *arg)
{
    sink_arg = arg;
    sink = fn;
}

void vg_logv(int level, const char *fmt, va_list ap)
{
    if (sink) {
        char msg[2048];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        sink(sink_arg, level, msg);
        return;
    }
    if (level > threshold)
        return;
    char line[2048];
    int n;
    /* journald reads "<N>" prefixes on its stream; a terminal wants time. */
    if (getenv("JOURNAL_STREAM")) {
        n = snprintf(line, sizeof(line), "<%d>", level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
        n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ld %-7s ", ts.tv_nsec / 1000000,
                      vg_log_level_name(level));
    }
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void vg_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vg_logv(level, fmt, ap);
    va_end(ap);
}
