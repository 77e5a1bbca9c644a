-- CIS Kubernetes Benchmark 1.8.0, section 4: worker nodes, numbered and
-- titled as kube-bench's cfg/cis-1.8/node.yaml. The kubelet's files (4.1)
-- and its settings (4.2), from its command line under <root>/proc and its
-- config file (--config, or /var/lib/kubelet/config.yaml).
--
-- Precedence as kube-bench implements it (check/check.go: the `audit`
-- output, the kubelet's command line, is tested first and the
-- `audit_config` output, the config file, only when the flag is absent),
-- which is also the kubelet's own: a flag overrides the config file.

local SERVICE = { "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                  "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                  "/lib/systemd/system/kubelet.service", "/etc/systemd/system/kubelet.service" }

local MISSING = "A file that does not exist is INFO (kube-bench FAILs the check, its audit printing nothing): "
    .. "a missing file is neither a finding nor a pass."

local function node(t)
  t.level = t.level or 1
  t.automated = t.automated ~= false
  t.scored = t.automated
  t.target = "kubernetes"
  t.compliance = t.compliance or "runtime-config"
  t.run = cis.kubelet_check(t.run)
  return t
end

local function proxy_kubeconfig()
  local args = cis.process_args("kube-proxy")
  return { cis.flag_value(args, "kubeconfig") or "/etc/kubernetes/proxy.conf" }
end

local function client_ca(k)
  local v = cis.kubelet_setting(k, "client-ca-file", "authentication.x509.clientCAFile")
  return { v or "/etc/kubernetes/pki/ca.crt" }
end

local function files(id_mode, id_owner, title_mode, title_owner, paths, mode, automated)
  local function list(k) return type(paths) == "function" and paths(k) or paths end
  return node {
    id = id_mode, title = title_mode, automated = automated, compliance = "file-permissions",
    description = MISSING,
    remediation = string.format("chmod %s on the file.", mode),
    run = function(k) return cis.check_mode(list(k), mode) end,
  }, node {
    id = id_owner, title = title_owner, automated = automated, compliance = "file-permissions",
    description = MISSING,
    remediation = "chown root:root on the file.",
    run = function(k) return cis.check_owner(list(k)) end,
  }
end

-- A kubelet setting, by flag and config path; ok(v) says whether the value
-- passes (v is nil when neither sets it).
local function setting(t)
  local flag, path, ok = t.flag, t.path, t.ok
  t.flag, t.path, t.ok = nil, nil, nil
  t.run = function(k)
    local v, where = cis.kubelet_setting(k, flag, path)
    local good, why = ok(v, k)
    local ev = where .. (v ~= nil and (" = " .. (type(v) == "table" and table.concat(v, ",") or tostring(v))) or "")
    if good then return "PASS", ev end
    return "WARN", why and (ev .. ": " .. why) or ev
  end
  return node(t)
end

local function is_true(v) return v == true or v == "true" end
local function is_false(v) return v == false or v == "false" end
local function is_set(v) return v ~= nil and v ~= "" end

-- kube-bench's list for 4.2.12: the suites a kubelet may offer.
local STRONG = {}
for _, c in ipairs({ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                     "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256" }) do
  STRONG[c] = true
end

-- A feature gate: --feature-gates=A=true,B=false, else featureGates in the config.
local function feature_gate(k, name)
  for _, v in ipairs(cis.flag_value(k.args, "feature-gates", true)) do
    for _, kv in ipairs(cis.split(tostring(v), ",")) do
      local eq = kv:find("=", 1, true)
      if eq and cis.trim(kv:sub(1, eq - 1)) == name then
        return cis.trim(kv:sub(eq + 1)), "--feature-gates " .. name
      end
    end
  end
  local g = (k.config.featureGates or {})[name]
  if g ~= nil then return g, (k.config_path or "config") .. ": featureGates." .. name end
  return nil, "featureGates." .. name .. " not set"
end

