#!/usr/bin/env bash
# The Kubernetes deployment (deploy/k8s, Dockerfile), checked offline:
# kustomize renders it; a structural check of our own (no schema validator
# is packaged for Debian) holds the DaemonSet to exactly the privileges it
# explains (host PID and network, a listed set of capabilities each with
# its reason, no privileged mode, read-only root and host paths except the
# store and the socket, no API token, no ports); the ConfigMaps' drop-in
# and policies pass `vigild --check` and `vigil-policy check`; the paths
# the manifests run exist in what the package installs; and the sidecar
# that reloads vigild when a ConfigMap changes does so for real, on a
# directory laid out as the kubelet lays out a ConfigMap volume (files
# linked through ..data, swapped by one rename).
. "$(dirname "$0")/lib.sh"
K="$VIGIL_SRC/deploy/k8s"
# kustomize renders the resources where kubectl is installed; elsewhere the
# resources that kustomization.yaml lists are read as they are.
if command -v kubectl >/dev/null; then
    kubectl kustomize "$K" >"$T/rendered.yaml" || fail "kustomize cannot render deploy/k8s"
else
    for f in $(python3 -c 'import sys, yaml; print(" ".join(yaml.safe_load(open(sys.argv[1]))["resources"]))' \
        "$K/kustomization.yaml"); do
        cat "$K/$f"
        echo "---"
    done >"$T/rendered.yaml"
fi
VERSION=$(sed -n 's/^project(vigil VERSION \([0-9.]*\).*/\1/p' "$VIGIL_SRC/CMakeLists.txt")
python3 - "$T/rendered.yaml" "$K/daemonset.yaml" "$VERSION" "$T" <<'PY' || fail "manifest check"
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
raw = open(sys.argv[2]).read()
version, tmp = sys.argv[3], sys.argv[4]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["ConfigMap", "ConfigMap", "DaemonSet", "Namespace"], kinds
ds = next(d for d in docs if d["kind"] == "DaemonSet")
cms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
ns = ds["metadata"]["namespace"]
assert all(d["metadata"]["namespace"] == ns for d in cms.values())
assert ds["apiVersion"] == "apps/v1"
sel = ds["spec"]["selector"]["matchLabels"]
tpl = ds["spec"]["template"]
assert sel.items() <= tpl["metadata"]["labels"].items(), "selector does not match the pods"
pod = tpl["spec"]
assert pod["hostPID"] is True and pod["hostNetwork"] is True
assert not pod.get("hostIPC"), "hostIPC is not needed"
assert pod["automountServiceAccountToken"] is False, "vigild needs no API token"
vols = {v["name"]: v for v in pod["volumes"]}
WANT_CAPS = {"SYS_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "DAC_OVERRIDE", "NET_ADMIN", "KILL",
             "SYS_RESOURCE"}
RW_HOST = {"/var/lib/vigil", "/run/vigil"}
images = set()
for c in pod["containers"]:
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False, c["name"]
    assert sc["readOnlyRootFilesystem"] is True, c["name"]
    assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
    add = set(sc["capabilities"].get("add", []))
    if c["name"] == "vigild":
        assert add == WANT_CAPS, add
    else:
        assert not add, (c["name"], add)
    for cap in add:  # each capability says why, on its line
        assert re.search(r"^\s*- %s\s+#\s*\S" % cap, raw, re.M), "no reason given for " + cap
    assert not c.get("ports"), "no port is published"
    images.add(c["image"])
    for m in c["volumeMounts"]:
        v = vols[m["name"]]
        if "hostPath" in v:
            assert v["hostPath"]["path"] == m["mountPath"], m
            if m["mountPath"] not in RW_HOST:
                assert m.get("readOnly") is True, "host path mounted writable: " + m["mountPath"]
        if "configMap" in v:
            assert "subPath" not in m, "a subPath mount never sees ConfigMap updates"
            assert v["configMap"]["name"] in cms, v
            assert m.get("readOnly") is True
    for probe in ("livenessProbe", "readinessProbe"):
        if probe in c:
            g = c[probe]["httpGet"]
            assert (g["host"], g["port"], g["path"]) == ("127.0.0.1", 9464, "/healthz"), g
