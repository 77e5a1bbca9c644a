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
#include "policy.h"
#include "vigil-policy.h"

static int usage(FILE *out)
{
    fprintf(out, "usage: vigil-policy check DIR...\n"
                 "       vigil-policy test DIR...\n"
                 "\n"
                 "check  loads every *.lua policy of the directories as vigild would and\n"
                 "       prints each problem as file:line: message\n"
                 "test   runs the *_test.lua files of the directories against the\n"
                 "       policies of the same directories\n");
    return out == stdout ? 0 : 2;
}

static int cmd_check(char **dirs)
{
    vg_diag diag = {0};
    int rc = vg_policy_check(dirs, &diag);
    vg_diag_print(&diag, stderr);
    vg_diag_free(&diag);
    if (rc < 0)
        return 1;
    printf("policies OK\n");
    return 0;
}

int main(int argc, char **argv)
{
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
    int rc = strcmp(argv[1], "check") == 0  ? cmd_check(dirs)
             : strcmp(argv[1], "test") == 0 ? vg_policy_test_main(dirs)
                                            : usage(stderr);
    free(dirs);
    return rc;
}
