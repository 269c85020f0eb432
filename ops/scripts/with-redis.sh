#!/usr/bin/env bash
# Usage: with-redis.sh COMMAND...
# Starts a throwaway redis-server on a free loopback port in a temp dir, exports REDIS_URL, runs COMMAND,
# then stops that server by PID, whether COMMAND passed or failed. Exits with COMMAND's status.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=$("$here/free-port.sh")
dir=$(mktemp -d -t smshook-redis.XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --daemonize no --logfile "$dir/redis.log" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 200); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start; log:" >&2; cat "$dir/redis.log" >&2; exit 1; }
export REDIS_URL="redis://127.0.0.1:$port"
echo "with-redis: redis-server pid $pid at $REDIS_URL"
"$@"
