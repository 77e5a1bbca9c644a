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
# resource-lock: dockerd
. "$(dirname "$0")/lib.sh" || exit 1
: "${T:?lib.sh sets T}"

. "$(dirname "$0")/lib_docker.sh" || exit 1

docker_start
docker_images
docker_containers

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

# A container with the host's network (which Docker gives as a network
# namespace of its own path, <exec-root>/netns/default), IPC and UTS, an
# added capability, no seccomp, the daemon's socket, a device, ten restarts.
docker_wild_container
scan wild.json --target containers --container "$WILD"
expect wild.json WARN 5.4 5.10 5.15 5.17 5.18 5.21 5.22 5.32
jq -e '.results[] | select(.id == "5.10") | .evidence | test("--network=host|host.s network namespace")' \
    "$T/wild.json" >/dev/null || fail "5.10 evidence: $(jq -c '.results[] | select(.id == "5.10")' "$T/wild.json")"

# The checks the benchmark calls Manual. Neither container publishes a
# port; only the hardened one has a --ulimit; no docker exec runs yet; both
# run the image their reference names.
expect risky.json PASS 5.9
expect hard.json PASS 5.9 5.19
expect risky.json INFO 5.19 5.28
expect hard.json INFO 5.28
expect risky.json NOTE 5.24
expect hard.json NOTE 5.24
jq -e '.results[] | select(.id == "5.19") | .evidence | contains("--ulimit nofile=512:512")' \
    "$T/hard.json" >/dev/null || fail "5.19 evidence: $(status_of hard.json 5.19)"
# A docker exec as root in the container that runs as uid 1000: 5.24 names it
# while it runs.
"$DOCKER" exec -d -u 0 "hard$$" /bin/sleep 300 || fail "docker exec -u 0"
exec_seen() {
    scan exec.json --target containers --container "$HARD"
    [ "$(status_of exec.json 5.24)" = WARN ]
}
wait_for exec_seen
jq -e --arg n "hard$$" '.results[] | select(.id == "5.24") | .evidence
    | test("^" + $n + ": exec session [0-9]+ \\(sleep\\) runs as root")' "$T/exec.json" \
    >/dev/null || fail "5.24 evidence: $(jq -c '.results[] | select(.id == "5.24")' "$T/exec.json")"
# The plain image built again under the same tag: the risky container now
# runs an image its reference no longer names.
tar -C "$DK/tree" -c . | "$DOCKER" import -c 'CMD ["/bin/sleep","601"]' - "vigil-plain:$$" >/dev/null
scan stale.json --target containers --container "$RISKY"
expect stale.json WARN 5.28
jq -e --arg r "vigil-plain:$$" '.results[] | select(.id == "5.28") | .evidence | contains($r + " now names")' \
    "$T/stale.json" >/dev/null || fail "5.28 evidence: $(jq -c '.results[] | select(.id == "5.28")' "$T/stale.json")"

# Images of the engine's store, no tarball: 4.1 and 4.6 name the plain
# image only; 4.5 has a verdict; the file checks say the layers were not read.
scan images.json --target images
expect images.json WARN 4.1 4.5 4.6
expect images.json INFO 4.8 4.10
expect images.json PASS 4.7 4.9
expect images.json NOTE 4.2 4.3 4.4 4.11 4.12
for id in 4.1 4.6; do
    jq -e --arg id "$id" --arg img "vigil-plain:$$" --arg ok "vigil-hard:$$" \
        '.results[] | select(.id == $id) | .evidence | (contains($img) and (contains($ok) | not))' \
        "$T/images.json" >/dev/null || fail "$id evidence: $(jq -c --arg id "$id" \
            '.results[] | select(.id == $id)' "$T/images.json")"
done

# The daemon, from its command line: no iptables, no bridge (so nothing
# for 2.2 to restrict), its data root audited (1.1.5 names it).
scan host.json --target host
expect host.json PASS 2.2 2.3 2.5 2.6 2.7 2.10 2.11 2.17 2.18 7.1 7.2 7.3 7.4 7.5 7.6 7.7 7.8 7.9
expect host.json WARN 2.4 2.9 2.12 2.13 2.14 2.15 2.16
expect host.json INFO 1.1.2 2.1 1.2.1 1.2.2
# dockerd bind-mounts its data root onto itself: a mount point, no partition.
expect host.json WARN 1.1.1
jq -e --arg d "$DK/data" '.results[] | select(.id == "1.1.1") | .evidence | startswith($d + " is a bind mount")' \
    "$T/host.json" >/dev/null || fail "1.1.1 evidence: $(jq -c '.results[] | select(.id == "1.1.1")' "$T/host.json")"
jq -e --arg d "$DK/data" '.results[] | select(.id == "1.1.5") | .evidence | contains($d)' \
    "$T/host.json" >/dev/null || fail "1.1.5 does not audit dockerd's data root"

# Swarm mode on (listening on loopback only), then auto-locked.
"$DOCKER" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$((20000 + $$ % 20000))" \
    >/dev/null || fail "docker swarm init"
scan swarm.json --target all --container "$HARD"
expect swarm.json WARN 5.1 7.5
expect swarm.json PASS 7.2
expect swarm.json INFO 7.1 7.3 7.4 7.7 7.8 7.9
expect swarm.json NOTE 7.6
"$DOCKER" swarm update --autolock=true >/dev/null || fail "docker swarm update --autolock"
scan locked.json --target host
expect locked.json PASS 7.5
"$DOCKER" swarm leave --force >/dev/null || fail "docker swarm leave"
scan left.json --target containers --container "$HARD"
expect left.json PASS 5.1

pass
