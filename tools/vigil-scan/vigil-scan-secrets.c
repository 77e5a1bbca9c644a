/*
 * `vigil-scan secrets`: the secret scanner of plugins/secrets on the
 * command line, without a daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"
#include "vigil-scan.h"

#define MAX_RULE_FILES 16

enum { OUT_TEXT, OUT_JSON, OUT_SARIF };

struct opts {
    int format;
    bool reveal;
    const char *rules[MAX_RULE_FILES + 1];
    size_t nrules;
    int pids[64];
    size_t npids;
    vg_sec_limits lim;
    const char *baseline;       /* --baseline: report only what it lacks */
    const char *write_baseline; /* --write-baseline: accept today's findings */
};

static void help(FILE *out)
{
    fprintf(out, "usage: vigil-scan secrets [options] PATH|IMAGE.tar ...\n"
                 "\n"
                 "Scans directories, files, image tarballs (docker save, OCI layout; every\n"
                 "layer) and process environments for leaked credentials.\n"
                 "\n"
                 "  --json              findings as one JSON document\n"
                 "  --sarif             SARIF 2.1.0 (GitHub code scanning)\n"
                 "  --rules FILE        more rules (Lua); add to and override the shipped ones\n"
                 "  --reveal            print secrets whole (default: masked)\n"
                 "  --pid PID           scan the environment of process PID\n"
                 "  --max-file-size N   skip files larger than N bytes (10 MiB)\n"
                 "  --max-bytes N       stop after N bytes in all (8 GiB)\n"
                 "  --timeout SECONDS   stop after this long\n"
                 "  --skip-tests        leave out findings in test paths (test/, tests/,\n"
                 "                      testdata/, fixtures/, __tests__/, examples/, files\n"
                 "                      named *example*), except private keys\n"
                 "  --example-data      also report published example values (AWS docs key,\n"
                 "                      RFC 6749 tokens...) at low severity\n"
                 "  --baseline FILE     report only findings that FILE does not hold\n"
                 "  --write-baseline FILE  write every finding of this scan to FILE (to be\n"
                 "                      given to --baseline later); exit status 0\n"
                 "\n"
                 "Exit status: 0 no (new) findings, 1 findings, 2 error.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

/* Returns the index of the first operand, or -1 after an error message, or
 * -2 for --help. */
static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'j'},
        {"sarif", no_argument, NULL, 's'},
        {"rules", required_argument, NULL, 'r'},
        {"reveal", no_argument, NULL, 'R'},
        {"pid", required_argument, NULL, 'p'},
        {"max-file-size", required_argument, NULL, 'F'},
        {"max-bytes", required_argument, NULL, 'B'},
        {"timeout", required_argument, NULL, 't'},
        {"skip-tests", no_argument, NULL, 'T'},
        {"example-data", no_argument, NULL, 'E'},
        {"baseline", required_argument, NULL, 'b'},
        {"write-baseline", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->format = OUT_JSON;
            break;
        case 's':
            o->format = OUT_SARIF;
            break;
        case 'R':
            o->reveal = true;
            break;
        case 'T':
            o->lim.flags |= VG_SEC_SKIP_TESTS;
            break;
        case 'E':
            o->lim.flags |= VG_SEC_SHOW_EXAMPLES;
            break;
        case 'b':
            o->baseline = optarg;
            break;
        case 'w':
            o->write_baseline = optarg;
            break;
        case 'r':
            if (o->nrules == MAX_RULE_FILES) {
                fprintf(stderr, "vigil-scan: too many --rules\n");
                return -1;
            }
            o->rules[o->nrules++] = optarg;
            break;
        case 'p':
            if (parse_u64(optarg, &v) < 0 || !v || v > 1u << 22 ||
                o->npids == sizeof(o->pids) / sizeof(o->pids[0])) {
                fprintf(stderr, "vigil-scan: bad --pid '%s'\n", optarg);
                return -1;
            }
            o->pids[o->npids++] = (int)v;
            break;
        case 'F':
        case 'B':
        case 't':
            if (parse_u64(optarg, &v) < 0 || !v) {
                fprintf(stderr, "vigil-scan: bad number '%s'\n", optarg);
                return -1;
            }
            if (c == 'F')
                o->lim.max_file_bytes = v;
            else if (c == 'B')
                o->lim.max_total_bytes = v;
            else
                o->lim.max_ms = v * 1000;
            break;
        case 'h':
            return -2;
        default:
            return -1;
        }
    }
    if (o->baseline && o->write_baseline) {
        fprintf(stderr, "vigil-scan: --baseline and --write-baseline exclude each other\n");
        return -1;
    }
    return optind;
}

/* What was not looked at, and why, each on its own line: a reader of the
 * summary must not take a scan cut short for a clean one. */