assert images == {"vigil:" + version}, images
assert not any(d["kind"] == "Service" for d in docs), "the socket and metrics stay on the node"
# What the ConfigMaps hold, for the checks that follow.
for name, cm in cms.items():
    for fname, text in cm["data"].items():
        open("%s/cm-%s-%s" % (tmp, name, fname), "w").write(text)
conf = cms["vigil-config"]["data"]["50-kubernetes.lua"]
assert re.search(r'metrics\s*=\s*\{\s*listen\s*=\s*"127\.0\.0\.1:9464"', conf), "probes need metrics"
# The commands the pods run.
cmds = [c["command"][0] for c in pod["containers"]]
open("%s/commands" % tmp, "w").write("\n".join(cmds) + "\n")
PY

# The ConfigMaps pass the daemon's own checks.
mkdir -p "$T/etc/conf.d" "$T/site"
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$T/etc/vigil.lua"
cp "$T/cm-vigil-config-50-kubernetes.lua" "$T/etc/conf.d/50-kubernetes.lua"
cp "$T/cm-vigil-policies-50-site.lua" "$T/site/50-site.lua"
"$VIGILD" --check --config "$T/etc/vigil.lua" --shipped-policy-dir "$VIGIL_SRC/lua/policies" \
    >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "vigild --check of the ConfigMap"; }
"$VIGIL_BUILD/vigil-policy" check "$VIGIL_SRC/lua/policies" "$T/site" >"$T/pcheck.out" 2>&1 ||
    { cat "$T/pcheck.out"; fail "the policies ConfigMap does not load"; }

# What the pods run is what the package installs.
DESTDIR="$T/inst" cmake --install "$VIGIL_BUILD" --prefix /usr >/dev/null
while read -r cmd; do
    [ -x "$T/inst$cmd" ] || fail "the package does not install $cmd"
done <"$T/commands"
# The image: Debian slim, the package, vigild as its entry point.
DF="$VIGIL_SRC/Dockerfile"
[ "$(grep -c '^FROM ' "$DF")" -ge 1 ] && grep '^FROM ' "$DF" | tail -1 | has '^FROM debian:[a-z]*-slim$' ||
    fail "the image is not on Debian slim"
grep -q 'apt-get install .*/tmp/vigil.deb' "$DF" || fail "the image does not install the package"
grep -q '^ENTRYPOINT \["/usr/sbin/vigild"\]' "$DF" || fail "the image's entry point"

# The sidecar reloads vigild when the ConfigMap volume changes.
P="$T/cm"
mkdir -p "$P/..2026_01" && cp "$T/site/50-site.lua" "$P/..2026_01/"
ln -s ..2026_01 "$P/..data"
ln -s ..data/50-site.lua "$P/50-site.lua"
POLICIES="$P" start_daemon
[ "$(vctl status --json | jq '.policy.handlers')" = 1 ] || fail "the site policy is not loaded"
VIGIL_SOCKET="$SOCK" VIGIL_RELOAD_INTERVAL=0.2 PATH="$VIGIL_BUILD:$PATH" \
    "$K/reload-on-change" "$P" >"$T/reloader.log" 2>&1 &
RELOADER=$!
sleep 0.5
mkdir "$P/..2026_02"
cp "$P/..2026_01/50-site.lua" "$P/..2026_02/"
echo 'vigil.on("proc.exit", function(ev) return nil end)' >>"$P/..2026_02/50-site.lua"
ln -s ..2026_02 "$P/..data_tmp" && mv -T "$P/..data_tmp" "$P/..data"
wait_for sh -c "'$VIGILCTL' --socket '$SOCK' status --json | jq -e '.policy.handlers == 2 and .reloads.ok == 1'"
grep -q "files changed; reloaded" "$T/reloader.log" || { cat "$T/reloader.log"; fail "reloader log"; }
# A broken policy is refused once, logged by the sidecar; the good ones stay.
mkdir "$P/..2026_03" && echo 'vigil.on(' >"$P/..2026_03/50-site.lua"
ln -s ..2026_03 "$P/..data_tmp" && mv -T "$P/..data_tmp" "$P/..data"
wait_for grep -q "vigild refused them" "$T/reloader.log"
sleep 0.6
[ "$(vctl status --json | jq '.reloads.failed')" = 1 ] || fail "a refused change was tried more than once"
[ "$(vctl status --json | jq '.policy.handlers')" = 2 ] || fail "the good policies did not stay"
kill "$RELOADER"
stop_daemon
pass
