-- Loaded next to the shipped policy by `vigil-policy test` (see
-- constants_test.lua): the same decisions about proc.uid events (which the
-- shipped policy leaves alone), written once with the verdict and mode
-- constants and once with strings.

local function with_constants(ev)
  if ev.name == "a" then return vigil.ALLOW
  elseif ev.name == "l" then return vigil.LEARN
  elseif ev.name == "w" then return vigil.ALERT
  elseif ev.name == "d" then return vigil.DENY
  elseif ev.name == "m" then return vigil.mode(ev.group) == vigil.PROTECT and vigil.DENY or vigil.ALERT
  elseif ev.name == "r" then vigil.report_deny(ev, { message = "reported" })
  end
  return nil
end

local function with_strings(ev)
  if ev.name == "a" then return "allow"
  elseif ev.name == "l" then return "learn"
  elseif ev.name == "w" then return "alert"
  elseif ev.name == "d" then return "deny"
  elseif ev.name == "m" then return vigil.mode(ev.group) == "protect" and "deny" or "alert"
  elseif ev.name == "r" then vigil.alert(ev, { message = "reported" })
  end
  return nil
end

vigil.on("proc.uid", function(ev)
  if ev.group == "constants" then return with_constants(ev) end
  if ev.group == "strings" then return with_strings(ev) end
  return nil
end)
