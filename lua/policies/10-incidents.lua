-- Built-in incidents: the attacks security teams look for, by name, raised
-- in every mode (learn included) as "proc.incident" events. Each carries
--
--   incident   its name (below)
--   severity   warning, error or critical
--   priority   0-100, higher first: the order to triage in, within and
--              across severities (what the attacker already has, running
--              code, root, a way out of the container, comes first);
--              response rules select with min_priority
--   technique  the MITRE ATT&CK technique id
--   message    one line for a human
--   evidence   { process, pid, program, cmdline, parent, ppid, user, file,
--                target, peer, port, ... }: what was seen, as far as known
--
-- Each can be switched off per group (or for all groups without `group`):
--
--   vigil.incidents{ group = "build", write_below_binary_dir = false }
--
-- and the incidents about a file are tuned by the group's file rules: a
-- file rule that allows the program this access to the path (learned, or
-- written with vigil.rule{ plane = "file", path = ..., program = ...,
-- access = "read" | "write" | "delete" | "link" }) silences it.
--
-- Facts come from the proc plugin (proc.exec, proc.uid), the kern plugin
-- (kern.call, kern.exec, file.read; docs/kern.md) and the network plane
-- (net.connect). Incidents about containers only look at events of a
-- workload; those marked `host` in the catalogue also at the host's
-- (group "nodes"). Events whose workload is not known yet (group "") are
-- left alone, as the modes leave them.

local catalogue = {
  -- processes
  suspicious_process = { severity = "warning", priority = 55, technique = "T1046", host = true },
  reverse_shell = { severity = "critical", priority = 95, technique = "T1059.004", host = true },
  privilege_escalation = { severity = "critical", priority = 90, technique = "T1068", host = true },
  shell_from_service = { severity = "error", priority = 80, technique = "T1190", host = false },
  terminal_shell = { severity = "warning", priority = 45, technique = "T1059.004", host = false },
  container_drift = { severity = "error", priority = 75, technique = "T1105", host = false },
  crypto_miner = { severity = "critical", priority = 85, technique = "T1496", host = false },
  -- files
  sensitive_file_read = { severity = "error", priority = 70, technique = "T1552.001", host = true },
  sensitive_file_link = { severity = "error", priority = 65, technique = "T1555", host = true },
  log_tampering = { severity = "error", priority = 70, technique = "T1070.002", host = true },
  write_below_binary_dir = { severity = "error", priority = 70, technique = "T1554", host = false },
  write_below_etc = { severity = "warning", priority = 50, technique = "T1543", host = false },
  write_kernel_settings = { severity = "error", priority = 75, technique = "T1562", host = false },
  cgroup_release_agent = { severity = "critical", priority = 95, technique = "T1611", host = true },
  -- namespaces, mounts, the kernel
  mount_in_container = { severity = "critical", priority = 85, technique = "T1611", host = false },
  namespace_change = { severity = "critical", priority = 85, technique = "T1611", host = false },
  chroot_in_container = { severity = "error", priority = 65, technique = "T1611", host = false },
  kernel_module = { severity = "critical", priority = 90, technique = "T1547.006", host = true },
  ptrace_attach = { severity = "error", priority = 70, technique = "T1055.008", host = false },
  raw_socket = { severity = "warning", priority = 45, technique = "T1040", host = false },
  -- the network
  metadata_access = { severity = "error", priority = 75, technique = "T1552.005", host = false },
  kubernetes_api_access = { severity = "warning", priority = 55, technique = "T1613", host = false },
}

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Tools for scanning, remote shells and tunnels that a container workload
-- rarely has a reason to start.
local suspicious = set{ "nmap", "nc", "ncat", "netcat", "sshd", "ssh", "scp", "telnet",
                        "in.telnetd", "iodine", "iodined", "dnscat", "dns2tcpc", "dns2tcpd" }

local shells = set{ "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish",
                    "busybox" }

-- Servers whose processes have no reason to start a shell: one that does
-- runs what a request told it to (a web shell, an injection).
local services = set{ "nginx", "httpd", "apache2", "lighttpd", "caddy", "traefik", "envoy",
                      "haproxy", "php-fpm", "php-fpm7", "php-fpm8", "uwsgi", "gunicorn",
                      "puma", "unicorn", "node", "java", "tomcat", "catalina", "mysqld",
                      "mariadbd", "postgres", "postmaster", "mongod", "redis-server",
                      "memcached", "rabbitmq-server", "beam.smp", "elasticsearch" }

