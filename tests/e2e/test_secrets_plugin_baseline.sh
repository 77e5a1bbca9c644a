#!/usr/bin/env bash
# The secrets plugin with per-image baselines (plugins.secrets.baselines): a
# team accepted the findings of an image with `vigil-scan secrets
# --write-baseline` over its root file system; a container of that image
# (named by the CRI image annotation of its runc bundle) is scanned and
# reports none of them (secret.scan counts them as baselined), while a
# container of the same files without that image reports the token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"

# A random string in the format of a GitHub token, nobody's credential.
TOKEN=ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W
IMAGE=registry.local/shop:1.0
SHOP=$(ct_id shop-1)
OTHER=$(ct_id other-1)
cp "$VIGIL_BUILD/plugins/secrets.so" "$PLUGINS"/
export VIGIL_SECRETS_CACHE="$VIGIL_BUILD/secrets-cache"
CONFIG="$T/vigil.lua"
mkdir -p "$T/baselines"
printf 'plugins = { secrets = { scan_env = false, baselines = "%s" } }\n' "$T/baselines" >"$CONFIG"

# runc spec, then the annotation a CRI runtime writes for the image (only
# for the container named shop-1).
runc() {
    command runc "$@" || return
    if [ "$1" = spec ] && [ "$3" != "${3%"$SHOP"}" ]; then
        jq --arg img "$IMAGE" '.annotations["io.kubernetes.cri.image-name"] = $img' \
            <"$3/config.json" >"$3/config.json.new" && mv "$3/config.json.new" "$3/config.json"
    fi
}

ct_rootfs
mkdir -p "$CT_ROOTFS/srv"
printf 'LOG_LEVEL=info\nGITHUB_TOKEN=%s\n' "$TOKEN" >"$CT_ROOTFS/srv/app.env"
# The image's baseline, as a team writes it: '/' and ':' of the name as '_'.
"$VIGIL_BUILD/vigil-scan" secrets --write-baseline "$T/baselines/registry.local_shop_1.0.json" \
    "$CT_ROOTFS" 2>"$T/wb.err" || fail "write baseline: $(cat "$T/wb.err")"
jq -e '.findings | any(.path == "srv/app.env" and .rule == "github-pat")' \
    "$T/baselines/registry.local_shop_1.0.json" >/dev/null || fail "baseline lacks the token"

start_daemon
ct_start shop-1
ct_start other-1

scan_of() {
    vctl events --json --type secret.scan | jq -se --arg id "$1" '[.[] | select(.workload == $id)] | last'
}
for _ in $(seq 1 300); do
    [ "$(scan_of "$SHOP")" != null ] && [ "$(scan_of "$OTHER")" != null ] && break
    sleep 0.1
done
scan_of "$SHOP" | jq -e '.error == 0 and .findings == 0 and .baselined >= 1' >/dev/null ||
    fail "shop-1 scan: $(scan_of "$SHOP"); log: $(grep -i baseline "$LOG" | tail -3)"
scan_of "$OTHER" | jq -e '.error == 0 and .findings >= 1 and .baselined == 0' >/dev/null ||
    fail "other-1 scan: $(scan_of "$OTHER")"
vctl events --json --type secret.finding >"$T/findings"
jq -se --arg id "$SHOP" 'any(.[]; .workload == $id) | not' "$T/findings" >/dev/null ||
    fail "a baselined finding of shop-1 was published"
jq -se --arg id "$OTHER" 'any(.[]; .workload == $id and .rule == "github-pat"
                              and .path == "srv/app.env")' "$T/findings" >/dev/null ||
    fail "other-1: no finding for the token"
stop_daemon
echo ok