static void print_unscanned(const vg_sec_scanner *s)
{
    const vg_sec_stats *st = vg_sec_scanner_stats(s);
    if (st->skipped_depth)
        fprintf(stderr,
                "vigil-scan: not scanned: %llu directories deeper than %u levels (the depth "
                "limit)\n",
                (unsigned long long)st->skipped_depth, vg_sec_scanner_limits(s)->max_depth);
    if (st->skipped_other)
        fprintf(stderr,
                "vigil-scan: not scanned: %llu devices, fifos, sockets or unreadable files\n",
                (unsigned long long)st->skipped_other);
    if (st->skipped_large)
        fprintf(stderr, "vigil-scan: not scanned: %llu files larger than --max-file-size\n",
                (unsigned long long)st->skipped_large);
    if (st->truncated)
        fprintf(stderr, "vigil-scan: the scan stopped early: %s\n",
                st->stopped_by == VG_SEC_STOP_TIME    ? "--timeout reached"
                : st->stopped_by == VG_SEC_STOP_BYTES ? "--max-bytes reached"
                                                      : "cancelled");
}

static int output(const struct opts *o, vg_sec_report *rep, vg_sec_scanner *s,
                  const vg_sec_rules *rs)
{
    const vg_sec_stats *st = vg_sec_scanner_stats(s);
    if (o->format == OUT_JSON)
        return vg_sec_report_json(rep, st, stdout);
    if (o->format == OUT_SARIF)
        return vg_sec_report_sarif(rep, rs, stdout);
    int rc = vg_sec_report_text(rep, stdout);
    fprintf(stderr,
            "vigil-scan: %zu finding(s); %llu files, %llu bytes, %llu layers; skipped %llu binary, "
            "%llu too large, %llu symlinks; %llu in the baseline, %llu in test paths left out, "
            "%llu example values\n",
            vg_sec_report_count(rep), (unsigned long long)st->files, (unsigned long long)st->bytes,
            (unsigned long long)st->layers, (unsigned long long)st->skipped_binary,
            (unsigned long long)st->skipped_large, (unsigned long long)st->skipped_symlink,
            (unsigned long long)st->baselined, (unsigned long long)st->skipped_tests,
            (unsigned long long)st->examples);
    print_unscanned(s);
    return rc;
    return rc;
}

/* Writes every finding of the scan as a baseline. */
static int write_baseline(const char *file, const vg_sec_report *rep)
{
    FILE *f = fopen(file, "we");
    if (!f) {
        fprintf(stderr, "vigil-scan: %s: %s\n", file, strerror(errno));
        return -errno;
    }
    int rc = vg_sec_report_baseline(rep, f);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0)
        fprintf(stderr, "vigil-scan: %s: %s\n", file, strerror(-rc));
    else
        fprintf(stderr, "vigil-scan: %zu finding(s) written to the baseline %s\n",
                vg_sec_report_count(rep), file);
    return rc;
}

static int run(struct opts *o, int argc, char **argv, int first)
{
    const char *files[MAX_RULE_FILES + 1] = {vg_sec_default_rules_path()};
    memcpy(files + 1, o->rules, o->nrules * sizeof(*files));
    char err[512] = "";
    vg_sec_rules *rs = NULL;
    if (vg_sec_rules_load(files, o->nrules + 1, &rs, err, sizeof(err)) < 0) {
        fprintf(stderr, "vigil-scan: rules: %s\n", err);
        return VG_SCAN_ERROR;
    }
    vg_sec_report *rep = NULL;
    vg_sec_scanner *s = NULL;
    vg_sec_baseline *base = NULL;
    int status = VG_SCAN_ERROR;
    if (o->baseline && vg_sec_baseline_load(o->baseline, &base, err, sizeof(err)) < 0) {
        fprintf(stderr, "vigil-scan: baseline: %s\n", err);
        goto out;
    }
    if (vg_sec_report_new(o->reveal, &rep) < 0 ||
        vg_sec_scanner_new(rs, &o->lim, vg_sec_report_add, rep, &s) < 0) {
        fprintf(stderr, "vigil-scan: out of memory\n");
        goto out;
    }
    vg_sec_scanner_set_baseline(s, base);
    bool failed = false;
    for (int i = first; i < argc; i++) {
        int rc = vg_sec_scan_path(s, argv[i]);
        if (rc < 0) {
            fprintf(stderr, "vigil-scan: %s: %s\n", argv[i], strerror(-rc));
            failed = true;
        }
    }
    for (size_t i = 0; i < o->npids; i++) {
        int rc = vg_sec_scan_environ(s, o->pids[i]);
        if (rc < 0) {
            fprintf(stderr, "vigil-scan: pid %d: %s\n", o->pids[i], strerror(-rc));
            failed = true;
        }
    }
    if (o->write_baseline) {
        if (write_baseline(o->write_baseline, rep) < 0)
            failed = true;
        status = failed ? VG_SCAN_ERROR : VG_SCAN_CLEAN;
        goto out;
    }
    if (output(o, rep, s, rs) < 0)
        failed = true;
    status = failed ? VG_SCAN_ERROR : vg_sec_report_count(rep) ? VG_SCAN_FOUND : VG_SCAN_CLEAN;
out:
    vg_sec_baseline_free(base);
    vg_sec_scanner_free(s);
    vg_sec_report_free(rep);
    vg_sec_rules_free(rs);
    return status;
}

int vg_scan_secrets(int argc, char **argv)
{
    struct opts o = {0};
    int first = parse(argc, argv, &o);
    if (first == -2) {
        help(stdout);
        return 0;
    }
    if (first < 0)
        return VG_SCAN_ERROR;
    if (first >= argc && !o.npids) {
        help(stderr);
        return VG_SCAN_ERROR;
    }
    return run(&o, argc, argv, first);
}