local miners = set{ "xmrig", "xmr-stak", "xmr-stak-cpu", "minerd", "cpuminer", "cgminer",
                    "bfgminer", "ethminer", "nbminer", "t-rex", "lolminer", "phoenixminer",
                    "nanominer", "teamredminer", "gminer", "ccminer", "nheqminer" }

-- Ports of the stratum mining pools most often seen.
local pool_ports = set{ 3333, 4444, 5555, 7777, 14433, 14444, 45560, 45700 }

local metadata_peers = set{ "169.254.169.254", "fd00:ec2::254", "100.100.100.200",
                            "metadata.google.internal" }
-- The API server's and the kubelet's ports, anywhere; and the address of
-- the "kubernetes" service on 443, as pods reach the API (the service
-- range's first address: kubeadm's default 10.96.0.1, k3s's 10.43.0.1,
-- EKS's 172.20.0.1 and 10.100.0.1, kind's IPv6 fd00:10:96::1).
local kubernetes_ports = set{ 6443, 10250, 10255 }
local kubernetes_services = set{ "10.96.0.1", "10.43.0.1", "172.20.0.1", "10.100.0.1",
                                 "fd00:10:96::1" }

-- Sensitive files, as Lua patterns anchored at the end of a path, so that
-- a relative link target ("../../etc/shadow") matches too; with the
-- technique of reading each.
local sensitive = {
  { "/etc/shadow$", "T1003.008" }, { "/etc/gshadow$", "T1003.008" },
  { "/etc/sudoers$", "T1548.003" }, { "/etc/sudoers%.d/[^/]+$", "T1548.003" },
  { "/%.ssh/id_[^/]+$", "T1552.004" }, { "/%.ssh/authorized_keys$", "T1098.004" },
  { "/etc/ssh/ssh_host_[^/]+_key$", "T1552.004" },
  { "/%.aws/credentials$", "T1552.001" }, { "/%.kube/config$", "T1552.001" },
  { "/%.config/gcloud/credentials%.db$", "T1552.001" },
  { "/serviceaccount/token$", "T1528" },
}

local function sensitive_technique(path)
  if type(path) ~= "string" then return nil end
  for _, s in ipairs(sensitive) do
    if path:find(s[1]) then return s[2] end
  end
  return nil
end

local binary_dirs = { "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/",
                      "/usr/local/sbin/", "/lib/", "/lib32/", "/lib64/", "/usr/lib/",
                      "/usr/lib32/", "/usr/lib64/", "/usr/libexec/", "/usr/local/lib/",
                      "/boot/" }

local function under(path, prefix)
  return type(path) == "string" and path:sub(1, #prefix) == prefix
end

local function under_any(path, prefixes)
  for _, p in ipairs(prefixes) do
    if under(path, p) then return true end
  end
  return false
end

local function basename(path)
  return type(path) == "string" and path:match("([^/]*)$") or ""
end

-- A rotated log: messages.1, syslog.2.gz, auth.log-20240101, kern.log.old.
local function rotated(path)
  local name = basename(path)
  return name:find("%.%d+$") ~= nil or name:find("%.%d+%.[gxb]?z2?$") ~= nil
      or name:find("%.gz$") ~= nil or name:find("%.xz$") ~= nil or name:find("%.bz2$") ~= nil
      or name:find("%.zst$") ~= nil or name:find("%-%d%d%d%d%d%d%d%d") ~= nil
      or name:find("%.old$") ~= nil
end

local function history(path)
  local name = basename(path)
  return name:find("_history$") ~= nil or name == ".history"
end

-- The program's file name as well as its argv[0]: either may be renamed
-- to hide. The first of the two found in `s`.
local function program_of(ev)
  if ev.type == "proc.exec" then return ev.path end
  return ev.program
end

-- A script is reported under its own name and path, with its interpreter
-- beside (docs/proc.md): a shell script started by a service is a shell
-- started by that service.
--
-- The names a process may go by, in the order they are tried: its name,
-- its program's file name, and for a script the interpreter as the
-- script's #! line names it ("/bin/sh x": sh, which busybox-style images
-- run from one file of another name) and the interpreter's file name.
-- Worked out once per event, since a handler asks several sets.
local function names_of(ev)
  local names = { ev.name or "", basename(program_of(ev)) }
  if ev.type == "proc.exec" and ev.interpreter then
    names[3] = basename(type(ev.cmdline) == "string" and ev.cmdline:match("^(%S+)") or "")
    names[4] = basename(ev.interpreter)
  end
  return names
