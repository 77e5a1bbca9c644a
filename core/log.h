/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) each line carries a
 * "<N>" priority prefix that journald understands; otherwise a timestamp and
 * level name. Thread-safe: one write(2) per line.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdarg.h>
#include <vigil/plugin.h>

/* Sets the threshold; messages above it (less severe) are dropped. */
void vg_log_set_level(int level);
int vg_log_get_level(void);

/* Parses "error", "warning", "notice", "info" or "debug". Returns the level
 * or -EINVAL. */
int vg_log_parse_level(const char *name);
const char *vg_log_level_name(int level);

void vg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_logv(int level, const char *fmt, va_list ap);

#define vg_err(...) vg_log(VG_LOG_ERR, __VA_ARGS__)
#define vg_warn(...) vg_log(VG_LOG_WARN, __VA_ARGS__)
#define vg_notice(...) vg_log(VG_LOG_NOTICE, __VA_ARGS__)
#define vg_info(...) vg_log(VG_LOG_INFO, __VA_ARGS__)
#define vg_debug(...) vg_log(VG_LOG_DEBUG, __VA_ARGS__)

#endif