local checks = {}
local function add(...) for _, c in ipairs({ ... }) do checks[#checks + 1] = c end end

add(files("4.1.1", "4.1.2", "Ensure that the kubelet service file permissions are set to 600 or more restrictive",
          "Ensure that the kubelet service file ownership is set to root:root", SERVICE, "600", true))
add(files("4.1.3", "4.1.4", "If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive",
          "If proxy kubeconfig file exists ensure ownership is set to root:root", proxy_kubeconfig, "600", false))
add(files("4.1.5", "4.1.6",
          "Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive",
          "Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root",
          function(k) return { k.kubeconfig } end, "600", true))
add(files("4.1.7", "4.1.8",
          "Ensure that the certificate authorities file permissions are set to 600 or more restrictive",
          "Ensure that the client certificate authorities file ownership is set to root:root", client_ca, "600", false))
add(files("4.1.9", "4.1.10",
          "If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more "
              .. "restrictive",
          "If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root",
          function(k) return { k.config_path or "/var/lib/kubelet/config.yaml" } end, "600", true))

add(setting {
  id = "4.2.1", title = "Ensure that the --anonymous-auth argument is set to false", compliance = "access-control",
  flag = "anonymous-auth", path = "authentication.anonymous.enabled", ok = is_false,
  remediation = "Set authentication.anonymous.enabled: false in the kubelet config (or --anonymous-auth=false).",
})
add(setting {
  id = "4.2.2", title = "Ensure that the --authorization-mode argument is not set to AlwaysAllow",
  compliance = "access-control", flag = "authorization-mode", path = "authorization.mode",
  ok = function(v)
    if v == nil then return false, "not set (the kubelet then allows every request)" end
    return not tostring(v):find("AlwaysAllow", 1, true)
  end,
  remediation = "Set authorization.mode: Webhook.",
})
add(setting {
  id = "4.2.3", title = "Ensure that the --client-ca-file argument is set as appropriate",
  compliance = "transport-security", flag = "client-ca-file", path = "authentication.x509.clientCAFile",
  ok = is_set, remediation = "Set authentication.x509.clientCAFile.",
})
add(setting {
  id = "4.2.4", title = "Verify that the --read-only-port argument is set to 0", automated = false,
  compliance = "access-control", flag = "read-only-port", path = "readOnlyPort",
  ok = function(v) return v == nil or tonumber(v) == 0 end,
  remediation = "Set readOnlyPort: 0.",
})
add(setting {
  id = "4.2.5", title = "Ensure that the --streaming-connection-idle-timeout argument is not set to 0",
  automated = false, flag = "streaming-connection-idle-timeout", path = "streamingConnectionIdleTimeout",
  ok = function(v) return v == nil or (v ~= 0 and v ~= "0" and v ~= "0s") end,
  remediation = "Remove streamingConnectionIdleTimeout: 0 (or set e.g. 5m).",
})
add(setting {
  id = "4.2.6", title = "Ensure that the --make-iptables-util-chains argument is set to true",
  compliance = "network-segmentation", flag = "make-iptables-util-chains", path = "makeIPTablesUtilChains",
  ok = function(v) return v == nil or is_true(v) end,
  remediation = "Remove makeIPTablesUtilChains: false.",
})
add(node {
  id = "4.2.7", title = "Ensure that the --hostname-override argument is not set", automated = false,
  remediation = "Remove --hostname-override from the kubelet's command line.",
  -- A command-line flag only: the config file has no such setting.
  run = function(k)
    local v = cis.flag_value(k.args, "hostname-override")
    if v ~= nil then return "WARN", "--hostname-override = " .. tostring(v) end
    return "PASS", "--hostname-override not set"
  end,
})
add(setting {
  id = "4.2.8",
  title = "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture",
  automated = false, compliance = "logging", level = 2, flag = "event-qps", path = "eventRecordQPS",
  ok = function(v) return v == nil or (tonumber(v) or -1) >= 0 end,
  remediation = "Set eventRecordQPS to a level that keeps the events you need (the default, 50, or 0 for no limit).",
})
add(node {
  id = "4.2.9", title = "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate",
  automated = false, compliance = "transport-security",
  remediation = "Set tlsCertFile and tlsPrivateKeyFile.",
  run = function(k)
    local c, cw = cis.kubelet_setting(k, "tls-cert-file", "tlsCertFile")
    local p, pw = cis.kubelet_setting(k, "tls-private-key-file", "tlsPrivateKeyFile")
    local ev = { cw .. (c and (" = " .. tostring(c)) or ""), pw .. (p and (" = " .. tostring(p)) or "") }
    if is_set(c) and is_set(p) then return "PASS", ev end
    return "WARN", ev
  end,
})
add(setting {
  id = "4.2.10", title = "Ensure that the --rotate-certificates argument is not set to false",
  compliance = "transport-security", flag = "rotate-certificates", path = "rotateCertificates",
  ok = function(v) return v == nil or is_true(v) end,
  remediation = "Remove rotateCertificates: false.",
})
add(node {
  id = "4.2.11", title = "Verify that the RotateKubeletServerCertificate argument is set to true", automated = false,
  compliance = "transport-security",
  remediation = "Remove RotateKubeletServerCertificate=false from the feature gates.",
  run = function(k)
    local v, where = feature_gate(k, "RotateKubeletServerCertificate")
    if is_false(v) then return "WARN", where .. " = false" end
    return "PASS", where .. (v ~= nil and (" = " .. tostring(v)) or "")
  end,
})
add(setting {
  id = "4.2.12", title = "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers", automated = false,
  compliance = "transport-security", flag = "tls-cipher-suites", path = "tlsCipherSuites",
  ok = function(v)
    if v == nil then return false, "not set (the defaults include CBC suites)" end
    local list = type(v) == "table" and v or cis.split(tostring(v), ",")
    local weak = {}
    for _, c in ipairs(list) do
      c = cis.trim(tostring(c))
      if c ~= "" and not STRONG[c] then weak[#weak + 1] = c end
    end
    if #weak > 0 then return false, "not in the benchmark's list: " .. table.concat(weak, ", ") end
    return true
  end,
  remediation = "Set tlsCipherSuites to the GCM/CHACHA20 suites of the benchmark, or a subset.",
})
add(setting {
  id = "4.2.13", title = "Ensure that a limit is set on pod PIDs", automated = false, compliance = "resource-limits",
  flag = "pod-max-pids", path = "podPidsLimit", ok = is_set,
  remediation = "Set podPidsLimit (or --pod-max-pids) to what a pod may need.",
})
return checks
