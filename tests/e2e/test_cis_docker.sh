#!/usr/bin/env bash
# The CIS Docker checks on a real Docker host: Debian's dockerd, started by
# this test with its own data root, exec root and socket under the test's
# directory (--iptables=false --bridge=none: it touches neither the host's
# firewall nor its interfaces), two images made with `docker import` from a
# busybox-static tree, and two containers: a hardened one and a risky one
# (the host's /etc mounted, the host's PID namespace, no limits). Every check
# of `vigil-scan bench` is asserted for each container, for the images of
# the engine's store (no tarball), for the daemon, and for swarm mode on and
# off. Skips (77) only when dockerd cannot start on this kernel.
. "$(dirname "$0")/lib.sh" || exit 1
: "${T:?lib.sh sets T}"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run dockerd"; exit 77; }
command -v dockerd >/dev/null || fail "dockerd is not installed (scripts/deps.sh: docker.io)"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || fail "no docker client (scripts/deps.sh: docker.io)"
[ -x /bin/busybox ] || fail "busybox-static is not installed (scripts/deps.sh)"

SCAN="$VIGIL_BUILD/vigil-scan"
export VIGIL_CIS_DIR="$VIGIL_SRC/lua/cis"
DK="$T/dk"                       # dockerd's roots and socket, all under the test's dir
DOCKERD_PID=""
. "$(dirname "$0")/lib_dockerd.sh"

docker_cleanup() {
    set +e
    if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        "$DOCKER" rm -f risky$$ hard$$ >/dev/null 2>&1
        "$DOCKER" swarm leave --force >/dev/null 2>&1
    fi
    dockerd_stop
}
trap '_rc=$?; docker_cleanup; (exit $_rc); cleanup' EXIT

if ! dockerd_start; then
    echo "SKIP: dockerd cannot run here (above)"
    exit 77
fi

# Two images from a busybox-static tree: a plain one (root, no health
# check) and one with a user and a HEALTHCHECK.
mkdir -p "$DK/tree/bin" "$DK/tree/etc"
cp /bin/busybox "$DK/tree/bin/"
for a in sh sleep true; do ln -s busybox "$DK/tree/bin/$a"; done
echo "root:x:0:0:root:/:/bin/sh" >"$DK/tree/etc/passwd"
tar -C "$DK/tree" -c . | "$DOCKER" import -c 'CMD ["/bin/sleep","600"]' - "vigil-plain:$$" >/dev/null
tar -C "$DK/tree" -c . | "$DOCKER" import -c 'USER 1000' -c 'HEALTHCHECK CMD ["/bin/true"]' \
    -c 'CMD ["/bin/sleep","600"]' - "vigil-hard:$$" >/dev/null

RISKY=$("$DOCKER" run -d --name "risky$$" --network none --pid host -v /etc:/host-etc "vigil-plain:$$")
HARD=$("$DOCKER" run -d --name "hard$$" --network none --read-only --memory 64m --cpu-shares 512 \
    --pids-limit 32 --security-opt no-new-privileges --cap-drop ALL --user 1000:1000 \
    --restart on-failure:5 "vigil-hard:$$")

# scan OUT ARGS...: vigil-scan bench --json into $T/OUT (exit 1 = a WARN).
scan() {
    local out=$1 rc=0
    shift
    "$SCAN" bench "$@" --json >"$T/$out" || rc=$?
    [ "$rc" -le 1 ] || fail "vigil-scan bench $* exited $rc: $(head -c 2000 "$T/$out")"
}
status_of() { jq -r --arg id "$2" '.results[] | select(.id == $id and .benchmark == "docker") | .status' "$T/$1"; }
# expect OUT STATUS ID...
expect() {
    local out=$1 want=$2 id got
    shift 2
    for id in "$@"; do
        got=$(status_of "$out" "$id")
        [ "$got" = "$want" ] || fail "$out: $id is '$got', want $want: $(jq -c --arg id "$id" \
            '.results[] | select(.id == $id) | .evidence' "$T/$out")"
    done
}

