-- CIS Docker Benchmark 1.6.0, section 7: swarm configuration, the automated
-- checks (7.1, 7.2, 7.3, 7.5). On a node outside a swarm none of them
-- applies: PASS, saying so, as docker-bench reports them. Inside one, what
-- the node keeps on disk (<data-root>/swarm: docker-state.json, its TLS key)
-- is read; what only the managers' raft store holds (the manager count, the
-- overlay networks) is INFO with the command that shows it.

local function swarm(t)
  t.level = t.level or 1
  t.automated = true
  t.scored = true
  t.target = "host"
  t.compliance = t.compliance or "network-segmentation"
  local fn = t.run
  t.run = cis.docker_check(function(ctx)
    if not cis.swarm_active() then return "PASS", "not applicable: swarm mode is not enabled" end
    return fn(ctx, cis.docker_root() .. "/swarm")
  end)
  return t
end

return {
  swarm {
    id = "7.1", title = "Ensure that the minimum number of manager nodes have been created in a swarm",
    remediation = "Keep the number of managers to what fault tolerance needs: docker node demote <node>.",
    run = function()
      return "INFO", "the managers are in the swarm's raft store: count them with "
          .. "`docker node ls --filter role=manager`"
    end,
  },
  swarm {
    id = "7.2", title = "Ensure that swarm services are bound to a specific host interface",
    remediation = "Re-initialise or join the swarm with --listen-addr <address>:2377.",
    run = function(_, dir)
      local st = cis.read_json(dir .. "/docker-state.json") or {}
      local addr = tostring(st.ListenAddr or "")
      if addr == "" then return "INFO", dir .. "/docker-state.json has no ListenAddr" end
      if addr:match("^0%.0%.0%.0:") or addr:match("^%[::%]:") or addr:match("^:") then
        return "WARN", "swarm listens on " .. addr .. " (every interface)"
      end
      return "PASS", "swarm listens on " .. addr
    end,
  },
  swarm {
    id = "7.3", title = "Ensure that all Docker swarm overlay networks are encrypted",
    remediation = "Create overlay networks with --opt encrypted.",
    run = function()
      return "INFO", "overlay networks are in the swarm's raft store: check them with "
          .. "`docker network ls --filter driver=overlay` and `docker network inspect`"
    end,
  },
  swarm {
    id = "7.5", title = "Ensure that swarm manager is run in auto-lock mode", compliance = "key-protection",
    remediation = "Run `docker swarm update --autolock=true` and keep the unlock key safe.",
    run = function(_, dir)
      local key = dir .. "/certificates/swarm-node.key"
      local pem = cis.read(key, 65536)
      if not pem then return "INFO", key .. " not found" end
      -- Auto-lock encrypts the node's TLS key with the unlock key.
      if pem:find("ENCRYPTED", 1, true) then return "PASS", key .. " is encrypted (auto-lock)" end
      return "WARN", key .. " is not encrypted: auto-lock is off"
    end,
  },
}
