-- Denied attempts reach the rules (docs/policy.md): a violation that a
-- plugin published when it denied an exec in protect mode is handed to the
-- proc.exec handlers and response rules, with denied = true.

local function denied_exec(name, enforcement)
  return { type = "proc.violation", group = "web", workload = "w1", severity = "warning",
           action = "deny", enforcement = enforcement, event_type = "proc.exec", pid = 42,
           name = name, path = "/usr/bin/" .. name, user = "0" }
end

for _, how in ipairs({ "exec", "kill" }) do
  test.case("a denied nc (" .. how .. ") raises the incident and the user's rule", function()
    test.mode("web", "protect")
    local r = test.feed(denied_exec("nc", how))
    local i = test.find(r, "proc.incident", { incident = "suspicious_process", name = "nc" })
    test.expect(i, "suspicious_process incident for the denied nc")
    local d = test.find(r, "response.done", { rule = "nc-ran", action = "webhook" })
    test.expect(d, "the user's response rule on proc.exec ran")
    local o = test.find(r, "proc.incident", { incident = "denied_exec" })
    test.expect(o, "the handler saw ev.denied")
    test.eq(o.message, "nc was stopped by " .. how, "ev.enforcement")
    test.eq(test.count(r, "policy.error"), 0, "no handler failed")
    -- Nothing is carried out for the attempt: no second violation.
    test.eq(test.count(r, "proc.violation"), 0, "no violation raised about the attempt")
  end)
end

test.case("the engine's own violations are not attempts", function()
  test.mode("web", "protect")
  local r = test.feed{ type = "proc.exec", group = "web", name = "nc", path = "/usr/bin/nc" }
  test.eq(r.verdict, "deny", "verdict")
  -- The exec's own handlers ran once: one incident, one response.
  test.eq(test.count(r, "proc.incident", { incident = "suspicious_process" }), 1, "one incident")
  test.eq(test.count(r, "response.done", { rule = "nc-ran" }), 1, "one response")
  -- ev.denied is a field of proc.exec: nil here, not an error.
  test.eq(test.count(r, "policy.error"), 0, "reading ev.denied of a plain exec")
end)

test.case("a denied harmless program raises no incident", function()
  test.mode("web", "protect")
  local r = test.feed(denied_exec("ls", "exec"))
  test.eq(test.count(r, "proc.incident", { incident = "suspicious_process" }), 0, "no incident")
  test.eq(test.count(r, "response.done"), 0, "no response")
end)
