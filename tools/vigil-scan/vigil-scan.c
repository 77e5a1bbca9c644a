/*
 * vigil-scan: the daemon's checks without a daemon, for CI pipelines.
 *
 *   vigil-scan secrets PATH|IMAGE.tar ... [--json|--sarif] [--rules FILE]
 *   vigil-scan <subcommand> --help
 *
 * Each subcommand lives in its own tools/vigil-scan-<name>.c and is one row
 * of the table below. Exit status is the subcommand's: by convention 0 when
 * nothing was found, 1 when something was, 2 on error.
 */
#include <stdio.h>
#include <string.h>

#include "vigil-scan.h"

static int usage(FILE *out, int rc);

static int cmd_help(int argc, char **argv)
{
    return usage(stdout, 0);
}

/* The subcommands. To add one: write tools/vigil-scan-<name>.c with an
 * `int vg_scan_<name>(int argc, char **argv)` (argv[0] is the subcommand),
 * declare it in tools/vigil-scan.h, and add its row here. */
static const vg_scan_cmd commands[] = {
    {"secrets", "find leaked credentials in directories, image tarballs, processes",
     vg_scan_secrets},
    {"bench", "CIS benchmark checks (Docker, Kubernetes, Linux) with PCI/GDPR/HIPAA/NIST tags",
     vg_scan_cis},
    {"cis", "another name for bench", vg_scan_cis},
    {"pcap", "flows of capture files, applications named by content (pcap, pcapng)", vg_scan_pcap},
    /* New subcommand rows go here. */
    {"help", "show this help", cmd_help},
};

static int usage(FILE *out, int rc)
{
    fprintf(out, "usage: vigil-scan <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`vigil-scan <command> --help` describes a command.\n");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, VG_SCAN_ERROR);
    if (!strcmp(argv[1], "--version")) {
        printf("vigil-scan %s\n", VIGIL_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout, 0);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vigil-scan: unknown command '%s'\n", argv[1]);
    return usage(stderr, VG_SCAN_ERROR);
}
