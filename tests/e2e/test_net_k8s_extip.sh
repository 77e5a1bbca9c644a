#!/usr/bin/env bash
# k8s-extip-mitm with the Service list from the API server: a Python HTTP
# server on loopback answers GET /api/v1/services as the API server does
# (a ServiceList; 401 without the bearer token the test wrote), with one
# Service whose spec.externalIPs names the address of namespace "srv". The
# net plugin (plugins.net.k8s_api) fetches it with the token; a runc
# container's connection to that address is net.threat k8s-extip-mitm, its
# connection to another address (srv2) is not; when the list changes to
# name srv2 instead, the next poll applies it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_container.sh"
. "$(dirname "$0")/lib_net.sh"

nt_rootfs
nt_pair srv 1 cli 2
nt_pair srv2 3 cli2 4
mkdir -p "$T/www"
echo "shop" >"$T/www/index.html"
nt_bg srv busybox httpd -f -p 80 -h "$T/www"
nt_bg srv2 busybox httpd -f -p 80 -h "$T/www"

echo "tok-$$" >"$T/token"
services() { # services ADDRESS: the ServiceList the API server answers
    cat >"$T/services.json.new" <<JSON
{"kind": "ServiceList", "apiVersion": "v1", "metadata": {"resourceVersion": "$RANDOM"},
 "items": [
  {"metadata": {"name": "kubernetes", "namespace": "default"},
   "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}},
  {"metadata": {"name": "evil", "namespace": "attacker"},
   "spec": {"type": "ClusterIP", "clusterIP": "10.96.7.7", "externalIPs": ["$1", "fd00::7"],
            "ports": [{"port": 80}]}}]}
JSON
    mv "$T/services.json.new" "$T/services.json"
}
services "$NT_NET.1"
python3 - "$T/api.port" "$T/services.json" "tok-$$" "$T/requests" <<'PY' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[4], "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != "Bearer " + sys.argv[3]:
            self.send_response(401); self.end_headers(); return
        if self.path != "/api/v1/services":
            self.send_response(404); self.end_headers(); return
        body = open(sys.argv[2], "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.timeout = 0.2
end = time.time() + 120
while time.time() < end:
    srv.handle_request()
PY
wait_for test -s "$T/api.port"
API="http://127.0.0.1:$(cat "$T/api.port")"

nt_config "k8s_api = \"$API/\", k8s_token_file = \"$T/token\", k8s_poll_ms = 500"
start_daemon
CT_NETNS=$(nt_ns cli) ct_start cli-1
CT_NETNS=$(nt_ns cli2) ct_start cli2-1
CLI=$(ct_id cli-1) CLI2=$(ct_id cli2-1)
for id in "$CLI" "$CLI2"; do
    wait_for eval "vctl net stats --json | jq -e --arg id '$id' '.captures[] | select(.workload == \$id and .interfaces == 1)'"
done
wait_for grep -q "k8s: 2 Service external IPs from $API" "$LOG"
grep -q "^/api/v1/services Bearer tok-$$" "$T/requests" || fail "no request with the token: $(cat "$T/requests")"

get() { runc exec "$1" /bin/timeout 3 /bin/wget -q -O /dev/null "http://$2/" </dev/null >/dev/null 2>&1 || true; }
extip() { # extip WORKLOAD ADDRESS: a k8s-extip-mitm event about it
    has_event net.threat ".workload == \"$1\" and .threat == \"k8s-extip-mitm\"
        and .server == \"$2:80\" and .severity == \"critical\""
}
get "$CLI" "$NT_NET.1"
get "$CLI2" "$NT_NET.3"
wait_for extip "$CLI" "$NT_NET.1"
wait_for has_event net.connect ".workload == \"$CLI2\" and .port == \"80\""
sleep 1
extip "$CLI2" "$NT_NET.3" && fail "a connection to an address no Service names was reported"

# The list changes: srv2's address is the external IP now.
services "$NT_NET.3"
wait_for eval "[ \$(grep -c 'k8s: 2 Service external IPs' '$LOG') -ge 2 ]"
get "$CLI2" "$NT_NET.3"
wait_for extip "$CLI2" "$NT_NET.3"
stop_daemon
pass
