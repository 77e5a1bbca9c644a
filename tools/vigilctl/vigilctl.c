/*
 * vigilctl: the command-line client of vigild's control socket.
 *
 * Usage: vigilctl [--socket PATH] [--json] COMMAND [ARGS]. Each command is
 * one row of commands[] below and one function (see vigilctl.h for the
 * files). A command parses its own options (vctl_parse_opts adds --json and
 * --help to each), packs its args map, calls the daemon once (vctl_call)
 * and prints the result as a table for people or as JSON for scripts.
 *
 * Exit status: 0 ok, 1 the daemon answered an error (or a reply that makes
 * no sense), 2 a usage error or no daemon to talk to.
 *
 * Everything the daemon sends may come from inside a container (process
 * names, paths, policy messages): table text is escaped for the terminal
 * (vctl_put_safe), JSON text by the JSON rules (lib/json.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "json.h"
#include "mp.h"
#include "vigilctl.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

static int cmd_help(vctl_ctx *c, int argc, char **argv);

static const vctl_command commands[] = {
    {"status", "", "Show the daemon's state, its plugins and its event counters.", vctl_cmd_status},
    {"plugins", "", "List the plugins with their version, state and ABI.", vctl_cmd_plugins},
    {"events",
     "[--type T] [--severity MIN] [--group G] [--workload W]\n"
     "       [--since TIME] [--until TIME] [--limit N] [--follow|-f]",
     "Show stored events (oldest first), or follow new ones as they happen.\n"
     "T is a type or a glob ('response.*', '*.violation'); MIN a severity\n"
     "(debug, info, notice, warning, error, critical). The last 100 are shown\n"
     "unless --limit says otherwise (up to 10000); stderr says when there are more.\n"
     "TIME is a duration ago (90s, 10m, 2h, 7d), epoch seconds, or\n"
     "YYYY-MM-DDTHH:MM:SS (local time; UTC with a trailing Z).",
     vctl_cmd_events},
    {"reload", "", "Reload the configuration and the policies, like SIGHUP.", vctl_cmd_reload},
    {"workloads", "",
     "List the workloads (containers) with their runtime, group, mode and quarantine.",
     vctl_cmd_workloads},
    {"groups", "", "List the groups with their kind, mode and member count.", vctl_cmd_groups},
    {"group", "show NAME | mode NAME learn|monitor|protect",
     "Show a group and its members, or set its mode (stored before the reply).", vctl_cmd_group},
    {"rules",
     "list [--group G] [--plane proc|file|net]\n"
     "       rules add|delete --group G --plane P [--name N] [--path P] [--user U]\n"
     "             [--program P] [--access A] [--direction D] [--peer P] [--port N]\n"
     "             [--proto P] [--app A] [--deny] [--comment C]   (add only: --deny, --comment)\n"
     "       rules export [--group G] > FILE\n"
     "       rules import FILE",
     "Show, add, delete, export (as a Lua policy file) and import the rules.\n"
     "A field left out matches anything (\"*\"). proc fields: name, path, user;\n"
     "file: path, program, access; net: direction, peer, port, proto, app.",
     vctl_cmd_rules},
    {"bench",
     "run [--target host|containers|kubernetes|images|all] [--workload W]\n"
     "       bench show [--target T] [--workload W] [--tag PCI|GDPR|HIPAA|NIST]",
     "Queue a CIS benchmark run, or show the last stored report of a target\n"
     "(default host; a workload's containers run with --workload).",
     vctl_cmd_cis},
    {"cis", "run|show ...", "Another name for bench: the CIS checks (see 'vigilctl help bench').",
     vctl_cmd_cis},
    {"secrets",
     "scan --workload W | --path DIR [--wait [--timeout S]]\n"
     "       secrets show [--workload W | --path DIR]",
     "Scan a workload's file system and environments (or a host directory) for\n"
     "secrets, or show the last reports: one line per scan, then the findings,\n"
     "masked. --json: one finding per line. Needs the secrets plugin.",
     vctl_cmd_secrets},
    {"capture", "WORKLOAD [--seconds N] [--filter BPF] -w FILE",
     "Capture a workload's packets into the pcap file FILE (mode 0600), for N\n"
     "seconds (default 10) or until the daemon's size limit; the daemon writes\n"
     "the capture, vigilctl saves it. Needs the net plugin.",
     vctl_cmd_capture},
    {"net", "stats | sessions [--workload W] | graph [--format dot|json] [--group G]",
     "The net plugin: capture counters, live sessions, or the graph of groups\n"
     "and peers (learned rules solid, observed-only dashed, violations red;\n"
     "render the DOT with `dot -Tsvg`).",
     vctl_cmd_net},
    {"quarantine", "WORKLOAD on|off",
     "Stop every packet in and out of a workload (its established connections\n"
     "too), in the kernel, until off; kept across daemon restarts. Needs the\n"
     "net plugin.",
     vctl_cmd_quarantine},
    {"call", "NAME [KEY=VALUE]...",
     "Call a control command by name, such as one a plugin adds; the args map\n"
     "has each KEY with its VALUE as a string. Prints the result as JSON.",
     vctl_cmd_call},
    {"help", "[COMMAND]", "Show the commands, or the usage of one.", cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- usage and options -------------------------------------------------- */

