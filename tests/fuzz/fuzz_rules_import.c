/*
 * Fuzzes `vigilctl rules import` as the daemon reads it: a policy-as-code
 * Lua file (vg_rules_parse_lua) of vigil.rule{...} calls, run in its own
 * sandbox. All or nothing: a refusal says why and returns no rules, and
 * every rule it does return passes the rules' own checks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rules.h"
#include "rules_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_rule *rules = NULL;
    size_t n = 0;
    char err[512] = "";
    int rc = vg_rules_parse_lua((const char *)data, size, "fuzz.lua", VG_RULE_IMPORTED, 0, &rules,
                                &n, err, sizeof(err));
    if (rc < 0 && (rules || n || !err[0]))
        abort();
    if (rc == 0) {
        vg_rules *idx;
        if (vg_rules_open(NULL, &idx) != 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if (vg_rules_put(idx, &rules[i], false) != 0)
                abort();
        vg_rules_free(idx);
    }
    free(rules);
    return 0;
}
