/* vigil-policy's test runner (vigil-policy-test.c). */
#ifndef VIGIL_POLICY_TOOL_H
#define VIGIL_POLICY_TOOL_H

/* Runs every *_test.lua of dirs (NULL-terminated) against the policies of
 * the same dirs, prints one line per failure and "N passed, N failed".
 * Returns the exit status: 0 when all passed, 1 otherwise. */
#include "policy.h"

/* decls: what the plugins of the plugin directory declare (may be NULL). */
int vg_policy_test_main(char **dirs, const vg_policy_decl_desc *decls, size_t ndecls);

#endif
