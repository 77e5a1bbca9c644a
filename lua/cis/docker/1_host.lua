-- CIS Docker Benchmark 1.6.0, section 1: host configuration (the partition
-- for containers and the audit rules for the runtime's files and binaries).

local function audit(id, title, paths)
  return {
    id = id, title = title, level = 2, automated = true, scored = true, target = "host",
    compliance = "audit",
    remediation = "Add `-w " .. paths[1] .. " -k docker` to /etc/audit/rules.d/docker.rules and restart auditd.",
    run = cis.docker_check(cis.audit_check(paths)),
  }
end

return {
  {
    id = "1.1.1", title = "Ensure a separate partition for containers has been created",
    level = 2, automated = true, scored = true, target = "host", compliance = "availability",
    remediation = "Create /var/lib/docker on its own logical volume and mount it there.",
    run = cis.docker_check(function()
      for _, line in ipairs(cis.lines("/proc/mounts") or {}) do
        if cis.words(line)[2] == "/var/lib/docker" then return "PASS", line end
      end
      return "WARN", "/var/lib/docker is not a mount point"
    end),
  },
  audit("1.1.3", "Ensure auditing is configured for the Docker daemon", { "/usr/bin/dockerd", "/usr/bin/docker" }),
  audit("1.1.4", "Ensure auditing is configured for Docker files and directories - /run/containerd",
        { "/run/containerd" }),
  audit("1.1.5", "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
        { "/var/lib/docker" }),
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
}
