-- The shipped default policy: learn, monitor and protect (lua/policies/00-modes.lua).

local curl = { type = "proc.exec", group = "web", workload = "w1", pid = 42,
               name = "curl", path = "/usr/bin/curl", user = "root", uid = 0, euid = 0,
               parent_euid = 0 }
local wget = { type = "proc.exec", group = "web", workload = "w1", pid = 43,
               name = "wget", path = "/usr/bin/wget", user = "root", uid = 0, euid = 0,
               parent_euid = 0 }

test.case("a new group learns in the default mode", function()
  local r = test.feed(curl)
  test.eq(r.verdict, "learn", "verdict")
  test.expect(test.allowed{ group = "web", plane = "proc", name = "curl",
                            path = "/usr/bin/curl", user = "root" }, "curl was learned")
  test.eq(test.count(r, "proc.violation"), 0, "violations in learn mode")
  -- Once learned, the same process is simply allowed.
  test.eq(test.feed(curl).verdict, "allow", "second verdict")
end)

test.case("monitor alerts on what was not learned, allows what was", function()
  test.feed(curl)
  test.mode("web", "monitor")
  test.eq(test.feed(curl).verdict, "allow", "learned process")
  local r = test.feed(wget)
  test.eq(r.verdict, "alert", "unlearned process")
  local v = test.find(r, "proc.violation", { action = "alert", name = "wget" })
  test.expect(v, "a proc.violation with action alert")
  test.eq(v.group, "web", "violation group")
  test.eq(v.path, "/usr/bin/wget", "violation path")
  test.eq(v.event_type, "proc.exec", "violation event_type")
  test.eq(test.rules("web"), 1, "monitor learns nothing")
end)

test.case("protect denies what was not learned", function()
  test.feed(curl)
  test.mode("web", "protect")
  test.eq(test.feed(curl).verdict, "allow", "learned process")
  local r = test.feed(wget)
  test.eq(r.verdict, "deny", "unlearned process")
  test.expect(test.find(r, "proc.violation", { action = "deny", name = "wget" }),
              "a proc.violation with action deny")
end)

test.case("file and network behaviour are learned and enforced too", function()
  local open = { type = "file.access", group = "db", path = "/etc/shadow",
                 program = "/usr/sbin/postgres", access = "read" }
  local conn = { type = "net.connect", group = "db", direction = "out", peer = "10.0.0.5",
                 port = 5432, proto = "tcp", app = "postgresql" }
  test.eq(test.feed(open).verdict, "learn", "file learn")
  test.eq(test.feed(conn).verdict, "learn", "net learn")
  test.mode("db", "protect")
  test.eq(test.feed(open).verdict, "allow", "learned file access")
  test.eq(test.feed(conn).verdict, "allow", "learned connection")
  local write = { type = "file.access", group = "db", path = "/etc/shadow",
                  program = "/usr/sbin/postgres", access = "write" }
  local r = test.feed(write)
  test.eq(r.verdict, "deny", "unlearned write")
  test.expect(test.find(r, "file.violation", { action = "deny", access = "write" }),
              "file.violation")
  local other = { type = "net.connect", group = "db", direction = "out", peer = "8.8.8.8",
                  port = 53, proto = "udp", app = "dns" }
  test.expect(test.find(test.feed(other), "net.violation", { action = "deny", port = "53" }),
              "net.violation")
end)

test.case("groups are independent", function()
  test.feed(curl)
  test.mode("api", "protect")
  local r = test.feed{ type = "proc.exec", group = "api", name = "curl", path = "/usr/bin/curl",
                       user = "root" }
  test.eq(r.verdict, "deny", "what web learned is not allowed in api")
end)

test.case("host events without a group get no verdict", function()
  local r = test.feed{ type = "proc.exec", name = "cron", path = "/usr/sbin/cron", user = "root" }
  test.eq(r.verdict, nil, "verdict")
  test.eq(#r.events, 0, "events")
end)

-- Connections between two groups: the less restrictive mode of the pair
-- (NeuVector's effective mode), as net.connect / net.accept carry it.
local function conn_to(group, peer, port)
  return { type = "net.connect", group = group, workload = group .. "-1", direction = "egress",
           peer = peer, peer_kind = "group", port = port, proto = "tcp", app = "http" }
end

test.case("between two groups, learning wins when either side learns", function()
  test.mode("cli", "monitor")
  test.mode("web", "learn")
  local r = test.feed(conn_to("cli", "web", "8081"))
  test.eq(r.verdict, "learn", "monitor client, learning server")
  test.eq(test.count(r, "net.violation"), 0, "violations")
  test.expect(test.allowed{ group = "cli", plane = "net", direction = "egress", peer = "web",
                            port = "8081", proto = "tcp", app = "http" }, "the connection was learned")
end)

test.case("between two groups, monitor and protect give monitor", function()
  test.mode("cli", "protect")
  test.mode("web", "monitor")
  local r = test.feed(conn_to("cli", "web", "8082"))
  test.eq(r.verdict, "alert", "protect client, monitoring server")
  local v = test.find(r, "net.violation", { action = "alert", port = "8082" })
  test.expect(v, "a net.violation with action alert")
  test.eq(v.group, "cli", "violation group")
  test.eq(v.peer, "web", "violation peer group")
  test.mode("web", "protect")
  test.eq(test.feed(conn_to("cli", "web", "8083")).verdict, "deny", "both protect")
end)

test.case("a peer that is not a group leaves the group's own mode", function()
  test.mode("cli", "monitor")
  test.mode("10.0.0.9", "learn") -- a group named like the address changes nothing
  local ev = conn_to("cli", "10.0.0.9", "80")
  ev.peer_kind = "address"
  test.eq(test.feed(ev).verdict, "alert", "address peer")
end)

test.case("a process without a path, or a fileless one, teaches nothing", function()
  local nopath = { type = "proc.exec", group = "web", workload = "w1", pid = 44,
                   name = "true", path = "", user = "0", uid = 0, euid = 0, parent_euid = 0 }
  test.eq(test.feed(nopath).verdict, nil, "verdict without a path")
  local memfd = { type = "proc.exec", group = "web", workload = "w1", pid = 45,
                  name = "x", path = "/memfd:x (deleted)", fileless = true, user = "0",
                  uid = 0, euid = 0, parent_euid = 0 }
  test.eq(test.feed(memfd).verdict, nil, "verdict of a fileless program")
  test.eq(test.rules("web"), 0, "nothing learned")
end)
