-- CIS Docker Benchmark 1.6.0, section 5: the container runtime, read from
-- each container's OCI config.json (and Docker's hostconfig.json and
-- config.v2.json, under dockerd's --data-root, for what only Docker knows:
-- published ports, network mode, restart policy, health checks). The ids and
-- titles are v1.6.0's, as docker-bench-security prints them; where vigil's
-- verdict differs from docker-bench's on purpose, the check's `why` says so.

local function rt(t)
  t.level = t.level or 1
  t.automated = t.automated ~= false
  t.scored = true
  t.target = "containers"
  local fn, found, applies = t.check, t.found, t.applies
  t.check, t.found, t.applies = nil, nil, nil
  t.run = function(ctx)
    -- "If applicable": a check of a feature the host does not have is
    -- not a finding (PASS, saying why), never a WARN.
    if applies then
      local ok, why = applies()
      if not ok then return "PASS", "not applicable: " .. why end
    end
    local s, ev = cis.each_container(ctx, fn)
    if s == "WARN" and found then s = found end
    return s, ev
  end
  return t
end

local docker_host_config, docker_config = cis.docker_host_config, cis.docker_config

-- The capabilities Docker grants by default; anything beyond is an addition.
local DEFAULT_CAPS = {
  CAP_CHOWN = true, CAP_DAC_OVERRIDE = true, CAP_FSETID = true, CAP_FOWNER = true, CAP_MKNOD = true,
  CAP_NET_RAW = true, CAP_SETGID = true, CAP_SETUID = true, CAP_SETFCAP = true, CAP_SETPCAP = true,
  CAP_NET_BIND_SERVICE = true, CAP_SYS_CHROOT = true, CAP_KILL = true, CAP_AUDIT_WRITE = true,
}

-- Devices every runtime gives every container.
local HARMLESS_DEVICES = { ["/dev/null"] = true, ["/dev/zero"] = true, ["/dev/full"] = true,
                           ["/dev/random"] = true, ["/dev/urandom"] = true, ["/dev/tty"] = true,
                           ["/dev/console"] = true, ["/dev/ptmx"] = true }

local SENSITIVE = { "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr" }
local SOCKETS = { "docker.sock", "containerd.sock", "crio.sock", "podman.sock" }

local function ns_shared(kind, label)
  return function(_, cfg)
    if not cis.has_namespace(cfg, kind) then return "shares the host's " .. label .. " namespace" end
  end
end

