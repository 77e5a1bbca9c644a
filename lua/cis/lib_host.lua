-- The host: files and their permissions, processes, the Docker daemon's
-- settings, audit rules and sysctls.
-- Helpers for the checks (see lib.lua); loaded after it, into every run.

-- ---- files -----------------------------------------------------------------

function cis.trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

function cis.exists(path) return cis.stat(path) ~= nil end

function cis.read_json(path)
  local text = cis.read(path)
  if not text then return nil end
  return cis.json(text)
end

-- The first of `paths` that exists, or nil.
function cis.first_existing(paths)
  for _, p in ipairs(paths) do if cis.exists(p) then return p end end
  return nil
end

local function mode_str(m) return string.format("%04o", m) end
cis.fmt_mode = mode_str

-- Lua has no octal literals: modes are written as octal strings ("644").
function cis.octal(m) return type(m) == "string" and tonumber(m, 8) or m end

-- Checks that each existing path is at most `max` (octal string, "644") and
-- owned by uid 0 (and gid 0 unless any_group). INFO when none exists.
function cis.check_perms(paths, max, opts)
  opts = opts or {}
  max = cis.octal(max)
  local bad, found = {}, {}
  for _, p in ipairs(paths) do
    local st = cis.stat(p)
    if st then
      found[#found + 1] = p
      if st.mode & ~max ~= 0 then
        bad[#bad + 1] = string.format("%s has mode %s (want %s or stricter)", p, mode_str(st.mode), mode_str(max))
      end
      if not opts.any_owner and (st.uid ~= 0 or (not opts.any_group and st.gid ~= 0)) then
        bad[#bad + 1] = string.format("%s is owned by %d:%d (want root:root)", p, st.uid, st.gid)
      end
    end
  end
  if #found == 0 then return "INFO", "not found: " .. table.concat(paths, ", ") end
  if #bad > 0 then return "WARN", bad end
  return "PASS", table.concat(found, ", ")
end

local group_ids
-- The gid of a group name in <root>/etc/group.
function cis.gid_of(name)
  if not group_ids then
    group_ids = {}
    for _, line in ipairs(cis.lines("/etc/group") or {}) do
      local f = cis.split(line, ":")
      if f[3] then group_ids[f[1]] = tonumber(f[3]) end
    end
  end
  return group_ids[name]
end

-- Ownership only: uid 0 and a group among `groups` (default {"root"}).
function cis.check_owner(paths, groups)
  local gids = {}
  for _, g in ipairs(groups or { "root" }) do
    local id = g == "root" and 0 or cis.gid_of(g)
    if id then gids[id] = true end
  end
  local bad, found = {}, {}
  for _, p in ipairs(paths) do
    local st = cis.stat(p)
    if st then
      found[#found + 1] = p
      if st.uid ~= 0 or not gids[st.gid] then
        bad[#bad + 1] = string.format("%s is owned by %d:%d (want root:%s)", p, st.uid, st.gid,
                                      table.concat(groups or { "root" }, "|"))
      end
    end
  end
  if #found == 0 then return "INFO", "not found: " .. table.concat(paths, ", ") end
  if #bad > 0 then return "WARN", bad end
  return "PASS", table.concat(found, ", ")
end

-- Permissions only: no bit beyond max.
function cis.check_mode(paths, max)
  return cis.check_perms(paths, max, { any_owner = true })
end

-- Every file below dir (one level, or recursive with depth) as paths.
function cis.files_under(dir, depth)
  local out = {}
  local function walk(d, left)
    for _, n in ipairs(cis.list(d) or {}) do
      local p = d .. "/" .. n
      local st = cis.stat(p, true)
      if st and st.type == "dir" and left > 0 then walk(p, left - 1)
      elseif st and st.type == "file" then out[#out + 1] = p end
    end
  end
  walk(dir, depth or 0)
  return out
end

-- ---- processes -------------------------------------------------------------

local procs_cache
-- Every process under <root>/proc: {pid, comm, args = {...}}.
function cis.processes()
  if procs_cache then return procs_cache end
  procs_cache = {}
  for _, n in ipairs(cis.list("/proc") or {}) do
    if n:match("^%d+$") then
      local raw = cis.read("/proc/" .. n .. "/cmdline", 65536)
      if raw and #raw > 0 then
        local args = {}
        for _, a in ipairs(cis.split(raw, "\0")) do if a ~= "" then args[#args + 1] = a end end
        local comm = cis.trim(cis.read("/proc/" .. n .. "/comm", 256) or "")
        procs_cache[#procs_cache + 1] = { pid = tonumber(n), comm = comm, args = args }
      end
    end
  end
  return procs_cache
end

local function basename(p) return (p:match("([^/]+)$") or p) end

-- The arguments of the first process named `name` (by argv[0] or comm).
function cis.process_args(name)
  for _, p in ipairs(cis.processes()) do
    if (p.args[1] and basename(p.args[1]) == name) or p.comm == name then return p.args end
  end
  return nil
end

-- The value of --flag in args: "--flag=v", "--flag v", or true for a bare
-- boolean flag. nil when absent. Repeated flags: the list of values with `all`.
function cis.flag_value(args, flag, all)
  local vals = {}
  for i = 2, #(args or {}) do
    local a = args[i]
    local eq = a:find("=", 1, true)
    local k = eq and a:sub(1, eq - 1)
    if k == "--" .. flag or k == "-" .. flag then vals[#vals + 1] = a:sub(eq + 1)
    elseif a == "--" .. flag or a == "-" .. flag then
      local nxt = args[i + 1]
      if nxt and not nxt:match("^%-") then vals[#vals + 1] = nxt else vals[#vals + 1] = true end
    end
  end
  if all then return vals end
  return vals[#vals]
end

-- ---- the Docker daemon -----------------------------------------------------

local daemon_json_cache
function cis.daemon_json()
  if daemon_json_cache == nil then
    local args = cis.process_args("dockerd")
    local path = cis.flag_value(args, "config-file") or "/etc/docker/daemon.json"
    daemon_json_cache = cis.read_json(path) or false
  end
  return daemon_json_cache or nil
end

-- Where dockerd keeps its data and its runtime state: --data-root and
-- --exec-root (or daemon.json), else the defaults. Containers, images and the
-- swarm state are read there, so a daemon with its own roots is checked as
-- it runs.
function cis.docker_root()
  local v = cis.daemon_opt("data-root")
  if v == nil or v == true or v == "" then v = cis.daemon_opt("graph") end -- the old name
  return (type(v) == "string" and v ~= "") and v or "/var/lib/docker"
end

function cis.docker_exec_root()
  local v = cis.daemon_opt("exec-root")
  return (type(v) == "string" and v ~= "") and v or "/run/docker"
end

-- Swarm mode: dockerd keeps the node's swarm state in <data-root>/swarm
-- only while the node is part of a swarm ("docker swarm leave" removes it).
function cis.swarm_active()
  local dir = cis.docker_root() .. "/swarm"
  return cis.exists(dir .. "/docker-state.json") or cis.exists(dir .. "/state.json")
end

-- The kernel's mandatory access control, as the runtimes see it: AppArmor
-- when the module is enabled, SELinux when selinuxfs is mounted. A check
-- that says "if applicable" does not apply without them.
function cis.apparmor_enabled()
  local v = cis.read("/sys/module/apparmor/parameters/enabled", 16)
  return v ~= nil and cis.trim(v) == "Y"
end

function cis.selinux_enabled()
  return cis.exists("/sys/fs/selinux/enforce")
end

function cis.docker_present()
  return cis.process_args("dockerd") ~= nil or cis.exists("/etc/docker") or cis.exists("/usr/bin/dockerd")
end

-- A daemon setting: the dockerd flag wins over daemon.json (as in dockerd,
-- where both set is an error). Returns value, "where it was found".
function cis.daemon_opt(name)
  local v = cis.flag_value(cis.process_args("dockerd"), name)
  if v ~= nil then return v, "dockerd --" .. name end
  local j = cis.daemon_json()
  if j and j[name] ~= nil then return j[name], "daemon.json " .. name end
  return nil, name .. " not set"
end

function cis.truthy(v) return v == true or v == "true" or v == "1" end

-- A host check about the Docker daemon: INFO when Docker is not installed.
function cis.docker_check(fn)
  return function(ctx)
    if not cis.docker_present() then return "INFO", "Docker is not installed under this root" end
    return fn(ctx)
  end
end

-- ---- audit rules and sysctls -----------------------------------------------

local audit_cache
function cis.audit_rules()
  if audit_cache then return audit_cache end
  audit_cache = {}
  local files = { "/etc/audit/audit.rules" }
  for _, f in ipairs(cis.list("/etc/audit/rules.d") or {}) do
    if f:match("%.rules$") then files[#files + 1] = "/etc/audit/rules.d/" .. f end
  end
  for _, f in ipairs(files) do
    for _, line in ipairs(cis.lines(f) or {}) do
      local w = cis.words(line)
      if w[1] and w[1]:sub(1, 1) ~= "#" then audit_cache[#audit_cache + 1] = w end
    end
  end
  return audit_cache
end

-- Whether a rule watches path: "-w path" or "-F path=path" / "dir=path".
function cis.audit_watched(path)
  for _, w in ipairs(cis.audit_rules()) do
    for i = 1, #w - 1 do
      local a, b = w[i], w[i + 1]
      if (a == "-w" and b == path) or (a == "-F" and (b == "path=" .. path or b == "dir=" .. path)) then
        return true, table.concat(w, " ")
      end
    end
  end
  return false
end

-- An audit check for a path: INFO when the path does not exist.
function cis.audit_check(paths)
  return function()
    local evidence, any = {}, false
    for _, p in ipairs(paths) do
      if cis.exists(p) then
        any = true
        local ok, rule = cis.audit_watched(p)
        if not ok then return "WARN", "no audit rule watches " .. p end
        evidence[#evidence + 1] = rule
      end
    end
    if not any then return "INFO", "not found: " .. table.concat(paths, ", ") end
    return "PASS", evidence
  end
end

function cis.sysctl(name)
  local v = cis.read("/proc/sys/" .. name:gsub("%.", "/"), 4096)
  return v and cis.trim(v) or nil
end

function cis.sysctl_check(name, want)
  return function()
    local v = cis.sysctl(name)
    if v == nil then return "INFO", name .. " is not readable" end
    if v ~= want then return "WARN", string.format("%s = %s (want %s)", name, v, want) end
    return "PASS", name .. " = " .. v
  end
end
