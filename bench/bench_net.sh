#!/usr/bin/env bash
# vigil-scan pcap (plugins/net's engine, every parser on) against ndpiReader
# (nDPI 4.2, Debian libndpi-bin), what a user would otherwise run, on the
# same large capture, in the same run.
#
# The capture is made here, not committed: the Ethernet captures of the
# shared corpus merged in time order (a pcap file holds one link type, so
# the DLT_NULL redis captures stay out), then COPIES copies of that with
# addresses randomised per copy (tcprewrite --seed), so that each copy is
# new flows, concatenated (mergecap -a).
#
# Figures: whole-process wall and CPU time, median of RUNS runs taken in
# turn (farm-bench), packets per second from them; each tool's own packet
# processing rate; peak memory, and memory per flow as the growth of the
# peak from one copy to all of them over the flows added; flows named and
# unknown.
#
#   VIGIL_BUILD=build-bench COPIES=400 RUNS=5 bench/bench_net.sh
set -euo pipefail
B=${VIGIL_BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=${CORPUS:-$HERE/../../shared/corpus/pcap}
COPIES=${COPIES:-400}
RUNS=${RUNS:-5}
SCAN=$B/vigil-scan
for tool in mergecap tcprewrite capinfos ndpiReader farm-bench; do
    command -v "$tool" >/dev/null || { echo "bench_net: $tool is missing" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

eth=()
for f in "$CORPUS"/*/*.pcap; do
    [ "$(capinfos -T -E -r "$f" | cut -f2)" = ether ] && eth+=("$f")
done
mergecap -F pcap -w "$T/one.pcap" "${eth[@]}"
for i in $(seq 1 "$COPIES"); do
    tcprewrite --seed="$i" --infile="$T/one.pcap" --outfile="$T/c$i.pcap"
done
ls "$T"/c*.pcap | sort -V | xargs mergecap -a -F pcap -w "$T/big.pcap"
rm -f "$T"/c*.pcap
packets=$(capinfos -c -T -r "$T/big.pcap" | cut -f2)
mbytes=$(($(stat -c %s "$T/big.pcap") / 1048576))
echo "capture: ${#eth[@]} corpus files merged, $COPIES copies: $packets packets, $mbytes MiB"

scan() { "$SCAN" pcap --quiet "$@" 2>&1 >/dev/null | tail -1; }
ndpi() { ndpiReader -i "$1" -v 1 2>/dev/null; }
field() { sed -n "s/.*$1 *\\([0-9.]*\\).*/\\1/p" | head -1; }

# What each names.
vs=$(scan "$T/big.pcap")
nd=$(ndpi "$T/big.pcap")
v_flows=$(echo "$vs" | sed -n 's/.* \([0-9]*\) flows (\([0-9]*\) identified, \([0-9]*\) unknown).*/\1 \2 \3/p')
n_flows=$(echo "$nd" | field "Unique flows:")
n_unknown=$(echo "$nd" | sed -n 's/^\s*Unknown\s.*flows: *\([0-9]*\).*/\1/p' | head -1)
read -r vf vi vu <<<"$v_flows"
echo "vigil-scan: $vf flows, $vi named, $vu unknown (content only; never a port)"
echo "ndpiReader: $n_flows flows, $((n_flows - ${n_unknown:-0})) named, ${n_unknown:-0} unknown (its port guesses included)"
echo "their own processing rate: vigil-scan $(echo "$vs" | sed -n 's/.*(\([0-9]*\) packets\/s).*/\1/p') packets/s;" \
     "ndpiReader $(echo "$nd" | sed -n 's/.*nDPI throughput: *\([0-9.]* [KM]\) pps.*/\1/p') packets/s"

# Whole process, in turn.
out=$(farm-bench -n "$RUNS" --timeout 600 \
      --vs "sh -c 'exec ndpiReader -q -i $T/big.pcap >/dev/null 2>&1'" -- \
      "$SCAN" pcap --quiet "$T/big.pcap")
echo "$out" | grep -E '^(A|B) (cpu|wall|peak)|^A/B (cpu|wall)'
med() { echo "$out" | awk -v k="$1" '$0 ~ "^"k" " {print $(NF-1)}'; }
aw=$(med "A wall s"); bw=$(med "B wall s")
echo "packets/s (whole process, median): vigil-scan $(awk -v p="$packets" -v w="$aw" 'BEGIN{printf "%.0f", p/w}')" \
     "ndpiReader $(awk -v p="$packets" -v w="$bw" 'BEGIN{printf "%.0f", p/w}')"

# Memory per flow: peak of all copies minus peak of one, over the flows added.
peak() { /usr/bin/time -f %M "$@" >/dev/null 2>"$T/time" || true; tail -1 "$T/time"; }
v1=$(peak "$SCAN" pcap --quiet "$T/one.pcap"); vN=$(peak "$SCAN" pcap --quiet "$T/big.pcap")
n1=$(peak ndpiReader -q -i "$T/one.pcap"); nN=$(peak ndpiReader -q -i "$T/big.pcap")
f1=$(scan "$T/one.pcap" | sed -n 's/.* \([0-9]*\) flows (.*/\1/p')
nf1=$(ndpi "$T/one.pcap" | field "Unique flows:")
echo "memory per flow: vigil-scan $(( (vN - v1) * 1024 / (vf - f1) )) bytes" \
     "(peak $v1 -> $vN KiB for $f1 -> $vf flows);" \
     "ndpiReader $(( (nN - n1) * 1024 / (n_flows - nf1) )) bytes (peak $n1 -> $nN KiB for $nf1 -> $n_flows flows)"
