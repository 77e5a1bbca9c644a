-- CIS Docker Benchmark 1.6.0, section 7: swarm configuration (7.1-7.9; 7.4
-- and 7.6-7.9 are Manual in the benchmark). On a node outside a swarm none of them
-- applies: PASS, saying so, as docker-bench reports them. Inside one, what
-- the node keeps on disk (<data-root>/swarm: docker-state.json, its TLS key)
-- is read; what only the managers' raft store holds (the manager count, the
-- overlay networks) is INFO with the command that shows it.

local function swarm(t)
  t.level = t.level or 1
  t.automated = t.automated ~= false
  t.scored = t.automated
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
  swarm {
    id = "7.4",
    title = "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
    automated = false, compliance = "secrets",
    description = "Inside a swarm INFO: the secrets are in the managers' raft store, not on the node's disk "
        .. "(docker-bench PASSes when `docker secret ls` lists one).",
    remediation = "Keep the swarm's secrets in `docker secret`, not in images, environments or files.",
    run = function() return "INFO", "list the swarm's secrets with `docker secret ls`" end,
  },
  swarm {
    id = "7.6", title = "Ensure that the swarm manager auto-lock key is rotated periodically", automated = false,
    compliance = "key-protection",
    remediation = "Rotate the unlock key with `docker swarm unlock-key --rotate` at a set interval.",
    run = function() return "NOTE", "keep a record of when `docker swarm unlock-key --rotate` last ran" end,
  },
  swarm {
    id = "7.7", title = "Ensure that node certificates are rotated as appropriate", automated = false,
    compliance = "key-protection",
    description = "Inside a swarm INFO with the node certificate's file: its expiry is set in the raft "
        .. "store (docker-bench PASSes when `docker info` shows a 2-day expiry).",
    remediation = "Set the certificate expiry: docker swarm update --cert-expiry 48h.",
    run = function(_, dir)
      return "INFO", "the node certificate is " .. dir .. "/certificates/swarm-node.crt; the expiry "
          .. "setting shows in `docker info` (CA Configuration: Expiry Duration)"
    end,
  },
  swarm {
    id = "7.8", title = "Ensure that CA certificates are rotated as appropriate", automated = false,
    compliance = "key-protection",
    remediation = "Rotate the swarm CA with `docker swarm ca --rotate` at a set interval.",
    run = function(_, dir)
      return "INFO", "the swarm's root CA is " .. dir .. "/certificates/swarm-root-ca.crt: check its age"
    end,
  },
  swarm {
    id = "7.9", title = "Ensure that management plane traffic is separated from data plane traffic",
    automated = false,
    remediation = "Initialise the swarm with --advertise-addr and --data-path-addr on separate interfaces.",
    run = function(_, dir)
      local st = cis.read_json(dir .. "/docker-state.json") or {}
      return "INFO", string.format("management on %s, data path on %s", tostring(st.AdvertiseAddr or "?"),
                                   tostring(st.DataPathAddr ~= nil and st.DataPathAddr ~= "" and st.DataPathAddr
                                       or "the same address"))
    end,
  },
}
