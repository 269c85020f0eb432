#!/usr/bin/env bash
# Usage: bench-redis-single.sh PATH_TO_SMSHOOK [N]
# Instructions Redis executes per single-message ingest request (user space, counted by valgrind's callgrind, which
# do not vary from run to run as CPU time does): a redis-server under callgrind, one `smshook serve` against it, N
# then 2N requests (default 300) of one new message each on one keep-alive connection, the counts zeroed before and
# dumped after each; the difference divided by N is one request, what runs besides them cancelled out. Prints
# `redis-single <instructions per request>`. Stops all it started.
set -euo pipefail
bin=${1:?usage: bench-redis-single.sh PATH_TO_SMSHOOK [N]}
n=${2:-300}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d -t smshook-redis-single.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

rport=$("$here/free-port.sh")
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" redis-server --port "$rport" --bind 127.0.0.1 \
    --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" 2>"$dir/valgrind.log" &
redis=$!
pids+=($redis)
for _ in $(seq 300); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
port=$("$here/free-port.sh"); aport=$("$here/free-port.sh")
REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$port SMSHOOK_ADMIN_PORT=$aport SMSHOOK_LEGACY_AUTH=none \
    SMSHOOK_CONFIG="$root/config/smshook.yaml" LOG_LEVEL=error "$bin" serve >"$dir/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$aport/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$aport/readyz" >/dev/null || { echo "bench-redis-single: serve not ready" >&2; cat "$dir/serve.log" >&2; exit 1; }

# send COUNT TAG: COUNT single-message requests, each a new guid and number, every one answered 200; CONCURRENCY
# (default 1) keep-alive connections send them at once
send() {
    python3 - "$port" "$1" "$2" "${CONCURRENCY:-1}" <<'PY'
import http.client, json, sys, threading
port, n, tag, conns = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
failed = []
def run(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for i in range(k, n, conns):
        body = json.dumps({"date": "2025-01-20", "hour": "10:15:00", "time_received": "2025-01-20 10:14:50", "message": "Yes",
                           "number": f"+1{tag}{i:07d}", "guid": f"redis-single-{tag}-{i}"})
        c.request("POST", "/api/webhook/sms-received", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 200: failed.append(r.status)
threads = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
assert not failed, failed[:5]
PY
}
# instructions REQUESTS TAG: what Redis executed while serving REQUESTS requests
instructions() {
    local before
    before=$(ls "$dir")
    callgrind_control -z "$redis" >/dev/null 2>&1
    send "$1" "$2"
    callgrind_control -d "$redis" >/dev/null 2>&1
    local dump
    dump=$(comm -13 <(echo "$before") <(ls "$dir") | grep '^callgrind.out' | head -1)
    [ -n "$dump" ] || { echo "bench-redis-single: callgrind wrote no dump" >&2; exit 1; }
    awk '/^(summary|totals):/ {print $2; exit}' "$dir/$dump"
}
send 50 555  # the script loaded, the connections open
a=$(instructions "$n" 556)
b=$(instructions $((2 * n)) 557)
calls=$(redis-cli -p "$rport" info commandstats | awk -F'[=,]' '/cmdstat_evalsha:/ {print $2}')
awk -v a="$a" -v b="$b" -v n="$n" -v calls="$calls" -v sent=$((50 + 3 * n)) \
    'BEGIN {printf "redis-single %.0f (%.1f messages per script call)\n", (b - a) / n, sent / calls}'
