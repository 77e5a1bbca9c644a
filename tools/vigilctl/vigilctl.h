/*
 * vigilctl's internals, shared by its files (this is no library API):
 *
 *   vigilctl.c         main, the command table, option parsing, the call to
 *                      the daemon
 *   vigilctl_text.c    escaping text for terminals, human formats, tables
 *   vigilctl_daemon.c  status, plugins, reload
 *   vigilctl_events.c  events (query and follow)
 *   vigilctl_workloads.c  workloads, groups, group show|mode
 *   vigilctl_rules.c   rules list|add|delete|export|import
 *   vigilctl_net.c     capture, net stats|sessions|graph
 *   vigilctl_call.c    call (any command by name: those plugins add)
 *
 * Adding a command is one row in commands[] (vigilctl.c) and one function
 * with the command_fn signature, in the file of its family. Names shared
 * between these files start with vctl_; they never clash with vgcore's vg_.
 *
 * Memory: functions that return char * return a malloc()ed string that the
 * caller frees. Out of memory ends the program (exit 1) with a message:
 * a command-line tool has nothing better to do.
 */
#ifndef VIGILCTL_H
#define VIGILCTL_H

#include <getopt.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status: ok; the daemon answered an error (or nonsense); a usage
 * error or no daemon to talk to. */
enum { VCTL_OK = 0, VCTL_ERR = 1, VCTL_USAGE = 2 };

#define VCTL_DEFAULT_SOCKET "/run/vigil/vigild.sock"
#define VCTL_DETAIL_COLS 80 /* a DETAIL cell beyond this is cut, ending in "..." */
#define VCTL_NO_LIMIT SIZE_MAX

struct vctl_command;

typedef struct vctl_ctx {
    const char *socket;
    bool json;  /* --json, before or after the command */
    bool quiet; /* the daemon's error replies are not printed (an optional call) */
    const struct vctl_command *cmd;
} vctl_ctx;

/* argv[0] is the command's name. Returns the exit status. */
typedef int (*vctl_command_fn)(vctl_ctx *c, int argc, char **argv);

typedef struct vctl_command {
    const char *name;
    const char *args;    /* synopsis of its own arguments, "" for none */
    const char *summary; /* first line for the list; more lines for its --help */
    vctl_command_fn fn;
} vctl_command;

