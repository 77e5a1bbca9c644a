-- The Lua side of the bench engine (plugins/bench/engine.c): what a check
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
--     run = function(ctx) return vigil_result("WARN", "evidence") end }
--
-- run(ctx) returns vigil_result(status, evidence) or status, evidence, with
-- status one of PASS, WARN, INFO, NOTE, MANUAL; evidence a string or a list
-- of strings. An error raised by run() is reported as ERROR.
--
-- The helpers that checks share are in lib_host.lua, lib_containers.lua,
-- lib_kubernetes.lua (loaded after this file, in that order of names).
--
-- Everything is read through `bench` (api.c), so every path below is under
-- the run's root. Files are split with bench.lines/split/words rather than
-- Lua patterns: the sandbox charges a pattern for its worst case, which on
-- a file of a few kilobytes exceeds any budget.

local STATUS = { PASS = true, WARN = true, INFO = true, NOTE = true, MANUAL = true }
local TARGETS = { host = true, containers = true, kubernetes = true, images = true }
local FRAMEWORKS = { PCI = true, GDPR = true, HIPAA = true, NIST = true }

function vigil_result(status, evidence)
  return { status = status, evidence = evidence }
end

__bench_checks = {}
local seen = {}

-- ---- checks ----------------------------------------------------------------

local function merge_tags(into, tags)
  for fw, controls in pairs(tags) do
    if not FRAMEWORKS[fw] then error("unknown framework " .. tostring(fw)) end
    into[fw] = into[fw] or {}
    for _, c in ipairs(type(controls) == "table" and controls or { controls }) do
      into[fw][#into[fw] + 1] = tostring(c)
    end
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

local function validate(c, file)
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
    c.benchmark = file:match("/bench/([^/]+)/[^/]+$") or "custom"
  end
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

-- Called by the engine with what a check file returned. Returns nil, or a
-- message naming every check of the file that was refused.
function __bench_add(v, file)
  if type(v) ~= "table" then return file .. ": returns no check table" end
  local list = v.id and { v } or v
  local errs = {}
  for _, c in ipairs(list) do
    local ok, err = pcall(validate, c, file)
    if ok then __bench_checks[#__bench_checks + 1] = c else errs[#errs + 1] = err end
  end
  if #list == 0 then errs[1] = "returns an empty list" end
  if #errs > 0 then return file .. ": " .. table.concat(errs, "; ") end
  return nil
end

function __bench_call(check, ctx)
  local s, ev = check.run(ctx)
  if type(s) == "table" then s, ev = s.status, s.evidence end
  if not STATUS[s] then error("run() returned status " .. tostring(s) .. ", not PASS/WARN/INFO/NOTE/MANUAL", 0) end
  if type(ev) == "table" then ev = table.concat(ev, "\n") end
  return s, ev ~= nil and tostring(ev) or ""
end
-- ---- images -------------------------------------------------------------------

function image_cfg(ctx) return (ctx.image.config or {}).config or {} end

function image_history(ctx)
  local out = {}
  for _, h in ipairs(ctx.image.config.history or {}) do out[#out + 1] = h.created_by or "" end
  return out
end

-- ---- contexts -------------------------------------------------------------------

-- Builds what a target's checks see. nil without a message: the target has
-- nothing to check (no image given); nil and a message: an error.
function __bench_context(target)
  local opts = bench.options()
  local ctx = { target = target, root = opts.root }
  if target == "containers" then
    ctx.containers = find_containers(opts.container)
  elseif target == "kubernetes" then
    ctx.kubelet = find_kubelet()
    ctx.manifests_given = opts.manifests ~= nil
    ctx.objects, ctx.pods, ctx.manifest_errors = load_manifests()
  elseif target == "images" then
    if not opts.image then return nil end
    local img, err = bench.image()
    if not img then return nil, err end
    ctx.image = img
  end
  return ctx
end
