#!/usr/bin/env bash
# Usage: bench-compare.sh BEFORE_SMSHOOK AFTER_SMSHOOK [ROUNDS]
# Two builds of smshook in one run, for a change that must not cost speed: one redis-server, one `serve` of each
# binary; ROUNDS (default 3) alternating wrk -t2 -c50 runs of single-message ingest against each; then a worker
# drain of each (100,000 jobs, console provider). Prints requests/s, server CPU per request, p99, and the thread
# count of serve under load and of the worker while it drains, from /proc.
set -euo pipefail
before=${1:?usage: bench-compare.sh BEFORE_SMSHOOK AFTER_SMSHOOK [ROUNDS]}
after=${2:?usage: bench-compare.sh BEFORE_SMSHOOK AFTER_SMSHOOK [ROUNDS]}
rounds=${3:-3}
duration=${DURATION:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/ops/scripts"
dir=$(mktemp -d -t smshook-compare.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

rport=$("$here/free-port.sh")
redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --logfile "$dir/redis.log" &
pids+=($!)
for _ in $(seq 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.05; done

declare -A port pid
for which in before after; do
    bin=$([ "$which" = before ] && echo "$before" || echo "$after")
    port[$which]=$("$here/free-port.sh")
    REDIS_URL="redis://127.0.0.1:$rport" SMSHOOK_PORT=${port[$which]} SMSHOOK_ADMIN_PORT=off SMSHOOK_LEGACY_AUTH=token \
        SMSHOOK_LEGACY_SECRETS=bench SMSHOOK_CONFIG="$root/config/smshook.yaml" LOG_LEVEL=error "$bin" serve >"$dir/$which.log" 2>&1 &
    pid[$which]=$!
    pids+=($!)
    for _ in $(seq 200); do curl -sf "localhost:${port[$which]}/healthz" >/dev/null && break; sleep 0.05; done
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
for r in $(seq "$rounds"); do
    # alternate which goes first (the keyspace grows with every run): before-after, after-before, ...
    order="before after"
    [ $((r % 2)) = 0 ] && order="after before"
    for which in $order; do
        p=${pid[$which]}
        t0=$(ticks "$p")
        (sleep $((duration / 2)); threads "$p" >"$dir/threads-$which") &
        out=$(RUN="c$r-$which" MODE=single wrk -t2 -c50 -d"${duration}s" --latency -s "$root/ops/bench/ingest.lua" \
            "http://127.0.0.1:${port[$which]}" 2>&1)
        wait $!
        t1=$(ticks "$p")
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        reqs=$(echo "$out" | awk '/requests in/ {print $1}')
        p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
        cpu=$(awk -v t=$((t1 - t0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
        echo "$which $rps $cpu $(cat "$dir/threads-$which")" >>"$dir/results"
        printf 'round %d %-6s %9s req/s  %6s us CPU/req  p99 %7s  serve threads %s\n' "$r" "$which" "$rps" "$cpu" "$p99" "$(cat "$dir/threads-$which")"
    done
done
med() { awk -v w="$1" -v c="$2" '$1 == w {print $c}' "$dir/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
paired() { # median over rounds of after/before of column $1, within each round
    paste <(awk -v c="$1" '$1 == "after" {print $c}' "$dir/results") <(awk -v c="$1" '$1 == "before" {print $c}' "$dir/results") |
        awk '{print $1 / $2}' | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
echo "median: before $(med before 2) req/s, $(med before 3) us CPU/req; after $(med after 2) req/s, $(med after 3) us CPU/req;" \
    "after/before (paired by round) $(paired 2)x req/s, $(paired 3)x CPU/req"
for which in before after; do
    bin=$([ "$which" = before ] && echo "$before" || echo "$after")
    # the worker's threads, sampled 1 s into its drain
    ( sleep 1; pgrep -n -f "$bin worker" | xargs -r -I{} awk '/^Threads:/ {print $2}' /proc/{}/status >"$dir/wthreads-$which" ) &
    line=$("$here/bench-worker.sh" "$bin" 100000 console "$rport")
    wait $!
    echo "$which: $line; worker threads while draining: $(cat "$dir/wthreads-$which" 2>/dev/null || echo '?')"
done