/* The commands (one function each). */
int vctl_cmd_status(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_plugins(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_reload(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_events(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_workloads(vctl_ctx *c, int argc, char **argv); /* vigilctl_workloads.c */
int vctl_cmd_groups(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_group(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_rules(vctl_ctx *c, int argc, char **argv);   /* vigilctl_rules.c */
int vctl_cmd_secrets(vctl_ctx *c, int argc, char **argv); /* vigilctl_secrets.c */
int vctl_cmd_capture(vctl_ctx *c, int argc, char **argv); /* vigilctl_net.c */
int vctl_cmd_net(vctl_ctx *c, int argc, char **argv);
int vctl_cmd_quarantine(vctl_ctx *c, int argc, char **argv); /* vigilctl_quarantine.c */
int vctl_cmd_cis(vctl_ctx *c, int argc, char **argv);        /* vigilctl_cis.c */
int vctl_cmd_call(vctl_ctx *c, int argc, char **argv);       /* vigilctl_call.c */

/* ---- options and calls (vigilctl.c) ---- */

/* Handles one of a command's own options: VCTL_OK or VCTL_USAGE (after
 * printing why). */
typedef int (*vctl_opt_fn)(void *arg, int opt, const char *val);

/* getopt_long over a command's arguments, with --json and --help added to
 * `own` (NULL-terminated, may be NULL). Returns -1 to go on, or the exit
 * status (after --help, or a usage error). rest NULL: the command takes no
 * operands (one is a usage error); else *rest is the index of the first. */
int vctl_parse_opts(vctl_ctx *c, int argc, char **argv, const char *shortopts,
                    const struct option *own, vctl_opt_fn fn, void *arg, int *rest);

/* One reply from the daemon, decoded. */
typedef struct vctl_reply {
    void *payload; /* the frame; the unpacked strings point into it */
    msgpack_unpacked up;
    const msgpack_object *result; /* never NULL after a successful call */
} vctl_reply;

void vctl_reply_free(vctl_reply *r);

/*
 * Sends the request {cmd, args} (args a packed map, or NULL) and reads its
 * reply. Returns VCTL_OK with r filled (free it with vctl_reply_free), or
 * the exit status after printing why: VCTL_USAGE when the daemon cannot be
 * reached, VCTL_ERR for an error reply or a broken one. With fd_out, the
 * connection stays open for a stream and *fd_out is its fd.
 */
int vctl_call(const vctl_ctx *c, const char *cmd, const msgpack_sbuffer *args, vctl_reply *r,
              int *fd_out);

/* Calls the context's command without args and checks that the result has
 * type `want`. With --json prints it and returns VCTL_OK; returns -1 when
 * the caller is to print r->result (and free r); else the exit status. */
int vctl_simple_call(vctl_ctx *c, vctl_reply *r, msgpack_object_type want);

/* Reads one more frame of a stream into r. Returns 0, -ECONNRESET at the
 * end of the stream (nothing printed), or another negative errno after
 * printing why. */
int vctl_read_frame(int fd, vctl_reply *r);

/* Prints "vigilctl: <error>" for an error reply m. */
void vctl_print_error(const msgpack_object *m);

/* Reports a result of the wrong type; returns VCTL_ERR. */
int vctl_bad_result(const char *cmd, const char *want);

/* o as one line of JSON on stdout. */
void vctl_print_json(const msgpack_object *o);

/* ---- text, formats and tables (vigilctl_text.c) ---- */

void vctl_oom(void) __attribute__((noreturn));
char *vctl_strdup(const char *s);
void vctl_sb_put(msgpack_sbuffer *sb, const char *p, size_t n);
void vctl_sb_puts(msgpack_sbuffer *sb, const char *s);
/* Ends the buffer's text with a NUL and hands the string over. */
char *vctl_sb_take(msgpack_sbuffer *sb);

/*
 * Appends s for a terminal: control characters (C0, DEL, C1) become
 * visible escapes (\n, \x1b, \u009b) and bytes that are not UTF-8 become
 * \xNN, so that a hostile process name cannot move the cursor or recolour
 * the screen. Beyond max columns (one per character) the text is cut and
 * ends in "...". keep_nl keeps newlines (multi-line error messages).
 */
void vctl_put_safe(msgpack_sbuffer *out, const char *s, size_t n, size_t max, bool keep_nl);

/* A value as it reads in running text ("k=v"): a plain string as is, any
 * other value (and a string with a blank or a quote) as JSON. Unescaped:
 * pass the result through vctl_put_safe. */
void vctl_put_value(msgpack_sbuffer *out, const msgpack_object *v);

/* A table cell for any value: "-" for nothing (absent, nil, ""), a string
 * escaped, another value as JSON; cut at max columns. */
char *vctl_cell(const msgpack_object *o, size_t max);
/* vctl_cell(map[key]) without a limit. */
char *vctl_cell_get(const msgpack_object *map, const char *key);

/* Human formats into buf: "3h12m", "12.3 MiB", local "YYYY-MM-DD HH:MM:SS". */
const char *vctl_fmt_duration(uint64_t s, char buf[32]);
const char *vctl_fmt_bytes(uint64_t b, char buf[32]);
const char *vctl_fmt_time(int64_t ns, char buf[32]);
/* map[key] as a decimal (vctl_num) or a size (vctl_bytes), "-" if it is
 * absent or not an integer. */
const char *vctl_num(const msgpack_object *map, const char *key, char buf[32]);
const char *vctl_bytes(const msgpack_object *map, const char *key, char buf[32]);

/*
 * A table: a header row (column names in capitals) and rows of cells,
 * printed with each column as wide as its widest cell, two spaces apart,
 * no trailing blanks. At most VCTL_TABLE_COLS columns.
 */
#define VCTL_TABLE_COLS 16
typedef struct vctl_table {
    size_t ncols, nrows;
    char **cells; /* row-major, header row first; each cell owned */
} vctl_table;

/* heads is NULL-terminated. */
void vctl_table_init(vctl_table *t, const char *const *heads);
/* Takes ownership of the ncols strings of row. */
void vctl_table_add(vctl_table *t, char **row);
/* Prints to stdout and frees the table. */
void vctl_table_print(vctl_table *t);
/* Columns of a cell (cells are escaped UTF-8). */
size_t vctl_text_width(const char *s);
/* The terminal's width when stdout is one, else $COLUMNS, else 0. */
size_t vctl_term_cols(void);
/* One row with given widths (for streams, whose widths cannot be known). */
void vctl_print_row(const char *const *cells, const size_t *widths, size_t ncols);

#endif
