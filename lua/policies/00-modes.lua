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
-- A connection between two known groups (net.connect / net.accept with
-- peer_kind "group") is judged in the effective mode of the pair, the less
-- restrictive of the two (NeuVector's rule: when the modes differ, the
-- effective mode is the least restrictive one): learn when either side
-- learns, monitor when one monitors and the other protects, protect only
-- when both protect. A connection to anything else (an address, a named
-- network, a DNS name) is judged in the workload's own group's mode.
--
-- The verdict returned here is carried out by the engine (learn, alert, deny)
-- and cached, so that a plugin's permission hook gets the same answer next
-- time without asking Lua.

local behaviour = { "proc.exec", "file.access", "net.connect", "net.accept" }

local strictness = { [vigil.LEARN] = 0, [vigil.MONITOR] = 1, [vigil.PROTECT] = 2 }

local function effective_mode(ev)
  local mode = vigil.mode(ev.group)
  if ev.peer_kind == "group" and ev.peer and ev.peer ~= "" then
    local other = vigil.mode(ev.peer)
    if strictness[other] and strictness[other] < strictness[mode] then
      return other
    end
  end
  return mode
end

local function decide(ev)
  if ev.group == "" then
    return nil -- host processes belong to no group; no opinion
  end
  local allowed, action = vigil.allowed(ev)
  if allowed then
    return vigil.ALLOW
  end
  local mode = effective_mode(ev)
  if action == vigil.DENY then -- a deny rule
    return mode == vigil.PROTECT and vigil.DENY or vigil.ALERT
  end
  if mode == vigil.LEARN then
    -- A process whose program is not known (its path could not be read)
    -- teaches nothing: a rule without a path would allow its name
    -- whatever file runs under it.
    -- Nor does a fileless one (memfd_create + fexecve): its "path" is a
    -- name its maker chose, and the plugin reports it as an incident.
    if ev.type == "proc.exec" and ((ev.path or "") == "" or ev.fileless == true) then
      return nil
    end
    return vigil.LEARN
  elseif mode == vigil.MONITOR then
    return vigil.ALERT
  end
  return vigil.DENY
end

for _, type in ipairs(behaviour) do
  vigil.on(type, decide)
end
