#!/usr/bin/env bash
# Usage: bench-redis.sh PATH_TO_SMSHOOK_BENCH [ROUNDS]
# The Redis client (100 concurrent tasks doing SET) against redis-benchmark -c 100 -t set -n 200000, on one fresh
# redis-server, alternating, ROUNDS times (default 3). Prints each round and the medians and their ratio.
set -euo pipefail
bench=${1:?usage: bench-redis.sh PATH_TO_SMSHOOK_BENCH [ROUNDS]}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
port=$("$here/free-port.sh")
dir=$(mktemp -d -t smshook-bench.XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --daemonize no \
    --logfile "$dir/redis.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
ours=(); ref=()
for r in $(seq "$rounds"); do
    rb=$(redis-benchmark -p "$port" -c 100 -t set -n 200000 -q | tr '\r' '\n' | awk '/^SET:/ {print int($2)}' | tail -1)
    sc=$("$bench" redis "redis://127.0.0.1:$port" 100 200000 | awk '/ops_per_sec/ {print $2}')
    echo "round $r: redis-benchmark SET $rb/s, RedisClient SET $sc/s"
    ref+=("$rb"); ours+=("$sc")
done
mr=$(printf '%s\n' "${ref[@]}" | median)
mo=$(printf '%s\n' "${ours[@]}" | median)
echo "median: redis-benchmark SET ${mr}/s, RedisClient SET ${mo}/s, ratio $(awk -v a="$mo" -v b="$mr" 'BEGIN {printf "%.2f", a/b}')"
