-- Kubernetes: workloads of the manifests, and the kubelet.
-- Helpers for the checks (see lib.lua); loaded after it, into every run.

-- ---- Kubernetes --------------------------------------------------------------

local WORKLOAD_SPEC = {
  Pod = function(d) return d.spec end,
  Deployment = function(d) return ((d.spec or {}).template or {}).spec end,
  StatefulSet = function(d) return ((d.spec or {}).template or {}).spec end,
  DaemonSet = function(d) return ((d.spec or {}).template or {}).spec end,
  ReplicaSet = function(d) return ((d.spec or {}).template or {}).spec end,
  ReplicationController = function(d) return ((d.spec or {}).template or {}).spec end,
  Job = function(d) return ((d.spec or {}).template or {}).spec end,
  CronJob = function(d)
    return ((((d.spec or {}).jobTemplate or {}).spec or {}).template or {}).spec
  end,
}

local function flatten(docs, out)
  for _, d in ipairs(docs or {}) do
    if type(d) == "table" then
      if d.kind == "List" or (d.kind and d.kind:match("List$")) then flatten(d.items, out)
      elseif d.kind then out[#out + 1] = d end
    end
  end
end

-- Objects of the manifests, and the pods among them.
function cis.load_manifests()
  local objects, pods, errors = {}, {}, {}
  for _, m in ipairs(cis.manifests()) do
    if m.error then errors[#errors + 1] = m.file .. ": " .. m.error end
    local objs = {}
    flatten(m.docs, objs)
    for _, o in ipairs(objs) do
      o.__file = m.file
      objects[#objects + 1] = o
      local get = WORKLOAD_SPEC[o.kind]
      local spec = get and get(o)
      if spec then
        local meta = o.metadata or {}
        -- Annotations of the pod: the template's for a workload.
        local tmeta = (((o.spec or {}).template or {}).metadata) or meta
        pods[#pods + 1] = { kind = o.kind, name = meta.name or "?", namespace = meta.namespace or "default",
                            spec = spec, object = o, annotations = tmeta.annotations or {},
                            label = o.kind .. "/" .. (meta.namespace or "default") .. "/" .. (meta.name or "?") }
      end
    end
  end
  return objects, pods, errors
end

function cis.pod_containers(spec)
  local out = {}
  for _, key in ipairs({ "initContainers", "containers", "ephemeralContainers" }) do
    for _, c in ipairs(spec[key] or {}) do out[#out + 1] = c end
  end
  return out
end

-- Manifests that could not be read or parsed make every manifest check an
-- ERROR: what was not read cannot pass.
function cis.manifests_readable(ctx)
  if #(ctx.manifest_errors or {}) > 0 then
    error("manifests not read: " .. table.concat(ctx.manifest_errors, "; "), 0)
  end
end

-- fn(pod, spec) -> nil or why. INFO without manifests.
function cis.each_pod(ctx, fn)
  if not ctx.manifests_given then return "INFO", "no manifests given (--manifests)" end
  cis.manifests_readable(ctx)
  if #ctx.pods == 0 then return "INFO", "no workloads in the manifests" end
  local bad = {}
  for _, p in ipairs(ctx.pods) do
    local why = fn(p, p.spec)
    if why then bad[#bad + 1] = p.label .. ": " .. why end
  end
  if #bad > 0 then return "WARN", bad end
  return "PASS", #ctx.pods .. " workloads checked"
end

-- fn(pod, container, effective securityContext getter) -> nil or why.
function cis.each_pod_container(ctx, fn)
  return cis.each_pod(ctx, function(p, spec)
    local whys = {}
    for _, c in ipairs(cis.pod_containers(spec)) do
      local function sc(key)
        local v = (c.securityContext or {})[key]
        if v == nil then v = (spec.securityContext or {})[key] end
        return v
      end
      local why = fn(p, c, sc)
      if why then whys[#whys + 1] = (c.name or "?") .. " " .. why end
    end
    if #whys > 0 then return table.concat(whys, ", ") end
  end)
end

-- The kubelet: its arguments, its config file (YAML) and kubeconfig.
function cis.find_kubelet()
  local args = cis.process_args("kubelet")
  local cfg_path = cis.flag_value(args, "config") or cis.first_existing({ "/var/lib/kubelet/config.yaml" })
  local cfg
  if cfg_path then
    local docs = cis.yaml(cis.read(cfg_path) or "")
    cfg = docs and docs[1]
  end
  if not args and not cfg then return nil end
  return {
    args = args or {}, config = cfg or {}, config_path = cfg_path,
    kubeconfig = cis.flag_value(args, "kubeconfig") or "/etc/kubernetes/kubelet.conf",
  }
end

-- A kubelet setting: the command-line flag wins over the config file.
function cis.kubelet_setting(k, flag, path)
  local v = cis.flag_value(k.args, flag)
  if v ~= nil then return v, "--" .. flag end
  local t = k.config
  for part in path:gmatch("[^%.]+") do
    if type(t) ~= "table" then t = nil break end
    t = t[part]
  end
  if t ~= nil then return t, (k.config_path or "config") .. ": " .. path end
  return nil, path .. " not set"
end

function cis.kubelet_check(fn)
  return function(ctx)
    if not ctx.kubelet then return "INFO", "no kubelet found under this root" end
    return fn(ctx.kubelet, ctx)
  end
end
