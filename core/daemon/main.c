/* vigild: option parsing; the daemon itself is in daemon.c. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "trust.h"

#define DEFAULT_CONFIG "/etc/vigil/vigil.lua"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vigild [options]\n"
            "  -c, --config FILE      config file (default " DEFAULT_CONFIG ")\n"
            "  -s, --state-dir DIR    state directory (default /var/lib/vigil)\n"
            "  -S, --socket PATH      control socket (default /run/vigil/vigild.sock)\n"
            "  -p, --plugin-dir DIR   plugin directory\n"
            "  -P, --policy-dir DIR   policy directory (replaces the configured ones)\n"
            "      --shipped-policy-dir DIR\n"
            "                         the shipped policies are in DIR, not in\n"
            "                         " VIGIL_DEFAULT_POLICY_DIR " (the other\n"
            "                         configured directories stay)\n"
            "  -l, --log-level LEVEL  error, warning, notice, info or debug\n"
            "  -t, --check            check config and policies, print every problem, exit\n"
            "  -o, --trusted-owner U  a user besides root who may own the config, policies\n"
            "                         and plugins (e.g. the owner of a source checkout)\n"
            "  -V, --version          print the version\n"
            "  -h, --help             this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},  {"state-dir", required_argument, NULL, 's'},
        {"socket", required_argument, NULL, 'S'},  {"plugin-dir", required_argument, NULL, 'p'},
        {"policy-dir", required_argument, NULL, 'P'}, {"log-level", required_argument, NULL, 'l'},
        {"shipped-policy-dir", required_argument, NULL, 'H'},
        {"check", no_argument, NULL, 't'},         {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},          {"trusted-owner", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    vg_opts opts = {.config_path = DEFAULT_CONFIG};
    int check = 0, explicit_config = 0, c;
    while ((c = getopt_long(argc, argv, "c:s:S:p:P:l:o:tVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': opts.config_path = optarg; explicit_config = 1; break;
        case 's': opts.state_dir = optarg; break;
        case 'S': opts.socket_path = optarg; break;
        case 'p': opts.plugin_dir = optarg; break;
        case 'P': opts.policy_dir = optarg; break;
        case 'H': opts.shipped_policy_dir = optarg; break;
        case 'l': opts.log_level = optarg; break;
        case 't': check = 1; break;
        case 'o':
            if (vg_trust_set_owner(optarg) < 0) {
                fprintf(stderr, "vigild: --trusted-owner: no user '%s'\n", optarg);
                return 2;
            }
            break;
        case 'V': printf("vigild %s (plugin ABI %d.%d)\n", VIGIL_VERSION, VG_ABI_MAJOR, VG_ABI_MINOR); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vigild: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    /* A host without the config file still gets a working daemon with the
     * built-in defaults; a file named on the command line must exist. */
    if (!explicit_config && access(opts.config_path, F_OK) != 0) {
        vg_warn("%s not found; using built-in defaults", opts.config_path);
        opts.config_path = NULL;
    }
    if (opts.log_level && vg_log_parse_level(opts.log_level) < 0) {
        fprintf(stderr, "vigild: --log-level must be error, warning, notice, info or debug\n");
        return 2;
    }
    if (check) {
        vg_diag diag = {0};
        int rc = vg_daemon_check(&opts, &diag);
        vg_diag_print(&diag, stderr);
        if (rc == 0)
            printf("vigild: configuration %s and policies are valid\n",
                   opts.config_path ? opts.config_path : "(built-in defaults)");
        else
            fprintf(stderr, "vigild: %zu problem%s found\n", diag.n, diag.n == 1 ? "" : "s");
        vg_diag_free(&diag);
        return rc == 0 ? 0 : 1;
    }
    /* A client that hangs up while its reply is written must cost an EPIPE
     * on that connection, not the daemon. */
    signal(SIGPIPE, SIG_IGN);
    return vg_daemon_run(&opts);
}
