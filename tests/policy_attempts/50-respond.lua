-- A user's rule written for the behaviour, "nc ran in a container": it
-- must fire when nc was tried where protect mode denied it, too.
vigil.response{
  name = "nc-ran",
  on = "proc.exec",
  match = { name = "nc" },
  actions = { "webhook:ops" },
}

-- A user's handler that looks at the outcome.
vigil.on("proc.exec", function(ev)
  if ev.denied then
    vigil.alert(ev, { type = "proc.incident", name = "denied_exec", severity = "notice",
                      message = ev.name .. " was stopped by " .. ev.enforcement })
  end
end)
