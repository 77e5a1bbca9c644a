-- CIS Kubernetes Benchmark 1.7.0, section 4: worker nodes. The kubelet's
-- files (4.1) and its settings (4.2), from its command line under
-- <root>/proc and its config file (--config, or /var/lib/kubelet/config.yaml).

local SERVICE = { "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                  "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                  "/lib/systemd/system/kubelet.service", "/etc/systemd/system/kubelet.service" }

local function node(t)
  t.level = t.level or 1
  t.automated = t.automated ~= false
  t.scored = true
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
  return v and { v } or {}
end

local function files(id_mode, id_owner, what, paths, mode)
  local function list(k) return type(paths) == "function" and paths(k) or paths end
  return node {
    id = id_mode, title = string.format("Ensure that the %s permissions are set to %s or more restrictive", what, mode),
    compliance = "file-permissions",
    remediation = string.format("chmod %s on the %s.", mode, what),
    run = function(k)
      local l = list(k)
      if #l == 0 then return "INFO", what .. " not configured" end
      return cis.check_mode(l, mode)
    end,
  }, node {
    id = id_owner, title = "Ensure that the " .. what .. " ownership is set to root:root",
    compliance = "file-permissions",
    remediation = "chown root:root on the " .. what .. ".",
    run = function(k)
      local l = list(k)
      if #l == 0 then return "INFO", what .. " not configured" end
      return cis.check_owner(l)
    end,
  }
end

local function setting(id, title, flag, path, ok, remediation, extra)
  extra = extra or {}
  return node {
    id = id, title = title, compliance = extra.compliance, level = extra.level,
    remediation = remediation,
    run = function(k)
      local v, where = cis.kubelet_setting(k, flag, path)
      local good, why = ok(v)
      local ev = where .. (v ~= nil and (" = " .. tostring(v)) or "")
      if good then return "PASS", ev end
      return "WARN", why and (ev .. ": " .. why) or ev
    end,
  }
end

local function is_true(v) return v == true or v == "true" end
local function is_false(v) return v == false or v == "false" end

local checks = {}
local function add(...) for _, c in ipairs({ ... }) do checks[#checks + 1] = c end end

add(files("4.1.1", "4.1.2", "kubelet service file", SERVICE, "600"))
add(files("4.1.3", "4.1.4", "proxy kubeconfig file", proxy_kubeconfig, "600"))
add(files("4.1.5", "4.1.6", "kubelet.conf file", function(k) return { k.kubeconfig } end, "600"))
add(files("4.1.7", "4.1.8", "certificate authorities file", client_ca, "600"))
add(files("4.1.9", "4.1.10", "kubelet config.yaml file",
          function(k) return k.config_path and { k.config_path } or {} end, "600"))

add(setting("4.2.1", "Ensure that the --anonymous-auth argument is set to false", "anonymous-auth",
            "authentication.anonymous.enabled", is_false,
            "Set authentication.anonymous.enabled: false in the kubelet config.", { compliance = "access-control" }))
add(setting("4.2.2", "Ensure that the --authorization-mode argument is not set to AlwaysAllow", "authorization-mode",
            "authorization.mode",
            function(v) return v ~= nil and v ~= "AlwaysAllow", v == nil and "defaults to AlwaysAllow" end,
            "Set authorization.mode: Webhook.", { compliance = "access-control" }))
add(setting("4.2.3", "Ensure that the --client-ca-file argument is set as appropriate", "client-ca-file",
            "authentication.x509.clientCAFile", function(v) return v ~= nil and v ~= "" end,
            "Set authentication.x509.clientCAFile.", { compliance = "transport-security" }))
add(setting("4.2.4", "Verify that the --read-only-port argument is set to 0", "read-only-port", "readOnlyPort",
            function(v) return v == 0 or v == "0" or v == nil end,
            "Set readOnlyPort: 0.", { compliance = "access-control" }))
add(setting("4.2.5", "Ensure that the --streaming-connection-idle-timeout argument is not set to 0",
            "streaming-connection-idle-timeout", "streamingConnectionIdleTimeout",
            function(v) return v ~= 0 and v ~= "0" and v ~= "0s" end,
            "Remove streamingConnectionIdleTimeout: 0 (or set e.g. 5m)."))
add(setting("4.2.6", "Ensure that the --protect-kernel-defaults argument is set to true", "protect-kernel-defaults",
            "protectKernelDefaults", is_true, "Set protectKernelDefaults: true.", { level = 1 }))
add(setting("4.2.7", "Ensure that the --make-iptables-util-chains argument is set to true", "make-iptables-util-chains",
            "makeIPTablesUtilChains", function(v) return v == nil or is_true(v) end,
            "Remove makeIPTablesUtilChains: false.", { compliance = "network-segmentation" }))
add(setting("4.2.8", "Ensure that the --hostname-override argument is not set", "hostname-override",
            "hostnameOverride", function(v) return v == nil end, "Remove --hostname-override."))
add(setting("4.2.9",
            "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture",
            "event-qps", "eventRecordQPS", function(v) return v == nil or (tonumber(v) or 0) > 0 end,
            "Set eventRecordQPS above 0 (the default 5 is fine).", { compliance = "logging", level = 2 }))
add(setting("4.2.10", "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate",
            "tls-cert-file", "tlsCertFile", function(v) return v ~= nil and v ~= "" end,
            "Set tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true.",
            { compliance = "transport-security" }))
add(setting("4.2.11", "Ensure that the --rotate-certificates argument is not set to false", "rotate-certificates",
            "rotateCertificates", function(v) return not is_false(v) end,
            "Remove rotateCertificates: false.", { compliance = "transport-security" }))
add(setting("4.2.12", "Verify that the RotateKubeletServerCertificate argument is set to true",
            "rotate-server-certificates",
            "featureGates.RotateKubeletServerCertificate", function(v) return v == nil or is_true(v) end,
            "Remove featureGates.RotateKubeletServerCertificate: false.", { compliance = "transport-security" }))
add(setting("4.2.13", "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers", "tls-cipher-suites",
            "tlsCipherSuites", function(v)
              if v == nil then return false, "default suites include CBC and 3DES ciphers" end
              local s = type(v) == "table" and table.concat(v, ",") or tostring(v)
              if s:match("CBC") or s:match("3DES") or s:match("RC4") then return false, "weak suite listed" end
              return true
            end,
            "Set tlsCipherSuites to the GCM/CHACHA20 ECDHE suites only.", { compliance = "transport-security" }))
return checks
