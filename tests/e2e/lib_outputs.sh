# Helpers for the tests of the outputs (core/output) and the metrics
# endpoint (core/metrics); sourced after lib.sh.

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# scrape PATH: GET http://127.0.0.1:$METRICS_PORT$PATH, body on stdout.
scrape() {
    curl -sf --max-time 5 "http://127.0.0.1:$METRICS_PORT$1"
}

# maps_of PID: the shared objects the process has mapped.
maps_of() {
    awk '{print $6}' "/proc/$1/maps" | sort -u
}
