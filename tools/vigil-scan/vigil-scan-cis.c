/*
 * `vigil-scan bench`: the CIS compliance checks of plugins/cis without a
 * daemon, on this host, a mounted filesystem, manifests or an image tarball.
 * Exit status: 0 when no check warns, 1 when one does, 2 on an error (bad
 * usage, the engine could not run, or a check failed to run).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cis.h"
#include "vigil-scan.h"

enum { FMT_TABLE, FMT_TEXT, FMT_JSON, FMT_SARIF };

static void usage(FILE *f)
{
    fprintf(
        f, "usage: vigil-scan bench [--root DIR] [--target host|containers|kubernetes|images|all]\n"
           "                        [--manifests PATH] [--image IMAGE.tar] [--tag "
           "PCI|GDPR|HIPAA|NIST]\n"
           "                        [--checks DIR] [--container ID] [--lua-dir DIR]\n"
           "                        [--json | --sarif | --format table|text|json|sarif]\n");
}

static int parse_format(const char *s)
{
    static const char *const names[] = {"table", "text", "json", "sarif"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* Adds the targets a --manifests or --image implies when --target is not
 * given: asking to check an image means checking the image. */
static unsigned implied_targets(const cis_opts *o)
{
    unsigned t = 0;
    if (o->manifests)
        t |= CIS_KUBERNETES;
    if (o->image)
        t |= CIS_IMAGES;
    return t ? t : CIS_HOST;
}

static int print(int fmt, const cis_report *rep)
{
    switch (fmt) {
    case FMT_TEXT:
        return cis_print_text(stdout, rep);
    case FMT_JSON:
        return cis_print_json(stdout, rep);
    case FMT_SARIF:
        return cis_print_sarif(stdout, rep);
    default:
        return cis_print_table(stdout, rep);
    }
}

int vg_scan_cis(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, 'r'},
        {"target", required_argument, NULL, 't'},
        {"manifests", required_argument, NULL, 'm'},
        {"image", required_argument, NULL, 'i'},
        {"tag", required_argument, NULL, 'g'},
        {"checks", required_argument, NULL, 'c'},
        {"container", required_argument, NULL, 'C'},
        {"lua-dir", required_argument, NULL, 'L'},
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"sarif", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cis_opts o = {.root = "/", .lua_dir = cis_shipped_dir(true)};
    int fmt = FMT_TABLE, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:t:m:i:g:c:C:L:f:jsh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.root = optarg;
            break;
        case 't':
            if (!(o.targets |= cis_target_parse(optarg))) {
                fprintf(stderr, "vigil-scan bench: unknown target '%s'\n", optarg);
                return VG_SCAN_ERROR;
            }
            break;
        case 'm':
            o.manifests = optarg;
            break;
        case 'i':
            o.image = optarg;
            break;
        case 'g':
            o.tag = optarg;
            break;
        case 'c':
            o.checks_dir = optarg;
            break;
        case 'C':
            o.container = optarg;
            break;
        case 'L':
            o.lua_dir = optarg;
            break;
        case 'f':
            if ((fmt = parse_format(optarg)) < 0) {
                fprintf(stderr, "vigil-scan bench: unknown format '%s'\n", optarg);
                return VG_SCAN_ERROR;
            }
            break;
        case 'j':
            fmt = FMT_JSON;
            break;
        case 's':
            fmt = FMT_SARIF;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return VG_SCAN_ERROR;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return VG_SCAN_ERROR;
    }
    if (!o.targets)
        o.targets = implied_targets(&o);
    cis_report *rep = NULL;
    char err[512];
    int rc = cis_run(&o, &rep, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "vigil-scan bench: %s\n", err);
        return VG_SCAN_ERROR;
    }
    rc = print(fmt, rep);
    int status = rc < 0 || rep->counts[CIS_ERROR] ? VG_SCAN_ERROR
                 : rep->counts[CIS_WARN]          ? VG_SCAN_FOUND
                                                  : VG_SCAN_CLEAN;
    cis_report_free(rep);
    return status;
}
