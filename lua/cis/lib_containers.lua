-- Containers: their OCI bundles under the runtimes' state directories.
-- Helpers for the checks (see lib.lua); loaded after it, into every run.

-- ---- containers (OCI bundles) -----------------------------------------------

local STATE_DIRS = { "/run/runc" }
local TASK_DIRS = { "/run/containerd/io.containerd.runtime.v2.task" }

local function bundle_of(state)
  for _, l in ipairs(((state or {}).config or {}).labels or {}) do
    local b = l:match("^bundle=(.*)$")
    if b then return b end
  end
  return state and state.bundle
end

local function add_container(list, seen_ids, id, bundle, state)
  if seen_ids[id] or not bundle then return end
  local cfg = cis.read_json(bundle .. "/config.json")
  if not cfg then return end
  seen_ids[id] = true
  local ann = cfg.annotations or {}
  local name = ann["io.kubernetes.cri.container-name"] or ann["io.kubernetes.container.name"]
      or ann["org.opencontainers.image.ref.name"] or id:sub(1, 12)
  list[#list + 1] = { id = id, name = name, bundle = bundle, config = cfg,
                      pid = state and state.init_process_pid }
end

-- The data and exec roots of every running dockerd (its flags, else its
-- daemon.json, else the defaults); the defaults when none runs.
function cis.dockerd_roots()
  local out, seen = {}, {}
  for _, p in ipairs(cis.processes()) do
    if p.comm == "dockerd" then
      local cfg = cis.read_json(cis.flag_value(p.args, "config-file") or "/etc/docker/daemon.json") or {}
      local function opt(name, default)
        local v = cis.flag_value(p.args, name)
        if type(v) ~= "string" or v == "" then v = cfg[name] end
        return (type(v) == "string" and v ~= "") and v or default
      end
      local d = { data = opt("data-root", "/var/lib/docker"), exec = opt("exec-root", "/run/docker") }
      if not seen[d.exec] then
        seen[d.exec] = true
        out[#out + 1] = d
      end
    end
  end
  if #out == 0 then out[1] = { data = cis.docker_root(), exec = cis.docker_exec_root() } end
  return out
end

-- Every container with an OCI config under the runtimes' state directories.
function cis.find_containers(only)
  local list, ids = {}, {}
  local function state_dir(dir)
    for _, id in ipairs(cis.list(dir) or {}) do
      local st = cis.read_json(dir .. "/" .. id .. "/state.json")
      if st then add_container(list, ids, id, bundle_of(st), st) end
    end
  end
  for _, d in ipairs(STATE_DIRS) do state_dir(d) end
  -- dockerd's runc state, one directory per containerd namespace ("moby",
  -- or --containerd-namespace), under the exec root of every dockerd that
  -- runs (a host may run more than one, each with its own roots); each
  -- container keeps the data root of its daemon for Docker's records of it.
  for _, d in ipairs(cis.dockerd_roots()) do
    local runc = d.exec .. "/runtime-runc"
    local before = #list
    for _, ns in ipairs(cis.list(runc) or {}) do state_dir(runc .. "/" .. ns) end
    for i = before + 1, #list do list[i].docker_root = d.data end
  end
  for _, ns in ipairs(cis.list("/run/containerd/runc") or {}) do state_dir("/run/containerd/runc/" .. ns) end
  for _, d in ipairs(TASK_DIRS) do
    for _, ns in ipairs(cis.list(d) or {}) do
      for _, id in ipairs(cis.list(d .. "/" .. ns) or {}) do
        add_container(list, ids, id, d .. "/" .. ns .. "/" .. id, nil)
      end
    end
  end
  if only then
    local keep = {}
    for _, c in ipairs(list) do if c.id == only or c.id:sub(1, #only) == only then keep[#keep + 1] = c end end
    list = keep
  end
  -- Docker names its containers ("/web"): say that rather than the id.
  for _, c in ipairs(list) do
    local dc = c.name == c.id:sub(1, 12) and cis.docker_config(c)
    if dc and type(dc.Name) == "string" and dc.Name ~= "" then c.name = dc.Name:gsub("^/", "") end
  end
  return list
end

-- Applies fn(container) to every container; fn returns nil when fine or a
-- string saying what is wrong. WARN listing the offenders, else PASS.
function cis.each_container(ctx, fn)
  if #ctx.containers == 0 then return "INFO", "no containers found" end
  local bad = {}
  for _, c in ipairs(ctx.containers) do
    local why = fn(c, c.config)
    if why then bad[#bad + 1] = c.name .. ": " .. why end
  end
  if #bad > 0 then return "WARN", bad end
  return "PASS", #ctx.containers .. " containers checked"
end

function cis.has_namespace(cfg, kind)
  for _, ns in ipairs(((cfg.linux or {}).namespaces) or {}) do
    if ns.type == kind then return true end
  end
  return false
end

function cis.caps_of(cfg)
  local caps = {}
  for _, c in ipairs((((cfg.process or {}).capabilities) or {}).bounding or {}) do caps[c] = true end
  return caps
end

-- A container is privileged when it has every capability that matters,
-- as Docker's --privileged gives (OCI configs carry no flag for it).
function cis.is_privileged(cfg)
  local caps = cis.caps_of(cfg)
  return caps.CAP_SYS_ADMIN and caps.CAP_SYS_MODULE and caps.CAP_SYS_RAWIO and caps.CAP_MAC_ADMIN
      and true or false
end

function cis.bind_mounts(cfg)
  local out = {}
  for _, m in ipairs(cfg.mounts or {}) do
    local bind = m.type == "bind"
    for _, o in ipairs(m.options or {}) do if o == "bind" or o == "rbind" then bind = true end end
    if bind then
      local rw = true
      for _, o in ipairs(m.options or {}) do if o == "ro" then rw = false end end
      out[#out + 1] = { source = m.source or "", destination = m.destination or "", rw = rw, options = m.options or {} }
    end
  end
  return out
end

-- Docker's own record of a container (hostconfig.json: what was asked on
-- the command line; config.v2.json: the container's config and state),
-- when Docker runs it; nil for other runtimes. Read once per container.
local function docker_record(c, file)
  c.docker = c.docker or {}
  if c.docker[file] == nil then
    c.docker[file] = cis.read_json((c.docker_root or cis.docker_root()) .. "/containers/" .. c.id .. "/" .. file)
        or false
  end
  return c.docker[file] or nil
end

function cis.docker_host_config(c) return docker_record(c, "hostconfig.json") end
function cis.docker_config(c) return docker_record(c, "config.v2.json") end
