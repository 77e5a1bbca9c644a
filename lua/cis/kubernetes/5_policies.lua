-- CIS Kubernetes Benchmark 1.8.0 (kube-bench cfg/cis-1.8), section 5: policies, checked on the
-- manifests given with --manifests (Pods and every workload that embeds a
-- pod template). Two checks that CIS leaves to the Pod Security Standards
-- (read-only root filesystem, AppArmor) are numbered in the "vigil"
-- benchmark, not given invented CIS numbers.

local function pol(t)
  t.level = t.level or 1
  t.automated = true
  t.scored = true
  t.target = "kubernetes"
  t.benchmark = t.benchmark or "kubernetes"
  local pod, ctr = t.pod, t.container
  t.pod, t.container = nil, nil
  t.run = t.run or function(ctx)
    if pod then return cis.each_pod(ctx, pod) end
    return cis.each_pod_container(ctx, ctr)
  end
  return t
end

local function caps(c) return ((c.securityContext or {}).capabilities) or {} end
local function has(list, v)
  for _, x in ipairs(list or {}) do if x == v or x == "CAP_" .. v then return true end end
  return false
end

return {
  pol {
    id = "5.1.6", title = "Ensure that Service Account Tokens are only mounted where necessary",
    compliance = "access-control",
    remediation = "Set automountServiceAccountToken: false on pods that do not call the API server.",
    pod = function(_, spec)
      if spec.automountServiceAccountToken ~= false then return "automountServiceAccountToken is not false" end
    end,
  },
  pol {
    id = "5.2.2", title = "Minimize the admission of privileged containers", compliance = "least-privilege",
    remediation = "Remove securityContext.privileged: true.",
    container = function(_, c) if (c.securityContext or {}).privileged == true then return "is privileged" end end,
  },
  pol {
    id = "5.2.3", title = "Minimize the admission of containers wishing to share the host process ID namespace",
    compliance = "isolation", remediation = "Remove hostPID: true.",
    pod = function(_, spec) if spec.hostPID == true then return "hostPID" end end,
  },
  pol {
    id = "5.2.4", title = "Minimize the admission of containers wishing to share the host IPC namespace",
    compliance = "isolation", remediation = "Remove hostIPC: true.",
    pod = function(_, spec) if spec.hostIPC == true then return "hostIPC" end end,
  },
  pol {
    id = "5.2.5", title = "Minimize the admission of containers wishing to share the host network namespace",
    compliance = { "isolation", "network-segmentation" }, remediation = "Remove hostNetwork: true.",
    pod = function(_, spec) if spec.hostNetwork == true then return "hostNetwork" end end,
  },
  pol {
    id = "5.2.6", title = "Minimize the admission of containers with allowPrivilegeEscalation",
    compliance = "least-privilege", remediation = "Set allowPrivilegeEscalation: false in every container.",
    container = function(_, c)
      if (c.securityContext or {}).allowPrivilegeEscalation ~= false then return "allows privilege escalation" end
    end,
  },
  pol {
    id = "5.2.7", title = "Minimize the admission of root containers", compliance = "least-privilege",
    remediation = "Set runAsNonRoot: true and a non-zero runAsUser.",
    container = function(_, _, sc)
      if sc("runAsUser") == 0 then return "runs as uid 0" end
      if sc("runAsNonRoot") ~= true then return "runAsNonRoot is not true" end
    end,
  },
  pol {
    id = "5.2.8", title = "Minimize the admission of containers with the NET_RAW capability",
    compliance = "least-privilege", remediation = "Drop ALL (or at least NET_RAW) capabilities.",
    container = function(_, c)
      local cp = caps(c)
      if has(cp.add, "NET_RAW") or not (has(cp.drop, "ALL") or has(cp.drop, "NET_RAW")) then return "keeps NET_RAW" end
    end,
  },
  pol {
    id = "5.2.9", title = "Minimize the admission of containers with added capabilities",
    compliance = "least-privilege", remediation = "Remove capabilities.add, or keep only NET_BIND_SERVICE.",
    container = function(_, c)
      local added = {}
      for _, a in ipairs(caps(c).add or {}) do if a ~= "NET_BIND_SERVICE" then added[#added + 1] = a end end
      if #added > 0 then return "adds " .. table.concat(added, ",") end
    end,
  },
  pol {
    id = "5.2.10", title = "Minimize the admission of containers with capabilities assigned", level = 2,
    compliance = "least-privilege", remediation = "Set capabilities.drop: [ALL].",
    container = function(_, c) if not has(caps(c).drop, "ALL") then return "does not drop ALL capabilities" end end,
  },
  pol {
    id = "5.2.12", title = "Minimize the admission of HostPath volumes", compliance = { "isolation", "integrity" },
    remediation = "Use persistent volumes, emptyDir or projected volumes instead of hostPath.",
    pod = function(_, spec)
      local paths = {}
      for _, v in ipairs(spec.volumes or {}) do
        if v.hostPath then paths[#paths + 1] = tostring(v.hostPath.path) end
      end
      if #paths > 0 then return "hostPath " .. table.concat(paths, ", ") end
    end,
  },
  pol {
    id = "5.2.13", title = "Minimize the admission of containers which use HostPorts",
    compliance = "network-segmentation", remediation = "Expose pods through Services, not hostPort.",
    container = function(_, c)
      for _, p in ipairs(c.ports or {}) do
        if p.hostPort and p.hostPort ~= 0 then return "hostPort " .. tostring(p.hostPort) end
      end
    end,
  },
  pol {
    id = "5.3.2", title = "Ensure that all Namespaces have NetworkPolicies defined",
    compliance = "network-segmentation",
    remediation = "Add a NetworkPolicy (default deny, then allow) to each namespace.",
    run = function(ctx)
      if not ctx.manifests_given then return "INFO", "no manifests given (--manifests)" end
      cis.manifests_readable(ctx)
      local used, covered, order = {}, {}, {}
      for _, o in ipairs(ctx.objects) do
        local ns = (o.metadata or {}).namespace or (o.kind == "Namespace" and (o.metadata or {}).name) or "default"
        if o.kind == "NetworkPolicy" then covered[ns] = true
        elseif not used[ns] then used[ns] = true; order[#order + 1] = ns end
      end
      local bad = {}
      for _, ns in ipairs(order) do
        if not covered[ns] then bad[#bad + 1] = "namespace " .. ns .. " has no NetworkPolicy" end
      end
      if #order == 0 then return "INFO", "no namespaced objects" end
      if #bad > 0 then return "WARN", bad end
      return "PASS", #order .. " namespaces have network policies"
    end,
  },
  pol {
    id = "5.4.1", title = "Prefer using Secrets as files over Secrets as environment variables", level = 2,
    compliance = "secrets", remediation = "Mount secrets as volumes instead of env valueFrom.secretKeyRef.",
    container = function(_, c)
      for _, e in ipairs(c.env or {}) do
        if (e.valueFrom or {}).secretKeyRef then return "env " .. tostring(e.name) .. " from a secret" end
      end
      for _, e in ipairs(c.envFrom or {}) do if e.secretRef then return "envFrom a secret" end end
    end,
  },
  pol {
    id = "5.7.2", title = "Ensure that the seccomp profile is set to docker/default in your Pod definitions", level = 2,
    compliance = "mandatory-access-control",
    remediation = "Set securityContext.seccompProfile.type: RuntimeDefault.",
    container = function(p, _, sc)
      local prof = sc("seccompProfile")
      local ann = p.annotations["seccomp.security.alpha.kubernetes.io/pod"]
      local t = prof and prof.type
      if t == "RuntimeDefault" or t == "Localhost" or ann == "runtime/default" or ann == "docker/default" then
        return nil
      end
      return "has no seccomp profile" .. (t and (" (" .. t .. ")") or "")
    end,
  },
  pol {
    id = "5.7.3", title = "Apply SecurityContext to your Pods and Containers", level = 2,
    compliance = "least-privilege", remediation = "Give every pod and container a securityContext.",
    container = function(p, c)
      if not c.securityContext and not p.spec.securityContext then return "has no securityContext" end
    end,
  },
  pol {
    id = "5.7.4", title = "The default namespace should not be used", level = 2,
    compliance = "isolation", remediation = "Deploy into dedicated namespaces.",
    pod = function(p) if p.namespace == "default" then return "in the default namespace" end end,
  },
  pol {
    id = "VK-1", benchmark = "vigil", title = "Ensure containers run with a read-only root filesystem",
    compliance = "integrity",
    remediation = "Set securityContext.readOnlyRootFilesystem: true; mount emptyDir where writes are needed.",
    container = function(_, c)
      if (c.securityContext or {}).readOnlyRootFilesystem ~= true then return "root filesystem is writable" end
    end,
  },
  pol {
    id = "VK-2", benchmark = "vigil", title = "Ensure containers run with an AppArmor profile",
    compliance = "mandatory-access-control",
    remediation = "Set securityContext.appArmorProfile.type: RuntimeDefault (or the beta annotation).",
    container = function(p, c, sc)
      local prof = sc("appArmorProfile")
      local ann = p.annotations["container.apparmor.security.beta.kubernetes.io/" .. tostring(c.name)]
      if prof and (prof.type == "RuntimeDefault" or prof.type == "Localhost") then return nil end
      if ann and ann ~= "unconfined" then return nil end
      return "has no AppArmor profile"
    end,
  },
}
