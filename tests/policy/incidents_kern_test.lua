-- The incidents built on the kern plugin's facts (kern.call, kern.exec,
-- file.read), the new process ones and the network ones
-- (lua/policies/10-incidents.lua): each raised in learn, monitor and
-- protect mode with its severity, technique and evidence; the benign runs
-- of the same programs raise nothing.

local function call(c, extra)
  local ev = { type = "kern.call", group = "web", workload = "w1", pid = 70, ppid = 69,
               euid = 0, name = "sh", parent_name = "runc", program = "/bin/busybox",
               cmdline = "sh -c x", call = c, path = "", target = "", fstype = "",
               flags = 0, arg = 0 }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

local function read(path, program, extra)
  local ev = { type = "file.read", group = "web", workload = "w1", pid = 71, ppid = 69,
               name = "cat", parent_name = "sh", program = program or "/bin/busybox",
               cmdline = "cat " .. path, path = path, access = "read" }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

local function one(r, name)
  local found = test.find(r, "proc.incident", { incident = name })
  test.expect(found, name .. " raised")
  test.eq(test.count(r, "proc.incident"), 1, "exactly one incident for " .. name)
  return found
end

local function none(r, why)
  test.eq(test.count(r, "proc.incident"), 0, why)
end

-- name = { event, severity, technique, evidence fields expected }
local attacks = {
  sensitive_file_read = { read("/etc/shadow"), "error", "T1003.008", { file = "/etc/shadow" } },
  sensitive_file_link = { call("symlink", { path = "/tmp/x", target = "/etc/shadow" }), "error",
                          "T1555", { file = "/tmp/x", target = "/etc/shadow" } },
  log_tampering = { call("open_write", { path = "/var/log/messages", flags = 577 }), "error",
                    "T1070.002", { file = "/var/log/messages" } },
  container_drift = { { type = "kern.exec", group = "web", workload = "w1", pid = 72,
                        name = "x", program = "/tmp/x", cmdline = "/tmp/x", what = "drift",
                        path = "/tmp/x", file_ctime = 2, started = 1 }, "error", "T1105",
                      { file = "/tmp/x", program = "/tmp/x" } },
  write_below_binary_dir = { call("open_write", { path = "/usr/local/bin/kit", flags = 577 }),
                             "error", "T1554", { file = "/usr/local/bin/kit" } },
  write_below_etc = { call("open_write", { path = "/etc/cron.d/job", flags = 577 }), "warning",
                      "T1543", { file = "/etc/cron.d/job" } },
  write_kernel_settings = { call("open_write", { path = "/proc/sys/kernel/core_pattern",
                                                 flags = 1 }), "error", "T1562",
                            { file = "/proc/sys/kernel/core_pattern" } },
  cgroup_release_agent = { call("open_write", { path = "/tmp/cgrp/release_agent", flags = 577 }),
                           "critical", "T1611", { file = "/tmp/cgrp/release_agent" } },
  mount_in_container = { call("mount", { path = "/mnt", target = "/dev/sda1", fstype = "ext4" }),
                         "critical", "T1611", { file = "/mnt", target = "/dev/sda1" } },
  namespace_change = { call("unshare", { flags = 0x00020000 }), "critical", "T1611",
                       { namespaces = "mnt" } },
  chroot_in_container = { call("chroot", { path = "/host" }), "error", "T1611",
                          { file = "/host" } },
  kernel_module = { call("module"), "critical", "T1547.006", { process = "sh" } },
  ptrace_attach = { call("ptrace", { flags = 16, arg = 1 }), "error", "T1055.008",
                    { target_pid = 1 } },
  raw_socket = { call("raw_socket", { arg = 17, flags = 3 }), "warning", "T1040",
                 { family = 17 } },
  shell_from_service = { { type = "proc.exec", group = "web", workload = "w1", pid = 73,
                           name = "sh", path = "/bin/busybox", user = "33", cmdline = "sh -c id",
                           uid = 33, euid = 33, parent_name = "httpd", parent_euid = 33 },
                         "error", "T1190", { parent = "httpd", cmdline = "sh -c id" } },
  terminal_shell = { { type = "kern.exec", group = "web", workload = "w1", pid = 74, name = "sh",
                       program = "/bin/busybox", what = "tty", path = "/bin/sh" }, "warning",
                     "T1059.004", { process = "sh" } },
  crypto_miner = { { type = "proc.exec", group = "web", workload = "w1", pid = 75, name = "xmrig",
                     path = "/tmp/xmrig", user = "0", uid = 0, euid = 0, parent_euid = 0,
                     cmdline = "xmrig -o stratum+tcp://pool:3333" }, "critical", "T1496",
                   { process = "xmrig" } },
  metadata_access = { { type = "net.connect", group = "web", workload = "w1", pid = 76,
                        direction = "egress", peer = "metadata.google.internal",
                        peer_kind = "dns", peer_ip = "169.254.169.254", port = "80",
                        proto = "tcp", app = "http" }, "error", "T1552.005",
                      { peer = "metadata.google.internal", peer_ip = "169.254.169.254" } },
  kubernetes_api_access = { { type = "net.connect", group = "web", workload = "w1", pid = 77,
                              direction = "egress", peer = "10.0.0.1", peer_kind = "address",
                              peer_ip = "10.0.0.1", port = "6443", proto = "tcp",
                              app = "tls" }, "warning", "T1613", { port = "6443" } },
}

