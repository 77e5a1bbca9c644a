-- A policy with a misspelt verdict constant inside a handler: `vigil-policy
-- check` (and a reload) must refuse it at load, naming this file and line 5,
-- not let the handler return nil ("no opinion") at every event.
vigil.on("proc.exec", function(ev)
  if ev.name == "curl" then return vigil.DENNY end
  return vigil.ALLOW -- vigil.NOPE in a comment is not code
end)
