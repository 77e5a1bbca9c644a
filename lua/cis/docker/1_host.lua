-- CIS Docker Benchmark 1.6.0, section 1: host configuration (the partition
-- for containers and the audit rules for the runtime's files and binaries).

-- paths: where the file is; or `where`, a function naming it at run time
-- (dockerd's --data-root for 1.1.5).
local function audit(id, title, paths, where)
  local run = cis.audit_check(paths)
  if where then run = function(ctx) return cis.audit_check({ where() })(ctx) end end
  return {
    id = id, title = title, level = 2, automated = true, scored = true, target = "host",
    compliance = "audit",
    remediation = "Add `-w " .. paths[1] .. " -k docker` to /etc/audit/rules.d/docker.rules and restart auditd.",
    run = cis.docker_check(run),
  }
end

return {
  {
    id = "1.1.1", title = "Ensure a separate partition for containers has been created",
    level = 2, automated = true, scored = true, target = "host", compliance = "availability",
    description = "Reads the mount table (mountinfo): dockerd bind-mounts its data root onto itself to "
        .. "make it private, which is a mount point but no partition of its own, so only a file system "
        .. "mounted at its root passes (docker-bench's `mountpoint` PASSes the bind mount).",
    remediation = "Create the data root (/var/lib/docker) on its own logical volume and mount it there.",
    run = cis.docker_check(function()
      local dir = cis.docker_root()
      for _, line in ipairs(cis.lines("/proc/self/mountinfo") or {}) do
        local w = cis.words(line)
        -- id parent major:minor root mount-point options ... - fstype source
        if w[5] == dir then
          if w[4] == "/" then return "PASS", dir .. " is a file system of its own: " .. line end
          return "WARN", dir .. " is a bind mount of " .. tostring(w[4]) .. " (no partition of its own)"
        end
      end
      return "WARN", dir .. " is not a mount point"
    end),
  },
  {
    id = "1.1.2", title = "Ensure only trusted users are allowed to control Docker daemon", level = 1,
    automated = true, scored = true, target = "host", compliance = "access-control",
    description = "INFO listing the members of the docker group, as docker-bench does: whether they "
        .. "are trusted is the reviewer's call.",
    remediation = "Remove untrusted users from the docker group (gpasswd -d <user> docker).",
    run = cis.docker_check(function()
      for _, line in ipairs(cis.lines("/etc/group") or {}) do
        local f = cis.split(line, ":")
        if f[1] == "docker" then
          local users = f[4] and f[4] ~= "" and f[4] or "none"
          return "INFO", "docker group (gid " .. tostring(f[3]) .. ") members: " .. users
        end
      end
      return "INFO", "no docker group: only root can use the socket"
    end),
  },
  audit("1.1.3", "Ensure auditing is configured for the Docker daemon", { "/usr/bin/dockerd", "/usr/bin/docker" }),
  audit("1.1.4", "Ensure auditing is configured for Docker files and directories - /run/containerd",
        { "/run/containerd" }),
  audit("1.1.5", "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
        { "/var/lib/docker" }, cis.docker_root),
  audit("1.1.6", "Ensure auditing is configured for Docker files and directories - /etc/docker", { "/etc/docker" }),
  audit("1.1.7", "Ensure auditing is configured for Docker files and directories - docker.service",
        { "/lib/systemd/system/docker.service", "/usr/lib/systemd/system/docker.service" }),
  audit("1.1.8", "Ensure auditing is configured for Docker files and directories - containerd.sock",
        { "/run/containerd/containerd.sock" }),
  audit("1.1.9", "Ensure auditing is configured for Docker files and directories - docker.socket",
        { "/lib/systemd/system/docker.socket", "/usr/lib/systemd/system/docker.socket" }),
  audit("1.1.10", "Ensure auditing is configured for Docker files and directories - /etc/default/docker",
        { "/etc/default/docker" }),
  audit("1.1.11", "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json",
        { "/etc/docker/daemon.json" }),
  audit("1.1.12", "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml",
        { "/etc/containerd/config.toml" }),
  audit("1.1.13", "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker",
        { "/etc/sysconfig/docker" }),
  audit("1.1.14", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd",
        { "/usr/bin/containerd" }),
  audit("1.1.15", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim",
        { "/usr/bin/containerd-shim" }),
  audit("1.1.16", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1",
        { "/usr/bin/containerd-shim-runc-v1" }),
  audit("1.1.17", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2",
        { "/usr/bin/containerd-shim-runc-v2" }),
  audit("1.1.18", "Ensure auditing is configured for Docker files and directories - /usr/bin/runc",
        { "/usr/bin/runc", "/usr/sbin/runc" }),
  {
    id = "1.2.1", title = "Ensure the container host has been Hardened", level = 1, automated = false,
    scored = false, target = "host", compliance = "host-hardening",
    remediation = "Harden the host to a security benchmark for its distribution (CIS Linux).",
    run = function()
      return "INFO", "the host's own hardening: see the results of benchmark `linux` in this report "
          .. "(vigil-scan bench --target host)"
    end,
  },
  {
    id = "1.2.2", title = "Ensure that the version of Docker is up to date", level = 1, automated = false,
    scored = false, target = "host", compliance = "patching",
    description = "INFO with the installed package's version (dpkg): whether it has the vendor's "
        .. "latest security fixes is for the package manager to say (docker-bench compares the version "
        .. "number with the current month).",
    remediation = "Keep the Docker packages up to date with your distribution's security updates.",
    run = cis.docker_check(function()
      local want = { ["docker.io"] = true, ["docker-ce"] = true, ["moby-engine"] = true }
      local pkg, found = nil, {}
      for _, l in ipairs(cis.lines("/var/lib/dpkg/status", 16 << 20) or {}) do
        if l:sub(1, 9) == "Package: " then
          pkg = l:sub(10)
        elseif pkg and want[pkg] and l:sub(1, 9) == "Version: " then
          found[#found + 1] = pkg .. " " .. l:sub(10)
        end
      end
      if #found == 0 then return "INFO", "no Docker package in the dpkg database: check the version by hand" end
      return "INFO", "installed: " .. table.concat(found, ", ") .. "; compare with your vendor's security updates"
    end),
  },
}
