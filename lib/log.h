/*
 * Logging. By default to stderr: under systemd (JOURNAL_STREAM set) each
 * line carries a "<N>" priority prefix that journald understands; otherwise
 * a timestamp and level name. Thread-safe: one write(2) per line.
 *
 * Code that runs inside a plugin (an engine library linked into a .so)
 * sets a sink in its init so that its messages go to the daemon's log
 * through api->log, with the plugin's name, never to a second logger: each
 * .so has its own hidden copy of this file, hence its own sink.
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

/* Where messages go instead of stderr: sink(arg, level, message) for every
 * message (the sink filters by level itself). NULL restores stderr. Set it
 * before any thread logs. */
typedef void (*vg_log_sink_fn)(void *arg, int level, const char *msg);
void vg_log_set_sink(vg_log_sink_fn fn, void *arg);

/* In a plugin's init: every message of the plugin's copy of lib/ goes to
 * api->log (prefixed with the plugin's name by the daemon). NULL api goes
 * back to stderr (in stop). */
void vg_log_to_host(const vg_host_api *api, vg_host *h);

void vg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_logv(int level, const char *fmt, va_list ap);

#define vg_err(...) vg_log(VG_LOG_ERR, __VA_ARGS__)
#define vg_warn(...) vg_log(VG_LOG_WARN, __VA_ARGS__)
#define vg_notice(...) vg_log(VG_LOG_NOTICE, __VA_ARGS__)
#define vg_info(...) vg_log(VG_LOG_INFO, __VA_ARGS__)
#define vg_debug(...) vg_log(VG_LOG_DEBUG, __VA_ARGS__)

#endif
