-- The verdict and mode constants (vigil.ALLOW, ..., vigil.PROTECT) decide
-- exactly as the strings they stand for (80-constants.lua writes the same
-- policy both ways), and vigil.report_deny publishes a deny violation.

local function uid(group, name)
  return { type = "proc.uid", group = group, name = name, path = "/bin/" .. name, pid = 7,
           uid = 1000, euid = 1000, old_uid = 1000, old_euid = 1000 }
end

test.case("each constant decides as its string", function()
  for _, name in ipairs({ "a", "l", "w", "d", "m", "x" }) do
    local c, s = test.feed(uid("constants", name)), test.feed(uid("strings", name))
    test.eq(c.verdict, s.verdict, "verdict for " .. name)
    test.eq(test.count(c, "proc.violation"), test.count(s, "proc.violation"),
            "violations for " .. name)
  end
  test.eq(test.feed(uid("constants", "d")).verdict, "deny", "vigil.DENY")
  test.eq(test.feed(uid("constants", "x")).verdict, nil, "no opinion")
  test.eq(test.rules("constants"), test.rules("strings"), "rules learned")
  test.expect(test.rules("constants") == 1, "vigil.LEARN learned one rule")
end)

test.case("mode constants follow the group's mode", function()
  test.eq(test.feed(uid("constants", "m")).verdict, "alert", "learn mode")
  test.mode("constants", "protect")
  test.mode("strings", "protect")
  local c, s = test.feed(uid("constants", "m")), test.feed(uid("strings", "m"))
  test.eq(c.verdict, "deny", "protect mode, constants")
  test.eq(s.verdict, "deny", "protect mode, strings")
end)

test.case("vigil.report_deny publishes a deny violation and decides nothing", function()
  local r = test.feed(uid("constants", "r"))
  test.eq(r.verdict, nil, "verdict")
  test.expect(test.find(r, "proc.violation", { action = "deny", message = "reported" }),
              "a violation with action deny")
end)
