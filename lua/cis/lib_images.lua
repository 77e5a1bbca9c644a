-- Images: a `docker save` tarball (--image, read by image.c with every
-- layer's files), or, on a live host, every image of the engine's own
-- stores: Docker's image db and containerd's content store. An image config
-- in a store is the same JSON as in a tarball (USER, HEALTHCHECK, ENV,
-- history), so the checks that read the config run on both; the layers of
-- stored images are not read, and the checks of files say so (INFO).
-- Helpers for the checks (see lib.lua); loaded after it, into every run.

local UNREAD = "layers of images in the engine's store are not read (give the image with --image)"

-- Docker: <data-root>/image/<driver>/imagedb/content/sha256/<id> is the
-- config of each image, repositories.json names them.
local function docker_images(out, data_root)
  local base = data_root .. "/image"
  for _, driver in ipairs(cis.list(base) or {}) do
    local names = {}
    local repos = cis.read_json(base .. "/" .. driver .. "/repositories.json") or {}
    for _, tags in pairs(repos.Repositories or {}) do
      for ref, id in pairs(tags) do
        if not ref:find("@", 1, true) then
          names[id] = names[id] or {}
          names[id][#names[id] + 1] = ref
        end
      end
    end
    local dir = base .. "/" .. driver .. "/imagedb/content/sha256"
    for _, hex in ipairs(cis.list(dir) or {}) do
      local cfg = cis.read_json(dir .. "/" .. hex)
      if type(cfg) == "table" then
        local n = names["sha256:" .. hex] or {}
        table.sort(n)
        out[#out + 1] = { name = #n > 0 and table.concat(n, ",") or ("sha256:" .. hex:sub(1, 12)),
                          id = "sha256:" .. hex, config = cfg, files = {}, unread_reason = UNREAD,
                          store = "docker " .. driver }
      end
    end
  end
end

-- containerd: blobs are content-addressed and untyped; an image config is
-- the JSON blob with a layers rootfs. Large blobs (layers) are skipped by
-- size. The images' names are in the metadata store (a bbolt file):
-- v1/<namespace>/images/<name>/target/digest names a manifest (or an
-- index of manifests), whose config digest is the config's blob.
local CONFIG_MAX = 1 << 20

-- The root of every running containerd (--root, else its config's `root`,
-- else the default), dockerd's own under its data root, and the default.
local function containerd_roots()
  local out, seen = {}, {}
  local function add(r)
    if r and r ~= "" and not seen[r] then
      seen[r] = true
      out[#out + 1] = r
    end
  end
  for _, p in ipairs(cis.processes()) do
    if p.comm == "containerd" then
      local root = cis.flag_value(p.args, "root")
      if type(root) ~= "string" then
        local conf = cis.flag_value(p.args, "config") or cis.flag_value(p.args, "c") or "/etc/containerd/config.toml"
        for _, l in ipairs(type(conf) == "string" and cis.lines(conf) or {}) do
          local w = cis.split(l, "\"")
          if cis.trim(w[1] or "") == "root =" and w[2] then root = w[2] end
        end
      end
      add(type(root) == "string" and root or "/var/lib/containerd")
    end
  end
  add("/var/lib/containerd")
  for _, d in ipairs(cis.dockerd_roots()) do add(d.data .. "/containerd/daemon") end
  return out
end

local function blob(root, digest)
  local hex = type(digest) == "string" and digest:match("^sha256:(%x+)$")
  if not hex then return nil end
  local p = root .. "/io.containerd.content.v1.content/blobs/sha256/" .. hex
  local st = cis.stat(p)
  if not st or st.type ~= "file" or st.size >= CONFIG_MAX then return nil end
  return cis.read_json(p)
end

-- config digest -> the names ("name" or "namespace/name" outside
-- "default") of the images whose manifest, or a manifest of whose index,
-- has that config.
local function containerd_names(root)
  local names = {}
  local db = cis.bolt(root .. "/io.containerd.metadata.v1.bolt/meta.db")
  local function add(cfg_digest, name)
    if type(cfg_digest) ~= "string" then return end
    names[cfg_digest] = names[cfg_digest] or {}
    local n = names[cfg_digest]
    n[#n + 1] = name
  end
  for ns, nsb in pairs(type(db) == "table" and type(db.v1) == "table" and db.v1 or {}) do
    for name, img in pairs(type(nsb) == "table" and type(nsb.images) == "table" and nsb.images or {}) do
      local target = type(img) == "table" and img.target
      local shown = ns == "default" and name or (ns .. "/" .. name)
      local m = blob(root, type(target) == "table" and target.digest)
      if type(m) == "table" and type(m.manifests) == "table" then
        for _, d in ipairs(m.manifests) do
          local sub = blob(root, type(d) == "table" and d.digest)
          add(type(sub) == "table" and type(sub.config) == "table" and sub.config.digest, shown)
        end
      elseif type(m) == "table" and type(m.config) == "table" then
        add(m.config.digest, shown)
      end
    end
  end
  return names
end

local function containerd_images(out)
  for _, root in ipairs(containerd_roots()) do
    local dir = root .. "/io.containerd.content.v1.content/blobs/sha256"
    local hexes = cis.list(dir)
    local names = hexes and containerd_names(root) or {}
    for _, hex in ipairs(hexes or {}) do
      local p = dir .. "/" .. hex
      local st = cis.stat(p)
      if st and st.type == "file" and st.size < CONFIG_MAX and cis.read(p, 1) == "{" then
        local cfg = cis.read_json(p)
        if type(cfg) == "table" and type(cfg.rootfs) == "table" and cfg.rootfs.type == "layers" then
          local n = names["sha256:" .. hex] or {}
          table.sort(n)
          out[#out + 1] = { name = #n > 0 and table.concat(n, ",") or ("sha256:" .. hex:sub(1, 12)),
                            id = "sha256:" .. hex, config = cfg, files = {}, unread_reason = UNREAD,
                            store = "containerd" }
        end
      end
    end
  end
end

-- Every image of the stores under the root.
function cis.store_images()
  local out = {}
  for _, d in ipairs(cis.dockerd_roots()) do docker_images(out, d.data) end
  containerd_images(out)
  return out
end

-- Runs an image check on every image of ctx.images: fn(ctx') with
-- ctx'.image the image, returning status, evidence as a check does. WARN
-- when one warns, else INFO when one is INFO, else PASS; the evidence is
-- that of the images with that status, each line prefixed by the image's
-- name unless the one image was given with --image.
function cis.each_image(ctx, fn)
  local images = ctx.images or { ctx.image }
  if #images == 0 then return "INFO", "no image given (--image) and none in the engine's stores" end
  local rank = { PASS = 0, NOTE = 1, MANUAL = 1, INFO = 2, WARN = 3 }
  local worst, by = "PASS", {}
  for _, img in ipairs(images) do
    local s, ev = fn(setmetatable({ image = img }, { __index = ctx }))
    if type(s) == "table" then s, ev = s.status, s.evidence end
    if not rank[s] then return s, ev end -- a bad status: the engine reports it
    if rank[s] > rank[worst] then worst = s end
    by[s] = by[s] or {}
    for _, e in ipairs(type(ev) == "table" and ev or { ev }) do
      if e ~= "" then by[s][#by[s] + 1] = (#images > 1 or img.store) and (img.name .. ": " .. tostring(e)) or e end
    end
  end
  return worst, by[worst]
end
