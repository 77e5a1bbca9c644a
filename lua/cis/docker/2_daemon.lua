-- CIS Docker Benchmark 1.6.0, section 2: the daemon's configuration, read
-- from dockerd's command line under <root>/proc and from daemon.json.

local function daemon(t)
  t.level = t.level or 1
  t.automated = t.automated ~= false
  t.scored = true
  t.target = "host"
  t.compliance = t.compliance or "runtime-config"
  local fn = t.run
  t.run = cis.docker_check(fn)
  return t
end

local function is_set(v) return v ~= nil and v ~= "" and v ~= false and not (type(v) == "table" and next(v) == nil) end

local function hosts()
  local h = cis.flag_value(cis.process_args("dockerd"), "H", true)
  for _, v in ipairs(cis.flag_value(cis.process_args("dockerd"), "host", true)) do h[#h + 1] = v end
  for _, v in ipairs((cis.daemon_json() or {}).hosts or {}) do h[#h + 1] = v end
  return h
end

-- The uid dockerd runs as (its /proc status), nil when it is not running.
local function dockerd_uid()
  for _, p in ipairs(cis.processes()) do
    if p.comm == "dockerd" then
      for _, l in ipairs(cis.lines("/proc/" .. p.pid .. "/status") or {}) do
        if l:sub(1, 4) == "Uid:" then return tonumber(cis.words(l)[3] or "") end
      end
    end
  end
  return nil
end

return {
  daemon {
    id = "2.1", title = "Run the Docker daemon as a non-root user, if possible", automated = false,
    description = "INFO when dockerd runs as root, as docker-bench: rootless mode has limits the "
        .. "benchmark itself lists (networking, resource limits), so running as root is for a person to weigh.",
    remediation = "Where its limits are acceptable, run Docker in rootless mode (dockerd-rootless-setuptool.sh).",
    run = function()
      local uid = dockerd_uid()
      if uid == nil then return "INFO", "dockerd is not running" end
      if uid ~= 0 then return "PASS", "dockerd runs as uid " .. uid .. " (rootless)" end
      return "INFO", "dockerd runs as root (uid 0): consider rootless mode if its limits are acceptable"
    end,
  },
  daemon {
    id = "2.2", title = "Ensure network traffic is restricted between containers on the default bridge",
    compliance = "network-segmentation",
    remediation = "Run dockerd with --icc=false or set \"icc\": false in daemon.json.",
    run = function()
      -- No default bridge at all (--bridge=none): nothing to restrict.
      -- docker-bench reads only --icc and daemon.json, and WARNs here.
      local br, bwhere = cis.daemon_opt("bridge")
      if br == "none" then return "PASS", bwhere .. " = none: there is no default bridge" end
      local v, where = cis.daemon_opt("icc")
      if v == false or v == "false" then return "PASS", where .. " = false" end
      return "WARN", where .. (v ~= nil and (" = " .. tostring(v)) or " (default true)")
    end,
  },
  daemon {
    id = "2.3", title = "Ensure the logging level is set to 'info'", compliance = "logging",
    remediation = "Set \"log-level\": \"info\" in daemon.json (or remove the setting).",
    run = function()
      local v, where = cis.daemon_opt("log-level")
      if v == nil or v == "info" then return "PASS", where end
      return "WARN", where .. " = " .. tostring(v)
    end,
  },
  daemon {
    id = "2.4", title = "Ensure Docker is allowed to make changes to iptables", compliance = "network-segmentation",
    remediation = "Remove --iptables=false / \"iptables\": false.",
    run = function()
      local v, where = cis.daemon_opt("iptables")
      if v == false or v == "false" then return "WARN", where .. " = false" end
      return "PASS", where
    end,
  },
  daemon {
    id = "2.5", title = "Ensure insecure registries are not used", compliance = "transport-security",
    remediation = "Remove --insecure-registry / \"insecure-registries\".",
    run = function()
      local v = cis.flag_value(cis.process_args("dockerd"), "insecure-registry", true)
      for _, r in ipairs((cis.daemon_json() or {})["insecure-registries"] or {}) do v[#v + 1] = r end
      if #v > 0 then return "WARN", "insecure registries: " .. table.concat(v, ", ") end
      return "PASS", "none"
    end,
  },
  daemon {
    id = "2.6", title = "Ensure aufs storage driver is not used",
    remediation = "Use overlay2 (\"storage-driver\": \"overlay2\").",
    run = function()
      local v, where = cis.daemon_opt("storage-driver")
      if v == "aufs" then return "WARN", where .. " = aufs" end
      return "PASS", where .. (v and (" = " .. tostring(v)) or "")
    end,
  },
  daemon {
    id = "2.7", title = "Ensure TLS authentication for Docker daemon is configured", compliance = "transport-security",
    remediation = "When dockerd listens on TCP, set tlsverify, tlscacert, tlscert and tlskey.",
    run = function()
      local tcp = {}
      for _, h in ipairs(hosts()) do if tostring(h):match("^tcp://") then tcp[#tcp + 1] = h end end
      if #tcp == 0 then return "PASS", "dockerd does not listen on TCP" end
      local missing = {}
      for _, k in ipairs({ "tlsverify", "tlscacert", "tlscert", "tlskey" }) do
        if not is_set((cis.daemon_opt(k))) then missing[#missing + 1] = k end
      end
      if #missing > 0 then return "WARN", table.concat(tcp, ", ") .. " without " .. table.concat(missing, ", ") end
      return "PASS", table.concat(tcp, ", ") .. " with TLS verification"
    end,
  },
  daemon {
    id = "2.8", title = "Ensure the default ulimit is configured appropriately", automated = false,
    compliance = "resource-limits",
    remediation = "Set \"default-ulimits\" in daemon.json for nofile and nproc.",
    run = function()
      local v = cis.daemon_opt("default-ulimits") or cis.daemon_opt("default-ulimit")
      if is_set(v) then return "PASS", "default-ulimits set" end
      return "INFO", "default-ulimits not set: review the limits the containers need"
    end,
  },
  daemon {
    id = "2.9", title = "Enable user namespace support", level = 2, compliance = "isolation",
    remediation = "Set \"userns-remap\": \"default\" in daemon.json.",
    run = function()
      local v, where = cis.daemon_opt("userns-remap")
      if is_set(v) then return "PASS", where .. " = " .. tostring(v) end
      return "WARN", where
    end,
  },
  daemon {
    id = "2.10", title = "Ensure the default cgroup usage has been confirmed", compliance = "resource-limits",
    remediation = "Leave cgroup-parent at its default unless a dedicated parent is planned.",
    run = function()
      local v, where = cis.daemon_opt("cgroup-parent")
      if is_set(v) then return "INFO", where .. " = " .. tostring(v) .. ": confirm it is intended" end
      return "PASS", "default cgroup parent"
    end,
  },
  daemon {
    id = "2.11", title = "Ensure base device size is not changed until needed", level = 2,
    compliance = "resource-limits",
    remediation = "Remove dm.basesize from storage-opts.",
    run = function()
      local opts = cis.flag_value(cis.process_args("dockerd"), "storage-opt", true)
      for _, o in ipairs((cis.daemon_json() or {})["storage-opts"] or {}) do opts[#opts + 1] = o end
      for _, o in ipairs(opts) do
        if tostring(o):match("^dm%.basesize") then return "WARN", "storage-opt " .. o end
      end
      return "PASS", "dm.basesize not set"
    end,
  },
  daemon {
    id = "2.12", title = "Ensure that authorization for Docker client commands is enabled", level = 2,
    compliance = "access-control",
    remediation = "Install an authorization plugin and set \"authorization-plugins\".",
    run = function()
      local v, where = cis.daemon_opt("authorization-plugin")
      if not is_set(v) then v, where = cis.daemon_opt("authorization-plugins") end
      if is_set(v) then return "PASS", where end
      return "WARN", "no authorization plugin"
    end,
  },
  daemon {
    id = "2.13", title = "Ensure centralized and remote logging is configured", level = 2, compliance = "logging",
    remediation = "Set \"log-driver\" to syslog, journald, fluentd, gelf, splunk or awslogs.",
    run = function()
      local v, where = cis.daemon_opt("log-driver")
      if v == nil or v == "json-file" or v == "local" or v == "none" then
        return "WARN", where .. (v and (" = " .. tostring(v)) or " (json-file)")
      end
      return "PASS", where .. " = " .. tostring(v)
    end,
  },
  daemon {
    id = "2.14", title = "Ensure containers are restricted from acquiring new privileges",
    compliance = "least-privilege",
    remediation = "Set \"no-new-privileges\": true in daemon.json.",
    run = function()
      local v, where = cis.daemon_opt("no-new-privileges")
      if cis.truthy(v) then return "PASS", where end
      return "WARN", where
    end,
  },
  daemon {
    id = "2.15", title = "Ensure live restore is enabled", compliance = "availability",
    remediation = "Set \"live-restore\": true in daemon.json.",
    run = function()
      local v, where = cis.daemon_opt("live-restore")
      if cis.truthy(v) then return "PASS", where end
      return "WARN", where
    end,
  },
  daemon {
    id = "2.16", title = "Ensure Userland Proxy is Disabled", compliance = "network-segmentation",
    remediation = "Set \"userland-proxy\": false in daemon.json.",
    run = function()
      local v, where = cis.daemon_opt("userland-proxy")
      if v == false or v == "false" then return "PASS", where .. " = false" end
      return "WARN", where
    end,
  },
  daemon {
    id = "2.17", title = "Ensure that a daemon-wide custom seccomp profile is applied if appropriate", level = 2,
    compliance = "mandatory-access-control",
    remediation = "Keep the default seccomp profile, or set \"seccomp-profile\" to a reviewed profile; "
        .. "never unconfined.",
    run = function()
      local v, where = cis.daemon_opt("seccomp-profile")
      if v == "unconfined" then return "WARN", where .. " = unconfined" end
      return "PASS", where .. (v and (" = " .. tostring(v)) or " (default profile)")
    end,
  },
  daemon {
    id = "2.18", title = "Ensure that experimental features are not implemented in production",
    remediation = "Remove --experimental / \"experimental\": true.",
    run = function()
      local v, where = cis.daemon_opt("experimental")
      if cis.truthy(v) then return "WARN", where end
      return "PASS", where
    end,
  },
}