# Neither AppArmor nor SELinux may be on this kernel: then 5.2 and 5.3 do
# not apply (PASS); with them, Docker's default AppArmor profile passes 5.2,
# and a daemon without --selinux-enabled fails 5.3 for both.
if [ -e /sys/fs/selinux/enforce ]; then SEL=WARN; else SEL=PASS; fi

scan risky.json --target containers --container "$RISKY"
expect risky.json WARN 5.6 5.11 5.12 5.13 5.16 5.26 5.27 5.29 4.1
expect risky.json PASS 5.1 5.2 5.4 5.5 5.7 5.8 5.10 5.14 5.15 5.17 5.18 5.20 5.21 5.22 5.25 5.30 5.31 5.32
expect risky.json "$SEL" 5.3
expect risky.json NOTE 5.23
jq -e --arg n "risky$$" '.results[] | select(.id == "5.6") | .evidence
    | test("^" + $n + ": mounts /etc \\(rw\\)")' "$T/risky.json" \
    >/dev/null || fail "5.6 evidence: $(status_of risky.json 5.6)"
jq -e '.benchmarks.docker == "CIS Docker Benchmark v1.6.0" and
       all(.results[]; .version == "CIS Docker Benchmark v1.6.0")' "$T/risky.json" >/dev/null \
    || fail "the report does not name the benchmark's edition"
[ -e /sys/module/apparmor/parameters/enabled ] && grep -q Y /sys/module/apparmor/parameters/enabled \
    || jq -e '.results[] | select(.id == "5.2") | .evidence | startswith("not applicable")' \
        "$T/risky.json" >/dev/null || fail "5.2 should say why it does not apply"

scan hard.json --target containers --container "$HARD"
expect hard.json PASS 5.1 5.2 5.4 5.5 5.6 5.7 5.8 5.10 5.11 5.12 5.13 5.14 5.15 5.16 5.17 5.18 \
    5.20 5.21 5.22 5.25 5.26 5.27 5.29 5.30 5.31 5.32 4.1
expect hard.json "$SEL" 5.3

# Images of the engine's store, no tarball: 4.1 and 4.6 name the plain
# image only; 4.5 has a verdict; the file checks say the layers were not read.
scan images.json --target images
expect images.json WARN 4.1 4.5 4.6
expect images.json INFO 4.8 4.10
expect images.json PASS 4.7 4.9
for id in 4.1 4.6; do
    jq -e --arg id "$id" --arg img "vigil-plain:$$" --arg ok "vigil-hard:$$" \
        '.results[] | select(.id == $id) | .evidence | (contains($img) and (contains($ok) | not))' \
        "$T/images.json" >/dev/null || fail "$id evidence: $(jq -c --arg id "$id" \
            '.results[] | select(.id == $id)' "$T/images.json")"
done

# The daemon, from its command line: no iptables, no bridge (so nothing
# for 2.2 to restrict), its data root audited (1.1.5 names it).
scan host.json --target host
expect host.json PASS 2.2 2.3 2.5 2.6 2.7 2.10 2.11 2.17 2.18 7.1 7.2 7.3 7.5
expect host.json WARN 2.4 2.9 2.12 2.13 2.14 2.15 2.16
expect host.json INFO 1.1.2
jq -e --arg d "$DK/data" '.results[] | select(.id == "1.1.5") | .evidence | contains($d)' \
    "$T/host.json" >/dev/null || fail "1.1.5 does not audit dockerd's data root"

# Swarm mode on (listening on loopback only), then auto-locked.
"$DOCKER" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$((20000 + $$ % 20000))" \
    >/dev/null || fail "docker swarm init"
scan swarm.json --target all --container "$HARD"
expect swarm.json WARN 5.1 7.5
expect swarm.json PASS 7.2
expect swarm.json INFO 7.1 7.3
"$DOCKER" swarm update --autolock=true >/dev/null || fail "docker swarm update --autolock"
scan locked.json --target host
expect locked.json PASS 7.5
"$DOCKER" swarm leave --force >/dev/null || fail "docker swarm leave"
scan left.json --target containers --container "$HARD"
expect left.json PASS 5.1

pass
