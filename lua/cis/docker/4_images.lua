-- CIS Docker Benchmark 1.6.0, section 4: images and their Dockerfiles, read
-- from a `docker save` tarball (--image): the image config (USER,
-- HEALTHCHECK, ENV), its history (the Dockerfile's instructions) and the
-- metadata of every file of every layer; or, on a live host, from the
-- configs of every image in the engine's stores (lib_images.lua), whose
-- layers are not read.

-- PASS only when every layer was read: a compressed layer (an OCI layout
-- written by another tool) is not walked, so nothing can be said of it.
local function files_pass(ctx, evidence)
  if ctx.image.unread_reason then return "INFO", ctx.image.unread_reason end
  local unread = ctx.image.unread or {}
  if #unread > 0 then
    local l = {}
    for _, i in ipairs(unread) do l[#l + 1] = tostring(i) end
    return "INFO", evidence .. " in the layers read; layer(s) " .. table.concat(l,
                                                                                ", ") .. " not inspected (compressed)"
  end
  return "PASS", evidence
end

local function img(t)
  t.level = t.level or 1
  t.automated = true
  t.scored = true
  t.target = "images"
  local per_image = t.run
  t.run = function(ctx) return cis.each_image(ctx, per_image) end
  return t
end

-- The places a host sets an environment variable for every login: where
-- DOCKER_CONTENT_TRUST=1 makes every docker client verify what it pulls.
local ENV_FILES = { "/etc/environment", "/etc/default/docker" }

-- Names that say "secret" in an ENV key or a build argument.
local SECRET_KEY = { "PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY",
                     "CREDENTIAL" }
-- Files that are secrets whatever their content.
local SECRET_FILE = { "id_rsa$", "id_ecdsa$", "id_ed25519$", "%.pem$", "%.key$", "%.p12$", "/%.env$",
                      "/%.npmrc$", "/%.pypirc$", "/%.netrc$", "/%.docker/config%.json$", "/%.aws/credentials$",
                      "/%.git%-credentials$" }

local function secret_key(k)
  k = k:upper()
  for _, s in ipairs(SECRET_KEY) do if k:find(s, 1, true) then return true end end
  return false
end

local function secret_file(p)
  for _, pat in ipairs(SECRET_FILE) do if p:match(pat) then return true end end
  return false
end

local INSTRUCTIONS = { ADD = true, COPY = true, ENV = true, RUN = true, USER = true, HEALTHCHECK = true,
                       CMD = true, ENTRYPOINT = true, EXPOSE = true, LABEL = true, WORKDIR = true,
                       ARG = true, VOLUME = true, SHELL = true, STOPSIGNAL = true, ONBUILD = true }

-- The instruction of a history entry ("RUN", "ADD", ...) and its words:
-- the classic builder writes "/bin/sh -c #(nop) ADD file:..", BuildKit
-- "ADD file:..", and a RUN is the bare shell command under either.
local function instruction(h)
  local w = cis.words(h)
  for i, x in ipairs(w) do
    if x == "#(nop)" and INSTRUCTIONS[w[i + 1]] then return w[i + 1], w end
  end
  if INSTRUCTIONS[w[1]] then return w[1], w end
  return "RUN", w
end

local function has_seq(w, a, b)
  for i = 1, #w - 1 do if w[i] == a and w[i + 1] == b then return true end end
  return false
end

local function content_trust()
  local files = { table.unpack(ENV_FILES) }
  for _, f in ipairs(cis.list("/etc/profile.d") or {}) do files[#files + 1] = "/etc/profile.d/" .. f end
  for _, f in ipairs(files) do
    for _, line in ipairs(cis.lines(f) or {}) do
      local w = cis.words((line:gsub("^%s*export%s+", "")))[1] or ""
      local v = w:match("^DOCKER_CONTENT_TRUST=[\"']?([^\"']*)")
      if v then return v, f end
    end
  end
  return nil
end

-- A check the benchmark calls Manual with nothing on disk to decide it:
-- NOTE, as docker-bench, with what a person should look at.
local function review(id, title, compliance, what, remediation)
  return { id = id, title = title, level = 1, automated = false, scored = false, target = "images",
           compliance = compliance, remediation = remediation,
           run = function() return "NOTE", what end }
end

return {
  {
    id = "4.5", title = "Ensure Content trust for Docker is Enabled", level = 2, automated = true, scored = true,
    target = "images", compliance = "trusted-images",
    description = "docker-bench reads DOCKER_CONTENT_TRUST in its own environment; vigil, which runs as a "
        .. "daemon, reads where the host sets it for every login (/etc/environment, /etc/profile.d).",
    remediation = "Set DOCKER_CONTENT_TRUST=1 in /etc/environment (or a file of /etc/profile.d).",
    run = cis.docker_check(function()
      local v, f = content_trust()
      if v == "1" then return "PASS", "DOCKER_CONTENT_TRUST=1 in " .. f end
      if v then return "WARN", "DOCKER_CONTENT_TRUST=" .. v .. " in " .. f end
      return "WARN", "DOCKER_CONTENT_TRUST is not set for the host's logins"
    end),
  },
  img {
    id = "4.1", title = "Ensure that a user for the container has been created", compliance = "least-privilege",
    remediation = "Add `USER <non-root>` to the Dockerfile.",
    run = function(ctx)
      local u = cis.image_cfg(ctx).User
      if not u or u == "" or u == "root" or u == "0" or u:match("^root:") or u:match("^0:") then
        return "WARN", "USER is " .. (u and u ~= "" and u or "not set") .. ": the image runs as root"
      end
      return "PASS", "USER " .. u
    end,
  },
  img {
    id = "4.6", title = "Ensure that HEALTHCHECK instructions have been added to container images",
    compliance = "availability",
    remediation = "Add a HEALTHCHECK instruction to the Dockerfile.",
    run = function(ctx)
      local hc = cis.image_cfg(ctx).Healthcheck
      local test = hc and hc.Test
      if not test or test[1] == "NONE" then return "WARN", "no HEALTHCHECK" end
      return "PASS", "HEALTHCHECK " .. table.concat(test, " ")
    end,
  },
  img {
    id = "4.7", title = "Ensure update instructions are not used alone in Dockerfiles", compliance = "patching",
    remediation = "Combine `apt-get update` with `apt-get install` in one RUN instruction.",
    run = function(ctx)
      local bad = {}
      for _, h in ipairs(cis.image_history(ctx)) do
        local ins, w = instruction(h)
        if ins == "RUN" then
          local upd = has_seq(w, "apt-get", "update") or has_seq(w, "apt", "update") or has_seq(w, "apk", "update")
              or has_seq(w, "yum", "makecache") or has_seq(w, "dnf", "makecache")
          local inst = h:find("install", 1, true) or has_seq(w, "apk", "add") or h:find("upgrade", 1, true)
          if upd and not inst then bad[#bad + 1] = h end
        end
      end
      if #bad > 0 then return "WARN", bad end
      return "PASS", "no update instruction alone in a layer"
    end,
  },
  img {
    id = "4.8", title = "Ensure setuid and setgid permissions are removed", level = 2, compliance = "minimal-software",
    remediation = "RUN find / -perm /6000 -type f -exec chmod a-s {} \\; in the last layer, or remove the files.",
    run = function(ctx)
      local live, bad = {}, {}
      for _, f in ipairs(ctx.image.files) do
        if f.whiteout then live[f.path] = nil else live[f.path] = f end
      end
      for p, f in pairs(live) do
        -- 0xC00 is octal 6000: the setuid and setgid bits.
        if f.type == "file" and f.mode & 0xC00 ~= 0 then bad[#bad + 1] = string.format("%s (%s)", p,
                                                                                       cis.fmt_mode(f.mode)) end
      end
      table.sort(bad)
      if #bad > 0 then return "WARN", bad end
      return files_pass(ctx, "no setuid or setgid files")
    end,
  },
  img {
    id = "4.9", title = "Ensure that COPY is used instead of ADD in Dockerfiles", compliance = "image-config",
    remediation = "Use COPY; fetch remote files with curl in a RUN that verifies them.",
    run = function(ctx)
      local bad = {}
      for i, h in ipairs(cis.image_history(ctx)) do
        local ins, w = instruction(h)
        -- The base image's root filesystem is always an ADD: not the user's choice.
        local base = i == 1 and w[#w] == "/" and w[#w - 1] == "in"
        if ins == "ADD" and not base then bad[#bad + 1] = h end
      end
      if #bad > 0 then return "WARN", bad end
      return "PASS", "no ADD instruction"
    end,
  },
  img {
    id = "4.10", title = "Ensure secrets are not stored in Dockerfiles", compliance = "secrets",
    remediation = "Pass secrets at run time (mounted files, a secret store) or use BuildKit --secret; "
        .. "never ENV or COPY.",
    run = function(ctx)
      local bad = {}
      for _, e in ipairs(cis.image_cfg(ctx).Env or {}) do
        local eq = e:find("=", 1, true)
        local k, v = eq and e:sub(1, eq - 1), eq and e:sub(eq + 1)
        if k and v ~= "" and secret_key(k) then bad[#bad + 1] = "ENV " .. k .. " is set" end
      end
      for _, h in ipairs(cis.image_history(ctx)) do
        for _, word in ipairs(cis.words(h)) do
          local eq = word:find("=", 1, true)
          if eq and eq > 1 and eq < #word and secret_key(word:sub(1, eq - 1)) then
            bad[#bad + 1] = "build step sets " .. word:sub(1, eq - 1)
            break
          end
        end
      end
      -- A secret added in one layer and deleted in a later one is still in
      -- the image: the deletion only hides it.
      local added, order, deleted = {}, {}, {}
      for _, f in ipairs(ctx.image.files) do
        if not f.whiteout and f.type == "file" and secret_file(f.path) then
          if not added[f.path] then order[#order + 1] = f.path end
          added[f.path] = f.layer
        elseif f.whiteout and added[f.path] then
          deleted[f.path] = f.layer
        end
      end
      for _, p in ipairs(order) do
        if deleted[p] then
          bad[#bad + 1] = string.format("secret file %s added in layer %d, deleted in layer %d but still in the image",
                                        p, added[p], deleted[p])
        else
          bad[#bad + 1] = "secret file " .. p .. " in layer " .. added[p]
        end
      end
      if #bad > 0 then return "WARN", bad end
      return files_pass(ctx, "no secret in ENV, build steps or files")
    end,
  },
  review("4.2", "Ensure that containers use only trusted base images", "trusted-images",
         "the base image of each image is in its history (`docker history`); check it comes from a registry "
             .. "you trust and is signed (4.5)",
         "Build from base images of registries you trust, and verify their signatures."),
  review("4.3", "Ensure that unnecessary packages are not installed in the container", "minimal-software",
         "list each image's packages (dpkg -l, apk info, rpm -qa in a container of it) and remove what "
             .. "the service does not use",
         "Use a minimal base image and install only what the service needs."),
  review("4.4", "Ensure images are scanned and rebuilt to include security patches", "patching",
         "scan each image with a vulnerability scanner and rebuild those with fixed versions available",
         "Scan images regularly and rebuild them from patched base images."),
  review("4.11", "Ensure only verified packages are installed", "trusted-images",
         "check that each image's package manager verifies signatures (no --allow-unauthenticated, "
             .. "--nogpgcheck, trusted=yes in its build steps)",
         "Install packages only from signed repositories with verification on."),
  review("4.12", "Ensure all signed artifacts are validated", "trusted-images",
         "check that the build verifies the signatures of what it downloads (cosign verify, gpg --verify)",
         "Validate the signature of every artifact before it enters an image."),
}
