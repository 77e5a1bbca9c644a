-- CIS Docker Benchmark 1.6.0, section 5: the checks the benchmark calls
-- Manual (5.9, 5.19, 5.24, 5.28). What is needed, or how old is too old, is
-- for a person to judge; what can be read from the host is read and given
-- as evidence, and what is clearly wrong is a WARN:
--   5.9  the ports each container publishes, against what its image EXPOSEs;
--   5.19 each container's --ulimit overrides, else the daemon's defaults;
--   5.24 the docker exec sessions running now, and as which user;
--   5.28 whether each container still runs the image its reference names.

local docker_host_config, docker_config = cis.docker_host_config, cis.docker_config

local function review(t)
  t.level = t.level or 1
  t.automated = false
  t.scored = false
  t.target = "containers"
  return t
end

local function sorted_keys(tbl)
  local out = {}
  for k in pairs(tbl or {}) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

-- The config of a Docker image by id ("sha256:<hex>"), from the image db.
local function image_config(root, id)
  local hex = type(id) == "string" and id:match("^sha256:(%x+)$")
  if not hex then return nil end
  local base = root .. "/image"
  for _, driver in ipairs(cis.list(base) or {}) do
    local cfg = cis.read_json(base .. "/" .. driver .. "/imagedb/content/sha256/" .. hex)
    if type(cfg) == "table" then return cfg end
  end
  return nil
end

-- What a repository:tag reference names now in Docker's repositories.json.
local function image_of_ref(root, ref)
  local name = ref:gsub("@.*$", "")
  if not name:match(":[^/]+$") then name = name .. ":latest" end
  local repo = name:gsub(":[^/]+$", "")
  local base = root .. "/image"
  for _, driver in ipairs(cis.list(base) or {}) do
    local repos = cis.read_json(base .. "/" .. driver .. "/repositories.json") or {}
    for _, r in ipairs({ repo, "docker.io/" .. repo, "docker.io/library/" .. repo }) do
      local tags = (repos.Repositories or {})[r]
      if tags then
        local id = tags[name] or tags["docker.io/" .. name] or tags["docker.io/library/" .. name]
        if id then return id end
      end
    end
  end
  return nil
end

-- The fields of /proc/PID/status, each a list of its words (Uid: real,
-- effective, saved, fs). Plain finds: the sandbox charges a pattern for
-- its worst case, and some lines are long.
local function proc_status(pid)
  local out = {}
  for _, l in ipairs(cis.lines("/proc/" .. pid .. "/status") or {}) do
    local colon = l:find(":", 1, true)
    if colon then out[l:sub(1, colon - 1)] = cis.words(l:sub(colon + 1)) end
  end
  return out
end

local function cgroup_of(pid) return cis.read("/proc/" .. pid .. "/cgroup", 65536) end

