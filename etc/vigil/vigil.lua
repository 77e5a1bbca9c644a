-- /etc/vigil/vigil.lua: configuration of the vigil daemon (vigild).
--
-- This file is Lua 5.4, run in a sandbox: only the string, table, math and
-- utf8 libraries and the plain base functions are available (no io, os,
-- require or load). Every top-level assignment is a setting, and each value
-- below is the built-in default, so deleting a line changes nothing.
--
-- An unknown setting or a value of the wrong type is an error that names the
-- file and line. Check your edits before reloading:
--
--     vigild --check --config /etc/vigil/vigil.lua
--
-- then apply them with `systemctl reload vigild` (SIGHUP); a file with errors
-- is not applied and the running configuration stays. docs/config.md
-- describes every setting.

-- Directory of the daemon's database (learned rules, groups, events, reports).
state_dir = "/var/lib/vigil"

-- Unix socket on which vigilctl talks to the daemon (mode 0600, root only).
socket = "/run/vigil/vigild.sock"

-- A group whose members may also use the control socket, besides root.
-- Unset (nil) means root only. Example: control_group = "vigil"
control_group = nil

-- Amount of logging: "error", "warning", "notice", "info" or "debug".
log_level = "info"

-- Mode of a newly found group: "learn" (record what it does as allowed),
-- "monitor" (alert on anything not allowed) or "protect" (block it).
default_mode = "learn"

-- Number of events kept in the database; the oldest are removed beyond it.
events_max = 100000

-- Event types not written to the database, so that busy routine events do
-- not push older findings out of it: exact types or globs ("*" matches any
-- run of characters). They are still seen live (vigilctl events --follow),
-- by the policies and by the plugins. Violations, incidents, policy.error,
-- response.done and anything of severity warning or above are always
-- stored. The default stores everything. Example:
--     store_skip = { "proc.exit", "*.stats" }
store_skip = {}

-- Capacity of the in-memory event queue (1024 to 16777216 events); when it
-- is full, new events are dropped and counted rather than slowing the kernel.
bus_queue = 65536

-- Initial size of the database map in MiB; it grows on its own when needed.
store_map_mb = 64

-- Where the plugins (*.so) are loaded from. Left unset, the directory chosen
-- when vigil was built applies (normally /usr/lib/vigil/plugins, or the
-- multiarch lib directory of your distribution); set it only to move them.
-- plugin_dir = "/usr/lib/vigil/plugins"

-- Directories of Lua policy files, loaded in this order. Left unset, these are
-- the policies shipped with vigil (under /usr/share/vigil/policies) followed
-- by /etc/vigil/policies.d for your own. Setting it replaces both, so keep
-- the shipped directory in the list unless you mean to drop the default policy.
-- policy_dirs = { "/usr/share/vigil/policies", "/etc/vigil/policies.d" }

-- No policy file at all in those directories is an error (a typo in a path
-- must not leave the host unprotected); "allow" says an empty set is meant.
-- empty_policies = "error"

-- Settings of each plugin, as plugins.<name> = { key = value, ... }. Values
-- may be strings, numbers, booleans and tables. Every plugin understands
-- `enabled` (default true); see each plugin's documentation for the rest.
-- Example:
--     plugins = {
--         secrets = { enabled = false },
--     }
plugins = {}

-- Endpoints of the `webhook` response action, as webhooks.<name> = { ... }:
-- url (http:// or https://), timeout_ms (default 5000), headers (a table of
-- header = value), slack = true for Slack's {"text": ...} body. Response
-- rules name the endpoint. Example:
--     webhooks = {
--         ops = { url = "http://127.0.0.1:9000/hook", timeout_ms = 5000,
--                 headers = { ["X-Token"] = "change-me" } },
--     }
webhooks = {}

-- Custom groups of workloads, on top of each container's service group. A
-- workload is in a group when all its criteria match: image, name_glob and
-- namespace are globs, label a table of label = glob, match a function
-- given the workload. Each group has its own mode (vigilctl group mode).
-- Example:
--     groups = {
--         { name = "web-tier", image = "nginx*", label = { app = "web" } },
--         { name = "prod", namespace = "prod" },
--     }
groups = {}

-- Hours after which a service group that has had no member is removed,
-- with its mode and its learned rules (rules you wrote or imported stay).
-- "nodes" and the groups above are never removed. 0 keeps every group.
group_aging_hours = 24

-- How often (ms) workload discovery rescans /proc and the runtimes' state;
-- new containers are also noticed as they are created.
rescan_ms = 1000

-- Test setting: a directory standing in for / when discovery reads /proc,
-- /run, /var/lib and /sys/fs/cgroup. Leave unset on a real host.
-- discovery_root = "/srv/fixtures"