for _, mode in ipairs({ "learn", "monitor", "protect" }) do
  for name, a in pairs(attacks) do
    test.case(name .. " in " .. mode .. " mode", function()
      test.mode("web", mode)
      local i = one(test.feed(a[1]), name)
      test.eq(i.severity, a[2], "severity")
      test.eq(i.technique, a[3], "technique")
      test.expect(math.type(i.priority) == "integer" and i.priority >= 0 and i.priority <= 100,
                  "a priority from 0 to 100")
      test.eq(i.group, "web", "group")
      test.eq(i.workload, "w1", "workload")
      test.eq(i.pid, a[1].pid, "pid")
      test.expect(type(i.message) == "string" and #i.message > 0, "a message")
      for k, v in pairs(a[4]) do
        test.eq(i.evidence[k], v, "evidence." .. k)
      end
    end)
  end
end

-- Priorities order the triage within a severity and never contradict it:
-- every critical incident comes before every error, every error before
-- every warning.
test.case("incident priorities follow severities and order within them", function()
  local rank = { warning = 1, error = 2, critical = 3 }
  local seen = {}
  for name, a in pairs(attacks) do
    local i = one(test.feed(a[1]), name)
    seen[#seen + 1] = { name = name, sev = rank[i.severity], prio = i.priority }
  end
  for _, x in ipairs(seen) do
    for _, y in ipairs(seen) do
      if x.sev > y.sev then
        test.expect(x.prio > y.prio, x.name .. " (" .. x.prio .. ") before " .. y.name ..
                    " (" .. y.prio .. ")")
      end
    end
  end
end)

test.case("every incident can be switched off for a group (tests/policy/90-switches.lua)",
          function()
  for name, a in pairs(attacks) do
    local ev = {}
    for k, v in pairs(a[1]) do ev[k] = v end
    ev.group = "quiet"
    none(test.feed(ev), name .. " in a group where it is off")
    ev.group = "loud"
    one(test.feed(ev), name)
  end
end)

test.case("a learned reader reads in peace; another program does not", function()
  test.mode("web", "learn")
  one(test.feed(read("/etc/shadow", "/usr/sbin/unix_chkpwd")), "sensitive_file_read")
  test.expect(test.allowed{ group = "web", plane = "file", path = "/etc/shadow",
                            program = "/usr/sbin/unix_chkpwd", access = "read" },
              "the reader was learned")
  none(test.feed(read("/etc/shadow", "/usr/sbin/unix_chkpwd")), "learned: second read")
  test.mode("web", "monitor")
  none(test.feed(read("/etc/shadow", "/usr/sbin/unix_chkpwd")), "learned, in monitor")
  one(test.feed(read("/etc/shadow", "/tmp/dump")), "sensitive_file_read")
  test.eq(test.feed(read("/etc/shadow", "/tmp/dump")).verdict ~= "deny", true, "reads are not denied")
  local ssh = one(test.feed(read("/home/a/.ssh/id_ed25519", "/bin/busybox")), "sensitive_file_read")
  test.eq(ssh.technique, "T1552.004", "a private key's technique")
end)

test.case("logrotate-style rotation is no tampering", function()
  for _, ev in ipairs({
    call("rename", { path = "/var/log/messages", target = "/var/log/messages.1" }),
    call("open_write", { path = "/var/log/messages", flags = 0x41 | 0x80 }), -- O_CREAT|O_EXCL
    call("open_write", { path = "/var/log/messages", flags = 0x441 }),       -- append
    call("unlink", { path = "/var/log/messages.4.gz" }),
    call("unlink", { path = "/var/log/auth.log-20240101" }),
    call("open_write", { path = "/var/log/messages.1", flags = 577 }),
  }) do
    none(test.feed(ev), ev.call .. " " .. ev.path)
  end
end)

test.case("log tampering: deletion, truncation, moving away, shell histories", function()
  one(test.feed(call("unlink", { path = "/var/log/auth.log" })), "log_tampering")
  one(test.feed(call("truncate", { path = "/var/log/wtmp" })), "log_tampering")
  one(test.feed(call("rename", { path = "/var/log/secure", target = "/tmp/s" })), "log_tampering")
  local h = one(test.feed(call("unlink", { path = "/root/.ash_history" })), "log_tampering")
  test.eq(h.technique, "T1070.003", "history technique")
  one(test.feed(call("symlink", { path = "/root/.bash_history", target = "/dev/null" })),
      "log_tampering")
end)

test.case("links to other files, writes elsewhere: nothing", function()
  none(test.feed(call("symlink", { path = "/bin/ls", target = "busybox" })), "applet link")
  none(test.feed(call("link", { path = "/tmp/b", target = "/tmp/a" })), "hard link")
  none(test.feed(call("open_write", { path = "/tmp/out", flags = 577 })), "write to /tmp")
  one(test.feed(call("link", { path = "/tmp/s", target = "../etc/shadow" })),
      "sensitive_file_link")
end)

test.case("a build group installs packages: writes below bin and etc switched off", function()
  test.mode("build", "monitor")
  for _, path in ipairs({ "/usr/bin/jq", "/usr/lib/x86_64-linux-gnu/libjq.so.1", "/etc/jq.conf" }) do
    local ev = call("open_write", { path = path, flags = 577, name = "dpkg" })
    ev.group = "build"
    none(test.feed(ev), "dpkg writes " .. path .. " in build")
  end
  local ev = call("open_write", { path = "/proc/sys/kernel/core_pattern", flags = 1 })
  ev.group = "build"
  one(test.feed(ev), "write_kernel_settings")
end)

test.case("a file rule allows a program its write", function()
  local ev = call("open_write", { path = "/etc/app.conf", flags = 577, program = "/app/bin/app" })
  one(test.feed(ev), "write_below_etc")
  -- learned from a file.access event of the file plugin in learn mode
  test.mode("web", "learn")
  test.feed{ type = "file.access", group = "web", workload = "w1", pid = 80,
             path = "/etc/app.conf", program = "/app/bin/app", access = "write" }
  none(test.feed(ev), "allowed by the group's file rule")
end)

test.case("namespace calls on the host and of unknown workloads are left alone", function()
  local ev = call("unshare", { flags = 0x00020000 })
  ev.group, ev.workload = "nodes", ""
  none(test.feed(ev), "unshare on the host")
  ev.group = ""
  none(test.feed(ev), "unshare of an unknown process")
  local rd = read("/etc/shadow", "/usr/bin/cat")
  rd.group, rd.workload = "nodes", ""
  one(test.feed(rd), "sensitive_file_read")
end)

test.case("shells: a service's child, a terminal; not a shell's child", function()
  none(test.feed{ type = "proc.exec", group = "web", workload = "w1", pid = 81, name = "sh",
                  path = "/bin/sh", user = "0", uid = 0, euid = 0, parent_name = "sh",
                  parent_euid = 0 }, "sh from sh")
  none(test.feed{ type = "proc.exec", group = "web", workload = "w1", pid = 82, name = "cat",
                  path = "/bin/cat", user = "0", uid = 0, euid = 0, parent_name = "httpd",
                  parent_euid = 0 }, "cat from httpd")
  none(test.feed{ type = "kern.exec", group = "web", workload = "w1", pid = 83, name = "ls",
                  program = "/bin/ls", what = "tty", path = "/bin/ls" }, "ls on a terminal")
end)

test.case("network: learned peers, ordinary ports", function()
  test.mode("web", "learn")
  local md = attacks.metadata_access[1]
  one(test.feed(md), "metadata_access")
  none(test.feed(md), "learned: the container did this before")
  none(test.feed{ type = "net.connect", group = "web", workload = "w1", pid = 84,
                  direction = "egress", peer = "10.0.0.9", port = "443", proto = "tcp",
                  app = "tls" }, "https")
  one(test.feed{ type = "net.connect", group = "web", workload = "w1", pid = 85,
                 direction = "egress", peer = "10.0.0.9", port = "3333", proto = "tcp",
                 app = "" }, "crypto_miner")
  -- an integer port (another plugin's) works the same
  one(test.feed{ type = "net.connect", group = "web", workload = "w1", pid = 86,
                 direction = "egress", peer = "10.0.0.8", port = 14444, proto = "tcp",
                 app = "" }, "crypto_miner")
end)

test.case("privilege escalation: returning to root is not escalating", function()
  local back = test.feed{ type = "proc.uid", group = "web", workload = "w1", name = "apt-get",
                          pid = 90, uid = 0, euid = 0, old_uid = 0, old_euid = 42 }
  none(back, "a root process regaining root")
  -- setresuid(65534, 65534, 0), then back: root was kept as the saved uid.
  local saved = test.feed{ type = "proc.uid", group = "web", workload = "w1", name = "drop",
                           pid = 92, uid = 0, euid = 0, suid = 0, old_uid = 65534,
                           old_euid = 65534, old_suid = 0 }
  none(saved, "a process that kept root as its saved uid, returning")
end)

test.case("kubernetes_api_access: the API service's address on 443, not any 443", function()
  local function conn(ip, port)
    return test.feed{ type = "net.connect", group = "web", workload = "w1", pid = 95,
                      direction = "egress", peer = ip, peer_kind = "address", peer_ip = ip,
                      port = port, proto = "tcp", app = "tls" }
  end
  local found = one(conn("10.96.0.1", "443"), "kubernetes_api_access")
  test.eq(found.evidence.peer_ip, "10.96.0.1", "evidence names the service address")
  none(conn("10.96.0.2", "443"), "another address on 443")
  none(conn("10.96.0.1", "8443"), "the service address on another port")
end)

test.case("privilege escalation: root gained as the saved uid", function()
  -- A user's process (no root in any uid) whose saved uid becomes 0.
  one(test.feed{ type = "proc.uid", group = "web", workload = "w1", name = "gain", pid = 93,
                 uid = 65534, euid = 65534, suid = 0, old_uid = 65534, old_euid = 65534,
                 old_suid = 65534 }, "privilege_escalation")
  -- The same through the effective uid, the real one staying a user's.
  one(test.feed{ type = "proc.uid", group = "web", workload = "w1", name = "gain2", pid = 94,
                 uid = 65534, euid = 0, suid = 0, old_uid = 65534, old_euid = 65534,
                 old_suid = 65534 }, "privilege_escalation")
end)

test.case("a command line of 1023 characters is read without running out of budget", function()
  local long = string.rep("a", 1000) .. " stratum+tcp://p:1"
  local r = test.feed{ type = "proc.exec", group = "web", workload = "w1", pid = 91, name = "sh",
                       path = "/bin/sh", user = "0", uid = 0, euid = 0, parent_euid = 0,
                       parent_name = "nginx", cmdline = long }
  test.eq(test.count(r, "policy.error"), 0, "no policy error")
  test.expect(test.find(r, "proc.incident", { incident = "crypto_miner" }), "miner")
  test.expect(test.find(r, "proc.incident", { incident = "shell_from_service" }), "service shell")
end)

test.case("a process repeating itself is one incident; another process is another", function()
  local w = call("open_write", { path = "/etc/passwd", flags = 1025, pid = 500 })
  test.eq(test.count(test.feed(w), "proc.incident"), 1, "first write")
  for _ = 1, 5 do
    none(test.feed(w), "the same process writing again")
  end
  one(test.feed(call("open_write", { path = "/etc/group", flags = 1025, pid = 500 })),
      "write_below_etc")
  one(test.feed(call("open_write", { path = "/etc/passwd", flags = 1025, pid = 501 })),
      "write_below_etc")
end)