-- Every process by its cgroup (the text of /proc/PID/cgroup), read once
-- per run of 5.24 rather than once per container.
local function by_cgroup()
  local idx, of = {}, {}
  for _, p in ipairs(cis.processes()) do
    local cg = cgroup_of(p.pid)
    if cg and cg ~= "" then
      of[p.pid] = cg
      idx[cg] = idx[cg] or {}
      local l = idx[cg]
      l[#l + 1] = p
    end
  end
  return idx, of
end

-- The docker exec sessions of a running container: processes in the
-- container's cgroup whose parent is outside it (the shim started them),
-- other than the container's init. The cgroup, not the PID namespace,
-- decides: a container may share the host's PID namespace.
local function exec_sessions(c, idx, of)
  local cg = c.pid and of[c.pid]
  if not cg then return nil end
  local out = {}
  for _, p in ipairs(idx[cg] or {}) do
    if p.pid ~= c.pid then
      local st = proc_status(p.pid)
      local ppid = tonumber((st.PPid or {})[1] or "")
      if ppid and of[ppid] ~= cg then
        out[#out + 1] = { pid = p.pid, comm = p.comm, uid = tonumber((st.Uid or {})[2] or "") }
      end
    end
  end
  return out
end

return {
  review {
    id = "5.9", title = "Ensure that only needed ports are open on the container", compliance = "network-segmentation",
    description = "A port published that the image does not EXPOSE, or every exposed port published at "
        .. "once (-P), is a WARN; published ports the image declares are INFO, listed for review "
        .. "(docker-bench WARNs on any published port).",
    remediation = "Publish only the ports the service needs, each with -p; do not use -P.",
    run = function(ctx)
      if #ctx.containers == 0 then return "INFO", "no containers found" end
      local worst, warn, info = "PASS", {}, {}
      for _, c in ipairs(ctx.containers) do
        local hc = docker_host_config(c)
        if hc then
          local exposed = {}
          local dc = docker_config(c)
          local img = image_config(c.docker_root or cis.docker_root(), dc and dc.Image)
          for p in pairs(((img or {}).config or {}).ExposedPorts or {}) do exposed[p] = true end
          local pub = {}
          for _, port in ipairs(sorted_keys(hc.PortBindings)) do
            for _, b in ipairs(hc.PortBindings[port] or {}) do
              pub[#pub + 1] = string.format("%s:%s->%s", b.HostIp ~= "" and b.HostIp or "*", b.HostPort or "?", port)
              if not exposed[port] then
                warn[#warn + 1] = c.name .. ": publishes " .. port .. ", which its image does not EXPOSE"
              end
            end
          end
          if hc.PublishAllPorts then warn[#warn + 1] = c.name .. ": -P publishes every port the image exposes" end
          if #pub > 0 then info[#info + 1] = c.name .. ": publishes " .. table.concat(pub, ", ") end
        end
      end
      if #warn > 0 then return "WARN", warn end
      if #info > 0 then
        info[#info + 1] = "each is EXPOSEd by the image: confirm the service needs it"
        return "INFO", info
      end
      return worst, #ctx.containers .. " containers checked: no port published"
    end,
  },
  review {
    id = "5.19", title = "Ensure that the default ulimit is overwritten at runtime if needed",
    compliance = "resource-limits",
    description = "INFO, as docker-bench, when a container has no --ulimit of its own; the evidence "
        .. "says which limits it then runs with (the daemon's default-ulimits, and the rlimits of its "
        .. "OCI config).",
    remediation = "Override a default ulimit with --ulimit only where a container needs other limits.",
    run = function(ctx)
      if #ctx.containers == 0 then return "INFO", "no containers found" end
      local v, where = cis.daemon_opt("default-ulimits")
      if v == nil then v, where = cis.daemon_opt("default-ulimit") end
      local daemon = (v ~= nil and v ~= "") and (where .. " = " .. (type(v) == "table"
          and table.concat(sorted_keys(v), ",") or tostring(v))) or "no daemon default-ulimits"
      local none, ev = 0, {}
      for _, c in ipairs(ctx.containers) do
        local hc = docker_host_config(c) or {}
        local own = {}
        for _, u in ipairs(hc.Ulimits or {}) do
          own[#own + 1] = string.format("%s=%s:%s", tostring(u.Name), tostring(u.Soft), tostring(u.Hard))
        end
        local rl = {}
        for _, r in ipairs(((c.config or {}).process or {}).rlimits or {}) do
          rl[#rl + 1] = string.format("%s=%s:%s", tostring(r.type), tostring(r.soft), tostring(r.hard))
        end
        local runs = #rl > 0 and ("; runs with " .. table.concat(rl, ", ")) or ""
        if #own > 0 then
          ev[#ev + 1] = c.name .. ": --ulimit " .. table.concat(own, ", ") .. runs
        else
          none = none + 1
          ev[#ev + 1] = c.name .. ": no --ulimit (" .. daemon .. ")" .. runs
        end
      end
      return none > 0 and "INFO" or "PASS", ev
    end,
  },
  review {
    id = "5.24", title = "Ensure that docker exec commands are not used with the user=root option",
    level = 2, compliance = "least-privilege",
    description = "Reads the docker exec sessions running now (processes the shim started in the "
        .. "container's cgroup): one running as root in a container whose user is not root is a WARN. "
        .. "Sessions that have ended leave nothing on disk (NOTE, as docker-bench): they are in the "
        .. "daemon's API log and in vigil's process events.",
    remediation = "Do not use docker exec --user=root (or -u 0); exec as the container's own user.",
    run = function(ctx)
      if #ctx.containers == 0 then return "INFO", "no containers found" end
      local warn, seen = {}, 0
      local idx, of = by_cgroup()
      for _, c in ipairs(ctx.containers) do
        local own = ((((c.config or {}).process or {}).user or {}).uid) or 0
        for _, s in ipairs(exec_sessions(c, idx, of) or {}) do
          seen = seen + 1
          if s.uid == 0 and own ~= 0 then
            warn[#warn + 1] = string.format("%s: exec session %d (%s) runs as root; the container runs as uid %d",
                                            c.name, s.pid, s.comm, own)
          end
        end
      end
      if #warn > 0 then return "WARN", warn end
      return "NOTE", string.format("%d docker exec sessions running now, none as root in a non-root container; "
          .. "past sessions: the daemon's API log or vigil's process events", seen)
    end,
  },
  review {
    id = "5.28", title = "Ensure that Docker commands always make use of the latest version of their image",
    compliance = "patching",
    description = "A container that runs an image its reference no longer names on this host (the tag "
        .. "was pulled or built again since) is a WARN; otherwise INFO with each container's reference "
        .. "and image, since whether the registry has a newer one is not checked.",
    remediation = "Pull images by a pinned tag or digest and recreate containers when their image changes.",
    run = function(ctx)
      if #ctx.containers == 0 then return "INFO", "no containers found" end
      local warn, info = {}, {}
      for _, c in ipairs(ctx.containers) do
        local dc = docker_config(c)
        local ref = dc and dc.Config and dc.Config.Image
        local id = dc and dc.Image
        if type(ref) == "string" and type(id) == "string" then
          local short = id:gsub("^sha256:", ""):sub(1, 12)
          if ref:match("^sha256:") or ref:match("^%x+$") or ref:find("@", 1, true) then
            info[#info + 1] = c.name .. ": pinned to " .. ref
          else
            local now = image_of_ref(c.docker_root or cis.docker_root(), ref)
            if now and now ~= id then
              warn[#warn + 1] = string.format("%s: runs %s, but %s now names %s: recreate the container", c.name,
                                              short, ref, now:gsub("^sha256:", ""):sub(1, 12))
            elseif now then
              info[#info + 1] = string.format("%s: runs %s, the image %s names on this host", c.name, short, ref)
            else
              info[#info + 1] = string.format("%s: runs %s; %s names no image on this host any more", c.name, short,
                                              ref)
            end
          end
        end
      end
      if #warn > 0 then return "WARN", warn end
      info[#info + 1] = "whether the registry has newer images is not checked"
      return "INFO", info
    end,
  },
}
