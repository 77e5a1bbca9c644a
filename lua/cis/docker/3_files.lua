-- CIS Docker Benchmark 1.6.0, section 3: ownership and permissions of the
-- daemon's units, sockets, configuration and certificates.

local UNIT = { "/lib/systemd/system/docker.service", "/usr/lib/systemd/system/docker.service",
               "/etc/systemd/system/docker.service" }
local SOCKET_UNIT = { "/lib/systemd/system/docker.socket", "/usr/lib/systemd/system/docker.socket",
                      "/etc/systemd/system/docker.socket" }

local function certs_d()
  return cis.files_under("/etc/docker/certs.d", 2)
end

-- The TLS files named by the daemon's configuration.
local function tls_file(key)
  return function()
    local v = cis.daemon_opt(key)
    return v and { tostring(v) } or {}
  end
end

local function files(title_owner, title_mode, id_owner, id_mode, paths, mode, extra)
  extra = extra or {}
  local function list() return type(paths) == "function" and paths() or paths end
  local function none() return "INFO", "none configured" end
  return {
    id = id_owner, title = title_owner, level = 1, automated = true, scored = true, target = "host",
    compliance = extra.compliance or "file-permissions",
    remediation = "chown root:" .. (extra.group or "root") .. " on the file(s).",
    run = cis.docker_check(function()
      local l = list()
      if #l == 0 then return none() end
      return cis.check_owner(l, extra.groups)
    end),
  }, {
    id = id_mode, title = title_mode, level = 1, automated = true, scored = true, target = "host",
    compliance = extra.compliance or "file-permissions",
    remediation = string.format("chmod %s (or stricter) on the file(s).", mode),
    run = cis.docker_check(function()
      local l = list()
      if #l == 0 then return none() end
      return cis.check_mode(l, mode)
    end),
  }
end

local checks = {}
local function add(...) for _, c in ipairs({ ... }) do checks[#checks + 1] = c end end

add(files("Ensure that the docker.service file ownership is set to root:root",
          "Ensure that docker.service file permissions are appropriately set", "3.1", "3.2", UNIT, "644"))
add(files("Ensure that docker.socket file ownership is set to root:root",
          "Ensure that docker.socket file permissions are set to 644 or more restrictive", "3.3", "3.4",
          SOCKET_UNIT, "644"))
add(files("Ensure that the /etc/docker directory ownership is set to root:root",
          "Ensure that /etc/docker directory permissions are set to 755 or more restrictively", "3.5", "3.6",
          { "/etc/docker" }, "755"))
add(files("Ensure that registry certificate file ownership is set to root:root",
          "Ensure that registry certificate file permissions are set to 444 or more restrictively", "3.7", "3.8",
          certs_d, "444", { compliance = "key-protection" }))
add(files("Ensure that TLS CA certificate file ownership is set to root:root",
          "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively", "3.9", "3.10",
          tls_file("tlscacert"), "444", { compliance = "key-protection" }))
add(files("Ensure that Docker server certificate file ownership is set to root:root",
          "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
          "3.11", "3.12", tls_file("tlscert"), "444", { compliance = "key-protection" }))
add(files("Ensure that the Docker server certificate key file ownership is set to root:root",
          "Ensure that the Docker server certificate key file permissions are set to 400", "3.13", "3.14",
          tls_file("tlskey"), "400", { compliance = "key-protection" }))
add(files("Ensure that the Docker socket file ownership is set to root:docker",
          "Ensure that the Docker socket file permissions are set to 660 or more restrictively", "3.15", "3.16",
          { "/var/run/docker.sock" }, "660", { groups = { "root", "docker" }, group = "docker" }))
add(files("Ensure that the daemon.json file ownership is set to root:root",
          "Ensure that daemon.json file permissions are set to 644 or more restrictive", "3.17", "3.18",
          { "/etc/docker/daemon.json" }, "644"))
add(files("Ensure that the /etc/default/docker file ownership is set to root:root",
          "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively", "3.19", "3.20",
          { "/etc/default/docker" }, "644"))
add(files("Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
          "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively", "3.22", "3.21",
          { "/etc/sysconfig/docker" }, "644"))
add(files("Ensure that the Containerd socket file ownership is set to root:root",
          "Ensure that the Containerd socket file permissions are set to 660 or more restrictively", "3.23", "3.24",
          { "/run/containerd/containerd.sock" }, "660"))
return checks
