-- Declarative exceptions (vigil.exception, docs/policy.md): the listed
-- values do not raise the incident or the alert; anything else still does.

-- Each event its own process: the shipped incidents raise the same one of
-- the same process once in ten seconds.
local npid = 100
local function exec(group, name, path)
  npid = npid + 1
  return { type = "proc.exec", group = group, workload = "w-" .. group, pid = npid, name = name,
           path = path or ("/usr/bin/" .. name), user = "0", uid = 0, euid = 0, parent_euid = 0 }
end

test.case("an incident is not raised for the listed values", function()
  local r = test.feed(exec("ci-build", "nmap"))
  test.eq(test.count(r, "proc.incident"), 0, "nmap in ci-build")
  r = test.feed(exec("ci-deploy", "ncat"))
  test.eq(test.count(r, "proc.incident"), 0, "ncat in ci-deploy")
  -- Other values, other groups: raised as before.
  r = test.feed(exec("ci-build", "nc"))
  test.expect(test.find(r, "proc.incident", { incident = "suspicious_process", name = "nc" }),
              "nc in ci-build")
  r = test.feed(exec("web", "nmap"))
  test.expect(test.find(r, "proc.incident", { incident = "suspicious_process", name = "nmap" }),
              "nmap in web")
end)

test.case("a plane's alerts are not raised for the listed values", function()
  test.mode("web", "monitor")
  local r = test.feed(exec("web", "healthcheck", "/usr/local/bin/healthcheck"))
  test.eq(r.verdict, "alert", "the verdict stays")
  test.eq(test.count(r, "proc.violation"), 0, "no alert for the health check")
  -- Every field must match: the same name elsewhere alerts.
  r = test.feed(exec("web", "healthcheck", "/tmp/healthcheck"))
  test.expect(test.find(r, "proc.violation", { action = "alert", name = "healthcheck" }),
              "a healthcheck from /tmp")
  r = test.feed(exec("web", "curl"))
  test.expect(test.find(r, "proc.violation", { action = "alert", name = "curl" }), "curl")
end)

test.case("denials are never excepted", function()
  test.mode("web", "protect")
  local r = test.feed(exec("web", "healthcheck", "/usr/local/bin/healthcheck"))
  test.eq(r.verdict, "deny", "verdict")
  test.expect(test.find(r, "proc.violation", { action = "deny", name = "healthcheck" }),
              "the deny is reported")
end)

test.case("incidents carry MITRE ATT&CK tags that response rules match", function()
  local r = test.feed(exec("web", "nmap"))
  local i = test.find(r, "proc.incident", { incident = "suspicious_process" })
  test.expect(i, "incident")
  test.eq(i.tags[1], "T1046", "the first tag")
  test.eq(test.count(r, "response.done", { rule = "page-escalation" }), 0, "not an escalation")
  r = test.feed{ type = "proc.exec", group = "web", name = "su", path = "/bin/su", pid = 9,
                 uid = 1000, euid = 0, parent_euid = 1000 }
  i = test.find(r, "proc.incident", { incident = "privilege_escalation" })
  test.expect(i, "privilege_escalation")
  test.eq(i.tags[1], "T1068", "escalation's technique")
  test.expect(test.find(r, "response.done", { rule = "page-escalation" }),
              "the rule matching the tag ran")
end)