end

-- The first of the names found in `s`.
local function known(s, names)
  for i = 1, #names do
    if s[names[i]] then return names[i] end
  end
  return nil
end

local function evidence(ev, extra)
  local e = {}
  local function put(k, v)
    if v ~= nil and v ~= "" and v ~= -1 then e[k] = v end
  end
  put("process", ev.name)
  put("pid", ev.pid)
  put("program", program_of(ev))
  put("cmdline", ev.cmdline)
  put("parent", ev.parent_name)
  put("ppid", ev.ppid)
  put("user", ev.user or (math.type(ev.euid) == "integer" and tostring(ev.euid) or nil))
  if ev.type ~= "proc.exec" then put("file", ev.path) end
  put("peer", ev.peer)
  put("peer_ip", ev.peer_ip)
  put("port", ev.port)
  for k, v in pairs(extra or {}) do put(k, v) end
  return e
end

local function applies(ev, name)
  if ev.group == "" then return false end
  if ev.group == "nodes" and not catalogue[name].host then return false end
  return vigil.incident_enabled(ev.group, name)
end

-- The same incident of the same process about the same file or peer is
-- raised once in ten seconds: a loop writing /etc/passwd is one incident,
-- not thousands. Another process doing it is another incident.
local WINDOW_NS = 10 * 1000000000
local RECENT_MAX = 4096
local recent, nrecent = {}, 0

local function repeated(ev, name, extra)
  if math.type(ev.time) ~= "integer" then return false end
  local key = table.concat({ name, ev.workload or "", tostring(ev.pid), program_of(ev) or "",
                             ev.path or "", tostring(extra and extra.target), ev.peer or "",
                             tostring(ev.port) }, "\0")
  local last = recent[key]
  if last and ev.time - last < WINDOW_NS then return true end
  if not last then
    if nrecent >= RECENT_MAX then recent, nrecent = {}, 0 end
    nrecent = nrecent + 1
  end
  recent[key] = ev.time
  return false
end

local function incident(ev, name, message, extra, technique)
  if not applies(ev, name) or repeated(ev, name, extra) then return end
  local c = catalogue[name]
  technique = technique or c.technique
  -- tags: the technique again, for response rules (match = { tags = ... }).
  vigil.alert(ev, { type = "proc.incident", name = name, severity = c.severity,
                    priority = c.priority, technique = technique, tags = { technique },
                    message = message, evidence = evidence(ev, extra) })
end

-- Whether a file rule of the group allows the program this access to path.
local function file_allowed(ev, path, access)
  return ev.group ~= "" and vigil.allowed{ group = ev.group, plane = "file", path = path,
                                           program = ev.program or "", access = access }
end

local function is_uid(v)
  return math.type(v) == "integer"
end

-- ---- processes -----------------------------------------------------------

vigil.on("proc.exec", function(ev)
  local names = names_of(ev)
  local tool = known(suspicious, names)
  if tool then
    incident(ev, "suspicious_process", "suspicious process " .. tool .. " started")
  end
  -- A shell whose standard input or output is a network socket is how a
  -- reverse shell looks from the outside.
  local shell = known(shells, names)
  if shell and ev.stdio_socket == true then
    incident(ev, "reverse_shell",
             "shell " .. shell .. " runs with a network socket as its stdin/stdout")
  end
  if shell and services[ev.parent_name or ""] then
    incident(ev, "shell_from_service",
             "shell " .. shell .. " started by the service process " .. ev.parent_name)
  end
  local miner = known(miners, names)
  local cmdline = type(ev.cmdline) == "string" and ev.cmdline or ""
  -- A plain find: a pattern on a long command line costs more of the
  -- handler's budget than it has.
  if miner or cmdline:find("stratum+", 1, true) then
    incident(ev, "crypto_miner", "crypto miner " .. (miner or ev.name or "?") .. " started")
  end
  -- A program started by a non-root process that runs as root: a setuid
  -- binary or an exploit.
  if ev.euid == 0 and is_uid(ev.parent_euid) and ev.parent_euid > 0 then
    incident(ev, "privilege_escalation",
             string.format("%s runs as root, started by uid %d", ev.name or "?",
                           ev.parent_euid))
  end
  return nil
end)