return {
  {
    id = "5.1", title = "Ensure swarm mode is not Enabled, if not needed", level = 1, automated = true,
    scored = true, target = "containers", compliance = "network-segmentation",
    remediation = "Run `docker swarm leave` on a node that does not need to be part of a swarm.",
    run = cis.docker_check(function()
      local dir = cis.docker_root() .. "/swarm"
      if cis.swarm_active() then return "WARN", "swarm mode is active (" .. dir .. " holds the node's swarm state)" end
      return "PASS", "swarm mode is not active (no swarm state in " .. dir .. ")"
    end),
  },
  rt {
    id = "5.2", title = "Ensure that, if applicable, an AppArmor Profile is enabled",
    compliance = "mandatory-access-control",
    description = "Not applicable, and so PASS, on a host whose kernel has AppArmor disabled (docker-bench WARNs "
        .. "there, since Docker then reports no profile).",
    remediation = "Run containers with an AppArmor profile (docker-default or your own).",
    applies = function()
      if cis.apparmor_enabled() then return true end
      return false, "AppArmor is not enabled in this host's kernel"
    end,
    check = function(_, cfg)
      local p = (cfg.process or {}).apparmorProfile
      if not p or p == "" or p == "unconfined" then return "no AppArmor profile" end
    end,
  },
  rt {
    id = "5.3", title = "Ensure that, if applicable, SELinux security options are set", level = 2,
    compliance = "mandatory-access-control",
    description = "Not applicable, and so PASS, on a host without SELinux (docker-bench WARNs for any container "
        .. "without --security-opt there, and PASSes one with an unrelated option such as no-new-privileges).",
    remediation = "Run the daemon with --selinux-enabled and give containers an SELinux label.",
    applies = function()
      if cis.selinux_enabled() then return true end
      return false, "SELinux is not enabled on this host"
    end,
    check = function(_, cfg)
      local l = (cfg.process or {}).selinuxLabel
      if not l or l == "" then return "no SELinux label" end
    end,
  },
  rt {
    id = "5.4", title = "Ensure that Linux kernel capabilities are restricted within containers",
    compliance = "least-privilege",
    description = "Reads the capabilities the container has, so a --privileged container WARNs here too "
        .. "(docker-bench reads --cap-add only).",
    remediation = "Drop capabilities the service does not need (--cap-drop=ALL --cap-add=...).",
    check = function(_, cfg)
      local extra = {}
      for cap in pairs(cis.caps_of(cfg)) do if not DEFAULT_CAPS[cap] then extra[#extra + 1] = cap end end
      table.sort(extra)
      if #extra > 0 then return "adds " .. table.concat(extra, ",") end
    end,
  },
  rt {
    id = "5.5", title = "Ensure that privileged containers are not used", compliance = "least-privilege",
    remediation = "Do not run containers with --privileged.",
    check = function(c, cfg)
      local hc = docker_host_config(c)
      if (hc and hc.Privileged) or cis.is_privileged(cfg) then return "privileged" end
    end,
  },
  rt {
    id = "5.6", title = "Ensure sensitive host system directories are not mounted on containers",
    compliance = { "isolation", "integrity" },
    description = "A read-only mount WARNs too (docker-bench flags read-write ones): a read-only host /etc still "
        .. "hands the container /etc/shadow.",
    remediation = "Do not bind-mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr into containers.",
    check = function(_, cfg)
      local bad = {}
      for _, m in ipairs(cis.bind_mounts(cfg)) do
        for _, s in ipairs(SENSITIVE) do
          if m.source == s then bad[#bad + 1] = m.source .. (m.rw and " (rw)" or " (ro)") end
        end
      end
      if #bad > 0 then return "mounts " .. table.concat(bad, ", ") end
    end,
  },
  rt {
    id = "5.7", title = "Ensure sshd is not run within containers", compliance = "minimal-software",
    remediation = "Remove sshd from the image; use docker exec for access.",
    check = function(c, cfg)
      for _, a in ipairs((cfg.process or {}).args or {}) do
        if a:match("sshd") then return "runs " .. a end
      end
      -- Processes of the container seen from the host: those in its init's
      -- cgroup. (Namespace links are magic links, which the root
      -- confinement refuses to follow, so they cannot be compared.)
      local cg = c.pid and c.pid > 0 and cis.read("/proc/" .. c.pid .. "/cgroup", 65536)
      for _, p in ipairs(cg and cis.processes() or {}) do
        if p.comm == "sshd" and cis.read("/proc/" .. p.pid .. "/cgroup", 65536) == cg then
          return "sshd running (pid " .. p.pid .. ")"
        end
      end
    end,
  },
  rt {
    id = "5.8", title = "Ensure privileged ports are not mapped within containers",
    compliance = "network-segmentation",
    remediation = "Publish container ports on host ports above 1023.",
    check = function(c)
      local hc = docker_host_config(c)
      local bad = {}
      for port, binds in pairs((hc or {}).PortBindings or {}) do
        for _, b in ipairs(binds or {}) do
          local hp = tonumber(b.HostPort)
          if hp and hp > 0 and hp < 1024 then bad[#bad + 1] = port .. " -> " .. hp end
        end
      end
      table.sort(bad)
      if #bad > 0 then return "publishes " .. table.concat(bad, ", ") end
    end,
  },
  rt {
    id = "5.10", title = "Ensure that the host's network namespace is not shared", compliance = "isolation",
    remediation = "Do not use --network=host.",
    check = function(c, cfg)
      -- Docker joins a --network=host container to <exec-root>/netns/default,
      -- its bind mount of the host's namespace: the OCI config then has a
      -- network namespace, but it is the host's.
      local hc = docker_host_config(c)
      if hc and hc.NetworkMode == "host" then return "--network=host" end
      for _, ns in ipairs(((cfg.linux or {}).namespaces) or {}) do
        if ns.type == "network" and type(ns.path) == "string"
            and (ns.path:sub(-14) == "/netns/default" or ns.path == "/proc/1/ns/net") then
          return "joins the host's network namespace (" .. ns.path .. ")"
        end
      end
      return ns_shared("network", "network")(c, cfg)
    end,
  },
  rt {
    id = "5.11", title = "Ensure that the memory usage for containers is limited", compliance = "resource-limits",
    remediation = "Run containers with --memory.",
    check = function(_, cfg)
      local m = (((cfg.linux or {}).resources or {}).memory or {}).limit
      if not m or m <= 0 then return "no memory limit" end
    end,
  },
  rt {
    id = "5.12", title = "Ensure that CPU priority is set appropriately on containers", compliance = "resource-limits",
    description = "A CPU quota (--cpus) counts as a CPU limit as well as --cpu-shares "
        .. "(docker-bench reads the shares only).",
    remediation = "Run containers with --cpu-shares (or a CPU quota).",
    check = function(_, cfg)
      local cpu = ((cfg.linux or {}).resources or {}).cpu or {}
      if not ((cpu.shares and cpu.shares > 0 and cpu.shares ~= 1024) or (cpu.quota and cpu.quota > 0)) then
        return "no CPU shares or quota"
      end
    end,
  },
  rt {
    id = "5.13", title = "Ensure that the container's root filesystem is mounted as read only",
    compliance = "integrity",
    remediation = "Run containers with --read-only and mount volumes for the paths that must be written.",
    check = function(_, cfg) if not (cfg.root or {}).readonly then return "root filesystem is writable" end end,
  },
  rt {
    id = "5.14", title = "Ensure that incoming container traffic is bound to a specific host interface",
    compliance = "network-segmentation",
    remediation = "Publish ports on one address: -p 10.0.0.5:8080:80.",
    check = function(c)
      local bad = {}
      for port, binds in pairs(((docker_host_config(c) or {}).PortBindings) or {}) do
        for _, b in ipairs(binds or {}) do
          if b.HostIp == nil or b.HostIp == "" or b.HostIp == "0.0.0.0" or b.HostIp == "::" then
            bad[#bad + 1] = port
          end
        end
      end
      table.sort(bad)
      if #bad > 0 then return "publishes " .. table.concat(bad, ", ") .. " on every interface" end
    end,
  },
  rt {
    id = "5.15", title = "Ensure that the 'on-failure' container restart policy is set to '5'",
    compliance = "availability",
    description = "on-failure without a count (restarts without end) WARNs as well as a count above 5.",
    remediation = "Restart on failure a bounded number of times: --restart=on-failure:5.",
    check = function(c)
      local rp = (docker_host_config(c) or {}).RestartPolicy
      if not rp then return nil end
      local n = tonumber(rp.MaximumRetryCount) or 0
      if n > 5 then return "restart policy " .. tostring(rp.Name) .. ":" .. n .. " (more than 5 retries)" end
      if rp.Name == "on-failure" and n == 0 then return "restart policy on-failure without a retry count" end
    end,
  },
  rt {
    id = "5.16", title = "Ensure that the host's process namespace is not shared", compliance = "isolation",
    remediation = "Do not use --pid=host.",
    check = ns_shared("pid", "PID"),
  },
  rt {
    id = "5.17", title = "Ensure that the host's IPC namespace is not shared", compliance = "isolation",
    remediation = "Do not use --ipc=host.",
    check = ns_shared("ipc", "IPC"),
  },
  rt {
    id = "5.18", title = "Ensure that host devices are not directly exposed to containers", compliance = "isolation",
    description = "WARN where docker-bench says INFO (the benchmark lists it as manual): a host device is a way "
        .. "around the container's isolation that a reviewer should see.",
    remediation = "Do not use --device unless the service needs it.",
    check = function(_, cfg)
      local d = {}
      for _, dev in ipairs((cfg.linux or {}).devices or {}) do
        if not HARMLESS_DEVICES[dev.path or ""] then d[#d + 1] = dev.path or "?" end
      end
      if #d > 0 then return "devices " .. table.concat(d, ", ") end
    end,
  },
  rt {
    id = "5.20", title = "Ensure mount propagation mode is not set to shared", compliance = "isolation",
    remediation = "Do not mount volumes with shared or rshared propagation.",
    check = function(_, cfg)
      local bad = {}
      if ((cfg.linux or {}).rootfsPropagation or ""):match("shared") and
          not ((cfg.linux or {}).rootfsPropagation):match("unshared") then
        bad[#bad + 1] = "rootfs " .. cfg.linux.rootfsPropagation
      end
      for _, m in ipairs(cfg.mounts or {}) do
        for _, o in ipairs(m.options or {}) do
          if o == "shared" or o == "rshared" then bad[#bad + 1] = (m.destination or "?") .. " " .. o end
        end
      end
      if #bad > 0 then return "shared propagation: " .. table.concat(bad, ", ") end
    end,
  },
  rt {
    id = "5.21", title = "Ensure that the host's UTS namespace is not shared", compliance = "isolation",
    remediation = "Do not use --uts=host.",
    check = ns_shared("uts", "UTS"),
  },
  rt {
    id = "5.22", title = "Ensure the default seccomp profile is not Disabled", compliance = "mandatory-access-control",
    remediation = "Do not use --security-opt seccomp=unconfined.",
    check = function(_, cfg)
      local s = (cfg.linux or {}).seccomp
      if not s or (s.defaultAction == "SCMP_ACT_ALLOW" and #(s.syscalls or {}) == 0) then return "no seccomp filter" end
    end,
  },
  {
    id = "5.23", title = "Ensure that docker exec commands are not used with the privileged option", level = 2,
    automated = true, scored = true, target = "containers", compliance = "least-privilege",
    description = "NOTE, as docker-bench: `docker exec` sessions leave nothing on disk to check; "
        .. "they show in the daemon's API log and in vigil's process events.",
    remediation = "Do not use docker exec --privileged.",
    run = function() return "NOTE", "review docker exec sessions in the daemon's logs or vigil's process events" end,
  },
  rt {
    id = "5.25", title = "Ensure that cgroup usage is confirmed", compliance = "resource-limits",
    remediation = "Leave --cgroup-parent unset unless the container is meant to run under another cgroup.",
    check = function(c)
      local p = (docker_host_config(c) or {}).CgroupParent
      if p and p ~= "" then return "cgroup parent " .. p end
    end,
  },
  rt {
    id = "5.26", title = "Ensure that the container is restricted from acquiring additional privileges",
    compliance = "least-privilege",
    description = "Reads the flag the container runs with, so the daemon-wide no-new-privileges counts "
        .. "(docker-bench looks for the container's own --security-opt only).",
    remediation = "Run containers with --security-opt=no-new-privileges.",
    check = function(_, cfg) if not (cfg.process or {}).noNewPrivileges then return "noNewPrivileges is off" end end,
  },
  rt {
    id = "5.27", title = "Ensure that container health is checked at runtime", compliance = "availability",
    remediation = "Give the image a HEALTHCHECK or run with --health-cmd.",
    check = function(c)
      local dc = docker_config(c)
      local hc = dc and (dc.Config or {}).Healthcheck
      if dc and not (hc and hc.Test and hc.Test[1] ~= "NONE") then return "no health check" end
    end,
  },
  rt {
    id = "5.29", title = "Ensure that the PIDs cgroup limit is used", compliance = "resource-limits",
    remediation = "Run containers with --pids-limit.",
    check = function(_, cfg)
      local p = (((cfg.linux or {}).resources or {}).pids or {}).limit
      if not p or p <= 0 then return "no PIDs limit" end
    end,
  },
  rt {
    id = "5.30", title = "Ensure that Docker's default bridge \"docker0\" is not used", level = 2,
    automated = false, found = "INFO", compliance = "network-segmentation",
    remediation = "Attach containers to user-defined networks.",
    check = function(c)
      local hc = docker_host_config(c)
      if hc and (hc.NetworkMode == "default" or hc.NetworkMode == "bridge") then return "on docker0" end
    end,
  },
  rt {
    id = "5.31", title = "Ensure that the host's user namespaces are not shared", compliance = "isolation",
    remediation = "Do not use --userns=host.",
    check = function(c)
      local hc = docker_host_config(c)
      if hc and hc.UsernsMode == "host" then return "--userns=host" end
    end,
  },
  rt {
    id = "5.32", title = "Ensure that the Docker socket is not mounted inside any containers",
    compliance = { "least-privilege", "isolation" },
    remediation = "Do not bind-mount the runtime's socket into containers.",
    check = function(_, cfg)
      for _, m in ipairs(cis.bind_mounts(cfg)) do
        for _, s in ipairs(SOCKETS) do
          if m.source:sub(-#s) == s then return "mounts " .. m.source end
        end
      end
    end,
  },
  rt {
    id = "4.1", title = "Ensure that a user for the container has been created", compliance = "least-privilege",
    remediation = "Set USER in the image or run with --user; give the runtime user namespaces.",
    check = function(_, cfg)
      local u = (cfg.process or {}).user or {}
      if (u.uid or 0) == 0 and not cis.has_namespace(cfg, "user") then return "runs as uid 0" end
    end,
  },
}
