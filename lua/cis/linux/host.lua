-- CIS Distribution Independent Linux Benchmark 2.0.0: the parts that matter
-- on a container host (kernel parameters, the account files, auditd, sshd),
-- read under the root from /proc/sys, /etc and the audit rules.

local function host(t)
  t.level = t.level or 1
  t.automated = true
  t.scored = true
  t.target = "host"
  return t
end

local function sysctl_rule(id, title, names, want, level)
  local checks = {}
  for _, n in ipairs(names) do checks[#checks + 1] = cis.sysctl_check(n, want) end
  return host {
    id = id, title = title, level = level, compliance = "host-hardening",
    remediation = "Set " .. table.concat(names, " = " .. want .. ", ") .. " = " .. want ..
        " in /etc/sysctl.d/ and run sysctl --system.",
    run = function()
      local ev, status = {}, "PASS"
      for _, c in ipairs(checks) do
        local s, e = c()
        if s == "WARN" then status = "WARN" elseif s == "INFO" and status == "PASS" then status = "INFO" end
        ev[#ev + 1] = e
      end
      return status, ev
    end,
  }
end

local function perms(id, title, path, mode, groups, compliance)
  return host {
    id = id, title = title, compliance = compliance or "accounts",
    remediation = string.format("chown root:%s %s; chmod %s %s", (groups or { "root" })[#(groups or { "root" })], path,
                                mode, path),
    run = function()
      local s1, e1 = cis.check_owner({ path }, groups)
      local s2, e2 = cis.check_mode({ path }, mode)
      if s1 == "INFO" then return s1, e1 end
      if s1 == "WARN" or s2 == "WARN" then
        local ev = {}
        if s1 == "WARN" then for _, e in ipairs(e1) do ev[#ev + 1] = e end end
        if s2 == "WARN" then for _, e in ipairs(e2) do ev[#ev + 1] = e end end
        return "WARN", ev
      end
      return "PASS", e1
    end,
  }
end

local function lines(path) return cis.lines(path) or {} end

-- sshd_config keywords (case-insensitive, first match wins as in sshd).
local function sshd_option(key)
  for _, l in ipairs(lines("/etc/ssh/sshd_config")) do
    local w = cis.words(l)
    if w[2] and w[1]:lower() == key:lower() then return w[2] end
  end
  return nil
end

local function sshd(id, title, key, ok, default, remediation)
  return host {
    id = id, title = title, compliance = "remote-admin", remediation = remediation,
    run = function()
      if not cis.exists("/etc/ssh/sshd_config") then return "INFO", "sshd is not configured" end
      local v = sshd_option(key) or default
      if ok(v:lower()) then return "PASS", key .. " " .. v end
      return "WARN", key .. " " .. v
    end,
  }
end

local function audit_rule(id, title, paths)
  return host {
    id = id, title = title, level = 2, compliance = "audit",
    remediation = "Add `-w <path> -p wa -k <key>` rules for " .. table.concat(paths,
                                                                              ", ") .. " to /etc/audit/rules.d/.",
    run = function()
      local missing = {}
      for _, p in ipairs(paths) do if not cis.audit_watched(p) then missing[#missing + 1] = p end end
      if #missing > 0 then return "WARN", "not watched: " .. table.concat(missing, ", ") end
      return "PASS", "watched: " .. table.concat(paths, ", ")
    end,
  }
end

return {
  host {
    id = "1.1.2", title = "Ensure separate partition exists for /tmp", level = 2, compliance = "host-hardening",
    remediation = "Mount /tmp as its own filesystem (tmp.mount) with nodev,nosuid,noexec.",
    run = function()
      for _, l in ipairs(lines("/proc/mounts")) do
        if cis.words(l)[2] == "/tmp" then return "PASS", l end
      end
      return "WARN", "/tmp is not a separate mount"
    end,
  },
  sysctl_rule("1.5.1", "Ensure core dumps are restricted", { "fs.suid_dumpable" }, "0"),
  sysctl_rule("1.5.3", "Ensure address space layout randomization (ASLR) is enabled", { "kernel.randomize_va_space" },
              "2"),
  sysctl_rule("3.1.2", "Ensure packet redirect sending is disabled",
              { "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.default.send_redirects" }, "0"),
  sysctl_rule("3.2.1", "Ensure source routed packets are not accepted",
              { "net.ipv4.conf.all.accept_source_route", "net.ipv4.conf.default.accept_source_route" }, "0"),
  sysctl_rule("3.2.2", "Ensure ICMP redirects are not accepted",
              { "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.default.accept_redirects" }, "0"),
  sysctl_rule("3.2.3", "Ensure secure ICMP redirects are not accepted",
              { "net.ipv4.conf.all.secure_redirects", "net.ipv4.conf.default.secure_redirects" }, "0"),
  sysctl_rule("3.2.4", "Ensure suspicious packets are logged",
              { "net.ipv4.conf.all.log_martians", "net.ipv4.conf.default.log_martians" }, "1"),
  sysctl_rule("3.2.5", "Ensure broadcast ICMP requests are ignored", { "net.ipv4.icmp_echo_ignore_broadcasts" }, "1"),
  sysctl_rule("3.2.6", "Ensure bogus ICMP responses are ignored", { "net.ipv4.icmp_ignore_bogus_error_responses" },
              "1"),
  sysctl_rule("3.2.7", "Ensure Reverse Path Filtering is enabled",
              { "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter" }, "1"),
  sysctl_rule("3.2.8", "Ensure TCP SYN Cookies is enabled", { "net.ipv4.tcp_syncookies" }, "1"),

  host {
    id = "4.1.1.1", title = "Ensure auditd is installed", level = 2, compliance = "audit",
    remediation = "Install auditd (apt-get install auditd).",
    run = function()
      local p = cis.first_existing({ "/sbin/auditd", "/usr/sbin/auditd" })
      if p then return "PASS", p end
      return "WARN", "auditd is not installed"
    end,
  },
  host {
    id = "4.1.1.2", title = "Ensure auditd service is enabled", level = 2, compliance = "audit",
    remediation = "systemctl --now enable auditd",
    run = function()
      local p = cis.first_existing({ "/etc/systemd/system/multi-user.target.wants/auditd.service" })
      if p then return "PASS", p end
      return "WARN", "auditd.service is not enabled"
    end,
  },
  audit_rule("4.1.4", "Ensure events that modify user/group information are collected",
             { "/etc/group", "/etc/passwd", "/etc/gshadow", "/etc/shadow" }),
  audit_rule("4.1.8", "Ensure login and logout events are collected", { "/var/log/lastlog" }),
  audit_rule("4.1.9", "Ensure session initiation information is collected", { "/var/run/utmp" }),
  audit_rule("4.1.14", "Ensure changes to system administration scope (sudoers) is collected", { "/etc/sudoers" }),

  sshd("5.2.5", "Ensure SSH LogLevel is appropriate", "LogLevel",
       function(v) return v == "info" or v == "verbose" end, "INFO", "Set LogLevel INFO in sshd_config."),
  sshd("5.2.6", "Ensure SSH X11 forwarding is disabled", "X11Forwarding",
       function(v) return v == "no" end, "no", "Set X11Forwarding no in sshd_config."),
  sshd("5.2.8", "Ensure SSH root login is disabled", "PermitRootLogin",
       function(v) return v == "no" end, "prohibit-password", "Set PermitRootLogin no in sshd_config."),
  sshd("5.2.9", "Ensure SSH PermitEmptyPasswords is disabled", "PermitEmptyPasswords",
       function(v) return v == "no" end, "no", "Set PermitEmptyPasswords no in sshd_config."),
  perms("5.2.1", "Ensure permissions on /etc/ssh/sshd_config are configured", "/etc/ssh/sshd_config", "600", nil,
        "remote-admin"),

  perms("6.1.2", "Ensure permissions on /etc/passwd are configured", "/etc/passwd", "644"),
  perms("6.1.3", "Ensure permissions on /etc/shadow are configured", "/etc/shadow", "640", { "root", "shadow" }),
  perms("6.1.4", "Ensure permissions on /etc/group are configured", "/etc/group", "644"),
  perms("6.1.5", "Ensure permissions on /etc/gshadow are configured", "/etc/gshadow", "640", { "root", "shadow" }),
  perms("6.1.6", "Ensure permissions on /etc/passwd- are configured", "/etc/passwd-", "644"),
  perms("6.1.7", "Ensure permissions on /etc/shadow- are configured", "/etc/shadow-", "640", { "root", "shadow" }),
  perms("6.1.8", "Ensure permissions on /etc/group- are configured", "/etc/group-", "644"),
  perms("6.1.9", "Ensure permissions on /etc/gshadow- are configured", "/etc/gshadow-", "640", { "root", "shadow" }),

  host {
    id = "6.2.1", title = "Ensure password fields are not empty", compliance = "accounts",
    remediation = "Lock the accounts: passwd -l <user>.",
    run = function()
      local text = cis.read("/etc/shadow")
      if not text then return "INFO", "/etc/shadow is not readable" end
      local bad = {}
      for _, l in ipairs(lines("/etc/shadow")) do
        local f = cis.split(l, ":")
        if f[2] == "" then bad[#bad + 1] = f[1] .. " has no password" end
      end
      if #bad > 0 then return "WARN", bad end
      return "PASS", "every account has a password or is locked"
    end,
  },
  host {
    id = "6.2.2", title = "Ensure no legacy \"+\" entries exist in /etc/passwd", compliance = "accounts",
    remediation = "Remove lines starting with + from /etc/passwd.",
    run = function()
      -- A check that cannot see its input is not a pass.
      if not cis.read("/etc/passwd") then return "INFO", "/etc/passwd is not readable" end
      for _, l in ipairs(lines("/etc/passwd")) do
        if l:sub(1, 1) == "+" then return "WARN", "legacy entry " .. l end
      end
      return "PASS", "none"
    end,
  },
  host {
    id = "6.2.5", title = "Ensure root is the only UID 0 account", compliance = "accounts",
    remediation = "Give every account but root a non-zero UID.",
    run = function()
      if not cis.read("/etc/passwd") then return "INFO", "/etc/passwd is not readable" end
      local bad = {}
      for _, l in ipairs(lines("/etc/passwd")) do
        local f = cis.split(l, ":")
        if f[3] == "0" and f[1] ~= "root" then bad[#bad + 1] = f[1] .. " has uid 0" end
      end
      if #bad > 0 then return "WARN", bad end
      return "PASS", "only root has uid 0"
    end,
  },
}
