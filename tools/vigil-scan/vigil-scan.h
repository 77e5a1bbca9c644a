/*
 * The subcommands of vigil-scan (tools/vigil-scan.c dispatches).
 */
#ifndef VIGIL_SCAN_H
#define VIGIL_SCAN_H

/* Exit statuses shared by the subcommands. */
enum { VG_SCAN_CLEAN = 0, VG_SCAN_FOUND = 1, VG_SCAN_ERROR = 2 };

typedef struct vg_scan_cmd {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand's name; returns the exit status. */
    int (*fn)(int argc, char **argv);
} vg_scan_cmd;

/* tools/vigil-scan-secrets.c */
int vg_scan_secrets(int argc, char **argv);

/* tools/vigil-scan/vigil-scan-cis.c */
int vg_scan_cis(int argc, char **argv);

/* tools/vigil-scan-pcap.c */
int vg_scan_pcap(int argc, char **argv);

/* Other subcommands' entry points go here. */

#endif
