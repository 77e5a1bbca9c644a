-- CIS Docker Benchmark 1.6.0, section 5: the container runtime, read from
-- each container's OCI config.json (and Docker's hostconfig.json for what
-- only Docker knows: published ports, network mode, health checks).

local function rt(t)
  t.level = t.level or 1
  t.automated = true
  t.scored = true
  t.target = "containers"
  local fn = t.check
  t.check = nil
  t.run = function(ctx) return cis.each_container(ctx, fn) end
  return t
end

-- Docker's own record of a container, when Docker runs it.
local function docker_host_config(c)
  return cis.read_json("/var/lib/docker/containers/" .. c.id .. "/hostconfig.json")
end
local function docker_config(c)
  return cis.read_json("/var/lib/docker/containers/" .. c.id .. "/config.v2.json")
end

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
  rt {
    id = "5.1", title = "Ensure that, if applicable, an AppArmor Profile is enabled",
    compliance = "mandatory-access-control",
    remediation = "Run containers with an AppArmor profile (docker-default or your own).",
    check = function(_, cfg)
      local p = (cfg.process or {}).apparmorProfile
      if not p or p == "" or p == "unconfined" then return "no AppArmor profile" end
    end,
  },
  rt {
    id = "5.2", title = "Ensure that, if applicable, SELinux security options are set", level = 2,
    compliance = "mandatory-access-control",
    remediation = "Run the daemon with --selinux-enabled and give containers an SELinux label.",
    check = function(_, cfg)
      local l = (cfg.process or {}).selinuxLabel
      if not l or l == "" then return "no SELinux label" end
    end,
  },
  rt {
    id = "5.3", title = "Ensure that Linux kernel capabilities are restricted within containers",
    compliance = "least-privilege",
    remediation = "Drop capabilities the service does not need (--cap-drop=ALL --cap-add=...).",
    check = function(_, cfg)
      local extra = {}
      for cap in pairs(cis.caps_of(cfg)) do if not DEFAULT_CAPS[cap] then extra[#extra + 1] = cap end end
      table.sort(extra)
      if #extra > 0 then return "adds " .. table.concat(extra, ",") end
    end,
  },
  rt {
    id = "5.4", title = "Ensure that privileged containers are not used", compliance = "least-privilege",
    remediation = "Do not run containers with --privileged.",
    check = function(_, cfg) if cis.is_privileged(cfg) then return "privileged" end end,
  },
  rt {
    id = "5.5", title = "Ensure sensitive host system directories are not mounted on containers",
    compliance = { "isolation", "integrity" },
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
    id = "5.6", title = "Ensure sshd is not run within containers", compliance = "minimal-software",
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
    id = "5.7", title = "Ensure privileged ports are not mapped within containers",
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
    id = "5.9", title = "Ensure that the host's network namespace is not shared", compliance = "isolation",
    remediation = "Do not use --network=host.",
    check = ns_shared("network", "network"),
  },
  rt {
    id = "5.10", title = "Ensure that the memory usage for containers is limited", compliance = "resource-limits",
    remediation = "Run containers with --memory.",
    check = function(_, cfg)
      local m = (((cfg.linux or {}).resources or {}).memory or {}).limit
      if not m or m <= 0 then return "no memory limit" end
    end,
  },
  rt {
    id = "5.11", title = "Ensure that CPU priority is set appropriately on containers", compliance = "resource-limits",
    remediation = "Run containers with --cpu-shares (or a CPU quota).",
    check = function(_, cfg)
      local cpu = ((cfg.linux or {}).resources or {}).cpu or {}
      if not ((cpu.shares and cpu.shares > 0 and cpu.shares ~= 1024) or (cpu.quota and cpu.quota > 0)) then
        return "no CPU shares or quota"
      end
    end,
  },
  rt {
    id = "5.12", title = "Ensure that the container's root filesystem is mounted as read only",
    compliance = "integrity",
    remediation = "Run containers with --read-only and mount volumes for the paths that must be written.",
    check = function(_, cfg) if not (cfg.root or {}).readonly then return "root filesystem is writable" end end,
  },
  rt {
    id = "5.13", title = "Ensure that incoming container traffic is bound to a specific host interface",
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
    id = "5.15", title = "Ensure that the host's process namespace is not shared", compliance = "isolation",
    remediation = "Do not use --pid=host.",
    check = ns_shared("pid", "PID"),
  },
  rt {
    id = "5.16", title = "Ensure that the host's IPC namespace is not shared", compliance = "isolation",
    remediation = "Do not use --ipc=host.",
    check = ns_shared("ipc", "IPC"),
  },
  rt {
    id = "5.17", title = "Ensure that host devices are not directly exposed to containers", compliance = "isolation",
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
    id = "5.19", title = "Ensure mount propagation mode is not set to shared", compliance = "isolation",
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
    id = "5.20", title = "Ensure that the host's UTS namespace is not shared", compliance = "isolation",
    remediation = "Do not use --uts=host.",
    check = ns_shared("uts", "UTS"),
  },
  rt {
    id = "5.21", title = "Ensure the default seccomp profile is not Disabled", compliance = "mandatory-access-control",
    remediation = "Do not use --security-opt seccomp=unconfined.",
    check = function(_, cfg)
      local s = (cfg.linux or {}).seccomp
      if not s or (s.defaultAction == "SCMP_ACT_ALLOW" and #(s.syscalls or {}) == 0) then return "no seccomp filter" end
    end,
  },
  rt {
    id = "5.25", title = "Ensure that the container is restricted from acquiring additional privileges",
    compliance = "least-privilege",
    remediation = "Run containers with --security-opt=no-new-privileges.",
    check = function(_, cfg) if not (cfg.process or {}).noNewPrivileges then return "noNewPrivileges is off" end end,
  },
  rt {
    id = "5.26", title = "Ensure that container health is checked at runtime", compliance = "availability",
    remediation = "Give the image a HEALTHCHECK or run with --health-cmd.",
    check = function(c)
      local dc = docker_config(c)
      if dc and not ((dc.Config or {}).Healthcheck or {}).Test then return "no health check" end
    end,
  },
  rt {
    id = "5.28", title = "Ensure that the PIDs cgroup limit is used", compliance = "resource-limits",
    remediation = "Run containers with --pids-limit.",
    check = function(_, cfg)
      local p = (((cfg.linux or {}).resources or {}).pids or {}).limit
      if not p or p <= 0 then return "no PIDs limit" end
    end,
  },
  rt {
    id = "5.29", title = "Ensure that Docker's default bridge \"docker0\" is not used", level = 2,
    compliance = "network-segmentation",
    remediation = "Attach containers to user-defined networks.",
    check = function(c)
      local hc = docker_host_config(c)
      if hc and (hc.NetworkMode == "default" or hc.NetworkMode == "bridge") then return "on docker0" end
    end,
  },
  rt {
    id = "5.31", title = "Ensure that the Docker socket is not mounted inside any containers",
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
    id = "4.1", title = "Ensure that containers do not run as root", compliance = "least-privilege",
    remediation = "Set USER in the image or run with --user; give the runtime user namespaces.",
    check = function(_, cfg)
      local u = (cfg.process or {}).user or {}
      if (u.uid or 0) == 0 and not cis.has_namespace(cfg, "user") then return "runs as uid 0" end
    end,
  },
}
