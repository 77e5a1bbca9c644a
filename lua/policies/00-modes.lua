-- The three modes of a group, with NeuVector's semantics.
--
--   learn    what the group's workloads do becomes allowed: each process,
--            file access and connection not yet allowed is learned as a rule.
--   monitor  anything not allowed raises a violation with action "alert".
--   protect  anything not allowed is denied and raises a violation with
--            action "deny".
--
-- A group the daemon does not know yet is in the configured default mode
-- (default_mode in vigil.lua). Rules with action "deny" (written in a policy
-- or with `vigilctl rules add`) are enforced in protect mode and alerted in
-- the other two.
--
-- The verdict returned here is carried out by the engine (learn, alert, deny)
-- and cached, so that a plugin's permission hook gets the same answer next
-- time without asking Lua.

local behaviour = { "proc.exec", "file.access", "net.connect", "net.accept" }

local function decide(ev)
  if ev.group == "" then
    return nil -- host processes belong to no group; no opinion
  end
  local allowed, action = vigil.allowed(ev)
  if allowed then
    return "allow"
  end
  local mode = vigil.mode(ev.group)
  if action == "deny" then
    return mode == "protect" and "deny" or "alert"
  end
  if mode == "learn" then
    -- A process whose program is not known (its path could not be read)
    -- teaches nothing: a rule without a path would allow its name
    -- whatever file runs under it.
    -- Nor does a fileless one (memfd_create + fexecve): its "path" is a
    -- name its maker chose, and the plugin reports it as an incident.
    if ev.type == "proc.exec" and ((ev.path or "") == "" or ev.fileless == true) then
      return nil
    end
    return "learn"
  elseif mode == "monitor" then
    return "alert"
  end
  return "deny"
end

for _, type in ipairs(behaviour) do
  vigil.on(type, decide)
end
