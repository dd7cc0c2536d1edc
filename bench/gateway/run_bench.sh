#!/bin/sh
# Gateway vs. trivial Beast server with wrk, in the same run.
# usage: bench/gateway/run_bench.sh BUILD_DIR [DURATION_S]
# Needs wrk (Debian package `wrk`) and python3.
set -eu
build=${1:?build dir}
duration=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n "$(ulimit -Hn)"
out=$(mktemp)
"$build/bench/gateway/gateway_bench_server" 18080 18081 > "$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 120); do grep -q '^token=' "$out" && break; sleep 1; done
token=$(sed -n 's/^token=//p' "$out")
route=$(sed -n 's/^route=//p' "$out")
echo "route: GET $route ($(sed -n 's/^body_bytes=//p' "$out") bytes)"
run() {  # label port connections
  echo "== $1, $3 connections"
  wrk -t2 -c"$3" -d"${duration}s" --latency -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$2$route" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
}
for c in 64 256; do
  run baseline 18081 "$c"
  run gateway 18080 "$c"
done
echo "== 10000 idle keep-alive connections on the gateway"
python3 "$here/idle_connections.py" 18080 10000 "$route" "$token" 20
