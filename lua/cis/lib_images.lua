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

-- containerd: blobs are content-addressed and untyped (their media types
-- are in the metadata database, a bbolt file); an image config is the JSON
-- blob with a layers rootfs. Large blobs (layers) are skipped by size.
local CONTAINERD_STORES = { "/var/lib/containerd/io.containerd.content.v1.content" }
local CONFIG_MAX = 1 << 20

local function containerd_images(out)
  local stores = { table.unpack(CONTAINERD_STORES) }
  for _, r in ipairs(cis.docker_roots()) do
    stores[#stores + 1] = r.data .. "/containerd/daemon/io.containerd.content.v1.content"
  end
  for _, store in ipairs(stores) do
    local dir = store .. "/blobs/sha256"
    for _, hex in ipairs(cis.list(dir) or {}) do
      local p = dir .. "/" .. hex
      local st = cis.stat(p)
      if st and st.type == "file" and st.size < CONFIG_MAX and cis.read(p, 1) == "{" then
        local cfg = cis.read_json(p)
        if type(cfg) == "table" and type(cfg.rootfs) == "table" and cfg.rootfs.type == "layers" then
          out[#out + 1] = { name = "sha256:" .. hex:sub(1, 12), id = "sha256:" .. hex, config = cfg,
                            files = {}, unread_reason = UNREAD, store = "containerd" }
        end
      end
    end
  end
end

-- Every image of the stores under the root.
function cis.store_images()
  local out = {}
  for _, r in ipairs(cis.docker_roots()) do docker_images(out, r.data) end
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
