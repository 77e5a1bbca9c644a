/*
 * vigil-policy: policies without a daemon (docs/vigil-policy.1).
 *
 *   vigil-policy check DIR...   loads every policy as the daemon would
 *   vigil-policy test DIR...    runs the *_test.lua files of the dirs
 *
 * Tests run against the real engine (policy_harness.h) with the policies of
 * all the given dirs; the test API itself is in vigil-policy-test.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plugin_decls.h"
#include "policy.h"
#include "vigil-policy.h"

static int usage(FILE *out)
{
    fprintf(out, "usage: vigil-policy [--plugin-dir DIR] check DIR...\n"
                 "       vigil-policy [--plugin-dir DIR] test DIR...\n"
                 "\n"
                 "check  loads every *.lua policy of the directories as vigild would and\n"
                 "       prints each problem as file:line: message\n"
                 "test   runs the *_test.lua files of the directories against the\n"
                 "       policies of the same directories\n"
                 "--plugin-dir  where the plugins are whose declarations policies may\n"
                 "       make (vigil.threat{...}); default " VIGIL_DEFAULT_PLUGIN_DIR "\n");
    return out == stdout ? 0 : 2;
}

static int cmd_check(char **dirs, const vg_plugin_decls *decls)
{
    vg_diag diag = {0};
    vg_policy_load load = {.decls = decls->v, .ndecls = decls->n};
    int rc = vg_policy_check_with(dirs, &load, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    if (rc < 0)
        return 1;
    printf("policies OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *plugin_dir = VIGIL_DEFAULT_PLUGIN_DIR;
    if (argc > 2 && strcmp(argv[1], "--plugin-dir") == 0) {
        plugin_dir = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
        return usage(stdout);
    if (argc < 3)
        return usage(stderr);
    /* Policy log lines (vigil.log) go to stderr; keep them to warnings. */
    vg_log_set_level(getenv("VIGIL_POLICY_DEBUG") ? VG_LOG_DEBUG : VG_LOG_WARN);
    char **dirs = calloc((size_t)argc - 1, sizeof(*dirs));
    if (!dirs)
        return 1;
    for (int i = 2; i < argc; i++)
        dirs[i - 2] = argv[i];
    /* The plugins' declarations, from their descriptors (no plugin runs). */
    vg_plugin_decls decls;
    if (vg_plugin_decls_dir(plugin_dir, &decls) < 0) {
        free(dirs);
        return 1;
    }
    int rc = strcmp(argv[1], "check") == 0  ? cmd_check(dirs, &decls)
             : strcmp(argv[1], "test") == 0 ? vg_policy_test_main(dirs, decls.v, decls.n)
                                            : usage(stderr);
    vg_plugin_decls_free(&decls);
    free(dirs);
    return rc;
}