static const vctl_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fputs("usage: vigilctl [--socket PATH] [--json] COMMAND [ARGS]\n\nCommands:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *s = commands[i].summary;
        fprintf(out, "  %-9s %.*s\n", commands[i].name, (int)strcspn(s, "\n"), s);
    }
    fputs("\nOptions:\n"
          "      --socket PATH  the daemon's control socket (default $VIGIL_SOCKET,\n"
          "                     else " VCTL_DEFAULT_SOCKET ")\n"
          "  -j, --json         print results as JSON (lists: one object per line)\n"
          "  -h, --help         show this help; 'vigilctl help COMMAND' for one command\n"
          "  -V, --version      show the version\n",
          out);
}

static void command_synopsis(const vctl_command *cmd, FILE *out)
{
    fprintf(out, "usage: vigilctl [--json] %s%s%s\n", cmd->name, *cmd->args ? " " : "", cmd->args);
}

int vctl_parse_opts(vctl_ctx *c, int argc, char **argv, const char *shortopts,
                    const struct option *own, vctl_opt_fn fn, void *arg, int *rest)
{
    struct option lopts[24] = {{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}};
    for (size_t n = 2; own && own[n - 2].name && n < 23; n++)
        lopts[n] = own[n - 2];
    char sopts[64], prog[64];
    snprintf(sopts, sizeof(sopts), "jh%s", shortopts ? shortopts : "");
    snprintf(prog, sizeof(prog), "vigilctl %s", argv[0]);
    argv[0] = prog; /* getopt's own messages then name the command */
    optind = 0;     /* glibc: start afresh after main's parse */
    int opt;
    while ((opt = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
        if (opt == 'j') {
            c->json = true;
        } else if (opt == 'h') {
            command_synopsis(c->cmd, stdout);
            puts(c->cmd->summary);
            return VCTL_OK;
        } else if (opt == '?' || !fn || fn(arg, opt, optarg) != VCTL_OK) {
            command_synopsis(c->cmd, stderr);
            return VCTL_USAGE;
        }
    }
    if (!rest && optind < argc) {
        fprintf(stderr, "vigilctl %s: unexpected argument '%s'\n", c->cmd->name, argv[optind]);
        command_synopsis(c->cmd, stderr);
        return VCTL_USAGE;
    }
    if (rest)
        *rest = optind;
    return -1;
}

/* ---- talking to the daemon ---------------------------------------------- */

static const msgpack_object nil_obj = {.type = MSGPACK_OBJECT_NIL};

void vctl_reply_free(vctl_reply *r)
{
    msgpack_unpacked_destroy(&r->up);
    free(r->payload);
    r->payload = NULL;
}

/* Reads and decodes one frame, which must hold exactly one msgpack map.
 * `what` names it in messages; with eof_ok, the end of the stream is no
 * error to print. */
static int read_msg(int fd, vctl_reply *r, const char *what, bool eof_ok)
{
    size_t len = 0, off = 0;
    msgpack_unpacked_init(&r->up);
    r->payload = NULL;
    int rc = vg_ctl_read_frame(fd, VG_CTL_MAX_FRAME, &r->payload, &len);
    if (rc == -ECONNRESET && !eof_ok)
        fprintf(stderr, "vigilctl: the daemon closed the connection before its %s\n", what);
    else if (rc == -EMSGSIZE || rc == -EBADMSG)
        fprintf(stderr, "vigilctl: invalid %s from the daemon (%s frame)\n", what,
                rc == -EMSGSIZE ? "oversized" : "empty");
    else if (rc < 0 && rc != -ECONNRESET)
        fprintf(stderr, "vigilctl: reading the %s: %s\n", what, strerror(-rc));
    if (rc < 0)
        return rc;
    if (msgpack_unpack_next(&r->up, r->payload, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != len || r->up.data.type != MSGPACK_OBJECT_MAP) {
        fprintf(stderr, "vigilctl: invalid %s from the daemon (not one msgpack map)\n", what);
        vctl_reply_free(r);
        return -EBADMSG;
    }
    return 0;
}

int vctl_read_frame(int fd, vctl_reply *r)
{
    return read_msg(fd, r, "event", true);
}

void vctl_print_error(const msgpack_object *m)
{
    const msgpack_object *e = vg_mp_get(m, "error");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int64_t err = 0;
    if (e && e->type == MSGPACK_OBJECT_STR && e->via.str.size)
        vctl_put_safe(&sb, e->via.str.ptr, e->via.str.size, VCTL_NO_LIMIT, true);
    else if (vg_mp_get_int(m, "errno", &err) == 0 && err > 0 && err < 4096)
        vctl_sb_puts(&sb, strerror((int)err));
    else
        vctl_sb_puts(&sb, "unknown error");
    char *s = vctl_sb_take(&sb);
    fprintf(stderr, "vigilctl: %s\n", s);
    free(s);
}

static int connect_daemon(const vctl_ctx *c)
{
    int fd = vg_ctl_connect(c->socket);
    if (fd < 0)
        fprintf(stderr, "vigilctl: cannot connect to %s: %s (%s)\n", c->socket, strerror(-fd),
                fd == -EACCES || fd == -EPERM ? "are you root?" : "is vigild running?");
    return fd;
}

int vctl_call(const vctl_ctx *c, const char *cmd, const msgpack_sbuffer *args, vctl_reply *r,
              int *fd_out)
{
    int fd = connect_daemon(c);
    if (fd < 0)
        return VCTL_USAGE;
    bool with_args = args && args->size;
    int rc =
        vg_ctl_send_request(fd, cmd, with_args ? args->data : NULL, with_args ? args->size : 0);
    if (rc < 0) {
        fprintf(stderr, "vigilctl: sending the request: %s\n", strerror(-rc));
        close(fd);
        return VCTL_ERR;
    }
    if (read_msg(fd, r, "reply", false) < 0) {
        close(fd);
        return VCTL_ERR;
    }
    bool ok = false;
    if (vg_mp_get_bool(&r->up.data, "ok", &ok) < 0)
        fputs("vigilctl: invalid reply from the daemon (no \"ok\")\n", stderr);
    else if (!ok && !c->quiet)
        vctl_print_error(&r->up.data);
    if (!ok) {
        vctl_reply_free(r);
        close(fd);
        return VCTL_ERR;
    }
    r->result = vg_mp_get(&r->up.data, "result");
    if (!r->result)
        r->result = &nil_obj;
    if (fd_out)
        *fd_out = fd;
    else
        close(fd);
    return VCTL_OK;
}

int vctl_bad_result(const char *cmd, const char *want)
{
    fprintf(stderr, "vigilctl: invalid reply from the daemon (%s: the result is not %s)\n", cmd,
            want);
    return VCTL_ERR;
}

void vctl_print_json(const msgpack_object *o)
{
    vg_json_write(stdout, o); /* a write error shows in ferror(stdout) */
    putchar('\n');
}

int vctl_simple_call(vctl_ctx *c, vctl_reply *r, msgpack_object_type want)
{
    int rc = vctl_call(c, c->cmd->name, NULL, r, NULL);
    if (rc != VCTL_OK)
        return rc;
    if (r->result->type != want) {
        vctl_reply_free(r);
        return vctl_bad_result(c->cmd->name, want == MSGPACK_OBJECT_MAP ? "a map" : "a list");
    }
    if (c->json) {
        vctl_print_json(r->result);
        vctl_reply_free(r);
        return VCTL_OK;
    }
    return -1;
}

/* ---- main --------------------------------------------------------------- */

static int cmd_help(vctl_ctx *c, int argc, char **argv)
{
    int rest;
    int rc = vctl_parse_opts(c, argc, argv, NULL, NULL, NULL, NULL, &rest);
    if (rc >= 0)
        return rc;
    if (rest >= argc) {
        usage(stdout);
        return VCTL_OK;
    }
    const vctl_command *cmd = find_command(argv[rest]);
    if (!cmd) {
        fprintf(stderr, "vigilctl: unknown command '%s'\n", argv[rest]);
        return VCTL_USAGE;
    }
    command_synopsis(cmd, stdout);
    puts(cmd->summary);
    return VCTL_OK;
}

/* Output that could not be written is an error, except to a reader that
 * has gone away (`vigilctl events -f | head`): that is just the end. */
static int finish_output(int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    if (errno == EPIPE)
        return rc;
    fprintf(stderr, "vigilctl: writing the output: %s\n", strerror(errno));
    return VCTL_ERR;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {{"socket", required_argument, NULL, 'S'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"help", no_argument, NULL, 'h'},
                                          {"version", no_argument, NULL, 'V'},
                                          {NULL, 0, NULL, 0}};
    static char prog[] = "vigilctl";
    vctl_ctx c = {.socket = getenv("VIGIL_SOCKET")};
    argv[0] = prog; /* for getopt's messages, whatever the path run */
    if (!c.socket || !*c.socket)
        c.socket = VCTL_DEFAULT_SOCKET;
    int opt;
    /* "+": the options after the command are the command's. */
    while ((opt = getopt_long(argc, argv, "+jhV", lopts, NULL)) != -1) {
        switch (opt) {
        case 'S':
            c.socket = optarg;
            break;
        case 'j':
            c.json = true;
            break;
        case 'h':
            usage(stdout);
            return VCTL_OK;
        case 'V':
            puts("vigilctl " VIGIL_VERSION);
            return VCTL_OK;
        default:
            fputs("usage: vigilctl [--socket PATH] [--json] COMMAND [ARGS]; "
                  "try 'vigilctl help'\n",
                  stderr);
            return VCTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return VCTL_USAGE;
    }
    c.cmd = find_command(argv[optind]);
    if (!c.cmd) {
        fprintf(stderr, "vigilctl: unknown command '%s'; try 'vigilctl help'\n", argv[optind]);
        return VCTL_USAGE;
    }
    /* A closed pipe is reported where it happens, not by a fatal signal. */
    signal(SIGPIPE, SIG_IGN);
    return finish_output(c.cmd->fn(&c, argc - optind, argv + optind));
}
