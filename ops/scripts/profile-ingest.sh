#!/usr/bin/env bash
# Usage: profile-ingest.sh PATH_TO_SMSHOOK [OUT_FILE]
# Where a single-message ingest's server CPU goes, next to the bare POST route (`POST /bench/discard`: the same body
# read the same way, no Redis) and the bare POST with one Redis round trip (`POST /bench/ping`): one redis-server (pre-sized, 1M keys) and one release `serve` on loopback, then for
# each route wrk -t2 -c50 -d5s under `perf record -e cpu-clock -g` of serve alone. Prints, per request, the server
# CPU from /proc split by phase (ops/bench/perf-phases.py): what the ingest adds to the bare POST, step by step.
# Writes the table to OUT_FILE when given. Needs perf (linux-perf), python3 and `swift demangle`. Stops all it started.
set -euo pipefail
bin=${1:?usage: profile-ingest.sh PATH_TO_SMSHOOK [OUT_FILE]}
out=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v perf >/dev/null || { echo "profile-ingest: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
command -v swift >/dev/null || { echo "profile-ingest: swift is missing (its demangler names the frames)" >&2; exit 1; }
dir=$(mktemp -d -t smshook-profile.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

rport=$("$here/free-port.sh")
redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" \
    --enable-debug-command local &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done
"$here/presize-redis.sh" 1000000 "$rport"
sport=$("$here/free-port.sh")
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$sport SMSHOOK_ADMIN_PORT=off SMSHOOK_LEGACY_AUTH=token \
    SMSHOOK_LEGACY_SECRETS=bench SMSHOOK_CONFIG="$root/config/smshook.yaml" SMSHOOK_BENCH_ROUTES=1 LOG_LEVEL=error \
    "$bin" serve >"$dir/serve.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 200); do curl -sf "localhost:$sport/healthz" >/dev/null && break; sleep 0.05; done
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
runs=()
for route in barepost barepost+ping ingest; do
    case $route in
        barepost) path=/bench/discard ;;
        barepost+ping) path=/bench/ping ;;
        *) path=/api/webhook/sms-received ;;
    esac
    wrk=(wrk -t2 -c50 -s "$root/ops/bench/ingest.lua" "http://127.0.0.1:$sport")
    TARGET=$path RUN="$route-$RANDOM$RANDOM" MODE=single "${wrk[@]}" -d2s >/dev/null  # warm-up
    t0=$(ticks)
    TARGET=$path RUN="$route-$RANDOM$RANDOM" MODE=single perf record -q -e cpu-clock -F 2999 -g -o "$dir/$route.data" \
        -p "$server" -- "${wrk[@]}" -d5s >"$dir/$route.wrk" 2>"$dir/$route.perf" ||
        { echo "profile-ingest: perf record failed:" >&2; cat "$dir/$route.perf" >&2; exit 1; }
    t1=$(ticks)
    requests=$(awk '/requests in/ {print $1}' "$dir/$route.wrk")
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    echo "$route: $requests requests, $(awk '/Requests\/sec/ {print $2}' "$dir/$route.wrk") req/s, $cpu µs CPU/req" >&2
    perf script -i "$dir/$route.data" -F comm,tid,ip,sym,dso 2>/dev/null | swift demangle >"$dir/$route.stacks"
    runs+=("$route:$dir/$route.stacks:$cpu")
done
table=$(python3 "$root/ops/bench/perf-phases.py" "${runs[@]}")
echo "$table"
if [ -n "$out" ]; then echo "$table" >"$out"; fi
