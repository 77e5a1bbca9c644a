-- luacheck settings for every Lua file vigil ships (policies, CIS checks,
-- secret rules, the default config) and the policy tests. `ctest -L lint`
-- (and so `make test`) runs `luacheck .` from the source tree.
--
-- Each kind of file runs in a sandbox with its own globals (lib/sandbox.c):
-- the safe part of Lua 5.4 for all, then `vigil` for policies, `cis` for
-- the CIS checks, `test` for policy tests, and the settings for the config.

std = "lua54"
-- What lib/sandbox.c leaves out of Lua 5.4's globals: using one of these
-- is an error at run time, so it is one here.
not_globals = {
  "_G", "arg", "collectgarbage", "coroutine", "debug", "dofile", "io", "load", "loadfile",
  "os", "package", "print", "require", "warn",
}
max_line_length = 120

exclude_files = {
  "build/**", "build-*/**",
  -- A policy that is wrong on purpose (the misspelt vigil.DENNY of the
  -- policy/typo test).
  "tests/policy_typo/",
  -- A misspelt event type on purpose (policy/names).
  "tests/policy_names/",
  -- Fuzz seeds: arbitrary input, sometimes malformed on purpose.
  "tests/fuzz/corpus/**",
}

-- The `vigil` module of the policies (docs/policy.md). Listed field by
-- field, so that a misspelt one is a warning here too; vigil.deny, the old
-- name of vigil.report_deny, is left out on purpose.
local vigil = {
  fields = {
    "ALERT", "ALLOW", "DENY", "LEARN", "MONITOR", "PROTECT",
    "alert", "allowed", "default_mode", "exception", "incident_enabled", "incidents", "learn", "log", "mode",
    "on", "report_deny", "respond", "response", "rule", "watch", "workload",
  },
}

files["lua/policies/"] = { read_globals = { vigil = vigil } }
files["tests/policy/"] = { read_globals = { vigil = vigil, "test" } }
files["tests/policy_attempts/"] = { read_globals = { vigil = vigil, "test" } }
files["tests/policy_exceptions/"] = { read_globals = { vigil = vigil, "test" } }

-- CIS checks reach everything through the one table `cis`, which the
-- helpers (lib*.lua) fill; the engine calls lib.lua's __cis_* functions.
files["lua/cis/"] = { read_globals = { "cis" } }
files["lua/cis/lib*.lua"] = {
  globals = { "cis", "__cis_checks", "__cis_add", "__cis_call", "__cis_context" },
  read_globals = { "COMPLIANCE", "__cis_warn_old" },
}

-- The secret rules are data: their expressions cannot be wrapped.
files["lua/secrets/rules.lua"] = { max_line_length = false }

-- The config assigns settings (core/config/config.c) as globals.
files["etc/vigil/"] = {
  globals = {
    "bus_queue", "control_group", "default_mode", "discovery_root", "empty_policies", "events_max",
    "group_aging_hours", "groups", "log_level", "plugin_dir", "plugins", "policy_dirs",
    "rescan_ms", "socket", "state_dir", "store_map_mb", "store_skip", "webhooks",
  },
}
