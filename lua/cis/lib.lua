-- The Lua side of the CIS check engine (plugins/cis/engine.c): what a check
-- is, how its result is read, the context of each target, and the helpers
-- that checks share. Loaded first into every run's sandboxed state.
--
-- A check file returns one check table or a list of them:
--
--   { id = "5.4",                    -- the CIS benchmark's own numbering
--     benchmark = "docker",          -- default: the directory's name ("custom" for --checks)
--     title = "Ensure that privileged containers are not used",
--     level = 1, automated = true, scored = true,
--     target = "containers",         -- host | containers | kubernetes | images
--     compliance = "least-privilege",-- key(s) of compliance.lua, or:
--     tags = { PCI = {"2.2.5"}, NIST = {"800-53: AC-6"} },
--     remediation = "Do not run containers with --privileged.",
--     description = "...",           -- optional: where and why vigil differs from the benchmark
--     version = "...",               -- default: BENCHMARK_VERSIONS[benchmark]
--     run = function(ctx) return cis.result(cis.WARN, "evidence") end }
--
-- run(ctx) returns cis.result(status, evidence) or status, evidence, with
-- status one of cis.PASS, WARN, INFO, NOTE, MANUAL (or those strings);
-- evidence a string or a list of strings. An error raised by run() is
-- reported as ERROR.
--
-- Everything a check uses is in the one table `cis`: the readers of api.c
-- (cis.read, stat, lines, ...), which never leave the run's root, and the
-- helpers of lib_host.lua, lib_containers.lua, lib_kubernetes.lua (loaded
-- after this file, in that order of names). Files are split with
-- cis.lines/split/words rather than Lua patterns: the sandbox charges a
-- pattern for its worst case, which on a file of a few kilobytes exceeds
-- any budget.
--
-- Older checks used `bench` for the table and bare globals for the helpers
-- (check_perms, vigil_result, ...): both still work (see the end of the
-- helpers, cis_compat), with a warning per name and run.

local STATUS = { PASS = true, WARN = true, INFO = true, NOTE = true, MANUAL = true }
for name in pairs(STATUS) do cis[name] = name end -- cis.WARN == "WARN"
local TARGETS = { host = true, containers = true, kubernetes = true, images = true }
local FRAMEWORKS = { PCI = true, GDPR = true, HIPAA = true, NIST = true }

-- The published benchmark each shipped section follows, named in every
-- result (and so in every report and --json): an auditor asking for "5.16"
-- must know which edition's 5.16 it is. The Docker checks follow the
-- numbering docker-bench-security prints, the Kubernetes node checks
-- kube-bench's cfg/cis-1.8.
local BENCHMARK_VERSIONS = {
  docker = "CIS Docker Benchmark v1.6.0",
  kubernetes = "CIS Kubernetes Benchmark v1.8.0",
  linux = "CIS Distribution Independent Linux Benchmark v2.0.0",
}

function cis.result(status, evidence)
  return { status = status, evidence = evidence }
end

__cis_checks = {}
local seen = {}

-- ---- checks ----------------------------------------------------------------

