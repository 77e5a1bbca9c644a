#!/usr/bin/env bash
# File protection overhead and event throughput of the file plugin, in a
# runc container on a writable busybox root file system.
#
# 1. Overhead: extracting a tar of N small files (into directories that are
#    not watched) in monitor mode (notification marks only) and in protect
#    mode (permission marks on the guarded files too), alternated ROUNDS
#    times in the same run; the ratio of the medians is the overhead (aim: at
#    most 1.05). Twice: into a tmpfs (the job is CPU only, the worst case for
#    the ratio) and into the container's root on disk (a real extraction).
# 2. Throughput: extracting the same tar into /usr/local/bin (a watched
#    directory) in monitor mode: the file.access events the plugin published
#    per second, from its own counters (file.stats), until all are counted.
# Needs root, runc and busybox-static.
#
# Busybox tar run as root looks up the owner of every file it extracts in
# /etc/passwd and /etc/group, both guarded: each lookup is a permission
# event answered by the daemon. TAR_FLAGS=-o (do not restore owners) shows
# the same job without them.
#
#   VIGIL_BUILD=build-release N=5000 ROUNDS=5 [TAR_FLAGS=-o] bench/bench_file.sh
. "$(dirname "$0")/lib/container.sh"
N=${N:-5000}
ROUNDS=${ROUNDS:-5}
TAR_FLAGS=${TAR_FLAGS:-}
now_ns() { date +%s%N; }

mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc,usr/local/bin}
cp /bin/busybox "$R/bin/busybox"
for a in sh sleep tar rm mkdir cat; do ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
mkdir -p "$T/src/files"
for i in $(seq 1 "$N"); do echo "file $i" >"$T/src/files/f$i"; done
tar -C "$T/src/files" -cf "$R/files.tar" .

bench_daemon file 'plugins = { file = { stats_interval_ms = 200, host = false } }'
bench_container '.root.readonly = false
    | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                   "options": ["nosuid", "nodev", "size=256m"]}]'

stats() { ctl events --json --limit 1 --type file.stats; }
protected() { stats | jq -e --arg id "$CT" ".protected | index(\$id) $1 null" >/dev/null; }
mode() { # mode MODE: the mode, and the plugin's guard in step with it
    ctl group mode "$G" "$1" >/dev/null
    local want="=="
    [ "$1" = protect ] && want="!="
    for _ in $(seq 1 100); do protected "$want" && return 0; sleep 0.05; done
    echo "mode $1 not in effect" >&2
    exit 1
}
extract() { # extract DIR: ns to extract the tar into DIR (emptied first)
    runc exec "$CT" /bin/sh -c "rm -rf $1 && mkdir -p $1" </dev/null
    # The previous round's files reach the disk before this round starts,
    # so that one round's write-back is not timed in the next.
    sync
    local a b
    a=$(now_ns)
    runc exec "$CT" /bin/tar $TAR_FLAGS -C "$1" -xf /files.tar </dev/null
    b=$(now_ns)
    echo $((b - a))
}

# overhead DIR WHAT: the ratio of the medians of ROUNDS extractions into DIR
overhead() {
    : >"$T/base"
    : >"$T/prot"
    local before after
    before=$(stats | jq .perm_events)
    for _ in $(seq 1 "$ROUNDS"); do
        mode monitor
        extract "$1" >>"$T/base"
        mode protect
        extract "$1" >>"$T/prot"
    done
    sleep 0.3
    after=$(stats | jq .perm_events)
    awk -v flags="${TAR_FLAGS:-(owners restored)}" -v b="$(median <"$T/base")" \
        -v p="$(median <"$T/prot")" -v n="$N" -v perm="$((after - before))" -v r="$ROUNDS" \
        -v what="$2" 'BEGIN {
        printf "bench_file: tar %s of %d files into %s: monitor %.1f ms, protect %.1f ms (%.0f permission events per protected run, %.1f us more each), ratio %.3f (aim <= 1.05)\n",
            flags, n, what, b / 1e6, p / 1e6, perm / r, (p - b) / 1e3 / (perm / r > 0 ? perm / r : 1), p / b }'
}
overhead /tmp/x "a tmpfs (CPU only)"
overhead /x "the container's root on disk"
stats | jq -r '"bench_file: \(.guarded_files) guarded files, \(.guard_threads) permission threads; answers: mean \(.answer_us_mean) us (reading the system call \(.syscall_us_mean) us), max \(.answer_us_max) us; openers still running when read: \(.syscall_waits) times"'

# Throughput: every file extracted into a watched directory is a create, a
# write and an attribute change (tar sets the mode and times). The count is
# taken once it has stopped growing; the time is until the last increase.
mode monitor
before=$(stats | jq .events)
a=$(now_ns)
runc exec "$CT" /bin/tar -C /usr/local/bin -xf /files.tar </dev/null
tar_ns=$(($(now_ns) - a))
last=-1
last_ns=$(now_ns)
for _ in $(seq 1 300); do
    cur=$(stats | jq .events)
    if [ "$cur" = "$last" ]; then
        break
    fi
    last=$cur
    last_ns=$(now_ns)
    sleep 0.3
done
s=$(stats)
got=$(($(jq .events <<<"$s") - before))
awk -v got="$got" -v ns="$((last_ns - a))" -v tar="$tar_ns" -v n="$N" \
    -v dropped="$(jq .events_dropped <<<"$s")" -v ovf="$(jq .queue_overflows <<<"$s")" 'BEGIN {
    printf "bench_file: %d files extracted into /usr/local/bin in %.0f ms: %d file.access events, all counted within %.0f ms (stats every 200 ms): %.0f events/s (dropped %d, queue overflows %d)\n",
        n, tar / 1e6, got, ns / 1e6, got / (ns / 1e9), dropped, ovf }'
