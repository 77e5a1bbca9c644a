#!/bin/sh
# Installs the build and test dependencies of vigil from Debian's packages.
# Idempotent: packages already present are not fetched again, and apt's lists
# are refreshed only when something is missing.
set -eu
# libcurl4 is named on its own although the -dev package pulls it in: vigild
# does not link libcurl but loads libcurl.so.4 at its first webhook delivery,
# so nothing else would tell a host that runs the daemon that it needs it.
# librdkafka1 likewise: only the kafka output's module (loaded when such an
# output is configured) links it.
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libuv1-dev liblua5.4-dev lua5.4 libmsgpack-dev liblmdb-dev lmdb-utils
libcmocka-dev libnl-3-dev libnl-genl-3-dev libpcap-dev libcurl4-openssl-dev libcurl4
libsystemd-dev libjansson-dev libyaml-dev zlib1g-dev jq python3 python3-yaml runc busybox-static iproute2 util-linux procps
libvectorscan-dev libpcre2-dev libarchive-dev libssl-dev ripgrep lua-check
librdkafka-dev librdkafka1 libbpf-dev bpftool clang-format"
missing=""
# plugins/net: nDPI, the yardstick of its benches (libndpi-dev, ndpiReader), and
# the capture tools they and its tests use (mergecap, editcap, capinfos)
PKGS="$PKGS libndpi-dev libndpi-bin tshark"
# plugins/net, live side: graphviz renders `vigilctl net graph` in its test,
# tcpreplay is the generator of the live capture bench
PKGS="$PKGS graphviz tcpreplay"
# plugins/proc: protect mode tested on a real Debian root, which mmdebstrap
# builds from the Debian mirror apt uses (e2e/test_proc_debian)
PKGS="$PKGS mmdebstrap"
# plugins/net, enforcement: the BPF programs are built with clang against the
# uapi headers and embedded as a libbpf skeleton (bpftool gen skeleton); the
# e2e test counts attached programs with bpftool
PKGS="$PKGS libbpf-dev bpftool linux-libc-dev"
# plugins/cis: a real Docker host for its e2e test (dockerd started by the
# test on its own data root; docker import, docker run, docker swarm)
PKGS="$PKGS docker.io"
# plugins/cis: a real containerd for its image e2e test (containerd started by
# the test on its own root; ctr images import)
PKGS="$PKGS containerd"
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
