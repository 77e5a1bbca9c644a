-- Built-in incidents, raised in every mode as "proc.incident" events. Each
-- can be switched off per group (or for all groups without `group`):
--
--   vigil.incidents{ group = "build", suspicious_process = false }
--
-- They use these fields of the proc plugin's events (docs/policy.md):
--   proc.exec  pid, name, uid, euid, parent_euid (-1 when unknown), stdio_socket
--   proc.uid   pid, name, uid, euid, old_uid, old_euid (-1 when unknown)
--   proc.exit  pid

-- Tools for scanning, remote shells and tunnels that a container workload
-- rarely has a reason to start.
local suspicious = {}
for _, name in ipairs({ "nmap", "nc", "ncat", "netcat", "sshd", "ssh", "scp", "telnet",
                        "in.telnetd", "iodine", "iodined", "dnscat", "dns2tcpc",
                        "dns2tcpd" }) do
  suspicious[name] = true
end

local shells = {}
for _, name in ipairs({ "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh",
                        "fish", "busybox" }) do
  shells[name] = true
end

-- MITRE ATT&CK techniques of each incident, as its tags: response rules can
-- match them (match = { tags = "T1068" }). The severity is the priority.
local tags = {
  suspicious_process = { "T1046", "T1021.004", "T1572" }, -- discovery, SSH, tunnels
  reverse_shell = { "T1059.004", "T1071" },               -- Unix shell, C2 over a protocol
  privilege_escalation = { "T1068", "T1548.001" },        -- exploitation, setuid
}

local function incident(ev, name, severity, message)
  if vigil.incident_enabled(ev.group, name) then
    vigil.alert(ev, { type = "proc.incident", name = name, severity = severity,
                      message = message, tags = tags[name] })
  end
end

local function is_uid(v)
  return math.type(v) == "integer"
end

-- The pids whose exec ran with root's privileges (effective uid 0), until
-- they exit. Bounded: past LIMIT entries the table starts again, which at
-- worst lets an older process's return to root be reported.
local LIMIT = 65536
local had_root, nroot = {}, 0

local function started_as_root(ev)
  if ev.euid == 0 and math.type(ev.pid) == "integer" and not had_root[ev.pid] then
    if nroot >= LIMIT then
      had_root, nroot = {}, 0
    end
    had_root[ev.pid], nroot = true, nroot + 1
  end
end

-- The program's file name as well as its argv[0]: either may be renamed.
local function basename(path)
  return type(path) == "string" and path:match("([^/]*)$") or ""
end

-- The first of argv[0] and the program's file name found in `set`: either
-- may have been renamed to hide.
local function known(set, ev)
  local name, file = ev.name or "", basename(ev.path)
  if set[name] then
    return name
  elseif set[file] then
    return file
  end
  return nil
end

vigil.on("proc.exec", function(ev)
  local tool = known(suspicious, ev)
  if tool then
    incident(ev, "suspicious_process", "warning", "suspicious process " .. tool .. " started")
  end
  -- A shell whose standard input or output is a network socket is how a
  -- reverse shell looks from the outside.
  local shell = known(shells, ev)
  if shell and ev.stdio_socket == true then
    incident(ev, "reverse_shell", "critical",
             "shell " .. shell .. " runs with a network socket as its stdin/stdout")
  end
  -- Remembered for proc.uid: it had root's privileges from its start.
  started_as_root(ev)
  -- A program started by a non-root process that runs as root: a setuid
  -- binary or an exploit.
  if ev.euid == 0 and is_uid(ev.parent_euid) and ev.parent_euid > 0 then
    incident(ev, "privilege_escalation", "critical",
             string.format("%s runs as root, started by uid %d", ev.name or "?",
                           ev.parent_euid))
  end
  return nil
end)

-- A process whose effective uid changes from a user's to root, and that
-- never had root's privileges: one that started as root (or as a setuid-root
-- program, reported at its exec if a user started it) and dropped them for a
-- while may take them back (apt-get's methods, daemons that seteuid()); one
-- whose real uid was root all along can always return. Only a process that
-- was a user's from its exec and in its real uid becomes root by escalating.
vigil.on("proc.uid", function(ev)
  if ev.euid == 0 and is_uid(ev.old_euid) and ev.old_euid > 0 and is_uid(ev.old_uid)
     and ev.old_uid > 0 and not had_root[ev.pid] then
    incident(ev, "privilege_escalation", "critical",
             string.format("%s changed from uid %d to root", ev.name or "a process",
                           ev.old_euid))
  end
  return nil
end)

vigil.on("proc.exit", function(ev)
  if math.type(ev.pid) == "integer" and had_root[ev.pid] then
    had_root[ev.pid], nroot = nil, nroot - 1
  end
  return nil
end)
