#!/usr/bin/env bash
# Usage: bench-allocs.sh PATH_TO_SMSHOOK
# Heap allocations per request of `smshook serve`, counted by its malloc, jemalloc (an LD_PRELOAD counter would put
# another malloc in its place; valgrind 3.19's DHAT crashes on Swift 6 binaries): with MALLOC_CONF=stats_print:true
# it prints its statistics as JSON at exit, and every allocation request of the process is counted there (small size
# classes by bin, large blocks of 16 KiB and up apart). serve is run twice per route, once answering N1 requests and
# once N2, on one keep-alive connection; the difference divided by N2 - N1 is what one request costs, start-up and
# shutdown cancelled out. Prints one line per route: `<route> <allocations per request> <bytes per request> <large
# blocks per request>` for GET /healthz, a single-message ingest and a batch of 100; bytes are those of the small
# blocks, in their size classes (a request of 20 bytes counts 24).
set -euo pipefail
bin=${1:?usage: bench-allocs.sh PATH_TO_SMSHOOK}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n1=${ALLOC_N1:-1000}
n2=${ALLOC_N2:-6000}
dir=$(mktemp -d -t smshook-allocs.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
rport=$("$here/free-port.sh")
redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done

# count ROUTE N: allocations, small blocks' bytes and large blocks of a serve that answered N requests of ROUTE
count() {
    local route=$1 n=$2 port aport out serve
    port=$("$here/free-port.sh"); aport=$("$here/free-port.sh"); out="$dir/count-$route-$n"
    REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=$port SMSHOOK_ADMIN_PORT=$aport SMSHOOK_AUTH=none SMSHOOK_KEY_PREFIX="a$RANDOM" \
        SMSHOOK_CONFIG="$root/config/smshook.yaml" LOG_LEVEL=error MALLOC_CONF="stats_print:true,stats_print_opts:J" \
        "$bin" serve >"$out" 2>&1 &
    serve=$!
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    python3 - "$port" "$route" "$n" <<'PY'
import http.client, json, sys
port, route, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(n):
    if route == "get":
        c.request("GET", "/healthz")
    elif route == "batch100":
        body = json.dumps({"messages": [{"message": "Yes", "number": f"+1556{i:04d}{j:03d}", "guid": f"alloc-{n}-{i}-{j}"} for j in range(100)]})
        c.request("POST", "/api/webhook/sms-received", body, {"Content-Type": "application/json"})
    else:
        body = json.dumps({"message": "Yes", "number": f"+1555{i:07d}", "guid": f"alloc-{n}-{i}"})
        c.request("POST", "/api/webhook/sms-received", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
    kill -INT "$serve"; wait "$serve" || true
    python3 - "$out" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
stats = json.loads(text[text.index('{"jemalloc"'):])["jemalloc"]
sizes = [b["size"] for b in stats["arenas"]["bin"]]
small = large = size = 0
for arena in stats["stats.arenas"].values():
    small += sum(b["nrequests"] for b in arena["bins"])
    size += sum(b["nrequests"] * sizes[i] for i, b in enumerate(arena["bins"]))
    large += arena["large"]["nrequests"]
print(small + large, size, large)
PY
}
for route in get ingest batch100; do
    if [ "$route" = batch100 ]; then n1=$((n1 / 10)); n2=$((n2 / 10)); fi
    read -r k1 b1 l1 <<<"$(count "$route" "$n1")"
    read -r k2 b2 l2 <<<"$(count "$route" "$n2")"
    awk -v r="$route" -v b1="$b1" -v b2="$b2" -v k1="$k1" -v k2="$k2" -v l1="$l1" -v l2="$l2" -v n="$((n2 - n1))" \
        'BEGIN {printf "%s %.1f %.0f %.2f\n", r, (k2 - k1) / n, (b2 - b1) / n, (l2 - l1) / n}'
done