local function merge_tags(into, tags)
  for fw, controls in pairs(tags) do
    if fw == "source" then goto next end -- compliance.lua's provenance, not a tag
    if not FRAMEWORKS[fw] then error("unknown framework " .. tostring(fw)) end
    into[fw] = into[fw] or {}
    for _, c in ipairs(type(controls) == "table" and controls or { controls }) do
      into[fw][#into[fw] + 1] = tostring(c)
    end
    ::next::
  end
end

local function resolve_tags(c)
  local tags = {}
  local refs = c.compliance
  if type(refs) == "string" then refs = { refs } end
  for _, ref in ipairs(refs or {}) do
    local entry = COMPLIANCE[ref]
    if not entry then error("compliance entry '" .. tostring(ref) .. "' is not in compliance.lua") end
    merge_tags(tags, entry)
  end
  if type(c.tags) == "table" then merge_tags(tags, c.tags)
  elseif c.tags ~= nil then error("tags must be a table") end
  return tags
end

local function validate(c, file, section)
  local function need(ok, what) if not ok then error(what, 0) end end
  need(type(c) == "table", "a check must be a table")
  need(type(c.id) == "string" and c.id ~= "", "id must be a non-empty string")
  local where = "check " .. c.id .. ": "
  need(type(c.title) == "string" and c.title ~= "", where .. "title must be a string")
  need(c.level == 1 or c.level == 2, where .. "level must be 1 or 2")
  need(type(c.automated) == "boolean", where .. "automated must be a boolean")
  need(type(c.scored) == "boolean", where .. "scored must be a boolean")
  need(TARGETS[c.target], where .. "target must be host, containers, kubernetes or images")
  need(type(c.run) == "function", where .. "run must be a function")
  need(type(c.remediation) == "string", where .. "remediation must be a string")
  if c.benchmark == nil then
    c.benchmark = section or "custom"
  end
  need(c.description == nil or type(c.description) == "string", where .. "description must be a string")
  if c.version == nil then c.version = BENCHMARK_VERSIONS[c.benchmark] end
  need(c.version == nil or type(c.version) == "string", where .. "version must be a string")
  local ok, tags = pcall(resolve_tags, c)
  need(ok, where .. tostring(tags))
  c.tags = tags
  c.file = file
  -- CIS Docker numbers its image and container sections apart, but a
  -- runtime counterpart of an image check (4.1, running as root) keeps the
  -- image check's number: the target is part of the key.
  local key = c.benchmark .. ":" .. c.target .. ":" .. c.id
  need(not seen[key], where .. "defined twice (" .. tostring(seen[key]) .. ")")
  seen[key] = file
end

-- Called by the engine with what a check file returned, and the file's
-- section (the directory of a shipped check: "docker", ...; nil for the
-- user's). Returns nil, or a message naming every check of the file that
-- was refused.
function __cis_add(v, file, section)
  if type(v) ~= "table" then return file .. ": returns no check table" end
  local list = v.id and { v } or v
  local errs = {}
  for _, c in ipairs(list) do
    local ok, err = pcall(validate, c, file, section)
    if ok then __cis_checks[#__cis_checks + 1] = c else errs[#errs + 1] = err end
  end
  if #list == 0 then errs[1] = "returns an empty list" end
  if #errs > 0 then return file .. ": " .. table.concat(errs, "; ") end
  return nil
end

function __cis_call(check, ctx)
  local s, ev = check.run(ctx)
  if type(s) == "table" then s, ev = s.status, s.evidence end
  if not STATUS[s] then error("run() returned status " .. tostring(s) .. ", not PASS/WARN/INFO/NOTE/MANUAL", 0) end
  if type(ev) == "table" then ev = table.concat(ev, "\n") end
  return s, ev ~= nil and tostring(ev) or ""
end
-- ---- images -------------------------------------------------------------------

function cis.image_cfg(ctx) return (ctx.image.config or {}).config or {} end

function cis.image_history(ctx)
  local out = {}
  for _, h in ipairs(ctx.image.config.history or {}) do out[#out + 1] = h.created_by or "" end
  return out
end

-- ---- contexts -------------------------------------------------------------------

-- Builds what a target's checks see. nil without a message: the target has
-- nothing to check (no image given); nil and a message: an error.
function __cis_context(target)
  local opts = cis.options()
  local ctx = { target = target, root = opts.root }
  if target == "containers" then
    ctx.containers = cis.find_containers(opts.container)
  elseif target == "kubernetes" then
    ctx.kubelet = cis.find_kubelet()
    ctx.manifests_given = opts.manifests ~= nil
    ctx.objects, ctx.pods, ctx.manifest_errors = cis.load_manifests()
  elseif target == "images" then
    if opts.image then
      local img, err = cis.image()
      if not img then return nil, err end
      img.name = opts.image
      ctx.image, ctx.images = img, { img }
    else
      -- A live host: the images of the engine's stores (lib_images.lua).
      ctx.images = cis.store_images()
      ctx.image = ctx.images[1]
    end
  end
  return ctx
end

-- ---- cis_compat: the old names ---------------------------------------------

-- Checks written before the helpers moved into `cis` call them as globals
-- (check_perms(...), vigil_result(...), bench.stat(...)). Those names are
-- not globals any more, so a check's own global of the same name cannot
-- break the helpers; a read of one of them finds the helper here, with one
-- warning per name and run (where it is used, and what to write instead).
local OLD = { bench = true, vigil_result = "result" }
for _, name in ipairs({
  "audit_check", "audit_rules", "audit_watched", "bind_mounts", "caps_of", "check_mode",
  "check_owner", "check_perms", "daemon_json", "daemon_opt", "docker_check", "docker_present",
  "each_container", "each_pod", "each_pod_container", "exists", "files_under", "find_containers",
  "find_kubelet", "first_existing", "flag_value", "fmt_mode", "gid_of", "has_namespace",
  "image_cfg", "image_history", "is_privileged", "kubelet_check", "kubelet_setting",
  "load_manifests", "manifests_readable", "octal", "pod_containers", "process_args", "processes",
  "read_json", "sysctl", "sysctl_check", "trim", "truthy",
}) do OLD[name] = name end

local warned = {}
setmetatable(_ENV, { __index = function(_, name)
  local new = OLD[name]
  if new == nil then return nil end
  if not warned[name] then
    warned[name] = true
    __cis_warn_old(name, new == true and "cis" or "cis." .. new)
  end
  if new == true then return cis end
  return cis[new]
end })

-- A misspelt helper (cis.chek_perms) or status (cis.WARNN) is an error that
-- names it, at the line that used it, rather than a nil to call or return.
setmetatable(cis, { __index = function(_, name)
  error("cis." .. tostring(name) .. " does not exist (docs/cis.md lists the helpers)", 2)
end })