-- A process that gains root, as its effective or its saved uid, while it
-- held root in none of its real, effective and saved uids before. Without
-- privileges, setuid() and setresuid() only choose among the uids a process
-- holds, so one that held root all along (a root daemon that lowered its
-- effective uid for a while, as apt does for its downloads, keeping root
-- as its real or saved uid) is returning, not escalating; one that held
-- none got it from the kernel: an exploit, or a capability it should not
-- have. (A saved uid the plugin could not read is -1: then the real and
-- effective uids decide.)
local function held_root(ev)
  return ev.old_uid == 0 or ev.old_euid == 0 or ev.old_suid == 0
end

vigil.on("proc.uid", function(ev)
  local gained = ev.euid == 0 or ev.suid == 0
  if gained and is_uid(ev.old_euid) and ev.old_euid > 0 and not held_root(ev) then
    incident(ev, "privilege_escalation",
             string.format("%s changed from uid %d to root (%s uid)", ev.name or "a process",
                           ev.old_euid, ev.euid == 0 and "effective" or "saved"))
  end
  return nil
end)

vigil.on("kern.exec", function(ev)
  if ev.what == "drift" then
    incident(ev, "container_drift",
             "executed " .. (ev.path or "?") .. ", changed after the container started",
             { file = ev.path })
  elseif ev.what == "tty" and known(shells, names_of(ev)) then
    incident(ev, "terminal_shell", "interactive shell " .. (ev.name or "?") ..
             " started with a terminal")
  end
  return nil
end)

-- ---- files ---------------------------------------------------------------

-- A read of a sensitive file by a program not learned (or written) as
-- reading it. In learn mode the reader is learned, after the incident: the
-- first read of each program is reported, later ones are not.
vigil.on("file.read", function(ev)
  if ev.group == "" or vigil.allowed(ev) then return nil end
  local technique = sensitive_technique(ev.path)
  incident(ev, "sensitive_file_read",
           (ev.name or "?") .. " read " .. (ev.path or "?"), nil, technique)
  if vigil.mode(ev.group) == vigil.LEARN and ev.program ~= "?" then
    vigil.learn(ev)
  end
  return nil
end)

local O_TRUNC = 512

local function on_link(ev)
  -- A link named like a shell history and pointing elsewhere
  -- (ln -sf /dev/null ~/.bash_history) throws the history away.
  if ev.call == "symlink" and history(ev.path) then
    incident(ev, "log_tampering", "shell history " .. ev.path .. " replaced by a link to " ..
             (ev.target or "?"), { target = ev.target }, "T1070.003")
    return
  end
  local technique = sensitive_technique(ev.target)
  if technique and not file_allowed(ev, ev.target, "link") then
    incident(ev, "sensitive_file_link", string.format("%s link %s created to %s",
             ev.call == "symlink" and "symbolic" or "hard", ev.path or "?", ev.target),
             { target = ev.target })
  end
end

local function on_log(ev)
  local path = ev.path
  local hist = history(path)
  local technique = hist and "T1070.003" or nil
  if file_allowed(ev, path, "delete") then return true end
  if ev.call == "unlink" and (hist or not rotated(path)) then
    incident(ev, "log_tampering", (hist and "shell history " or "log ") .. path .. " deleted",
             nil, technique)
  elseif ev.call == "truncate" or (ev.call == "open_write" and not hist
                                  and (ev.flags or 0) & O_TRUNC ~= 0 and not rotated(path)) then
    incident(ev, "log_tampering", (hist and "shell history " or "log ") .. path .. " truncated",
             nil, technique)
  elseif ev.call == "rename" and (hist or not under(ev.target, "/var/log/")) then
    incident(ev, "log_tampering", (hist and "shell history " or "log ") .. path ..
             " moved to " .. (ev.target or "?"), { target = ev.target }, technique)
  end
  return true
end

