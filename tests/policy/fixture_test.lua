-- Events from a JSON-lines fixture, as a plugin would publish them.

test.case("a recorded session learns, then is enforced", function()
  local events = test.fixture("session.jsonl")
  test.eq(#events, 4, "events in the fixture")
  for _, ev in ipairs(events) do
    test.eq(test.feed(ev).verdict, "learn", ev.type .. " " .. tostring(ev.name or ev.path))
  end
  test.mode("shop", "protect")
  for _, ev in ipairs(events) do
    test.eq(test.feed(ev).verdict, "allow", "replayed " .. ev.type)
  end
end)
