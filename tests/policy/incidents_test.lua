-- Built-in incidents (lua/policies/10-incidents.lua), raised in every mode.

local function exec(name, extra)
  local ev = { type = "proc.exec", group = "web", workload = "w1", pid = 7, name = name,
               path = "/usr/bin/" .. name, user = "www", uid = 33, euid = 33, parent_euid = 33 }
  for k, v in pairs(extra or {}) do ev[k] = v end
  return ev
end

local suspicious = { "nmap", "nc", "ncat", "netcat", "sshd", "ssh", "scp", "telnet",
                     "in.telnetd", "iodine", "iodined", "dnscat", "dns2tcpc", "dns2tcpd" }

for _, mode in ipairs({ "learn", "monitor", "protect" }) do
  test.case("suspicious processes in " .. mode .. " mode", function()
    test.mode("web", mode)
    for _, name in ipairs(suspicious) do
      local r = test.feed(exec(name))
      local i = test.find(r, "proc.incident", { incident = "suspicious_process", name = name })
      test.expect(i, name .. " raises a suspicious_process incident")
      test.eq(i.severity, "warning", name .. " severity")
    end
    test.eq(test.count(test.feed(exec("nginx")), "proc.incident"), 0, "nginx is no incident")
  end)
end

test.case("reverse shell: a shell with a socket as stdio", function()
  local r = test.feed(exec("bash", { stdio_socket = true }))
  local i = test.find(r, "proc.incident", { incident = "reverse_shell" })
  test.expect(i, "reverse_shell incident")
  test.eq(i.severity, "critical", "severity")
  test.eq(test.count(test.feed(exec("bash", { stdio_socket = false })), "proc.incident"), 0,
          "a shell on a terminal")
  test.eq(test.count(test.feed(exec("python3", { stdio_socket = true })), "proc.incident"), 0,
          "not a shell")
end)

test.case("privilege escalation: exec as root from a non-root parent", function()
  local r = test.feed(exec("su", { uid = 33, euid = 0, parent_euid = 33 }))
  test.expect(test.find(r, "proc.incident", { incident = "privilege_escalation", name = "su" }),
              "privilege_escalation incident")
  local root = test.feed(exec("ls", { uid = 0, euid = 0, parent_euid = 0 }))
  test.eq(test.count(root, "proc.incident"), 0, "root starting root")
  local unknown = test.feed(exec("ls", { uid = 0, euid = 0, parent_euid = -1 }))
  test.eq(test.count(unknown, "proc.incident"), 0, "parent unknown")
end)

test.case("privilege escalation: a process changes to uid 0", function()
  local r = test.feed{ type = "proc.uid", group = "web", name = "exploit", pid = 9,
                       uid = 1000, euid = 0, old_uid = 1000, old_euid = 1000 }
  local i = test.find(r, "proc.incident", { incident = "privilege_escalation" })
  test.expect(i, "incident on proc.uid")
  test.eq(i.severity, "critical", "severity")
  local drop = test.feed{ type = "proc.uid", group = "web", name = "nginx", uid = 33,
                          euid = 33, old_uid = 0, old_euid = 0 }
  test.eq(test.count(drop, "proc.incident"), 0, "dropping root is fine")
end)

test.case("incidents do not change the mode's verdict", function()
  test.mode("web", "protect")
  local r = test.feed(exec("nmap"))
  test.eq(r.verdict, "deny", "protect still denies the unknown nmap")
  test.expect(test.find(r, "proc.violation", { action = "deny" }), "violation")
  test.expect(test.find(r, "proc.incident"), "incident")
end)

test.case("incidents can be switched off per group", function()
  local ssh = exec("ssh")
  ssh.group = "build"
  test.eq(test.count(test.feed(ssh), "proc.incident"), 0, "ssh in build")
  ssh.group = "ci"
  test.expect(test.find(test.feed(ssh), "proc.incident", { incident = "suspicious_process" }),
              "ssh in ci is still suspicious")
  local shell = exec("sh", { stdio_socket = true, euid = 0, parent_euid = 1000 })
  shell.group = "ci"
  test.eq(test.count(test.feed(shell), "proc.incident"), 0, "reverse shell and escalation in ci")
  shell.group = "build"
  test.eq(test.count(test.feed(shell), "proc.incident"), 2, "both in build")
end)

test.case("a renamed argv[0] does not hide the program", function()
  local r = test.feed(exec("sleep", { path = "/tmp/.x/nmap" }))
  test.expect(test.find(r, "proc.incident", { incident = "suspicious_process" }), "by file name")
  r = test.feed(exec("sleep", { path = "/bin/ash", stdio_socket = true }))
  test.expect(test.find(r, "proc.incident", { incident = "reverse_shell" }), "shell by file name")
end)