local function on_write(ev)
  local path = ev.path or ""
  local name = basename(path)
  if name == "release_agent" or name == "notify_on_release" then
    incident(ev, "cgroup_release_agent", "write to the cgroup file " .. path)
    return
  end
  if file_allowed(ev, path, "write") then return end
  if under(path, "/proc/sys/") or under(path, "/proc/sysrq-trigger") or under(path, "/sys/") then
    incident(ev, "write_kernel_settings", (ev.name or "?") .. " writes " .. path)
  elseif under_any(path, binary_dirs) then
    incident(ev, "write_below_binary_dir", (ev.name or "?") .. " writes " .. path)
  elseif under(path, "/etc/") then
    incident(ev, "write_below_etc", (ev.name or "?") .. " writes " .. path)
  end
end

local namespaces = {
  [0x00020000] = "mnt", [0x02000000] = "cgroup", [0x04000000] = "uts", [0x08000000] = "ipc",
  [0x10000000] = "user", [0x20000000] = "pid", [0x40000000] = "net", [0x00000080] = "time",
}

local function ns_names(flags)
  local out = {}
  for bit, name in pairs(namespaces) do
    if (flags or 0) & bit ~= 0 then out[#out + 1] = name end
  end
  table.sort(out)
  return #out > 0 and table.concat(out, ",") or "any"
end

local calls = {
  symlink = on_link,
  link = on_link,
  mount = function(ev)
    incident(ev, "mount_in_container", string.format("mount of %s (%s) on %s",
             ev.target ~= "" and ev.target or "?", ev.fstype ~= "" and ev.fstype or "?",
             ev.path or "?"), { target = ev.target, fstype = ev.fstype })
  end,
  unshare = function(ev)
    incident(ev, "namespace_change", "unshare of namespaces: " .. ns_names(ev.flags),
             { namespaces = ns_names(ev.flags) })
  end,
  setns = function(ev)
    incident(ev, "namespace_change", "setns into another namespace (" ..
             ns_names(ev.flags) .. ")", { namespaces = ns_names(ev.flags) })
  end,
  chroot = function(ev)
    incident(ev, "chroot_in_container", "chroot to " .. (ev.path or "?"))
  end,
  pivot_root = function(ev)
    incident(ev, "chroot_in_container", "pivot_root to " .. (ev.path or "?"))
  end,
  module = function(ev)
    incident(ev, "kernel_module", ev.flags == 1 and "kernel module removal" or
             "kernel module load")
  end,
  ptrace = function(ev)
    incident(ev, "ptrace_attach", string.format("ptrace attach to pid %d", ev.arg or -1),
             { target_pid = ev.arg })
  end,
  raw_socket = function(ev)
    incident(ev, "raw_socket", ev.arg == 17 and "packet socket opened" or "raw socket opened",
             { family = ev.arg })
  end,
}

vigil.on("kern.call", function(ev)
  if ev.group == "" then return nil end
  local path = ev.path
  if (ev.call == "unlink" or ev.call == "truncate" or ev.call == "rename"
      or ev.call == "open_write") and (under(path, "/var/log/") or history(path)) then
    on_log(ev)
  elseif ev.call == "open_write" then
    on_write(ev)
  elseif calls[ev.call] then
    calls[ev.call](ev)
  end
  return nil
end)

-- ---- the network -----------------------------------------------------------

-- The net plugin names the peer (a group, a network, a DNS name or the
-- address: docs/net.md) and gives the address as peer_ip, the port as a
-- string.
vigil.on("net.connect", function(ev)
  if ev.group == "" then return nil end
  local peer = ev.peer_ip or ev.peer or ""
  local port = tonumber(ev.port)
  if (pool_ports[port] and ev.proto ~= "udp") or (type(ev.app) == "string"
      and ev.app:lower():find("stratum", 1, true)) then
    incident(ev, "crypto_miner", string.format("connection to %s:%s, a mining pool's port",
             peer, tostring(port)), { peer_ip = ev.peer_ip })
  end
  if vigil.allowed(ev) then return nil end
  if metadata_peers[peer] or metadata_peers[ev.peer or ""] then
    incident(ev, "metadata_access", "connection to the cloud metadata service " .. peer,
             { peer_ip = ev.peer_ip })
  elseif kubernetes_ports[port] or (port == 443 and kubernetes_services[peer]) then
    incident(ev, "kubernetes_api_access", string.format(
             "connection to %s:%s, the Kubernetes API or a kubelet", peer, tostring(port)),
             { peer_ip = ev.peer_ip })
  end
  return nil
end)
