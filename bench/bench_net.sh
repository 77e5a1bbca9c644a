#!/usr/bin/env bash
# vigil-scan pcap (plugins/net's engine, every parser on) against ndpiReader
# (nDPI 4.2, Debian libndpi-bin), what a user would otherwise run, on the
# same large capture, in the same run.
#
# The capture is made here, not committed: the Ethernet captures of the
# shared corpus merged in time order (a pcap file holds one link type, so
# the DLT_NULL redis captures stay out), then COPIES copies of that with
# addresses changed per copy, so that each copy is new flows, each copy
# later in time than the one before, as in one long capture.
#
# Figures: whole-process wall and CPU time, median of RUNS runs taken in
# turn (farm-bench), packets per second from them; each tool's own packet
# processing rate; peak memory; flows named and unknown.
#
#   VIGIL_BUILD=build-bench COPIES=400 RUNS=5 bench/bench_net.sh
set -euo pipefail
B=${VIGIL_BUILD:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=${CORPUS:-$HERE/../../shared/corpus/pcap}
COPIES=${COPIES:-400}
RUNS=${RUNS:-5}
SCAN=$B/vigil-scan
for tool in mergecap editcap capinfos python3 ndpiReader farm-bench; do
    command -v "$tool" >/dev/null || { echo "bench_net: $tool is missing" >&2; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Each corpus capture moved to start at the same second (they were taken
# years apart), then merged: the conversations of one copy overlap in time.
eth=()
T0=1700000000
for f in "$CORPUS"/*/*.pcap; do
    [ "$(capinfos -T -E -r "$f" | cut -f2)" = ether ] || continue
    start=$(capinfos -a -S -T -r "$f" | awk '{printf "%d", $2}')
    editcap -t $((T0 - start)) "$f" "$T/e${#eth[@]}.pcap"
    eth+=("$T/e${#eth[@]}.pcap")
done
mergecap -F pcap -w "$T/one.pcap" "${eth[@]}"
rm -f "${eth[@]}"
span=$(capinfos -a -e -S -T -r "$T/one.pcap" | awk '{printf "%d", $3 - $2 + 120}')
# The copies, concatenated: copy i has every IPv4/IPv6 address's bytes 2-3
# XORed with i (the same mapping for both ends, so each conversation stays
# whole) and its times moved i spans later. (tcprewrite --seed would do the
# addresses, but it counts Ethernet trailers into the IP packets, which adds
# bytes to the TCP streams.)
python3 - "$T/one.pcap" "$T/big.pcap" "$COPIES" "$span" <<'PY'
import struct, sys
src, dst, copies, span = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(src, 'rb').read()
head, packets, off = data[:24], [], 24
while off + 16 <= len(data):
    sec, usec, incl, orig = struct.unpack('<IIII', data[off:off + 16])
    packets.append((sec, usec, orig, bytearray(data[off + 16:off + 16 + incl])))
    off += 16 + incl
def rewrite(frame, i):
    et = frame[12:14]
    if et == b'\x08\x00' and len(frame) >= 34:
        for a in (26, 30):
            frame[a + 2] ^= i >> 8
            frame[a + 3] ^= i & 0xff
        frame[24:26] = b'\0\0'
        hl = (frame[14] & 15) * 4
        s = sum(struct.unpack('>%dH' % (hl // 2), bytes(frame[14:14 + hl])))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        frame[24:26] = struct.pack('>H', ~s & 0xffff)
    elif et == b'\x86\xdd' and len(frame) >= 54:
        for a in (22, 38):
            frame[a + 2] ^= i >> 8
            frame[a + 3] ^= i & 0xff
    return frame
with open(dst, 'wb') as out:
    out.write(head)
    for i in range(copies):
        for sec, usec, orig, frame in packets:
            f = rewrite(bytearray(frame), i)
            out.write(struct.pack('<IIII', sec + i * span, usec, len(f), orig) + f)
PY
packets=$(capinfos -c -T -r "$T/big.pcap" | cut -f2)
mbytes=$(($(stat -c %s "$T/big.pcap") / 1048576))
echo "capture: ${#eth[@]} corpus files merged ($span s apart), $COPIES copies: $packets packets, $mbytes MiB"

# vigil-scan pcap exits 1 when the capture shows threats (the corpus does:
# its fragments and floods), 2 on an error.
scan() { { "$SCAN" pcap --quiet "$@" || [ $? -eq 1 ]; } 2>&1 >/dev/null | tail -1; }
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
      sh -c "\"$SCAN\" pcap --quiet $T/big.pcap; [ \$? -le 1 ]")
echo "$out" | grep -E '^(A|B) (cpu|wall|peak)|^A/B (cpu|wall)'
med() { echo "$out" | awk -v k="$1" '$0 ~ "^"k" " {print $(NF-1)}'; }
aw=$(med "A wall s"); bw=$(med "B wall s")
echo "packets/s (whole process, median): vigil-scan $(awk -v p="$packets" -v w="$aw" 'BEGIN{printf "%.0f", p/w}')" \
     "ndpiReader $(awk -v p="$packets" -v w="$bw" 'BEGIN{printf "%.0f", p/w}')"

# Memory: the growth of the peak from one copy to all of them, per flow
# added. vigil-scan ends flows at their timeouts as a live capture does (its
# cost per live flow is bench_net_flows' figure); ndpiReader keeps every flow
# until its report.
peak() { /usr/bin/time -f %M "$@" >/dev/null 2>"$T/time" || true; tail -1 "$T/time"; }
v1=$(peak "$SCAN" pcap --quiet "$T/one.pcap"); vN=$(peak "$SCAN" pcap --quiet "$T/big.pcap")
n1=$(peak ndpiReader -q -i "$T/one.pcap"); nN=$(peak ndpiReader -q -i "$T/big.pcap")
f1=$(scan "$T/one.pcap" | sed -n 's/.* \([0-9]*\) flows (.*/\1/p')
nf1=$(ndpi "$T/one.pcap" | field "Unique flows:")
echo "peak memory, one copy -> all: vigil-scan $v1 -> $vN KiB" \
     "($(( (vN - v1) * 1024 / (vf - f1) )) bytes per flow added);" \
     "ndpiReader $n1 -> $nN KiB ($(( (nN - n1) * 1024 / (n_flows - nf1) )) bytes per flow added)"
